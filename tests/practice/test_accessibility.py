"""axe-core finds nothing on the pages a visitor sees, at a phone's size.

The rules are axe's defaults (WCAG 2 A and AA and best practices), run in
Chromium on the demo practice: the public pages, the booking form with its
error messages, the confirmation and the manage page, the newsletter pages.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.support.booking import fill_booking_form

pytestmark = pytest.mark.browser

PUBLIC_PAGES = [
    "/",
    "/about/",
    "/how-it-works/",
    "/terms/",
    "/privacy/",
    "/articles/",
    "/articles/micro-dosing-for-moms/",
    "/consultation/",
    "/consultation/waitlist/",
    "/newsletter/",
    "/newsletter/thanks/",
    "/accounts/login/",
    "/consultation/manage/no-such-link/",
    "/no-such-page/",
]


@pytest.fixture
def demo_site(live_server):  # type: ignore[no-untyped-def]
    call_command("seed_demo", stdout=io.StringIO())
    return live_server.url


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{page.url}: {rule['id']} ({rule['impact']}) at {node['target']}"
        for rule in found
        for node in rule["nodes"]
    ]


def test_the_public_pages_pass_axe(demo_site, phone_page):
    found = []
    for path in PUBLIC_PAGES:
        phone_page.goto(demo_site + path)
        found += violations(phone_page)

    assert found == []


def test_the_booking_flow_passes_axe_with_its_error_messages(demo_site, phone_page):
    phone_page.goto(demo_site + "/consultation/")
    phone_page.locator("#slot-picker[aria-busy]").wait_for(state="detached")
    # The day chips and one day's times, then the chosen time's line.
    found = violations(phone_page)
    phone_page.locator("[role=tabpanel]:not([hidden]) .slot label").first.click()
    phone_page.locator("#waitlist summary").click()
    found += violations(phone_page)
    phone_page.goto(demo_site + "/consultation/")
    # Empty: the server's messages (the form does not stop at the browser's checks).
    phone_page.get_by_role("button", name="Book my free consultation").click()
    assert (
        phone_page.locator("#error-summary")
        .get_by_text("Please tell me your first name.")
        .is_visible()
    )
    found += violations(phone_page)

    phone_page.locator("[role=tabpanel]:not([hidden]) .slot label").first.click()
    fill_booking_form(
        phone_page,
        first_name="Dana",
        last_name="Reyes",
        email="dana@example.com",
        reason="I would like to talk.",
    )
    phone_page.get_by_role("button", name="Book my free consultation").click()
    phone_page.wait_for_url("**/consultation/booked/")
    found += violations(phone_page)

    phone_page.get_by_role("link", name="See details, reschedule or cancel").click()
    phone_page.wait_for_url("**/consultation/manage/**")
    found += violations(phone_page)

    phone_page.get_by_role("link", name="Reschedule").click()
    phone_page.locator("#slot-picker[aria-busy]").wait_for(state="detached")
    found += violations(phone_page)
    phone_page.get_by_role("button", name="Move my consultation").click()
    phone_page.locator("#error-summary").wait_for()
    found += violations(phone_page)

    phone_page.get_by_role("link", name="Keep the time I have").click()
    phone_page.get_by_role("link", name="Cancel", exact=True).click()
    phone_page.get_by_role("button", name="Yes, cancel").wait_for()
    found += violations(phone_page)
    phone_page.get_by_role("button", name="Yes, cancel").click()
    phone_page.get_by_role("heading", name="This consultation is cancelled").wait_for()
    found += violations(phone_page)

    assert found == []
