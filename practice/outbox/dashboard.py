"""The Today page's panel of failed emails, linking to where she sends them again.

Registered by ``PracticeConfig.ready()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from practice.calendar.display import appointments_with
from practice.dashboard import dashboard_panel
from practice.models import Appointment

from .models import OutboxMessage, object_type_of

APPOINTMENT = object_type_of(Appointment)

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
    latest = list(failed[:SHOWN])
    _name_the_addressees(latest)
    return {
        "latest": latest,
        "total": failed.count(),
        "list_url": reverse("admin:practice_outboxmessage_changelist")
        + f"?status__exact={OutboxMessage.Status.FAILED}",
    }


def _name_the_addressees(messages: list[OutboxMessage]) -> None:
    """Who each failed email was for, in the words of the workspace.

    A reminder keeps no address (it is read from the appointment when the
    email is built, so a deleted person is never written to): it is named by
    whom its appointment is with, through the calendar's display hook. Any
    other email names its recipient; one with neither is the practice's own.
    """
    appointment_ids = {
        int(message.object_id)
        for message in messages
        if not message.recipient and message.object_type == APPOINTMENT and message.object_id
    }
    withs = (
        appointments_with(Appointment.objects.filter(pk__in=appointment_ids))
        if appointment_ids
        else {}
    )
    for message in messages:
        found = withs.get(int(message.object_id or 0)) if not message.recipient else None
        message.addressee = (  # type: ignore[attr-defined]
            message.recipient or (found.name if found else "") or "the practice"
        )
