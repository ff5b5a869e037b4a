"""Journey 2: a reader signs up, confirms, gets a newsletter and leaves with one click.

Against the app as production runs it (gunicorn, a Celery worker and beat,
PostgreSQL, Redis, an SMTP server). The reader is on a phone; the therapist
writes and sends the campaigns in the admin on a desktop, after signing in
with her authenticator code, and the worker delivers them. The reader
leaves the way her mail program does it for her: a POST to the address in
the email's ``List-Unsubscribe`` header, with no cookie (RFC 8058).
"""

from __future__ import annotations

import urllib.request

import pytest

from newsletter.models import Campaign, Delivery, Subscriber
from tests.journeys.support import (
    DESKTOP,
    PHONE,
    discretion_words_in_mail,
    header_link,
    link_in,
    password_the_app_can_check,
    sign_in_with_totp,
    subjects_to,
    wait_for_mail,
    wait_until,
)
from tests.newsletter.factories import SubscriberFactory
from tests.support.screenshots import screenshot_on_failure
from tests.support.smtp import text_part
from tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]

READER = "ada.reader@example.com"
OTHER_READER = "ines@example.com"


def send_campaign_from_the_admin(page, site: Stack, *, subject: str, body: str) -> Campaign:  # type: ignore[no-untyped-def]
    """Write a campaign, open its preview and send it now, as the therapist does."""
    page.goto(f"{site.url}/admin/newsletter/campaign/add/")
    page.locator("#id_subject").fill(subject)
    page.locator("#id_body").fill(body)
    page.locator("input[name=_continue]").click()
    page.get_by_role("link", name="Preview, test and send").click()
    # With the keyboard: headless Chromium may route a click made just after
    # scrolling to where the sandboxed preview frame was before the scroll,
    # and the button never hears it.
    page.get_by_role("button", name="Send now, or at the time above").press("Enter")
    page.get_by_text("Sending has started.").wait_for()
    return Campaign.objects.get(subject=subject)


def campaign_sent(site: Stack, campaign: Campaign) -> None:
    wait_until(
        lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT,
        what=f"the campaign {campaign.subject!r} to finish",
        stack=site,
    )


def test_a_reader_signs_up_confirms_gets_a_campaign_and_unsubscribes_with_one_click(
    therapist, site, new_page
):
    """She signs up on her phone, confirms from the email, receives the
    therapist's campaign, and her mail program's one-click POST (no cookie)
    takes her off the list: the next campaign reaches another reader, not her."""
    SubscriberFactory(email=OTHER_READER, first_name="Ines", confirmed=True)
    reader = new_page(**PHONE)
    admin = new_page(**DESKTOP)

    with screenshot_on_failure(reader, "journey2-signup"):
        reader.goto(f"{site.url}/")
        footer = reader.locator(".site-footer")
        footer.get_by_label("Email").fill(READER)
        footer.get_by_label("First name (optional)").fill("Ada")
        footer.get_by_role("button", name="Sign Up").click()
        footer.get_by_text("Check your inbox to confirm your subscription.").wait_for()
        assert Subscriber.objects.get(email=READER).status == Subscriber.Status.PENDING

    with screenshot_on_failure(reader, "journey2-confirm"):
        confirmation = wait_for_mail(site, to=READER, subject="Confirm your subscription")
        assert discretion_words_in_mail(confirmation) == []
        reader.goto(link_in(confirmation, r"/newsletter/confirm/[^/]+/$"))
        reader.get_by_role("button", name="Confirm my subscription").click()
        reader.get_by_role("heading", name="You are subscribed").wait_for()
        ada = Subscriber.objects.get(email=READER)
        assert (ada.status, ada.first_name, ada.consent_page) == ("confirmed", "Ada", "/")

    with screenshot_on_failure(admin, "journey2-sign-in"):
        password_the_app_can_check(therapist)
        sign_in_with_totp(admin, site.url, therapist)

    with screenshot_on_failure(admin, "journey2-first-campaign"):
        spring = send_campaign_from_the_admin(
            admin, site, subject="Spring letter", body="Small rests count.\n\nWith care, Lena"
        )
        letter = wait_for_mail(site, to=READER, subject="Spring letter")
        wait_for_mail(site, to=OTHER_READER, subject="Spring letter")
        campaign_sent(site, spring)
        assert "Small rests count." in text_part(letter)
        assert discretion_words_in_mail(letter) == []
        assert letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    with screenshot_on_failure(reader, "journey2-one-click-unsubscribe"):
        # As her mail program does it: a POST of exactly this body, no cookie, no token.
        request = urllib.request.Request(  # noqa: S310  (the test's own gunicorn)
            header_link(letter, "List-Unsubscribe"),
            data=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        assert request.get_header("Cookie") is None
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            status, page = response.status, response.read().decode()
        assert (status, "You are unsubscribed" in page) == (200, True), site.logs()
        ada.refresh_from_db()
        assert ada.status == Subscriber.Status.UNSUBSCRIBED
        assert ada.unsubscribed_at is not None

    with screenshot_on_failure(admin, "journey2-second-campaign"):
        summer = send_campaign_from_the_admin(
            admin, site, subject="Summer letter", body="Long evenings.\n\nWith care, Lena"
        )
        wait_for_mail(site, to=OTHER_READER, subject="Summer letter")
        campaign_sent(site, summer)
        assert Delivery.objects.filter(campaign=summer, subscriber=ada).exists() is False
        assert subjects_to(site, READER) == ["Confirm your subscription", "Spring letter"]
        assert subjects_to(site, OTHER_READER) == ["Spring letter", "Summer letter"]
        assert (reader.problems, admin.problems) == ([], [])
