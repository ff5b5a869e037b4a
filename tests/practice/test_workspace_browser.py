"""The Today page and a client's page in a real Chromium, after the real login with TOTP.

At a phone's width (390 px) and a laptop's (1366 px): axe-core finds nothing,
the page never scrolls sideways (a screenshot is kept when it does), her
sections are one tap away (the phone's menu, the desktop's sidebar), and the
strict Content-Security-Policy raises no error.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from kap_sessions.models import ConsentKind
from practice.identity import practice_profile
from practice.models import AppointmentKind, Client, MeetingMode, OutboxMessage
from tests.conftest import totp_code
from tests.consultations.factories import ConsultationFactory, WaitlistEntryFactory
from tests.factories import (
    PASSWORD,
    AppointmentFactory,
    ClientDocumentFactory,
    ClientFactory,
    CourseFactory,
    OutboxMessageFactory,
)
from tests.kap_sessions.factories import (
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    IntakeFactory,
    SafetyFlagFactory,
    ScreeningAssignmentFactory,
    ScreeningResponseFactory,
)
from tests.practice.test_accessibility import violations
from tests.support.layout import sideways_overflow
from tests.support.screenshots import screenshot_on_failure

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
SIZES = [pytest.param(PHONE, id="390px"), pytest.param(LAPTOP, id="1366px")]


def _busy_day() -> None:
    """Tomorrow's calls and sessions (always inside the page's two days), news, an open flag."""
    zone = practice_profile().zone
    tomorrow = timezone.now().astimezone(zone).date() + timedelta(days=1)

    def at(hour: int) -> datetime:
        return datetime.combine(tomorrow, time(hour), zone)

    ConsultationFactory(
        appointment=AppointmentFactory(start=at(9), mode=MeetingMode.PHONE),
        first_name="Nora",
        last_name="Quinn-Abernathy-Whitfield",
        phone="+1 (510) 555-0100",
    )
    ConsultationFactory(
        appointment=AppointmentFactory(start=at(10), mode=MeetingMode.VIDEO),
        first_name="Ines",
        last_name="Park",
    )
    AppointmentFactory(
        kind=AppointmentKind.PREPARATION,
        start=at(13),
        mode=MeetingMode.IN_PERSON,
        client=ClientFactory(first_name="Amara", last_name="Okafor", phone="(510) 555-0177"),
    )
    AppointmentFactory(kind=AppointmentKind.BLOCKED, start=at(16), title="School pickup")
    WaitlistEntryFactory(
        name="Ivy Waiting", preferred_times="weekday evenings after the kids sleep"
    )
    OutboxMessageFactory(
        status=OutboxMessage.Status.FAILED,
        finished_at=timezone.now(),
        recipient="a.very.long.address.that.does.not.wrap@example-family-mail.com",
        last_error="SMTPRecipientsRefused 550",
    )
    SafetyFlagFactory(client=ClientFactory(first_name="Rosa", last_name="Delgado-Fairweather"))


def log_in(page, base: str, user) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/accounts/login/?next=/admin/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(totp_code(user.totp_secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base + "/admin/")


@pytest.fixture
def signed_in(live_server, browser, therapist):  # type: ignore[no-untyped-def]
    """The therapist's browser session after password and authenticator code."""
    _busy_day()
    context = browser.new_context(**LAPTOP)
    log_in(context.new_page(), live_server.url, therapist)
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def open_page(live_server, browser, signed_in):  # type: ignore[no-untyped-def]
    """A factory: ``open_page(size, path)`` opens ``path`` signed in, at ``size``."""
    contexts = []

    def open_at(size: dict, path: str = "/admin/"):  # type: ignore[no-untyped-def,type-arg]
        context = browser.new_context(storage_state=signed_in, **size)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on(
            "console",
            lambda m: page.console_errors.append(m.text) if m.type == "error" else None,
        )
        response = page.goto(live_server.url + path)
        assert response.status == 200
        return page

    yield open_at
    for context in contexts:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_today_passes_axe(open_page, size):  # type: ignore[no-untyped-def]
    page = open_page(size)

    with screenshot_on_failure(page, f"today-axe-{size['viewport']['width']}"):
        assert page.get_by_role("heading", name="Today and tomorrow").is_visible()
        assert page.get_by_role("heading", name="Safety flags to look at").is_visible()
        assert violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_today_fits_the_screen_without_sideways_scrolling(open_page, size):  # type: ignore[no-untyped-def]
    page = open_page(size)

    with screenshot_on_failure(page, f"today-overflow-{size['viewport']['width']}"):
        assert page.get_by_text("Nora Quinn-Abernathy-Whitfield").first.is_visible()
        assert sideways_overflow(page) <= 0
        assert page.console_errors == []


