"""Purge what retention lets go: closed client records and unconverted consultation requests.

Beat runs the same service daily (``practice.purge_expired``); this command
is for a look first (``--dry-run`` lists counts and deletes nothing) or a run
by hand. Output names record ids and counts only.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from practice.privacy import retention_purge


class Command(BaseCommand):
    help = "Purge closed client records and consultation requests past their retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be purged; delete nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = retention_purge(dry_run=options["dry_run"])
        verb = "Would purge" if report.dry_run else "Purged"
        ids = ", ".join(f"#{pk}" for pk in report.client_ids) or "none"
        self.stdout.write(f"{verb} {len(report.client_ids)} client record(s): {ids}")
        for label, count in sorted(report.deleted.items()):
            self.stdout.write(f"  {label}: {count}")
