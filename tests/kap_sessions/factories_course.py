"""Factories and helpers for courses and their sessions (the course itself: tests/factories.py).

``ready_course()`` is a course whose every booking gate of a medicine session is
met (eligible with nothing against her, every required consent signed in its
current version, a clearance, a preparation session held, a driver named).
``held_session()`` puts a session that already took place on the calendar,
written directly (the services refuse the past); tests of the services book
through them.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import cast

import factory

from kap_sessions.models import (
    OPTIONAL_CONSENT_KINDS,
    ConsentDocument,
    Course,
    CourseSession,
    DosingRecord,
    MedicalClearance,
    PregnancyAttestation,
    PregnancyStatus,
)
from practice.models import Appointment, AppointmentKind, Client, MeetingMode
from tests.factories import ClientFactory, CourseFactory
from tests.kap_sessions.factories import ConsentSignatureFactory

# Sessions held with no time given are a day apart from 1 November 2026, 10:00 in
# Los Angeles: before the calendar tests' "now" (4 January 2027) and never overlapping.
LONG_AGO = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)
_next_day = itertools.count()

LENGTHS: dict[str, tuple[int, int, int]] = {
    AppointmentKind.PREPARATION: (50, 0, 10),
    AppointmentKind.DOSING: (210, 30, 30),
    AppointmentKind.INTEGRATION: (50, 0, 10),
    AppointmentKind.CHECK_IN: (20, 0, 10),
}


class MedicalClearanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalClearance

    course = factory.SubFactory(CourseFactory)
    prescriber = "Dr. Ana Whitcombe, MD"
    cleared_on = date(2026, 12, 20)
    note = "Cleared after reviewing her blood pressure log."


class PregnancyAttestationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PregnancyAttestation

    client = factory.SubFactory(ClientFactory)
    status = PregnancyStatus.NOT_PREGNANT
    source = PregnancyAttestation.Source.IN_PERSON


def sign_every_consent(client: Client) -> None:
    """Her signature on the current version of every document she must sign."""
    for document in ConsentDocument.objects.current():
        if document.kind not in OPTIONAL_CONSENT_KINDS:
            ConsentSignatureFactory(client=client, document=document)


def held_session(
    course: Course,
    *,
    kind: str = AppointmentKind.PREPARATION,
    start: datetime | None = None,
    mode: str = MeetingMode.IN_PERSON,
    dosing_number: int | None = None,
    status: str = Appointment.Status.COMPLETED,
) -> CourseSession:
    """A session of ``course`` held at ``start`` (or in ``status``), written directly."""
    if start is None:
        start = LONG_AGO + timedelta(days=next(_next_day) % 60)
    minutes, before, after = LENGTHS[kind]
    end = start + timedelta(minutes=minutes)
    appointment = Appointment.objects.create(
        kind=kind,
        status=status,
        start=start,
        end=end,
        occupied_start=start - timedelta(minutes=before),
        occupied_end=end + timedelta(minutes=after),
        client=course.client,
        mode=mode,
    )
    if kind == AppointmentKind.DOSING and dosing_number is None:
        dosing_number = (
            CourseSession.objects.filter(course=course, kind=AppointmentKind.DOSING).count() + 1
        )
    session = CourseSession.objects.create(
        course=course, appointment=appointment, kind=kind, dosing_number=dosing_number
    )
    if kind == AppointmentKind.DOSING:
        DosingRecord.objects.create(
            session=session, baseline_systolic=118, baseline_diastolic=76, started_at=start
        )
    return session


def ready_course(*, client: Client | None = None, **fields: object) -> Course:
    """A course in preparation whose every booking gate of a medicine session is met."""
    fields.setdefault("driver_name", "Sam Rivera (partner)")
    course = cast(Course, CourseFactory(client=client or ClientFactory(), **fields))
    sign_every_consent(course.client)
    MedicalClearanceFactory(course=course)
    held_session(course, kind=AppointmentKind.PREPARATION)
    return course
