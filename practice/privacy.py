"""Her privacy rights: a full export of her record, retention and purging.

**Export.** ``client_export_zip`` returns one ZIP: ``record.json`` (her record
as JSON, one top-level key per section) and ``documents/...`` (her stored
files and the documents the leaf apps render as PDFs). The core writes the
sections it owns (``client``, ``appointments``, ``documents``); each leaf app
adds its own from a module its ``AppConfig.ready()`` imports, with
``@register_export_part`` (the pattern of ``practice.panels``), so the core
reaches them without importing them. Each part reads in a constant number of
queries whatever the amount of data (a rendered PDF costs its own fixed few,
per document). The callers (the admin's button, her portal page) audit the
export; psychotherapy notes are in it only when the caller asks and may.

**Retention.** A client record is *closed* when her status is not active and
nothing of hers happened within ``CLIENT_RETENTION_YEARS`` (default 7): no
appointment starting since the cutoff, no course open or closed since (the
KAP part's ``@register_client_activity``), and a record created before it.
``retention_purge`` then deletes the record and everything hanging off it,
each client in one durable transaction: the leaf apps' parts first
(``@register_client_purge``, in their order, which delete in the order their
``PROTECT`` keys need), then the core (appointments, stored documents,
invitations, the record, her portal login unless she is staff). The files
of her stored documents are removed after the commit, never before. Records
that are not a client's (consultation requests never converted) are purged
by their app's ``@register_expiry`` part after
``CONSULTATION_RETENTION_MONTHS``. Audit rows are never touched: they hold
plain ids, so the chain stays verifiable; each purge adds a ``delete`` line
naming the record by type and id only.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .calendar.models import Appointment
from .models import AuditEvent, Client, ClientDocument, ClientInvitation, User
from .private_files import private_file_path
from .services import audit_record

__all__ = [
    "PSYCHOTHERAPY_NOTES_PERMISSION",
    "ExportSection",
    "RetentionReport",
    "client_export_filename",
    "client_export_record",
    "client_export_response",
    "client_export_zip",
    "client_purge",
    "clients_expired",
    "consultation_retention_cutoff",
    "model_rows",
    "register_client_activity",
    "register_client_purge",
    "register_expiry",
    "register_export_part",
    "retention_cutoff",
    "retention_purge",
]

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "practice-client-export/1"


# --- The registry -------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSection:
    """What one part adds to an export: top-level keys of ``record.json`` and files.

    ``files`` maps a name inside the ZIP's ``documents/`` folder to its bytes.
    """

    data: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


ExportPart = Callable[..., ExportSection]
ClientPurgePart = Callable[..., dict[str, int]]
ClientActivityPart = Callable[..., "models.QuerySet[Any]"]
ExpiryPart = Callable[..., dict[str, int]]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Part:
    kind: str
    name: str
    order: int
    function: Callable[..., Any]


_parts: dict[tuple[str, str], _Part] = {}


def _register(kind: str, name: str, order: int) -> Callable[[F], F]:
    def register(function: F) -> F:
        existing = _parts.get((kind, name))
        if existing is not None and existing.function is not function:
            raise ValueError(f"{kind} part {name!r} is registered twice")
        _parts[(kind, name)] = _Part(kind=kind, name=name, order=order, function=function)
        return function

    return register


def _registered(kind: str) -> list[_Part]:
    return sorted(
        (part for part in _parts.values() if part.kind == kind),
        key=lambda part: (part.order, part.name),
    )


def register_export_part(name: str, *, order: int) -> Callable[[F], F]:
    """Register ``function(*, client, include_psychotherapy) -> ExportSection``."""
    return _register("export", name, order)


def register_client_purge(name: str, *, order: int) -> Callable[[F], F]:
    """Register ``function(*, client_ids) -> {label: rows deleted}``.

    It runs inside the purge's transaction, before the core deletes the
    client rows, and must delete every row of its app that names those
    clients (directly or through another of its rows), in an order its
    ``PROTECT`` keys allow. A row it misses makes the core's delete raise
    ``ProtectedError``, which rolls the whole purge of that client back.
    """
    return _register("purge", name, order)


def register_client_activity(name: str) -> Callable[[F], F]:
    """Register ``function(*, since) -> QuerySet of client ids`` active on or after ``since``.

    A client named by any such part is not closed yet: her record is kept.
    """
    return _register("activity", name, 0)


def register_expiry(name: str) -> Callable[[F], F]:
    """Register ``function(*, now, dry_run) -> {label: rows}``: records that are no client's."""
    return _register("expiry", name, 0)


