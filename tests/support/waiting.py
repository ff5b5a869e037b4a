"""Waiting for something another process does: poll, never assume a speed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = 90.0,
    what: str | Callable[[], str] = "the condition",
    interval: float = 0.05,
) -> T:
    """Poll ``condition`` until it returns something true, and return that.

    After ``timeout`` seconds fail naming ``what`` (or what it returns then:
    a callable can add the processes' logs). The timeout is generous on
    purpose: it only bounds a test that is failing anyway.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    described = what() if callable(what) else what
    raise AssertionError(f"timed out waiting for {described}")
