from celery import shared_task
from django.core.cache import cache

from .services import worker_heartbeat_record


@shared_task(name="practice.heartbeat", bind=True)
def heartbeat(self) -> None:  # type: ignore[no-untyped-def]
    worker_heartbeat_record(hostname=self.request.hostname or "unknown")


@shared_task(name="practice.ping")
def ping(*, marker: str) -> str:
    """A task whose only effect is a cache entry; used to prove the queue runs."""
    cache.set(f"practice:ping:{marker}", "pong", 300)
    return "pong"
