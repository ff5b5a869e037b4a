"""Re-encrypt the clinical text under the first key of FIELD_ENCRYPTION_KEYS.

Rotating a key: put the new key first (``FIELD_ENCRYPTION_KEYS=new,old``),
deploy, run this command until it reports nothing left to rotate, then drop
the old key. Safe to run again and to interrupt: each batch commits on its
own and a value already under the first key is left alone.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from practice.encryption import UnreadableCiphertext, encrypted_columns_rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column under the first key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be rotated; write nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        dry_run: bool = options["dry_run"]
        try:
            counts = encrypted_columns_rotate(batch_size=options["batch_size"], dry_run=dry_run)
        except UnreadableCiphertext as exc:
            raise CommandError(str(exc)) from exc
        verb = "would rotate" if dry_run else "rotated"
        for count in counts:
            self.stdout.write(
                f"{count.model}: {count.rows} rows, {count.values} values, {verb} {count.rotated}"
            )
        total = sum(count.rotated for count in counts)
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Dry run: would rotate' if dry_run else 'Rotated'} {total} values."
            )
        )
