"""The course on the therapist's Today page and on a client's page.

Today shows the courses held up (a gate missing for the next medicine
session, no integration session booked in time), the courses past their
plan, and the week's course sessions; a client's page shows her course as a
timeline: beginning, middle, end. Each costs the same number of queries
whatever the number of courses, sessions and clients.

"Now" is Monday 4 January 2027, 8:00 AM in Los Angeles (the practice's zone).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kap_sessions.models import Course, CoursePhase, CoursePhaseChange, CourseSession
from practice.calendar.models import Appointment, AppointmentKind, MeetingMode
from tests.factories import AppointmentFactory, ClientFactory, CourseFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 4, 16, 0, tzinfo=UTC)  # Mon, Jan 4, 8:00 AM in Los Angeles
LENGTH = {
    AppointmentKind.PREPARATION: 50,
    AppointmentKind.DOSING: 210,
    AppointmentKind.INTEGRATION: 50,
    AppointmentKind.CHECK_IN: 20,
}


@pytest.fixture(autouse=True)
def now():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


def session(
    course: Course,
    kind: str,
    start: datetime,
    *,
    status: str = Appointment.Status.BOOKED,
    number: int | None = None,
) -> CourseSession:
    """A course session as the booking service leaves it (the calendar row, then ours)."""
    appointment = AppointmentFactory(
        kind=kind,
        start=start,
        end=start + timedelta(minutes=LENGTH[kind]),
        occupied_end=start + timedelta(minutes=LENGTH[kind] + 10),
        client=course.client,
        status=status,
        mode=MeetingMode.IN_PERSON,
    )
    if kind == AppointmentKind.DOSING and number is None:
        number = course.sessions.filter(kind=kind).count() + 1
    return CourseSession.objects.create(
        course=course, appointment=appointment, kind=kind, dosing_number=number
    )


def course_in(phase: str, *, first_name: str, **fields) -> Course:  # type: ignore[no-untyped-def]
    course = CourseFactory(
        client=ClientFactory(first_name=first_name, last_name="Okafor"),
        started_on=date(2026, 11, 2),
        **fields,
    )
    CoursePhaseChange.objects.create(
        course=course, phase=CoursePhase.PREPARATION, at=datetime(2026, 11, 2, 17, tzinfo=UTC)
    )
    if phase != CoursePhase.PREPARATION:
        # The phase is written directly: these tests read what the panels show.
        Course.objects.filter(pk=course.pk).update(phase=phase)
        CoursePhaseChange.objects.create(course=course, phase=phase, at=NOW - timedelta(days=5))
        course.refresh_from_db()
    return course


def today_panels(client) -> dict:  # type: ignore[no-untyped-def]
    response = client.get("/admin/")
    assert response.status_code == 200
    return {panel.panel.name: panel.data for panel in response.context["panels"]}


# --- Today ------------------------------------------------------------------------------------


def test_today_lists_a_course_whose_next_medicine_session_is_held_up_by_a_gate(admin_client_mfa):
    waiting = course_in(CoursePhase.PREPARATION, first_name="Amara")

    shown = today_panels(admin_client_mfa)["kap_sessions.courses_waiting"]

    assert [row.course for row in shown["waiting"]] == [waiting]
    assert "medical clearance" in shown["waiting"][0].waiting_on.lower()
    page = admin_client_mfa.get("/admin/").content.decode()
    assert "Courses waiting on a step" in page
    assert reverse("admin:kap_sessions_course_change", args=[waiting.pk]) in page


def test_a_course_with_its_next_medicine_session_booked_is_not_waiting(admin_client_mfa):
    booked = course_in(CoursePhase.PREPARATION, first_name="Amara")
    session(booked, AppointmentKind.DOSING, NOW + timedelta(days=3))

    assert "kap_sessions.courses_waiting" not in today_panels(admin_client_mfa)


def test_a_course_that_has_held_every_planned_medicine_session_is_not_waiting(admin_client_mfa):
    done = course_in(CoursePhase.INTEGRATION, first_name="Amara", planned_dosing_sessions=1)
    held = session(
        done, AppointmentKind.DOSING, NOW - timedelta(days=2), status=Appointment.Status.COMPLETED
    )
    session(done, AppointmentKind.INTEGRATION, held.appointment.start + timedelta(days=1))

    assert "kap_sessions.courses_waiting" not in today_panels(admin_client_mfa)


def test_today_flags_a_medicine_session_with_no_integration_booked_in_time(admin_client_mfa):
    late = course_in(CoursePhase.DOSING, first_name="Bea", planned_dosing_sessions=1)
    held = session(
        late, AppointmentKind.DOSING, NOW - timedelta(days=4), status=Appointment.Status.COMPLETED
    )
    on_time = course_in(CoursePhase.DOSING, first_name="Cleo", planned_dosing_sessions=1)
    kept = session(
        on_time,
        AppointmentKind.DOSING,
        NOW - timedelta(days=4, hours=4),
        status=Appointment.Status.COMPLETED,
    )
    session(on_time, AppointmentKind.INTEGRATION, kept.appointment.start + timedelta(days=2))

    shown = today_panels(admin_client_mfa)["kap_sessions.courses_waiting"]

    assert [row.session for row in shown["overdue"]] == [held]
    assert (
        "No integration session booked in time" in admin_client_mfa.get("/admin/").content.decode()
    )


def test_today_lists_the_courses_past_their_plan(admin_client_mfa):
    late = course_in(CoursePhase.INTEGRATION, first_name="Amara", planned_end_on=date(2026, 12, 28))
    course_in(CoursePhase.INTEGRATION, first_name="Bea", planned_end_on=date(2027, 2, 1))

    shown = today_panels(admin_client_mfa)["kap_sessions.courses_past_plan"]

    assert [row.course for row in shown["courses"]] == [late]
    assert shown["courses"][0].planned_end == "Mon, Dec 28"
    listed = admin_client_mfa.get(shown["list_url"])
    assert [course.pk for course in listed.context["cl"].result_list] == [late.pk]


def test_today_shows_the_weeks_course_sessions_in_the_practices_time(admin_client_mfa):
    course = course_in(CoursePhase.PREPARATION, first_name="Amara")
    # Tue 5 Jan 10:00 AM and Sun 10 Jan 2:00 PM in Los Angeles; then one too late, one cancelled.
    tuesday = session(course, AppointmentKind.PREPARATION, datetime(2027, 1, 5, 18, tzinfo=UTC))
    sunday = session(course, AppointmentKind.INTEGRATION, datetime(2027, 1, 10, 22, tzinfo=UTC))
    session(course, AppointmentKind.PREPARATION, datetime(2027, 1, 11, 18, tzinfo=UTC))
    session(
        course,
        AppointmentKind.PREPARATION,
        datetime(2027, 1, 6, 18, tzinfo=UTC),
        status=Appointment.Status.CANCELLED,
    )

    shown = today_panels(admin_client_mfa)["kap_sessions.week_sessions"]

    assert [(row.session, row.day, row.starts) for row in shown["sessions"]] == [
        (tuesday, "Tue, Jan 5", "10:00 AM"),
        (sunday, "Sun, Jan 10", "2:00 PM"),
    ]


def test_a_calm_day_shows_no_course_panels(admin_client_mfa):
    shown = today_panels(admin_client_mfa)

    assert not {
        "kap_sessions.courses_waiting",
        "kap_sessions.courses_past_plan",
        "kap_sessions.week_sessions",
    } & set(shown)


def _fill(count: int, *, offset: int = 0) -> None:
    for i in range(offset, offset + count):
        course = course_in(
            CoursePhase.PREPARATION if i % 2 else CoursePhase.DOSING,
            first_name=f"Client{i}",
            planned_end_on=date(2026, 12, 1),
        )
        session(course, AppointmentKind.PREPARATION, NOW + timedelta(days=1, hours=i))
        if i % 2 == 0:
            session(
                course,
                AppointmentKind.DOSING,
                NOW - timedelta(days=4 + i),
                status=Appointment.Status.COMPLETED,
            )


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_today_costs_the_same_queries_for_2_and_10_courses(
    admin_client_mfa, django_assert_max_num_queries
):
    _fill(2)
    admin_client_mfa.get("/admin/")  # warm the per-process caches
    few = _queries(admin_client_mfa, "/admin/")

    _fill(8, offset=2)
    many = _queries(admin_client_mfa, "/admin/")

    assert many == few, f"{few} queries for 2 courses, {many} for 10"
    shown = today_panels(admin_client_mfa)
    assert len(shown["kap_sessions.week_sessions"]["sessions"]) == 10
    assert len(shown["kap_sessions.courses_past_plan"]["courses"]) == 10
    assert len(shown["kap_sessions.courses_waiting"]["overdue"]) == 5


# --- Her page: the course as a timeline -------------------------------------------------------


def _timeline(admin_client, course: Course) -> dict:  # type: ignore[no-untyped-def]
    response = admin_client.get(reverse("admin:practice_client_change", args=[course.client_id]))
    assert response.status_code == 200
    panels = {panel.panel.name: panel.data for panel in response.context["client_panels"]}
    return panels["kap_sessions.course_timeline"]


def test_her_page_shows_her_course_as_beginning_middle_and_end(admin_client_mfa):
    course = course_in(CoursePhase.INTEGRATION, first_name="Amara", planned_end_on=date(2027, 2, 1))
    session(
        course,
        AppointmentKind.PREPARATION,
        datetime(2026, 12, 1, 18, tzinfo=UTC),
        status=Appointment.Status.COMPLETED,
    )
    session(
        course,
        AppointmentKind.DOSING,
        datetime(2026, 12, 15, 17, tzinfo=UTC),
        status=Appointment.Status.COMPLETED,
    )
    session(course, AppointmentKind.INTEGRATION, datetime(2027, 1, 6, 18, tzinfo=UTC))

    data = _timeline(admin_client_mfa, course)

    beginning, middle, end = data["stages"]
    assert [(e.day, e.what, e.status) for e in beginning.entries] == [
        ("Mon, Nov 2, 2026", "Course started", ""),
        ("Tue, Dec 1, 2026", "Preparation session", "Completed"),
    ]
    assert [(e.day, e.what, e.status, e.upcoming) for e in middle.entries] == [
        ("Tue, Dec 15, 2026", "Medicine session 1", "Completed", False),
        ("Wed, Jan 6", "Integration session", "Booked", True),
    ]
    assert [(e.day, e.what) for e in end.entries] == [("Mon, Feb 1", "Planned end")]
    assert [stage.current for stage in data["stages"]] == [False, True, False]
    assert data["held"] == 1
    page = admin_client_mfa.get(reverse("admin:practice_client_change", args=[course.client_id]))
    assert 'aria-current="step"' in page.content.decode()
    assert "1 of 3 medicine sessions held" in page.content.decode()


def test_a_completed_course_ends_on_its_completion_date(admin_client_mfa):
    course = course_in(CoursePhase.INTEGRATION, first_name="Amara")
    Course.objects.filter(pk=course.pk).update(
        phase=CoursePhase.COMPLETED, closed_on=date(2027, 1, 2)
    )
    CoursePhaseChange.objects.create(
        course=course, phase=CoursePhase.COMPLETED, at=datetime(2027, 1, 2, 20, tzinfo=UTC)
    )

    data = _timeline(admin_client_mfa, course)

    assert [(e.day, e.what) for e in data["stages"][2].entries] == [("Sat, Jan 2", "Completed")]
    assert [stage.current for stage in data["stages"]] == [False, False, True]


def test_a_moved_session_shows_once_at_its_new_time(admin_client_mfa):
    course = course_in(CoursePhase.PREPARATION, first_name="Amara")
    session(
        course,
        AppointmentKind.PREPARATION,
        datetime(2027, 1, 5, 18, tzinfo=UTC),
        status=Appointment.Status.CANCELLED,
    )
    session(course, AppointmentKind.PREPARATION, datetime(2027, 1, 7, 18, tzinfo=UTC))

    data = _timeline(admin_client_mfa, course)

    assert [e.day for e in data["stages"][0].entries] == ["Mon, Nov 2, 2026", "Thu, Jan 7"]


def test_her_page_costs_the_same_queries_for_few_and_many_sessions(admin_client_mfa):
    few = course_in(CoursePhase.INTEGRATION, first_name="Amara")
    many = course_in(CoursePhase.INTEGRATION, first_name="Bea")
    session(few, AppointmentKind.PREPARATION, NOW - timedelta(days=20))
    for day in range(12):
        kind = [AppointmentKind.PREPARATION, AppointmentKind.DOSING, AppointmentKind.INTEGRATION][
            day % 3
        ]
        session(many, kind, NOW - timedelta(days=40 - 3 * day))
    url = reverse("admin:practice_client_change", args=[few.client_id])
    admin_client_mfa.get(url)  # warm the per-process caches

    assert _queries(admin_client_mfa, url) == _queries(
        admin_client_mfa, reverse("admin:practice_client_change", args=[many.client_id])
    )
