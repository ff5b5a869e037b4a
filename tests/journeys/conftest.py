"""Fixtures for whole journeys: the app as in production, and browser pages to drive it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def site(practice_profile, stack):  # type: ignore[no-untyped-def]
    """The ``stack`` (gunicorn, Celery worker and beat, SMTP sink), started once the
    practice's profile exists: each process caches the profile it first reads."""
    return stack


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """A factory: ``new_page(**context_options)`` opens a page in a browser context of its own.

    The page's ``problems`` lists what the browser reported as broken (console
    errors, such as a Content-Security-Policy refusal, and uncaught exceptions).
    Every context is closed at the end of the test.
    """
    contexts: list[Any] = []

    def open_page(**options: Any) -> Any:
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
