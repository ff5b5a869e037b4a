"""Every public page passes the Nu HTML Checker (the W3C's vnu.jar) with no error.

The pages are those of ``practice/urls.py``, ``consultations/urls.py`` and
``newsletter/urls.py`` that a visitor can see, in each of their states: the
booking page blank and with its error messages, the confirmation, the manage
page and its reschedule and cancel steps, the waitlist, the newsletter's
sign-up, confirmation, unsubscribe and preferences pages, the articles, and
the error pages. All are rendered on the demo practice and checked in one run
of the checker.

Locally the test skips when Java or vnu.jar is missing; with CI=true it fails,
since ``.ci/run`` installs both.
"""

from __future__ import annotations

import io
import re
import uuid

import pytest
from django.core.management import call_command
from django.test import Client

from consultations.links import manage_link_issue
from consultations.models import Consultation
from newsletter.models import Article, Subscriber
from newsletter.tokens import confirm_token, reader_token
from practice.models import Appointment
from tests.conftest import IN_CI
from tests.support.htmlcheck import vnu_command, vnu_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def vnu() -> list[str]:
    command = vnu_command()
    if command is None:
        message = "the Nu HTML Checker needs java and .venv/vnu/vnu.jar (see .ci/run)"
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return command


def fetch(
    client: Client, path: str, *, data: dict[str, str] | None = None, status: int = 200
) -> str:
    response = client.post(path, data or {}) if data is not None else client.get(path)
    assert response.status_code == status, f"{path}: {response.status_code}"
    return response.content.decode()


def booking(start: str, **overrides: str) -> dict[str, str]:
    return {
        "start": start,
        "submission_id": str(uuid.uuid4()),
        "time_zone": "America/New_York",
        "first_name": "Nora",
        "last_name": "Quinn",
        "email": "nora@example.com",
        "phone": "",
        "preferred_contact": "email",
        "meeting_mode": "video",
        "reason": "I feel far away from everyone.",
        "perinatal": "postpartum",
        "perinatal_months": "5",
        "prior_experience": "none",
        "consent_to_contact": "on",
        "website": "",
        **overrides,
    }


def public_pages(client: Client) -> dict[str, str]:  # noqa: PLR0915  (one list, read top to bottom)
    pages: dict[str, str] = {}
    for path in ("/", "/about/", "/how-it-works/", "/terms/", "/privacy/"):
        pages[path] = fetch(client, path)
    for path in ("/accounts/login/", "/accounts/password/reset/"):
        pages[path] = fetch(client, path)
    pages["404"] = fetch(client, "/no-such-page/", status=404)

    # The free consultation.
    pages["/consultation/"] = fetch(client, "/consultation/")
    pages["/consultation/?tz=Asia/Tokyo"] = fetch(client, "/consultation/?tz=Asia/Tokyo")
    slots = client.get("/consultation/slots.json").json()["slots"]
    later = re.search(r'href="\?tz=[^"]*from=([\d-]+)', pages["/consultation/"])
    assert later is not None, "the booking page pages on without JavaScript"
    pages["/consultation/ later dates"] = fetch(client, f"/consultation/?from={later.group(1)}")
    pages["/consultation/ empty POST"] = fetch(client, "/consultation/", data={}, status=400)
    pages["/consultation/ phone call without a phone"] = fetch(
        client, "/consultation/", data=booking(slots[0], meeting_mode="phone"), status=400
    )
    pages["/consultation/ time gone"] = fetch(
        client, "/consultation/", data=booking("2001-01-01T09:00:00+00:00"), status=400
    )
    pages["/consultation/ honeypot"] = fetch(
        client, "/consultation/", data=booking(slots[0], website="http://spam.example")
    )
    booked = client.post("/consultation/", booking(slots[0]))
    assert booked.status_code == 302
    pages["/consultation/booked/"] = fetch(client, "/consultation/booked/")

    consultation = Consultation.objects.get(email="nora@example.com")
    manage = f"/consultation/manage/{manage_link_issue(consultation=consultation)}/"
    pages["manage"] = fetch(client, manage)
    pages["manage: reschedule"] = fetch(client, manage + "reschedule/")
    pages["manage: reschedule, time gone"] = fetch(
        client, manage + "reschedule/", data={"start": "2001-01-01T09:00:00+00:00"}, status=409
    )
    pages["manage: cancel"] = fetch(client, manage + "cancel/")
    cancelled = client.post(manage + "cancel/", {"reason": "Plans changed"})
    assert cancelled.status_code == 302
    pages["manage: cancelled"] = fetch(client, manage)
    past = Consultation.objects.filter(appointment__status=Appointment.Status.COMPLETED).first()
    assert past is not None
    pages["manage: past"] = fetch(
        client, f"/consultation/manage/{manage_link_issue(consultation=past)}/"
    )
    pages["manage: unknown link"] = fetch(client, "/consultation/manage/nope/", status=404)

    pages["/consultation/waitlist/"] = fetch(client, "/consultation/waitlist/")
    pages["waitlist with errors"] = fetch(
        client,
        "/consultation/waitlist/",
        data={"waitlist-email": "not-an-address", "waitlist-time_zone": "Nowhere/Here"},
        status=400,
    )
    pages["waitlist joined"] = fetch(
        client,
        "/consultation/waitlist/",
        data={
            "waitlist-name": "Ivy Hart",
            "waitlist-email": "ivy@example.com",
            "waitlist-time_zone": "America/Chicago",
        },
    )

    # The newsletter and the articles.
    pages["/newsletter/"] = fetch(client, "/newsletter/")
    pages["/newsletter/ with errors"] = fetch(
        client, "/newsletter/", data={"email": "nope"}, status=400
    )
    pages["/newsletter/thanks/"] = fetch(client, "/newsletter/thanks/")
    pending = Subscriber.objects.filter(status=Subscriber.Status.PENDING).first()
    reader = Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED).first()
    assert pending is not None
    assert reader is not None
    confirm = f"/newsletter/confirm/{confirm_token(pending)}/"
    pages["newsletter confirm"] = fetch(client, confirm)
    pages["newsletter confirmed"] = fetch(client, confirm, data={})
    pages["newsletter bad link"] = fetch(client, "/newsletter/confirm/nope/", status=400)
    pages["newsletter preferences"] = fetch(
        client, f"/newsletter/preferences/{reader_token(reader)}/"
    )
    unsubscribe = f"/newsletter/unsubscribe/{reader_token(reader)}/"
    pages["newsletter unsubscribe"] = fetch(client, unsubscribe)
    pages["newsletter unsubscribed"] = fetch(client, unsubscribe, data={})
    pages["/articles/"] = fetch(client, "/articles/")
    for article in Article.objects.live():
        path = f"/articles/{article.slug}/"
        pages[path] = fetch(client, path)
    return pages


@pytest.mark.usefixtures("frozen_now")
def test_every_public_page_passes_the_nu_html_checker(client, settings, vnu, tmp_path):
    settings.DEBUG = False
    call_command("seed_demo", stdout=io.StringIO())

    pages = public_pages(client)

    errors = vnu_errors(vnu, pages, tmp_path)
    assert errors == [], "\n".join(errors)


def test_the_checker_finds_a_repeated_id(vnu, tmp_path):
    page = '<!doctype html><html lang="en"><title>t</title><p id="a">one</p><p id="a">two</p>'

    errors = vnu_errors(vnu, {"twice": page}, tmp_path)

    assert len(errors) == 1
    assert errors[0].startswith("twice line 1: Duplicate ID “a”.")
