"""The course's plan, its phase history, and the rules and side effects of each move.

The map itself (which moves exist, one open course per client) is tested in
test_course.py; here: the phase follows the sessions held.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from kap_sessions.models import CoursePhaseChange, ScreeningAssignment
from kap_sessions.services import course_advance, course_start, session_book
from practice.calendar.reminders import reminders_pending
from practice.models import Appointment, AppointmentKind, AuditEvent, MeetingMode, OutboxMessage
from tests.factories import ClientFactory
from tests.kap_sessions.factories_course import held_session, ready_course
from tests.support.calendar import NOW

pytestmark = pytest.mark.django_db


def test_a_course_starts_with_its_plan_its_history_and_its_baseline(therapist, settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    client = ClientFactory()

    course = course_start(client=client, actor=therapist, now=NOW)

    assert (course.phase, course.started_on, course.planned_dosing_sessions) == (
        "preparation",
        date(2027, 1, 4),
        3,
    )
    assert course.planned_end_on == date(2027, 3, 29)  # twelve weeks
    assert [(c.phase, c.at, c.actor) for c in course.phase_changes.all()] == [
        ("preparation", NOW, therapist)
    ]
    baseline = ScreeningAssignment.objects.filter(course=course, occasion="baseline")
    assert sorted(baseline.values_list("instrument", flat=True)) == ["epds", "gad-7", "phq-9"]
    event = AuditEvent.objects.get(object_type="kap_sessions.course")
    assert (event.action, event.actor_id, event.client_id) == ("create", therapist.pk, client.pk)


def test_a_course_starts_with_the_plan_given(settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    course = course_start(
        client=ClientFactory(), planned_dosing_sessions=2, planned_end_on=date(2027, 2, 28), now=NOW
    )

    assert (course.planned_dosing_sessions, course.planned_end_on) == (2, date(2027, 2, 28))


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"planned_dosing_sessions": 0}, "Plan at least one medicine session."),
        ({"planned_end_on": date(2027, 1, 3)}, "The planned end cannot be before the start."),
    ],
)
def test_a_plan_that_makes_no_sense_is_refused(plan, message, settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    with pytest.raises(ValidationError) as refused:
        course_start(client=ClientFactory(), now=NOW, **plan)

    assert refused.value.messages == [message]


def test_every_move_is_in_the_history_with_who_and_why(therapist):
    course = course_start(client=ClientFactory(), planned_dosing_sessions=2, now=NOW)
    course = course_advance(course=course, to="dosing", actor=therapist, now=NOW)
    held_session(course, kind=AppointmentKind.DOSING)
    course = course_advance(course=course, to="integration", now=NOW + timedelta(days=1))

    course = course_advance(
        course=course,
        to="completed",
        reason="She feels well and chose to stop after one.",
        actor=therapist,
        now=NOW + timedelta(days=9),
    )

    history = [(c.phase, c.at, c.actor, c.note) for c in CoursePhaseChange.objects.all()]
    assert history == [
        ("preparation", NOW, None, ""),
        ("dosing", NOW, therapist, ""),
        ("integration", NOW + timedelta(days=1), None, ""),
        (
            "completed",
            NOW + timedelta(days=9),
            therapist,
            "She feels well and chose to stop after one.",
        ),
    ]


# --- The phase follows the sessions ----------------------------------------------------------


def test_integration_waits_for_this_rounds_medicine_session():
    course = course_start(client=ClientFactory(), now=NOW)
    course = course_advance(course=course, to="dosing", now=NOW)

    with pytest.raises(ValidationError) as refused:
        course_advance(course=course, to="integration", now=NOW)
    held_session(course, kind=AppointmentKind.DOSING)
    course = course_advance(course=course, to="integration", now=NOW)
    course = course_advance(course=course, to="dosing", now=NOW)
    with pytest.raises(ValidationError):
        course_advance(course=course, to="integration", now=NOW)  # round two: one held so far

    assert refused.value.messages == [
        "Integration follows a medicine session: mark this round's medicine session held first."
    ]
    assert course.phase == "dosing"


def test_a_missed_or_booked_medicine_session_is_not_held():
    course = course_start(client=ClientFactory(), now=NOW)
    course = course_advance(course=course, to="dosing", now=NOW)
    held_session(course, kind=AppointmentKind.DOSING, status=Appointment.Status.NO_SHOW)
    held_session(course, kind=AppointmentKind.DOSING, status=Appointment.Status.BOOKED)

    with pytest.raises(ValidationError):
        course_advance(course=course, to="integration", now=NOW)


def test_dosing_again_needs_a_medicine_session_left_in_the_plan():
    course = course_start(client=ClientFactory(), planned_dosing_sessions=1, now=NOW)
    course = course_advance(course=course, to="dosing", now=NOW)
    held_session(course, kind=AppointmentKind.DOSING)
    course = course_advance(course=course, to="integration", now=NOW)

    with pytest.raises(ValidationError) as refused:
        course_advance(course=course, to="dosing", now=NOW)
    course.planned_dosing_sessions = 2
    course.save()
    course = course_advance(course=course, to="dosing", now=NOW)

    assert refused.value.messages == [
        "All 1 planned medicine sessions are held: complete the course, or plan another "
        "session first."
    ]
    assert course.phase == "dosing"


def test_completing_before_the_plan_needs_a_reason():
    course = course_start(client=ClientFactory(), now=NOW)
    course = course_advance(course=course, to="dosing", now=NOW)
    held_session(course, kind=AppointmentKind.DOSING)
    course = course_advance(course=course, to="integration", now=NOW)

    with pytest.raises(ValidationError) as refused:
        course_advance(course=course, to="completed", reason="   ", now=NOW)
    course = course_advance(course=course, to="completed", reason="Moving abroad.", now=NOW)

    assert refused.value.messages == [
        "1 of 3 planned medicine sessions are held: give a reason to complete the course "
        "before its plan."
    ]
    assert course.phase == "completed"


# --- Closing ---------------------------------------------------------------------------------


def book_future_sessions(course):
    preparation = session_book(
        course=course,
        kind=AppointmentKind.PREPARATION,
        start=datetime(2027, 1, 6, 17, 0, tzinfo=UTC),
        mode=MeetingMode.VIDEO,
        now=NOW,
    )
    dosing = session_book(
        course=course,
        kind=AppointmentKind.DOSING,
        start=datetime(2027, 1, 12, 17, 0, tzinfo=UTC),
        mode=MeetingMode.IN_PERSON,
        now=NOW,
    )
    return preparation, dosing


def test_withdrawal_cancels_the_sessions_to_come_and_stops_everything(weekly_hours, therapist):
    course = ready_course()
    past = held_session(course, start=NOW - timedelta(days=2))
    preparation, dosing = book_future_sessions(course)
    assert reminders_pending(dosing.appointment) != []
    assert ScreeningAssignment.objects.filter(course=course, status="open").count() == 3

    course_advance(
        course=course, to="withdrawn", closing_summary="Moved away.", actor=therapist, now=NOW
    )

    statuses = {
        s.pk: s.appointment.status
        for s in course.sessions.select_related("appointment").filter(
            pk__in=[past.pk, preparation.pk, dosing.pk]
        )
    }
    assert statuses == {
        past.pk: "completed",
        preparation.pk: "cancelled",
        dosing.pk: "cancelled",
    }
    assert reminders_pending(preparation.appointment) == []
    assert reminders_pending(dosing.appointment) == []
    assert set(
        ScreeningAssignment.objects.filter(course=course).values_list("status", flat=True)
    ) == {"withdrawn"}
    assert not OutboxMessage.objects.pending().filter(recipient=course.client.email).exists()
    changes = AuditEvent.objects.filter(object_type="kap_sessions.coursesession", action="change")
    assert {event.object_id for event in changes} == {str(preparation.pk), str(dosing.pk)}
    assert {event.actor_id for event in changes} == {therapist.pk}


def test_completion_stops_the_session_reminders_and_plans_the_follow_ups(weekly_hours, settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    course = ready_course(planned_dosing_sessions=1)
    course = course_advance(course=course, to="dosing", now=NOW)
    held_session(course, kind=AppointmentKind.DOSING)
    course = course_advance(course=course, to="integration", now=NOW)
    check_in = session_book(
        course=course,
        kind=AppointmentKind.CHECK_IN,
        start=datetime(2027, 1, 6, 17, 0, tzinfo=UTC),
        mode=MeetingMode.PHONE,
        now=NOW,
    )

    course = course_advance(course=course, to="completed", now=NOW)

    check_in.appointment.refresh_from_db()
    assert check_in.appointment.status == "booked"  # kept; only its reminders stop
    assert reminders_pending(check_in.appointment) == []
    follow_ups = ScreeningAssignment.objects.filter(
        course=course, occasion__in=["one_month", "three_months"]
    )
    assert sorted(set(follow_ups.values_list("occasion", "due_on"))) == [
        ("one_month", date(2027, 2, 3)),
        ("three_months", date(2027, 4, 4)),
    ]
