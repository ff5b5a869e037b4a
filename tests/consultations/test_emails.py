"""Every consultation email, end to end through a real SMTP server.

Checks both parts of each message, the calendar file, and that nothing
clinical (intake answers, treatment words) leaves the app.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
import time_machine
from icalendar import Calendar

from consultations.models import Consultation
from consultations.services import (
    consultation_transition,
    waitlist_join,
)
from practice.identity import practice_profile_forget
from practice.outbox.services import outbox_send_due
from tests.consultations.conftest import FIRST_SLOT, assert_nothing_clinical
from tests.support.smtp import html_part, text_part

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("weekly_hours", "frozen_now", "eager_tasks"),
]


def calendar_of(message: EmailMessage) -> Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "expected exactly one calendar attachment"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def everything_in(message: EmailMessage) -> str:
    pieces = [str(message["Subject"]), text_part(message), html_part(message)]
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            pieces.append(part.get_payload(decode=True).decode())
    return "\n".join(pieces)


@pytest.fixture
def book(client, booking_data, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def run(**overrides: str) -> Consultation:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/consultation/", booking_data(**overrides))
        assert response.status_code == 302
        return Consultation.objects.latest("created_at")

    return run


def test_the_confirmation_carries_a_calendar_file_for_the_booked_time(smtp_sink, book):
    consultation = book()

    messages = smtp_sink.wait_for(2)

    mine = smtp_sink.to("nora@example.com")[0]
    assert mine["Subject"] == (
        "Your free consultation is booked: Tuesday, January 5, 2027 at 12:00 PM "
        "(Eastern time, New York)"
    )
    text, html = text_part(mine), html_part(mine)
    assert "Hello Nora," in text and "Hello Nora," in html
    assert "Video call, about 20 minutes" in text
    assert "http://localhost:8000/consultation/manage/" in text
    assert 'href="http://localhost:8000/consultation/manage/' in html
    event = calendar_of(mine).walk("VEVENT")[0]
    assert event.decoded("dtstart") == FIRST_SLOT
    assert event.decoded("dtend") == FIRST_SLOT + timedelta(minutes=20)
    assert str(event["summary"]) == "Free consultation with Harbor Light Therapy"
    assert str(event["uid"]) == f"consultation-{consultation.public_id}@localhost"
    assert str(event.decoded("dtstart").tzinfo) == "America/New_York"
    assert calendar_of(mine).walk("VTIMEZONE"), "the file carries its time zone data"
    assert len(messages) == 2


def test_the_manage_link_in_the_email_opens_her_booking(client, smtp_sink, book):
    book()
    text = text_part(smtp_sink.wait_for(2) and smtp_sink.to("nora@example.com")[0])
    link = next(w for w in text.split() if "/consultation/manage/" in w)

    response = client.get(link.removeprefix("http://localhost:8000"))

    assert "Your free consultation" in response.content.decode()


def test_the_therapist_notice_links_to_the_admin_and_names_no_answers(smtp_sink, book):
    consultation = book()

    notice = smtp_sink.wait_for(2) and smtp_sink.to("hello@harborlight.example")[0]

    assert notice["Subject"] == (
        "New free consultation: Nora O'Neill, Tuesday, January 5, 2027 at 9:00 AM "
        "(Pacific time, Los Angeles)"
    )
    assert (
        f"http://localhost:8000/admin/consultations/consultation/{consultation.pk}/change/"
        in text_part(notice)
    )
    assert "far away" not in everything_in(notice)
    assert_nothing_clinical(everything_in(notice))


def test_reschedule_and_cancel_send_updates_with_a_growing_sequence(
    client, smtp_sink, book, django_capture_on_commit_callbacks
):
    consultation = book()
    smtp_sink.wait_for(2)
    from consultations.links import manage_link_issue

    url = f"/consultation/manage/{manage_link_issue(consultation=consultation)}/"
    later = FIRST_SLOT + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "reschedule", "start": later.isoformat()})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "cancel", "reason": "no childcare"})

    messages = smtp_sink.wait_for(6)

    hers = smtp_sink.to("nora@example.com")
    assert [m["Subject"].split(":")[0] for m in hers] == [
        "Your free consultation is booked",
        "Your free consultation has moved to Wednesday, January 6, 2027 at 12",
        "Your free consultation on Wednesday, January 6, 2027 at 12",
    ]
    moved, cancelled = calendar_of(hers[1]), calendar_of(hers[2])
    assert moved.walk("VEVENT")[0].decoded("dtstart") == later
    assert int(moved.walk("VEVENT")[0]["sequence"]) == 1
    assert str(cancelled["method"]) == "CANCEL"
    assert int(cancelled.walk("VEVENT")[0]["sequence"]) == 2
    assert "Book another time" in html_part(hers[2])
    assert len(messages) == 6


def test_a_practice_cancellation_carries_her_note(
    smtp_sink, book, django_capture_on_commit_callbacks
):
    consultation = book()
    smtp_sink.wait_for(2)

    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(
            consultation=consultation, to="cancelled", note="I have to be away that week."
        )

    message = smtp_sink.wait_for(4) and smtp_sink.to("nora@example.com")[-1]
    assert "I have had to cancel" in text_part(message)
    assert "I have to be away that week." in text_part(message)
    assert "I have to be away that week." in html_part(message)


def test_a_reminder_has_the_time_in_her_zone_and_a_working_link(client, smtp_sink, book):
    book()
    smtp_sink.wait_for(2)

    with time_machine.travel(FIRST_SLOT - timedelta(minutes=50), tick=False):
        sent = outbox_send_due().sent

    # Both reminders are due by now; only the closer one goes out.
    assert sent == 1
    reminder = smtp_sink.wait_for(3) and smtp_sink.to("nora@example.com")[-1]
    assert reminder["Subject"] == (
        "Reminder: your free consultation, Tuesday, January 5, 2027 at 12:00 PM "
        "(Eastern time, New York)"
    )
    text = text_part(reminder)
    assert "Video call" in text
    link = next(w for w in text.split() if "/consultation/manage/" in w)
    assert client.get(link.removeprefix("http://localhost:8000")).status_code == 200


def test_a_freed_time_is_offered_to_the_waitlist_oldest_first(
    smtp_sink, book, django_capture_on_commit_callbacks
):
    waitlist_join(name="Ivy", email="ivy@example.com", preferred_times="", time_zone="UTC")
    waitlist_join(name="June", email="june@example.com", preferred_times="", time_zone="UTC")
    consultation = book()
    smtp_sink.wait_for(2)

    with django_capture_on_commit_callbacks(execute=True):
        consultation_transition(consultation=consultation, to="cancelled", by="client")

    messages = smtp_sink.wait_for(6)
    openings = [m for m in messages if "A time has opened" in str(m["Subject"])]
    assert [str(m["To"]) for m in openings] == ["ivy@example.com", "june@example.com"]
    assert "Tuesday, January 5, 2027 at 5:00 PM (UTC)" in text_part(openings[0])


def test_no_email_or_calendar_file_says_anything_clinical(
    client, smtp_sink, book, practice_profile, django_capture_on_commit_callbacks
):
    # Even a tagline that names the treatment must not leak into email.
    practice_profile.tagline = "Ketamine-assisted psychotherapy (KAP) for mothers"
    practice_profile.save()
    practice_profile_forget()
    waitlist_join(name="Ivy", email="ivy@example.com", preferred_times="", time_zone="UTC")
    consultation = book(
        reason="Postpartum depression and anxiety; I tried micro-dosing psilocybin.",
        medications="sertraline 50mg",
        prior_experience="both",
    )
    from consultations.links import manage_link_issue

    url = f"/consultation/manage/{manage_link_issue(consultation=consultation)}/"
    later = (FIRST_SLOT + timedelta(days=1)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "reschedule", "start": later})
    with time_machine.travel(FIRST_SLOT + timedelta(minutes=30), tick=False):
        outbox_send_due()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "cancel", "reason": "depressed today"})

    messages = smtp_sink.wait_for(8)

    assert len(messages) >= 8
    for message in messages:
        assert_nothing_clinical(everything_in(message))
