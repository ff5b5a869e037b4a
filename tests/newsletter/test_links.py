"""The links in newsletter emails: confirm, one-click unsubscribe, preferences."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from newsletter.models import Delivery, Subscriber
from newsletter.tokens import confirm_token, reader_token
from tests.newsletter.factories import CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def _post_with_csrf(client: Client, path: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    client.get(path)
    return client.post(
        path, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **(data or {})}
    )


def test_opening_the_confirmation_link_does_not_confirm(anonymous):
    ada = SubscriberFactory(email="ada@example.com")

    response = anonymous.get(f"/newsletter/confirm/{confirm_token(ada)}/")

    ada.refresh_from_db()
    assert ada.status == Subscriber.Status.PENDING
    assert "Confirm my subscription" in response.content.decode()


def test_pressing_confirm_confirms(anonymous):
    ada = SubscriberFactory(email="ada@example.com")

    response = _post_with_csrf(anonymous, f"/newsletter/confirm/{confirm_token(ada)}/")

    ada.refresh_from_db()
    html = response.content.decode()
    assert (ada.status, ada.confirmed_at is not None) == (Subscriber.Status.CONFIRMED, True)
    assert "<h1>You are subscribed</h1>" in html
    assert "already" not in html


@pytest.mark.parametrize("path", ["confirm", "confirmed"])
def test_the_confirmation_pages_do_not_offer_the_signup_form_again(anonymous, path):
    ada = SubscriberFactory(email="ada@example.com")
    link = f"/newsletter/confirm/{confirm_token(ada)}/"

    response = anonymous.get(link) if path == "confirm" else _post_with_csrf(anonymous, link)

    html = response.content.decode()
    assert response.status_code == 200
    assert ("data-signup-form" in html, "Sign up to my newsletter" in html) == (False, False)
    assert '<a href="/articles/">Read the practice\'s articles</a>' in html.replace("&#x27;", "'")


def test_a_used_confirmation_link_says_she_is_already_subscribed(anonymous):
    ada = SubscriberFactory(email="ada@example.com")
    link = f"/newsletter/confirm/{confirm_token(ada)}/"
    _post_with_csrf(anonymous, link)
    ada.refresh_from_db()
    confirmed_at = ada.confirmed_at

    second_visit = anonymous.get(link)
    pressed_again = anonymous.post(
        link, {"csrfmiddlewaretoken": anonymous.cookies["csrftoken"].value}
    )

    ada.refresh_from_db()
    assert (ada.status, ada.confirmed_at) == (Subscriber.Status.CONFIRMED, confirmed_at)
    for response in [second_visit, pressed_again]:
        html = response.content.decode()
        assert response.status_code == 200
        assert "<h1>You are already subscribed</h1>" in html
        assert "Your subscription is already confirmed" in html
        assert "Confirm my subscription" not in html
        assert "data-signup-form" not in html


def test_a_used_confirmation_link_past_its_age_still_says_she_is_subscribed(anonymous, settings):
    ada = SubscriberFactory(email="ada@example.com")
    link = f"/newsletter/confirm/{confirm_token(ada)}/"
    _post_with_csrf(anonymous, link)

    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.NEWSLETTER_CONFIRM_MAX_AGE + 60)
    ):
        response = anonymous.get(link)

    assert response.status_code == 200
    assert "<h1>You are already subscribed</h1>" in response.content.decode()


def test_a_forged_link_for_a_confirmed_reader_does_not_say_anything(anonymous):
    ada = SubscriberFactory(email="ada@example.com", confirmed=True)

    response = anonymous.get(f"/newsletter/confirm/{confirm_token(ada)[:-2]}xy/")

    html = response.content.decode()
    assert response.status_code == 400
    assert ("This link does not work" in html, "already" in html) == (True, False)


def test_an_expired_confirmation_link_gets_a_friendly_page(anonymous, settings):
    ada = SubscriberFactory(email="ada@example.com")
    token = confirm_token(ada)

    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.NEWSLETTER_CONFIRM_MAX_AGE + 60)
    ):
        response = _post_with_csrf(anonymous, f"/newsletter/confirm/{token}/")

    ada.refresh_from_db()
    assert (response.status_code, ada.status) == (400, Subscriber.Status.PENDING)
    assert "This link has expired" in response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_damaged_link_gets_a_friendly_page(anonymous, method):
    ada = SubscriberFactory(email="ada@example.com")
    for path in [
        f"/newsletter/confirm/{confirm_token(ada)[:-3]}xyz/",
        f"/newsletter/unsubscribe/{reader_token(ada)}x/",
        "/newsletter/preferences/nonsense/",
        "/newsletter/unsubscribe/1:forged/",
    ]:
        if method == "get":
            response = anonymous.get(path)
        else:
            anonymous.get("/newsletter/")
            token = anonymous.cookies["csrftoken"].value
            response = anonymous.post(path, {"csrfmiddlewaretoken": token})
        if path.startswith("/newsletter/preferences/") and method == "post":
            assert response.status_code == 405
            continue
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()


def test_a_confirmation_link_from_before_she_left_cannot_resubscribe_her(anonymous):
    ada = SubscriberFactory(email="ada@example.com")
    old_link = f"/newsletter/confirm/{confirm_token(ada)}/"
    _post_with_csrf(anonymous, old_link)
    anonymous.post(f"/newsletter/unsubscribe/{reader_token(ada)}/")

    response = _post_with_csrf(anonymous, old_link)

    ada.refresh_from_db()
    assert (response.status_code, ada.status) == (400, Subscriber.Status.UNSUBSCRIBED)


def test_one_click_post_unsubscribes_with_no_cookie_and_no_csrf_token(reader):
    mail_program = Client(enforce_csrf_checks=True)

    response = mail_program.post(
        f"/newsletter/unsubscribe/{reader_token(reader)}/",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    reader.refresh_from_db()
    assert (response.status_code, reader.status) == (200, Subscriber.Status.UNSUBSCRIBED)
    assert reader.unsubscribed_at is not None
    assert "You are unsubscribed" in response.content.decode()


def test_get_on_the_unsubscribe_link_unsubscribes_nobody(reader, anonymous):
    response = anonymous.get(f"/newsletter/unsubscribe/{reader_token(reader)}/")

    reader.refresh_from_db()
    assert (response.status_code, reader.status) == (200, Subscriber.Status.CONFIRMED)
    assert '<button type="submit" class="button">Unsubscribe</button>' in response.content.decode()


def test_the_unsubscribe_link_of_a_reader_who_is_gone_says_the_link_does_not_work(
    reader, anonymous
):
    path = f"/newsletter/unsubscribe/{reader_token(reader)}/"
    reader.delete()

    response = anonymous.get(path)

    assert response.status_code == 400
    assert "Unsubscribe</button>" not in response.content.decode()


def test_unsubscribing_twice_is_harmless(reader, anonymous):
    path = f"/newsletter/unsubscribe/{reader_token(reader)}/"
    anonymous.post(path)
    first = Subscriber.objects.get().unsubscribed_at

    response = anonymous.post(path)

    assert (response.status_code, Subscriber.objects.get().unsubscribed_at) == (200, first)


def test_preferences_page_shows_her_data_and_lets_her_download_it(reader, anonymous):
    campaign = CampaignFactory(subject="Spring letter")
    Delivery.objects.create(
        campaign=campaign, subscriber=reader, status="sent", sent_at=timezone.now()
    )
    token = reader_token(reader)

    page = anonymous.get(f"/newsletter/preferences/{token}/").content.decode()
    download = anonymous.get(f"/newsletter/preferences/{token}/data.json")

    assert "nora@example.com" in page
    assert download["Content-Disposition"] == 'attachment; filename="newsletter-data.json"'
    data = json.loads(download.content)
    assert (data["email"], data["status"], data["consent"]["ip_address"]) == (
        "nora@example.com",
        "confirmed",
        "203.0.113.7",
    )
    assert [n["subject"] for n in data["newsletters_sent"]] == ["Spring letter"]


def test_she_can_delete_herself(reader, anonymous):
    CampaignFactory()
    path = f"/newsletter/preferences/{reader_token(reader)}/"

    response = _post_with_csrf(anonymous, path)  # GET for the cookie
    response = anonymous.post(
        f"{path}delete/", {"csrfmiddlewaretoken": anonymous.cookies["csrftoken"].value}
    )

    assert "Your data is deleted" in response.content.decode()
    assert Subscriber.objects.count() == 0
    assert anonymous.get(path).status_code == 400
