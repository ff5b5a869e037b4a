"""Demo courses: one client in every phase.

The rows are written directly rather than through ``course_advance``: a demo
course is born in the phase it shows, with dates weeks in the past, which no
sequence of live moves would give.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.utils import timezone

from practice.models import Client

from .models import CLOSED_PHASES, Course

DEMO_PHASES = {
    "amara.okafor@example.com": Course.Phase.PREPARATION,
    "beth.lindqvist@example.com": Course.Phase.DOSING,
    "carmen.reyes@example.com": Course.Phase.INTEGRATION,
    "dana.whitfield@example.com": Course.Phase.COMPLETED,
    "esther.nakamura@example.com": Course.Phase.WITHDRAWN,
}


def seed(*, stdout: TextIO) -> None:
    today = timezone.localdate()
    for weeks_ago, (email, phase) in enumerate(DEMO_PHASES.items(), start=1):
        client = Client.objects.filter(email__iexact=email).first()
        if client is None or client.courses.exists():
            continue
        closed = phase in CLOSED_PHASES
        Course.objects.create(
            client=client,
            phase=phase,
            started_on=today - timedelta(weeks=3 * weeks_ago),
            closed_on=today - timedelta(days=3) if closed else None,
            closing_summary=("Course closed; summary shared with the client." if closed else ""),
        )
    stdout.write(f"  Courses: {Course.objects.count()} ({Course.objects.open().count()} open)\n")
