"""One function per consultation email, each built by ``practice.mail.build_email``.

Nothing clinical goes into any of them: no intake answer, no treatment word.
Times are shown in her zone (to her) or the practice's (to the therapist).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from practice.calendar.models import Reminder
from practice.identity import practice_profile
from practice.mail import absolute_url, build_email

from .ics import consultation_ics
from .models import Consultation, WaitlistEntry
from .zones import zone_label

ICS_MIMETYPE = "text/calendar"


def when(moment: datetime, zone: ZoneInfo) -> str:
    """'Tuesday, January 5, 2027 at 9:30 AM (Eastern time, New York)'."""
    local = moment.astimezone(zone)
    hour = local.strftime("%I:%M %p").lstrip("0")
    return f"{local:%A, %B} {local.day}, {local.year} at {hour} ({zone_label(zone.key)})"


def _manage_url(token: str) -> str:
    return absolute_url(reverse("consultations:manage", args=[token]))


def _her_context(consultation: Consultation, token: str | None = None) -> dict[str, object]:
    return {
        "consultation": consultation,
        "first_name": consultation.first_name,
        "when": when(consultation.appointment.start, consultation.zone),
        "mode": consultation.get_meeting_mode_display(),
        "length": int(
            (consultation.appointment.end - consultation.appointment.start).total_seconds() // 60
        ),
        "manage_url": _manage_url(token) if token else "",
        "book_url": absolute_url(reverse("consultations:book")),
    }


def consultation_booked(*, consultation: Consultation, token: str) -> EmailMultiAlternatives:
    return build_email(
        "consultation-booked",
        to=[consultation.email],
        context=_her_context(consultation, token),
        attachments=[("consultation.ics", consultation_ics(consultation), ICS_MIMETYPE)],
    )


def consultation_rescheduled(*, consultation: Consultation, token: str) -> EmailMultiAlternatives:
    return build_email(
        "consultation-rescheduled",
        to=[consultation.email],
        context=_her_context(consultation, token),
        attachments=[("consultation.ics", consultation_ics(consultation), ICS_MIMETYPE)],
    )


def consultation_cancelled(*, consultation: Consultation) -> EmailMultiAlternatives:
    context = _her_context(consultation)
    context["by_practice"] = consultation.cancelled_by == Consultation.CancelledBy.PRACTICE
    context["note"] = consultation.cancel_note
    return build_email(
        "consultation-cancelled",
        to=[consultation.email],
        context=context,
        attachments=[
            ("consultation.ics", consultation_ics(consultation, cancelled=True), ICS_MIMETYPE)
        ],
    )


def consultation_therapist_notice(
    *, consultation: Consultation, event: str
) -> EmailMultiAlternatives:
    """To the therapist: what happened and a link to the admin; no intake answer."""
    profile = practice_profile()
    return build_email(
        "consultation-therapist-notice",
        to=[profile.email],
        context={
            "event": event,
            "name": consultation.full_name,
            "when": when(consultation.appointment.start, profile.zone),
            "mode": consultation.get_meeting_mode_display(),
            "admin_url": absolute_url(
                reverse("admin:consultations_consultation_change", args=[consultation.pk])
            ),
        },
        reply_to=[consultation.email],
    )


def consultation_reminder(*, reminder: Reminder) -> EmailMultiAlternatives | None:
    """The reminder builder named in ``CALENDAR_REMINDER_MESSAGES`` for consultations.

    Runs inside the dispatcher's transaction, so the link it mints is rolled
    back with it when the send fails.
    """
    from .services import manage_link_issue

    consultation = (
        Consultation.objects.select_related("appointment")
        .filter(appointment_id=reminder.appointment_id)
        .first()
    )
    if consultation is None:
        return None
    context = _her_context(consultation, manage_link_issue(consultation=consultation))
    return build_email("reminder-consultation", to=[consultation.email], context=context)


def waitlist_opening(*, entry: WaitlistEntry, opened_at: datetime) -> EmailMultiAlternatives:
    return build_email(
        "consultation-waitlist-opening",
        to=[entry.email],
        context={
            "name": entry.name,
            "when": when(opened_at, ZoneInfo(entry.time_zone)),
            "book_url": absolute_url(reverse("consultations:book")),
        },
    )
