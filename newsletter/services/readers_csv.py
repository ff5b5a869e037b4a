"""Readers in and out of the admin as CSV: the audited export and the import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest

from practice.models import AuditEvent
from practice.services import audit_record

from ..models import Subscriber, SubscriberExport
from .readers import subscriber_subscribe

if TYPE_CHECKING:
    from practice.models import User

EXPORT_HEADER = [
    "email",
    "first_name",
    "source",
    "consent_at",
    "consent_page",
    "terms_version",
    "consent_note",
    "confirmed_at",
]


def subscribers_export(
    *, actor: User, request: HttpRequest | None = None
) -> tuple[SubscriberExport, Iterator[list[str]]]:
    """Record and audit an export of the confirmed readers; return its rows.

    The record and its audit line commit together, before any row is read.
    The rows are read lazily in chunks so a long list streams in flat memory.
    """
    readers = Subscriber.objects.confirmed().order_by("pk")
    with transaction.atomic(durable=True):
        export = SubscriberExport.objects.create(created_by=actor, rows=readers.count())
        audit_record(actor=actor, action=AuditEvent.Action.EXPORT, obj=export, request=request)

    def rows() -> Iterator[list[str]]:
        yield EXPORT_HEADER
        for reader in readers.iterator(chunk_size=1000):
            yield [
                reader.email,
                reader.first_name,
                reader.source,
                reader.consent_at.isoformat(),
                reader.consent_page,
                reader.consent_terms_version,
                reader.consent_note,
                reader.confirmed_at.isoformat() if reader.confirmed_at else "",
            ]

    return export, rows()


@dataclass
class ImportReport:
    invited: int = 0
    already_known: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def subscribers_import(*, csv_text: str) -> ImportReport:
    """Invite the addresses of a CSV (``email, first_name, consent_note``).

    Only rows with a consent note are taken, and each still gets the double
    opt-in: nobody is added as confirmed. Addresses already known (in any
    state) are left alone, so an import never re-subscribes someone who left.
    Each row commits on its own (and its confirmation is queued then).
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(csv_text))
    fields = {name.strip().lower() for name in reader.fieldnames or []}
    if "email" not in fields or "consent_note" not in fields:
        report.rejected.append((1, "The first row must name the columns email and consent_note."))
        return report
    for line, row in enumerate(reader, start=2):
        values = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
        email, note = values.get("email", ""), values.get("consent_note", "")
        try:
            validate_email(email)
        except ValidationError:
            report.rejected.append((line, "not an email address"))
            continue
        if not note:
            report.rejected.append((line, "no consent note"))
            continue
        with transaction.atomic(durable=True):
            if Subscriber.objects.by_email(email).exists():
                report.already_known += 1
                continue
            subscriber_subscribe(
                email=email,
                first_name=values.get("first_name", ""),
                page="admin import",
                source=Subscriber.Source.IMPORT,
                consent_note=note,
            )
            report.invited += 1
    return report


def rows_as_csv(rows: Iterable[list[str]]) -> Iterator[str]:
    """Encode rows as CSV lines, one at a time (for a streaming response)."""

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    for row in rows:
        yield writer.writerow([_inert_cell(value) for value in row])


def _inert_cell(value: str) -> str:
    # Names come from a public form; a spreadsheet would run "=..." as a formula.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
