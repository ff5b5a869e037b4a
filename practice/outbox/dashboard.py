"""The Today page's panel of failed emails, linking to where she sends them again.

Registered by ``PracticeConfig.ready()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from practice.dashboard import dashboard_panel

from .models import OutboxMessage

SHOWN = 5


@dashboard_panel(
    "outbox.failed",
    title="Failed emails",
    order=40,
    template="practice/admin/panel_failed_emails.html",
    permission="practice.view_outboxmessage",
)
def failed_emails(request: HttpRequest, *, now: datetime) -> dict[str, Any]:
    failed = OutboxMessage.objects.failed().order_by("-finished_at")
    return {
        "latest": failed[:SHOWN],
        "total": failed.count(),
        "list_url": reverse("admin:practice_outboxmessage_changelist")
        + f"?status__exact={OutboxMessage.Status.FAILED}",
    }
