"""Signing up: the form, the consent record, no enumeration, bots and floods."""

from __future__ import annotations

import pytest
from django.core import mail

from newsletter.consent import (
    CONSENT_TEXT_SHA256,
    FAILURE_MESSAGE,
    NEXT_STEP,
    NEXT_STEP_NOTE,
    SUCCESS_MESSAGE,
)
from newsletter.models import Subscriber
from practice.outbox.models import OutboxMessage
from tests.newsletter.conftest import visible_text, without_csrf
from tests.newsletter.factories import SubscriberFactory
from tests.support.reports import post_and_report

pytestmark = pytest.mark.django_db


def test_signup_block_is_in_the_footer_of_every_page(anonymous):
    for path in ["/", "/about/", "/terms/", "/privacy/", "/how-it-works/"]:
        html = anonymous.get(path).content.decode()
        assert html.count('<h2 id="footer-signup-heading">Sign up to my newsletter</h2>') == 1
        assert "Get updated with some helpful articles." in html
        assert '<button type="submit" class="button">Sign Up</button>' in html
        assert (
            "By clicking Sign Up you're confirming that you agree with our "
            '<a href="/terms/">Terms and Conditions</a>.'
        ) in html.replace("&#x27;", "'")


def test_signup_without_javascript_redirects_to_the_thank_you_page(csrf_post, anonymous):
    response = csrf_post("/newsletter/", {"email": "ada@example.com", "page": "/about/"})

    assert (response.status_code, response["Location"]) == (302, "/newsletter/thanks/")
    thanks = anonymous.get("/newsletter/thanks/").content.decode()
    next_steps = [SUCCESS_MESSAGE, NEXT_STEP, NEXT_STEP_NOTE]
    assert [thanks.count(words) for words in next_steps] == [1, 1, 1]
    assert thanks.index(SUCCESS_MESSAGE) < thanks.index(NEXT_STEP) < thanks.index(NEXT_STEP_NOTE)
    assert "data-signup-form" not in thanks


@pytest.mark.parametrize(
    "page", ["/about/\x00", "/" + "a" * 400, "https://elsewhere.example/", "about"]
)
def test_a_hidden_page_value_she_cannot_fix_never_fails_her_signup(csrf_post, page):
    response = csrf_post("/newsletter/", {"email": "ada@example.com", "page": page})

    assert (response.status_code, response["Location"]) == (302, "/newsletter/thanks/")
    assert Subscriber.objects.get().consent_page == "/newsletter/"


def test_the_in_place_form_carries_the_thank_you_and_the_next_step(anonymous):
    html = anonymous.get("/about/").content.decode()

    success = html[html.index('<div class="signup-success"') :]
    success = success[: success.index("</div>")]
    assert "data-signup-success hidden" in success
    assert [SUCCESS_MESSAGE in success, NEXT_STEP in success, NEXT_STEP_NOTE in success] == [
        True,
        True,
        True,
    ]


def test_signup_records_consent(csrf_post, practice_profile):
    csrf_post(
        "/newsletter/",
        {"email": "Ada@Example.COM", "first_name": "Ada", "page": "/about/"},
        HTTP_USER_AGENT="Mozilla/5.0 (Phone)",
        REMOTE_ADDR="198.51.100.4",
    )

    ada = Subscriber.objects.get()
    assert ada.email == "Ada@example.com"
    assert ada.first_name == "Ada"
    assert ada.status == Subscriber.Status.PENDING
    assert ada.source == Subscriber.Source.FORM
    assert ada.consent_page == "/about/"
    assert ada.consent_terms_version == practice_profile.terms_version
    assert ada.consent_text_sha256 == CONSENT_TEXT_SHA256
    assert ada.consent_ip == "198.51.100.4"
    assert ada.consent_user_agent == "Mozilla/5.0 (Phone)"
    assert ada.confirmed_at is None


