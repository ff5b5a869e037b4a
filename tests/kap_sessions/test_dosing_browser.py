"""The medicine session page in Chromium at a tablet's size (820 x 1180, touch), after the real
sign-in with an authenticator code.

Vitals are entered row by row and sent in place; an out-of-range value is
marked as it is typed and in the table; a row typed while the connection is
gone, or after the staff session ended, is kept on the tablet ("Saved on this
tablet, will be sent"), survives a reload and goes to the server when the
connection is back or after signing in again; then she is discharged. No row
is stored twice, the strict Content-Security-Policy raises no error, and
axe-core finds nothing.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from kap_sessions.models import DosingRecord, VitalSign
from practice.identity import practice_profile
from practice.models import Appointment
from tests.factories import PASSWORD
from tests.kap_sessions.factories_dosing import medicine_session
from tests.practice.test_accessibility import violations
from tests.support.layout import sideways_overflow
from tests.support.screenshots import screenshot_on_failure

pytestmark = pytest.mark.browser

TABLET = {
    "viewport": {"width": 820, "height": 1180},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
KEPT = "Saved on this tablet, will be sent"


def authenticator_code(secret: str, *, steps_ahead: int = 0) -> str:
    """The code of the authenticator app, or of a later 30-second step (each code works once)."""
    counter = int(time.time()) // 30 + steps_ahead
    return format_hotp_value(hotp_value(secret, counter))


def sign_in(page, base: str, user, *, next_path: str, steps_ahead: int = 0) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(
        authenticator_code(user.totp_secret, steps_ahead=steps_ahead)
    )
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(base + next_path)


@pytest.fixture
def record(practice_profile) -> DosingRecord:  # type: ignore[no-untyped-def]
    """Amara's session, started an hour ago (today, whatever the time of day)."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    return medicine_session(start=start, started=True)


@pytest.fixture
def tablet(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(**TABLET)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def add_row(page, **readings: str) -> None:  # type: ignore[no-untyped-def]
    """Type one row in the entry row, field by field, and add it."""
    for label, value in readings.items():
        entry(page, label).fill(value)
    page.get_by_role("button", name="Add this row").click()


def entry(page, label: str):  # type: ignore[no-untyped-def]
    """A field of the entry row."""
    return page.locator("#vitals-form").get_by_label(label)


def table_rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        " ".join(row.split()) for row in page.locator("#vitals-table tbody tr").all_inner_texts()
    ]