def test_on_a_phone_her_sections_are_in_a_menu(open_page):  # type: ignore[no-untyped-def]
    page = open_page(PHONE)

    with screenshot_on_failure(page, "today-phone-menu"):
        assert not page.locator("#nav-sidebar").is_visible()
        page.get_by_text("Menu", exact=True).click()
        menu = page.get_by_role("navigation", name="Workspace menu")
        assert menu.get_by_role("link", name="Appointments").is_visible()
        assert menu.get_by_role("button", name="Show system settings").is_visible()
        assert sideways_overflow(page) <= 0
        assert violations(page) == []


def test_on_a_laptop_her_sections_are_in_the_sidebar(open_page):  # type: ignore[no-untyped-def]
    page = open_page(LAPTOP)

    with screenshot_on_failure(page, "today-laptop-sidebar"):
        sidebar = page.get_by_role("navigation", name="Workspace", exact=True)
        assert sidebar.get_by_role("link", name="Today").get_attribute("aria-current") == "page"
        assert sidebar.locator("caption").all_inner_texts() == [
            "CONSULTATIONS",
            "CLIENTS",
            "CALENDAR",
            "BILLING",
            "NEWSLETTER",
            "PRACTICE SETTINGS",
        ]
        assert not page.locator(".workspace-menu").is_visible()


def test_a_change_list_scrolls_inside_its_box_on_a_phone(open_page):  # type: ignore[no-untyped-def]
    page = open_page(PHONE, "/admin/practice/appointment/")

    with screenshot_on_failure(page, "appointments-390"):
        assert page.get_by_role("link", name="intake").first.is_visible()
        assert sideways_overflow(page) <= 0


# --- A client's page ------------------------------------------------------------------------


def _client_in_preparation() -> Client:
    """Amara halfway through preparation: something in every panel of her page."""
    amara = ClientFactory(
        first_name="Amara", last_name="Okafor-Whitfield", email="amara.okafor@example.com"
    )
    now = timezone.now()
    IntakeFactory(client=amara, blood_pressure="high_uncontrolled", heart_condition=False)
    CourseFactory(client=amara)
    for days_ago, total in [(40, 14), (26, 11), (12, 8)]:
        ScreeningResponseFactory(
            assignment__client=amara,
            total=total,
            band="Mild",
            completed_at=now - timedelta(days=days_ago),
        )
    flagged = ScreeningResponseFactory(
        assignment__client=amara, assignment__instrument="epds", total=14, safety=True
    )
    SafetyFlagFactory(client=amara, source="epds", screening_response=flagged)
    SafetyFlagFactory(client=amara)
    today = timezone.localdate()
    ScreeningAssignmentFactory(client=amara, instrument="gad-7", due_on=today - timedelta(days=2))
    ScreeningAssignmentFactory(client=amara, instrument="phq-9", due_on=today + timedelta(days=5))
    signed = ConsentDocumentFactory(kind=ConsentKind.KAP_INFORMED_CONSENT)
    ConsentDocumentFactory(kind=ConsentKind.FINANCIAL_POLICY, title="Financial policy")
    ConsentSignatureFactory(
        client=amara,
        document=signed,
        pdf=ClientDocumentFactory(client=amara, title="Informed consent (signed, version 2)"),
    )
    return amara


@pytest.mark.parametrize("size", SIZES)
def test_a_clients_page_passes_axe_and_fits_the_screen(open_page, size):  # type: ignore[no-untyped-def]
    amara = _client_in_preparation()
    page = open_page(size, f"/admin/practice/client/{amara.pk}/change/")

    with screenshot_on_failure(page, f"client-page-{size['viewport']['width']}"):
        assert page.get_by_role("heading", name="Safety flags", exact=True).is_visible()
        assert page.get_by_role("link", name="Acknowledge all of these with one note").is_visible()
        # Each score of the trend is a link named for what it is.
        for total in (14, 11, 8):
            assert page.get_by_role("link", name=re.compile(rf"^{total} \(PHQ-9, ")).is_visible()
        assert page.console_errors == []  # before axe, whose own script the CSP refuses
        assert sideways_overflow(page) <= 0
        assert violations(page) == []
