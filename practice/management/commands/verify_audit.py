"""Check the audit trail's hash chain end to end: ``manage.py verify_audit``.

Exit status 0 and the number of events checked when it holds; exit status 1
and the first altered, removed or reordered event named when it does not
(``practice.audit.audit_verify``). Beat runs the same check daily
(``practice.verify_audit``) and keeps the result for the Today page.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from practice.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; name the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        check = audit_verify()
        if not check.ok:
            raise CommandError(
                f"Audit trail broken after {check.checked} good events: {check.problem}",
                returncode=1,
            )
        self.stdout.write(f"Audit trail intact: {check.checked} events checked.")
