"""Campaigns: their states, sending (now, later, as a test), and progress.

A campaign's status changes only in :func:`campaign_transition`. How each
message is claimed and sent is described in ``newsletter/sending.py``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from practice.outbox.services import outbox_put
from practice.queue import enqueue_on_commit

from ..models import Article, Campaign, Delivery, Subscriber
from ..sending import CampaignSender

if TYPE_CHECKING:
    from practice.models import User


# Plain atomic, not durable: every caller below holds the campaign's row
# lock in its own transaction, and the move must commit with it.
@transaction.atomic
def campaign_transition(
    *, campaign: Campaign, to: str, scheduled_at: datetime | None = None
) -> Campaign:
    """Move a campaign to status ``to``; the only place its status changes.

    Side effects:

    - to ``scheduled``: stores ``scheduled_at``; beat starts it when due
      (``campaigns_dispatch``).
    - to ``draft`` (unscheduling): clears ``scheduled_at``.
    - to ``sending``: stamps ``started_at``; after commit queues
      ``newsletter.campaign_dispatch``, which snapshots the confirmed readers
      into delivery rows and sets the senders to work.
    - to ``sent``: stamps ``finished_at`` and stores the final counts.

    Raises ``InvalidTransition`` (a ``ValidationError``) for a move the
    transitions map does not allow.
    """
    campaign.move_to(to)
    now = timezone.now()
    if to == Campaign.Status.SCHEDULED:
        campaign.scheduled_at = scheduled_at
    elif to == Campaign.Status.DRAFT:
        campaign.scheduled_at = None
    elif to == Campaign.Status.SENDING:
        campaign.started_at = now
        campaign.progress_at = now
        enqueue_on_commit("newsletter.campaign_dispatch", campaign_id=campaign.pk)
    elif to == Campaign.Status.SENT:
        counts = campaign_progress(campaign)
        campaign.sent_count = counts["sent"]
        campaign.failed_count = counts["failed"]
        campaign.finished_at = now
    campaign.save()
    return campaign


def campaign_create_for_article(*, article: Article, actor: User | None) -> Campaign:
    """A draft campaign that sends ``article`` as it is."""
    return Campaign.objects.create(subject=article.title, article=article, created_by=actor)


@transaction.atomic(durable=True)
def campaign_send(*, campaign: Campaign, at: datetime | None = None) -> Campaign:
    """Send now, or at ``at`` when that is in the future (see ``campaign_transition``)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if at is not None and at > timezone.now():
        return campaign_transition(campaign=campaign, to=Campaign.Status.SCHEDULED, scheduled_at=at)
    return campaign_transition(campaign=campaign, to=Campaign.Status.SENDING)


@transaction.atomic(durable=True)
def campaign_unschedule(*, campaign: Campaign) -> Campaign:
    """Take a scheduled campaign back to draft; nothing will be sent."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    return campaign_transition(campaign=campaign, to=Campaign.Status.DRAFT)


@transaction.atomic(durable=True)
def campaign_send_test(*, campaign: Campaign, to: str) -> None:
    """Stamp ``test_sent_at`` and ask the outbox for one test copy to ``to`` (the therapist).

    Each press of the button is one email (a fresh key).
    """
    Campaign.objects.filter(pk=campaign.pk).update(test_sent_at=timezone.now())
    outbox_put(
        kind="newsletter.campaign_test",
        key=f"newsletter:campaign-test:{campaign.pk}:{uuid.uuid4()}",
        about=campaign,
        recipient=to,
        params={"to": to},
    )


def campaign_progress(campaign: Campaign) -> dict[str, int]:
    """Live counts of a campaign's deliveries by status (one query)."""
    counts = Delivery.objects.filter(campaign=campaign).aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
        failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
        skipped=Count("pk", filter=Q(status=Delivery.Status.SKIPPED)),
        pending=Count("pk", filter=Q(status=Delivery.Status.PENDING)),
    )
    return {name: int(value or 0) for name, value in counts.items()}


_SNAPSHOT_CHUNK = 2000


