"""The booking and manage pages in Chromium, on a phone (390 px) and a desktop (1366 px).

Layout checks keep a screenshot when they fail (``tests/support/screenshots.py``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from consultations.links import manage_link_issue
from consultations.models import Consultation
from practice.models import Appointment
from tests.consultations.factories import ConsultationFactory
from tests.factories import WeeklyHoursFactory
from tests.support.booking import fill_booking_form
from tests.support.layout import box, boxes, inside_border, sideways_overflow, sits_above
from tests.support.screenshots import screenshot_on_failure

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
VISIBLE_TIMES = "#slot-picker .slot-day:not([hidden]) .slot label"


@pytest.fixture
def open_every_day(transactional_db, practice_profile):  # type: ignore[no-untyped-def]
    # Real time runs in the browser and the live server, so the practice is
    # open all day, every day, and there is always a time 24 hours ahead.
    for weekday in range(7):
        WeeklyHoursFactory(weekday=weekday, start_time=time(0), end_time=time(23, 59))


@pytest.fixture
def office_hours_every_day(transactional_db, practice_profile):  # type: ignore[no-untyped-def]
    # 9:00 to 17:00 every day: 16 times in a full day, the most a day holds.
    for weekday in range(7):
        WeeklyHoursFactory(weekday=weekday, start_time=time(9), end_time=time(17))


@pytest.fixture(params=[PHONE, DESKTOP], ids=["390px", "1366px"])
def sized_page(request, browser):  # type: ignore[no-untyped-def]
    """A page at a phone's and at a laptop's size, with its width for names."""
    context = browser.new_context(**request.param)
    yield context.new_page(), request.param["viewport"]["width"]
    context.close()


def upcoming_consultation(**overrides):  # type: ignore[no-untyped-def]
    """A video consultation three days from now (the live server runs on real time)."""
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return ConsultationFactory(appointment__start=start, appointment__mode="video", **overrides)


def picker_ready(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the picker has every day from slots.json (it is busy while it fetches)."""
    page.locator("#slot-picker").wait_for()
    page.locator("#slot-picker[aria-busy]").wait_for(state="detached")


def spoken(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%A, %B} {local.day}, {local.year} at {local.hour % 12 or 12}:{local:%M %p}"


def test_book_then_reschedule_then_cancel_on_a_phone(
    live_server, phone_page, open_every_day, eager_tasks, mailoutbox
):
    page = phone_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_server.url}/consultation/")
    picker_ready(page)
    page.locator(VISIBLE_TIMES).first.click()
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
    assert page.locator("input[name=start]").count() == 0
    page.get_by_role("link", name="Reschedule").click()
    page.get_by_role("heading", name="Choose a new time").wait_for()
    picker_ready(page)
    page.locator(VISIBLE_TIMES).nth(2).click()
    new_start = page.locator("input[name=start]:checked").get_attribute("value")
    page.get_by_role("button", name="Move my consultation").click()
    page.get_by_text("Your consultation has moved").wait_for()
    consultation.refresh_from_db()
    assert consultation.appointment.start.isoformat() == new_start
    assert Appointment.objects.get(start=chosen).status == Appointment.Status.CANCELLED

    page.get_by_role("link", name="Cancel", exact=True).click()
    question = page.get_by_role("heading", level=1).inner_text()
    assert question.startswith("Cancel my call on ")
    assert question.endswith("?")
    consultation.refresh_from_db()
    assert consultation.appointment.status == Appointment.Status.BOOKED
    page.get_by_label("Would you like to say why? (optional)").fill("Plans changed")
    page.get_by_role("button", name="Yes, cancel").click()
    page.get_by_role("heading", name="This consultation is cancelled").wait_for()

    consultation.refresh_from_db()
    assert consultation.appointment.status == Appointment.Status.CANCELLED
    assert consultation.cancel_reason == "Plans changed"
    assert (
        spoken(consultation.appointment.start, consultation.time_zone)
        in page.locator(".cancelled-what").inner_text()
    )
    assert problems == []
    subjects = [m.subject for m in mailoutbox if m.to == ["nora@example.com"]]
    assert [s.split(":")[0] for s in subjects] == ["Booked", "Moved", "Cancelled"]


