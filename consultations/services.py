"""Every write of the consultation funnel: booking, moving, cancelling, converting.

Emails leave only after the transaction commits (``transaction.on_commit``)
and through Celery tasks, so a rolled-back booking never sends anything.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from practice.calendar.services import (
    SlotUnavailable,
    appointment_book,
    appointment_move,
    appointment_transition,
    kind_lock,
)
from practice.calendar.slots import available_slots
from practice.models import Appointment, AppointmentKind, Client, User

from . import tasks
from .models import CONTACT_FIELDS, INTAKE_FIELDS, Consultation, ManageLink, WaitlistEntry
from .tokens import token_hash, token_new

logger = logging.getLogger(__name__)

__all__ = ["SlotUnavailable"]

# The booking form's fields that are stored on the consultation as they are.
DETAIL_FIELDS = (*CONTACT_FIELDS, *INTAKE_FIELDS)


@dataclass(frozen=True)
class Booking:
    consultation: Consultation
    token: str
    created: bool


def _enqueue(task: Any, **kwargs: Any) -> None:
    """Queue ``task`` after commit; if the broker cannot take it, run it here.

    The booking is already committed when this runs, so a broker outage must
    not turn her confirmation into an error page; sending inline is slower
    but loses nothing. A failure there is logged (ids only) and swallowed.
    """

    def send() -> None:
        try:
            task.delay(**kwargs)
        except Exception:
            logger.exception("could not queue %s %s; running it inline", task.name, kwargs)
            try:
                task.run(**kwargs)
            except Exception:
                logger.exception("%s %s failed inline", task.name, kwargs)

    transaction.on_commit(send)


def _queue(event: str, consultation: Consultation) -> None:
    _enqueue(tasks.send_consultation_email, consultation_id=consultation.pk, event=event)
    _enqueue(tasks.send_therapist_notice, consultation_id=consultation.pk, event=event)


def manage_link_issue(*, consultation: Consultation) -> str:
    """A new private token for ``consultation``'s manage page (only its hash is kept)."""
    token = token_new()
    ManageLink.objects.create(consultation=consultation, token_hash=token_hash(token))
    return token


def manage_link_resolve(*, token: str) -> Consultation | None:
    if not token or len(token) > 100:
        return None
    link = (
        ManageLink.objects.select_related("consultation__appointment")
        .filter(token_hash=token_hash(token))
        .first()
    )
    return link.consultation if link else None


@transaction.atomic
def consultation_rebook_submission(*, submission_id: object) -> Booking | None:
    """The booking already made by this form (a resubmission), with a fresh link."""
    try:
        key = uuid.UUID(str(submission_id))
    except ValueError:
        return None
    existing = Consultation.objects.filter(submission_id=key).first()
    if existing is None:
        return None
    return Booking(existing, manage_link_issue(consultation=existing), created=False)


@transaction.atomic
def consultation_book(
    *, start: datetime, details: dict[str, Any], submission_id: uuid.UUID
) -> Booking:
    """Book the free consultation at ``start`` for the person in ``details``.

    A second call with the same ``submission_id`` (double click, resubmitted
    form) books nothing and returns the first booking with a fresh link.
    Raises :class:`SlotUnavailable` when the time is not (or no longer)
    offered. Side effects: the calendar appointment and its reminders; on
    commit, the confirmation to her and a notice to the therapist.
    """
    # Taken before the look-up, so two copies of one submission arriving
    # together queue here and the second finds the first's booking.
    kind_lock(kind=AppointmentKind.CONSULTATION)
    existing = Consultation.objects.filter(submission_id=submission_id).first()
    if existing is not None:
        return Booking(existing, manage_link_issue(consultation=existing), created=False)
    appointment = appointment_book(
        kind=AppointmentKind.CONSULTATION, start=start, offered_only=True, reminders=True
    )
    fields = {name: details[name] for name in DETAIL_FIELDS if name in details}
    fields["email"] = fields["email"].strip()
    consultation = Consultation.objects.create(
        appointment=appointment, submission_id=submission_id, **fields
    )
    token = manage_link_issue(consultation=consultation)
    logger.info("consultation %s booked (appointment %s)", consultation.pk, appointment.pk)
    _queue("booked", consultation)
    return Booking(consultation, token, created=True)


@transaction.atomic
def consultation_reschedule(*, consultation: Consultation, start: datetime) -> Consultation:
    """Move her consultation to ``start``; the old time is freed in the same swap.

    Raises :class:`SlotUnavailable` when the new time is not offered, and
    ``ValidationError`` when the consultation is no longer upcoming. Side
    effects: new reminders replace the unsent ones; on commit, an updated
    calendar invitation to her and a notice to the therapist.
    """
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    new_appointment = appointment_move(appointment=consultation.appointment, start=start)
    consultation.appointment = new_appointment
    consultation.sequence += 1
    consultation.save(update_fields=["appointment", "sequence"])
    logger.info("consultation %s rescheduled", consultation.pk)
    _queue("rescheduled", consultation)
    return consultation