def campaign_dispatch(*, campaign_id: int) -> bool:
    """Make sure a sending campaign has its delivery rows and senders at work.

    The first call snapshots the confirmed readers into one pending delivery
    each; later calls (beat resuming a stalled campaign, a worker restarting)
    find the snapshot done and only queue senders. Extra senders are
    harmless: each claims rows the others have not locked. After commit it
    queues ``NEWSLETTER_SEND_PARALLEL`` ``newsletter.campaign_send_batch``
    jobs. Returns whether senders were queued.
    """
    with transaction.atomic(durable=True):
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.status != Campaign.Status.SENDING:
            return False
        if campaign.recipients_total is None:
            readers = Subscriber.objects.confirmed().order_by("pk").values_list("pk", flat=True)
            chunk: list[Delivery] = []
            for subscriber_id in readers.iterator(chunk_size=_SNAPSHOT_CHUNK):
                chunk.append(Delivery(campaign_id=campaign.pk, subscriber_id=subscriber_id))
                if len(chunk) == _SNAPSHOT_CHUNK:
                    Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
                    chunk = []
            Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
            campaign.recipients_total = Delivery.objects.filter(campaign=campaign).count()
        campaign.progress_at = timezone.now()
        campaign.save(update_fields=["recipients_total", "progress_at"])
        for _ in range(max(1, settings.NEWSLETTER_SEND_PARALLEL)):
            enqueue_on_commit("newsletter.campaign_send_batch", campaign_id=campaign_id)
    return True


def campaign_send_batch(*, campaign_id: int) -> bool:
    """Send up to ``NEWSLETTER_SEND_BATCH_SIZE`` of a campaign's deliveries.

    Returns True when more remain (the task then queues the next batch);
    finishes the campaign when none do. See ``sending.py`` for the claim.
    """
    campaign = Campaign.objects.select_related("article").filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.SENDING:
        return False
    with CampaignSender(campaign) as sender:
        sender.run(limit=settings.NEWSLETTER_SEND_BATCH_SIZE)
    Campaign.objects.filter(pk=campaign_id).update(progress_at=timezone.now())
    if Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.PENDING).exists():
        return True
    campaign_finish(campaign_id=campaign_id)
    return False


@transaction.atomic(durable=True)
def campaign_finish(*, campaign_id: int) -> Campaign | None:
    """Mark a sending campaign sent once no delivery is left pending. Idempotent."""
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.SENDING:
        return campaign
    if Delivery.objects.filter(campaign=campaign, status=Delivery.Status.PENDING).exists():
        # Another sender holds the last rows; it finishes the campaign.
        return campaign
    return campaign_transition(campaign=campaign, to=Campaign.Status.SENT)


def campaigns_dispatch(*, stalled_only: bool = True) -> list[int]:
    """Start scheduled campaigns that are due and take up stalled ones.

    Called by beat every minute (``stalled_only``: a campaign whose senders
    made no progress for ``NEWSLETTER_SEND_STALL_AFTER``) and by every worker
    as it starts (all sending campaigns, since the worker that was sending
    them may just have died). Each campaign is started in a transaction of
    its own. Returns the ids set going.
    """
    now = timezone.now()
    started: list[int] = []
    due = Campaign.objects.filter(status=Campaign.Status.SCHEDULED, scheduled_at__lte=now)
    for campaign_id in due.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            campaign = (
                Campaign.objects.select_for_update()
                .filter(pk=campaign_id, status=Campaign.Status.SCHEDULED)
                .first()
            )
            if campaign is not None:
                campaign_transition(campaign=campaign, to=Campaign.Status.SENDING)
                started.append(campaign_id)
    sending = Campaign.objects.filter(status=Campaign.Status.SENDING).exclude(pk__in=started)
    if stalled_only:
        stale_before = now - timedelta(seconds=settings.NEWSLETTER_SEND_STALL_AFTER)
        sending = sending.filter(Q(progress_at__lt=stale_before) | Q(progress_at__isnull=True))
    for campaign_id in sending.values_list("pk", flat=True):
        if campaign_dispatch(campaign_id=campaign_id):
            started.append(campaign_id)
    return started
