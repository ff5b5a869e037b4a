"""Consent documents, version by version, and the signatures clients made.

A draft is published, and a published text changed, only through the
``consent_document_*`` services; signatures are read-only, every opening audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from practice.admin_actions import admin_actor, service_action
from practice.admin_audit import AuditedAdminMixin
from practice.admin_mixins import ReadOnlyAdminMixin
from practice.admin_site import Section
from practice.models import Client

from ..models import ConsentDocument, ConsentSignature
from ..services.consent import (
    consent_document_new_version,
    consent_document_next_version,
    consent_document_publish,
)


def _clients_to_sign_again(document: ConsentDocument) -> int:
    """Clients whose valid signature of this kind is on an older version."""
    return (
        ConsentSignature.objects.valid()
        .filter(document__kind=document.kind, document__version__lt=document.version)
        .values("client")
        .distinct()
        .count()
    )


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The consent texts clients sign, version by version.

    A draft is edited here and published with the Publish button (or the
    action); from then on its text is read-only, and a change is made in a
    new version (the "New version" button copies it into a draft). Clients
    who signed an older version are asked to sign the new one in their portal.
    """

    workspace_section = Section.SETTINGS
    change_form_template = "kap_sessions/admin/consentdocument_change_form.html"
    list_display = ["title", "kind", "version", "state", "published_at", "valid_signatures"]
    list_filter = ["kind", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["title"]
    ordering = ["kind", "-version"]
    actions = [
        service_action(
            name="publish",
            label="Publish the selected drafts",
            apply_with_request=lambda request, document: consent_document_publish(
                document=document, actor=admin_actor(request)
            ),
            done=lambda count: f"{count} document(s) published.",
            skip=lambda document: "already published." if document.is_published else None,
        )
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConsentDocument]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                valid_signature_count=Count(
                    "signatures", filter=Q(signatures__superseded_by__isnull=True)
                )
            )
        )

    def get_fields(self, request: HttpRequest, obj: ConsentDocument | None = None) -> list[Any]:
        if obj is None:
            return ["kind", "title", "body", "internal_note"]
        return ["kind", "version", "state", "title", "body", "internal_note", "published_at"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ConsentDocument | None = None
    ) -> list[str]:
        if obj is None:
            return []
        if obj.is_published:
            # What clients read and signed; only the practice's own note changes.
            return ["kind", "version", "state", "title", "body", "published_at"]
        return ["kind", "version", "state", "published_at"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # A published version is evidence of what was signed; drafts are
        # deleted one at a time from their own page.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if isinstance(obj, ConsentDocument) and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: ConsentDocument, form: Any, change: bool
    ) -> None:
        if not change:
            obj.version = consent_document_next_version(obj.kind)
            obj.created_by = admin_actor(request)
        super().save_model(request, obj, form, change)

    @admin.display(description="state")
    def state(self, obj: ConsentDocument) -> str:
        return "Published" if obj.is_published else "Draft"

    @admin.display(description="valid signatures", ordering="valid_signature_count")
    def valid_signatures(self, obj: ConsentDocument) -> int:
        return getattr(obj, "valid_signature_count", 0)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ConsentDocument | None = None,
    ) -> HttpResponse:
        if obj is not None and self.has_change_permission(request, obj):
            name = "new_version" if obj.is_published else "publish"
            context["consent_step"] = {
                "name": name,
                "url": reverse(f"admin:kap_sessions_consentdocument_{name}", args=[obj.pk]),
                "label": "New version" if obj.is_published else "Publish",
                "help": (
                    "Copies this text into a draft of the next version."
                    if obj.is_published
                    else "Clients who signed an earlier version will be asked to sign this one."
                ),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns, whose "<object_id>/" would take these.
        return [
            path(
                "<path:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="kap_sessions_consentdocument_publish",
            ),
            path(
                "<path:object_id>/new-version/",
                self.admin_site.admin_view(self.new_version_view),
                name="kap_sessions_consentdocument_new_version",
            ),
            *super().get_urls(),
        ]

    def _step_target(self, request: HttpRequest, object_id: str) -> ConsentDocument:
        document = self.get_object(request, unquote(object_id))
        if document is None:
            raise Http404("No such document.")
        if not self.has_change_permission(request, document):
            raise PermissionDenied
        return document

    def _change_page(self, document: ConsentDocument) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:kap_sessions_consentdocument_change", args=[document.pk])
        )

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        document = self._step_target(request, object_id)
        if request.method != "POST":
            return self._change_page(document)
        try:
            document = consent_document_publish(document=document, actor=admin_actor(request))
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.WARNING)
            return self._change_page(document)
        again = _clients_to_sign_again(document)
        self.message_user(
            request,
            f"Version {document.version} is published. "
            + (
                f"{again} client(s) who signed an earlier version are asked to sign it "
                "before their next dosing session."
                if again
                else "Clients sign it from their portal."
            ),
            messages.SUCCESS,
        )
        return self._change_page(document)

    def new_version_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        document = self._step_target(request, object_id)
        if request.method != "POST":
            return self._change_page(document)
        draft = consent_document_new_version(document=document, actor=admin_actor(request))
        self.message_user(
            request,
            f"Version {draft.version} is a draft: edit it, then publish it.",
            messages.SUCCESS,
        )
        return self._change_page(draft)


SIGNATURE_FIELDS: tuple[str, ...] = (
    "client",
    "document",
    "typed_name",
    "signed_at",
    "ip_address",
    "user_agent",
    "text_sha256",
    "signed_pdf",
    "superseded_by",
)


@admin.register(ConsentSignature)
class ConsentSignatureAdmin(ReadOnlyAdminMixin, AuditedAdminMixin):
    """Signatures as signed: read-only, every opening audited, the PDF one click away."""

    workspace_section = None  # from her client page (the consents panel)
    list_display = ["client", "document", "signed_at", "valid", "signed_pdf"]
    list_filter = ["document__kind", ("superseded_by", admin.EmptyFieldListFilter)]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client", "document"]
    date_hierarchy = "signed_at"
    fields = SIGNATURE_FIELDS
    readonly_fields = SIGNATURE_FIELDS

    def audit_client(self, obj: object) -> Client | None:
        return obj.client if isinstance(obj, ConsentSignature) else None

    @admin.display(description="valid", boolean=True)
    def valid(self, obj: ConsentSignature) -> bool:
        return not obj.is_superseded

    @admin.display(description="signed PDF")
    def signed_pdf(self, obj: ConsentSignature) -> str:
        if obj.pdf_id is None:
            return "–"
        url = reverse("admin:practice_clientdocument_download", args=[obj.pdf_id])
        return format_html('<a href="{}">Download</a>', url)