@transaction.atomic
def consultation_transition(
    *,
    consultation: Consultation,
    to: str,
    by: str = Consultation.CancelledBy.PRACTICE,
    reason: str = "",
    note: str = "",
) -> Consultation:
    """Move a consultation's appointment to status ``to`` (booked → cancelled, completed, no-show).

    Side effects:
    - the calendar appointment changes status and its unsent reminders are voided;
    - cancelled: the time is freed; ``by`` and her ``reason`` or the practice's
      ``note`` are kept; on commit she gets a cancellation (with the practice's
      note when it cancelled) and the therapist a notice; when the freed time
      can still be booked, the waitlist is told about it.
    - completed or no-show: nothing else.
    """
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    appointment = appointment_transition(appointment=consultation.appointment, to=to)
    consultation.appointment = appointment
    if to == Appointment.Status.CANCELLED:
        consultation.sequence += 1
        consultation.cancelled_by = by
        consultation.cancel_reason = reason.strip()[:2000]
        consultation.cancel_note = note.strip()[:2000]
        consultation.save(
            update_fields=["sequence", "cancelled_by", "cancel_reason", "cancel_note"]
        )
        logger.info("consultation %s cancelled by %s", consultation.pk, by)
        _queue("cancelled", consultation)
        if _freed_time_bookable(appointment):
            _enqueue(tasks.notify_waitlist, consultation_id=consultation.pk)
    return consultation


def _freed_time_bookable(appointment: Appointment) -> bool:
    from practice.identity import practice_profile

    day = appointment.start.astimezone(practice_profile().zone).date()
    return appointment.start in available_slots(first_day=day, last_day=day)


@transaction.atomic
def consultation_convert_to_client(*, consultation: Consultation, actor: User | None) -> Client:
    """Make (or find) her client record and link the consultation to it.

    An existing client with the same email (in any case) is linked rather
    than duplicated.
    """
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.client_id is not None:
        return consultation.client  # type: ignore[return-value]
    client = (
        Client.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=consultation.email.lower())
        .first()
    )
    if client is None:
        client = Client.objects.create(
            first_name=consultation.first_name,
            last_name=consultation.last_name,
            email=consultation.email,
            phone=consultation.phone,
        )
    consultation.client = client
    consultation.save(update_fields=["client"])
    appointment = consultation.appointment
    if appointment.client_id is None:
        appointment.client = client
        appointment.save(update_fields=["client"])
    logger.info("consultation %s converted to client %s", consultation.pk, client.pk)
    return client


@transaction.atomic
def waitlist_join(*, name: str, email: str, preferred_times: str, time_zone: str) -> WaitlistEntry:
    """Put her on the waitlist, or update her waiting entry (one per email).

    The caller answers the same way whether she was already waiting or not.
    """
    entry = (
        WaitlistEntry.objects.select_for_update()
        .annotate(email_lower=Lower("email"))
        .filter(email_lower=email.strip().lower(), status=WaitlistEntry.Status.WAITING)
        .first()
    )
    if entry is None:
        return WaitlistEntry.objects.create(
            name=name, email=email.strip(), preferred_times=preferred_times, time_zone=time_zone
        )
    entry.name = name
    entry.preferred_times = preferred_times
    entry.time_zone = time_zone
    entry.save(update_fields=["name", "preferred_times", "time_zone"])
    return entry


def waitlist_notify_opening(*, consultation_id: int, now: datetime | None = None) -> int:
    """Email everyone waiting, oldest first, that a time has opened; return how many.

    Each entry is claimed (row lock, skip locked), emailed and moved to
    notified in its own transaction, so a retry never emails anyone twice.
    Whoever books first gets the time.
    """
    from .emails import waitlist_opening

    now = now or timezone.now()
    consultation = Consultation.objects.with_appointment().filter(pk=consultation_id).first()
    if consultation is None:
        return 0
    opened_at = consultation.appointment.start
    if opened_at <= now:
        return 0
    told = 0
    while True:
        with transaction.atomic():
            entry = (
                WaitlistEntry.objects.select_for_update(skip_locked=True)
                .filter(status=WaitlistEntry.Status.WAITING, created_at__lte=now)
                .order_by("created_at", "pk")
                .first()
            )
            if entry is None:
                return told
            waitlist_opening(entry=entry, opened_at=opened_at).send()
            entry.status = WaitlistEntry.Status.NOTIFIED
            entry.notified_at = timezone.now()
            entry.save(update_fields=["status", "notified_at"])
            told += 1
