"""Demo calendar and consultations: weekly hours, time off, and a few bookings.

Idempotent: availability is added only when none exists, and the demo
consultations are found again by their fixed submission ids.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import TextIO

from django.utils import timezone

from practice.calendar.services import (
    SlotUnavailable,
    appointment_book,
    appointment_transition,
)
from practice.calendar.slots import available_slots
from practice.identity import practice_profile
from practice.models import (
    Appointment,
    AppointmentKind,
    AvailabilityException,
    MeetingMode,
    WeeklyHours,
)

from .models import Consultation

WEEKLY = [
    # (weekday, start, end): mornings and afternoons, a long Thursday, no weekend.
    (0, time(9), time(12)),
    (0, time(13), time(17)),
    (1, time(9), time(12)),
    (1, time(13), time(17)),
    (2, time(10), time(15)),
    (3, time(9), time(12)),
    (3, time(13), time(19)),
    (4, time(9), time(13)),
]

DEMO = [
    # (submission id, first, last, email, days from today, state)
    (
        "6f1c0d5e-0000-4000-8000-000000000001",
        "Priya",
        "Shah",
        "priya.shah@example.com",
        3,
        "booked",
    ),
    (
        "6f1c0d5e-0000-4000-8000-000000000002",
        "Hannah",
        "Cole",
        "hannah.cole@example.com",
        6,
        "booked",
    ),
    (
        "6f1c0d5e-0000-4000-8000-000000000003",
        "Maya",
        "Fischer",
        "maya.fischer@example.com",
        10,
        "booked",
    ),
    (
        "6f1c0d5e-0000-4000-8000-000000000004",
        "Grace",
        "Obi",
        "grace.obi@example.com",
        -5,
        "completed",
    ),
    (
        "6f1c0d5e-0000-4000-8000-000000000005",
        "Lucia",
        "Moreno",
        "lucia.moreno@example.com",
        -12,
        "no_show",
    ),
    (
        "6f1c0d5e-0000-4000-8000-000000000006",
        "Ruth",
        "Adler",
        "ruth.adler@example.com",
        8,
        "cancelled",
    ),
    # Today's and tomorrow's calls, so the admin's Today page has a day to show.
    (
        "6f1c0d5e-0000-4000-8000-000000000007",
        "Amara",
        "Nwosu",
        "amara.nwosu@example.com",
        0,
        "booked",
    ),
    (
        "6f1c0d5e-0000-4000-8000-000000000008",
        "Elena",
        "Petrova",
        "elena.petrova@example.com",
        1,
        "booked",
    ),
]


def _seed_availability(stdout: TextIO) -> None:
    if WeeklyHours.objects.exists():
        return
    WeeklyHours.objects.bulk_create(
        WeeklyHours(weekday=day, start_time=start, end_time=end) for day, start, end in WEEKLY
    )
    today = timezone.localdate()
    AvailabilityException.objects.bulk_create(
        [
            AvailabilityException(
                effect=AvailabilityException.Effect.TIME_OFF,
                first_day=today + timedelta(days=21),
                last_day=today + timedelta(days=25),
                note="Holiday",
            ),
            AvailabilityException(
                effect=AvailabilityException.Effect.EXTRA_HOURS,
                first_day=today + timedelta(days=(5 - today.weekday()) % 7 + 7),
                last_day=today + timedelta(days=(5 - today.weekday()) % 7 + 7),
                start_time=time(10),
                end_time=time(13),
                note="Saturday clinic",
            ),
        ]
    )
    stdout.write("  Availability: weekly hours, a holiday and a Saturday clinic\n")


def _first_slot_after(days: int) -> datetime | None:
    day = timezone.localdate() + timedelta(days=days)
    for offset in range(7):
        slots = available_slots(
            first_day=day + timedelta(days=offset), last_day=day + timedelta(days=offset)
        )
        if slots:
            return slots[len(slots) // 2]
    return None


def _past_start(days_ago: int) -> datetime:
    zone = practice_profile().zone
    day = timezone.localdate() - timedelta(days=days_ago)
    while day.weekday() > 4:
        day -= timedelta(days=1)
    return datetime.combine(day, time(10, 30), tzinfo=zone).astimezone(UTC)


def _placed_by_hand(days: int) -> datetime:
    """Today at 2 PM or tomorrow at 10:30 AM, practice time, whatever the hours say."""
    zone = practice_profile().zone
    day = timezone.localdate() + timedelta(days=days)
    at = time(14) if days == 0 else time(10, 30)
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def seed(*, stdout: TextIO) -> None:
    _seed_availability(stdout)
    for submission, first, last, email, days, state in DEMO:
        if Consultation.objects.filter(submission_id=uuid.UUID(submission)).exists():
            continue
        mode = MeetingMode.VIDEO if days % 2 else MeetingMode.PHONE
        try:
            if days in (0, 1):
                # Inside the minimum notice, so placed as the therapist would.
                appointment = appointment_book(
                    kind=AppointmentKind.CONSULTATION,
                    start=_placed_by_hand(days),
                    mode=mode,
                    offered_only=False,
                    reminders=True,
                )
            elif days > 0:
                start = _first_slot_after(days)
                if start is None:
                    continue
                appointment = appointment_book(
                    kind=AppointmentKind.CONSULTATION, start=start, mode=mode, reminders=True
                )
            else:
                appointment = appointment_book(
                    kind=AppointmentKind.CONSULTATION,
                    start=_past_start(-days),
                    mode=mode,
                    offered_only=False,
                )
        except SlotUnavailable:
            continue
        Consultation.objects.create(
            appointment=appointment,
            submission_id=uuid.UUID(submission),
            first_name=first,
            last_name=last,
            email=email,
            phone="(510) 555-01" + submission[-2:],
            time_zone=practice_profile().time_zone,
            reason=(
                "Since my second baby I feel flat and far away from everyone. "
                "I would like to understand whether this could help."
            ),
            perinatal=Consultation.Perinatal.POSTPARTUM,
            perinatal_months=7,
            children_ages="3, 7 months",
            prior_experience=Consultation.PriorExperience.NONE,
            heard_from=Consultation.HeardFrom.PROVIDER,
            consent_to_contact=True,
        )
        if state in ("completed", "no_show", "cancelled"):
            appointment_transition(appointment=appointment, to=state)
    upcoming = Consultation.objects.filter(
        appointment__status=Appointment.Status.BOOKED, appointment__start__gt=timezone.now()
    ).count()
    stdout.write(f"  Consultations: {Consultation.objects.count()} ({upcoming} upcoming)\n")
