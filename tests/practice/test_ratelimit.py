"""The one rate limit of the public forms: a fixed window per scope and address."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.http import HttpRequest
from django.test import RequestFactory

from practice.ratelimit import rate_limited

# On the hour, so a test's tries all fall in one window.
START = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)


def visitor(ip: str = "203.0.113.7") -> HttpRequest:
    return RequestFactory().post("/consultation/", REMOTE_ADDR=ip)


@pytest.fixture(autouse=True)
def _no_outage_remembered(monkeypatch):  # type: ignore[no-untyped-def]
    # The limiter remembers an outage across requests (to log it once); each
    # test starts with the cache counting.
    monkeypatch.setattr("practice.ratelimit._counting_failed", [False])


@pytest.fixture
def limits(settings):  # type: ignore[no-untyped-def]
    settings.RATE_LIMITS = {"booking": (3, 60 * 60), "signup": (2, 60 * 60), "off": (0, 60)}
    return settings.RATE_LIMITS


def test_tries_past_the_limit_are_refused(limits):
    with time_machine.travel(START, tick=False):
        answers = [rate_limited(visitor(), "booking") for _ in range(5)]

    assert answers == [False, False, False, True, True]


def test_the_next_window_allows_again(limits):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(4):
            rate_limited(visitor(), "booking")
        traveller.shift(timedelta(minutes=59))
        still_refused = rate_limited(visitor(), "booking")
        traveller.shift(timedelta(minutes=1))
        allowed_again = rate_limited(visitor(), "booking")

    assert (still_refused, allowed_again) == (True, False)


def test_scopes_and_addresses_are_counted_apart(limits):
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            rate_limited(visitor(), "booking")
        refused = rate_limited(visitor(), "booking")
        other_scope = rate_limited(visitor(), "signup")
        other_address = rate_limited(visitor("198.51.100.9"), "booking")

    assert (refused, other_scope, other_address) == (True, False, False)


def test_a_limit_of_zero_turns_the_scope_off(limits):
    answers = [rate_limited(visitor(), "off") for _ in range(50)]

    assert set(answers) == {False}


def test_an_unknown_scope_is_an_error_not_a_missing_limit(limits):
    with pytest.raises(KeyError):
        rate_limited(visitor(), "bookings")


def test_the_default_limits_keep_their_environment_defaults(settings):
    assert settings.RATE_LIMITS == {
        "consultation_book": (5, 3600),
        "waitlist_join": (5, 3600),
        "newsletter_signup": (10, 3600),
        "invitation_renew": (5, 3600),
        "calendar_feed": (120, 3600),
    }


def test_an_unreachable_cache_lets_everyone_through_and_says_so_once(limits, settings, caplog):
    settings.CACHES = {"default": {"BACKEND": "tests.support.caches.UnreachableCache"}}
    with caplog.at_level(logging.WARNING, logger="practice.ratelimit"):
        answers = [rate_limited(visitor(), "booking") for _ in range(10)]

    assert set(answers) == {False}
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "cache unreachable" in caplog.records[0].getMessage()


def test_a_cache_that_hides_its_outage_lets_everyone_through(limits, settings):
    settings.CACHES = {"default": {"BACKEND": "tests.support.caches.SilentlyDownCache"}}

    answers = [rate_limited(visitor(), "booking") for _ in range(10)]

    assert set(answers) == {False}


def test_counting_resumes_when_the_cache_is_back(limits, settings, caplog):
    caches = settings.CACHES
    settings.CACHES = {"default": {"BACKEND": "tests.support.caches.UnreachableCache"}}
    rate_limited(visitor(), "booking")
    settings.CACHES = caches
    caplog.clear()

    with (
        caplog.at_level(logging.INFO, logger="practice.ratelimit"),
        time_machine.travel(START, tick=False),
    ):
        answers = [rate_limited(visitor(), "booking") for _ in range(4)]

    assert answers == [False, False, False, True]
    assert [record.getMessage() for record in caplog.records] == ["rate limits count again"]
