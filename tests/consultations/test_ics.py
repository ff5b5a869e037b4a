"""The calendar files, as mail and calendar apps read them (RFC 5545, RFC 5546, RFC 6047).

Every file is taken from an email the outbox really sent to the SMTP sink and
read back with the icalendar parser.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar, Event

from consultations.models import Consultation
from consultations.services import (
    consultation_book,
    consultation_reschedule,
    consultation_transition,
)
from practice.discretion import discretion_words_in
from practice.identity import practice_profile_forget
from tests.consultations.conftest import FIRST_SLOT
from tests.support.smtp import SMTPSink

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("weekly_hours", "frozen_now", "eager_tasks"),
]

HER = "nora@example.com"
PRACTICE = "hello@harborlight.example"
LATER = FIRST_SLOT + timedelta(days=1)

# What RFC 5546 section 3.2 asks of a VEVENT for each method: properties that
# must be there once, and those that must not be there at all.
ITIP_REQUIRED = {
    "PUBLISH": {"DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"},
    "REQUEST": {"ATTENDEE", "DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"},
    "CANCEL": {"DTSTAMP", "ORGANIZER", "SEQUENCE", "UID"},
}
ITIP_FORBIDDEN = {"PUBLISH": {"ATTENDEE"}, "REQUEST": set(), "CANCEL": set()}


@pytest.fixture
def book(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Book through the service (as the booking page does), emails sent on commit."""

    def run(*, meeting_mode: str = "video", time_zone: str = "America/New_York") -> Consultation:
        with django_capture_on_commit_callbacks(execute=True):
            booking = consultation_book(
                start=FIRST_SLOT,
                details={
                    "first_name": "Nora",
                    "last_name": "O'Neill",
                    "email": HER,
                    "phone": "+1 510 555 0100",
                    "time_zone": time_zone,
                    "meeting_mode": meeting_mode,
                    "reason": "Postpartum depression; I tried micro-dosing.",
                    "perinatal": "postpartum",
                    "perinatal_months": 5,
                    "prior_experience": "micro",
                    "medications": "sertraline",
                    "consent_to_contact": True,
                },
                submission_id=uuid.uuid4(),
            )
        return booking.consultation

    return run


