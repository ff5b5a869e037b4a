"""Thin Celery tasks of the KAP app: call a service. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .course_emails import agenda_plan


@shared_task(name="kap_sessions.agenda_plan")
def agenda_plan_task() -> str:
    """Run by beat every few minutes: the next agenda of the day (one row per day)."""
    return agenda_plan().isoformat()
