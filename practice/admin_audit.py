"""Audit every view and export of a client's record made in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse

from .models import AuditEvent, Client
from .services import audit_record


class AuditedAdminMixin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Record an audit event whenever a staff member opens or saves a record.

    Subclasses whose model is not ``Client`` override :meth:`audit_client` to
    say whose record an object belongs to.
    """

    def audit_client(self, obj: models.Model) -> Client | None:
        return obj if isinstance(obj, Client) else None

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
        except PermissionDenied:
            # Staff without the permission asked for a record: the refusal is
            # part of who saw what (the model and the id asked for, nothing more).
            audit_record(
                actor=request.user,  # type: ignore[arg-type]
                action=AuditEvent.Action.VIEW,
                obj=self.model,
                object_id=str(object_id)[:64],
                request=request,
                outcome=AuditEvent.Outcome.REFUSED,
            )
            raise
        if request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, object_id)
            if obj is not None:
                audit_record(
                    actor=request.user,  # type: ignore[arg-type]
                    action=AuditEvent.Action.VIEW,
                    obj=obj,
                    client=self.audit_client(obj),
                    request=request,
                )
        return response

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditEvent.Action.CHANGE,
            obj=obj,
            client=self.audit_client(obj),
            request=request,
        )
        return super().log_change(request, obj, message)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditEvent.Action.CREATE,
            obj=obj,
            client=self.audit_client(obj),
            request=request,
        )
        return super().log_addition(request, obj, message)
