"""Every write of the consultation funnel: booking, moving, cancelling, converting.

Every email is asked for in the transaction of the change that causes it, as
an outbox row (``practice.outbox``): it exists exactly when the change
commits, and is built from ids when it is sent (``emails.py``), so a
rolled-back booking sends nothing and no answer of hers waits in a queue.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
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
from practice.calendar.slots import is_offered
from practice.models import (
    Appointment,
    AppointmentKind,
    AuditEvent,
    Client,
    MeetingMode,
    OutboxMessage,
    User,
)
from practice.outbox.services import outbox_put
from practice.services import audit_record

from .links import manage_link_issue
from .models import CONTACT_FIELDS, INTAKE_FIELDS, Consultation, WaitlistEntry

logger = logging.getLogger(__name__)

__all__ = ["SlotUnavailable"]

# The booking form's fields that are stored on the consultation as they are.
DETAIL_FIELDS = (*CONTACT_FIELDS, *INTAKE_FIELDS)

VIDEO_LINK_KIND = "consultation.video_link"
# A second "send the video link" within this many seconds of the last one is
# the same click (a double click, a reload, a second tab), not a resend.
VIDEO_LINK_RESEND_SECONDS = 30


@dataclass(frozen=True)
class Booking:
    consultation: Consultation
    token: str
    created: bool


@dataclass(frozen=True)
class VideoLinkRequest:
    consultation: Consultation
    # False when the same link was asked for moments ago: nothing new is sent.
    asked: bool


def _ask_emails(event: str, consultation: Consultation) -> None:
    """Her email and the therapist's notice for ``event`` (booked, rescheduled, cancelled)."""
    sequence = consultation.sequence
    key = f"consultation:{consultation.pk}:{event}:{sequence}"
    outbox_put(
        kind=f"consultation.{event}",
        key=key,
        about=consultation,
        recipient=consultation.email,
        params={"sequence": sequence},
    )
    outbox_put(
        kind="consultation.therapist_notice",
        key=f"{key}:notice",
        about=consultation,
        params={"event": event},
    )


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


@transaction.atomic(durable=True)
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
        kind=AppointmentKind.CONSULTATION,
        start=start,
        mode=details["meeting_mode"],
        offered_only=True,
        reminders=True,
    )
    fields = {name: details[name] for name in DETAIL_FIELDS if name in details}
    fields["email"] = fields["email"].strip()
    consultation = Consultation.objects.create(
        appointment=appointment, submission_id=submission_id, **fields
    )
    token = manage_link_issue(consultation=consultation)
    logger.info("consultation %s booked (appointment %s)", consultation.pk, appointment.pk)
    _ask_emails("booked", consultation)
    return Booking(consultation, token, created=True)


@transaction.atomic(durable=True)
def consultation_reschedule(*, consultation: Consultation, start: datetime) -> Consultation:
    """Move her consultation to ``start``; the old time is freed in the same swap.

    Raises :class:`SlotUnavailable` when the new time is not offered, and
    ``ValidationError`` when the consultation is no longer upcoming. Side
    effects: new reminders replace the unsent ones; an updated calendar
    invitation to her and a notice to the therapist (outbox rows).
    """
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    new_appointment = appointment_move(appointment=consultation.appointment, start=start)
    consultation.appointment = new_appointment
    consultation.sequence += 1
    consultation.save(update_fields=["appointment", "sequence"])
    logger.info("consultation %s rescheduled", consultation.pk)
    _ask_emails("rescheduled", consultation)
    return consultation


@transaction.atomic(durable=True)
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
      ``note`` are kept; she gets a cancellation (with the practice's note
      when it cancelled) and the therapist a notice; when the freed time can
      still be booked, everyone waiting is told about it
      (:func:`waitlist_tell_opening`). All emails are outbox rows.
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
        _ask_emails("cancelled", consultation)
        if is_offered(kind=appointment.kind, start=appointment.start):
            waitlist_tell_opening(opened=consultation)
    return consultation


@transaction.atomic(durable=True)
def consultation_convert_to_client(*, consultation: Consultation, actor: User | None) -> Client:
    """Make (or find) her client record and link the consultation to it.

    An existing client with the same email (in any case) is linked rather
    than duplicated. Side effects: the client row (new) or its link, and one
    audit line with ``actor`` (created, or changed for a client linked);
    nothing when she is already linked.
    """
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.client_id is not None:
        return consultation.client  # type: ignore[return-value]
    client = (
        Client.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=consultation.email.lower())
        .first()
    )
    action = AuditEvent.Action.CHANGE
    if client is None:
        client = Client.objects.create(
            first_name=consultation.first_name,
            last_name=consultation.last_name,
            email=consultation.email,
            phone=consultation.phone,
        )
        action = AuditEvent.Action.CREATE
    audit_record(actor=actor, action=action, obj=client, client=client)
    consultation.client = client
    consultation.save(update_fields=["client"])
    appointment = consultation.appointment
    if appointment.client_id is None:
        appointment.client = client
        appointment.save(update_fields=["client"])
    logger.info("consultation %s converted to client %s", consultation.pk, client.pk)
    return client