# --- Export ---------------------------------------------------------------------------


def model_rows(
    rows: Iterable[models.Model], *, exclude: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Each row's own columns as a dict (foreign keys as ids, encrypted text decrypted)."""
    result = []
    for row in rows:
        result.append(
            {
                column.attname: getattr(row, column.attname)
                for column in row._meta.concrete_fields
                if column.name not in exclude and column.attname not in exclude
            }
        )
    return result


def _document_name(document: ClientDocument) -> str:
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(
        document.content_type, "bin"
    )
    return f"stored/{document.pk}-{document.kind}.{extension}"


@register_export_part("practice", order=0)
def _core_export(*, client: Client, include_psychotherapy: bool) -> ExportSection:
    """Her record, her appointments and her stored documents (three queries)."""
    appointments = Appointment.objects.filter(client=client).order_by("start", "pk")
    documents = list(ClientDocument.objects.filter(client=client).order_by("created_at", "pk"))
    files: dict[str, bytes] = {}
    listed = []
    for document in documents:
        name = _document_name(document)
        try:
            content = private_file_path(document).read_bytes()
        except FileNotFoundError:
            content = b""
        entry = model_rows([document], exclude=("storage_name",))[0]
        entry["file"] = f"documents/{name}" if content else None
        listed.append(entry)
        if content:
            files[name] = content
    return ExportSection(
        data={
            "client": model_rows([client], exclude=("user",))[0],
            "appointments": model_rows(appointments, exclude=("occupied_start", "occupied_end")),
            "documents": listed,
        },
        files=files,
    )


def client_export_record(
    *, client: Client, include_psychotherapy: bool = False
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``record.json``'s content and the files, from every registered part. Reads only."""
    record: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now(),
        "includes_psychotherapy_notes": include_psychotherapy,
    }
    files: dict[str, bytes] = {}
    for part in _registered("export"):
        section: ExportSection = part.function(
            client=client, include_psychotherapy=include_psychotherapy
        )
        clash = set(section.data) & set(record)
        if clash:
            raise ValueError(f"export part {part.name!r} repeats the keys {sorted(clash)}")
        record.update(section.data)
        files.update(section.files)
    return record, files


def client_export_zip(*, client: Client, include_psychotherapy: bool = False) -> bytes:
    """Her whole record as a ZIP: ``record.json`` and ``documents/...``.

    Reads only: the caller checks who asks (only staff who may read
    psychotherapy notes pass ``include_psychotherapy=True``; her portal never
    does) and writes the ``export`` audit line.
    """
    record, files = client_export_record(client=client, include_psychotherapy=include_psychotherapy)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "record.json", json.dumps(record, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        )
        for name, content in sorted(files.items()):
            archive.writestr(f"documents/{name}", content)
    return buffer.getvalue()


def client_export_filename(client: Client, day: date) -> str:
    """A discreet name: no treatment word, no name, just the record number and the day."""
    return f"client-record-{client.pk}-{day.isoformat()}.zip"


# --- Retention ------------------------------------------------------------------------


def _shift_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved back ``months`` calendar months (the 31st becomes the month's last day)."""
    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def retention_cutoff(now: datetime) -> datetime:
    """A closed record whose last activity is before this moment is due for purging."""
    return _shift_months(now, 12 * settings.CLIENT_RETENTION_YEARS)


def consultation_retention_cutoff(now: datetime) -> datetime:
    """An unconverted consultation request from before this moment is due for purging."""
    return _shift_months(now, settings.CONSULTATION_RETENTION_MONTHS)


@register_client_activity("practice")
def _core_activity(*, since: datetime) -> models.QuerySet[Any]:
    return Appointment.objects.filter(client__isnull=False, start__gte=since).values("client_id")


def clients_expired(*, now: datetime) -> models.QuerySet[Client]:
    """Closed client records past retention (see the module's docstring): one query."""
    since = retention_cutoff(now)
    expired = Client.objects.exclude(status=Client.Status.ACTIVE).filter(created_at__lt=since)
    for part in _registered("activity"):
        expired = expired.exclude(pk__in=part.function(since=since))
    return expired.order_by("pk")


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            # The rows are gone; an undeletable file is an orphan that
            # private_files_orphans() lists, not a reason to fail the purge.
            logger.warning("purge: could not remove a private file", exc_info=True)


@transaction.atomic(durable=True)
def client_purge(*, client: Client, actor: User | None = None) -> dict[str, int]:
    """Delete her record and everything hanging off it; return what was deleted, by kind.

    Side effects, in one transaction: one ``delete`` audit line (type and
    id only; existing audit lines are kept), each leaf app's registered purge,
    then her appointments, invitations, stored documents' rows, the client
    row and her portal login (unless staff). After the commit, the stored
    documents' files are removed. Nothing is deleted if any step fails.
    """
    client_ids = [client.pk]
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, obj=client, client=client)
    counts: dict[str, int] = {}
    for part in _registered("purge"):
        for label, deleted in part.function(client_ids=client_ids).items():
            counts[label] = counts.get(label, 0) + deleted
    documents = ClientDocument.objects.filter(client_id__in=client_ids)
    paths = []
    for document in documents:
        try:
            paths.append(private_file_path(document))
        except SuspiciousFileOperation:
            # A name outside the root is never followed, not even to delete it.
            continue
    counts["practice.appointment"] = Appointment.objects.filter(client_id__in=client_ids).delete()[
        0
    ]
    counts["practice.clientinvitation"] = ClientInvitation.objects.filter(
        client_id__in=client_ids
    ).delete()[0]
    counts["practice.clientdocument"] = documents.delete()[0]
    user_ids = list(
        Client.objects.filter(pk__in=client_ids, user__is_staff=False).values_list(
            "user_id", flat=True
        )
    )
    Client.objects.filter(pk__in=client_ids).delete()
    counts["practice.client"] = len(client_ids)
    counts["practice.user"] = (
        User.objects.filter(pk__in=[pk for pk in user_ids if pk])
        .delete()[1]
        .get("practice.User", 0)
    )
    transaction.on_commit(lambda: _remove_files(paths))
    return counts


@dataclass
class RetentionReport:
    """What a purge deleted (or, on a dry run, would delete)."""

    dry_run: bool
    client_ids: list[int] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)

    def add(self, counts: dict[str, int]) -> None:
        for label, count in counts.items():
            self.deleted[label] = self.deleted.get(label, 0) + count


