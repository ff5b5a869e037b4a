from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from . import audit_panels
from .admin_audit import AuditedAdminMixin
from .admin_invitations import portal_invitation_panel
from .admin_mixins import ReadOnlyAdminMixin
from .admin_site import Section
from .calendar.display import in_practice_time
from .client_panels import client_panels_shown
from .client_records import USState
from .invitations import client_invite
from .models import AuditEvent, Client, PracticeProfile, User, WorkerHeartbeat
from .privacy_admin import client_export_panel, client_export_view


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    workspace_section = Section.SETTINGS
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class PracticeProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    # The JSON list of two-letter codes, edited as one box per state.
    licensed_states = forms.MultipleChoiceField(
        label="Licensed states",
        choices=USState.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Where the therapist may see clients by video; a video session "
        "with the client in another state is flagged.",
    )

    class Meta:
        model = PracticeProfile
        fields = ["licensed_states"]  # the admin adds its fieldsets

    def clean_licensed_states(self) -> list[str]:
        return sorted(self.cleaned_data["licensed_states"])


@admin.register(PracticeProfile)
class PracticeProfileAdmin(admin.ModelAdmin):
    form = PracticeProfileForm
    # Links typed without a scheme are taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    workspace_section = Section.SETTINGS
    fieldsets = (
        ("The practice", {"fields": ("practice_name", "tagline", "time_zone", "terms_version")}),
        (
            "The therapist",
            {
                "fields": (
                    "therapist_name",
                    "therapist_credentials",
                    "license_number",
                    "therapist_bio",
                )
            },
        ),
        (
            "Contact",
            {
                "fields": (
                    "phone",
                    "email",
                    "street_address",
                    "locality",
                    "region",
                    "postal_code",
                    "country",
                )
            },
        ),
        ("Video calls", {"fields": ("video_room_url", "licensed_states")}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not PracticeProfile.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(AuditedAdminMixin):
    workspace_section = Section.CLIENTS
    change_form_template = "practice/admin/client_change_form.html"
    list_display = ["full_name", "email", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["first_name", "last_name", "preferred_name", "email"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["user"]
    fieldsets = (
        (None, {"fields": ("first_name", "last_name", "preferred_name", "status")}),
        ("Contact", {"fields": ("email", "phone", "date_of_birth")}),
        # She keeps these up to date on /portal/profile/ (and her intake asks them).
        (
            "Where she lives and who to call",
            {"fields": ("state", "time_zone", *Client.PEOPLE_FIELDS)},
        ),
        ("Portal", {"fields": ("user",)}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    # --- The portal invitation (practice/invitations.py) ----------------------

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Client | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context["portal_invitation"] = portal_invitation_panel(
                obj,
                invite_url=reverse("admin:practice_client_invite", args=[obj.pk])
                if self.has_change_permission(request, obj)
                else "",
            )
            # Her record at a glance (practice/client_panels.py), on the GET
            # that change_view audits: that one "view" line covers every
            # panel's reads. A form sent back with errors shows the form alone.
            if request.method == "GET":
                context["client_panels"] = client_panels_shown(
                    request, client=obj, now=timezone.now()
                )
            # Her whole record as a ZIP (practice/privacy_admin.py), audited as an export.
            context["client_export"] = client_export_panel(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns, whose "<object_id>/" would take it.
        return [
            path(
                "<path:object_id>/invite/",
                self.admin_site.admin_view(self.invite_view),
                name="practice_client_invite",
            ),
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="practice_client_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return client_export_view(self, request, object_id)

    def invite_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            self.message_user(request, "That client no longer exists.", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:practice_client_changelist"))
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:practice_client_change", args=[obj.pk]))
        if request.method != "POST":
            return back
        try:
            invitation = client_invite(client=obj, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.ERROR)
            return back
        self.message_user(
            request,
            f"Portal invitation sent to {obj.email}. The link works until "
            f"{in_practice_time(invitation.expires_at)}.",
            messages.SUCCESS,
        )
        return back


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # For an inspection or a question about who saw a record, not for her day.
    workspace_section = Section.SYSTEM
    # Who and whose are plain ids (kept when a user or a client is gone).
    list_display = [
        "at",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "client_id",
        "outcome",
        "ip_address",
    ]
    list_filter = ["action", "outcome", "object_type"]
    search_fields = ["=object_id", "object_type"]
    date_hierarchy = "at"
    # The log is append-only: nobody edits or deletes it from the admin.

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns, whose "<object_id>/" would take this:
        # her access history as CSV (practice/audit_panels.py), linked from her page.
        return [
            path(
                "client/<int:client_id>/history.csv",
                self.admin_site.admin_view(audit_panels.access_history_csv),
                name="practice_auditevent_client_csv",
            ),
            *super().get_urls(),
        ]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    workspace_section = Section.SYSTEM
    # Written by the workers themselves; /healthz reads only the newest.
    list_display = ["hostname", "seen_at"]
