"""Journey 1: a mother in New York books, reschedules and cancels a free consultation.

Against the app as production runs it (gunicorn, a Celery worker and beat,
PostgreSQL, Redis, an SMTP server), in Chromium at a phone's and a desktop's
width. Her browser is in New York; the practice is in Los Angeles. Every step
after the booking starts from a link in an email that arrived.
"""

from __future__ import annotations

import re
from datetime import datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from consultations.models import Consultation
from practice.discretion import discretion_words_in
from practice.models import Appointment
from tests.factories import WeeklyHoursFactory
from tests.journeys.support import (
    DESKTOP,
    PHONE,
    attachment,
    discretion_words_in_mail,
    link_in,
    subjects_to,
    wait_for_mail,
)
from tests.support.booking import fill_booking_form
from tests.support.screenshots import screenshot_on_failure
from tests.support.smtp import text_part

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
HER = "nora.quinn@example.com"
THERAPIST = "hello@harborlight.example"  # the practice profile's address
VISIBLE_TIMES = "#slot-picker [role=tabpanel]:not([hidden]) .slot label"


@pytest.fixture
def office_hours(practice_profile):  # type: ignore[no-untyped-def]
    """9 AM to 5 PM in Los Angeles every day: noon to 8 PM for a visitor in New York."""
    assert practice_profile.time_zone == "America/Los_Angeles"
    for weekday in range(7):
        WeeklyHoursFactory(weekday=weekday, start_time=clock_time(9), end_time=clock_time(17))


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """'12:30 PM': the time of day in ``zone``."""
    return moment.astimezone(zone).strftime("%I:%M %p").lstrip("0")


def spoken(moment: datetime, zone: ZoneInfo) -> str:
    """'Tuesday, January 5, 2027 at 12:30 PM' in ``zone``."""
    local = moment.astimezone(zone)
    return f"{local:%A, %B} {local.day}, {local.year} at {clock(moment, zone)}"


def short(moment: datetime, zone: ZoneInfo) -> str:
    """'Tue, Jan 5 at 12:30 PM' in ``zone``."""
    local = moment.astimezone(zone)
    return f"{local:%a, %b} {local.day} at {clock(moment, zone)}"


