"""The calendar files (ICS, RFC 5545) sent with consultation emails.

Two events per consultation, each with its own UID, so that neither replaces
the other in a calendar that holds both:

- hers (:func:`consultation_ics`), titled "Call with <therapist>": it may land
  in a family's shared calendar, so no title, description or location names
  a treatment, the practice's name, a manage link or an intake answer;
- the therapist's own (:func:`therapist_ics`), titled with the booker's first
  name and last initial: it may be seen over her shoulder, so it stays short
  and holds no intake answer either.

How a calendar reads the file (iTIP, RFC 5546, carried by email as in RFC 6047):

- Her file names her as ATTENDEE, so its method is REQUEST (section 3.2.2).
  PUBLISH (section 3.2.1) would be the plainer choice, but its restriction
  table forbids attendees ("Attendees MUST NOT be present"), and without an
  attendee a calendar cannot tell that the event is hers. She chose the time
  herself, so she is already ACCEPTED and no reply is asked (RSVP=FALSE).
- The therapist's file has no attendee: it is an event the practice publishes
  into its own calendar, so PUBLISH, with the practice as ORGANIZER.
- A cancellation is CANCEL (section 3.2.5) with the same UID, a higher
  SEQUENCE, STATUS:CANCELLED and, for hers, every attendee; calendars then
  remove the event (or strike it through) instead of adding a second one.
- A reschedule sends the same UID with a higher SEQUENCE, which replaces the
  event.

Times are written in UTC (``DTSTART:20270105T170000Z``) with no VTIMEZONE.
A one-off event needs no time-zone rules, and a generated VTIMEZONE writes
its transitions as long comma-separated RDATE lists, of which calendar
servers built on vobject (Radicale, for one) read only the first value: they
placed a Sydney visitor's call an hour late. UTC reads the same everywhere,
and every calendar shows it in the reader's own zone.

The event's common form (UTC times, CLASS, ORGANIZER) and the file around it
come from ``practice.calendar.ics``, which the client portal's download uses
too.
"""

from __future__ import annotations

from django.urls import reverse
from icalendar import Event, vCalAddress

from practice.calendar.ics import CalendarFile, calendar_event, calendar_file, calendar_host
from practice.identity import practice_profile
from practice.mail import absolute_url
from practice.models import Appointment

from .models import Consultation

FILENAME = "consultation.ics"


def consultation_ics(consultation: Consultation, *, cancelled: bool = False) -> CalendarFile:
    """Her calendar event: a REQUEST naming her as attendee, or its CANCEL."""
    profile = practice_profile()
    method = "CANCEL" if cancelled else "REQUEST"
    event = _event(
        consultation,
        uid=f"consultation-{consultation.public_id}@{calendar_host()}",
        cancelled=cancelled,
        summary=f"Call with {profile.therapist_name}",
        description=(
            f"{consultation.get_meeting_mode_display()} with {profile.therapist_name}. "
            "The details and a link to reschedule or cancel are in your email."
        ),
    )
    attendee = vCalAddress(f"mailto:{consultation.email}")
    attendee.params["CN"] = consultation.full_name
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"
    event.add("attendee", attendee)
    return _file(event, method=method)


def therapist_ics(consultation: Consultation) -> CalendarFile:
    """The therapist's own event for ``consultation``: PUBLISH, or CANCEL once cancelled."""
    cancelled = consultation.status == Appointment.Status.CANCELLED
    who = booker_short_name(consultation)
    mode = consultation.get_meeting_mode_display()
    event = _event(
        consultation,
        uid=f"consultation-{consultation.public_id}-practice@{calendar_host()}",
        cancelled=cancelled,
        summary=f"Free consultation: {who}",
        # The admin link, not her details: the entry may sync to other devices.
        description=f"{mode} with {who}\n{_admin_url(consultation)}",
    )
    return _file(event, method="CANCEL" if cancelled else "PUBLISH")


def booker_short_name(consultation: Consultation) -> str:
    """'Nora O.' for Nora O'Neill: her first name and the initial of her last."""
    return " ".join(
        filter(None, [consultation.first_name.strip(), _initial(consultation.last_name)])
    )


def booker_initials(consultation: Consultation) -> str:
    """'N. O.' for Nora O'Neill."""
    return " ".join(
        filter(None, [_initial(consultation.first_name), _initial(consultation.last_name)])
    )


def _initial(name: str) -> str:
    letter = next((char for char in name if char.isalnum()), "")
    return f"{letter.upper()}." if letter else ""


def _event(
    consultation: Consultation, *, uid: str, cancelled: bool, summary: str, description: str
) -> Event:
    return calendar_event(
        uid=uid,
        sequence=consultation.sequence,
        start=consultation.appointment.start,
        end=consultation.appointment.end,
        summary=summary,
        description=description,
        location=_location(consultation),
        cancelled=cancelled,
    )


def _file(event: Event, *, method: str) -> CalendarFile:
    return calendar_file(event, method=method, product="Consultations", filename=FILENAME)


def _location(consultation: Consultation) -> str:
    """'Phone call', or the link she joins by ('Video call' until there is one)."""
    return consultation.video_link or consultation.get_meeting_mode_display()


def _admin_url(consultation: Consultation) -> str:
    return absolute_url(reverse("admin:consultations_consultation_change", args=[consultation.pk]))
