"""Small mixins shared by the admins of every app."""

from __future__ import annotations

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """An admin that lists and shows rows but never adds, changes or deletes one.

    For records the code keeps (the audit log, worker heartbeats, exports of
    reader data, sends of a campaign): what they say happened must stay as it
    was written. Put it before ``admin.ModelAdmin`` among the bases.
    """

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
