"""The sign-up, confirmation and unsubscribe flows in Chromium, with real emails."""

from __future__ import annotations

import re
import urllib.request

import pytest

from newsletter.emails import CampaignContent, campaign_email
from newsletter.models import Subscriber
from tests.newsletter.factories import CampaignFactory, SubscriberFactory
from tests.support.smtp import text_part

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUCCESS = "Thank you! Your submission has been received!"
FAILURE = "Oops! Something went wrong while submitting the form."


@pytest.fixture
def site(live_server, settings, smtp_sink, practice_profile, eager_tasks):  # type: ignore[no-untyped-def]
    """The live site, mailing to the sink, with links in emails that lead back to it."""
    settings.SITE_URL = live_server.url
    return live_server.url


def _link(message, kind: str) -> str:  # type: ignore[no-untyped-def]
    match = re.search(rf"http://\S+/newsletter/{kind}/[^/\s]+/", text_part(message))
    assert match is not None, f"no {kind} link in the email"
    return match.group(0)


def test_signup_in_place_with_javascript_then_confirm_from_the_email(site, page, smtp_sink):
    page.goto(f"{site}/about/")
    page.evaluate("window.stillTheSamePage = true")
    footer = page.locator(".site-footer")

    footer.get_by_label("Email").fill("ada@example.com")
    footer.get_by_label("First name (optional)").fill("Ada")
    footer.get_by_role("button", name="Sign Up").click()

    footer.get_by_text(SUCCESS).wait_for()
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.url == f"{site}/about/"
    assert footer.locator("form").count() == 0
    (message,) = smtp_sink.wait_for(1)
    assert message["To"] == "ada@example.com"

    page.goto(_link(message, "confirm"))
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    page.get_by_role("button", name="Confirm my subscription").click()

    page.get_by_role("heading", name="You are subscribed").wait_for()
    ada = Subscriber.objects.get()
    assert (ada.status, ada.first_name, ada.consent_page) == ("confirmed", "Ada", "/about/")


def test_signup_in_place_on_a_phone(site, phone_page, smtp_sink):
    phone_page.goto(f"{site}/articles/")
    footer = phone_page.locator(".site-footer")

    footer.get_by_label("Email").fill("ada@example.com")
    footer.get_by_role("button", name="Sign Up").tap()

    footer.get_by_text(SUCCESS).wait_for()
    assert smtp_sink.wait_for(1)[0]["To"] == "ada@example.com"
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390


def test_signup_with_javascript_shows_what_to_fix(site, page):
    page.goto(f"{site}/")
    footer = page.locator(".site-footer")

    footer.get_by_label("Email").fill("ada-at-example")
    footer.get_by_role("button", name="Sign Up").click()

    footer.get_by_text(FAILURE).wait_for()
    assert footer.get_by_text(
        "Enter a valid email address, like name@example.com."
    ).first.is_visible()
    assert footer.get_by_label("Email").get_attribute("aria-invalid") == "true"

    footer.get_by_label("Email").fill("ada@example.com")
    footer.get_by_role("button", name="Sign Up").click()
    footer.get_by_text(SUCCESS).wait_for()
    assert footer.get_by_text(FAILURE).is_hidden()


@pytest.fixture
def no_js_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_signup_without_javascript_posts_and_redirects(site, no_js_page, smtp_sink):
    page = no_js_page
    page.goto(f"{site}/how-it-works/")
    footer = page.locator(".site-footer")

    footer.get_by_label("Email").fill("ada-at-example")
    footer.get_by_role("button", name="Sign Up").click()
    main = page.locator("main")
    main.get_by_text(FAILURE).wait_for()
    assert main.get_by_text("Enter a valid email address, like name@example.com.").count() == 2

    main.get_by_label("Email").fill("ada@example.com")
    main.get_by_role("button", name="Sign Up").click()

    page.wait_for_url(f"{site}/newsletter/thanks/")
    assert main.get_by_text(SUCCESS).is_visible()
    (message,) = smtp_sink.wait_for(1)
    page.goto(_link(message, "confirm"))
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


def test_unsubscribe_link_from_a_real_newsletter(site, page, smtp_sink):
    nora = SubscriberFactory(email="nora@example.com", confirmed=True)
    campaign_email(content=CampaignContent(CampaignFactory()), subscriber=nora).send()
    (message,) = smtp_sink.wait_for(1)

    page.goto(_link(message, "unsubscribe"))
    nora.refresh_from_db()
    assert nora.status == Subscriber.Status.CONFIRMED
    page.get_by_role("button", name="Unsubscribe").click()

    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    nora.refresh_from_db()
    assert nora.status == Subscriber.Status.UNSUBSCRIBED


def test_one_click_unsubscribe_from_the_list_unsubscribe_header(site, smtp_sink):
    nora = SubscriberFactory(email="nora@example.com", confirmed=True)
    campaign_email(content=CampaignContent(CampaignFactory()), subscriber=nora).send()
    (message,) = smtp_sink.wait_for(1)
    https_link = re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)

    request = urllib.request.Request(  # noqa: S310  (the test's own live server)
        https_link, data=b"List-Unsubscribe=One-Click", method="POST"
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310
        assert response.status == 200

    nora.refresh_from_db()
    assert nora.status == Subscriber.Status.UNSUBSCRIBED
