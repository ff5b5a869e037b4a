"""A real worker on the real broker runs tasks end to end (no eager mode)."""

from __future__ import annotations

import uuid

from django.core.cache import cache

from practice.celery import app as celery_app
from practice.models import WorkerHeartbeat
from practice.tasks import heartbeat, ping
from tests.support.waiting import wait_until


def test_tasks_are_not_run_eagerly():
    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.accept_content == ["json"]


def test_a_real_worker_runs_a_task_sent_through_the_broker(celery_worker):
    celery_worker()
    marker = uuid.uuid4().hex

    ping.delay(marker=marker)

    assert wait_until(lambda: cache.get(f"practice:ping:{marker}")) == "pong"


def test_the_worker_records_its_heartbeat_on_start_and_on_schedule(celery_worker):
    worker = celery_worker()
    first = wait_until(
        lambda: WorkerHeartbeat.objects.filter(hostname__startswith=worker.name).first()
    )

    heartbeat.delay()

    wait_until(
        lambda: WorkerHeartbeat.objects.filter(pk=first.pk, seen_at__gt=first.seen_at).exists()
    )


def test_every_task_is_named_explicitly():
    own = [name for name in celery_app.tasks if not name.startswith("celery.")]

    assert own, "no tasks registered"
    for name in own:
        task = celery_app.tasks[name]
        assert name == task.name
        assert not name.startswith(task.__module__ + "."), f"{name} uses an implicit name"