def test_booking_works_with_javascript_off(live_server, browser, open_every_day, eager_tasks):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/consultation/?tz=Europe/London")
        with screenshot_on_failure(page, "booking-no-js-390"):
            # Every day of the page is listed, as radio buttons; no chips.
            headings = page.locator(".slot-day-heading")
            assert headings.count() == 5
            assert all(headings.nth(n).is_visible() for n in range(5))
            assert page.locator("[role=tab]").count() == 0
            assert page.get_by_role("link", name="Later dates").is_visible()
            assert page.locator("[data-chosen-line]").is_hidden()
        page.locator(".slot label").first.click()
        fill_booking_form(
            page, first_name="Ada", last_name="Byrne", email="ada@example.com", reason="Worn out"
        )
        page.get_by_role("button", name="Book my free consultation").click()
        page.get_by_role("heading", name="You are booked, Ada").wait_for()
    finally:
        context.close()

    assert Consultation.objects.get().time_zone == "Europe/London"


def test_manage_steps_work_with_javascript_off(live_server, browser, open_every_day):
    consultation = upcoming_consultation()
    url = f"{live_server.url}/consultation/manage/{manage_link_issue(consultation=consultation)}/"
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(url)
        page.get_by_role("link", name="Reschedule").click()
        page.locator(".slot label").nth(1).click()
        page.get_by_role("button", name="Move my consultation").click()
        page.get_by_text("Your consultation has moved").wait_for()
        page.get_by_role("link", name="Cancel", exact=True).click()
        page.get_by_role("button", name="Yes, cancel").click()
        page.get_by_role("heading", name="This consultation is cancelled").wait_for()
    finally:
        context.close()

    consultation.refresh_from_db()
    assert (consultation.sequence, consultation.appointment.status) == (2, "cancelled")


def test_on_a_phone_the_booking_page_is_short_and_its_first_time_near_the_top(
    live_server, phone_page, office_hours_every_day
):
    page = phone_page
    page.goto(f"{live_server.url}/consultation/")
    picker_ready(page)

    with screenshot_on_failure(page, "booking-height-390"):
        first_time = box(page, f"{VISIBLE_TIMES} >> nth=0")
        assert first_time.top < 1.5 * 844
        # The day with the most times is the tallest page.
        fullest = page.evaluate(
            """() => [...document.querySelectorAll('[role=tabpanel]')]
              .map(panel => [panel.querySelectorAll('input').length, panel.id])
              .sort((a, b) => b[0] - a[0])[0][1]"""
        )
        page.locator(f"[role=tab][aria-controls={fullest}]").click()
        assert page.locator(VISIBLE_TIMES).count() == 16
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= 4000
        assert page.locator("#waitlist").evaluate("details => details.open") is False


def test_picking_a_time_moves_on_to_about_you_and_the_time_stays_in_view(
    live_server, phone_page, open_every_day
):
    page = phone_page
    page.goto(f"{live_server.url}/consultation/")
    picker_ready(page)

    with screenshot_on_failure(page, "booking-move-on-390"):
        page.locator("[role=tab]").nth(1).click()
        day = page.locator("[role=tabpanel]:not([hidden])")
        day_name = day.locator("h3").inner_text()
        label = day.locator(".slot label").first
        time_text = label.inner_text()
        label.click()
        page.wait_for_function(
            "() => document.activeElement.id === 'about-you'"
            " && Math.abs(document.activeElement.getBoundingClientRect().top) < 120"
        )
        line = page.locator("[data-chosen-line]")
        assert line.is_visible()
        weekday, month_day = day_name.split(", ")
        expected = (
            f"Your time: {weekday[:3]}, {month_day[:3]} {month_day.split()[1]} at {time_text}"
        )
        assert line.inner_text().startswith(expected)

        # Far down the form the line is still at the top of the screen.
        page.get_by_role("button", name="Book my free consultation").scroll_into_view_if_needed()
        stuck = line.evaluate("e => e.getBoundingClientRect().top")
        assert 0 <= stuck < 5

        line.get_by_role("link", name="Change the time").click()
        page.wait_for_function("() => document.activeElement.name === 'start'")
        assert page.evaluate("document.activeElement.checked") is True
        chip = page.locator("[role=tab][aria-selected=true]").inner_text()
        assert chip.split() == [weekday[:3], month_day[:3], month_day.split()[1]]


