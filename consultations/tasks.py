"""Thin tasks: ids in, fetch, call the email builder or a service."""

from __future__ import annotations

import smtplib

from celery import shared_task

from .models import Consultation

RETRY = {
    "autoretry_for": (OSError, smtplib.SMTPException),
    "retry_backoff": True,
    "max_retries": 6,
}


@shared_task(name="consultations.send_consultation_email", **RETRY)
def send_consultation_email(*, consultation_id: int, event: str) -> None:
    """Send her message for ``event`` (booked, rescheduled, cancelled)."""
    from . import emails
    from .services import manage_link_issue

    consultation = Consultation.objects.with_appointment().filter(pk=consultation_id).first()
    if consultation is None:
        return
    if event == "cancelled":
        emails.consultation_cancelled(consultation=consultation).send()
        return
    token = manage_link_issue(consultation=consultation)
    builder = emails.consultation_booked if event == "booked" else emails.consultation_rescheduled
    builder(consultation=consultation, token=token).send()


@shared_task(name="consultations.send_therapist_notice", **RETRY)
def send_therapist_notice(*, consultation_id: int, event: str) -> None:
    from . import emails

    consultation = Consultation.objects.with_appointment().filter(pk=consultation_id).first()
    if consultation is None:
        return
    emails.consultation_therapist_notice(consultation=consultation, event=event).send()


@shared_task(name="consultations.notify_waitlist", **RETRY)
def notify_waitlist(*, consultation_id: int) -> None:
    from .services import waitlist_notify_opening

    waitlist_notify_opening(consultation_id=consultation_id)
