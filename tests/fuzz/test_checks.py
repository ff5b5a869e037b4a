"""The rule's own check can fail: a page that loses what she typed is caught, one that
keeps it (as a browser shows it) passes."""

from __future__ import annotations

import pytest
from django.http import HttpResponse

from .checks import assert_shows_what_she_typed
from .strategies import as_a_browser_shows

PAGE = """<!doctype html><main>
<form method="post" action="/newsletter/">
  <input type="email" name="email" value="x@example.com">
</form>
<form method="post" action="">
  <input type="text" name="first_name" value="{first}">
  <textarea name="reason">
{reason}</textarea>
  <input type="radio" name="meeting_mode" value="video"{video}>
  <input type="radio" name="meeting_mode" value="phone">
  <select name="state">
    <option value="">Choose</option><option value="CA"{ca}>California</option>
  </select>
  <input type="hidden" name="submission_id" value="repaired">
</form></main>"""
SENT = {
    "first_name": "مريم &amp; <b>",
    "reason": "Line one\r\nline two",
    "meeting_mode": "video",
    "state": "CA",
    "submission_id": "tampered",
}


def page(
    *,
    first: str = "مريم &amp;amp; &lt;b&gt;",
    reason: str = "Line one\nline two",
    video: str = " checked",
    ca: str = " selected",
) -> HttpResponse:
    html = PAGE.format(first=first, reason=reason, video=video, ca=ca)
    return HttpResponse(html, content_type="text/html; charset=utf-8")


def test_a_page_that_keeps_what_she_typed_passes():
    assert_shows_what_she_typed(page(), "/consultation/", SENT)


@pytest.mark.parametrize(
    "lost",
    [
        {"first": ""},
        {"first": "مريم"},
        {"reason": "Line one"},
        {"video": ""},
        {"ca": ""},
    ],
)
def test_a_page_that_loses_what_she_typed_is_caught(lost):
    with pytest.raises(AssertionError):
        assert_shows_what_she_typed(page(**lost), "/consultation/", SENT)


def test_the_browser_view_normalises_what_a_browser_would():
    assert as_a_browser_shows("a\r\nb\rc", "textarea") == "a\nb\nc"
    assert as_a_browser_shows("a\nb", "text") == "ab"
    assert as_a_browser_shows("  nora@example.com\n", "email") == "nora@example.com"
    assert as_a_browser_shows("x\x00", "text") == "x\ufffd"
    assert (as_a_browser_shows("1e3", "number"), as_a_browser_shows("abc", "number")) == ("1e3", "")
