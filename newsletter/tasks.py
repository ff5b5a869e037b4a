"""Thin Celery tasks: ids in, call a service. Each is safe to run twice.

Tasks are acknowledged late, so a task whose worker died runs again; the
services they call are written for that (see ``sending.py`` for campaigns).
"""

from __future__ import annotations

import smtplib

from celery import shared_task
from celery.signals import worker_ready

from . import services
from .sending import TransientSendError

_RETRY_ON = (TransientSendError, smtplib.SMTPException, OSError)


@shared_task(name="newsletter.campaign_dispatch")
def campaign_dispatch(*, campaign_id: int) -> None:
    services.campaign_dispatch(campaign_id=campaign_id)


@shared_task(
    name="newsletter.campaign_send_batch",
    autoretry_for=_RETRY_ON,
    retry_backoff=15,
    max_retries=8,
)
def campaign_send_batch(*, campaign_id: int) -> None:
    # Each batch queues the next rather than looping, so one campaign never
    # holds a worker process for long and a redelivered task redoes one batch.
    if services.campaign_send_batch(campaign_id=campaign_id):
        campaign_send_batch.delay(campaign_id=campaign_id)


@shared_task(name="newsletter.dispatch_campaigns")
def dispatch_campaigns(*, stalled_only: bool = True) -> None:
    services.campaigns_dispatch(stalled_only=stalled_only)


@shared_task(name="newsletter.tidy_unconfirmed")
def tidy_unconfirmed() -> None:
    services.subscribers_tidy_unconfirmed()


@worker_ready.connect
def _resume_campaigns_on_start(sender, **kwargs):  # type: ignore[no-untyped-def]
    # A worker that starts may be replacing one that died mid-campaign; its
    # unacknowledged batch would only come back after the broker's
    # visibility timeout, so take every sending campaign up at once.
    dispatch_campaigns.delay(stalled_only=False)
