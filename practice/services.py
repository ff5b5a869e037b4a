"""Writes with side effects for the core of the practice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from .client_address import client_ip
from .models import AuditEvent, Client, WorkerHeartbeat

if TYPE_CHECKING:
    from .models import User


def audit_record(
    *,
    actor: User | None,
    action: AuditEvent.Action | str,
    obj: models.Model,
    client: Client | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one line to the audit log for a view, export or change of a record.

    ``object_repr`` holds the model's name and primary key only, never the
    content of the record.
    """
    if client is None and isinstance(obj, Client):
        client = obj
    meta = obj._meta
    event = AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=f"{meta.app_label}.{meta.model_name}",
        object_id=str(obj.pk),
        object_repr=f"{meta.verbose_name} #{obj.pk}",
        client=client,
    )
    if request is not None:
        event.ip_address = client_ip(request)
        event.user_agent = request.headers.get("user-agent", "")[:300]
        event.path = request.path[:300]
    event.save()
    return event


def worker_heartbeat_record(*, hostname: str) -> None:
    """Stamp this worker as alive now (read by /healthz)."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:200], defaults={"seen_at": timezone.now()}
    )
