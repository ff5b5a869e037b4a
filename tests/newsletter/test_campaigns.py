"""Campaigns: snapshot, sending, skipping those who left, finishing, scheduling."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from newsletter import services
from newsletter.models import Campaign, Delivery, Subscriber
from tests.newsletter.factories import ArticleFactory, CampaignFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_sending(settings):  # type: ignore[no-untyped-def]
    settings.NEWSLETTER_SEND_RATE = 0
    settings.NEWSLETTER_SEND_BATCH_SIZE = 4


def _start(campaign: Campaign, django_capture_on_commit_callbacks) -> Campaign:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False):
        services.campaign_send(campaign=campaign)
    services.campaign_dispatch(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


def test_a_campaign_reaches_each_confirmed_reader_once(
    smtp_sink, practice_profile, fast_sending, django_capture_on_commit_callbacks
):
    confirmed = [SubscriberFactory(confirmed=True) for _ in range(6)]
    SubscriberFactory(email="waiting@example.com")
    SubscriberFactory(email="gone@example.com", unsubscribed=True)
    campaign = _start(CampaignFactory(), django_capture_on_commit_callbacks)

    batches = [services.campaign_send_batch(campaign_id=campaign.pk) for _ in range(3)]

    smtp_sink.wait_for(6)
    campaign.refresh_from_db()
    assert batches == [True, False, False]
    assert Counter(smtp_sink.recipients) == Counter({s.email: 1 for s in confirmed})
    assert (campaign.status, campaign.recipients_total, campaign.sent_count) == (
        Campaign.Status.SENT,
        6,
        6,
    )
    assert campaign.finished_at is not None


def test_a_reader_who_leaves_mid_campaign_is_skipped(
    smtp_sink, practice_profile, fast_sending, django_capture_on_commit_callbacks
):
    readers = [SubscriberFactory(confirmed=True) for _ in range(3)]
    campaign = _start(CampaignFactory(), django_capture_on_commit_callbacks)
    services.subscribers_unsubscribe(ids=[readers[2].pk])

    services.campaign_send_batch(campaign_id=campaign.pk)

    smtp_sink.wait_for(2)
    assert sorted(smtp_sink.recipients) == sorted([readers[0].email, readers[1].email])
    assert services.campaign_progress(campaign) == {
        "total": 3,
        "sent": 2,
        "failed": 0,
        "skipped": 1,
        "pending": 0,
    }


def test_dispatching_twice_does_not_duplicate_deliveries(
    practice_profile, django_capture_on_commit_callbacks
):
    SubscriberFactory.create_batch(3, confirmed=True)
    campaign = _start(CampaignFactory(), django_capture_on_commit_callbacks)

    services.campaign_dispatch(campaign_id=campaign.pk)

    assert Delivery.objects.filter(campaign=campaign).count() == 3


def test_the_database_refuses_a_second_delivery_to_the_same_reader(practice_profile):
    reader = SubscriberFactory(confirmed=True)
    campaign = CampaignFactory()
    Delivery.objects.create(campaign=campaign, subscriber=reader)

    with pytest.raises(IntegrityError):
        Delivery.objects.create(campaign=campaign, subscriber=reader)


def test_a_refused_recipient_is_counted_as_a_failure(
    smtp_sink, practice_profile, fast_sending, django_capture_on_commit_callbacks
):
    from tests.support.smtp import _Handler

    class Refusing(_Handler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            if address.startswith("bounce"):
                return "550 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    smtp_sink.controller.handler = Refusing(smtp_sink)
    SubscriberFactory(email="bounce@example.com", confirmed=True)
    SubscriberFactory(email="fine@example.com", confirmed=True)
    campaign = _start(CampaignFactory(), django_capture_on_commit_callbacks)

    services.campaign_send_batch(campaign_id=campaign.pk)

    smtp_sink.wait_for(1)
    campaign.refresh_from_db()
    assert smtp_sink.recipients == ["fine@example.com"]
    assert (campaign.status, campaign.sent_count, campaign.failed_count) == ("sent", 1, 1)
    assert "550" in Delivery.objects.get(subscriber__email="bounce@example.com").error


def test_a_scheduled_campaign_is_started_by_beat_when_due(
    practice_profile, django_capture_on_commit_callbacks
):
    SubscriberFactory.create_batch(2, confirmed=True)
    campaign = CampaignFactory()
    at = timezone.now() + timedelta(hours=2)
    services.campaign_send(campaign=campaign, at=at)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Campaign.Status.SCHEDULED, at)

    assert services.campaigns_dispatch() == []
    with (
        time_machine.travel(at + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        started = services.campaigns_dispatch()

    campaign.refresh_from_db()
    assert (started, campaign.status, len(callbacks)) == ([campaign.pk], "sending", 1)


def test_beat_takes_up_a_campaign_whose_senders_stopped(
    practice_profile, settings, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_SEND_PARALLEL = 2
    SubscriberFactory.create_batch(2, confirmed=True)
    campaign = _start(CampaignFactory(), django_capture_on_commit_callbacks)

    assert services.campaigns_dispatch() == []
    later = timezone.now() + timedelta(seconds=settings.NEWSLETTER_SEND_STALL_AFTER + 5)
    with (
        time_machine.travel(later),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        resumed = services.campaigns_dispatch()

    # One sender job for each of NEWSLETTER_SEND_PARALLEL, queued after commit.
    assert (resumed, len(callbacks)) == ([campaign.pk], 2)


def test_a_sent_campaign_cannot_be_sent_again(practice_profile, django_capture_on_commit_callbacks):
    campaign = _start(CampaignFactory(), django_capture_on_commit_callbacks)
    services.campaign_finish(campaign_id=campaign.pk)

    with pytest.raises(ValidationError):
        services.campaign_send(campaign=campaign)


def test_sending_an_article_includes_it_with_a_link(
    smtp_sink, practice_profile, fast_sending, django_capture_on_commit_callbacks
):
    SubscriberFactory(email="ada@example.com", confirmed=True)
    article = ArticleFactory(title="Rest", slug="rest", body="Sleep **matters**.")
    campaign = _start(
        services.campaign_create_for_article(article=article, actor=None),
        django_capture_on_commit_callbacks,
    )

    services.campaign_send_batch(campaign_id=campaign.pk)

    (message,) = smtp_sink.wait_for(1)
    assert message["Subject"] == "Rest"
    assert "http://localhost:8000/articles/rest/" in message.get_body(("plain",)).get_content()


def test_a_campaign_needs_a_body_or_an_article(practice_profile):
    with pytest.raises(ValidationError) as caught:
        Campaign(subject="Empty").full_clean()
    assert "Write a body or choose an article to send." in caught.value.messages


def test_unconfirmed_readers_get_one_reminder_then_are_purged(
    practice_profile, settings, eager_tasks, django_capture_on_commit_callbacks
):
    from django.core import mail

    ada = SubscriberFactory(email="ada@example.com", confirmation_sent_at=timezone.now())
    SubscriberFactory(email="nora@example.com", confirmed=True)
    start = timezone.now()

    for days in (1, 4, 5, 20):
        with (
            time_machine.travel(start + timedelta(days=days)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.subscribers_tidy_unconfirmed()
    assert [m.subject for m in mail.outbox] == ["Reminder: confirm your subscription"]
    assert Subscriber.objects.filter(pk=ada.pk).exists()

    with time_machine.travel(start + timedelta(days=31)):
        assert services.subscribers_tidy_unconfirmed() == (0, 1)
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["nora@example.com"]


def test_a_deferral_from_the_mail_server_leaves_the_reader_pending_for_a_retry(
    smtp_sink, practice_profile, fast_sending, django_capture_on_commit_callbacks
):
    from newsletter.sending import TransientSendError
    from tests.support.smtp import _Handler

    class Deferring(_Handler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            return "451 Try again later"

    smtp_sink.controller.handler = Deferring(smtp_sink)
    SubscriberFactory(email="ada@example.com", confirmed=True)
    campaign = _start(CampaignFactory(), django_capture_on_commit_callbacks)

    with pytest.raises(TransientSendError):
        services.campaign_send_batch(campaign_id=campaign.pk)

    assert services.campaign_progress(campaign)["pending"] == 1
    assert smtp_sink.messages == []
