"""The KAP panel of the Today page (``practice.dashboard``): safety flags to look at.

Every open flag, oldest first, whoever's it is: the client's name (a link to
her page), when it was raised and by what, and the way to acknowledge it
with a note. Hidden when none is open, so a calm day stays calm. Registered
by ``KapSessionsConfig.ready()``; two queries however many flags are open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from practice.calendar.display import in_practice_time
from practice.dashboard import dashboard_panel

from .client_panels import SHOWN, flag_source
from .models import SafetyFlag, SafetyFlagStatus


@dataclass(frozen=True)
class OpenFlag:
    flag: SafetyFlag
    source: str
    raised: str
    client_url: str
    acknowledge_url: str


@dashboard_panel(
    "kap_sessions.safety_flags",
    title="Safety flags to look at",
    order=5,
    template="kap_sessions/admin/panel_safety_flags.html",
    permission="kap_sessions.view_safetyflag",
)
def open_safety_flags(request: HttpRequest, *, now: datetime) -> dict[str, Any] | None:
    flags = list(SafetyFlag.objects.open()[:SHOWN])
    if not flags:
        return None
    total = SafetyFlag.objects.filter(status=SafetyFlagStatus.OPEN).count()
    may_acknowledge = request.user.has_perm("kap_sessions.change_safetyflag")
    acknowledge = reverse("admin:kap_sessions_safetyflag_acknowledge")
    return {
        "flags": [
            OpenFlag(
                flag=flag,
                source=flag_source(flag),
                raised=in_practice_time(flag.raised_at, now=now),
                client_url=reverse("admin:practice_client_change", args=[flag.client_id]),
                acknowledge_url=f"{acknowledge}?ids={flag.pk}" if may_acknowledge else "",
            )
            for flag in flags
        ],
        "total": total,
        "list_url": reverse("admin:kap_sessions_safetyflag_changelist")
        + f"?status__exact={SafetyFlagStatus.OPEN}",
    }
