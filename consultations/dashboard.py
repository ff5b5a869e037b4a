"""The consultations' panels on the Today page (``practice.dashboard``).

- New bookings, moves and cancellations since the start of yesterday.
- Who is waiting on the waitlist.

Registered by ``ConsultationsConfig.ready()``; each costs the same few
queries however many rows there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest
from django.urls import reverse

from practice.calendar.display import in_practice_time, short_day
from practice.dashboard import dashboard_panel
from practice.identity import practice_profile
from practice.models import Appointment

from .models import Consultation, WaitlistEntry
from .zones import zone_label

SHOWN = 20


@dataclass(frozen=True)
class Change:
    consultation: Consultation
    what: str
    at: str
    call_at: str
    intake_url: str


def _what(consultation: Consultation, since: datetime) -> str:
    appointment = consultation.appointment
    if appointment.status == Appointment.Status.CANCELLED:
        if consultation.cancelled_by == Consultation.CancelledBy.CLIENT:
            return "Cancelled by her"
        return "Cancelled by you"
    if consultation.created_at >= since:
        return "New booking"
    return "Moved"


@dashboard_panel(
    "consultations.changes",
    title="New bookings and cancellations",
    order=20,
    template="consultations/admin/panel_changes.html",
    permission="consultations.view_consultation",
)
def recent_changes(request: HttpRequest, *, now: datetime) -> dict[str, Any]:
    zone = practice_profile().zone
    since = datetime.combine(now.astimezone(zone).date() - timedelta(days=1), time(), zone)
    cancelled = Q(
        appointment__status=Appointment.Status.CANCELLED,
        appointment__status_changed_at__gte=since,
    )
    # A reschedule gives the consultation a new appointment, made at the move.
    rows = list(
        Consultation.objects.filter(
            Q(created_at__gte=since) | Q(appointment__created_at__gte=since) | cancelled
        )
        .select_related("appointment")
        # Names and times only: the intake (encrypted) is not read for a list.
        .only(
            "first_name",
            "last_name",
            "created_at",
            "cancelled_by",
            "appointment__start",
            "appointment__status",
            "appointment__status_changed_at",
            "appointment__created_at",
        )
        .annotate(
            changed_at=Greatest(
                "created_at",
                "appointment__created_at",
                Coalesce("appointment__status_changed_at", "created_at"),
            )
        )
        .order_by("-changed_at", "-pk")[:SHOWN]
    )
    return {
        "since": short_day(since),
        "changes": [
            Change(
                consultation=consultation,
                what=_what(consultation, since),
                at=in_practice_time(consultation.changed_at, now=now),  # type: ignore[attr-defined]
                call_at=in_practice_time(consultation.appointment.start, now=now),
                intake_url=reverse(
                    "admin:consultations_consultation_change", args=[consultation.pk]
                ),
            )
            for consultation in rows
        ],
        "list_url": reverse("admin:consultations_consultation_changelist"),
    }


@dashboard_panel(
    "consultations.waitlist",
    title="Waitlist",
    order=30,
    template="consultations/admin/panel_waitlist.html",
    permission="consultations.view_waitlistentry",
)
def waitlist(request: HttpRequest, *, now: datetime) -> dict[str, Any]:
    waiting = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING).order_by(
        "created_at"
    )
    entries = waiting[:SHOWN]
    return {
        "entries": [
            {
                "entry": entry,
                "zone": zone_label(entry.time_zone),
                "since": in_practice_time(entry.created_at, now=now),
                "url": reverse("admin:consultations_waitlistentry_change", args=[entry.pk]),
            }
            for entry in entries
        ],
        "total": waiting.count(),
        "list_url": reverse("admin:consultations_waitlistentry_changelist")
        + f"?status__exact={WaitlistEntry.Status.WAITING}",
    }
