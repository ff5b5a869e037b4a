from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from practice.backups import BackupError, DrillReport, backup_keys_from_env, restore_drill_run


class Command(BaseCommand):
    help = (
        "Prove a backup restores: decrypt it into a scratch database, run verify_audit "
        "there, compare every table's rows with the counts taken at backup time, then "
        "drop the scratch database. Exits non-zero on any difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--input", required=True, type=Path, help="a file written by backup_database"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["input"]
        if not source.is_file():
            raise CommandError(f"{source} is not a file.")
        try:
            report = restore_drill_run(source=source, keys=backup_keys_from_env())
        except BackupError as exc:
            raise CommandError(f"Restore drill failed: {exc}") from exc
        self._print(report)
        if not report.ok:
            problems = []
            if not report.audit_ok:
                problems.append("the audit trail does not verify")
            if report.mismatches:
                names = ", ".join(check.table for check in report.mismatches)
                problems.append(f"row counts differ in {names}")
            raise CommandError(f"Restore drill failed: {'; '.join(problems)}.")
        self.stdout.write(self.style.SUCCESS("Restore drill passed."))

    def _print(self, report: DrillReport) -> None:
        manifest = report.manifest
        self.stdout.write(
            f"Backup of {manifest.database} taken {manifest.created_at} "
            f"(server {manifest.server_version}; {manifest.pg_dump_version})"
        )
        self.stdout.write(f"Restored into {report.scratch_database} (dropped afterwards).")
        self.stdout.write(f"verify_audit: {'ok' if report.audit_ok else 'FAILED'}")
        for line in report.audit_output.splitlines():
            self.stdout.write(f"  {line}")
        width = max((len(check.table) for check in report.tables), default=5)
        self.stdout.write(f"{'table':<{width}}  {'backup':>9}  {'restored':>9}")
        for check in report.tables:
            expected = "-" if check.expected is None else str(check.expected)
            restored = "-" if check.restored is None else str(check.restored)
            mark = "" if check.ok else "  MISMATCH"
            self.stdout.write(f"{check.table:<{width}}  {expected:>9}  {restored:>9}{mark}")
        self.stdout.write(
            f"{len(report.tables)} tables, {sum(manifest.tables.values())} rows in the backup, "
            f"{len(report.mismatches)} mismatched."
        )
