"""The outbox with real parts: Celery workers, Redis, gunicorn and an SMTP sink.

Counted at the SMTP sink: what a reader would find in her inbox. Tests that
stop or flush Redis use a redis-server of their own (``private_redis``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import time as clock
from datetime import timedelta

import pytest
from django.utils import timezone

from practice.celery import app
from practice.models import OutboxMessage
from tests.consultations.factories import ConsultationFactory
from tests.factories import WeeklyHoursFactory
from tests.support.booking import booking_answers
from tests.support.outbox import confirmation_due, sweep, sweep_and_settle
from tests.support.server import Visitor, hidden
from tests.support.smtp import SMTPSink
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]

THERAPIST = "hello@harborlight.example"


def confirmations_due(count: int) -> list[OutboxMessage]:
    """``count`` consultations ahead (real time), each with its confirmation due now."""
    now = timezone.now()
    for i in range(count):
        consultation = ConsultationFactory(
            email=f"mother{i}@example.com", appointment__start=now + timedelta(days=2, hours=i)
        )
        confirmation_due(consultation)
    return list(OutboxMessage.objects.order_by("pk"))


def unsent() -> int:
    return OutboxMessage.objects.pending().count()


def test_a_real_worker_sends_each_due_email_once_with_two_sweeps_at_once(
    celery_worker, smtp_sink, practice_profile
):
    confirmations_due(4)
    celery_worker(env={"EMAIL_URL": smtp_sink.url})

    sweep()
    sweep()  # two senders at once share the rows, never a row twice

    messages = smtp_sink.wait_for(4)
    wait_until(lambda: unsent() == 0)
    assert Counter(smtp_sink.recipients) == {f"mother{i}@example.com": 1 for i in range(4)}
    assert all(str(m["Subject"]).startswith("Booked: your call on") for m in messages)
    assert OutboxMessage.objects.filter(status="sent").count() == 4


def test_a_worker_killed_before_the_server_accepted_sends_each_email_exactly_once(
    celery_worker, stalling_smtp_sink, practice_profile
):
    confirmations_due(6)
    sink = stalling_smtp_sink(delay=1.0)
    worker = celery_worker(env={"EMAIL_URL": sink.url}, concurrency=1)
    sweep()

    # Two accepted and the third in the middle of its SMTP conversation.
    wait_until(lambda: len(sink.messages) == 2 and sink.handler.started == 3)
    worker.kill()
    assert OutboxMessage.objects.filter(status="sent").count() == 2

    restarted = celery_worker(env={"EMAIL_URL": sink.url}, concurrency=1)
    sweep()

    sink.wait_for(6)
    wait_until(lambda: unsent() == 0)
    sweep()  # a later sweep finds nothing left to send
    wait_until(lambda: re.search(r"sweep\[[^\]]+\] succeeded in \S+: 0", restarted.log()))
    assert Counter(sink.recipients) == {f"mother{i}@example.com": 1 for i in range(6)}


def test_a_worker_killed_after_the_server_accepted_repeats_that_one_email_at_most_once(
    celery_worker, stalling_smtp_sink, practice_profile
):
    # The documented window: the server has the whole message, the worker
    # dies before its commit stamps the row. The next sweep sends it again.
    rows = confirmations_due(4)
    sink = stalling_smtp_sink(delay=60.0, store_first=True, stalls=1)
    worker = celery_worker(env={"EMAIL_URL": sink.url}, concurrency=1)
    sweep()

    wait_until(lambda: len(sink.messages) == 1 and sink.handler.started == 1)
    worker.kill()
    first = OutboxMessage.objects.get(pk=rows[0].pk)
    assert first.status == OutboxMessage.Status.PENDING  # never stamped

    celery_worker(env={"EMAIL_URL": sink.url}, concurrency=1)
    sweep()

    sink.wait_for(5)
    wait_until(lambda: unsent() == 0)
    counts = Counter(sink.recipients)
    assert counts == {
        "mother0@example.com": 2,
        "mother1@example.com": 1,
        "mother2@example.com": 1,
        "mother3@example.com": 1,
    }


@pytest.fixture
def open_every_day(transactional_db, practice_profile):  # type: ignore[no-untyped-def]
    # Real time runs in gunicorn, so the practice is open all day, every day.
    for weekday in range(7):
        WeeklyHoursFactory(weekday=weekday, start_time=clock(0), end_time=clock(23, 59))


def book_a_consultation(visitor: Visitor) -> str:
    """Book the first offered time as a visitor's browser would; return the page she lands on."""
    status, page = visitor.get("/consultation/")
    assert status == 200, page[:500]
    status, landed = visitor.post(
        "/consultation/",
        booking_answers(
            start=re.search(r'name="start" id="[^"]+" value="([^"]+)"', page).group(1),  # type: ignore[union-attr]
            csrf=hidden(page, "csrfmiddlewaretoken"),
            submission_id=hidden(page, "submission_id"),
        ),
    )
    assert status == 200, landed[:2000]
    return landed


