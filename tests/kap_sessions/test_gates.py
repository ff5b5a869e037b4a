"""The gates of a medicine session, each both ways, through the services.

"Now" is Monday 4 January 2027, 08:00 in Los Angeles (tests/support/calendar.py);
a medicine session is booked for Tuesday at 9:00 and started then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kap_sessions.models import (
    ContraindicationOutcome,
    CourseSession,
    CourseSettings,
    DosingRecord,
    PregnancyStatus,
)
from kap_sessions.services import (
    GateClosed,
    dosing_schedule_gates,
    dosing_schedule_gates_for,
    session_book,
    session_start,
)
from practice.models import Appointment, AppointmentKind, MeetingMode
from tests.kap_sessions.factories import (
    ClientContraindicationFactory,
    ConsentDocumentFactory,
    EligibilityOverrideFactory,
    SafetyFlagFactory,
)
from tests.kap_sessions.factories_course import (
    PregnancyAttestationFactory,
    held_session,
    ready_course,
)
from tests.support.calendar import NOW

pytestmark = pytest.mark.django_db

TUESDAY_9 = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
ON_THE_DAY = TUESDAY_9 - timedelta(minutes=20)


def book_dosing(course, **kwargs):
    return session_book(
        course=course,
        kind=AppointmentKind.DOSING,
        start=kwargs.pop("start", TUESDAY_9),
        mode=MeetingMode.IN_PERSON,
        now=NOW,
        **kwargs,
    )


def refused_keys(course, **kwargs) -> list[str]:
    with pytest.raises(GateClosed) as refused:
        book_dosing(course, **kwargs)
    assert CourseSession.objects.filter(course=course, kind="dosing").count() == 0
    assert refused.value.messages == [gate.detail for gate in refused.value.gates]
    return [gate.key for gate in refused.value.gates]


# --- To book: each gate both ways ---------------------------------------------------------


def test_a_ready_course_meets_every_booking_gate_in_plain_words(practice_profile):
    course = ready_course()

    gates = dosing_schedule_gates(course=course, now=NOW)

    assert [(gate.key, gate.met) for gate in gates] == [
        ("eligible", True),
        ("consents", True),
        ("clearance", True),
        ("preparation", True),
        ("driver", True),
    ]
    assert [gate.label for gate in gates] == [
        "Eligible for the course",
        "Consent documents signed in their current versions",
        "Medical clearance from the prescriber",
        "At least one preparation session held",
        "A driver named to take her home",
    ]
    assert gates[2].detail == "Cleared by Dr. Ana Whitcombe, MD on Sun, Dec 20, 2026."
    assert gates[4].detail == "Sam Rivera (partner) drives her home."
    session = book_dosing(course)
    assert (session.kind, session.dosing_number, session.gate_override_reason) == ("dosing", 1, "")


def test_not_eligible_closes_the_gate(practice_profile):
    course = ready_course()
    ClientContraindicationFactory(
        client=course.client,
        contraindication__plain_words="Uncontrolled high blood pressure",
        contraindication__outcome=ContraindicationOutcome.NOT_ELIGIBLE,
    )

    assert refused_keys(course) == ["eligible"]
    gate = dosing_schedule_gates(course=course, now=NOW)[0]
    assert gate.detail == (
        "Not eligible: Uncontrolled high blood pressure. Her intake is not sent yet."
    )


def test_an_open_safety_flag_closes_the_eligibility_gate(practice_profile):
    course = ready_course()
    SafetyFlagFactory(client=course.client)

    assert refused_keys(course) == ["eligible"]


def test_eligibility_decided_by_the_therapist_opens_the_gate(practice_profile):
    course = ready_course()
    ClientContraindicationFactory(client=course.client)  # needs medical review
    EligibilityOverrideFactory(client=course.client)

    gate = dosing_schedule_gates(course=course, now=NOW)[0]

    assert gate.met is True
    assert gate.detail.startswith("Eligible by your decision of ")
    assert book_dosing(course).gate_override_reason == ""


def test_the_eligibility_gate_alone_may_be_overridden_with_a_reason_the_session_keeps(
    practice_profile,
):
    course = ready_course()
    ClientContraindicationFactory(client=course.client)

    session = book_dosing(course, override_reason="  Her cardiologist cleared her by phone.  ")

    assert session.gate_override_reason == "Her cardiologist cleared her by phone."


def test_a_reason_does_not_override_any_other_gate(practice_profile):
    course = ready_course(driver_name="")
    ClientContraindicationFactory(client=course.client)

    assert refused_keys(course, override_reason="Cleared by phone.") == ["driver"]


def test_a_reason_given_when_nothing_is_overridden_is_not_kept(practice_profile):
    session = book_dosing(ready_course(), override_reason="Just in case.")

    assert session.gate_override_reason == ""


def test_a_consent_not_signed_in_its_current_version_closes_the_gate(practice_profile):
    course = ready_course()
    ConsentDocumentFactory(title="Informed consent, 2027 edition")

    assert refused_keys(course) == ["consents"]
    gate = dosing_schedule_gates(course=course, now=NOW)[1]
    assert gate.detail == "Still to sign: Informed consent, 2027 edition."


def test_no_clearance_closes_the_gate(practice_profile):
    course = ready_course()
    course.clearances.all().delete()

    assert refused_keys(course) == ["clearance"]
    assert dosing_schedule_gates(course=course, now=NOW)[2].detail == "No clearance recorded yet."


def test_a_preparation_session_booked_but_not_held_does_not_open_the_gate(practice_profile):
    course = ready_course()
    CourseSession.objects.filter(course=course).update(kind="integration")
    held_session(course, status=Appointment.Status.BOOKED)
    held_session(course, status=Appointment.Status.CANCELLED)

    assert refused_keys(course) == ["preparation"]
    held_session(course)
    assert book_dosing(course).dosing_number == 1


def test_no_driver_closes_the_gate(practice_profile):
    course = ready_course(driver_name="  ")

    assert refused_keys(course) == ["driver"]
    assert dosing_schedule_gates(course=course, now=NOW)[4].detail == "No driver named yet."


def test_every_missing_gate_is_named_at_once(practice_profile):
    course = ready_course(driver_name="")
    course.clearances.all().delete()

    assert refused_keys(course) == ["clearance", "driver"]


def test_other_sessions_are_booked_without_the_gates(practice_profile):
    course = ready_course(driver_name="")

    session = session_book(
        course=course,
        kind=AppointmentKind.PREPARATION,
        start=TUESDAY_9,
        mode=MeetingMode.VIDEO,
        now=NOW,
    )

    assert session.kind == "preparation"


# --- Many courses at once -------------------------------------------------------------------


def test_the_gates_of_many_courses_cost_the_same_queries_as_one(
    practice_profile, django_assert_num_queries
):
    courses = [ready_course() for _ in range(5)]
    ClientContraindicationFactory(client=courses[1].client)
    courses[2].clearances.all().delete()
    one = dosing_schedule_gates_for(courses=courses[:1], now=NOW)  # warms the profile cache

    with django_assert_num_queries(10) as few:
        one = dosing_schedule_gates_for(courses=courses[:1], now=NOW)
    with django_assert_num_queries(len(few.captured_queries)):
        many = dosing_schedule_gates_for(courses=courses, now=NOW)

    assert one[courses[0].pk] == many[courses[0].pk]
    assert [[gate.key for gate in gates if not gate.met] for gates in many.values()] == [
        [],
        ["eligible"],
        ["clearance"],
        [],
        [],
    ]


# --- To start: each gate both ways ----------------------------------------------------------


@pytest.fixture
def booked(practice_profile):
    return book_dosing(ready_course())


def start(session, systolic=118, diastolic=76, now=ON_THE_DAY):
    return session_start(
        session=session, baseline_systolic=systolic, baseline_diastolic=diastolic, now=now
    )


def test_a_recent_attestation_and_a_pressure_under_the_limit_start_the_session(booked):
    PregnancyAttestationFactory(client=booked.course.client, attested_at=ON_THE_DAY)

    record = start(booked, 139, 89)

    assert (record.baseline_systolic, record.baseline_diastolic) == (139, 89)
    assert record.started_at == record.present_from == ON_THE_DAY


def test_no_attestation_refuses_the_start_and_writes_nothing(booked):
    with pytest.raises(GateClosed) as refused:
        start(booked)

    assert [gate.key for gate in refused.value.gates] == ["attestation"]
    assert refused.value.messages == [
        "No pregnancy-status attestation in the last 7 days: ask her and record it."
    ]
    record = DosingRecord.objects.get(session=booked)
    assert (record.started_at, record.baseline_systolic) == (None, None)


def test_an_attestation_older_than_the_setting_does_not_count(booked):
    client = booked.course.client
    PregnancyAttestationFactory(client=client, attested_at=ON_THE_DAY - timedelta(days=7))

    with pytest.raises(GateClosed):
        start(booked)
    PregnancyAttestationFactory(
        client=client, attested_at=ON_THE_DAY - timedelta(days=7) + timedelta(minutes=1)
    )
    assert start(booked).is_started


@pytest.mark.parametrize("status", [PregnancyStatus.PREGNANT, PregnancyStatus.UNSURE])
def test_an_attestation_that_is_not_not_pregnant_refuses_the_start(booked, status):
    client = booked.course.client
    PregnancyAttestationFactory(client=client, attested_at=ON_THE_DAY - timedelta(days=1))
    PregnancyAttestationFactory(client=client, attested_at=ON_THE_DAY, status=status)

    with pytest.raises(GateClosed) as refused:
        start(booked)

    assert [gate.key for gate in refused.value.gates] == ["attestation"]
    assert "says" in refused.value.messages[0]


@pytest.mark.parametrize(
    ("systolic", "diastolic"), [(140, 80), (120, 90), (150, 95), (None, 80), (120, None)]
)
def test_a_pressure_not_under_the_limit_refuses_the_start(booked, systolic, diastolic):
    PregnancyAttestationFactory(client=booked.course.client, attested_at=ON_THE_DAY)

    with pytest.raises(GateClosed) as refused:
        start(booked, systolic, diastolic)

    assert [gate.key for gate in refused.value.gates] == ["blood_pressure"]
    assert DosingRecord.objects.get(session=booked).started_at is None


def test_the_limits_are_the_practices_settings(booked):
    CourseSettings.objects.create(baseline_systolic_limit=130, baseline_diastolic_limit=85)
    PregnancyAttestationFactory(client=booked.course.client, attested_at=ON_THE_DAY)

    with pytest.raises(GateClosed) as refused:
        start(booked, 132, 80)

    assert refused.value.messages == ["132/80 is not under the limit of 130/85."]
    assert start(booked, 129, 84).is_started


def test_both_start_gates_missing_are_named_together(booked):
    with pytest.raises(GateClosed) as refused:
        start(booked, 160, 100)

    assert [gate.key for gate in refused.value.gates] == ["attestation", "blood_pressure"]
