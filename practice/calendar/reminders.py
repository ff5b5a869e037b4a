"""Appointment reminders: outbox rows due some time before the start.

A booking plans one row per offset in ``CALENDAR_REMINDER_OFFSETS`` (the day
before, an hour before), unique per (appointment, reminder), due at its time.
A kind of appointment may have extra ones of its own
(``CALENDAR_REMINDER_EXTRA_OFFSETS``, by appointment kind: practical
instructions two days before a long session, say); the builder is told which
reminder it writes, so it can choose its words.
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

The rows' outbox kind is ``reminder.<appointment kind>`` unless the app names
it (``@reminder_email(*kinds, name="reminder.session")``): the outbox kind
shows in log lines and in the workspace's list of outgoing email, where an
appointment kind's own name may say more than a glance should see.
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


# Appointment kind -> the outbox kind its reminders are sent as.
_outbox_kinds: dict[str, str] = {}


def reminder_offsets(appointment_kind: str | None = None) -> dict[str, timedelta]:
    """How long before the start each reminder goes out.

    Every appointment's (``CALENDAR_REMINDER_OFFSETS``), and with
    ``appointment_kind`` that kind's extra ones too
    (``CALENDAR_REMINDER_EXTRA_OFFSETS[appointment_kind]``).
    """
    minutes = dict(settings.CALENDAR_REMINDER_OFFSETS)
    if appointment_kind is not None:
        minutes.update(settings.CALENDAR_REMINDER_EXTRA_OFFSETS.get(appointment_kind, {}))
    return {reminder: timedelta(minutes=value) for reminder, value in minutes.items()}


def reminder_email(
    *appointment_kinds: str, name: str = ""
) -> Callable[[ReminderBuilder], ReminderBuilder]:
    """Register the reminder builder for appointments of ``appointment_kinds``.

    ``name`` is the outbox kind of their rows (``reminder.<kind>`` when empty;
    one name for several appointment kinds when given).
    """
    if not appointment_kinds:
        raise ValueError("name at least one kind of appointment")
    if name and not name.startswith(KIND_PREFIX):
        raise ValueError(f"a reminder's outbox kind starts with {KIND_PREFIX!r}")

    def register(builder: ReminderBuilder) -> ReminderBuilder:
        def build(message: OutboxMessage) -> EmailMultiAlternatives | None:
            appointment = _standing_appointment(message)
            if appointment is None:
                return None
            return builder(appointment=appointment, reminder=message.params["reminder"])

        outbox_names = {kind: name or f"{KIND_PREFIX}{kind}" for kind in appointment_kinds}
        for kind, outbox_name in outbox_names.items():
            if _outbox_kinds.get(kind, outbox_name) != outbox_name:
                raise ValueError(f"appointment kind {kind!r} has a reminder builder already")
        for outbox_name in set(outbox_names.values()):
            email_kind(outbox_name)(build)
        _outbox_kinds.update(outbox_names)
        return builder

    return register


def reminder_outbox_kind(appointment_kind: str) -> str | None:
    """The outbox kind of ``appointment_kind``'s reminders; ``None`` when it has no builder."""
    return _outbox_kinds.get(appointment_kind)


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
    # came late), only the closer one goes out. An extra reminder of a kind
    # says something the others do not (instructions), so it neither gives
    # way to them nor makes them give way.
    regular = list(settings.CALENDAR_REMINDER_OFFSETS)
    if message.params["reminder"] not in regular:
        return appointment
    closer_due = (
        OutboxMessage.objects.due(now)
        .about(appointment)
        .filter(
            kind=message.kind,
            not_before__gt=message.not_before,
            params__reminder__in=regular,
        )
        .exists()
    )
    return None if closer_due else appointment


def reminders_plan(*, appointment: Appointment, now: datetime | None = None) -> int:
    """Ask the outbox for ``appointment``'s reminders; return how many were planned.

    A reminder whose time has already come when the booking is made is not
    planned: the confirmation she has just received says the same thing (an
    extra reminder's builder should fold what it says into the regular
    reminders for that reason). A kind of appointment with no registered
    builder gets none.
    """
    now = now or timezone.now()
    kind = reminder_outbox_kind(appointment.kind)
    if kind is None or kind_named(kind) is None:
        return 0
    planned = 0
    for reminder, offset in reminder_offsets(appointment.kind).items():
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
