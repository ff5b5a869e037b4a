"""One shape for admin actions that move each selected row through a service,
and the one way an admin page names who acted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .models import User


def admin_actor(request: HttpRequest) -> User | None:
    """The staff member acting, for a service's ``actor`` (``None`` if no one is signed in)."""
    return request.user if isinstance(request.user, User) else None


def service_action(
    *,
    name: str,
    label: str,
    apply: Callable[[Any], object] | None = None,
    apply_with_request: Callable[[HttpRequest, Any], object] | None = None,
    done: Callable[[int], str],
    skip: Callable[[Any], str | None] = lambda obj: None,
) -> Callable[..., None]:
    """An admin action calling ``apply(obj)`` for each selected row.

    A service that needs to know who acted (for its audit line) is called as
    ``apply_with_request(request, obj)`` instead; give exactly one of the two.
    A row the service refuses (``ValidationError``) is reported by name and the
    others go on; ``skip(obj)`` may return a reason to leave a row alone.
    ``done(count)`` words the success message.
    """
    if (apply is None) == (apply_with_request is None):
        raise TypeError("service_action takes exactly one of apply and apply_with_request")

    @admin.action(description=label, permissions=["change"])
    def action(
        modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
        request: HttpRequest,
        queryset: QuerySet[Model],
    ) -> None:
        changed = 0
        for obj in queryset:
            reason = skip(obj)
            if reason:
                modeladmin.message_user(request, f"{obj}: {reason}", messages.WARNING)
                continue
            try:
                if apply_with_request is not None:
                    apply_with_request(request, obj)
                elif apply is not None:
                    apply(obj)
            except ValidationError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.messages[0]}", messages.WARNING)
                continue
            changed += 1
        if changed:
            modeladmin.message_user(request, done(changed), messages.SUCCESS)

    action.__name__ = name
    return action
