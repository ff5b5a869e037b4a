#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # Settings the environment got wrong (practice/settings.py names the
        # variable and what to do): the message is the whole story, and a
        # traceback would only bury it.
        sys.exit(f"Error: {exc}")


if __name__ == "__main__":
    main()