def test_signup_queues_the_confirmation_email(
    csrf_post, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        csrf_post("/newsletter/", {"email": "ada@example.com"})

    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert mail.outbox[0].subject == "Confirm your subscription"


def test_a_new_address_is_one_prepared_statement(csrf_post, django_assert_num_queries):
    """The reader and her confirmation's outbox row are written by one statement,
    prepared on the connection by the first sign-up and reused by the next."""
    from django.db import connection

    csrf_post("/newsletter/", {"email": "first@example.com"})
    with django_assert_num_queries(1) as captured:
        csrf_post("/newsletter/", {"email": "second@example.com"}, HTTP_ACCEPT="application/json")
    [statement] = [query["sql"] for query in captured.captured_queries]
    assert statement.startswith("WITH inserted AS (INSERT INTO newsletter_subscriber")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert len([text for text in prepared if "WITH inserted AS" in text]) == 1
    assert Subscriber.objects.filter(email__endswith="@example.com").count() == 2
    assert OutboxMessage.objects.filter(kind="newsletter.confirm").count() == 2


def test_signup_in_place_answers_json(csrf_post):
    response = csrf_post(
        "/newsletter/", {"email": "ada@example.com"}, HTTP_ACCEPT="application/json"
    )

    assert (response.status_code, response.json()) == (
        200,
        {"ok": True, "message": SUCCESS_MESSAGE},
    )


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Please enter your email address."),
        ("ada-at-example", "Enter a valid email address, like name@example.com."),
    ],
)
def test_signup_with_no_or_a_bad_address_says_so_once_beside_the_field(csrf_post, email, message):
    response = csrf_post("/newsletter/", {"email": email})

    html = response.content.decode()
    field_error = (
        '<p class="field-error" id="signup-email-error" data-signup-field-error="email">'
        f"{message}</p>"
    )
    assert response.status_code == 400
    assert html.count(message) == 1
    assert field_error in html
    assert 'aria-invalid="true" aria-describedby="signup-email-error" autofocus' in html
    assert FAILURE_MESSAGE not in visible_text(html)
    assert Subscriber.objects.count() == 0


def test_signup_in_place_with_no_address_answers_with_the_field_message_only(csrf_post):
    response = csrf_post("/newsletter/", {"email": ""}, HTTP_ACCEPT="application/json")

    assert (response.status_code, response.json()) == (
        400,
        {
            "ok": False,
            "message": None,
            "errors": {"email": ["Please enter your email address."]},
        },
    )


def test_too_many_signups_say_oops_with_the_reason_once(csrf_post, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "newsletter_signup": (1, 60 * 60)}
    csrf_post("/newsletter/", {"email": "r1@example.com"})

    response = csrf_post("/newsletter/", {"email": "r2@example.com"})

    html = response.content.decode()
    shown = visible_text(html)
    assert response.status_code == 429
    assert (shown.count(FAILURE_MESSAGE), shown.count("Too many sign-ups")) == (1, 1)
    assert shown.index(FAILURE_MESSAGE) < shown.index("Too many sign-ups")


def test_filled_honeypot_is_dropped_silently(csrf_post):
    response = csrf_post("/newsletter/", {"email": "bot@example.com", "website": "http://spam"})

    assert (response.status_code, response["Location"]) == (302, "/newsletter/thanks/")
    assert Subscriber.objects.count() == 0


def test_signups_from_one_address_are_rate_limited(csrf_post, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "newsletter_signup": (3, 60 * 60)}
    codes = [
        csrf_post("/newsletter/", {"email": f"r{n}@example.com"}).status_code for n in range(4)
    ]
    limited = csrf_post("/newsletter/", {"email": "r9@example.com"}, HTTP_ACCEPT="application/json")

    assert codes == [302, 302, 302, 429]
    assert limited.json()["message"] == FAILURE_MESSAGE
    assert "Too many sign-ups" in limited.json()["errors"]["__all__"][0]
    assert Subscriber.objects.count() == 3
    other_ip = csrf_post("/newsletter/", {"email": "r10@example.com"}, REMOTE_ADDR="192.0.2.55")
    assert other_ip.status_code == 302


