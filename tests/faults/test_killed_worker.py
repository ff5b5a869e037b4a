"""A worker killed with SIGKILL in the middle of its sending, then started again.

Counted at the SMTP sink: what each person would find in her inbox. The
mail server holds messages once it has taken ``ACCEPT`` of them, so "the
middle" is a count, never a moment: the kill comes when both sender
processes are each waiting on a held message.

``tests/practice/test_outbox_worker.py`` already kills one sender (one
process) before and after the server accepted a confirmation, and
``tests/newsletter/test_campaign_worker.py`` kills a worker half way through
a campaign to 2,000 readers. These add the reminders of the calendar (a
consultation's and a course session's), sent by two parallel senders in
short batches that hand over to each other, and a campaign killed while the
server holds whole messages it has not yet answered.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from newsletter import services as newsletter
from newsletter.consent import CONSENT_TEXT_SHA256
from newsletter.models import Campaign, Delivery, Subscriber
from practice.calendar.reminders import ReminderKind, reminders_plan
from practice.models import AppointmentKind, OutboxMessage
from tests.consultations.factories import ConsultationFactory
from tests.factories import ClientFactory, CourseFactory
from tests.kap_sessions.factories_emails import book_session
from tests.newsletter.factories import CampaignFactory
from tests.support.outbox import sweep, sweep_and_settle
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]

# Messages the server takes before it starts holding them.
ACCEPT = 9


def hour_before_reminders_due(*, consultations: int, sessions: int) -> list[str]:
    """Free consultations and course sessions in the coming days, each with its
    hour-before reminder due now (the clock has reached it); return who they go to.

    Booked as the calendar books them (``reminders_plan``, the course's
    ``book_session``); real time, since the worker runs on the clock.
    """
    now = timezone.now()
    starts = (now + timedelta(hours=3 + 4 * n) for n in itertools.count())
    recipients = []
    for n in range(consultations):
        consultation = ConsultationFactory(
            email=f"caller{n}@example.com", appointment__start=next(starts)
        )
        reminders_plan(appointment=consultation.appointment)
        recipients.append(consultation.email)
    for n in range(sessions):
        client = ClientFactory(email=f"client{n}@example.com")
        book_session(
            course=CourseFactory(client=client),
            kind=AppointmentKind.INTEGRATION,
            start=next(starts),
        )
        recipients.append(client.email)
    due = OutboxMessage.objects.filter(
        kind__startswith="reminder.", params__reminder=ReminderKind.HOUR_BEFORE
    ).update(not_before=now)
    assert due == len(recipients)
    return recipients


def reminders_sent() -> int:
    return OutboxMessage.objects.filter(
        kind__startswith="reminder.",
        params__reminder=ReminderKind.HOUR_BEFORE,
        status=OutboxMessage.Status.SENT,
    ).count()


def test_a_worker_killed_mid_reminders_sends_each_once_but_the_one_the_server_held(
    celery_worker, holding_smtp_sink, practice_profile
):
    """Two senders are each waiting on the mail server when the worker is killed:
    one message the server had taken whole (the documented window: it goes out
    twice), one it had not (it goes out once). Every other reminder arrives
    exactly once, and none is missing."""
    everyone = hour_before_reminders_due(consultations=16, sessions=8)
    sink = holding_smtp_sink(accept=ACCEPT, keep=(True, False))
    env = {"EMAIL_URL": sink.url, "OUTBOX_BATCH_SIZE": "4", "OUTBOX_SEND_PARALLEL": "2"}
    worker = celery_worker(env=env, concurrency=2)
    sweep()

    wait_until(lambda: len(sink.handler.held) == 2, what="both senders to wait on the server")
    worker.kill()
    (taken_whole, _), (not_taken, _) = sorted(sink.handler.held, key=lambda held: not held[1])
    assert reminders_sent() == ACCEPT  # the held ones were never stamped
    assert len(sink.messages) == ACCEPT + 1
    assert (taken_whole in sink.recipients, not_taken in sink.recipients) == (True, False)
    sink.handler.release()
    restarted = celery_worker(env=env, concurrency=2)
    sweep()

    wait_until(
        lambda: reminders_sent() == len(everyone) and len(sink.messages) == len(everyone) + 1,
        what="every reminder to be sent after the restart",
    )
    sweep_and_settle(restarted)  # a later sweep finds nothing left
    assert Counter(sink.recipients) == dict.fromkeys(everyone, 1) | {taken_whole: 2}


def confirmed_readers(count: int) -> list[str]:
    now = timezone.now()
    readers = Subscriber.objects.bulk_create(
        Subscriber(
            email=f"reader{n}@example.com",
            status=Subscriber.Status.CONFIRMED,
            consent_text_sha256=CONSENT_TEXT_SHA256,
            confirmed_at=now,
        )
        for n in range(count)
    )
    return [reader.email for reader in readers]


def test_a_worker_killed_while_the_server_holds_campaign_messages_mails_each_reader_once(
    celery_worker, holding_smtp_sink, practice_profile
):
    """The campaign sender commits a reader's row before it reads the server's
    answer (newsletter/sending.py), so a kill while the server holds two whole
    messages mails those two readers once, like everyone else."""
    readers = confirmed_readers(30)
    campaign = CampaignFactory(subject="Autumn letter")
    sink = holding_smtp_sink(accept=ACCEPT, keep=(True,))
    env = {
        "EMAIL_URL": sink.url,
        "NEWSLETTER_SEND_RATE": "0",
        "NEWSLETTER_SEND_BATCH_SIZE": "4",
        "NEWSLETTER_SEND_PARALLEL": "2",
    }
    first = celery_worker(env=env, concurrency=2)

    newsletter.campaign_send(campaign=campaign)
    wait_until(lambda: len(sink.handler.held) == 2, what="both senders to wait on the server")
    held = [address for address, _ in sink.handler.held]
    wait_until(
        lambda: (
            Delivery.objects.filter(
                campaign=campaign, subscriber__email__in=held, status=Delivery.Status.SENT
            ).count()
            == 2
        ),
        what="the held readers' rows to be committed as sent",
    )
    first.kill()
    assert len(sink.messages) == ACCEPT + 2
    sink.handler.release()
    celery_worker(env=env, concurrency=2)

    wait_until(
        lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT,
        what="the campaign to finish after the restart",
    )
    assert Counter(sink.recipients) == dict.fromkeys(readers, 1)
    campaign.refresh_from_db()
    assert (campaign.recipients_total, campaign.sent_count, campaign.failed_count) == (30, 30, 0)
