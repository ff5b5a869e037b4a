"""A course with sessions on the calendar, for the course's email tests.

Sessions are booked the way the course's booking service books them
(``kap_sessions.services.sessions``: on the shared calendar,
``offered_only=False``, with reminders), straight through
``appointment_book``, so these tests need none of the medicine session's
gates behind them; they are moved through the course's own
``session_move``. The client is Beth Lindqvist of the demo (a course in its
medicine phase), with a portal login and a phone number.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from kap_sessions.models import Course, CourseSession, ScreeningAssignment
from practice.calendar.services import appointment_book
from practice.models import AppointmentKind, Client, MeetingMode
from tests.factories import ClientFactory, CourseFactory, UserFactory
from tests.kap_sessions.factories import ScreeningAssignmentFactory

BETH_EMAIL = "beth.lindqvist@example.com"
BETH_PHONE = "(510) 555-0187"


def beth(**fields: object) -> Client:
    """Beth Lindqvist, with a portal login, in the practice's zone unless told."""
    user = UserFactory(email=BETH_EMAIL, first_name="Beth", last_name="Lindqvist")
    defaults: dict[str, object] = {
        "first_name": "Beth",
        "last_name": "Lindqvist",
        "email": BETH_EMAIL,
        "phone": BETH_PHONE,
        "user": user,
    }
    return ClientFactory(**{**defaults, **fields})  # type: ignore[return-value]


def client_named(first_name: str, last_name: str) -> Client:
    """A client with no portal login."""
    return ClientFactory(first_name=first_name, last_name=last_name)  # type: ignore[return-value]


def course_of(client: Client, **fields: object) -> Course:
    return CourseFactory(client=client, **fields)  # type: ignore[return-value]


def book_session(
    *,
    course: Course,
    kind: str,
    start: datetime,
    mode: str = MeetingMode.IN_PERSON,
    video_url: str = "",
) -> CourseSession:
    """One session of ``course`` at ``start``, with its reminders planned."""
    with transaction.atomic():
        appointment = appointment_book(
            kind=kind,
            start=start,
            client_id=course.client_id,
            mode=mode,
            offered_only=False,
            reminders=True,
        )
        if video_url:
            appointment.video_url = video_url
            appointment.save(update_fields=["video_url"])
        dosing_number = None
        if kind == AppointmentKind.DOSING:
            dosing_number = CourseSession.objects.filter(course=course).dosing().count() + 1
        return CourseSession.objects.create(  # type: ignore[return-value]
            course=course, appointment=appointment, kind=kind, dosing_number=dosing_number
        )


def course_measure(
    *, course: Course, due_on: date, instrument: str = "phq-9", occasion: str = "baseline"
) -> ScreeningAssignment:
    """An open questionnaire the course planned, due on ``due_on``."""
    return ScreeningAssignmentFactory(  # type: ignore[return-value]
        client=course.client,
        course=course,
        instrument=instrument,
        occasion=occasion,
        due_on=due_on,
    )
