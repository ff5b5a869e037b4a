"""A course's sessions on the shared calendar: book, move, cancel, start, complete, overdue.

"Now" is Monday 4 January 2027, 08:00 in Los Angeles; the practice keeps
Monday to Friday 9:00-17:00 (tests/support/calendar.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from kap_sessions.models import CourseSession, DosingRecord, ScreeningAssignment
from kap_sessions.services import (
    course_advance,
    integration_overdue,
    medical_clearance_record,
    pregnancy_attestation_record,
    session_book,
    session_cancel,
    session_complete,
    session_location_record,
    session_move,
    session_start,
)
from kap_sessions.services.sessions import IN_PERSON_ONLY, TIME_TAKEN
from practice.calendar.reminders import reminders_pending
from practice.calendar.slots import available_slots
from practice.models import Appointment, AppointmentKind, AuditEvent, ClientDocument, MeetingMode
from tests.factories import AppointmentFactory, CourseFactory
from tests.kap_sessions.factories_course import (
    PregnancyAttestationFactory,
    held_session,
    ready_course,
)
from tests.support.calendar import NOW

pytestmark = pytest.mark.django_db


def la(day: int, hour: int, minute: int = 0) -> datetime:
    """``hour``:``minute`` in Los Angeles on ``day`` January 2027 (UTC-8), as UTC."""
    return datetime(2027, 1, day, 8, tzinfo=UTC) + timedelta(hours=hour, minutes=minute)


def book(course, kind=AppointmentKind.PREPARATION, start=None, mode=MeetingMode.IN_PERSON, **kw):
    return session_book(
        course=course, kind=kind, start=start or la(5, 9), mode=mode, now=kw.pop("now", NOW), **kw
    )


@pytest.fixture
def course(weekly_hours):
    return ready_course()


# --- Booking ------------------------------------------------------------------------------


def test_a_video_preparation_session_is_an_appointment_with_its_link_and_reminders(
    course, therapist
):
    session = book(
        course,
        mode=MeetingMode.VIDEO,
        video_url="https://video.example/room-7",
        location_state="OR",
        actor=therapist,
    )

    appointment = session.appointment
    assert (appointment.kind, appointment.status, appointment.mode) == (
        "preparation",
        "booked",
        "video",
    )
    assert (appointment.start, appointment.end) == (la(5, 9), la(5, 9, 50))
    assert appointment.client == course.client
    assert appointment.video_url == "https://video.example/room-7"
    assert (session.location_state, session.created_by) == ("OR", therapist)
    assert [m.not_before for m in reminders_pending(appointment)] == [
        la(4, 9),
        la(5, 8),
    ]
    event = AuditEvent.objects.get(object_type="kap_sessions.coursesession")
    assert (event.action, event.actor_id, event.client_id) == (
        "create",
        therapist.pk,
        course.client.pk,
    )


def test_a_medicine_session_is_always_in_person(course):
    for mode in (MeetingMode.VIDEO, MeetingMode.PHONE):
        with pytest.raises(ValidationError) as refused:
            book(course, kind=AppointmentKind.DOSING, mode=mode)
        assert refused.value.messages == [IN_PERSON_ONLY]

    assert list(Appointment.objects.filter(kind="dosing")) == []


def test_a_medicine_session_gets_its_number_its_record_and_its_questionnaires(course):
    session = book(course, kind=AppointmentKind.DOSING)

    assert session.dosing_number == 1
    assert (session.appointment.start, session.appointment.end) == (la(5, 9), la(5, 12, 30))
    assert DosingRecord.objects.get(session=session).started_at is None
    planned = ScreeningAssignment.objects.filter(course=course, occasion="before_dosing_1")
    assert sorted(planned.values_list("instrument", flat=True)) == ["epds", "gad-7", "phq-9"]


def test_medicine_sessions_are_numbered_in_the_plan_and_not_past_it(course):
    course.planned_dosing_sessions = 2
    course.save()
    first = book(course, kind=AppointmentKind.DOSING, start=la(5, 9))
    second = book(course, kind=AppointmentKind.DOSING, start=la(12, 9))

    with pytest.raises(ValidationError) as refused:
        book(course, kind=AppointmentKind.DOSING, start=la(19, 9))
    session_cancel(session=second, now=NOW)
    again = book(course, kind=AppointmentKind.DOSING, start=la(19, 9))

    assert (first.dosing_number, second.dosing_number, again.dosing_number) == (1, 2, 2)
    assert refused.value.messages == [
        "The course plans 2 medicine sessions and every one is booked or held: change the "
        "plan to add another."
    ]


def test_a_taken_time_is_refused_in_plain_words(course):
    AppointmentFactory(start=la(5, 9, 30))  # a consultation

    with pytest.raises(ValidationError) as refused:
        book(course, kind=AppointmentKind.DOSING, start=la(5, 9))

    assert refused.value.messages == [TIME_TAKEN]
    assert CourseSession.objects.filter(course=course, kind="dosing").count() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": NOW}, "Choose a time still to come."),
        ({"video_url": "https://video.example/x"}, "A video link is only for a video session."),
        ({"location_state": "CA"}, "Her location is recorded only for a video session."),
        ({"mode": "carrier pigeon"}, "Choose how you meet."),
        ({"kind": "consultation"}, "Choose the kind of session."),
    ],
)
def test_a_booking_that_makes_no_sense_is_refused(course, kwargs, message):
    with pytest.raises(ValidationError) as refused:
        book(course, **kwargs)

    assert refused.value.messages == [message]


def test_a_closed_course_books_nothing(weekly_hours):
    course = CourseFactory()
    course_advance(course=course, to="withdrawn", now=NOW - timedelta(days=1))

    with pytest.raises(ValidationError) as refused:
        book(course)

    assert refused.value.messages == ["This course is closed: its sessions can no longer change."]


def test_the_free_consultation_slots_disappear_around_a_course_session(course):
    tuesday = date(2027, 1, 5)
    before = available_slots(first_day=tuesday, last_day=tuesday, now=NOW)

    book(course, kind=AppointmentKind.DOSING, start=la(5, 9, 30))
    after = available_slots(first_day=tuesday, last_day=tuesday, now=NOW)

    # Occupied 9:00 (30 minutes before) to 13:30 (30 minutes after the 210).
    assert la(5, 9) in before
    assert [slot for slot in before if slot not in after] == [
        la(5, 9),
        la(5, 9, 30),
        la(5, 10),
        la(5, 10, 30),
        la(5, 11),
        la(5, 11, 30),
        la(5, 12),
        la(5, 12, 30),
        la(5, 13),
    ]
    assert after[0] == la(5, 13, 30)


# --- Moving and cancelling ------------------------------------------------------------------


def test_a_move_puts_the_session_on_a_new_appointment_with_fresh_reminders(course, therapist):
    session = book(course, kind=AppointmentKind.DOSING)
    old = session.appointment

    moved = session_move(session=session, start=la(7, 10), actor=therapist, now=NOW)

    old.refresh_from_db()
    assert (old.status, old.rescheduled_to) == ("cancelled", moved.appointment)
    assert (moved.pk, moved.dosing_number, moved.appointment.start) == (session.pk, 1, la(7, 10))
    assert reminders_pending(old) == []
    assert reminders_pending(moved.appointment) != []
    assert DosingRecord.objects.get(session=moved).pk is not None
    assert AuditEvent.objects.filter(action="change", object_id=str(session.pk)).count() == 1


def test_a_move_outside_the_offered_slots_is_allowed_but_not_onto_another_appointment(course):
    session = book(course)
    AppointmentFactory(start=la(6, 9))

    with pytest.raises(ValidationError) as refused:
        session_move(session=session, start=la(6, 9), now=NOW)
    moved = session_move(session=session, start=la(9, 18), now=NOW)  # a Saturday evening

    assert refused.value.messages == [TIME_TAKEN]
    assert moved.appointment.start == la(9, 18)


def test_a_move_may_overlap_the_sessions_own_old_time(course):
    session = book(course, kind=AppointmentKind.DOSING, start=la(5, 9))

    moved = session_move(session=session, start=la(5, 10), now=NOW)

    assert moved.appointment.start == la(5, 10)


def test_a_cancel_frees_the_time_and_voids_the_reminders(course, therapist):
    session = book(course)

    cancelled = session_cancel(session=session, actor=therapist, now=NOW)

    assert cancelled.appointment.status == "cancelled"
    assert reminders_pending(cancelled.appointment) == []
    assert book(course, start=la(5, 9)).appointment.status == "booked"
    with pytest.raises(ValidationError):
        session_cancel(session=session, now=NOW)


def test_a_started_medicine_session_neither_moves_nor_is_cancelled(course):
    session = book(course, kind=AppointmentKind.DOSING)
    PregnancyAttestationFactory(client=course.client, attested_at=la(5, 8))
    session_start(session=session, baseline_systolic=120, baseline_diastolic=80, now=la(5, 8, 45))

    with pytest.raises(ValidationError) as not_moved:
        session_move(session=session, start=la(7, 9), now=la(5, 8, 50))
    with pytest.raises(ValidationError) as not_cancelled:
        session_cancel(session=session, now=la(5, 8, 50))

    assert not_moved.value.messages == ["This session has started: it can no longer move."]
    assert not_cancelled.value.messages == ["This session has started: complete it instead."]


# --- Starting ---------------------------------------------------------------------------------


def test_a_session_is_started_on_its_day_only(course):
    session = book(course, kind=AppointmentKind.DOSING)
    PregnancyAttestationFactory(client=course.client, attested_at=NOW)

    with pytest.raises(ValidationError) as refused:
        session_start(session=session, baseline_systolic=120, baseline_diastolic=80, now=NOW)

    assert refused.value.messages == [
        "This session is booked for Tue, Jan 5, 9:00 AM: start it on its day, or reschedule it."
    ]


def test_a_second_start_changes_nothing(course, therapist):
    session = book(course, kind=AppointmentKind.DOSING)
    PregnancyAttestationFactory(client=course.client, attested_at=la(5, 8))
    first = session_start(
        session=session, baseline_systolic=120, baseline_diastolic=80, now=la(5, 8, 45)
    )

    second = session_start(
        session=session, baseline_systolic=150, baseline_diastolic=95, now=la(5, 8, 50)
    )

    assert (second.pk, second.baseline_systolic, second.started_at) == (first.pk, 120, la(5, 8, 45))


def test_only_a_medicine_session_is_started(course):
    with pytest.raises(ValidationError):
        session_start(
            session=book(course), baseline_systolic=120, baseline_diastolic=80, now=la(5, 8)
        )


# --- Completing -----------------------------------------------------------------------------


def discharged(session, at):
    DosingRecord.objects.filter(session=session).update(
        alert_and_oriented=True, steady_on_feet=True, driver_present=True, discharged_at=at
    )


@pytest.fixture
def started(course):
    session = book(course, kind=AppointmentKind.DOSING)
    PregnancyAttestationFactory(client=course.client, attested_at=la(5, 8))
    session_start(session=session, baseline_systolic=120, baseline_diastolic=80, now=la(5, 8, 45))
    return session


def test_completing_a_medicine_session_books_the_check_in_and_proposes_integration(
    started, therapist
):
    discharged(started, la(5, 12, 45))

    done = session_complete(session=started, actor=therapist, now=la(5, 12, 50))

    assert done.session.appointment.status == "completed"
    check_in = done.check_in
    assert check_in is not None
    assert (check_in.kind, check_in.course, check_in.created_by) == (
        "check_in",
        started.course,
        therapist,
    )
    appointment = check_in.appointment
    assert (appointment.start, appointment.end, appointment.mode) == (
        la(6, 9),
        la(6, 9, 20),
        "phone",
    )
    assert reminders_pending(appointment) != []
    # From the next day, after the check-in (9:00-9:20 and its 10 minutes).
    assert done.integration_proposal == la(6, 9, 30)


def test_the_check_in_takes_the_first_free_time_that_day_when_the_same_time_is_taken(started):
    discharged(started, la(5, 12, 45))
    AppointmentFactory(start=la(6, 8, 30), end=la(6, 11), occupied_end=la(6, 11))

    done = session_complete(session=started, now=la(5, 12, 50))

    assert done.check_in is not None
    assert done.check_in.appointment.start == la(6, 11)


def test_no_check_in_is_booked_when_the_next_day_is_full(started):
    discharged(started, la(5, 12, 45))
    AppointmentFactory(start=la(6, 8), end=la(6, 18), occupied_end=la(6, 18))

    done = session_complete(session=started, now=la(5, 12, 50))

    assert done.check_in is None
    assert done.integration_proposal == la(7, 9)


def test_no_integration_is_proposed_past_the_window(started):
    discharged(started, la(5, 12, 45))
    AppointmentFactory(start=la(6, 8), end=la(8, 17), occupied_end=la(8, 17))

    done = session_complete(session=started, now=la(5, 12, 50))

    assert done.integration_proposal is None


def test_a_medicine_session_is_held_only_once_started_and_discharged(course):
    session = book(course, kind=AppointmentKind.DOSING)
    with pytest.raises(ValidationError) as not_started:
        session_complete(session=session, now=la(5, 12, 50))
    PregnancyAttestationFactory(client=course.client, attested_at=la(5, 8))
    session_start(session=session, baseline_systolic=120, baseline_diastolic=80, now=la(5, 8, 45))
    with pytest.raises(ValidationError) as not_discharged:
        session_complete(session=session, now=la(5, 12, 50))

    assert not_started.value.messages == [
        "Start this session (her attestation and blood pressure) before marking it held."
    ]
    assert not_discharged.value.messages == [
        "A medicine session is marked held by her discharge: tick the checklist and give the "
        "time on its record."
    ]
    assert CourseSession.objects.filter(kind="check_in").count() == 0


def test_a_session_is_not_held_before_its_time(course):
    session = book(course)

    with pytest.raises(ValidationError):
        session_complete(session=session, now=la(5, 8))

    done = session_complete(session=session, now=la(5, 10))
    assert (done.session.appointment.status, done.check_in, done.integration_proposal) == (
        "completed",
        None,
        None,
    )


# --- Integration overdue ----------------------------------------------------------------------


def test_a_medicine_session_with_no_integration_in_the_window_is_overdue(course):
    dosing = held_session(course, kind=AppointmentKind.DOSING, start=la(5, 9))
    assert list(integration_overdue(now=la(5, 13))) == [dosing]

    held_session(
        course,
        kind=AppointmentKind.INTEGRATION,
        start=la(8, 14),  # past 72 hours after 12:30 on the 5th
        status=Appointment.Status.BOOKED,
    )
    assert list(integration_overdue(now=la(5, 13))) == [dosing]

    held_session(
        course, kind=AppointmentKind.INTEGRATION, start=la(7, 10), status=Appointment.Status.BOOKED
    )
    assert list(integration_overdue(now=la(5, 13))) == []


def test_a_late_integration_held_clears_the_flag(course):
    held_session(course, kind=AppointmentKind.DOSING, start=la(5, 9))
    held_session(course, kind=AppointmentKind.INTEGRATION, start=la(11, 10))

    assert list(integration_overdue(now=la(12, 9))) == []


def test_a_cancelled_integration_does_not_count_and_a_closed_course_is_not_flagged(course):
    dosing = held_session(course, kind=AppointmentKind.DOSING, start=la(5, 9))
    held_session(
        course,
        kind=AppointmentKind.INTEGRATION,
        start=la(6, 10),
        status=Appointment.Status.CANCELLED,
    )
    assert list(integration_overdue(now=la(6, 12))) == [dosing]

    course_advance(course=course, to="withdrawn", now=la(6, 12))
    assert list(integration_overdue(now=la(6, 12))) == []


# --- What the gates read --------------------------------------------------------------------


def test_a_pregnancy_attestation_is_recorded_by_staff_and_audited(course, therapist):
    attestation = pregnancy_attestation_record(
        client=course.client, status="not_pregnant", actor=therapist, now=NOW
    )

    assert (attestation.source, attestation.attested_at, attestation.recorded_by) == (
        "in_person",
        NOW,
        therapist,
    )
    assert AuditEvent.objects.filter(object_type="kap_sessions.pregnancyattestation").count() == 1
    with pytest.raises(ValidationError):
        pregnancy_attestation_record(
            client=course.client,
            status="not_pregnant",
            attested_at=NOW + timedelta(hours=1),
            now=NOW,
        )


def test_a_clearance_keeps_its_letter_private(course, therapist, settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = str(tmp_path)
    pdf = b"%PDF-1.7\n% clearance letter\n"

    clearance = medical_clearance_record(
        course=course,
        prescriber=" Dr. Ana Whitcombe, MD ",
        cleared_on=date(2027, 1, 2),
        note="No concerns.",
        letter_content=pdf,
        letter_content_type="application/pdf",
        actor=therapist,
        now=NOW,
    )

    assert clearance.prescriber == "Dr. Ana Whitcombe, MD"
    assert clearance.letter is not None
    assert (clearance.letter.kind, clearance.letter.visible_to_client) == ("upload", False)
    assert ClientDocument.objects.filter(client=course.client).count() == 1
    with pytest.raises(ValidationError):
        medical_clearance_record(course=course, prescriber="", cleared_on=date(2027, 1, 2), now=NOW)
    with pytest.raises(ValidationError):
        medical_clearance_record(
            course=course, prescriber="Dr. A", cleared_on=date(2027, 1, 5), now=NOW
        )


def test_her_location_is_recorded_for_a_video_session_only(course):
    video = book(course, mode=MeetingMode.VIDEO)
    in_person = book(course, start=la(6, 9))

    assert session_location_record(session=video, location_state="NV").location_state == "NV"
    with pytest.raises(ValidationError):
        session_location_record(session=in_person, location_state="NV")
