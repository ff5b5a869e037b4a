"""The sign-up, confirmation and unsubscribe flows in Chromium, with real emails.

Also what a reader sees around them: each message once and in its place, the
articles' invitation to book, and labels written without a colon.
"""

from __future__ import annotations

import re
import urllib.request

import pytest

from consultations.links import manage_link_issue
from newsletter.emails import CampaignContent, campaign_email
from newsletter.models import Subscriber
from newsletter.tokens import confirm_token
from tests.consultations.factories import ConsultationFactory
from tests.newsletter.factories import ArticleFactory, CampaignFactory, SubscriberFactory
from tests.support.smtp import text_part

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUCCESS = "Thank you! Your submission has been received!"
NEXT_STEP = "Check your inbox to confirm your subscription."
FAILURE = "Oops! Something went wrong while submitting the form."
EMPTY = "Please enter your email address."


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
    assert footer.get_by_text(NEXT_STEP).is_visible()
    assert footer.get_by_text("check your spam folder").is_visible()
    assert SUCCESS in page.evaluate("document.activeElement.textContent")
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.url == f"{site}/about/"
    assert footer.locator("form").count() == 0
    (message,) = smtp_sink.wait_for(1)
    assert message["To"] == "ada@example.com"

    confirm_link = _link(message, "confirm")
    page.goto(confirm_link)
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    page.get_by_role("button", name="Confirm my subscription").click()

    page.get_by_role("heading", name="You are subscribed").wait_for()
    ada = Subscriber.objects.get()
    assert (ada.status, ada.first_name, ada.consent_page) == ("confirmed", "Ada", "/about/")
    assert page.locator("[data-signup-form], input[type=email]").count() == 0

    page.goto(confirm_link)
    page.get_by_role("heading", name="You are already subscribed").wait_for()
    assert page.get_by_text("Your subscription is already confirmed").is_visible()
    assert page.get_by_role("button", name="Confirm my subscription").count() == 0
    assert page.locator("[data-signup-form], input[type=email]").count() == 0
    assert Subscriber.objects.get().confirmed_at == ada.confirmed_at


def test_signup_in_place_on_a_phone_from_the_article_list(site, phone_page, smtp_sink):
    ArticleFactory(title="Rest")
    phone_page.goto(f"{site}/articles/")
    assert phone_page.locator("[data-signup-form]").count() == 1
    block = phone_page.locator(".articles-signup")

    block.get_by_label("Email").fill("ada@example.com")
    block.get_by_role("button", name="Sign Up").tap()

    block.get_by_text(SUCCESS).wait_for()
    assert block.get_by_text(NEXT_STEP).is_visible()
    assert smtp_sink.wait_for(1)[0]["To"] == "ada@example.com"
    assert Subscriber.objects.get().consent_page == "/articles/"
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390


def test_signup_with_javascript_shows_what_to_fix(site, page):
    page.goto(f"{site}/")
    footer = page.locator(".site-footer")

    footer.get_by_label("Email").fill("ada-at-example")
    footer.get_by_role("button", name="Sign Up").click()

    message = page.get_by_text("Enter a valid email address, like name@example.com.")
    message.wait_for()
    assert message.count() == 1
    assert footer.get_by_text(FAILURE).is_hidden()
    assert footer.get_by_label("Email").get_attribute("aria-invalid") == "true"

    footer.get_by_label("Email").fill("ada@example.com")
    footer.get_by_role("button", name="Sign Up").click()
    footer.get_by_text(SUCCESS).wait_for()
    assert footer.get_by_text(FAILURE).is_hidden()
    assert message.count() == 0


def test_an_empty_address_in_place_gets_the_field_message_once_and_no_oops(site, page):
    page.goto(f"{site}/")
    footer = page.locator(".site-footer")
    email = footer.get_by_label("Email")

    for _ in range(2):
        footer.get_by_role("button", name="Sign Up").click()
        footer.locator("[data-signup-field-error=email]").wait_for()

        assert page.get_by_text(EMPTY).count() == 1
        assert page.get_by_text(EMPTY).is_visible()
        assert footer.get_by_text(FAILURE).is_hidden()
        assert email.get_attribute("aria-invalid") == "true"
        assert email.evaluate("input => input === document.activeElement") is True
        described_by = email.get_attribute("aria-describedby")
        assert page.locator(f"#{described_by}").text_content() == EMPTY
    assert Subscriber.objects.count() == 0