@pytest.fixture
def reschedule(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def run(consultation: Consultation, start: datetime) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            consultation_reschedule(consultation=consultation, start=start)

    return run


@pytest.fixture
def cancel(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def run(consultation: Consultation) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            consultation_transition(consultation=consultation, to="cancelled", by="client")

    return run


def calendar_part(message: EmailMessage) -> EmailMessage:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "expected exactly one calendar attachment"
    return parts[0]  # type: ignore[return-value]


def raw_file(message: EmailMessage) -> str:
    return calendar_part(message).get_payload(decode=True).decode()  # type: ignore[union-attr]


def event_of(message: EmailMessage) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(raw_file(message))
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def received(sink: SMTPSink, count: int, to: str) -> list[EmailMessage]:
    sink.wait_for(count)
    return sink.to(to)


def test_her_confirmation_is_an_itip_request_and_its_mime_type_says_so(smtp_sink, book):
    book()

    (mine,) = received(smtp_sink, 2, HER)

    part = calendar_part(mine)
    calendar, _ = event_of(mine)
    assert (part.get_content_type(), part.get_param("method"), part.get_param("charset")) == (
        "text/calendar",
        "REQUEST",
        "utf-8",
    )
    assert part.get_filename() == "consultation.ics"
    assert str(calendar["method"]) == "REQUEST"


def test_her_event_has_the_practice_as_organizer_and_her_as_an_accepted_attendee(smtp_sink, book):
    book()

    _, event = event_of(received(smtp_sink, 2, HER)[0])

    organizer, attendee = event["organizer"], event["attendee"]
    assert (str(organizer), organizer.params["CN"]) == (f"mailto:{PRACTICE}", "Lena Marsh")
    assert str(attendee) == f"mailto:{HER}"
    assert dict(attendee.params) == {
        "CN": "Nora O'Neill",
        "CUTYPE": "INDIVIDUAL",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "ACCEPTED",
        "RSVP": "FALSE",
    }


@pytest.mark.parametrize("time_zone", ["Australia/Sydney", "America/New_York", "Asia/Kolkata"])
def test_the_file_is_written_in_utc_with_no_time_zone_rules(smtp_sink, book, time_zone):
    book(time_zone=time_zone)

    mine = received(smtp_sink, 2, HER)[0]

    raw = raw_file(mine)
    assert "DTSTART:20270105T170000Z\r\n" in raw
    assert "DTEND:20270105T172000Z\r\n" in raw
    assert "VTIMEZONE" not in raw
    assert "TZID" not in raw
    _, event = event_of(mine)
    assert event.decoded("dtstart") == FIRST_SLOT
    assert event.decoded("dtstart").utcoffset() == timedelta(0)


def test_her_calendar_title_is_a_call_with_the_therapist_and_nothing_more(
    smtp_sink, book, practice_profile
):
    # A practice whose name and tagline say what it does: neither may show.
    practice_profile.practice_name = "Harbor Light Ketamine Therapy"
    practice_profile.tagline = "Ketamine-assisted psychotherapy (KAP) for mothers"
    practice_profile.save()
    practice_profile_forget()
    book(meeting_mode="phone")

    _, event = event_of(received(smtp_sink, 2, HER)[0])

    shown = [str(event[name]) for name in ("summary", "description", "location")]
    assert shown == [
        "Call with Lena Marsh",
        "Phone call with Lena Marsh. "
        "The details and a link to reschedule or cancel are in your email.",
        "Phone call",
    ]
    assert str(event["class"]) == "PRIVATE"
    for text in shown:
        assert discretion_words_in(text) == []
        assert "therap" not in text.lower()
        assert "LMFT" not in text


def test_a_video_call_s_location_is_the_link_she_joins_by(smtp_sink, book, practice_profile):
    practice_profile.video_room_url = "https://meet.example.com/lena-marsh"
    practice_profile.save()
    practice_profile_forget()
    book(meeting_mode="video")

    _, event = event_of(received(smtp_sink, 2, HER)[0])

    assert str(event["location"]) == "https://meet.example.com/lena-marsh"


def test_a_video_call_with_no_room_yet_says_video_call(smtp_sink, book):
    book(meeting_mode="video")

    _, event = event_of(received(smtp_sink, 2, HER)[0])

    assert str(event["location"]) == "Video call"


def test_a_move_replaces_her_event_and_a_cancellation_removes_it(
    smtp_sink, book, reschedule, cancel
):
    consultation = book()
    smtp_sink.wait_for(2)
    reschedule(consultation, LATER)
    smtp_sink.wait_for(4)
    cancel(consultation)

    booked, moved, cancelled = received(smtp_sink, 6, HER)

    files = [event_of(m) for m in (booked, moved, cancelled)]
    assert [str(calendar["method"]) for calendar, _ in files] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [calendar_part(m).get_param("method") for m in (booked, moved, cancelled)] == [
        "REQUEST",
        "REQUEST",
        "CANCEL",
    ]
    assert len({str(event["uid"]) for _, event in files}) == 1
    assert [int(event["sequence"]) for _, event in files] == [0, 1, 2]
    assert [event.decoded("dtstart") for _, event in files] == [FIRST_SLOT, LATER, LATER]
    assert [str(event["status"]) for _, event in files] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    # A CANCEL of the whole event names every attendee (RFC 5546 section 3.2.5).
    assert str(files[2][1]["attendee"]) == f"mailto:{HER}"


def test_the_therapist_notice_carries_her_own_event(smtp_sink, book):
    consultation = book()

    notice = received(smtp_sink, 2, PRACTICE)[0]
    mine = received(smtp_sink, 2, HER)[0]

    calendar, event = event_of(notice)
    assert calendar_part(notice).get_param("method") == "PUBLISH"
    assert str(calendar["method"]) == "PUBLISH"
    assert "attendee" not in event
    assert str(event["organizer"]) == f"mailto:{PRACTICE}"
    assert str(event["summary"]) == "Free consultation: Nora O."
    assert str(event["description"]) == (
        "Video call with Nora O.\n"
        f"http://localhost:8000/admin/consultations/consultation/{consultation.pk}/change/"
    )
    assert event.decoded("dtstart") == FIRST_SLOT
    assert "VTIMEZONE" not in raw_file(notice)
    # Not the same event as hers: a calendar holding both keeps both.
    assert str(event["uid"]) != str(event_of(mine)[1]["uid"])
    raw = raw_file(notice)
    for answer in ("Postpartum", "micro-dosing", "sertraline", "O'Neill"):
        assert answer not in raw


def test_the_therapist_s_event_moves_and_is_cancelled_with_the_consultation(
    smtp_sink, book, reschedule, cancel
):
    consultation = book()
    smtp_sink.wait_for(2)
    reschedule(consultation, LATER)
    smtp_sink.wait_for(4)
    cancel(consultation)

    notices = received(smtp_sink, 6, PRACTICE)

    files = [event_of(m) for m in notices]
    assert [str(calendar["method"]) for calendar, _ in files] == ["PUBLISH", "PUBLISH", "CANCEL"]
    assert [calendar_part(m).get_param("method") for m in notices] == [
        "PUBLISH",
        "PUBLISH",
        "CANCEL",
    ]
    assert len({str(event["uid"]) for _, event in files}) == 1
    assert [int(event["sequence"]) for _, event in files] == [0, 1, 2]
    assert [event.decoded("dtstart") for _, event in files] == [FIRST_SLOT, LATER, LATER]
    assert str(files[2][1]["status"]) == "CANCELLED"
    assert "takes it off your calendar" in notices[2].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_every_file_meets_the_itip_rules_of_its_method(smtp_sink, book, reschedule, cancel):
    consultation = book()
    smtp_sink.wait_for(2)
    reschedule(consultation, LATER)
    smtp_sink.wait_for(4)
    cancel(consultation)

    messages = smtp_sink.wait_for(6)

    seen = []
    for message in messages:
        calendar, event = event_of(message)
        method = str(calendar["method"])
        present = {name.upper() for name in event}
        assert ITIP_REQUIRED[method] <= present, (method, present)
        assert not ITIP_FORBIDDEN[method] & present, (method, present)
        assert calendar_part(message).get_param("method") == method
        assert event.decoded("dtstamp") == datetime(2027, 1, 4, 16, 0, tzinfo=UTC)
        seen.append(method)
    assert sorted(seen) == ["CANCEL", "CANCEL", "PUBLISH", "PUBLISH", "REQUEST", "REQUEST"]
