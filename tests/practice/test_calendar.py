"""The calendar's guarantees: no double booking, atomic moves, reminders once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction

from practice.calendar.reminders import reminders_pending, reminders_plan
from practice.calendar.services import (
    SlotUnavailable,
    appointment_book,
    appointment_move,
    appointment_transition,
)
from practice.models import Appointment, AppointmentKind, OutboxMessage
from practice.outbox.services import outbox_send_due
from practice.transitions import InvalidTransition, transitions_complete
from tests.consultations.factories import ConsultationFactory
from tests.factories import AppointmentFactory
from tests.support.calendar import FIRST_SLOT, NOW, open_weekdays

pytestmark = pytest.mark.django_db


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")


def test_booking_an_offered_slot_occupies_it_with_its_buffer(weekly_hours, frozen_now):
    appointment = appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT)

    assert appointment.end == FIRST_SLOT + timedelta(minutes=20)
    assert appointment.occupied_start == FIRST_SLOT
    assert appointment.occupied_end == FIRST_SLOT + timedelta(minutes=30)


def test_booking_a_taken_slot_is_refused(weekly_hours, frozen_now):
    appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT)

    with pytest.raises(SlotUnavailable):
        appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT)
    assert Appointment.objects.count() == 1


def test_booking_a_time_that_is_not_offered_is_refused(weekly_hours, frozen_now):
    with pytest.raises(SlotUnavailable):
        appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT + timedelta(minutes=7))


def test_blocked_time_by_hand_only_checks_overlap(weekly_hours, frozen_now):
    evening = FIRST_SLOT + timedelta(hours=12)  # outside the weekly hours

    blocked = appointment_book(kind=AppointmentKind.BLOCKED, start=evening, offered_only=False)

    assert blocked.end == evening + timedelta(hours=1)
    with pytest.raises(SlotUnavailable):
        appointment_book(
            kind=AppointmentKind.BLOCKED, start=evening + timedelta(minutes=30), offered_only=False
        )


def test_an_overlapping_raw_insert_raises_integrity_error(weekly_hours, frozen_now):
    needs_postgres()
    AppointmentFactory(start=FIRST_SLOT)

    overlapping = FIRST_SLOT + timedelta(minutes=25)

    refused = pytest.raises(IntegrityError, match="practice_appointment_no_overlap")
    with refused, transaction.atomic():
        AppointmentFactory(kind=AppointmentKind.BLOCKED, start=overlapping)


def test_a_cancelled_row_may_overlap(weekly_hours, frozen_now):
    AppointmentFactory(start=FIRST_SLOT, status=Appointment.Status.CANCELLED)

    AppointmentFactory(start=FIRST_SLOT)

    assert Appointment.objects.occupying().count() == 1


def test_moving_frees_the_old_time_and_takes_the_new(weekly_hours, frozen_now):
    old = appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT, reminders=True)
    later = FIRST_SLOT + timedelta(days=1)

    new = appointment_move(appointment=old, start=later)

    old.refresh_from_db()
    assert (old.status, old.rescheduled_to) == (Appointment.Status.CANCELLED, new)
    assert (new.status, new.start) == (Appointment.Status.BOOKED, later)
    assert reminders_pending(old) == []
    assert sorted(r.params["reminder"] for r in reminders_pending(new)) == [
        "day_before",
        "hour_before",
    ]
    # The old time is free again.
    assert appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT).pk


def test_moving_by_a_few_minutes_onto_its_own_buffer_works(weekly_hours, frozen_now):
    old = appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT)

    new = appointment_move(appointment=old, start=FIRST_SLOT + timedelta(minutes=30))

    assert new.start == FIRST_SLOT + timedelta(minutes=30)


def test_a_failed_move_changes_nothing(weekly_hours, frozen_now):
    old = appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT)
    other = appointment_book(
        kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT + timedelta(hours=1)
    )

    with pytest.raises(SlotUnavailable):
        appointment_move(appointment=old, start=other.start)

    old.refresh_from_db()
    assert old.status == Appointment.Status.BOOKED
    assert Appointment.objects.count() == 2


def test_every_appointment_status_has_its_moves_and_a_save_cannot_skip_them(
    weekly_hours, frozen_now
):
    appointment = appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT)
    appointment_transition(appointment=appointment, to=Appointment.Status.CANCELLED)
    cancelled = Appointment.objects.get(pk=appointment.pk)
    cancelled.status = Appointment.Status.BOOKED

    assert transitions_complete(Appointment) == []
    with pytest.raises(InvalidTransition):
        cancelled.save()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED


def test_transitions_follow_the_map(weekly_hours, frozen_now):
    appointment = appointment_book(kind=AppointmentKind.CONSULTATION, start=FIRST_SLOT)

    with pytest.raises(ValidationError, match="before it has started"):
        appointment_transition(appointment=appointment, to=Appointment.Status.COMPLETED)
    cancelled = appointment_transition(appointment=appointment, to=Appointment.Status.CANCELLED)
    assert cancelled.status == Appointment.Status.CANCELLED
    with pytest.raises(
        ValidationError, match="An appointment that is cancelled cannot become booked"
    ):
        appointment_transition(appointment=appointment, to=Appointment.Status.BOOKED)


def test_reminders_are_planned_only_for_times_still_ahead(weekly_hours, frozen_now):
    consultation = ConsultationFactory(appointment__start=NOW + timedelta(hours=5))

    reminders_plan(appointment=consultation.appointment)

    assert [
        (r.params["reminder"], r.not_before) for r in reminders_pending(consultation.appointment)
    ] == [("hour_before", NOW + timedelta(hours=4))]


def test_planning_twice_plans_each_reminder_once(practice_profile, frozen_now):
    consultation = ConsultationFactory(appointment__start=NOW + timedelta(days=3))

    reminders_plan(appointment=consultation.appointment)
    reminders_plan(appointment=consultation.appointment)

    assert sorted(r.params["reminder"] for r in reminders_pending(consultation.appointment)) == [
        "day_before",
        "hour_before",
    ]


def test_a_kind_without_a_reminder_email_gets_no_reminders(practice_profile, frozen_now):
    blocked = AppointmentFactory(kind=AppointmentKind.BLOCKED, start=NOW + timedelta(days=3))

    assert reminders_plan(appointment=blocked) == 0
    assert reminders_pending(blocked) == []


def test_the_sender_sends_due_reminders_once(practice_profile, mailoutbox):
    consultation = ConsultationFactory(appointment__start=NOW + timedelta(hours=20))
    reminders_plan(appointment=consultation.appointment, now=NOW - timedelta(days=2))

    with time_machine.travel(NOW, tick=False):
        first = outbox_send_due()
        second = outbox_send_due()

    assert (first.sent, second.sent) == (1, 0)
    assert [m.to for m in mailoutbox] == [[consultation.email]]
    (day_before,) = OutboxMessage.objects.filter(params__reminder="day_before")
    assert (day_before.status, day_before.finished_at) == (OutboxMessage.Status.SENT, NOW)
    (hour_before,) = reminders_pending(consultation.appointment)
    assert hour_before.params["reminder"] == "hour_before"


def test_the_sender_voids_reminders_of_cancelled_or_moved_appointments(
    practice_profile, mailoutbox
):
    cancelled = ConsultationFactory(
        appointment__start=NOW + timedelta(hours=20),
        appointment__status=Appointment.Status.CANCELLED,
    )
    moved = ConsultationFactory(appointment__start=NOW + timedelta(hours=21))
    reminders_plan(appointment=cancelled.appointment, now=NOW - timedelta(days=2))
    reminders_plan(appointment=moved.appointment, now=NOW - timedelta(days=2))
    later = NOW + timedelta(hours=30)
    Appointment.objects.filter(pk=moved.appointment.pk).update(
        start=later,
        end=later + timedelta(minutes=20),
        occupied_start=later,
        occupied_end=later + timedelta(minutes=30),
    )

    with time_machine.travel(NOW, tick=False):
        report = outbox_send_due()

    assert (report.sent, report.voided) == (0, 2)
    assert mailoutbox == []
    assert OutboxMessage.objects.filter(status="voided", finished_at=NOW).count() == 2


def test_when_both_reminders_are_due_only_the_closer_one_is_sent(practice_profile, mailoutbox):
    consultation = ConsultationFactory(appointment__start=NOW + timedelta(minutes=30))
    reminders_plan(appointment=consultation.appointment, now=NOW - timedelta(days=2))

    with time_machine.travel(NOW, tick=False):
        report = outbox_send_due()

    assert (report.sent, report.voided) == (1, 1)
    (sent,) = OutboxMessage.objects.filter(status="sent")
    assert sent.params["reminder"] == "hour_before"


def test_the_sender_never_sends_for_a_time_already_past(practice_profile, mailoutbox):
    consultation = ConsultationFactory(appointment__start=NOW - timedelta(minutes=5))
    reminders_plan(appointment=consultation.appointment, now=NOW - timedelta(days=2))

    with time_machine.travel(NOW, tick=False):
        assert outbox_send_due().sent == 0

    assert mailoutbox == []


# --- Two processes at once, on real PostgreSQL -------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_booking_one_slot_make_one_booking(practice_profile):
    needs_postgres()
    open_weekdays()
    start = FIRST_SLOT
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def book() -> None:
        try:
            barrier.wait()
            appointment_book(kind=AppointmentKind.CONSULTATION, start=start, now=NOW)
            result = "booked"
        except SlotUnavailable:
            result = "taken"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=book) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["booked"] + ["taken"] * 19
    assert Appointment.objects.occupying().count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_kinds_racing_for_one_time_leave_one_winner(practice_profile):
    # Blocked time placed by hand and public bookings take different locks,
    # so here only the exclusion constraint stands between them.
    needs_postgres()
    open_weekdays()
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def book(kind: str) -> None:
        try:
            barrier.wait()
            by_hand = kind == AppointmentKind.BLOCKED
            appointment_book(kind=kind, start=FIRST_SLOT, offered_only=not by_hand, now=NOW)
            result = "booked"
        except SlotUnavailable:
            result = "taken"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    kinds = [AppointmentKind.CONSULTATION, AppointmentKind.BLOCKED] * 10
    threads = [threading.Thread(target=book, args=(kind,)) for kind in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["booked"] + ["taken"] * 19
    assert Appointment.objects.occupying().count() == 1


def test_a_refusal_by_the_constraint_reads_as_taken(weekly_hours, frozen_now, monkeypatch):
    # As if another writer inserted between the check and the insert.
    needs_postgres()
    from practice.calendar.models import AppointmentQuerySet

    AppointmentFactory(start=FIRST_SLOT)
    monkeypatch.setattr(AppointmentQuerySet, "overlapping", lambda self, start, end: self.none())

    with pytest.raises(SlotUnavailable):
        appointment_book(kind=AppointmentKind.BLOCKED, start=FIRST_SLOT, offered_only=False)
    assert Appointment.objects.count() == 1
