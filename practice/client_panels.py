"""A client's page in the admin: her record at a glance, in panels that the apps register.

The client's change page (``practice.admin.ClientAdmin``) shows, above her
details, one panel after another in their ``order``: where she is in
preparation, her eligibility, safety flags, questionnaire scores, consents
and what she still has to do come from ``kap_sessions``; her documents from
the core. Each app registers its own from a module its ``AppConfig.ready()``
imports, as the Today page's panels are (``practice.dashboard``; both live
in the one registry of ``practice.panels``), so ``practice`` names no leaf
app::

    @client_panel(
        "kap_sessions.safety",
        title="Safety flags",
        order=10,
        template="kap_sessions/admin/client_panel_safety.html",
        permission="kap_sessions.view_safetyflag",
    )
    def safety(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any] | None:
        ...

What a panel owes the page:

- **It only reads**, and writes no audit line of its own: the page's one
  "view" line (``AuditedAdminMixin.change_view``, written for the GET that
  shows the page) is the record that she looked at all of it. The page shows
  the panels on that GET only.
- **A constant number of queries**, however many questionnaires, documents,
  signatures or flags she has (``tests/practice/test_client_page.py``).
- **No clinical free text beyond what the therapist needs at a glance**:
  statuses, scores and bands, dates, names of documents, her decisions;
  her intake answers and notes stay on their own (audited) pages, one link away.
- ``None`` hides the panel; a ``permission`` shows it only to staff who have it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from django.http import HttpRequest

from . import panels as registry
from .models import Client
from .panels import Panel, ShownPanel

__all__ = ["Panel", "ShownPanel", "client_panel", "client_panels", "client_panels_shown"]


class ClientPanelContext(Protocol):
    def __call__(
        self, request: HttpRequest, *, client: Client, now: datetime
    ) -> dict[str, Any] | None: ...


def client_panel(
    name: str, *, title: str, order: int, template: str, permission: str = ""
) -> Callable[[ClientPanelContext], ClientPanelContext]:
    """Register the decorated function as the context of a client page's panel ``name``."""
    return registry.register_panel(
        registry.CLIENT, name, title=title, order=order, template=template, permission=permission
    )


def client_panels() -> list[Panel]:
    return registry.panels(registry.CLIENT)


def client_panels_shown(request: HttpRequest, *, client: Client, now: datetime) -> list[ShownPanel]:
    """The panels of ``client``'s page this request's user may see, in order."""
    return registry.panels_shown(registry.CLIENT, request, client=client, now=now)
