"""Fixtures for the newsletter tests."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.newsletter.factories import SubscriberFactory

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def without_csrf(content: bytes) -> bytes:
    """A response body with its per-request CSRF tokens blanked out."""
    return CSRF_INPUT.sub(b'name="csrfmiddlewaretoken" value=""', content)


class _VisibleText(HTMLParser):
    VOID = frozenset(
        {
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        }
    )

    def __init__(self) -> None:
        super().__init__()
        self.hidden_depth = 0
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.hidden_depth or any(name == "hidden" for name, _ in attrs):
            self.hidden_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth and data.strip():
            self.words.append(data.strip())


def visible_text(html: str) -> str:
    """The text of a page but what its ``hidden`` elements hold, one line per piece."""
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.words)


@pytest.fixture
def anonymous(db: None, practice_profile) -> Client:  # type: ignore[no-untyped-def]
    """A visitor's browser, with CSRF checks on as in real life."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def csrf_post(anonymous: Client):  # type: ignore[no-untyped-def]
    """POST like a browser: fetch the page's CSRF token first."""

    def post(path: str, data: dict[str, str], **extra: str):  # type: ignore[no-untyped-def]
        anonymous.get("/newsletter/")
        token = anonymous.cookies["csrftoken"].value
        return anonymous.post(path, {"csrfmiddlewaretoken": token, **data}, **extra)

    return post


@pytest.fixture
def reader(db: None, practice_profile):  # type: ignore[no-untyped-def]
    """Nora, a confirmed reader."""
    return SubscriberFactory(email="nora@example.com", first_name="Nora", confirmed=True)
