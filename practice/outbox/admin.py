"""Outgoing emails in the admin: what waits, what was sent, what failed."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from practice.admin_actions import service_action
from practice.admin_site import Section

from .models import OutboxMessage
from .services import outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    # Hers to watch: a failed email is sent again from here (the Today page links it).
    workspace_section = Section.SETTINGS
    list_display = [
        "kind",
        "status",
        "not_before",
        "failure_count",
        "last_error",
        "finished_at",
    ]
    list_filter = ["status", "kind"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "kind",
        "status",
        "object_type",
        "object_id",
        "recipient",
        "not_before",
        "failure_count",
        "last_error",
        "created_at",
        "finished_at",
    ]
    exclude = ["params"]
    actions = [
        service_action(
            name="send_again",
            label="Send the selected failed emails again",
            apply=lambda message: outbox_retry(message=message),
            done=lambda count: f"{count} email(s) will be sent again.",
            skip=lambda message: (
                None if message.status == OutboxMessage.Status.FAILED else "only a failed email"
            ),
        )
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Viewing only; the action above is the one change she can make.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
