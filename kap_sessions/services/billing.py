"""Writes to the money paperwork: filling a superbill from the course, sharing an estimate.

The therapist enters service codes and fees herself (``kap_sessions.models.billing``);
these services do the two steps that are more than a form's save. Both are
entry points called once per click from the admin, so each runs in a
durable transaction of its own and locks the row it changes: a double click
does the work once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from practice.calendar.models import Appointment, AppointmentKind
from practice.models import AuditEvent, User
from practice.outbox.services import outbox_put
from practice.services import audit_record

from ..models import CourseSession, GoodFaithEstimate, Superbill, SuperbillLine
from .portal_cache import portal_changed

__all__ = ["ESTIMATE_READY_KIND", "estimate_share", "superbill_prefill_lines"]

ESTIMATE_READY_KIND = "kap.estimate_ready"

NO_COURSE = "Choose her course first: the lines come from its completed sessions."
NO_LINES = "Add the expected services first: an estimate with no services says nothing."


def _line_description(session: CourseSession) -> str:
    """'Integration session, 50 min': what the insurer reads beside the code."""
    label = AppointmentKind(session.kind).label
    return f"{label}, {session.appointment.duration_minutes} min"


@transaction.atomic(durable=True)
def superbill_prefill_lines(*, superbill: Superbill, actor: User | None = None) -> int:
    """Add a line to ``superbill`` for each completed session of its course not billed yet;
    return how many were added.

    A session already on any of her superbills is left out, so pressing the
    button again (or next month, on a new superbill) adds only what is new.
    Each line has the session's date (in the practice's calendar), its
    appointment, and a description of its kind and length; the code is left
    empty and the fee at 0 for the therapist to enter.

    Raises ``ValidationError`` when the superbill names no course.

    Side effects: inserts the lines; appends a "changed" line to the audit
    log for the superbill and its client, and out-dates her portal home's
    kept reads (``bulk_create`` sends no signal), when anything was added.
    """
    superbill = Superbill.objects.select_for_update().get(pk=superbill.pk)
    if superbill.course_id is None:
        raise ValidationError(NO_COURSE, code="no_course")
    billed = SuperbillLine.objects.filter(
        superbill__client_id=superbill.client_id, appointment__isnull=False
    ).values("appointment_id")
    sessions = (
        CourseSession.objects.filter(
            course_id=superbill.course_id, appointment__status=Appointment.Status.COMPLETED
        )
        .exclude(appointment_id__in=billed)
        .select_related("appointment")
        .order_by("appointment__start", "id")
    )
    lines = [
        SuperbillLine(
            superbill=superbill,
            service_date=timezone.localdate(session.appointment.start),
            appointment=session.appointment,
            description=_line_description(session),
            code="",
            units=1,
            fee=Decimal("0"),
        )
        for session in sessions
    ]
    if lines:
        SuperbillLine.objects.bulk_create(lines)
        portal_changed(client_id=superbill.client_id)
        audit_record(
            actor=actor, action=AuditEvent.Action.CHANGE, obj=superbill, client=superbill.client
        )
    return len(lines)


@transaction.atomic(durable=True)
def estimate_share(
    *, estimate: GoodFaithEstimate, actor: User | None = None, now: datetime | None = None
) -> GoodFaithEstimate:
    """Show ``estimate`` in her portal and tell her a document is ready; return it.

    Sharing is done once: a shared estimate is returned as it is (no second
    email). Raises ``ValidationError`` when it lists no services.

    Side effects:
    - stamps ``shared_at`` (from then on the admin shows it read-only: what
      she was given does not change; a new estimate replaces it);
    - writes the outbox row of ``kap.estimate_ready``, the same "a document
      is ready in your portal" email as her other documents (nothing about
      what it is), keyed by the estimate;
    - appends a "changed" line to the audit log for the estimate and its client.
    """
    estimate = (
        GoodFaithEstimate.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=estimate.pk)
    )
    if estimate.shared_at is not None:
        return estimate
    if not estimate.lines.exists():
        raise ValidationError(NO_LINES, code="no_lines")
    estimate.shared_at = now or timezone.now()
    estimate.save(update_fields=["shared_at"])
    outbox_put(
        kind=ESTIMATE_READY_KIND,
        key=f"kap:estimate:{estimate.pk}:shared",
        about=estimate,
        recipient=estimate.client.email,
    )
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=estimate, client=estimate.client)
    return estimate
