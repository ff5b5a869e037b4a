"""Queueing work after commit: the one way every app hands a job to Celery.

A job is named, never imported: ``enqueue_on_commit("newsletter.campaign_dispatch",
campaign_id=7)``. So services never import their tasks (tasks import
services, in one direction), and a rolled-back write queues nothing.

The broker is a doorbell, not a store. Every job queued here either has a
database row that beat sweeps up (outbox messages, campaign deliveries) or is
safe to lose (a wake-up). So when the broker cannot take a job the page goes
on: the failure is logged once per outage, and for a while this process does
not even try, so a visitor never waits on a dead Redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction

from .celery import app

logger = logging.getLogger(__name__)

# After a refused publish, skip the broker in this process for this long.
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until: list[float] = [0.0]


def enqueue(task_name: str, /, **kwargs: Any) -> bool:
    """Publish ``task_name`` now; True when the broker took it."""
    if app.conf.task_always_eager:
        # Tests run jobs in process; their errors must surface, not be taken
        # for a broker outage.
        if task_name not in app.tasks:
            app.loader.import_default_modules()
        app.tasks[task_name].apply_async(kwargs=kwargs)
        return True
    if _broker_down_until[0] > time.monotonic():
        return False
    try:
        app.send_task(task_name, kwargs=kwargs, retry=False)
    except Exception as exc:  # kombu and redis raise many kinds; all mean "not queued"
        if _broker_down_until[0] == 0.0:
            logger.warning(
                "broker refused %s (%s); beat's sweep will pick the work up",
                task_name,
                type(exc).__name__,
            )
        _broker_down_until[0] = time.monotonic() + BROKER_BACKOFF_SECONDS
        return False
    if _broker_down_until[0]:
        logger.info("broker takes jobs again")
        _broker_down_until[0] = 0.0
    return True


class Doorbell:
    """At most one ring per ``window`` seconds in this process, for a job that drains a table.

    The outbox's sender and the audit trail's sealer each handle every row
    written since they last ran, so a burst of writes needs one job, not one
    per row: a process that rang less than ``window`` seconds ago skips the
    publish (0.4 ms each to Redis). A skipped ring loses nothing; what rings
    it is written down first, and beat runs the same job on a schedule.
    ``window`` is read at each ring (a number, or a function returning one,
    such as a setting).
    """

    def __init__(self, window: float | Callable[[], float]) -> None:
        self._window = window
        self._last = float("-inf")

    def may_ring(self) -> bool:
        """Whether this process rings now (and, if so, that it did)."""
        window = self._window() if callable(self._window) else self._window
        moment = time.monotonic()
        if window and moment - self._last < window:
            return False
        self._last = moment
        return True

    def reset(self) -> None:
        """Forget the last ring (tests)."""
        self._last = float("-inf")


def enqueue_on_commit(task_name: str, /, **kwargs: Any) -> None:
    """Publish ``task_name`` with ``kwargs`` (ids only) once the transaction commits."""
    transaction.on_commit(lambda: enqueue(task_name, **kwargs))


def broker_backoff_reset() -> None:
    """Forget a remembered outage (tests, and a worker that just connected)."""
    _broker_down_until[0] = 0.0