def test_a_booking_made_while_redis_and_the_mail_server_are_down_is_confirmed_once_later(
    app_server, celery_worker, private_redis, open_every_day
):
    sink = SMTPSink()  # its port is chosen; nothing listens there yet
    server = app_server(env={"REDIS_URL": private_redis.url, "EMAIL_URL": sink.url})
    private_redis.stop()
    visitor = Visitor(server.url)

    landed = book_a_consultation(visitor)

    assert "You are booked, Nora" in landed
    for path in ("/", "/consultation/", "/consultation/slots.json", "/articles/", "/newsletter/"):
        status, body = visitor.get(path)
        assert status == 200, f"{path}: {status} {body[:300]}"
    status, health = visitor.get("/healthz")
    assert status == 503
    assert "broker" in json.loads(health)["down"]
    assert Counter(OutboxMessage.objects.pending().values_list("kind", flat=True)) == {
        "consultation.booked": 1,
        "consultation.therapist_notice": 1,
        "reminder.consultation": 2,
    }

    # Redis is back; the mail server is not yet.
    private_redis.start()
    worker = celery_worker(
        env={
            "REDIS_URL": private_redis.url,
            "EMAIL_URL": sink.url,
            "OUTBOX_RETRY_BASE_SECONDS": "1",
        }
    )
    sweep_and_settle(worker, private_redis.url)
    assert OutboxMessage.objects.filter(failure_count__gte=1).exists()
    assert sink.messages == []

    # The mail server is back: the next sweeps send each email once, as its
    # retry time (a second or two) comes.
    sink.start()
    try:
        wait_until(lambda: sweep_and_settle(worker, private_redis.url) or len(sink.messages) >= 2)
        sweep_and_settle(worker, private_redis.url)
        assert Counter(sink.recipients) == {"nora@example.com": 1, THERAPIST: 1}
        assert OutboxMessage.objects.filter(status="sent").count() == 2
    finally:
        sink.stop()


def test_flushing_redis_between_the_booking_and_the_send_loses_nothing(
    app_server, celery_worker, private_redis, smtp_sink, open_every_day
):
    server = app_server(env={"REDIS_URL": private_redis.url, "EMAIL_URL": smtp_sink.url})
    landed = book_a_consultation(Visitor(server.url))
    assert "You are booked, Nora" in landed

    # The wake-up job waits in Redis (no worker yet) and is flushed away.
    private_redis.flushall()
    worker = celery_worker(env={"REDIS_URL": private_redis.url, "EMAIL_URL": smtp_sink.url})
    with app.connection_for_write(private_redis.url) as connection:
        app.send_task(
            "practice.ping",
            kwargs={"marker": "after-flush"},
            producer=app.amqp.Producer(connection),
        )
    wait_until(lambda: re.search(r"practice\.ping\[[^\]]+\] succeeded", worker.log()))
    # The queue held nothing before the ping: the doorbell was lost.
    assert not re.search(r"outbox\.send_due\[[^\]]+\] received", worker.log())
    assert smtp_sink.messages == []

    sweep_and_settle(worker, private_redis.url)  # beat's next sweep

    assert Counter(smtp_sink.recipients) == {"nora@example.com": 1, THERAPIST: 1}
    sweep_and_settle(worker, private_redis.url)
    assert Counter(smtp_sink.recipients) == {"nora@example.com": 1, THERAPIST: 1}
