"""Public pages and the therapist's Today page against a bare Django template
page, on gunicorn + PostgreSQL.

Budget (DESIGN.md): public GET pages serve at least half the requests per
second of the bare page, measured side by side in one run. The Today page
(``/admin/``) is measured the same way, signed in as the therapist: her
session comes from the real login (password, then an authenticator code)
against the bench database, with a day of calls to show and the demo's
courses (issue 11): a course waiting on its gates and the week's course
sessions are on the page, checked before it is measured.
"""

from __future__ import annotations

import re
import urllib.request
import uuid
from datetime import datetime, time, timedelta

from bench.common import bench_database, django_setup, load, report, serve

PAGES = ["/", "/how-it-works/", "/about/", "/terms/", "/privacy/", "/articles/"]


def first_article_path(database_url: str) -> str:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as connection:
        row = connection.execute(
            "SELECT slug FROM newsletter_article ORDER BY published_at LIMIT 1"
        ).fetchone()
    assert row is not None, "seed_demo made no article"
    return f"/articles/{row[0]}/"


# Calls on the Today page: today's and tomorrow's, an hour apart.
TODAY_CALLS = 8


def _fill_the_day() -> None:
    from django.utils import timezone

    from consultations.models import Consultation
    from practice.calendar.services import appointment_book
    from practice.identity import practice_profile
    from practice.models import AppointmentKind, MeetingMode

    zone = practice_profile().zone
    today = timezone.now().astimezone(zone).date()
    for i in range(TODAY_CALLS):
        day = today + timedelta(days=i % 2)
        start = datetime.combine(day, time(8 + i // 2), tzinfo=zone)
        appointment = appointment_book(
            kind=AppointmentKind.CONSULTATION,
            start=start,
            mode=MeetingMode.PHONE if i % 2 else MeetingMode.VIDEO,
            offered_only=False,
        )
        Consultation.objects.create(
            appointment=appointment,
            submission_id=uuid.uuid4(),
            first_name="Bench",
            last_name=f"Caller {i}",
            email=f"bench{i}@example.com",
            phone="(510) 555-0100",
            time_zone=zone.key,
            reason="A bench booking.",
            perinatal="neither",
            prior_experience="none",
            consent_to_contact=True,
        )


def therapist_session(database_url: str) -> str:
    """A day to show, and the demo therapist's ``Cookie`` header after the real login
    with a second factor (her authenticator is enrolled here)."""
    django_setup(database_url)
    from allauth.mfa.totp.internal.auth import (
        TOTP,
        format_hotp_value,
        generate_totp_secret,
        hotp_value,
        yield_hotp_counters_from_time,
    )
    from django.conf import settings
    from django.test import Client

    from practice.demo import THERAPIST_EMAIL, THERAPIST_PASSWORD
    from practice.models import User

    _fill_the_day()
    therapist = User.objects.get(email=THERAPIST_EMAIL)
    secret = generate_totp_secret()
    TOTP.activate(therapist, secret)
    client = Client(HTTP_HOST="127.0.0.1")
    step = client.post(
        "/accounts/login/?next=/admin/", {"login": THERAPIST_EMAIL, "password": THERAPIST_PASSWORD}
    )
    assert step.status_code == 302 and step["Location"] == "/accounts/2fa/authenticate/", step
    code = format_hotp_value(hotp_value(secret, next(iter(yield_hotp_counters_from_time()))))
    done = client.post(step["Location"], {"code": code})
    assert done.status_code == 302 and done["Location"] == "/admin/", done
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _check_today(base: str, cookie: str) -> None:
    """The Today page answers 200 with her day (wrk would count a redirect to the
    login as a success)."""
    request = urllib.request.Request(f"{base}/admin/", headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        body = response.read().decode()
        assert response.geturl() == f"{base}/admin/", response.geturl()
    assert "Today and tomorrow" in body
    assert "Courses waiting on a step" in body
    assert "This week&#x27;s course sessions" in body or "This week's course sessions" in body
    assert len(re.findall(r"Bench Caller \d", body)) >= TODAY_CALLS


def main() -> None:
    database_url = bench_database("pages", seed=True)
    cookie = therapist_session(database_url)
    rows = []
    with serve(database_url) as base:
        bare = load(f"{base}/bench/bare/")
        rows.append({"page": "bare template", **bare, "ratio": 1.0})
        for page in [*PAGES, first_article_path(database_url)]:
            result = load(f"{base}{page}")
            rows.append({"page": page, **result, "ratio": round(result["rps"] / bare["rps"], 2)})
        _check_today(base, cookie)
        today = load(f"{base}/admin/", headers={"Cookie": cookie})
        rows.append(
            {
                "page": "/admin/ (Today, signed in)",
                **today,
                "ratio": round(today["rps"] / bare["rps"], 2),
            }
        )
    report("Public pages and Today vs a bare Django page (gunicorn, 2 sync workers, wrk -c8)", rows)
