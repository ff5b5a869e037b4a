"""The therapist's workspace: Django's admin, arranged around her work.

- The sidebar groups every list into her sections (Consultations, Clients,
  Calendar, Newsletter, Practice settings). Each ``ModelAdmin`` says where it
  belongs with a ``workspace_section`` attribute, so a leaf app places its own
  lists and the core names none of them. A list that says nothing (the
  libraries' sites, groups, email addresses, authenticators) is a system
  list: out of her sight until she asks for system settings, a choice kept in
  her session.
- A list of one record's parts (a client's signatures, documents, answered
  questionnaires, eligibility decisions) says ``workspace_section = None``:
  she reaches it from its parent record's page (the client page's panels
  link to it, filtered to her), so it stays out of the sidebar, system
  settings shown or not. It stays registered: its address, its change pages
  and the app's own page (``/admin/<app_label>/``) keep working.
- The index is the Today page: the panels of ``practice.dashboard``. A
  client's page (``ClientAdmin``) shows hers at a glance in the panels of
  ``practice.client_panels``; the apps register both kinds (``practice.panels``).
- Every admin page works in the practice's time zone (the practice profile's),
  so a time reads and is typed the same on every page, whatever the server's.

Installed through ``practice.admin_apps.WorkspaceAdminConfig`` in place of
``django.contrib.admin``, so ``admin.site`` is this site and every
``@admin.register`` lands here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.core import checks
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.template.response import SimpleTemplateResponse, TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .dashboard import panels_shown
from .identity import practice_profile

SHOW_SYSTEM_SESSION_KEY = "workspace_show_system"

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class Section(models.TextChoices):
    """The sidebar's sections, in her words and in this order."""

    CONSULTATIONS = "consultations", "Consultations"
    CLIENTS = "clients", "Clients"
    CALENDAR = "calendar", "Calendar"
    BILLING = "billing", "Billing"
    NEWSLETTER = "newsletter", "Newsletter"
    SETTINGS = "settings", "Practice settings"
    SYSTEM = "system", "System"


def section_of(model_admin: admin.ModelAdmin) -> Section | None:  # type: ignore[type-arg]
    """The sidebar section of ``model_admin``'s list; ``None``: reached from its parent record."""
    value = getattr(model_admin, "workspace_section", Section.SYSTEM)
    return None if value is None else Section(value)


def system_shown(request: HttpRequest) -> bool:
    return bool(request.session.get(SHOW_SYSTEM_SESSION_KEY, False))


class WorkspaceAdminSite(admin.AdminSite):
    site_header = "Practice workspace"
    site_title = "Practice workspace"
    index_title = "Today"

    def admin_view(self, view: View, cacheable: bool = False) -> View:
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def in_practice_time(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            # Rendered inside the override: a template response would
            # otherwise render after the view returns, in the server's zone.
            with timezone.override(practice_profile().zone):
                response = inner(request, *args, **kwargs)
                if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                    response.render()
            return response

        return cast(View, in_practice_time)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path(
                "workspace/system/",
                self.admin_view(require_POST(self.system_settings_toggle)),
                name="workspace_system",
            ),
            *super().get_urls(),
        ]

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        # One app's own page (/admin/<app_label>/) keeps Django's listing.
        if app_label is not None:
            return super().get_app_list(request, app_label)
        return [
            section
            for section in self.workspace_sections(request)
            if section["section"] != Section.SYSTEM or system_shown(request)
        ]

    def workspace_sections(self, request: HttpRequest) -> list[dict[str, Any]]:
        """Every list this user may see, grouped by section, in the shape of Django's app list.

        Lists reached from their parent record (``workspace_section = None``) are left out.
        """
        grouped: dict[Section, list[dict[str, Any]]] = defaultdict(list)
        for app in super().get_app_list(request):
            for entry in app["models"]:
                section = section_of(self._registry[entry["model"]])
                if section is not None:
                    grouped[section].append(entry)
        return [
            {
                "name": section.label,
                "app_label": f"section-{section.value}",
                "app_url": "",
                "has_module_perms": True,
                "models": sorted(grouped[section], key=lambda entry: entry["name"]),
                "section": section,
            }
            for section in Section
            if grouped[section]
        ]

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        context["workspace_system_shown"] = system_shown(request)
        return context

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        # Not Django's index: it would build the app list a second time for a
        # page that shows it only in the sidebar.
        now = timezone.now()
        context = {
            **self.each_context(request),
            "title": self.index_title,
            "subtitle": None,
            "panels": panels_shown(request, now=now),
            "today": timezone.localdate(now),
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, self.index_template or "admin/index.html", context)

    def system_settings_toggle(self, request: HttpRequest) -> HttpResponse:
        """Show or hide the system section of the sidebar (POST ``show=1`` or ``0``)."""
        request.session[SHOW_SYSTEM_SESSION_KEY] = request.POST.get("show") == "1"
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(back)

    def check(self, app_configs: Any) -> list[checks.CheckMessage]:
        errors = list(super().check(app_configs))
        for model_admin in self._registry.values():
            value = getattr(model_admin, "workspace_section", Section.SYSTEM)
            if value is not None and value not in Section.values:
                errors.append(
                    checks.Error(
                        f"workspace_section {value!r} is not one of {Section.values} or None.",
                        obj=model_admin.__class__,
                        id="practice.E001",
                    )
                )
        return errors
