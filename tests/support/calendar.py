"""The practice's calendar as the calendar and consultation tests know it.

The practice keeps Monday to Friday 9:00–17:00 in Los Angeles. "Now" is Monday
4 January 2027, 08:00 in Los Angeles (16:00 UTC), so with 24 hours' notice the
first offered time is Tuesday 5 January at 9:00 (17:00 UTC).

Registered as a plugin in ``tests/conftest.py``, so its fixtures serve every
test folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time

import pytest
import time_machine

from tests.factories import WeeklyHoursFactory

NOW = datetime(2027, 1, 4, 16, 0, tzinfo=UTC)
FIRST_SLOT = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)


def open_weekdays() -> list:  # type: ignore[type-arg]
    """Monday to Friday, 9:00 to 17:00 in the practice's zone."""
    return [
        WeeklyHoursFactory(weekday=day, start_time=time(9), end_time=time(17)) for day in range(5)
    ]


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def weekly_hours(db: None, practice_profile) -> list:  # type: ignore[no-untyped-def,type-arg]
    return open_weekdays()
