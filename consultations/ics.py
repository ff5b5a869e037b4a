"""The calendar file (ICS) sent with consultation emails.

The title names the practice and "free consultation", nothing else; no link or
intake answer goes into a file that may end up in a shared calendar.
"""

from __future__ import annotations

from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from practice.identity import practice_profile

from .models import Consultation


def consultation_ics(consultation: Consultation, *, cancelled: bool = False) -> bytes:
    profile = practice_profile()
    appointment = consultation.appointment
    zone = consultation.zone
    calendar = Calendar()
    calendar.add("prodid", f"-//{profile.practice_name}//Free consultations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    host = urlparse(settings.SITE_URL).hostname or "localhost"
    event.add("uid", f"consultation-{consultation.public_id}@{host}")
    # Calendar apps replace an event they already hold when the sequence grows.
    event.add("sequence", consultation.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    event.add("summary", f"Free consultation with {profile.practice_name}")
    event.add("location", consultation.get_meeting_mode_display())
    event.add(
        "description",
        f"{consultation.get_meeting_mode_display()} with {profile.therapist_display}. "
        "The details and a link to reschedule or cancel are in your email.",
    )
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
