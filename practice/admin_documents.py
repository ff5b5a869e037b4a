"""The therapist's view of clients' private documents: upload, list, download.

Every document is listed with a download link that goes through
``private_file_response`` (hash checked, audit line naming who downloaded
which document). The therapist uploads a file for a client here: the upload
field checks its size and its type by content, and ``private_file_save``
keeps it outside anything the web server serves. The bytes of a kept
document never change and documents are not deleted from the admin (a
signed consent's PDF is evidence); the title and whether she sees it in
her portal can be changed, except on a signed consent, which is view-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from .admin_actions import admin_actor
from .admin_audit import AuditedAdminMixin
from .models import Client, ClientDocument
from .private_files import PrivateUploadField, private_file_response, private_file_save


class ClientDocumentUploadForm(forms.ModelForm):  # type: ignore[type-arg]
    file = PrivateUploadField(
        help_text="A PDF, or a PNG or JPEG picture. Checked by its content, not its name."
    )

    class Meta:
        model = ClientDocument
        fields = ["client", "title", "visible_to_client", "file"]


@admin.register(ClientDocument)
class ClientDocumentAdmin(AuditedAdminMixin):
    workspace_section = None  # from her client page (the documents panel)
    list_display = ["title", "client", "kind", "file_type", "file_size", "created_at", "download"]
    list_filter = ["kind", "visible_to_client", "content_type"]
    search_fields = ["title", "client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client"]
    raw_id_fields = ["client"]
    date_hierarchy = "created_at"
    # Everything the file is (its bytes, hash, type, whose it is) stays as written.
    readonly_fields = [
        "client",
        "kind",
        "content_type",
        "file_size",
        "sha256",
        "created_at",
        "created_by",
        "download",
    ]

    def audit_client(self, obj: Any) -> Client | None:
        return obj.client if isinstance(obj, ClientDocument) else None

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClientDocument]:
        return super().get_queryset(request).select_related("client", "created_by")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ClientDocumentUploadForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is None:
            return ["client", "title", "visible_to_client", "file"]
        return ["title", "visible_to_client", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A signed consent's PDF is part of the signature: shown, never changed.
        if isinstance(obj, ClientDocument) and obj.kind == ClientDocument.Kind.SIGNED_CONSENT:
            return False
        return super().has_change_permission(request, obj)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        instance = form.save(commit=False)  # also readies save_m2m for the admin
        if change:
            return instance
        upload = form.cleaned_data["file"]
        # The admin's transaction holds the row and the file: a failure after
        # this (the audit line, say) removes both.
        return private_file_save(
            client=form.cleaned_data["client"],
            kind=ClientDocument.Kind.UPLOAD,
            title=form.cleaned_data["title"],
            content=upload.content,
            content_type=upload.content_type,
            created_by=admin_actor(request),
            visible_to_client=form.cleaned_data["visible_to_client"],
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:  # a new one was saved by save_form, with its file
            obj.save(update_fields=["title", "visible_to_client"])

    @admin.display(description="type")
    def file_type(self, obj: ClientDocument) -> str:
        return obj.get_content_type_display()

    @admin.display(description="size")
    def file_size(self, obj: ClientDocument) -> str:
        return filesizeformat(obj.size)

    @admin.display(description="file")
    def download(self, obj: ClientDocument) -> str:
        if obj.pk is None:
            return "–"
        url = reverse("admin:practice_clientdocument_download", args=[obj.pk])
        return format_html('<a href="{}">Download</a>', url)

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns, whose "<object_id>/" would take this.
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="practice_clientdocument_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        document = self.get_object(request, unquote(object_id))
        if document is None:
            raise Http404("No such document.")
        if not self.has_view_permission(request, document):
            raise PermissionDenied
        return private_file_response(request, document)