def test_the_day_chips_work_with_the_keyboard(live_server, page, open_every_day):
    page.goto(f"{live_server.url}/consultation/")
    picker_ready(page)
    tabs = page.locator("[role=tab]")

    tabs.first.focus()
    page.keyboard.press("ArrowRight")

    assert tabs.nth(1).get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == tabs.nth(1).get_attribute("id")
    panel = tabs.nth(1).get_attribute("aria-controls")
    assert page.locator(f"#{panel}").is_visible()
    assert page.locator("[role=tabpanel]:not([hidden])").count() == 1
    # A time picked with the keyboard does not move the page away from her.
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.name") == "start"


def test_a_phone_call_needs_a_phone_number_and_the_browser_says_so(
    live_server, phone_page, open_every_day
):
    page = phone_page
    page.goto(f"{live_server.url}/consultation/")
    picker_ready(page)
    page.locator(VISIBLE_TIMES).first.click()
    fill_booking_form(
        page, first_name="Ada", last_name="Byrne", email="ada@example.com", reason="Worn out"
    )
    phone = page.locator("input[name=phone]")
    assert page.get_by_label("Phone (optional)").count() == 1
    assert phone.evaluate("e => e.required") is False

    page.locator("input[name=meeting_mode][value=phone]").check()
    assert page.get_by_label("Phone (needed for a phone call)").count() == 1
    assert phone.evaluate("e => e.required") is True
    page.get_by_role("button", name="Book my free consultation").click()

    assert page.evaluate("document.activeElement.name") == "phone"
    assert phone.evaluate("e => e.validationMessage") == "Please give a phone number for the call."
    assert Consultation.objects.count() == 0

    page.locator("input[name=meeting_mode][value=video]").check()
    page.locator("input[name=preferred_contact][value=text]").check()
    assert page.get_by_label("Phone (needed to call or text you)").count() == 1
    assert phone.evaluate("e => e.required") is True


def test_the_error_summary_takes_the_focus_and_leads_to_each_field(
    live_server, phone_page, open_every_day
):
    page = phone_page
    page.goto(f"{live_server.url}/consultation/")
    picker_ready(page)
    page.get_by_role("button", name="Book my free consultation").click()
    page.locator("#error-summary").wait_for()

    with screenshot_on_failure(page, "booking-error-summary-390"):
        assert page.evaluate("document.activeElement.id") == "error-summary"
        links = page.locator("#error-summary a")
        assert links.first.inner_text() == "Please choose a time for the call."
        links.first.click()
        assert page.evaluate("document.activeElement.name") == "start"
        page.locator("#error-summary a", has_text="Please tell me your first name.").click()
        assert page.evaluate("document.activeElement.id") == "id_first_name"


def test_the_booking_page_lays_out_at_phone_and_desktop_widths(
    live_server, sized_page, office_hours_every_day
):
    page, width = sized_page
    page.goto(f"{live_server.url}/consultation/?tz=America/Los_Angeles")
    picker_ready(page)

    with screenshot_on_failure(page, f"booking-layout-{width}"):
        for name in ("first_name", "last_name"):
            label = box(page, f"label[for=id_{name}]")
            field = box(page, f"#id_{name}")
            assert sits_above(label, field), name
        # The legend is inside the picker's border, not drawn across it.
        legend = box(page, "#slot-picker > legend")
        assert legend.bottom > legend.top
        assert inside_border(page, "#slot-picker").contains(legend)
        assert all(box(page, "#slot-picker").contains(time) for time in boxes(page, VISIBLE_TIMES))
        assert sideways_overflow(page) == 0


def test_the_reschedule_step_lays_out_at_phone_and_desktop_widths(
    live_server, sized_page, office_hours_every_day
):
    consultation = upcoming_consultation(time_zone="America/Los_Angeles")
    page, width = sized_page
    token = manage_link_issue(consultation=consultation)
    page.goto(f"{live_server.url}/consultation/manage/{token}/reschedule/")
    picker_ready(page)

    with screenshot_on_failure(page, f"reschedule-layout-{width}"):
        assert inside_border(page, "#slot-picker").contains(box(page, "#slot-picker > legend"))
        assert sideways_overflow(page) == 0
