"""Writes to the calendar: booking, moving and closing appointments.

Every function here is the one way its change is made, whoever asks (a public
form, the admin, a task).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Appointment, KindSettings
from .reminders import reminders_plan, reminders_void, reminders_were_planned
from .slots import is_offered, kind_settings

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
    mode: str = "",
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
        if not is_offered(kind=kind, start=start, now=now, settings=kind_row):
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
            mode=mode,
            created_at=now,
        )
    )
    if reminders:
        reminders_plan(appointment=appointment, now=now)
    return appointment


@transaction.atomic
def appointment_move(
    *,
    appointment: Appointment,
    start: datetime,
    offered_only: bool = True,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment to ``start`` in one swap; return the new row.

    The old row is cancelled and points at its replacement; the new row is
    booked at the new time. Either both happen or neither does, so the old
    time is freed exactly when the new one is taken. Raises
    :class:`SlotUnavailable` when the new time is not offered, or, without
    ``offered_only`` (time the therapist placed by hand, such as a course
    session: see :func:`appointment_book`), when it overlaps another
    appointment (the old row's own time counts as free).

    Side effects: the old row's unsent reminders are voided and the new row
    gets fresh ones when the old one had any.
    """
    now = now or timezone.now()
    kind_row = kind_lock(kind=appointment.kind)
    old = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if old.status != Appointment.Status.BOOKED or old.start <= now:
        raise ValidationError("This appointment can no longer be moved.")
    start = start.astimezone(UTC)
    end, occupied_start, occupied_end = _occupied_range(start, kind_row)
    if offered_only:
        if not is_offered(
            kind=old.kind, start=start, now=now, ignore_appointment_id=old.pk, settings=kind_row
        ):
            raise SlotUnavailable
    elif (
        Appointment.objects.occupying()
        .overlapping(occupied_start, occupied_end)
        .exclude(pk=old.pk)
        .exists()
    ):
        raise SlotUnavailable
    had_reminders = reminders_were_planned(old)
    old.move_to(Appointment.Status.CANCELLED)
    old.status_changed_at = now
    old.save(update_fields=["status", "status_changed_at"])
    reminders_void(appointment=old)
    new = _insert(
        Appointment(
            kind=old.kind,
            start=start,
            end=end,
            occupied_start=occupied_start,
            occupied_end=occupied_end,
            client_id=old.client_id,
            title=old.title,
            mode=old.mode,
            video_url=old.video_url,
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
    # Refuses what the map does not allow (InvalidTransition, a ValidationError).
    appointment.move_to(to)
    if to in (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW) and appointment.start > now:
        raise ValidationError("An appointment cannot be marked before it has started.")
    appointment.status_changed_at = now
    appointment.save(update_fields=["status", "status_changed_at"])
    reminders_void(appointment=appointment)
    return appointment