@transaction.atomic
def consultation_set_meeting(
    *, consultation: Consultation, mode: str, video_url: str = ""
) -> Consultation:
    """Set how the call is held (phone or video) and this call's own video link.

    ``video_url`` overrides the practice's video room for this call only;
    empty means the room. Raises ``ValidationError`` for a mode a free
    consultation does not have, or once the consultation is no longer booked
    (it keeps how it was held). Side effects: the calendar appointment's
    ``mode`` and ``video_url``; nothing is sent (the therapist sends the link
    with :func:`consultation_send_video_link` when she chooses). Not durable:
    the admin's change form calls it inside its own transaction.
    """
    if mode not in Consultation.MEETING_MODES:
        raise ValidationError("A free consultation is a phone or a video call.")
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    appointment = Appointment.objects.select_for_update().get(pk=consultation.appointment_id)
    video_url = video_url.strip()
    if (appointment.mode, appointment.video_url) == (mode, video_url):
        consultation.appointment = appointment
        return consultation
    if appointment.status != Appointment.Status.BOOKED:
        raise ValidationError("A cancelled or finished consultation keeps how it was held.")
    appointment.mode = mode
    appointment.video_url = video_url
    appointment.save(update_fields=["mode", "video_url"])
    consultation.appointment = appointment
    logger.info("consultation %s is now a %s call", consultation.pk, mode)
    return consultation


@transaction.atomic(durable=True)
def consultation_send_video_link(
    *, consultation: Consultation, actor: User | None, now: datetime | None = None
) -> VideoLinkRequest:
    """Email her the link to join her upcoming video call (from the admin's button).

    The outbox row's key is the consultation and the
    ``VIDEO_LINK_RESEND_SECONDS`` window the request falls in, and the last
    request is looked up under the consultation's row lock: a second click
    within that many seconds of the last request (a double click, a reload,
    two tabs) asks for nothing and returns ``asked=False``, while a deliberate
    resend later on is a new row with a new key. Raises ``ValidationError``
    when the call is not an upcoming video call or has no link to send.
    Side effects: one outbox row (kind ``consultation.video_link``), built at
    send time with the link and time as they are then.
    """
    now = now or timezone.now()
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if not consultation.is_upcoming:
        raise ValidationError("This call is no longer upcoming; no link was sent.")
    if consultation.meeting_mode != MeetingMode.VIDEO:
        raise ValidationError("This is a phone call: there is no video link to send.")
    if not consultation.video_link:
        raise ValidationError(
            "There is no video link yet: add your video room to the practice profile, "
            "or a link for this call."
        )
    window = VIDEO_LINK_RESEND_SECONDS
    last = (
        OutboxMessage.objects.about(consultation)
        .filter(kind=VIDEO_LINK_KIND)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None and (now - last).total_seconds() < window:
        return VideoLinkRequest(consultation, asked=False)
    outbox_put(
        kind=VIDEO_LINK_KIND,
        key=f"consultation:{consultation.pk}:video_link:{int(now.timestamp()) // window}",
        about=consultation,
        recipient=consultation.email,
    )
    logger.info(
        "consultation %s video link asked by user %s",
        consultation.pk,
        actor.pk if actor is not None else None,
    )
    return VideoLinkRequest(consultation, asked=True)


@transaction.atomic(durable=True)
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


def waitlist_tell_opening(*, opened: Consultation, now: datetime | None = None) -> int:
    """Tell everyone waiting, oldest first, that ``opened``'s time is free; return how many.

    Runs in the cancellation's transaction: each waiting entry becomes
    notified and gets an outbox row, so nobody is told twice and nobody is
    missed if a worker dies. Whoever books first gets the time.
    """
    now = now or timezone.now()
    opened_at = opened.appointment.start
    told = 0
    waiting = (
        WaitlistEntry.objects.select_for_update()
        .filter(status=WaitlistEntry.Status.WAITING, created_at__lte=now)
        .order_by("created_at", "pk")
    )
    for entry in waiting:
        entry.move_to(WaitlistEntry.Status.NOTIFIED)
        entry.notified_at = now
        entry.save(update_fields=["status", "notified_at"])
        outbox_put(
            kind="consultation.waitlist_opening",
            key=f"waitlist:{entry.pk}:opening:{opened.appointment_id}",
            about=entry,
            recipient=entry.email,
            params={"opened_at": opened_at.isoformat()},
        )
        told += 1
    return told
