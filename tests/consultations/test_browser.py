"""The whole booking flow in Chromium on a phone-sized screen."""

from __future__ import annotations

import re
from datetime import time

import pytest

from consultations.models import Consultation
from practice.models import Appointment
from tests.factories import WeeklyHoursFactory
from tests.support.booking import fill_booking_form

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def open_every_day(transactional_db, practice_profile):  # type: ignore[no-untyped-def]
    # Real time runs in the browser and the live server, so the practice is
    # open all day, every day, and there is always a time 24 hours ahead.
    for weekday in range(7):
        WeeklyHoursFactory(weekday=weekday, start_time=time(0), end_time=time(23, 59))


def test_book_then_reschedule_then_cancel_on_a_phone(
    live_server, phone_page, open_every_day, eager_tasks, mailoutbox
):
    page = phone_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/consultation/")
    # The picker was redrawn for the browser's zone from slots.json.
    page.locator("[data-slot-pages] button").first.wait_for()
    page.locator(".slot label").first.click()
    chosen = page.locator("input[name=start]:checked").get_attribute("value")
    fill_booking_form(
        page,
        first_name="Nora",
        last_name="Quinn",
        email="nora@example.com",
        phone="+1 510 555 0100",
        reason="I feel far away from everyone.",
        perinatal="postpartum",
    )
    page.get_by_role("button", name="Book my free consultation").click()

    page.get_by_role("heading", name="You are booked, Nora").wait_for()
    consultation = Consultation.objects.get()
    assert consultation.appointment.start.isoformat() == chosen
    assert consultation.time_zone == page.evaluate(
        "Intl.DateTimeFormat().resolvedOptions().timeZone"
    )

    page.get_by_role("link", name="See details, reschedule or cancel").click()
    page.get_by_role("heading", name="Your free consultation").wait_for()
    page.locator("[data-slot-pages] button").first.wait_for()
    page.locator(".slot label").nth(2).click()
    new_start = page.locator("input[name=start]:checked").get_attribute("value")
    page.get_by_role("button", name="Move my consultation").click()
    page.get_by_text("Your consultation has moved").wait_for()
    consultation.refresh_from_db()
    assert consultation.appointment.start.isoformat() == new_start
    assert Appointment.objects.get(start=chosen).status == Appointment.Status.CANCELLED

    page.get_by_label("Would you like to say why? (optional)").fill("Plans changed")
    page.get_by_role("button", name="Cancel my consultation").click()
    page.get_by_role("heading", name="This consultation is cancelled").wait_for()

    consultation.refresh_from_db()
    assert consultation.appointment.status == Appointment.Status.CANCELLED
    assert consultation.cancel_reason == "Plans changed"
    assert problems == []
    subjects = [m.subject for m in mailoutbox if m.to == ["nora@example.com"]]
    assert [re.sub(r"[:\s].*", "", s) for s in subjects] == ["Your", "Your", "Your"]
    assert len(subjects) == 3


def test_booking_works_with_javascript_off(live_server, browser, open_every_day, eager_tasks):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/consultation/?tz=Europe/London")
        page.locator(".slot label").first.click()
        fill_booking_form(
            page, first_name="Ada", last_name="Byrne", email="ada@example.com", reason="Worn out"
        )
        page.get_by_role("button", name="Book my free consultation").click()
        page.get_by_role("heading", name="You are booked, Ada").wait_for()
    finally:
        context.close()

    assert Consultation.objects.get().time_zone == "Europe/London"


@pytest.mark.parametrize(
    ("browser_zone", "label"),
    [("America/Chicago", "Central time, Chicago"), ("Europe/Berlin", "Europe/Berlin")],
)
def test_the_picker_names_the_browsers_zone_as_people_say_it(
    live_server, browser, open_every_day, browser_zone, label
):
    context = browser.new_context(timezone_id=browser_zone, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/consultation/")
        page.locator("[data-slot-pages] button").first.wait_for()

        assert page.locator("[data-zone-label]").inner_text() == label
        assert page.locator("#zone-select").input_value() == browser_zone
        assert page.locator("input[name=time_zone]").first.input_value() == browser_zone
    finally:
        context.close()
