"""/healthz against the real database, a real Redis and a real worker."""

from __future__ import annotations

import pytest
from django.utils import timezone

from practice.celery import app as celery_app
from practice.models import WorkerHeartbeat


@pytest.fixture
def broker_at():
    """Point this process's Celery app at another broker for one test."""
    original = celery_app.conf.broker_url

    def point(url: str) -> None:
        celery_app.conf.broker_url = url
        # Forget (without closing) the app's pools: kombu keeps one global
        # pool per broker URL, so the next use picks ``url``'s, and pointing
        # back finds the original still open for the tests that follow.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    yield point
    point(original)


def test_healthz_is_ok_with_database_broker_and_a_live_worker(client, celery_worker, settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs Redis as the broker")
    celery_worker()

    body = client.get("/healthz").json()

    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": "postgresql"}
    assert body["broker"] == {"ok": True, "detail": "redis"}
    assert body["worker"]["ok"] is True


def test_healthz_is_503_and_names_the_broker_when_redis_stops(client, db, private_redis, broker_at):
    broker_at(private_redis.url)
    WorkerHeartbeat.objects.create(hostname="w1", seen_at=timezone.now())
    assert client.get("/healthz").status_code == 200

    private_redis.stop()
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["broker"]
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


def test_healthz_is_503_when_no_worker_has_beaten_lately(client, db, settings, time_machine):
    WorkerHeartbeat.objects.create(hostname="w1", seen_at=timezone.now())
    time_machine.move_to(timezone.now() + timezone.timedelta(seconds=121))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["worker"]
    assert response.json()["worker"]["detail"] == "last heartbeat 121s ago"


def test_healthz_is_never_cached(client, db):
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"]
