"""Safety flags: open ones first, closed only by "Acknowledge with a note".

A safety flag stays open, first in its list, until the therapist
acknowledges it with a note (``safety_flag_acknowledge``).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from practice.admin_audit import AuditedAdminMixin
from practice.admin_site import Section
from practice.models import Client, User

from ..models import SafetyFlag, SafetyFlagStatus
from ..services import safety_flag_acknowledge
from ..services.safety import NOTE_REQUIRED
from .common import her_preparation_link


class AcknowledgeFlagsForm(forms.Form):
    note = forms.CharField(
        label="What you did about it",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Required. Kept on her record, encrypted.",
        error_messages={"required": NOTE_REQUIRED},
    )


@admin.register(SafetyFlag)
class SafetyFlagAdmin(AuditedAdminMixin):
    """Signs of risk, open ones first; "Acknowledge with a note" is the one way to close one."""

    workspace_section = Section.CLIENTS
    list_display = [
        "__str__",
        "client",
        "source",
        "raised_at",
        "status",
        "acknowledged_by",
        "acknowledged_at",
        "preparation",
    ]
    list_filter = ["status", "source"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client", "acknowledged_by"]
    readonly_fields = fields = (
        "client",
        "source",
        "screening_response",
        "raised_at",
        "status",
        "acknowledge",
        "acknowledged_by",
        "acknowledged_at",
        "acknowledgement_note",
    )
    actions = ["acknowledge_selected"]

    def audit_client(self, obj: object) -> Client | None:
        return obj.client if isinstance(obj, SafetyFlag) else None

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        open_first = Case(When(status=SafetyFlagStatus.OPEN, then=Value(0)), default=Value(1))
        return [open_first.asc(), "-raised_at", "-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # raised by her answers only

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # part of her record

    @admin.display(description="Her record")
    def preparation(self, flag: SafetyFlag) -> str:
        return her_preparation_link(flag.client_id)

    @admin.display(description="Acknowledge")
    def acknowledge(self, flag: SafetyFlag) -> str:
        if not flag.is_open:
            return "Acknowledged."
        return format_html(
            '<a class="button" href="{}?ids={}">Acknowledge with a note</a>',
            reverse("admin:kap_sessions_safetyflag_acknowledge"),
            flag.pk,
        )

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns, whose "<object_id>/" would take it.
        return [
            path(
                "acknowledge/",
                self.admin_site.admin_view(self.acknowledge_view),
                name="kap_sessions_safetyflag_acknowledge",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Acknowledge with a note", permissions=["change"])
    def acknowledge_selected(
        self, request: HttpRequest, queryset: QuerySet[SafetyFlag]
    ) -> HttpResponse | None:
        ids = [
            str(pk)
            for pk in queryset.filter(status=SafetyFlagStatus.OPEN).values_list("pk", flat=True)
        ]
        if not ids:
            self.message_user(request, "None of these flags is open.", messages.WARNING)
            return None
        url = reverse("admin:kap_sessions_safetyflag_acknowledge")
        return HttpResponseRedirect(f"{url}?ids={','.join(ids)}")

    def acknowledge_view(self, request: HttpRequest) -> HttpResponse:
        """One note for the chosen open flags (``?ids=3,5``); each is closed by the service.

        Then back to ``next`` (the client page her panel came from) when it is
        a page of this site, else to the flag list.
        """
        if not self.has_change_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else request.GET
        ids = [int(part) for part in data.get("ids", "").split(",") if part.strip().isdigit()]
        flags = list(SafetyFlag.objects.open().filter(pk__in=ids))
        back_to = _safe_next(request, data.get("next", ""))
        back = back_to or reverse("admin:kap_sessions_safetyflag_changelist")
        if not flags:
            self.message_user(request, "There is no open flag to acknowledge.", messages.WARNING)
            return HttpResponseRedirect(back)
        form = AcknowledgeFlagsForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            actor = cast(User, request.user)
            for flag in flags:
                safety_flag_acknowledge(flag=flag, actor=actor, note=form.cleaned_data["note"])
            self.message_user(
                request, f"{len(flags)} flag(s) acknowledged with your note.", messages.SUCCESS
            )
            return HttpResponseRedirect(back)
        return render(
            request,
            "kap_sessions/admin/safety_acknowledge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Acknowledge with a note",
                "opts": self.opts,
                "form": form,
                "flags": flags,
                "ids": ",".join(str(flag.pk) for flag in flags),
                "next": back_to,
                "back": back,
            },
        )


def _safe_next(request: HttpRequest, wanted: str) -> str:
    """``wanted`` when it is a page of this site (never another host), else ""."""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return ""
