"""The Today page of the therapist's workspace: panels that the apps register.

The admin's index shows one panel after another, in their ``order``. The core
registers what it owns (the calendar's day, failed emails); each leaf app
registers its own from a module its ``AppConfig.ready()`` imports, so the core
never imports a leaf app to show its work::

    @dashboard_panel(
        "consultations.changes",
        title="New bookings and cancellations",
        order=20,
        template="consultations/admin/panel_changes.html",
        permission="consultations.view_consultation",
    )
    def recent_changes(request: HttpRequest, *, now: datetime) -> dict[str, Any]:
        ...

A panel's function returns the context of its template (given under
``data``), or ``None`` when it has nothing to show. It must cost a constant
number of queries, whatever the amount of data: the Today page has a query
budget (``tests/practice/test_workspace.py``). A panel with a ``permission``
is shown only to staff who have it.

The registry itself is ``practice.panels``, shared with a client's page
(``practice.client_panels``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from django.http import HttpRequest

from . import panels as registry
from .panels import Panel, ShownPanel

__all__ = ["Panel", "ShownPanel", "dashboard_panel", "panels", "panels_shown"]


class PanelContext(Protocol):
    def __call__(self, request: HttpRequest, *, now: datetime) -> dict[str, Any] | None: ...


def dashboard_panel(
    name: str, *, title: str, order: int, template: str, permission: str = ""
) -> Callable[[PanelContext], PanelContext]:
    """Register the decorated function as the context of the Today page's panel ``name``."""
    return registry.register_panel(
        registry.TODAY, name, title=title, order=order, template=template, permission=permission
    )


def panels() -> list[Panel]:
    return registry.panels(registry.TODAY)


def panels_shown(request: HttpRequest, *, now: datetime) -> list[ShownPanel]:
    """The Today panels this request's user may see that have something to show, in order."""
    return registry.panels_shown(registry.TODAY, request, now=now)
