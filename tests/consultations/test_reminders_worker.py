"""Reminders sent by a real Celery worker against Redis, even through a SIGKILL."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from practice.celery import app
from practice.models import Reminder
from tests.consultations.factories import ConsultationFactory, ReminderFactory

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def wait_until(condition: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the condition did not become true in time")


def due_reminders(count: int) -> list[Reminder]:
    """``count`` consultations an hour or more ahead (real time), each with a reminder due now."""
    now = timezone.now()
    reminders = []
    for i in range(count):
        consultation = ConsultationFactory(
            email=f"mother{i}@example.com",
            appointment__start=now + timedelta(hours=2 + i),
        )
        reminders.append(
            ReminderFactory(
                appointment=consultation.appointment,
                kind="hour_before",
                due_at=now - timedelta(minutes=1),
            )
        )
    return reminders


def dispatch() -> None:
    """What beat does every minute: send the dispatcher task through Redis.

    On a connection of its own rather than the app's shared producer pool,
    which another test in the same process may have closed.
    """
    with app.connection_for_write() as connection:
        app.send_task(
            "practice.calendar.dispatch_reminders", producer=app.amqp.Producer(connection)
        )


def test_a_real_worker_sends_each_due_reminder(celery_worker, smtp_sink, practice_profile):
    reminders = due_reminders(3)
    celery_worker(env={"EMAIL_URL": smtp_sink.url})

    dispatch()
    dispatch()  # two dispatchers at once share the rows, never a row twice

    messages = smtp_sink.wait_for(3)
    wait_until(lambda: not Reminder.objects.filter(sent_at__isnull=True).exists())
    assert Counter(smtp_sink.recipients) == {f"mother{i}@example.com": 1 for i in range(3)}
    assert all("Reminder: your free consultation" in str(m["Subject"]) for m in messages)
    assert (
        Reminder.objects.filter(pk__in=[r.pk for r in reminders], sent_at__isnull=False).count()
        == 3
    )


def test_killing_the_worker_mid_dispatch_sends_each_reminder_exactly_once(
    celery_worker, slow_smtp_sink, practice_profile
):
    due_reminders(6)
    sink = slow_smtp_sink
    worker = celery_worker(env={"EMAIL_URL": sink.url}, concurrency=1)
    dispatch()

    # Two accepted and the third in the middle of its SMTP conversation.
    wait_until(lambda: len(sink.messages) == 2 and sink.handler.started == 3)
    worker.kill()
    # Nothing lives in the broker that matters: flush it as well.
    cache.clear()
    assert Reminder.objects.filter(sent_at__isnull=False).count() == 2

    restarted = celery_worker(env={"EMAIL_URL": sink.url}, concurrency=1)
    dispatch()

    sink.wait_for(6)
    wait_until(lambda: not Reminder.objects.filter(sent_at__isnull=True).exists())
    dispatch()  # a later beat finds nothing left to send
    wait_until(
        lambda: re.search(r"dispatch_reminders\[[^\]]+\] succeeded in \S+: 0", restarted.log())
    )
    assert Counter(sink.recipients) == {f"mother{i}@example.com": 1 for i in range(6)}
    assert Reminder.objects.filter(sent_at__isnull=True).count() == 0
