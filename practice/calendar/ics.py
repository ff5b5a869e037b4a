"""Calendar files (ICS, RFC 5545): the pieces every app's events share.

An event is written the same way wherever it is sent from (a consultation's
email, the client portal's download): times in UTC with no VTIMEZONE (a
one-off event needs no zone rules, and calendar servers built on vobject read
a generated VTIMEZONE wrongly; see ``consultations/ics.py``), CLASS:PRIVATE,
the therapist as ORGANIZER, and no word that names a treatment: the file may
land in a family's shared calendar.

:func:`appointment_ics` is the portal's download of one of her appointments:
a PUBLISH with no attendee (RFC 5546 section 3.2.1), which a calendar adds as
a plain event, titled "Appointment with <therapist>" whatever its kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from practice.identity import practice_profile
from practice.models import PracticeProfile

from .models import Appointment, MeetingMode

__all__ = ["CalendarFile", "appointment_ics", "calendar_event", "calendar_file", "calendar_host"]


@dataclass(frozen=True)
class CalendarFile:
    """An iCalendar file and the iTIP method its MIME type must repeat."""

    content: bytes
    method: str
    filename: str = "appointment.ics"

    @property
    def mimetype(self) -> str:
        # RFC 5545 section 8.1: the "method" parameter is required for an
        # iTIP message and matches the file's METHOD.
        return f'text/calendar; charset="utf-8"; method={self.method}'

    def as_attachment(self) -> tuple[str, bytes, str]:
        """``(filename, content, mimetype)``, as ``practice.mail.build_email`` takes it."""
        return (self.filename, self.content, self.mimetype)


def calendar_host() -> str:
    """The site's host name, the right-hand side of every UID the practice writes."""
    return urlparse(settings.SITE_URL).hostname or "localhost"


def calendar_event(
    *,
    uid: str,
    sequence: int,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    location: str,
    cancelled: bool = False,
) -> Event:
    """One VEVENT in the practice's form: UTC times, private, the therapist organizing."""
    profile = practice_profile()
    event = Event()
    event.add("uid", uid)
    # Calendar apps replace an event they already hold when the sequence grows.
    event.add("sequence", sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    # Asks a shared calendar to show others only that the time is taken
    # (calendars that honour CLASS do; the rest show the words above).
    event.add("class", "PRIVATE")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{profile.email}")
    organizer.params["CN"] = profile.therapist_name
    event.add("organizer", organizer)
    return event


def calendar_file(event: Event, *, method: str, product: str, filename: str) -> CalendarFile:
    """The VCALENDAR around ``event``; ``product`` names the part of the app in PRODID."""
    calendar = Calendar()
    calendar.add("prodid", f"-//{calendar_host()}//{product}//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(event)
    return CalendarFile(content=calendar.to_ical(), method=method, filename=filename)


def appointment_ics(appointment: Appointment) -> CalendarFile:
    """Her download of one appointment from the portal: a PUBLISH with no attendee."""
    profile = practice_profile()
    mode = appointment.get_mode_display() or "Appointment"
    event = calendar_event(
        uid=f"appointment-{appointment.pk}@{calendar_host()}",
        sequence=0,
        start=appointment.start,
        end=appointment.end,
        summary=f"Appointment with {profile.therapist_name}",
        description=f"{mode} with {profile.therapist_name}. The details are in your portal.",
        location=_location(appointment, profile),
        cancelled=appointment.status == Appointment.Status.CANCELLED,
    )
    return calendar_file(
        event, method="PUBLISH", product="Portal", filename=f"appointment-{appointment.pk}.ics"
    )


def _location(appointment: Appointment, profile: PracticeProfile) -> str:
    """The link she joins by, the practice's address, or how we meet."""
    link = appointment.video_link(profile.video_room_url)
    if link:
        return link
    if appointment.mode == MeetingMode.IN_PERSON and profile.street_address:
        return profile.postal_address
    return appointment.get_mode_display()