def test_vitals_row_by_row_kept_on_the_tablet_while_the_server_is_away_then_discharge(
    live_server, tablet, therapist, record
):
    page = tablet
    path = reverse("admin:kap_sessions_dosingrecord_change", args=[record.pk])
    sign_in(page, live_server.url, therapist, next_path=path)

    with screenshot_on_failure(page, "dosing-tablet"):
        assert page.get_by_role("heading", name="Amara O.").is_visible()
        assert sideways_overflow(page) == 0
        now_shown = entry(page, "Time").input_value()
        assert now_shown == timezone.localtime(timezone.now(), practice_profile().zone).strftime(
            "%H:%M"
        )

        # Row by row: each is sent in place, the page does not reload.
        add_row(page, Systolic="124", Diastolic="80", **{"Heart rate": "72", "SpO2": "98"})
        page.locator("#vitals-table tbody tr", has_text="Recorded").first.wait_for()
        assert entry(page, "Systolic").input_value() == ""
        assert entry(page, "Systolic").evaluate("el => el === document.activeElement")

        # An out-of-range value, marked as it is typed, then in the table.
        entry(page, "Systolic").fill("172")
        assert "out-of-range" in entry(page, "Systolic").get_attribute("class")
        assert page.locator("#id_vital-systolic_range").inner_text() == "High: out of range"
        add_row(page, Diastolic="96", **{"Heart rate": "88"})
        high = page.locator("#vitals-table td.out-of-range")
        high.wait_for()
        assert " ".join(high.text_content().split()) == "172 high, out of range"
        assert high.locator(".visually-hidden").text_content() == ", out of range"
        expect(page.locator("#vitals-table tr.pending")).to_have_count(0)
        assert VitalSign.objects.filter(record=record).count() == 2

        # No connection: the row stays on the tablet, and goes when it is back.
        page.context.set_offline(True)
        add_row(page, **{"Heart rate": "90", "SpO2": "96"})
        page.locator("#vitals-unsent").wait_for()
        assert KEPT in page.locator("#vitals-unsent").inner_text()
        assert table_rows(page)[-1].endswith(KEPT)
        assert VitalSign.objects.filter(record=record).count() == 2
        page.context.set_offline(False)
        expect(page.locator("#vitals-table tr.pending")).to_have_count(0)
        assert page.locator("#vitals-unsent").is_hidden()
        assert VitalSign.objects.filter(record=record).count() == 3

        # The staff session ends (the idle sign-out): the row is kept, a reload keeps it,
        # and it is sent once she has signed in again.
        Session.objects.all().delete()
        add_row(page, Systolic="118", Diastolic="76")
        page.locator("#vitals-sign-in").wait_for()
        assert KEPT in page.locator("#vitals-unsent").inner_text()
        assert "You are signed out" in page.locator("#vitals-unsent").inner_text()
        assert VitalSign.objects.filter(record=record).count() == 3
        page.reload()
        assert "/accounts/login/" in page.url
        waiting = page.evaluate(f"JSON.parse(localStorage.getItem('vitals-queue:{record.pk}'))")
        assert [(row["systolic"], row["diastolic"]) for row in waiting] == [(118, 76)]
        sign_in(page, live_server.url, therapist, next_path=path, steps_ahead=1)
        expect(page.locator("#vitals-table tr.pending")).to_have_count(0)
        assert page.evaluate(f"localStorage.getItem('vitals-queue:{record.pk}')") is None
        stored = VitalSign.objects.filter(record=record)
        assert [(v.systolic, v.heart_rate) for v in stored.order_by("id")] == [
            (124, 72),
            (172, 88),
            (None, 90),
            (118, None),
        ]
        assert len({v.entry_key for v in stored}) == 4
        assert [row.endswith("Recorded") for row in table_rows(page)] == [True] * 4

        # No error but the lost connection's; then axe, whose own script the CSP refuses.
        assert page.console_errors == ["Failed to load resource: net::ERR_INTERNET_DISCONNECTED"]
        assert violations(page) == []
        page.console_errors.clear()

        # Discharge: the checklist first, then the time (filled in with now).
        page.get_by_label("Alert and oriented").check()
        page.get_by_role("button", name="Discharge and complete the session").click()
        page.wait_for_load_state()
        assert "Before she leaves: steady on her feet, driver present." in page.inner_text(
            "#discharge"
        )
        page.get_by_label("Alert and oriented").check()
        page.get_by_label("Steady on her feet").check()
        page.get_by_label("Driver present").check()
        page.get_by_role("button", name="Discharge and complete the session").click()
        page.get_by_text("She is discharged and the session is completed.").wait_for()

        record.refresh_from_db()
        assert record.discharged_at is not None
        assert record.session.appointment.status == Appointment.Status.COMPLETED
        assert page.console_errors == []


def test_rows_are_added_with_javascript_off(live_server, browser, therapist, record):
    context = browser.new_context(java_script_enabled=False, **TABLET)
    page = context.new_page()
    path = reverse("admin:kap_sessions_dosingrecord_change", args=[record.pk])
    key = "input[name='vital-entry_key']"
    try:
        sign_in(page, live_server.url, therapist, next_path=path)
        with screenshot_on_failure(page, "dosing-tablet-no-js"):
            first_key = page.locator(key).input_value()
            add_row(page, SpO2="91")
            page.wait_for_url(f"{live_server.url}{path}#vitals")
            low = page.locator("#vitals-table td.out-of-range")
            assert " ".join(low.text_content().split()) == "91 low, out of range"
            assert page.locator(key).input_value() != first_key
            add_row(page, Systolic="121")
            page.wait_for_url(f"{live_server.url}{path}#vitals")

            assert [row.endswith("Recorded") for row in table_rows(page)] == [True, True]
            assert str(VitalSign.objects.get(spo2=91).entry_key) == first_key
            assert VitalSign.objects.filter(record=record).count() == 2
    finally:
        context.close()