def test_behind_the_practices_proxy_consent_and_limits_use_her_address(csrf_post, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "newsletter_signup": (1, 60 * 60)}
    behind = {"REMOTE_ADDR": "10.0.0.2"}

    first = csrf_post(
        "/newsletter/", {"email": "ada@example.com"}, HTTP_X_FORWARDED_FOR="198.51.100.4", **behind
    )
    second = csrf_post(
        "/newsletter/", {"email": "bo@example.com"}, HTTP_X_FORWARDED_FOR="198.51.100.5", **behind
    )

    assert (first.status_code, second.status_code) == (302, 302)
    assert Subscriber.objects.get(email="ada@example.com").consent_ip == "198.51.100.4"


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_response_is_identical_for_new_pending_confirmed_and_unsubscribed(csrf_post, accept):
    SubscriberFactory(email="pending@example.com")
    SubscriberFactory(email="confirmed@example.com", confirmed=True)
    SubscriberFactory(email="gone@example.com", unsubscribed=True)
    responses = []
    for email in [
        "new@example.com",
        "pending@example.com",
        "confirmed@example.com",
        "gone@example.com",
    ]:
        response = csrf_post("/newsletter/", {"email": email}, HTTP_ACCEPT=accept)
        headers = {
            key: value
            for key, value in response.headers.items()
            if key.lower() not in {"set-cookie", "date"}
        }
        responses.append((response.status_code, headers, without_csrf(response.content)))

    assert responses[1:] == [responses[0]] * 3


def test_an_unsubscribed_reader_can_sign_up_and_confirm_again(
    csrf_post, anonymous, eager_tasks, django_capture_on_commit_callbacks
):
    gone = SubscriberFactory(email="gone@example.com", unsubscribed=True)

    with django_capture_on_commit_callbacks(execute=True):
        csrf_post("/newsletter/", {"email": "GONE@example.com", "page": "/articles/"})

    gone.refresh_from_db()
    assert (gone.status, gone.unsubscribed_at, gone.consent_page) == (
        Subscriber.Status.PENDING,
        None,
        "/articles/",
    )
    (message,) = mail.outbox
    confirm_path = next(
        word for word in message.body.split() if "/newsletter/confirm/" in word
    ).removeprefix("http://localhost:8000")
    anonymous.get(confirm_path)
    token = anonymous.cookies["csrftoken"].value
    anonymous.post(confirm_path, {"csrfmiddlewaretoken": token})
    gone.refresh_from_db()
    assert gone.status == Subscriber.Status.CONFIRMED


def test_a_pending_address_gets_one_more_email_at_most(
    csrf_post, eager_tasks, django_capture_on_commit_callbacks
):
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            csrf_post("/newsletter/", {"email": "ada@example.com"})

    assert [m.subject for m in mail.outbox] == [
        "Confirm your subscription",
        "Reminder: confirm your subscription",
    ]


def test_signup_page_works_on_its_own(anonymous):
    html = anonymous.get("/newsletter/").content.decode()

    assert '<h1 id="signup-heading">Sign up to my newsletter</h1>' in html
    assert html.count("Sign up to my newsletter") == 1


def test_an_error_report_carries_no_address(client, practice_profile, monkeypatch):
    import newsletter.services

    def broken(**kwargs: object) -> None:
        raise RuntimeError("the list went away")

    monkeypatch.setattr(newsletter.services, "subscriber_subscribe", broken)

    response, report = post_and_report(
        client, "/newsletter/", {"email": "ada@example.com", "first_name": "Adelaide"}
    )

    assert response.status_code == 500
    assert "the list went away" in report
    assert "ada@example.com" not in report
    assert "Adelaide" not in report
