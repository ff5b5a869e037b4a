"""Where the audit trail shows in the workspace: Today's "Audit trail", her access history.

- **Today** (``practice.dashboard``): when the trail was last checked
  (``practice.verify_audit``, daily from beat) and what was found; an alert
  when it is broken, or when no check has run for more than two days.
- **Her page** (``practice.client_panels``): the latest 20 events about her
  record (who, what, when in practice time, the outcome) and a CSV of all of
  them for the therapist, itself written to the trail as an export.

Registered by ``PracticeConfig.ready()``. Each panel costs one query.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from .calendar.display import in_practice_time
from .client_panels import client_panel
from .dashboard import dashboard_panel
from .models import AuditCheckResult, AuditEvent, Client
from .services import audit_record

__all__ = ["STALE_AFTER", "access_history", "access_history_csv", "audit_trail"]

# A daily check that has not run for this long is itself worth an alert.
STALE_AFTER = timedelta(days=2)
SHOWN = 20


@dashboard_panel(
    "practice.audit_trail",
    title="Audit trail",
    order=90,
    template="practice/admin/panel_audit_trail.html",
    permission="practice.view_auditevent",
)
def audit_trail(request: HttpRequest, *, now: datetime) -> dict[str, Any]:
    last = AuditCheckResult.objects.order_by("-checked_at", "-id").first()
    return {
        "last": last,
        "checked_at": in_practice_time(last.checked_at, now=now) if last is not None else "",
        "broken": last is not None and not last.ok,
        "stale": last is None or now - last.checked_at > STALE_AFTER,
        "list_url": reverse("admin:practice_auditevent_changelist"),
    }


def _events_about(client: Client) -> Any:
    """Her events, newest first, each with the name of whoever acted (one query)."""
    users = get_user_model().objects.filter(pk=OuterRef("actor_id"))
    return (
        AuditEvent.objects.filter(client_id=client.pk)
        .annotate(
            actor_first=Subquery(users.values("first_name")[:1]),
            actor_last=Subquery(users.values("last_name")[:1]),
            actor_email=Subquery(users.values("email")[:1]),
        )
        .order_by("-id")
    )


def _who(event: Any, client: Client) -> str:
    if event.actor_id is None:
        return "The practice (automatic)"
    if client.user_id is not None and event.actor_id == client.user_id:
        return "Her"
    if event.actor_email is None:
        return f"A removed user (#{event.actor_id})"
    name = f"{event.actor_first or ''} {event.actor_last or ''}".strip()
    return name or event.actor_email


def _object_label(object_type: str) -> str:
    return object_type.partition(".")[2] or object_type


@client_panel(
    "practice.access_history",
    title="Access history",
    order=95,
    template="practice/admin/client_panel_access_history.html",
    permission="practice.view_auditevent",
)
def access_history(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any]:
    latest = list(_events_about(client)[:SHOWN])
    return {
        "events": [
            {
                "who": _who(event, client),
                "action": event.get_action_display(),
                "object": _object_label(event.object_type),
                "at": in_practice_time(event.at, now=now),
                "outcome": event.get_outcome_display(),
                "refused": event.outcome != AuditEvent.Outcome.OK,
            }
            for event in latest
        ],
        "csv_url": reverse("admin:practice_auditevent_client_csv", args=[client.pk]),
    }


def access_history_csv(request: HttpRequest, client_id: int) -> HttpResponse:
    """Every event about her record as CSV, for the therapist; the download is audited."""
    if not request.user.has_perm("practice.view_auditevent"):
        raise PermissionDenied
    client = get_object_or_404(Client, pk=client_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="access-history-{client.pk}-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    writer.writerow(
        ["event", "when (UTC)", "who", "action", "object type", "object id", "outcome", "address"]
    )
    for event in _events_about(client).iterator(chunk_size=2000):
        writer.writerow(
            [
                event.pk,
                event.at.isoformat(),
                _who(event, client),
                event.action,
                event.object_type,
                event.object_id,
                event.outcome,
                event.ip_address or "",
            ]
        )
    # After the rows: the export names itself in the trail, not in its own file.
    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=AuditEvent.Action.EXPORT,
        obj=client,
        request=request,
    )
    return response
