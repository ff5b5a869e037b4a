from celery import shared_task

from .services import worker_heartbeat_record


@shared_task(name="practice.heartbeat", bind=True)
def heartbeat(self) -> None:  # type: ignore[no-untyped-def]
    worker_heartbeat_record(hostname=self.request.hostname or "unknown")


@shared_task(name="practice.ping")
def ping(*, marker: str) -> str:
    """A task with no side effect but a log line; used to prove the queue runs."""
    from django.core.cache import cache

    cache.set(f"practice:ping:{marker}", "pong", 300)
    return "pong"
