"""Fixtures for the consultation funnel (the calendar's are in tests/support/calendar.py)."""

from __future__ import annotations

import re
import uuid

import pytest

from practice.discretion import DISCRETION_WORDS
from tests.support.booking import FULL_ANSWERS
from tests.support.calendar import FIRST_SLOT, NOW, open_weekdays

__all__ = ["FIRST_SLOT", "NOW", "open_weekdays"]


# Words that must never appear in an email, a calendar file or a log line.
CLINICAL_WORDS = list(DISCRETION_WORDS)


@pytest.fixture(autouse=True)
def _no_local_calendar_generation(settings):  # type: ignore[no-untyped-def]
    # Each test has its own database and a cleared cache; a generation held
    # in this process from an earlier test must not be trusted.
    settings.CALENDAR_CACHE_LOCAL_SECONDS = 0


@pytest.fixture
def booking_data():  # type: ignore[no-untyped-def]
    """A valid booking form for the first offered time, as the browser posts it."""

    def make(**overrides: str) -> dict[str, str]:
        data = {
            "start": FIRST_SLOT.isoformat(),
            "submission_id": str(uuid.uuid4()),
            **FULL_ANSWERS,
        }
        data.update(overrides)
        return data

    return make


def assert_nothing_clinical(text: str) -> None:
    lowered = text.lower()
    for word in CLINICAL_WORDS:
        pattern = r"\bkap\b" if word == "kap" else re.escape(word)
        assert re.search(pattern, lowered) is None, f"{word!r} appears in: {text[:300]}"
