"""Writes to the calendar: booking, moving and closing appointments; reminders.

Every function here is the one way its change is made, whoever asks (a public
form, the admin, a task).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import (
    Appointment,
    KindSettings,
    Reminder,
    reminder_offsets,
)
from .slots import available_slots, kind_settings

logger = logging.getLogger(__name__)

NO_OVERLAP_CONSTRAINT = "practice_appointment_no_overlap"


class SlotUnavailable(Exception):  # noqa: N818  (reads as the situation, like Http404)
    """The time asked for is not (or no longer) free."""


def kind_lock(*, kind: str) -> KindSettings:
    """Lock (creating if need be) the settings row of ``kind`` for this transaction."""
    # Booking one kind at a time keeps the daily cap exact under concurrency;
    # the row lock is cheap at a practice's volume. On SQLite the IMMEDIATE
    # transaction already serialises every writer.
    defaults = kind_settings(kind)
    row, _ = KindSettings.objects.select_for_update().get_or_create(
        kind=kind,
        defaults={
            field.name: getattr(defaults, field.name)
            for field in KindSettings._meta.concrete_fields
            if field.name not in ("id", "kind")
        },
    )
    return row


def _insert(appointment: Appointment) -> Appointment:
    # The check just made can still lose a race with a writer that does not
    # take the kind lock (the admin, another kind); on PostgreSQL the
    # exclusion constraint is the last word and its refusal means "taken".
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        if NO_OVERLAP_CONSTRAINT in str(exc):
            raise SlotUnavailable from exc
        raise
    return appointment


def _occupied_range(start: datetime, kind_row: KindSettings) -> tuple[datetime, datetime, datetime]:
    end = start + kind_row.duration
    return end, start - kind_row.buffer_before, end + kind_row.buffer_after


@transaction.atomic
def appointment_book(
    *,
    kind: str,
    start: datetime,
    client_id: int | None = None,
    title: str = "",
    offered_only: bool = True,
    reminders: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Put one appointment of ``kind`` in the calendar at ``start``.

    With ``offered_only`` the start must be one of the slots the engine offers
    now (public booking); without it only the overlap rule applies (the
    therapist placing time by hand). Raises :class:`SlotUnavailable` when the
    time is not free. Side effects: with ``reminders``, plans the reminder rows.
    """
    now = now or timezone.now()
    kind_row = kind_lock(kind=kind)
    start = start.astimezone(UTC)
    end, occupied_start, occupied_end = _occupied_range(start, kind_row)
    if offered_only:
        if not _is_offered(start, kind_row, now=now):
            raise SlotUnavailable
    elif Appointment.objects.occupying().overlapping(occupied_start, occupied_end).exists():
        raise SlotUnavailable
    appointment = _insert(
        Appointment(
            kind=kind,
            start=start,
            end=end,
            occupied_start=occupied_start,
            occupied_end=occupied_end,
            client_id=client_id,
            title=title,
            created_at=now,
        )
    )
    if reminders:
        reminders_plan(appointment=appointment, now=now)
    return appointment


def _is_offered(
    start: datetime, kind_row: KindSettings, *, now: datetime, ignore: int | None = None
) -> bool:
    from practice.identity import practice_profile

    zone = practice_profile().zone
    day = start.astimezone(zone).date()
    return start in available_slots(
        kind=kind_row.kind,
        first_day=day,
        last_day=day,
        now=now,
        zone=zone,
        settings=kind_row,
        ignore_appointment_id=ignore,
    )


@transaction.atomic
def appointment_move(
    *, appointment: Appointment, start: datetime, now: datetime | None = None
) -> Appointment:
    """Move a booked appointment to ``start`` in one swap; return the new row.

    The old row is cancelled and points at its replacement; the new row is
    booked at the new time. Either both happen or neither does, so the old
    time is freed exactly when the new one is taken. Raises
    :class:`SlotUnavailable` when the new time is not offered.

    Side effects: the old row's unsent reminders are voided and the new row
    gets fresh ones when the old one had any.
    """
    now = now or timezone.now()
    kind_row = kind_lock(kind=appointment.kind)
    old = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if old.status != Appointment.Status.BOOKED or old.start <= now:
        raise ValidationError("This appointment can no longer be moved.")
    start = start.astimezone(UTC)
    if not _is_offered(start, kind_row, now=now, ignore=old.pk):
        raise SlotUnavailable
    had_reminders = old.reminders.exists()
    old.status = Appointment.Status.CANCELLED
    old.status_changed_at = now
    old.save(update_fields=["status", "status_changed_at"])
    reminders_void(appointment=old, now=now)
    end, occupied_start, occupied_end = _occupied_range(start, kind_row)
    new = _insert(
        Appointment(
            kind=old.kind,
            start=start,
            end=end,
            occupied_start=occupied_start,
            occupied_end=occupied_end,
            client_id=old.client_id,
            title=old.title,
            created_at=now,
        )
    )
    old.rescheduled_to = new
    old.save(update_fields=["rescheduled_to"])
    if had_reminders:
        reminders_plan(appointment=new, now=now)
    return new