def test_a_lost_connection_in_place_says_oops_and_keeps_what_she_typed(site, page):
    page.goto(f"{site}/")
    footer = page.locator(".site-footer")
    footer.get_by_label("Email").fill("ada@example.com")
    page.route("**/newsletter/", lambda route: route.abort("internetdisconnected"))

    footer.get_by_role("button", name="Sign Up").click()

    footer.get_by_text(FAILURE).wait_for()
    assert footer.get_by_text("Please check your connection and try again.").is_visible()
    assert footer.get_by_label("Email").input_value() == "ada@example.com"
    assert page.url == f"{site}/"
    page.unroute("**/newsletter/")
    footer.get_by_role("button", name="Sign Up").click()
    footer.get_by_text(SUCCESS).wait_for()
    assert footer.get_by_text(FAILURE).is_hidden()


def test_too_many_signups_in_place_say_oops_and_why(site, page, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "newsletter_signup": (1, 60 * 60)}
    page.goto(f"{site}/")
    footer = page.locator(".site-footer")
    footer.get_by_label("Email").fill("ada@example.com")
    footer.get_by_role("button", name="Sign Up").click()
    footer.get_by_text(SUCCESS).wait_for()

    page.goto(f"{site}/about/")
    footer.get_by_label("Email").fill("bo@example.com")
    footer.get_by_role("button", name="Sign Up").click()

    footer.get_by_text(FAILURE).wait_for()
    assert footer.get_by_text("Too many sign-ups have come from your connection").count() == 1
    assert footer.locator("[aria-invalid=true]").count() == 0


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
    main.get_by_text("Enter a valid email address, like name@example.com.").wait_for()
    assert page.get_by_text("Enter a valid email address, like name@example.com.").count() == 1
    assert main.get_by_text(FAILURE).is_hidden()
    assert page.locator("[data-signup-form]").count() == 1

    main.get_by_label("Email").fill("ada@example.com")
    main.get_by_role("button", name="Sign Up").click()

    page.wait_for_url(f"{site}/newsletter/thanks/")
    assert main.get_by_text(SUCCESS).is_visible()
    assert main.get_by_text(NEXT_STEP).is_visible()
    assert page.locator("[data-signup-form]").count() == 0
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


def test_an_article_ends_with_a_working_invitation_to_book(site, page):
    article = ArticleFactory(title="Rest", body="Sleep matters.\n\nThe last paragraph.")
    page.goto(f"{site}{article.get_absolute_url()}")
    invitation = page.locator(".article-invitation")

    assert (
        invitation.evaluate("aside => aside.previousElementSibling.lastElementChild.textContent")
        == "The last paragraph."
    )
    invitation.get_by_role("link", name="Book a free consultation").click()

    page.wait_for_url(f"{site}/consultation/")
    assert page.title().startswith("Book a free consultation")
    assert page.locator("[data-booking-form]").count() == 1


def _public_pages(site: str) -> list[str]:
    article = ArticleFactory(title="Rest")
    reader = SubscriberFactory(email="ada@example.com")
    consultation = ConsultationFactory()
    return [
        f"{site}{path}"
        for path in [
            "/",
            "/about/",
            "/how-it-works/",
            "/terms/",
            "/privacy/",
            "/articles/",
            article.get_absolute_url(),
            "/newsletter/",
            "/newsletter/thanks/",
            f"/newsletter/confirm/{confirm_token(reader)}/",
            "/consultation/",
            f"/consultation/manage/{manage_link_issue(consultation=consultation)}/",
            "/accounts/login/",
            "/accounts/password/reset/",
        ]
    ]


LABELS = "() => [...document.querySelectorAll('label, legend')].map(e => e.textContent.trim())"


def test_no_form_label_on_the_public_pages_ends_with_a_colon(site, page):
    pages = _public_pages(site)
    manage = next(url for url in pages if "/consultation/manage/" in url)
    page.goto(manage)
    pages += page.eval_on_selector_all(
        "main a[href*='/consultation/manage/']", "links => links.map(a => a.href)"
    )
    labels: dict[str, list[str]] = {}
    for url in pages:
        page.goto(url)
        labels[url] = page.evaluate(LABELS)
    page.goto(f"{site}/newsletter/")
    page.locator("main").get_by_role("button", name="Sign Up").click()
    page.get_by_text(EMPTY).wait_for()
    labels["/newsletter/ with an error"] = page.evaluate(LABELS)

    with_colon = {url: [t for t in texts if t.endswith(":")] for url, texts in labels.items()}
    assert {url: texts for url, texts in with_colon.items() if texts} == {}
    assert "Email" in labels[f"{site}/"]
    assert "Leave this empty" in labels[f"{site}/consultation/"]
    assert len([url for url in labels if "/consultation/manage/" in url]) >= 2