def picker_ready(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the picker has every day from slots.json (it is busy while it fetches)."""
    page.locator("#slot-picker [role=tab]").first.wait_for()
    page.locator("#slot-picker[aria-busy]").wait_for(state="detached")


def pick_a_time(page, *, day: int) -> datetime:  # type: ignore[no-untyped-def]
    """Tap the ``day``-th day chip and its first time, as she does; return the time chosen.

    A day a few chips ahead is days away: no reminder falls due during the journey.
    """
    picker_ready(page)
    page.locator("#slot-picker [role=tab]").nth(day).click()
    label = page.locator(VISIBLE_TIMES).first
    label.click()
    chosen = page.locator("input[name=start]:checked").get_attribute("value")
    assert chosen is not None
    start = datetime.fromisoformat(chosen)
    # The times are hers: New York's clock, three hours ahead of the practice's.
    assert label.inner_text() == clock(start, NEW_YORK)
    assert clock(start, NEW_YORK) != clock(start, LOS_ANGELES)
    assert "New York" in page.locator("#slot-picker [data-zone-label]").inner_text()
    return start


def calendar_event(message) -> tuple[str, object]:  # type: ignore[no-untyped-def]
    """Open the calendar file attached to ``message``: its METHOD and its one event."""
    filename, content = attachment(message, "text/calendar")
    assert filename.endswith(".ics")
    calendar = Calendar.from_ical(content)
    (event,) = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def assert_discreet_event(event) -> None:  # type: ignore[no-untyped-def]
    shown = " ".join(str(event.get(name, "")) for name in ("SUMMARY", "DESCRIPTION", "LOCATION"))
    assert discretion_words_in(shown) == [], shown


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone-390", "desktop-1280"])
def test_a_visitor_in_new_york_books_reschedules_and_cancels_from_her_emails(
    office_hours, site, new_page, size
):
    """She books in her own time zone, gets the confirmation with a calendar file
    showing her own times and nothing about treatment, moves the call from the
    email's link, cancels from the next email's link, and gets an email for each;
    the therapist is told of each change in the practice's time."""
    width = size["viewport"]["width"]
    page = new_page(**size, timezone_id="America/New_York", locale="en-US")

    with screenshot_on_failure(page, f"journey1-{width}-book"):
        page.goto(f"{site.url}/consultation/")
        booked_start = pick_a_time(page, day=3)
        fill_booking_form(
            page,
            first_name="Nora",
            last_name="Quinn",
            email=HER,
            reason="Exhausted since the baby; a friend told me about ketamine.",
            perinatal="postpartum",
        )
        page.locator("[name=medications]").fill("sertraline")
        page.get_by_role("button", name="Book my free consultation").click()
        page.get_by_role("heading", name="You are booked, Nora").wait_for()
        consultation = Consultation.objects.get()
        assert consultation.appointment.start == booked_start
        assert consultation.time_zone == "America/New_York"

    with screenshot_on_failure(page, f"journey1-{width}-confirmation-email"):
        booked = wait_for_mail(site, to=HER, subject="Booked:")
        assert booked["Subject"] == f"Booked: your call on {short(booked_start, NEW_YORK)}"
        assert f"When: {spoken(booked_start, NEW_YORK)} (Eastern time, New York)" in text_part(
            booked
        )
        assert spoken(booked_start, LOS_ANGELES) not in text_part(booked)
        assert discretion_words_in_mail(booked) == []

    with screenshot_on_failure(page, f"journey1-{width}-calendar-file"):
        method, event = calendar_event(booked)
        assert method == "REQUEST"
        assert event.decoded("DTSTART") == booked_start
        assert str(event["SUMMARY"]) == "Call with Lena Marsh"
        assert_discreet_event(event)

    with screenshot_on_failure(page, f"journey1-{width}-reschedule"):
        page.goto(link_in(booked, rf"^{re.escape(site.url)}/consultation/manage/[^/]+/$"))
        page.get_by_role("heading", name="Your free consultation").wait_for()
        assert spoken(booked_start, NEW_YORK) in page.locator(".consult-details").inner_text()
        page.get_by_role("link", name="Reschedule").click()
        page.get_by_role("heading", name="Choose a new time").wait_for()
        moved_start = pick_a_time(page, day=5)
        assert moved_start != booked_start
        page.get_by_role("button", name="Move my consultation").click()
        page.get_by_text("Your consultation has moved").wait_for()
        consultation.refresh_from_db()
        assert consultation.appointment.start == moved_start
        assert Appointment.objects.get(start=booked_start).status == Appointment.Status.CANCELLED

    with screenshot_on_failure(page, f"journey1-{width}-reschedule-email"):
        moved = wait_for_mail(site, to=HER, subject="Moved:")
        assert f"When: {spoken(moved_start, NEW_YORK)} (Eastern time, New York)" in text_part(moved)
        assert discretion_words_in_mail(moved) == []
        method, moved_event = calendar_event(moved)
        # The same event, replaced: same UID, a higher sequence, the new time.
        assert (method, moved_event["UID"]) == ("REQUEST", event["UID"])
        assert moved_event.decoded("SEQUENCE") > event.decoded("SEQUENCE")
        assert moved_event.decoded("DTSTART") == moved_start

    with screenshot_on_failure(page, f"journey1-{width}-cancel"):
        page.goto(link_in(moved, rf"^{re.escape(site.url)}/consultation/manage/[^/]+/$"))
        page.get_by_role("heading", name="Your free consultation").wait_for()
        assert spoken(moved_start, NEW_YORK) in page.locator(".consult-details").inner_text()
        page.get_by_role("link", name="Cancel", exact=True).click()
        page.get_by_role("button", name="Yes, cancel").click()
        page.get_by_role("heading", name="This consultation is cancelled").wait_for()
        consultation.refresh_from_db()
        assert consultation.appointment.status == Appointment.Status.CANCELLED

    with screenshot_on_failure(page, f"journey1-{width}-cancellation-email"):
        cancelled = wait_for_mail(site, to=HER, subject="Cancelled:")
        assert (
            f"Your free consultation on {spoken(moved_start, NEW_YORK)} (Eastern time, New York)"
            " is cancelled" in text_part(cancelled)
        )
        assert discretion_words_in_mail(cancelled) == []
        method, cancelled_event = calendar_event(cancelled)
        assert (method, cancelled_event["UID"]) == ("CANCEL", event["UID"])

    with screenshot_on_failure(page, f"journey1-{width}-therapist-notices"):
        notices = {
            prefix: wait_for_mail(site, to=THERAPIST, subject=prefix)
            for prefix in ("New booking: N. Q.,", "Moved: N. Q.,", "Cancelled: N. Q.,")
        }
        assert spoken(booked_start, LOS_ANGELES) in text_part(notices["New booking: N. Q.,"])
        assert spoken(moved_start, LOS_ANGELES) in text_part(notices["Moved: N. Q.,"])
        for notice in notices.values():
            assert "(Pacific time, Los Angeles)" in text_part(notice)
            assert discretion_words_in_mail(notice) == []
        # Each email once: nothing repeated by the worker, beat or the browser.
        assert [s.split(":")[0] for s in subjects_to(site, HER)] == [
            "Booked",
            "Moved",
            "Cancelled",
        ], site.logs()
        assert sorted(s.split(":")[0] for s in subjects_to(site, THERAPIST)) == [
            "Cancelled",
            "Moved",
            "New booking",
        ], site.logs()
        assert page.problems == []
