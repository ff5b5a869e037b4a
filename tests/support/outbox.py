"""The outbox's sweep as beat sends it, and waiting for a worker to finish it."""

from __future__ import annotations

import re

from django.db import transaction

from practice.celery import app
from practice.outbox.services import outbox_put
from tests.support.waiting import wait_until
from tests.support.worker import CeleryWorker


def sweep(broker_url: str | None = None) -> None:
    """Queue ``practice.outbox.sweep`` as beat does every minute.

    On a connection of its own rather than the app's shared producer pool,
    which another test in the same process may have closed.
    """
    with app.connection_for_write(broker_url) as connection:
        app.send_task("practice.outbox.sweep", producer=app.amqp.Producer(connection))


def sweeps_done(log: str) -> list[int]:
    """What each finished sweep in a worker's log queued (its return value), in order."""
    return [int(n) for n in re.findall(r"outbox\.sweep\[[^\]]+\] succeeded in \S+: (\d+)", log)]


def sends_done(log: str) -> int:
    """How many outbox send jobs a worker's log shows finished."""
    return len(re.findall(r"outbox\.send_due\[[^\]]+\] (?:succeeded|raised)", log))


def sweep_and_settle(worker: CeleryWorker, broker_url: str | None = None) -> None:
    """Sweep, and wait until ``worker`` has run the sweep and every send job it queued
    (read from the worker's own log, not from the clock)."""
    log = worker.log()
    sweeps, sends = len(sweeps_done(log)), sends_done(log)
    sweep(broker_url)
    wait_until(lambda: len(sweeps_done(worker.log())) > sweeps, what="the worker to sweep")
    queued = sweeps_done(worker.log())[sweeps]
    wait_until(
        lambda: sends_done(worker.log()) >= sends + queued, what="the sweep's senders to finish"
    )


def confirmation_due(consultation) -> None:  # type: ignore[no-untyped-def]
    """Ask for ``consultation``'s booking confirmation, due now, as the booking does."""
    with transaction.atomic():
        outbox_put(
            kind="consultation.booked",
            key=f"consultation:{consultation.pk}:booked:0",
            about=consultation,
            recipient=consultation.email,
            params={"sequence": 0},
        )
