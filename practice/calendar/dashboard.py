"""The Today page's day: today's and tomorrow's appointments of every kind.

Each appointment says who it is with through the display hook of its kind
(``display.appointments_with``), so a course's sessions show here the same
way a free consultation does, without this module knowing either app.
Blocked time shows as time off. Registered by ``PracticeConfig.ready()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import HttpRequest

from practice.dashboard import dashboard_panel
from practice.identity import practice_profile

from .display import AppointmentWith, appointments_with, clock, short_day
from .models import Appointment, AppointmentKind


@dataclass(frozen=True)
class AgendaItem:
    appointment: Appointment
    shown_with: AppointmentWith
    starts: str
    ends: str
    video_link: str

    @property
    def is_time_off(self) -> bool:
        return self.appointment.kind == AppointmentKind.BLOCKED


@dataclass(frozen=True)
class AgendaDay:
    label: str
    day: date
    items: list[AgendaItem]

    @property
    def heading(self) -> str:
        return f"{self.label}, {short_day(self.day)}"


@dashboard_panel(
    "calendar.agenda",
    title="Today and tomorrow",
    order=10,
    template="practice/admin/panel_agenda.html",
    permission="practice.view_appointment",
)
def agenda(request: HttpRequest, *, now: datetime) -> dict[str, Any]:
    profile = practice_profile()
    zone = profile.zone
    today = now.astimezone(zone).date()
    days = [today, today + timedelta(days=1)]
    window_start = datetime.combine(days[0], time(), zone)
    window_end = datetime.combine(days[-1] + timedelta(days=1), time(), zone)
    # What still happens, or happened: a cancelled appointment gave its time back.
    appointments = list(
        Appointment.objects.filter(start__lt=window_end, end__gt=window_start)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("client")
        .order_by("start")
    )
    shown = appointments_with(appointments)
    by_day: dict[date, list[AgendaItem]] = {day: [] for day in days}
    for appointment in appointments:
        starts, ends = appointment.start.astimezone(zone), appointment.end.astimezone(zone)
        day = max(starts.date(), today)
        by_day[day].append(
            AgendaItem(
                appointment=appointment,
                shown_with=shown[appointment.pk],
                starts=clock(starts),
                ends=clock(ends),
                video_link=appointment.video_link(profile.video_room_url),
            )
        )
    return {
        "days": [
            AgendaDay(label=label, day=day, items=by_day[day])
            for label, day in zip(["Today", "Tomorrow"], days, strict=True)
        ]
    }
