"""Appointment reminders: outbox rows due some time before the start.

A booking plans one row per offset in ``CALENDAR_REMINDER_OFFSETS`` (the day
before, an hour before), unique per (appointment, reminder), due at its time.
The outbox's one loop sends them; at send time the calendar checks that the
appointment still stands at the start the reminder was planned for, and that
no closer reminder is due with it, before the leaf app's builder writes the
words. A reschedule books a new appointment (with its own reminders) and
voids the old one's; a cancel voids them. Nothing here holds a schedule in the
broker, so Redis can be flushed without losing a reminder.

Each leaf app registers the builder for its kinds of appointment::

    @reminder_email(AppointmentKind.CONSULTATION)
    def consultation_reminder(*, appointment, reminder) -> EmailMultiAlternatives | None:
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from practice.outbox.kinds import email_kind, kind_named, object_of
from practice.outbox.models import OutboxMessage
from practice.outbox.services import outbox_put, outbox_void

from .models import Appointment

ReminderBuilder = Callable[..., EmailMultiAlternatives | None]

KIND_PREFIX = "reminder."


class ReminderKind:
    DAY_BEFORE = "day_before"
    HOUR_BEFORE = "hour_before"


def reminder_offsets() -> dict[str, timedelta]:
    """How long before the start each reminder goes out (``CALENDAR_REMINDER_OFFSETS``)."""
    return {
        kind: timedelta(minutes=minutes)
        for kind, minutes in settings.CALENDAR_REMINDER_OFFSETS.items()
    }


def reminder_email(appointment_kind: str) -> Callable[[ReminderBuilder], ReminderBuilder]:
    """Register the reminder builder for appointments of ``appointment_kind``."""

    def register(builder: ReminderBuilder) -> ReminderBuilder:
        def build(message: OutboxMessage) -> EmailMultiAlternatives | None:
            appointment = _standing_appointment(message)
            if appointment is None:
                return None
            return builder(appointment=appointment, reminder=message.params["reminder"])

        email_kind(f"{KIND_PREFIX}{appointment_kind}")(build)
        return builder

    return register


def _standing_appointment(message: OutboxMessage) -> Appointment | None:
    """The appointment, if it still stands at the planned start and nothing closer is due."""
    now = timezone.now()
    appointment = object_of(Appointment.objects.all(), message)
    if appointment is None:
        return None
    planned = datetime.fromisoformat(message.params["for_start"])
    if not (
        appointment.status == Appointment.Status.BOOKED
        and appointment.start == planned
        and appointment.start > now
    ):
        return None
    # When a closer reminder is due too (the sender was down, or the booking
    # came late), only the closer one goes out.
    closer_due = (
        OutboxMessage.objects.due(now)
        .about(appointment)
        .filter(kind=message.kind, not_before__gt=message.not_before)
        .exists()
    )
    return None if closer_due else appointment


def reminders_plan(*, appointment: Appointment, now: datetime | None = None) -> int:
    """Ask the outbox for ``appointment``'s reminders; return how many were planned.

    A reminder whose time has already come when the booking is made is not
    planned: the confirmation she has just received says the same thing. A
    kind of appointment with no registered builder gets none.
    """
    now = now or timezone.now()
    kind = f"{KIND_PREFIX}{appointment.kind}"
    if kind_named(kind) is None:
        return 0
    planned = 0
    for reminder, offset in reminder_offsets().items():
        due = appointment.start - offset
        if due <= now:
            continue
        outbox_put(
            kind=kind,
            key=f"reminder:{appointment.pk}:{reminder}",
            about=appointment,
            params={"reminder": reminder, "for_start": appointment.start.isoformat()},
            not_before=due,
        )
        planned += 1
    return planned


def reminders_void(*, appointment: Appointment) -> int:
    """Void the unsent reminders of ``appointment`` (moved, cancelled or closed)."""
    return outbox_void(about=appointment, prefix=KIND_PREFIX)


def reminders_were_planned(appointment: Appointment) -> bool:
    return OutboxMessage.objects.about(appointment).filter(kind__startswith=KIND_PREFIX).exists()


def reminders_pending(appointment: Appointment) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.pending()
        .about(appointment)
        .filter(kind__startswith=KIND_PREFIX)
        .order_by("not_before")
    )