@transaction.atomic
def appointment_transition(
    *, appointment: Appointment, to: str, now: datetime | None = None
) -> Appointment:
    """Move ``appointment`` to status ``to`` (see ``Appointment.TRANSITIONS``).

    Side effects: stamps ``status_changed_at``; cancelling frees the time;
    every move out of booked voids the unsent reminders. Completed and no-show
    are refused before the appointment has started.
    """
    now = now or timezone.now()
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if not appointment.can_move_to(to):
        raise ValidationError(
            f"A {appointment.get_status_display().lower()} appointment cannot become "
            f"{Appointment.Status(to).label.lower()}."
        )
    if to in (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW) and appointment.start > now:
        raise ValidationError("An appointment cannot be marked before it has started.")
    appointment.status = to
    appointment.status_changed_at = now
    appointment.save(update_fields=["status", "status_changed_at"])
    reminders_void(appointment=appointment, now=now)
    return appointment


def reminders_plan(*, appointment: Appointment, now: datetime | None = None) -> list[Reminder]:
    """Create the reminder rows for ``appointment`` (``CALENDAR_REMINDER_OFFSETS``).

    A reminder whose time has already come when the booking is made is not
    planned: the confirmation she has just received says the same thing.
    """
    now = now or timezone.now()
    rows = [
        Reminder(
            appointment=appointment,
            kind=kind,
            due_at=appointment.start - offset,
            for_start=appointment.start,
        )
        for kind, offset in reminder_offsets().items()
        if appointment.start - offset > now
    ]
    return Reminder.objects.bulk_create(rows)


def reminders_void(*, appointment: Appointment, now: datetime | None = None) -> int:
    return (
        Reminder.objects.filter(appointment=appointment)
        .pending()
        .update(voided_at=now or timezone.now())
    )


def _reminder_message_builders() -> dict[str, object]:
    # The core reaches the leaf apps through settings only: each kind of
    # appointment that sends reminders names its message builder there.
    return {kind: import_string(path) for kind, path in settings.CALENDAR_REMINDER_MESSAGES.items()}


def reminder_dispatch_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send every reminder that is due; return how many were sent.

    Each reminder is claimed, re-checked, sent and stamped inside one short
    transaction of its own that holds the row lock (``FOR UPDATE SKIP
    LOCKED``), so two dispatchers never take the same row and a worker killed
    at any point before the commit leaves its row unstamped and unlocked for
    the next run. The one edge left is a kill (or lost connection) after the
    mail server accepted the message but before the commit: that reminder is
    sent again. We accept at-least-once in that millisecond window over
    at-most-once, because a missed reminder costs her more than a repeated one.
    """
    builders = _reminder_message_builders()
    sent = 0
    connection = get_connection()
    try:
        for _ in range(limit):
            outcome = _reminder_dispatch_one(builders=builders, connection=connection, now=now)
            if outcome is None:
                break
            sent += outcome
    finally:
        connection.close()
    return sent


@transaction.atomic
def _reminder_dispatch_one(
    *, builders: dict[str, object], connection: object, now: datetime | None
) -> int | None:
    moment = now or timezone.now()
    reminder = (
        Reminder.objects.due(moment)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("appointment")
        .order_by("due_at", "pk")
        .first()
    )
    if reminder is None:
        return None
    appointment = reminder.appointment
    builder = builders.get(appointment.kind)
    stands = (
        appointment.status == Appointment.Status.BOOKED
        and appointment.start == reminder.for_start
        and appointment.start > moment
    )
    # When a closer reminder is due too (the dispatcher was down, or the
    # booking came late), only the closer one goes out.
    superseded = (
        Reminder.objects.due(moment)
        .filter(appointment=appointment, due_at__gt=reminder.due_at)
        .exists()
    )
    if not stands or superseded or builder is None:
        reminder.voided_at = moment
        reminder.save(update_fields=["voided_at"])
        logger.info("reminder %s voided (appointment %s)", reminder.pk, appointment.pk)
        return 0
    message = builder(reminder=reminder)  # type: ignore[operator]
    if message is None:
        reminder.voided_at = moment
        reminder.save(update_fields=["voided_at"])
        return 0
    message.connection = connection
    message.send()
    reminder.sent_at = timezone.now()
    reminder.save(update_fields=["sent_at"])
    logger.info("reminder %s sent (appointment %s)", reminder.pk, appointment.pk)
    return 1
