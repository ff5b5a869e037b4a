"""One function per consultation email, each built by ``practice.mail.build_email``.

Nothing clinical goes into any of them: no intake answer, no treatment word.
Times are shown in her zone (to her) or the practice's (to the therapist).

The outbox kinds at the end of the module build each email from the ids of
its outbox row at send time, and decide whether it is still wanted (their
validity check: ``None`` voids the row). This module is imported by
``ConsultationsConfig.ready()``, which registers them.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from practice.calendar.reminders import reminder_email
from practice.identity import practice_profile
from practice.mail import absolute_url, build_email
from practice.models import Appointment, AppointmentKind, OutboxMessage
from practice.outbox.kinds import email_kind, object_of

from .ics import booker_initials, consultation_ics, therapist_ics
from .links import manage_link_issue
from .models import Consultation, WaitlistEntry
from .zones import zone_label


def when(moment: datetime, zone: ZoneInfo) -> str:
    """'Tuesday, January 5, 2027 at 9:30 AM (Eastern time, New York)'."""
    local = moment.astimezone(zone)
    hour = local.strftime("%I:%M %p").lstrip("0")
    return f"{local:%A, %B} {local.day}, {local.year} at {hour} ({zone_label(zone.key)})"


def short_when(moment: datetime, zone: ZoneInfo) -> str:
    """'Tue, Jan 5 at 9:30 AM': the few words a subject line has room for."""
    local = moment.astimezone(zone)
    hour = local.strftime("%I:%M %p").lstrip("0")
    return f"{local:%a, %b} {local.day} at {hour}"


def soon_when(moment: datetime, zone: ZoneInfo, *, now: datetime) -> str:
    """'today at 9:30 AM' or 'tomorrow at 9:30 AM' in ``zone``, else 'on Tue, Jan 5 at 9:30 AM'."""
    local = moment.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    if days in (0, 1):
        hour = local.strftime("%I:%M %p").lstrip("0")
        return f"{'today' if days == 0 else 'tomorrow'} at {hour}"
    return f"on {short_when(moment, zone)}"


def _manage_url(token: str) -> str:
    return absolute_url(reverse("consultations:manage", args=[token]))


def _her_context(consultation: Consultation, token: str | None = None) -> dict[str, object]:
    return {
        "consultation": consultation,
        "first_name": consultation.first_name,
        "when": when(consultation.appointment.start, consultation.zone),
        "short_when": short_when(consultation.appointment.start, consultation.zone),
        "mode": consultation.get_meeting_mode_display(),
        "length": int(
            (consultation.appointment.end - consultation.appointment.start).total_seconds() // 60
        ),
        "manage_url": _manage_url(token) if token else "",
        "book_url": absolute_url(reverse("consultations:book")),
        # Empty for a phone call, or while the practice has no video room yet.
        "video_link": consultation.video_link,
    }


def consultation_booked(*, consultation: Consultation, token: str) -> EmailMultiAlternatives:
    return build_email(
        "consultation-booked",
        to=[consultation.email],
        context=_her_context(consultation, token),
        attachments=[consultation_ics(consultation).as_attachment()],
    )


def consultation_rescheduled(*, consultation: Consultation, token: str) -> EmailMultiAlternatives:
    return build_email(
        "consultation-rescheduled",
        to=[consultation.email],
        context=_her_context(consultation, token),
        attachments=[consultation_ics(consultation).as_attachment()],
    )


def consultation_cancelled(*, consultation: Consultation) -> EmailMultiAlternatives:
    context = _her_context(consultation)
    context["by_practice"] = consultation.cancelled_by == Consultation.CancelledBy.PRACTICE
    context["note"] = consultation.cancel_note
    return build_email(
        "consultation-cancelled",
        to=[consultation.email],
        context=context,
        attachments=[consultation_ics(consultation, cancelled=True).as_attachment()],
    )


def consultation_therapist_notice(
    *, consultation: Consultation, event: str
) -> EmailMultiAlternatives:
    """To the therapist: what happened, a link to the admin and her own calendar event.

    The subject names the booker by initials only (it shows on a lock screen);
    no intake answer anywhere.
    """
    profile = practice_profile()
    calendar_file = therapist_ics(consultation)
    return build_email(
        "consultation-therapist-notice",
        to=[profile.email],
        context={
            "event": event,
            "name": consultation.full_name,
            "initials": booker_initials(consultation),
            "when": when(consultation.appointment.start, profile.zone),
            "short_when": short_when(consultation.appointment.start, profile.zone),
            "mode": consultation.get_meeting_mode_display(),
            "calendar_cancels": calendar_file.method == "CANCEL",
            "admin_url": absolute_url(
                reverse("admin:consultations_consultation_change", args=[consultation.pk])
            ),
        },
        reply_to=[consultation.email],
        attachments=[calendar_file.as_attachment()],
    )


def consultation_reminder(*, consultation: Consultation) -> EmailMultiAlternatives:
    context = _her_context(consultation, manage_link_issue(consultation=consultation))
    context["soon_when"] = soon_when(
        consultation.appointment.start, consultation.zone, now=timezone.now()
    )
    return build_email("reminder-consultation", to=[consultation.email], context=context)


def consultation_video_link(*, consultation: Consultation) -> EmailMultiAlternatives:
    """Her link to the video call, sent (and resent) from the admin."""
    context = _her_context(consultation, manage_link_issue(consultation=consultation))
    return build_email("consultation-video-link", to=[consultation.email], context=context)


def waitlist_opening(*, entry: WaitlistEntry, opened_at: datetime) -> EmailMultiAlternatives:
    return build_email(
        "consultation-waitlist-opening",
        to=[entry.email],
        context={
            "name": entry.name,
            "when": when(opened_at, ZoneInfo(entry.time_zone)),
            "short_when": short_when(opened_at, ZoneInfo(entry.time_zone)),
            "book_url": absolute_url(reverse("consultations:book")),
        },
    )


# --- Outbox kinds: build from ids at send time, or void --------------------------


def _consultation(message: OutboxMessage) -> Consultation | None:
    return object_of(Consultation.objects.with_appointment(), message)


def _current(message: OutboxMessage) -> Consultation | None:
    """The consultation, while it is upcoming and not changed again since the row was written."""
    consultation = _consultation(message)
    if consultation is None or not consultation.is_upcoming:
        return None
    if consultation.sequence != message.params.get("sequence", consultation.sequence):
        return None  # a later change has its own email
    return consultation


@email_kind("consultation.booked")
def _booked(message: OutboxMessage) -> EmailMultiAlternatives | None:
    consultation = _current(message)
    if consultation is None:
        return None
    return consultation_booked(
        consultation=consultation, token=manage_link_issue(consultation=consultation)
    )


@email_kind("consultation.rescheduled")
def _rescheduled(message: OutboxMessage) -> EmailMultiAlternatives | None:
    consultation = _current(message)
    if consultation is None:
        return None
    return consultation_rescheduled(
        consultation=consultation, token=manage_link_issue(consultation=consultation)
    )


@email_kind("consultation.cancelled")
def _cancelled(message: OutboxMessage) -> EmailMultiAlternatives | None:
    consultation = _consultation(message)
    if consultation is None or consultation.status != Appointment.Status.CANCELLED:
        return None
    return consultation_cancelled(consultation=consultation)


@email_kind("consultation.therapist_notice")
def _therapist_notice(message: OutboxMessage) -> EmailMultiAlternatives | None:
    consultation = _consultation(message)
    if consultation is None:
        return None
    return consultation_therapist_notice(consultation=consultation, event=message.params["event"])


@email_kind("consultation.video_link")
def _video_link(message: OutboxMessage) -> EmailMultiAlternatives | None:
    consultation = _consultation(message)
    if consultation is None or not consultation.is_upcoming or not consultation.video_link:
        return None  # cancelled, over, or no longer a video call
    return consultation_video_link(consultation=consultation)


@email_kind("consultation.waitlist_opening")
def _waitlist_opening(message: OutboxMessage) -> EmailMultiAlternatives | None:
    entry = object_of(WaitlistEntry.objects.all(), message)
    opened_at = datetime.fromisoformat(message.params["opened_at"])
    if entry is None or opened_at <= timezone.now():
        return None
    return waitlist_opening(entry=entry, opened_at=opened_at)


@reminder_email(AppointmentKind.CONSULTATION)
def _reminder(*, appointment: Appointment, reminder: str) -> EmailMultiAlternatives | None:
    consultation = Consultation.objects.with_appointment().filter(appointment=appointment).first()
    if consultation is None:
        return None
    return consultation_reminder(consultation=consultation)
