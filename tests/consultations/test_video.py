"""Video calls: the link she joins by, in her emails and sent again from the admin.

The practice keeps one video room (on the practice profile); an appointment
may carry its own link instead. Emails are checked in both parts, through a
real SMTP server.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from consultations.models import Consultation
from consultations.services import (
    VIDEO_LINK_RESEND_SECONDS,
    consultation_reschedule,
    consultation_send_video_link,
    consultation_set_meeting,
    consultation_transition,
)
from consultations.zones import in_two_zones, zone_label
from practice.models import Appointment, OutboxMessage
from practice.outbox.services import outbox_send_due
from tests.consultations.conftest import FIRST_SLOT, NOW, assert_nothing_clinical
from tests.consultations.factories import AppointmentFactory, ConsultationFactory
from tests.support.smtp import html_part, text_part

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("weekly_hours", "frozen_now", "eager_tasks"),
]

ROOM = "https://video.example/harbor-light"
PROMISE = "A video link will reach you by email before the call."
LIST = "/admin/consultations/consultation/"


@pytest.fixture
def video_room(practice_profile):  # type: ignore[no-untyped-def]
    practice_profile.video_room_url = ROOM
    practice_profile.save()
    return ROOM


@pytest.fixture
def book(client, booking_data, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def run(**overrides: str) -> Consultation:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/consultation/", booking_data(**overrides))
        assert response.status_code == 302
        return Consultation.objects.latest("created_at")

    return run


def video_consultation(**fields) -> Consultation:  # type: ignore[no-untyped-def]
    appointment = AppointmentFactory(
        start=fields.pop("start", FIRST_SLOT),
        mode=fields.pop("mode", "video"),
        video_url=fields.pop("video_url", ""),
    )
    return ConsultationFactory(appointment=appointment, **fields)


def video_link_rows(consultation: Consultation) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.about(consultation).filter(kind="consultation.video_link"))


# --- Where the link lives ----------------------------------------------------------


def test_the_link_is_the_appointments_own_else_the_practice_room(practice_profile):
    by_phone = video_consultation(mode="phone")
    own = video_consultation(
        start=FIRST_SLOT + timedelta(hours=1), video_url="https://video.example/only-ada"
    )
    room = video_consultation(start=FIRST_SLOT + timedelta(hours=2))

    without_room = room.video_link
    practice_profile.video_room_url = ROOM
    practice_profile.save()

    assert (without_room, by_phone.video_link) == ("", "")
    assert own.video_link == "https://video.example/only-ada"
    assert room.video_link == ROOM


def test_setting_the_meeting_switches_the_appointment_through_the_service(video_room):
    consultation = video_consultation()

    consultation_set_meeting(consultation=consultation, mode="phone")
    as_phone = Appointment.objects.get(pk=consultation.appointment_id).mode
    consultation = consultation_set_meeting(
        consultation=consultation, mode="video", video_url=" https://video.example/ada "
    )

    assert as_phone == "phone"
    assert (consultation.appointment.mode, consultation.appointment.video_url) == (
        "video",
        "https://video.example/ada",
    )
    assert consultation.video_link == "https://video.example/ada"


def test_setting_the_meeting_refuses_in_person_and_a_cancelled_call(video_room):
    consultation = video_consultation()

    with pytest.raises(ValidationError, match="phone or a video call"):
        consultation_set_meeting(consultation=consultation, mode="in_person")
    Appointment.objects.filter(pk=consultation.appointment_id).update(status="cancelled")
    with pytest.raises(ValidationError, match="keeps how it was held"):
        consultation_set_meeting(consultation=consultation, mode="phone")


def test_the_practice_profile_admin_edits_the_video_room(admin_client_mfa):
    html = admin_client_mfa.get("/admin/practice/practiceprofile/1/change/").content.decode()

    assert 'name="video_room_url"' in html
    assert "Video calls" in html


# --- The link in her emails --------------------------------------------------------


def test_the_confirmation_carries_the_video_link_instead_of_the_promise(
    smtp_sink, book, video_room
):
    book(meeting_mode="video")

    mine = smtp_sink.wait_for(2) and smtp_sink.to("nora@example.com")[0]

    text, html = text_part(mine).replace("\r\n", "\n"), html_part(mine)
    assert f"join with this video link:\n{ROOM}" in text
    assert f'<a href="{ROOM}">{ROOM}</a>' in html
    assert PROMISE not in text
    assert PROMISE not in html
    assert "/consultation/manage/" in text  # the manage link stays


def test_without_a_video_room_the_confirmation_keeps_the_promise(smtp_sink, book):
    book(meeting_mode="video")

    mine = smtp_sink.wait_for(2) and smtp_sink.to("nora@example.com")[0]

    assert PROMISE in text_part(mine)
    assert PROMISE in html_part(mine)
    assert "Video link" not in html_part(mine)


def test_a_phone_call_confirmation_has_no_video_link(smtp_sink, book, video_room):
    book(meeting_mode="phone")

    mine = smtp_sink.wait_for(2) and smtp_sink.to("nora@example.com")[0]

    assert ROOM not in text_part(mine) + html_part(mine)
    assert "I will call you at the number you gave" in text_part(mine)


def test_the_reminders_carry_the_video_link(client, smtp_sink, book, video_room):
    book(meeting_mode="video")
    smtp_sink.wait_for(2)

    with time_machine.travel(FIRST_SLOT - timedelta(minutes=50), tick=False):
        outbox_send_due()

    reminder = smtp_sink.wait_for(3) and smtp_sink.to("nora@example.com")[-1]
    assert str(reminder["Subject"]).startswith("Reminder")
    assert f"Video link: {ROOM}" in text_part(reminder)
    assert f'<a href="{ROOM}">{ROOM}</a>' in html_part(reminder)
    link = next(w for w in text_part(reminder).split() if "/consultation/manage/" in w)
    assert client.get(link.removeprefix("http://localhost:8000")).status_code == 200


def test_the_rescheduled_email_carries_this_calls_own_link(
    smtp_sink, book, video_room, django_capture_on_commit_callbacks
):
    consultation = book(meeting_mode="video")
    smtp_sink.wait_for(2)
    consultation_set_meeting(
        consultation=consultation, mode="video", video_url="https://video.example/nora"
    )

    with django_capture_on_commit_callbacks(execute=True):
        consultation_reschedule(consultation=consultation, start=FIRST_SLOT + timedelta(days=1))

    moved = smtp_sink.wait_for(4) and smtp_sink.to("nora@example.com")[-1]
    assert "Video link: https://video.example/nora" in text_part(moved)
    assert '<a href="https://video.example/nora">' in html_part(moved)
    assert ROOM not in text_part(moved)


# --- Sending the link from the admin -------------------------------------------------


def test_the_send_button_emails_her_the_link_and_says_to_whom(
    admin_client_mfa, client, smtp_sink, video_room, django_capture_on_commit_callbacks
):
    consultation = video_consultation(first_name="Ada", email="ada@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_mfa.post(f"{LIST}{consultation.pk}/send-video-link/", follow=True)

    assert [str(m) for m in response.context["messages"]] == ["Sent to ada@example.com."]
    message = smtp_sink.wait_for(1)[0]
    subject = str(message["Subject"])
    # Short, says what it is, with the day in her zone.
    assert "video link" in subject.lower()
    assert "Tue, Jan 5" in subject
    assert len(subject) < 60
    text, html = text_part(message), html_part(message)
    assert "Hello Ada," in text and "Hello Ada," in html
    assert ROOM in text
    assert f'href="{ROOM}"' in html
    assert "Tuesday, January 5, 2027 at 12:00 PM (Eastern time, New York)" in text
    link = next(w for w in text.split() if "/consultation/manage/" in w)
    assert client.get(link.removeprefix("http://localhost:8000")).status_code == 200


def test_a_double_click_sends_once_and_a_resend_later_sends_again(
    admin_client_mfa, therapist, video_room, django_capture_on_commit_callbacks, mailoutbox
):
    consultation = video_consultation(email="ada@example.com")
    url = f"{LIST}{consultation.pk}/send-video-link/"

    with django_capture_on_commit_callbacks(execute=True):
        admin_client_mfa.post(url, follow=True)
        again = admin_client_mfa.post(url, follow=True)
    with time_machine.travel(NOW + timedelta(seconds=VIDEO_LINK_RESEND_SECONDS + 1), tick=False):
        admin_client_mfa.force_login(therapist)
        with django_capture_on_commit_callbacks(execute=True):
            later = admin_client_mfa.post(url, follow=True)

    assert [str(m) for m in again.context["messages"]] == [
        "Already on its way to ada@example.com (asked moments ago); not sent twice."
    ]
    assert [str(m) for m in later.context["messages"]] == ["Sent to ada@example.com."]
    assert len(video_link_rows(consultation)) == 2
    assert [m.to for m in mailoutbox] == [["ada@example.com"], ["ada@example.com"]]


def test_two_requests_in_the_same_moment_write_one_row(video_room, therapist):
    consultation = video_consultation()

    first = consultation_send_video_link(consultation=consultation, actor=therapist)
    second = consultation_send_video_link(consultation=consultation, actor=therapist)

    assert (first.asked, second.asked) == (True, False)
    assert len(video_link_rows(consultation)) == 1


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"mode": "phone"}, "This is a phone call"),
        ({"start": NOW - timedelta(hours=1)}, "no longer upcoming"),
    ],
)
def test_the_link_is_not_sent_for_a_phone_call_or_a_past_call(
    video_room, therapist, change, refusal
):
    consultation = video_consultation(**change)

    with pytest.raises(ValidationError, match=refusal):
        consultation_send_video_link(consultation=consultation, actor=therapist)
    assert video_link_rows(consultation) == []


def test_without_any_link_the_button_is_refused_kindly(admin_client_mfa):
    consultation = video_consultation()

    response = admin_client_mfa.post(f"{LIST}{consultation.pk}/send-video-link/", follow=True)

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "There is no video link yet: add your video room to the practice profile, "
        "or a link for this call."
    ]
    assert video_link_rows(consultation) == []


def test_a_link_asked_for_a_call_cancelled_before_sending_is_voided(
    video_room, therapist, mailoutbox
):
    consultation = video_consultation()
    consultation_send_video_link(consultation=consultation, actor=therapist)
    consultation_transition(consultation=consultation, to="cancelled")

    report = outbox_send_due()

    (row,) = video_link_rows(consultation)
    assert row.status == "voided"
    assert report.sent == 2  # her cancellation and the therapist's notice, no link
    assert all(ROOM not in m.body for m in mailoutbox)


def test_no_video_email_carries_the_intake_or_call_notes(
    admin_client_mfa, smtp_sink, book, video_room, django_capture_on_commit_callbacks
):
    consultation = book(
        meeting_mode="video",
        reason="Postpartum depression; I tried micro-dosing.",
        medications="sertraline 50mg",
    )
    Consultation.objects.filter(pk=consultation.pk).update(
        call_notes="Discussed her anxiety and sleep."
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_mfa.post(f"{LIST}{consultation.pk}/send-video-link/")
    with time_machine.travel(FIRST_SLOT - timedelta(minutes=50), tick=False):
        outbox_send_due()

    messages = smtp_sink.wait_for(4)

    for message in messages:
        everything = f"{message['Subject']}\n{text_part(message)}\n{html_part(message)}"
        assert_nothing_clinical(everything)
        assert "sleep" not in everything.lower()
    sent = set(OutboxMessage.objects.filter(status="sent").values_list("kind", flat=True))
    assert {"consultation.video_link", "reminder.consultation"} <= sent


# --- Her time beside the practice's --------------------------------------------------


def test_a_time_in_two_zones_names_both_as_people_say_them():
    from zoneinfo import ZoneInfo

    la, ny = ZoneInfo("America/Los_Angeles"), ZoneInfo("America/New_York")

    assert in_two_zones(FIRST_SLOT, ours=la, hers=ny) == (
        "Tue, Jan 5, 9:00 AM (Pacific time, Los Angeles) — 12:00 PM for her "
        "(Eastern time, New York)"
    )
    assert in_two_zones(FIRST_SLOT, ours=la, hers=la) == (
        "Tue, Jan 5, 9:00 AM (Pacific time, Los Angeles) — the same for her"
    )
    assert zone_label("Europe/Berlin") == "Berlin"
    assert zone_label("America/Argentina/Buenos_Aires") == "Buenos Aires"
