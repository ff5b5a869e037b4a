"""Her private manage page: details, reschedule, cancel; dead and old links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from consultations.links import manage_link_issue
from consultations.models import Consultation, ManageLink
from practice.calendar.reminders import reminders_pending
from practice.models import Appointment, OutboxMessage
from tests.consultations.conftest import FIRST_SLOT
from tests.consultations.factories import AppointmentFactory, ConsultationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("weekly_hours", "frozen_now")]


@pytest.fixture
def booked(client, booking_data):  # type: ignore[no-untyped-def]
    """A consultation booked through the page; returns it with its manage URL."""
    client.post("/consultation/", booking_data())
    consultation = Consultation.objects.get()
    return consultation, f"/consultation/manage/{manage_link_issue(consultation=consultation)}/"


def test_the_link_shows_her_booking_in_her_zone(client, booked):
    _, url = booked

    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Tuesday, January 5, 2027 at 12:00 PM" in html
    assert "(Eastern time, New York)" in html
    assert "Video call" in html
    assert response["Cache-Control"].startswith("no-store")
    assert response["Referrer-Policy"] == "same-origin"


def test_the_page_leads_with_reschedule_and_cancel_and_shows_no_picker(client, booked):
    _, url = booked

    html = client.get(url).content.decode()

    actions = re.findall(r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>', html)
    assert actions[:2] == [(f"{url}reschedule/", "Reschedule"), (f"{url}cancel/", "Cancel")]
    assert html.index(f"{url}reschedule/") < html.index("site-footer")
    assert 'name="start"' not in html
    assert "<form" not in html[html.index("<main") : html.index("</main>")]


def test_the_reschedule_step_shows_the_picker_and_her_current_time(client, booked):
    _, url = booked

    response = client.get(url + "reschedule/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Your call is now on <strong>Tuesday, January 5 at 12:00 PM</strong>" in html
    assert 'name="start"' in html
    assert "Choose a new time" in html
    assert response["Cache-Control"].startswith("no-store")


def test_only_the_hash_of_a_token_is_stored(booked):
    consultation, url = booked
    token = url.split("/")[-2]

    assert len(token) >= 43
    assert not ManageLink.objects.filter(token_hash=token).exists()
    assert ManageLink.objects.filter(consultation=consultation).count() >= 2


def test_rescheduling_swaps_the_time_and_frees_the_old_one(client, booked):
    consultation, url = booked
    later = FIRST_SLOT + timedelta(days=1)

    response = client.post(url + "reschedule/", {"start": later.isoformat()})

    assert response.status_code == 302
    assert response["Location"] == url
    consultation.refresh_from_db()
    assert consultation.appointment.start == later
    assert consultation.sequence == 1
    old = Appointment.objects.get(start=FIRST_SLOT)
    assert (old.status, old.rescheduled_to_id) == ("cancelled", consultation.appointment.pk)
    assert reminders_pending(old) == []
    assert len(reminders_pending(consultation.appointment)) == 2
    followed = client.get(url).content.decode()
    assert "Your consultation has moved" in followed
    assert "Wednesday, January 6, 2027 at 12:00 PM" in followed
    slots = client.get("/consultation/slots.json").json()["slots"]
    assert slots[0] == FIRST_SLOT.isoformat()


def test_rescheduling_onto_a_taken_time_says_so_and_keeps_the_old_one(client, booked):
    consultation, url = booked
    taken = FIRST_SLOT + timedelta(hours=2)
    AppointmentFactory(start=taken)

    response = client.post(url + "reschedule/", {"start": taken.isoformat()})

    assert response.status_code == 409
    html = response.content.decode()
    assert "That time was just taken" in html
    assert '<a href="#slot-picker">That time was just taken.' in html
    consultation.refresh_from_db()
    assert consultation.appointment.start == FIRST_SLOT


def test_rescheduling_with_a_tampered_time_is_refused_kindly(client, booked):
    consultation, url = booked

    response = client.post(url + "reschedule/", {"start": "tomorrow at noon"})

    assert response.status_code == 409
    assert "Please choose one of the times offered." in response.content.decode()


def test_a_second_press_of_move_changes_nothing_more(client, booked):
    consultation, url = booked
    later = (FIRST_SLOT + timedelta(days=1)).isoformat()
    client.post(url + "reschedule/", {"start": later})

    again = client.post(url + "reschedule/", {"start": later})

    assert (again.status_code, again["Location"]) == (302, url)
    consultation.refresh_from_db()
    assert consultation.sequence == 1
    assert Appointment.objects.filter(status="booked").count() == 1


def test_the_cancel_step_asks_first_and_a_get_never_cancels(client, booked):
    consultation, url = booked

    response = client.get(url + "cancel/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Cancel my call on Tue, Jan 5 at 12:00 PM?</h1>" in html
    assert "Would you like to say why? (optional)" in html
    assert '<button type="submit" class="button" data-submit>Yes, cancel</button>' in html
    assert f'<a href="{url}">No, keep my call</a>' in html
    consultation.refresh_from_db()
    assert consultation.appointment.status == Appointment.Status.BOOKED


def test_cancelling_frees_the_time_and_keeps_her_reason(client, booked):
    consultation, url = booked

    response = client.post(url + "cancel/", {"reason": "My son is ill"})

    assert (response.status_code, response["Location"]) == (302, url)
    consultation.refresh_from_db()
    assert consultation.appointment.status == Appointment.Status.CANCELLED
    assert (consultation.cancelled_by, consultation.cancel_reason) == ("client", "My son is ill")
    assert reminders_pending(consultation.appointment) == []
    page = client.get(url).content.decode()
    assert "This consultation is cancelled" in page
    assert "Your call on <strong>Tuesday, January 5, 2027 at 12:00 PM</strong>" in page
    assert 'href="/consultation/"' in page
    assert client.get("/consultation/slots.json").json()["slots"][0] == FIRST_SLOT.isoformat()


def test_a_second_cancel_just_shows_the_state(client, booked):
    consultation, url = booked
    client.post(url + "cancel/", {"reason": "Plans changed"})

    again = client.post(url + "cancel/", {"reason": "Plans changed"})
    step = client.get(url + "cancel/")
    move = client.post(url + "reschedule/", {"start": FIRST_SLOT.isoformat()})

    assert [r.status_code for r in (again, step, move)] == [302, 302, 302]
    assert {r["Location"] for r in (again, step, move)} == {url}
    assert "This consultation is cancelled" in client.get(url).content.decode()
    consultation.refresh_from_db()
    assert consultation.sequence == 1
    kinds = OutboxMessage.objects.filter(recipient="nora@example.com").values_list(
        "kind", flat=True
    )
    assert sorted(kinds) == ["consultation.booked", "consultation.cancelled"]


def test_a_form_from_an_older_page_changes_nothing(client, booked):
    consultation, url = booked

    response = client.post(url, {"action": "cancel", "reason": "x"})

    assert (response.status_code, response["Location"]) == (302, url)
    consultation.refresh_from_db()
    assert consultation.appointment.status == Appointment.Status.BOOKED


def test_a_step_with_an_unknown_link_gets_the_friendly_page(client):
    for path in ("reschedule/", "cancel/"):
        response = client.get(f"/consultation/manage/{'x' * 43}/{path}")
        posted = client.post(f"/consultation/manage/{'x' * 43}/{path}", {"start": "x"})

        assert (response.status_code, posted.status_code) == (404, 404)
        assert "This link does not work" in response.content.decode()


def test_a_video_consultation_shows_its_link_and_a_phone_call_does_not(client, practice_profile):
    from practice.models import PracticeProfile

    PracticeProfile.objects.update(video_room_url="https://meet.example.com/harbor-light")
    video = ConsultationFactory(appointment__mode="video")
    phone = ConsultationFactory(
        appointment__mode="phone", appointment__start=FIRST_SLOT + timedelta(days=1)
    )

    video_page = client.get(f"/consultation/manage/{manage_link_issue(consultation=video)}/")
    phone_page = client.get(f"/consultation/manage/{manage_link_issue(consultation=phone)}/")

    link = '<a class="button button-secondary" href="https://meet.example.com/harbor-light"'
    assert link in video_page.content.decode()
    assert "Join the video call" in video_page.content.decode()
    assert "Join the video call" not in phone_page.content.decode()


def test_a_past_booking_says_so_kindly(client, booked):
    _, url = booked

    with time_machine.travel(FIRST_SLOT + timedelta(hours=2), tick=False):
        response = client.get(url)
        posted = client.post(url + "cancel/", {"reason": ""})
        step = client.get(url + "reschedule/")

    assert "This consultation has passed" in response.content.decode()
    assert "Book another time" in response.content.decode()
    assert (posted.status_code, step.status_code) == (302, 302)
    assert Consultation.objects.get().appointment.status == Appointment.Status.BOOKED


@pytest.mark.parametrize("token", ["nope", "x" * 43, "a" * 300])
def test_an_unknown_token_gets_a_friendly_page(client, token):
    response = client.get(f"/consultation/manage/{token}/")

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_a_cancel_by_the_practice_shows_on_her_page(client, practice_profile):
    consultation = ConsultationFactory()
    url = f"/consultation/manage/{manage_link_issue(consultation=consultation)}/"
    from consultations.services import consultation_transition

    consultation_transition(consultation=consultation, to="cancelled", note="I am unwell")

    assert "The practice cancelled it" in client.get(url).content.decode()
