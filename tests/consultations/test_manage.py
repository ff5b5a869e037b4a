"""Her private manage page: details, reschedule, cancel; dead and old links."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from consultations.links import manage_link_issue
from consultations.models import Consultation, ManageLink
from practice.calendar.reminders import reminders_pending
from practice.models import Appointment
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


def test_only_the_hash_of_a_token_is_stored(booked):
    consultation, url = booked
    token = url.split("/")[-2]

    assert len(token) >= 43
    assert not ManageLink.objects.filter(token_hash=token).exists()
    assert ManageLink.objects.filter(consultation=consultation).count() >= 2


def test_rescheduling_swaps_the_time_and_frees_the_old_one(client, booked):
    consultation, url = booked
    later = FIRST_SLOT + timedelta(days=1)

    response = client.post(url, {"action": "reschedule", "start": later.isoformat()})

    assert response.status_code == 302
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

    response = client.post(url, {"action": "reschedule", "start": taken.isoformat()})

    assert response.status_code == 409
    assert "That time was just taken" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.appointment.start == FIRST_SLOT


def test_rescheduling_with_a_tampered_time_is_refused_kindly(client, booked):
    consultation, url = booked

    response = client.post(url, {"action": "reschedule", "start": "tomorrow at noon"})

    assert response.status_code == 409
    assert "Please choose one of the times offered." in response.content.decode()


def test_cancelling_frees_the_time_and_keeps_her_reason(client, booked):
    consultation, url = booked

    response = client.post(url, {"action": "cancel", "reason": "My son is ill"})

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.appointment.status == Appointment.Status.CANCELLED
    assert (consultation.cancelled_by, consultation.cancel_reason) == ("client", "My son is ill")
    assert reminders_pending(consultation.appointment) == []
    page = client.get(url).content.decode()
    assert "This consultation is cancelled" in page
    assert 'href="/consultation/"' in page
    assert client.get("/consultation/slots.json").json()["slots"][0] == FIRST_SLOT.isoformat()


def test_a_second_cancel_from_an_old_page_just_shows_the_state(client, booked):
    _, url = booked
    client.post(url, {"action": "cancel"})

    response = client.post(url, {"action": "cancel"})

    assert response.status_code == 302
    assert "This consultation is cancelled" in client.get(url).content.decode()


def test_a_past_booking_says_so_kindly(client, booked):
    _, url = booked

    with time_machine.travel(FIRST_SLOT + timedelta(hours=2), tick=False):
        response = client.get(url)
        posted = client.post(url, {"action": "cancel"})

    assert "This consultation has passed" in response.content.decode()
    assert "Book another time" in response.content.decode()
    assert posted.status_code == 302
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
