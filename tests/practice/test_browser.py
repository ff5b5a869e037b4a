"""The home page in a real Chromium, at phone and desktop sizes."""

from __future__ import annotations

import pytest

from tests.support.layout import on_one_line, padding, sideways_overflow
from tests.support.screenshots import screenshot_dir, screenshot_on_failure

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def console_errors(phone_page):
    errors: list[str] = []
    phone_page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return errors


def test_home_page_loads_with_no_console_or_csp_errors(
    live_server, phone_page, practice_profile, console_errors
):
    response = phone_page.goto(live_server.url + "/")

    assert response.status == 200
    assert (
        phone_page.title() == "Harbor Light Therapy · Ketamine-assisted psychotherapy for mothers"
    )
    heading = phone_page.get_by_role("heading", level=1)
    assert heading.inner_text() == (
        "When you have been holding everyone else, there is room to be held."
    )
    assert phone_page.get_by_text("If you are in crisis, call or text 988").is_visible()
    assert phone_page.get_by_role("link", name="Schedule a free consultation").count() >= 1
    assert console_errors == []


def test_the_bundled_font_is_used(live_server, page, practice_profile):
    page.goto(live_server.url + "/")

    page.wait_for_function("document.fonts.status === 'loaded'")
    loaded = page.evaluate(
        "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert "Inter" in {family.strip('"') for family in loaded}


def test_keyboard_users_can_skip_to_the_content(live_server, page, practice_profile):
    page.goto(live_server.url + "/")

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")

    assert focused == "Skip to content"


def test_the_page_fits_a_phone_without_sideways_scrolling(
    live_server, phone_page, practice_profile
):
    phone_page.goto(live_server.url + "/how-it-works/")

    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390px", "1366px"])
@pytest.mark.parametrize("path", ["/", "/consultation/"])
def test_the_headers_free_consultation_button_has_room_and_one_line(
    live_server, browser, practice_profile, size, path
):
    context = browser.new_context(**size)
    page = context.new_page()
    try:
        page.goto(live_server.url + path)
        button = ".site-header .button"
        with screenshot_on_failure(
            page, f"header-{path.strip('/') or 'home'}-{size['viewport']['width']}"
        ):
            assert page.locator(button).inner_text() == "Free consultation"
            assert min(padding(page, button)) > 0
            assert on_one_line(page, button)
            assert sideways_overflow(page) == 0
    finally:
        context.close()


def test_a_failed_browser_check_keeps_a_screenshot_and_the_pages_html(
    page, live_server, practice_profile, monkeypatch, tmp_path
):
    monkeypatch.setenv("TEST_SCREENSHOTS", str(tmp_path))
    page.goto(live_server.url + "/")

    with pytest.raises(AssertionError) as failure, screenshot_on_failure(page, "home page/desk"):
        raise AssertionError("the layout is off")

    saved = tmp_path / "home-page-desk.png"
    html = tmp_path / "home-page-desk.html"
    assert screenshot_dir() == tmp_path
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Free consultation" in html.read_text()
    assert failure.value.__notes__ == [
        f"page: {live_server.url}/",
        f"screenshot: {saved}",
        f"HTML: {html}",
    ]
