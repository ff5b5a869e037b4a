"""Writes with side effects for the core of the practice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from .audit import audit_event_insert, audit_seal_wake
from .client_address import client_ip
from .models import AuditEvent, Client, WorkerHeartbeat

if TYPE_CHECKING:
    from .models import User


def _session_saved_after(request: HttpRequest | None) -> bool:
    """Whether Django's session middleware saves this request's session to the database
    (a durable commit on the same connection) before the response leaves.

    It does for a signed-in visitor when ``SESSION_SAVE_EVERY_REQUEST`` is on
    and the session lives in the database, unless the response is a 5xx (and
    no page view is audited then).
    """
    if request is None or not settings.SESSION_SAVE_EVERY_REQUEST:
        return False
    user = getattr(request, "user", None)
    return (
        isinstance(getattr(request, "session", None), DatabaseSessionStore)
        and user is not None
        and user.is_authenticated
    )


def audit_record(
    *,
    actor: User | None,
    action: AuditEvent.Action | str,
    obj: models.Model | type[models.Model],
    client: Client | None = None,
    request: HttpRequest | None = None,
    outcome: AuditEvent.Outcome | str = AuditEvent.Outcome.OK,
    object_id: str = "",
    durable_with_session: bool = False,
) -> AuditEvent:
    """Append one line to the audit log for a view, export or change of a record.

    ``object_repr`` holds the model's name and primary key only, never the
    content of the record. An access that was refused or asked for a record
    that is not hers names the model class as ``obj``, the id that was asked
    for as ``object_id``, and its ``outcome``.

    Side effects: one ``AuditEvent``, inserted unsealed (one statement, in
    the caller's transaction if there is one: the line stands or falls with
    it), and after commit the sealer's doorbell (``practice.audit``), which
    seals it onto the hash chain off the request.

    ``durable_with_session``: a page view's line, written as the view's last
    database work. When the request's session is saved to the database
    after every request (``SESSION_SAVE_EVERY_REQUEST``), that save's
    durable commit carries the line to the disk before the page leaves, and
    the line need not wait for the disk itself (``practice.audit``).
    """
    if client is None and isinstance(obj, Client):
        client = obj
    meta = obj._meta
    pk = object_id or str(obj.pk if isinstance(obj, models.Model) else "")
    event = AuditEvent(
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=f"{meta.app_label}.{meta.model_name}",
        object_id=pk[:64],
        object_repr=f"{meta.verbose_name} #{pk}"[:200],
        client_id=client.pk if client is not None else None,
        outcome=outcome,
    )
    if request is not None:
        event.ip_address = client_ip(request)
        event.user_agent = request.headers.get("user-agent", "")[:300]
        event.path = request.path[:300]
    audit_event_insert(
        event,
        flushed_by_next_commit=durable_with_session and _session_saved_after(request),
    )
    transaction.on_commit(audit_seal_wake)
    return event


def worker_heartbeat_record(*, hostname: str) -> None:
    """Stamp this worker as alive now (read by /healthz)."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:200], defaults={"seen_at": timezone.now()}
    )
