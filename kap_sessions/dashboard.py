"""The KAP panels of the Today page (``practice.dashboard``).

- Safety flags to look at: every open flag, oldest first, whoever's it is:
  the client's name (a link to her page), when it was raised and by what,
  and the way to acknowledge it with a note.
- Courses waiting: a course whose next medicine session cannot be booked
  yet (the gates it is missing, in plain words), and a medicine session with
  no integration session booked within the practice's window.
- Courses past their plan: open after their planned end date.
- The week's sessions: every course session of the next seven days.

Each panel is hidden when it has nothing to show, so a calm day stays calm.
Registered by ``KapSessionsConfig.ready()``; each costs a fixed number of
queries however many courses, sessions or flags there are (the Today page's
budget is in ``tests/kap_sessions/test_course_dashboard.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q
from django.http import HttpRequest
from django.urls import reverse

from practice.calendar.display import clock, in_practice_time, short_day
from practice.calendar.models import Appointment, AppointmentKind
from practice.dashboard import dashboard_panel
from practice.identity import practice_profile

from .client_panels import SHOWN, flag_source
from .models import Course, CoursePhase, CourseSession, SafetyFlag, SafetyFlagStatus
from .services.gates import dosing_schedule_gates_for
from .services.sessions import integration_overdue


@dataclass(frozen=True)
class OpenFlag:
    flag: SafetyFlag
    source: str
    raised: str
    client_url: str
    acknowledge_url: str


@dashboard_panel(
    "kap_sessions.safety_flags",
    title="Safety flags to look at",
    order=5,
    template="kap_sessions/admin/panel_safety_flags.html",
    permission="kap_sessions.view_safetyflag",
)
def open_safety_flags(request: HttpRequest, *, now: datetime) -> dict[str, Any] | None:
    flags = list(SafetyFlag.objects.open()[:SHOWN])
    if not flags:
        return None
    total = SafetyFlag.objects.filter(status=SafetyFlagStatus.OPEN).count()
    may_acknowledge = request.user.has_perm("kap_sessions.change_safetyflag")
    acknowledge = reverse("admin:kap_sessions_safetyflag_acknowledge")
    return {
        "flags": [
            OpenFlag(
                flag=flag,
                source=flag_source(flag),
                raised=in_practice_time(flag.raised_at, now=now),
                client_url=reverse("admin:practice_client_change", args=[flag.client_id]),
                acknowledge_url=f"{acknowledge}?ids={flag.pk}" if may_acknowledge else "",
            )
            for flag in flags
        ],
        "total": total,
        "list_url": reverse("admin:kap_sessions_safetyflag_changelist")
        + f"?status__exact={SafetyFlagStatus.OPEN}",
    }


# --- Courses ----------------------------------------------------------------------------------


def _course_url(course_id: int) -> str:
    return reverse("admin:kap_sessions_course_change", args=[course_id])


@dataclass(frozen=True)
class WaitingCourse:
    course: Course
    waiting_on: str
    course_url: str


@dataclass(frozen=True)
class IntegrationDue:
    session: CourseSession
    held: str
    course_url: str


@dashboard_panel(
    "kap_sessions.courses_waiting",
    title="Courses waiting on a step",
    order=14,
    template="kap_sessions/admin/panel_courses_waiting.html",
    permission="kap_sessions.view_course",
)
def courses_waiting(request: HttpRequest, *, now: datetime) -> dict[str, Any] | None:
    """Courses whose next medicine session is held up by a gate, and overdue integrations.

    A course needs its next medicine session when it is in preparation or
    integration, has held fewer medicine sessions than planned and has none
    booked ahead. Four queries: the courses, their gates (a fixed number for
    any number of courses), and the overdue integrations.
    """
    booked_ahead = CourseSession.objects.filter(
        course=OuterRef("pk"),
        kind=AppointmentKind.DOSING,
        appointment__status=Appointment.Status.BOOKED,
    )
    candidates = list(
        Course.objects.open()
        .filter(phase__in=[CoursePhase.PREPARATION, CoursePhase.INTEGRATION])
        .annotate(
            held=Count(
                "sessions",
                filter=Q(
                    sessions__kind=AppointmentKind.DOSING,
                    sessions__appointment__status=Appointment.Status.COMPLETED,
                ),
            )
        )
        .filter(~Exists(booked_ahead), held__lt=F("planned_dosing_sessions"))
        .select_related("client")
        .order_by("phase_changed_at", "id")[: SHOWN * 3]
    )
    gates = dosing_schedule_gates_for(courses=candidates, now=now) if candidates else {}
    waiting = [
        WaitingCourse(
            course=course,
            waiting_on=_missing_words(gates.get(course.pk, [])),
            course_url=_course_url(course.pk),
        )
        for course in candidates
        if any(not gate.met for gate in gates.get(course.pk, []))
    ][:SHOWN]
    overdue = [
        IntegrationDue(
            session=session,
            held=in_practice_time(session.appointment.start, now=now),
            course_url=_course_url(session.course_id),
        )
        for session in integration_overdue(now=now)[:SHOWN]
    ]
    if not waiting and not overdue:
        return None
    return {"waiting": waiting, "overdue": overdue}


def _missing_words(gates: list[Any]) -> str:
    missing = [gate.label.lower() for gate in gates if not gate.met]
    if len(missing) <= 1:
        return "".join(missing)
    return ", ".join(missing[:-1]) + " and " + missing[-1]


@dataclass(frozen=True)
class PastPlan:
    course: Course
    planned_end: str
    course_url: str


@dashboard_panel(
    "kap_sessions.courses_past_plan",
    title="Courses past their plan",
    order=16,
    template="kap_sessions/admin/panel_courses_past_plan.html",
    permission="kap_sessions.view_course",
)
def courses_past_plan(request: HttpRequest, *, now: datetime) -> dict[str, Any] | None:
    """Open courses after their planned end date, the longest overdue first (one query)."""
    today = now.astimezone(practice_profile().zone).date()
    courses = list(
        Course.objects.open()
        .filter(planned_end_on__lt=today)
        .select_related("client")
        .order_by("planned_end_on", "id")[: SHOWN + 1]
    )
    if not courses:
        return None
    return {
        "courses": [
            PastPlan(
                course=course,
                planned_end=short_day(course.planned_end_on),
                course_url=_course_url(course.pk),
            )
            for course in courses[:SHOWN]
            if course.planned_end_on is not None
        ],
        # One more than shown tells that there are more, without counting them.
        "more": len(courses) > SHOWN,
        "list_url": reverse("admin:kap_sessions_course_changelist") + "?plan=past",
    }


@dataclass(frozen=True)
class WeekSession:
    session: CourseSession
    day: str
    starts: str
    ends: str
    course_url: str


@dashboard_panel(
    "kap_sessions.week_sessions",
    title="This week's course sessions",
    order=12,
    template="kap_sessions/admin/panel_week_sessions.html",
    permission="kap_sessions.view_course",
)
def week_sessions(request: HttpRequest, *, now: datetime) -> dict[str, Any] | None:
    """Every booked course session from today through the next six days (one query)."""
    zone = practice_profile().zone
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    end = start + timedelta(days=7)
    sessions = list(
        CourseSession.objects.filter(
            appointment__start__gte=start,
            appointment__start__lt=end,
            appointment__status__in=Appointment.OCCUPYING_STATUSES,
        )
        .select_related("appointment", "course__client")
        .order_by("appointment__start", "id")[: SHOWN * 3]
    )
    if not sessions:
        return None
    return {
        "sessions": [
            WeekSession(
                session=session,
                day=short_day(session.appointment.start.astimezone(zone).date()),
                starts=clock(session.appointment.start.astimezone(zone)),
                ends=clock(session.appointment.end.astimezone(zone)),
                course_url=_course_url(session.course_id),
            )
            for session in sessions
        ]
    }