def retention_purge(*, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Purge every closed client record past retention, and every other expired record.

    Each client is purged in its own transaction (``client_purge``), so one
    record that cannot be purged (reported in the log) does not keep the
    others. A dry run lists what would go and deletes nothing.
    """
    now = now or timezone.now()
    report = RetentionReport(dry_run=dry_run)
    for client in clients_expired(now=now):
        report.client_ids.append(client.pk)
        if dry_run:
            continue
        try:
            report.add(client_purge(client=client))
        except Exception:
            logger.exception("purge: client #%s could not be purged", client.pk)
            report.client_ids.remove(client.pk)
    if dry_run:
        report.deleted["practice.client"] = len(report.client_ids)
    for part in _registered("expiry"):
        report.add(part.function(now=now, dry_run=dry_run))
    return report


# --- Serving an export -------------------------------------------------------------------

# Psychotherapy notes are kept apart from her record (the notes' own rule):
# only staff with this permission may add them to an export.
PSYCHOTHERAPY_NOTES_PERMISSION = "kap_sessions.view_psychotherapynote"


def client_export_response(
    request: HttpRequest, client: Client, *, include_psychotherapy: bool = False
) -> HttpResponse:
    """Her export as a download, never cached, and one ``export`` audit line.

    The caller decides who may ask (the admin's permissions, her portal's own
    record) and whether psychotherapy notes are in it.
    """
    content = client_export_zip(client=client, include_psychotherapy=include_psychotherapy)
    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=AuditEvent.Action.EXPORT,
        obj=client,
        client=client,
        request=request,
    )
    response = HttpResponse(content, content_type="application/zip")
    name = client_export_filename(client, timezone.localdate())
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
