"""The client portal's home as a signed-in client against a bare signed-in page,
on gunicorn + PostgreSQL, side by side in one run.

Budget (issue 10): ``/portal/`` serves at least 0.8 of the requests per
second of ``/bench/bare-signed-in/`` (bench/urls.py): a page behind the login,
through the same middleware, for the same client's session, rendering the
site's base.html with her name and nothing else. The difference is the
portal's own work: her client record, her to-do list (intake, open
questionnaires, consents to sign), her upcoming appointments in her zone and
her documents.

Beside them, the floor of any audited page: the bare signed-in page writing
the one audit line that every view of a client's record must, as the
portal writes it. The three pages are measured in ``ROUNDS`` alternating
rounds of 8 s; each ratio is the median of the rounds' own ratios (each page
against the bare page measured beside it), because this machine's speed
drifts by a third from one minute to the next and a ratio of two bests can
pair a fast minute with a slow one. The rps shown are the medians.

She is demo-like: a client with a portal login, her intake half done, three
questionnaires open, the starting consent documents to sign, three
appointments ahead and three documents. Her session comes from the real
login page (email and password) against the bench database, with the CSRF
cookie her first portal page sets, as her browser sends both; the pages are
checked to answer 200 with her content before they are measured (wrk counts
a redirect to the login page as a success).
"""

from __future__ import annotations

import statistics
import urllib.request
from datetime import UTC, datetime, time, timedelta

from bench.common import bench_database, django_setup, load, report, serve

CLIENT_EMAIL = "bench.client@example.com"
CLIENT_PASSWORD = "bench portal evenings"  # noqa: S105  (a bench database's only)
APPOINTMENTS = 3
DOCUMENTS = 3
QUESTIONNAIRES = ("phq-9", "gad-7", "epds")
BARE_SIGNED_IN = "/bench/bare-signed-in/"
BARE_AUDITED = "/bench/bare-signed-in-audited/"
PORTAL = "/portal/"
AIM = 0.8
ROUNDS = 7


def _her_preparation() -> None:
    """The practice, and one client part way through her preparation."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from kap_sessions.models import Intake, ScreeningAssignment
    from practice.calendar.services import appointment_book
    from practice.identity import practice_profile
    from practice.models import (
        AppointmentKind,
        Client,
        ClientDocument,
        MeetingMode,
        PracticeProfile,
        User,
    )
    from practice.private_files import private_file_save

    PracticeProfile.objects.get_or_create(
        pk=1, defaults={"practice_name": "Harbor Light Therapy", "therapist_name": "Lena Marsh"}
    )
    user = User.objects.create_user(
        email=CLIENT_EMAIL, password=CLIENT_PASSWORD, first_name="Nora", last_name="Quinn"
    )
    EmailAddress.objects.create(user=user, email=CLIENT_EMAIL, verified=True, primary=True)
    client = Client.objects.create(
        user=user,
        first_name="Nora",
        last_name="Quinn",
        email=CLIENT_EMAIL,
        phone="(510) 555-0142",
        time_zone="America/New_York",
        emergency_contact_name="Sam Quinn",
        emergency_contact_phone="(510) 555-0199",
        emergency_contact_relationship="partner",
    )
    Intake.objects.create(
        client=client,
        blood_pressure="normal",
        heart_condition=False,
        liver_condition=False,
        bladder_condition=False,
        glaucoma=False,
        seizures=False,
    )
    today = timezone.localdate()
    for number, instrument in enumerate(QUESTIONNAIRES):
        ScreeningAssignment.objects.create(
            client=client, instrument=instrument, due_on=today + timedelta(days=3 + number)
        )
    zone = practice_profile().zone
    for number in range(APPOINTMENTS):
        day = today + timedelta(days=7 * (number + 1))
        appointment_book(
            kind=AppointmentKind.PREPARATION,
            start=datetime.combine(day, time(11), tzinfo=zone).astimezone(UTC),
            client_id=client.pk,
            mode=MeetingMode.VIDEO,
            offered_only=False,
        )
    for number in range(DOCUMENTS):
        private_file_save(
            client=client,
            kind=ClientDocument.Kind.UPLOAD,
            title=f"Letter {number + 1}",
            content=b"%PDF-1.4\n% a bench document\n%%EOF\n",
            content_type=ClientDocument.ContentType.PDF,
            created_by=None,
            visible_to_client=True,
        )


def client_session(database_url: str) -> str:
    """Her preparation, and her browser's ``Cookie`` header (session and CSRF cookies)
    after the real login page and her first portal page."""
    django_setup(database_url)
    from django.conf import settings
    from django.test import Client

    _her_preparation()
    browser = Client(HTTP_HOST="127.0.0.1")
    done = browser.post(
        f"/accounts/login/?next={PORTAL}", {"login": CLIENT_EMAIL, "password": CLIENT_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == PORTAL, done
    # Her first portal page gives her browser its CSRF cookie (the portal's
    # sign-out form), which it sends back from then on, as every page after
    # the first does.
    assert browser.get(PORTAL).status_code == 200
    return "; ".join(
        f"{name}={browser.cookies[name].value}"
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    )


def _page(base: str, path: str, cookie: str) -> str:
    """The page's HTML, refusing a redirect (to the login page, or anywhere)."""
    request = urllib.request.Request(f"{base}{path}", headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200, response.status
        assert response.geturl() == f"{base}{path}", response.geturl()
        return str(response.read().decode())


def _check_pages(base: str, cookie: str) -> None:
    bare = _page(base, BARE_SIGNED_IN, cookie)
    assert "<h1>Hello, Nora</h1>" in bare
    assert "<h1>Hello, Nora</h1>" in _page(base, BARE_AUDITED, cookie)
    home = _page(base, PORTAL, cookie)
    assert "<h1>Hello, Nora</h1>" in home
    assert home.count("download>Add to my calendar") == APPOINTMENTS, "her appointments"
    assert home.count('<a href="/portal/documents/') == DOCUMENTS, "her documents"
    for slug in QUESTIONNAIRES:
        assert f'href="/portal/questionnaires/{slug}/"' in home, slug


def main() -> None:
    database_url = bench_database("portal")
    cookie = client_session(database_url)
    rows = []
    with serve(database_url) as base:
        _check_pages(base, cookie)
        pages = {"bare": BARE_SIGNED_IN, "floor": BARE_AUDITED, "home": PORTAL}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
        for _ in range(ROUNDS):
            for name, path in pages.items():
                runs[name].append(load(f"{base}{path}", seconds=8, headers={"Cookie": cookie}))
    for name, label, aim in (
        ("bare", "bare signed-in page", ""),
        ("floor", "bare signed-in page writing one audit line (the floor)", ""),
        ("home", "/portal/ (signed-in client)", f">= {AIM}"),
    ):
        pairs = zip(runs[name], runs["bare"], strict=True)
        ratios = [run["rps"] / bare["rps"] for run, bare in pairs]
        rows.append(
            {
                "page": label,
                "rps": statistics.median(run["rps"] for run in runs[name]),
                "p99_ms": statistics.median(run["p99_ms"] for run in runs[name]),
                "errors": sum(int(run["errors"]) for run in runs[name]),
                "ratio": round(statistics.median(ratios), 2),
                "ratio_range": f"{min(ratios):.2f}-{max(ratios):.2f}",
                "aim": aim,
            }
        )
    report(
        f"Portal home vs a bare signed-in page (gunicorn, 2 sync workers, wrk -c8; "
        f"median of {ROUNDS} alternating rounds)",
        rows,
    )
