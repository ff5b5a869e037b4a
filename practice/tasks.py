from celery import shared_task
from django.core.cache import cache

from .audit import audit_check_record, audit_seal
from .privacy import retention_purge
from .services import worker_heartbeat_record


@shared_task(name="practice.heartbeat", bind=True)
def heartbeat(self) -> None:  # type: ignore[no-untyped-def]
    worker_heartbeat_record(hostname=self.request.hostname or "unknown")


@shared_task(name="practice.ping")
def ping(*, marker: str) -> str:
    """A task whose only effect is a cache entry; used to prove the queue runs."""
    cache.set(f"practice:ping:{marker}", "pong", 300)
    return "pong"


@shared_task(name="practice.purge_expired")
def purge_expired() -> int:
    """Purge what retention lets go (``practice.privacy.retention_purge``); the clients purged."""
    return len(retention_purge().client_ids)


@shared_task(name="practice.verify_audit")
def verify_audit() -> bool:
    """Seal what waits, check the audit trail's hash chain and keep the result for Today;
    whether it holds."""
    return audit_check_record().ok


@shared_task(name="practice.audit_seal")
def seal_audit() -> int:
    """Seal the audit lines written since the last run onto the hash chain; how many.

    Queued after each audit line commits (``practice.audit.audit_seal_wake``)
    and by beat every few seconds.
    """
    return audit_seal()
