"""One set of production processes for the module, and each test configured as they are.

The processes outlive a test; what a test leaves behind does not: pytest-django
empties the tables after each test, the sink is emptied before the next, and
each test waits until the workers have no job in hand before it counts.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from practice.calendar.cache import calendar_changed
from practice.identity import practice_profile_forget
from tests.conftest import _needs_postgres
from tests.practice.test_outbox_worker import open_every_day
from tests.production.support import Production, first_reminder_minutes

__all__ = ["open_every_day"]  # the practice open all day, every day (real time runs in gunicorn)


@pytest.fixture(scope="module")
def production(django_db_setup, tmp_path_factory) -> Iterator[Production]:  # type: ignore[no-untyped-def]
    """Two gunicorn processes, two Celery workers, one beat and an SMTP sink."""
    _needs_postgres(django_settings)
    running = Production.start(log_dir=tmp_path_factory.mktemp("production"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(autouse=True)
def _configured_as_the_processes(_isolated_cache, settings, production) -> None:  # type: ignore[no-untyped-def]
    # Runs after tests/conftest.py's _isolated_cache: this test shares the
    # processes' cache namespace instead of a fresh one.
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = production.cache_prefix
    settings.CACHES = caches
    settings.CACHE_KEY_PREFIX_FOR_TEST = production.cache_prefix
    settings.SITE_URL = production.url
    settings.CALENDAR_REMINDER_OFFSETS = {
        **settings.CALENDAR_REMINDER_OFFSETS,
        "day_before": first_reminder_minutes(),
    }
    production.smtp.configure_django(settings)
    production.smtp.clear()
    # The tables were emptied after the last test; what the cache still holds
    # of them (the practice's profile, the offered slots) is out of date.
    practice_profile_forget()
    calendar_changed()
