"""Admin pieces of her privacy rights: her export from her client page, and the
"erase at once" action with its confirmation page.

``erase_action`` builds an admin action in Django's own style (the first POST
shows what will be erased, the second, with ``post=yes``, erases), calling a
leaf app's erase service once per selected row; a row the service refuses
(``ValidationError``) is reported and the others go on. The service writes
the audit line (type and id only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .admin_actions import admin_actor
from .models import Client
from .privacy import PSYCHOTHERAPY_NOTES_PERMISSION, client_export_response

__all__ = [
    "ERASE_CONFIRMATION_TEMPLATE",
    "client_export_panel",
    "client_export_view",
    "erase_action",
]

ERASE_CONFIRMATION_TEMPLATE = "practice/admin/erase_confirmation.html"


def erase_action(
    *,
    name: str,
    label: str,
    erase: Callable[..., object],
    what: str,
    warning: str,
) -> Callable[..., HttpResponse | None]:
    """An admin action that erases each selected row with ``erase(<model>=obj, actor=...)``.

    The row is passed under the model's name (``subscriber=``,
    ``consultation=``), with ``actor``. It asks the change permission: the
    admins keep Django's delete off (a plain delete would write no audit
    line). ``what`` names the rows in messages ("reader(s)"); ``warning``
    is shown on the confirmation page.
    """

    @admin.action(description=label, permissions=["change"])
    def action(
        modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
        request: HttpRequest,
        queryset: QuerySet[Model],
    ) -> HttpResponse | None:
        keyword = modeladmin.model._meta.model_name or "obj"
        if request.POST.get("post") == "yes":
            erased = 0
            for obj in queryset:
                try:
                    erase(**{keyword: obj, "actor": admin_actor(request)})
                except ValidationError as exc:
                    modeladmin.message_user(
                        request, f"#{obj.pk}: {exc.messages[0]}", messages.WARNING
                    )
                    continue
                erased += 1
            if erased:
                modeladmin.message_user(
                    request, f"{erased} {what} erased for good.", messages.SUCCESS
                )
            return None
        context: dict[str, Any] = {
            **modeladmin.admin_site.each_context(request),
            "title": label,
            "opts": modeladmin.model._meta,
            "queryset": queryset,
            "action_name": name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "warning": warning,
            "what": what,
        }
        return TemplateResponse(request, ERASE_CONFIRMATION_TEMPLATE, context)

    action.__name__ = name
    return action


# --- Her export from her client page -------------------------------------------------------


def client_export_panel(request: HttpRequest, client: Client) -> dict[str, Any]:
    """The "Download her data" form on her client page."""
    return {
        "url": reverse("admin:practice_client_export", args=[client.pk]),
        "may_include_psychotherapy": request.user.has_perm(PSYCHOTHERAPY_NOTES_PERMISSION),
    }


def client_export_view(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    object_id: str,
) -> HttpResponse:
    """POST: her record as a ZIP (audited); psychotherapy notes only when ticked and allowed."""
    client = modeladmin.get_object(request, unquote(object_id))
    if client is None:
        raise Http404
    if not modeladmin.has_view_permission(request, client):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:practice_client_change", args=[client.pk]))
    include_psychotherapy = request.POST.get("include_psychotherapy") == "1"
    if include_psychotherapy and not request.user.has_perm(PSYCHOTHERAPY_NOTES_PERMISSION):
        raise PermissionDenied
    return client_export_response(request, client, include_psychotherapy=include_psychotherapy)
