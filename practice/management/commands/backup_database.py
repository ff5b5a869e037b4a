from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from practice.backups import BackupError, backup_create, backup_keys_from_env


class Command(BaseCommand):
    help = (
        "Dump the PostgreSQL database with pg_dump into a file encrypted with "
        "BACKUP_ENCRYPTION_KEY (format: practice/backups.py). Check it with restore_drill."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path, help="the file to write")
        parser.add_argument(
            "--overwrite", action="store_true", help="replace the file if it exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        try:
            keys = backup_keys_from_env()
            manifest = backup_create(output=output, key=keys[0], overwrite=options["overwrite"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup of {manifest.database} written to {output} "
                f"({output.stat().st_size} bytes, {len(manifest.tables)} tables, "
                f"{sum(manifest.tables.values())} rows, taken {manifest.created_at})."
            )
        )
