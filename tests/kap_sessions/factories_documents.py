"""Courses with history, medicine session records and money paperwork, for the documents tests.

Rows are written directly (no booking service, no gates): the documents read
what is on file, however it got there. Sessions start a day apart from
``FIRST_DAY`` so they never meet the calendar's overlap rule.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory

from kap_sessions.models import (
    AdverseEvent,
    Course,
    CoursePhase,
    CoursePhaseChange,
    CourseSession,
    DosingRecord,
    EstimateLine,
    GoodFaithEstimate,
    ScreeningResponse,
    ScreeningStatus,
    Superbill,
    SuperbillLine,
    VitalSign,
)
from practice.models import Appointment, AppointmentKind, Client, MeetingMode
from tests.factories import ClientFactory
from tests.kap_sessions.factories import ScreeningAssignmentFactory

# Tuesday, March 2, 2027, 9:00 AM in Los Angeles (the demo practice's zone).
FIRST_DAY = datetime(2027, 3, 2, 17, 0, tzinfo=UTC)
MINUTES = {
    AppointmentKind.PREPARATION: 50,
    AppointmentKind.DOSING: 210,
    AppointmentKind.INTEGRATION: 50,
    AppointmentKind.CHECK_IN: 20,
}


def session_on(
    course: Course,
    kind: str,
    start: datetime,
    *,
    status: str = Appointment.Status.COMPLETED,
    dosing_number: int | None = None,
    mode: str = MeetingMode.IN_PERSON,
) -> CourseSession:
    """A session of ``course`` at ``start``, held (completed) unless told otherwise."""
    end = start + timedelta(minutes=MINUTES[AppointmentKind(kind)])
    appointment = Appointment.objects.create(
        kind=kind,
        status=status,
        start=start,
        end=end,
        occupied_start=start,
        occupied_end=end + timedelta(minutes=10),
        client=course.client,
        mode=mode,
    )
    if kind == AppointmentKind.DOSING and dosing_number is None:
        dosing_number = 1
    return CourseSession.objects.create(
        course=course, appointment=appointment, kind=kind, dosing_number=dosing_number
    )


def completed_course(
    *,
    client: Client | None = None,
    closing_summary: str = "",
    sessions: int = 1,
    first_day: datetime = FIRST_DAY,
) -> Course:
    """A course run from March 1 to April 14, 2027, each phase change on file.

    ``sessions`` rounds of (preparation, medicine session, integration) were
    held, one a day from ``first_day`` (March 2).
    """
    course = Course.objects.create(
        client=client or ClientFactory(first_name="Amara", last_name="Okafor"),
        phase=CoursePhase.COMPLETED,
        started_on=date(2027, 3, 1),
        closed_on=date(2027, 4, 14),
        closing_summary=closing_summary,
    )
    for phase, day in [
        (CoursePhase.PREPARATION, datetime(2027, 3, 1, 18, 0, tzinfo=UTC)),
        (CoursePhase.DOSING, datetime(2027, 3, 10, 18, 0, tzinfo=UTC)),
        (CoursePhase.INTEGRATION, datetime(2027, 3, 11, 18, 0, tzinfo=UTC)),
        (CoursePhase.COMPLETED, datetime(2027, 4, 14, 18, 0, tzinfo=UTC)),
    ]:
        CoursePhaseChange.objects.create(course=course, phase=phase, at=day)
    day = first_day
    for number in range(1, sessions + 1):
        session_on(course, AppointmentKind.PREPARATION, day)
        session_on(course, AppointmentKind.DOSING, day + timedelta(days=1), dosing_number=number)
        session_on(course, AppointmentKind.INTEGRATION, day + timedelta(days=2))
        day += timedelta(days=3)
    return course


def measure(course: Course, *, instrument: str, occasion: str, total: int, at: datetime) -> None:
    """A completed questionnaire of ``course`` (its assignment and her scored response)."""
    assignment = ScreeningAssignmentFactory(
        client=course.client,
        course=course,
        instrument=instrument,
        occasion=occasion,
        status=ScreeningStatus.COMPLETED,
        due_on=at.date(),
    )
    ScreeningResponse.objects.create(
        assignment=assignment,
        client=course.client,
        instrument=instrument,
        version="test",
        total=total,
        band="test",
        completed_at=at,
    )


def dosing_record(*, course: Course | None = None, start: datetime = FIRST_DAY) -> DosingRecord:
    """A held medicine session's record: given, watched, discharged.

    Started 9:05 AM, given 9:10 AM, the therapist present 9:00 AM to 12:40 PM,
    discharged 12:35 PM (Los Angeles).
    """
    if course is None:
        course = Course.objects.create(
            client=ClientFactory(
                first_name="Amara", last_name="Okafor", date_of_birth=date(1991, 6, 14)
            ),
            phase=CoursePhase.INTEGRATION,
        )
    session = session_on(course, AppointmentKind.DOSING, start)
    return DosingRecord.objects.create(
        session=session,
        baseline_systolic=124,
        baseline_diastolic=80,
        started_at=start + timedelta(minutes=5),
        medication="Ketamine",
        route=DosingRecord.Route.SUBLINGUAL,
        dose_mg=Decimal("56.0"),
        lot_number="KX-2291",
        given_at=start + timedelta(minutes=10),
        prescriber="Dr. Imani Reyes, MD",
        present_from=start,
        present_until=start + timedelta(minutes=220),
        observations="Quiet, eyes closed; spoke of her daughter at 10:30.",
        alert_and_oriented=True,
        steady_on_feet=True,
        driver_present=True,
        discharged_at=start + timedelta(minutes=215),
    )


def vitals(record: DosingRecord, minutes: int, **readings: int | None) -> VitalSign:
    """A row of vitals ``minutes`` after the record's start."""
    assert record.started_at is not None  # noqa: S101
    values: dict[str, int | None] = {
        "systolic": 122,
        "diastolic": 78,
        "heart_rate": 74,
        "spo2": 98,
        **readings,
    }
    return VitalSign.objects.create(
        record=record,
        entry_key=uuid.uuid4(),
        taken_at=record.started_at + timedelta(minutes=minutes),
        **values,
    )


def adverse_event(record: DosingRecord, minutes: int, **fields: object) -> AdverseEvent:
    assert record.started_at is not None  # noqa: S101
    values: dict[str, object] = {
        "severity": AdverseEvent.Severity.MILD,
        "description": "Nausea",
        "action_taken": "Ginger tea; settled in ten minutes.",
        **fields,
    }
    return AdverseEvent.objects.create(
        record=record, at=record.started_at + timedelta(minutes=minutes), **values
    )


class SuperbillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Superbill

    client = factory.SubFactory(ClientFactory)
    issued_on = date(2027, 4, 15)
    diagnosis_codes = "F53.0, F41.1"


class SuperbillLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuperbillLine

    superbill = factory.SubFactory(SuperbillFactory)
    service_date = date(2027, 3, 2)
    code = "90837"
    description = "Psychotherapy, 53 minutes or more"
    units = 1
    fee = Decimal("200.00")


class GoodFaithEstimateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoodFaithEstimate

    client = factory.SubFactory(ClientFactory)
    issued_on = date(2027, 2, 20)
    services_from = date(2027, 3, 1)
    services_until = date(2027, 5, 31)


class EstimateLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EstimateLine

    estimate = factory.SubFactory(GoodFaithEstimateFactory)
    description = "Preparation session, 50 min"
    code = "90837"
    quantity = 2
    unit_fee = Decimal("200.00")
