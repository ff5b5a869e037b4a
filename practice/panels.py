"""Workspace pages made of panels that the apps register: one registry for every such page.

Two pages are built this way: the Today page (the admin's index,
``practice.dashboard``) and a client's page (her record in the admin,
``practice.client_panels``). Each has its own decorator, typed for what its
panels are given; both land here, keyed by page and name, so the core shows
a leaf app's work without importing it: the leaf app registers its panels
from a module its ``AppConfig.ready()`` imports.

A panel is a function that returns the context of its template (given to
the template as ``data``), or ``None`` when it has nothing to show. It must
cost a constant number of queries, whatever the amount of data: each page
has a query budget in the tests. A panel with a ``permission`` is shown only
to staff who have it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.http import HttpRequest

__all__ = ["CLIENT", "TODAY", "Panel", "ShownPanel", "panels", "panels_shown", "register_panel"]

# The pages built of panels.
TODAY = "today"
CLIENT = "client"

Context = TypeVar("Context", bound=Callable[..., dict[str, Any] | None])


@dataclass(frozen=True)
class Panel:
    page: str
    name: str
    title: str
    order: int
    template: str
    context: Callable[..., dict[str, Any] | None]
    permission: str = ""

    @property
    def slug(self) -> str:
        return self.name.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class ShownPanel:
    panel: Panel
    data: dict[str, Any]


_panels: dict[tuple[str, str], Panel] = {}


def register_panel(
    page: str, name: str, *, title: str, order: int, template: str, permission: str = ""
) -> Callable[[Context], Context]:
    """Register the decorated function as the context of ``page``'s panel ``name``."""

    def register(context: Context) -> Context:
        existing = _panels.get((page, name))
        if existing is not None and existing.context is not context:
            raise ValueError(f"{page} panel {name!r} is registered twice")
        _panels[(page, name)] = Panel(
            page=page,
            name=name,
            title=title,
            order=order,
            template=template,
            context=context,
            permission=permission,
        )
        return context

    return register


def panels(page: str) -> list[Panel]:
    """``page``'s panels, in their order."""
    return sorted(
        (panel for panel in _panels.values() if panel.page == page),
        key=lambda panel: (panel.order, panel.name),
    )


def panels_shown(page: str, request: HttpRequest, **arguments: Any) -> list[ShownPanel]:
    """``page``'s panels this request's user may see that have something to show, in order.

    ``arguments`` are what the page gives each panel's function (``now``,
    ``client``), after the request.
    """
    shown = []
    for panel in panels(page):
        if panel.permission and not request.user.has_perm(panel.permission):
            continue
        data = panel.context(request, **arguments)
        if data is not None:
            shown.append(ShownPanel(panel=panel, data=data))
    return shown
