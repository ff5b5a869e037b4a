"""The consultations' share of privacy rights (``practice.privacy``'s parts) and erasure.

Registered from ``ConsultationsConfig.ready()``: her consultations in a
client's export; deleting them when her client record is purged; and the
retention of requests never converted into a client, deleted once their
appointment and the request are older than ``CONSULTATION_RETENTION_MONTHS``.
``consultation_erase`` deletes one unconverted request at once, on request
(the admin's "Erase" action).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from practice.calendar.models import Appointment
from practice.models import AuditEvent, Client, User
from practice.privacy import (
    ExportSection,
    consultation_retention_cutoff,
    model_rows,
    register_client_purge,
    register_expiry,
    register_export_part,
)
from practice.services import audit_record

from .models import Consultation

__all__ = ["CONVERTED_MESSAGE", "consultation_erase", "consultations_expired"]

CONVERTED_MESSAGE = (
    "This request became a client record; it is kept with her record and purged with it."
)


@register_export_part("consultations", order=10)
def consultations_export(*, client: Client, include_psychotherapy: bool) -> ExportSection:
    consultations = (
        Consultation.objects.filter(client=client)
        .select_related("appointment")
        .order_by("created_at", "pk")
    )
    rows = []
    for consultation in consultations:
        row = model_rows([consultation], exclude=("submission_id", "sequence"))[0]
        row["start"] = consultation.appointment.start
        row["status"] = consultation.appointment.status
        rows.append(row)
    return ExportSection(data={"consultations": rows})


def _delete_with_appointments(consultations: QuerySet[Consultation]) -> dict[str, int]:
    appointment_ids = list(consultations.values_list("appointment_id", flat=True))
    deleted = consultations.delete()[1]
    counts = {label: count for label, count in deleted.items() if count}
    appointments = Appointment.objects.filter(pk__in=appointment_ids).delete()[0]
    if appointments:
        counts["practice.Appointment"] = appointments
    return counts


@register_client_purge("consultations", order=10)
def consultations_purge(*, client_ids: list[int]) -> dict[str, int]:
    """Her consultations (with their manage links) and their appointments."""
    return _delete_with_appointments(Consultation.objects.filter(client_id__in=client_ids))


def consultations_expired(*, now: datetime) -> QuerySet[Consultation]:
    """Requests never converted into a client, booked for and made before the cutoff."""
    cutoff = consultation_retention_cutoff(now)
    return Consultation.objects.filter(
        client__isnull=True, created_at__lt=cutoff, appointment__start__lt=cutoff
    ).order_by("pk")


@register_expiry("consultations")
def consultations_purge_expired(*, now: datetime, dry_run: bool) -> dict[str, int]:
    """Delete the expired unconverted requests, each audited by type and id only."""
    expired = consultations_expired(now=now)
    if dry_run:
        return {"consultations.Consultation": expired.count()}
    counts: dict[str, int] = {}
    for consultation in expired:
        for label, count in consultation_erase(consultation=consultation, actor=None).items():
            counts[label] = counts.get(label, 0) + count
    return counts


@transaction.atomic(durable=True)
def consultation_erase(*, consultation: Consultation, actor: User | None) -> dict[str, int]:
    """Delete one request never converted into a client, at once; return what went, by kind.

    Side effects, in one transaction: a ``delete`` audit line naming the
    request by type and id only; the request, its manage links and its
    appointment (the time is free again). A converted request is refused
    (``ValidationError``): it belongs to her client record now.
    """
    locked = Consultation.objects.select_for_update().filter(pk=consultation.pk).first()
    if locked is None:
        return {}
    if locked.client_id is not None:
        raise ValidationError(CONVERTED_MESSAGE)
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, obj=locked)
    return _delete_with_appointments(Consultation.objects.filter(pk=locked.pk))
