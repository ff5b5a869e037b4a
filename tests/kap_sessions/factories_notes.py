"""Course sessions and their notes, for the notes, measures and charts tests.

A session here is a row on the calendar made straight by the factory (no
booking service, no gates): each new one starts a day after the previous,
so they never meet the calendar's overlap rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory

from kap_sessions.models import (
    CourseSession,
    PsychotherapyNote,
    ScreeningResponse,
    ScreeningStatus,
    SessionNote,
)
from practice.models import Appointment, AppointmentKind
from tests.factories import CourseFactory
from tests.kap_sessions.factories import ScreeningAssignmentFactory

FIRST_SESSION = datetime(2027, 3, 2, 17, 0, tzinfo=UTC)  # 9:00 in Los Angeles


class SessionAppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    kind = AppointmentKind.PREPARATION
    status = Appointment.Status.COMPLETED
    start = factory.Sequence(lambda n: FIRST_SESSION + timedelta(days=n))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=50))
    occupied_start = factory.LazyAttribute(lambda o: o.start)
    occupied_end = factory.LazyAttribute(lambda o: o.end + timedelta(minutes=10))
    mode = "in_person"


class CourseSessionFactory(factory.django.DjangoModelFactory):
    """A session of a course; ``kind="dosing"`` makes it medicine session ``dosing_number``."""

    class Meta:
        model = CourseSession

    course = factory.SubFactory(CourseFactory)
    kind = AppointmentKind.PREPARATION
    appointment = factory.SubFactory(
        SessionAppointmentFactory,
        kind=factory.SelfAttribute("..kind"),
        client=factory.SelfAttribute("..course.client"),
    )
    dosing_number = factory.LazyAttribute(lambda o: 1 if o.kind == AppointmentKind.DOSING else None)


class SessionNoteFactory(factory.django.DjangoModelFactory):
    """A draft progress note."""

    class Meta:
        model = SessionNote

    session = factory.SubFactory(CourseSessionFactory)
    presentation = "Tired, hopeful; slept four hours."
    interventions = "Set intentions for the first medicine session."
    response = "Engaged, tearful when speaking of her mother."
    risk = "No current risk."
    plan = "Medicine session next week."


class PsychotherapyNoteFactory(factory.django.DjangoModelFactory):
    """A draft psychotherapy note."""

    class Meta:
        model = PsychotherapyNote

    session = factory.SubFactory(CourseSessionFactory)
    text = "Transference: she sees me as the older sister who left."


def course_answer(*, course, instrument: str, occasion: str, total: int, completed_at: datetime):  # type: ignore[no-untyped-def]
    """A completed measure of ``course``: its assignment and her scored response."""
    assignment = ScreeningAssignmentFactory(
        client=course.client,
        course=course,
        instrument=instrument,
        occasion=occasion,
        status=ScreeningStatus.COMPLETED,
        due_on=completed_at.date(),
    )
    return ScreeningResponse.objects.create(
        assignment=assignment,
        client=course.client,
        instrument=instrument,
        version="test",
        total=total,
        band="test",
        completed_at=completed_at,
    )
