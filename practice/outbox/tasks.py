"""The outbox's jobs: send what is due (queued by the doorbell and the sweep), the sweep."""

from __future__ import annotations

from celery import shared_task

from .services import outbox_purge, outbox_send_rung, outbox_sweep


@shared_task(name="practice.outbox.send_due")
def send_due(*, after: list[str | int] | None = None) -> int:
    """``after``: where the batch before this one stopped (a continuation)."""
    start = (str(after[0]), int(after[1])) if after else None
    return outbox_send_rung(after=start).handled


@shared_task(name="practice.outbox.sweep")
def sweep() -> int:
    """Run by beat every minute."""
    return outbox_sweep()


@shared_task(name="practice.outbox.purge")
def purge() -> int:
    return outbox_purge()
