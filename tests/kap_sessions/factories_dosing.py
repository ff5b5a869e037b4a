"""A medicine (dosing) session on the calendar and its record, for the tests of the record.

``medicine_session()`` writes the appointment, the course session and the
record directly (the services refuse the past and check the booking gates,
which are not what these tests are about): booked for ``start``, 3.5 hours
long, with Amara's driver named, started or not.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from kap_sessions.models import Course, CourseSession, DosingRecord, VitalSign
from practice.models import Appointment, AppointmentKind, Client, MeetingMode
from tests.factories import ClientFactory, CourseFactory

DRIVER = "Sam Rivera (partner)"
DRIVER_PHONE = "(510) 555-0163"


def medicine_session(
    *,
    start: datetime,
    client: Client | None = None,
    course: Course | None = None,
    started: bool = False,
    started_at: datetime | None = None,
    dosing_number: int = 1,
) -> DosingRecord:
    """The record of a booked medicine session at ``start``; started at ``started_at`` if asked."""
    if course is None:
        course = CourseFactory.create(
            client=client or ClientFactory(first_name="Amara", last_name="Okafor"),
            phase=Course.Phase.DOSING,
            driver_name=DRIVER,
            driver_phone=DRIVER_PHONE,
        )
    end = start + timedelta(minutes=210)
    appointment = Appointment.objects.create(
        kind=AppointmentKind.DOSING,
        status=Appointment.Status.BOOKED,
        start=start,
        end=end,
        occupied_start=start - timedelta(minutes=30),
        occupied_end=end + timedelta(minutes=30),
        client=course.client,
        mode=MeetingMode.IN_PERSON,
    )
    session = CourseSession.objects.create(
        course=course,
        appointment=appointment,
        kind=AppointmentKind.DOSING,
        dosing_number=dosing_number,
    )
    record = DosingRecord(session=session)
    if started or started_at is not None:
        record.started_at = started_at or start
        record.present_from = record.started_at
        record.baseline_systolic = 124
        record.baseline_diastolic = 80
    record.save()
    return record


def vitals_row(record: DosingRecord, *, minutes: int = 15, **readings: int) -> VitalSign:
    """A row of vitals ``minutes`` after the start of ``record``, written directly."""
    assert record.started_at is not None  # noqa: S101
    values = {"systolic": 122, "diastolic": 78, "heart_rate": 74, "spo2": 98, **readings}
    return VitalSign.objects.create(
        record=record,
        entry_key=uuid.uuid4(),
        taken_at=record.started_at + timedelta(minutes=minutes),
        recorded_at=timezone.now(),
        **values,
    )
