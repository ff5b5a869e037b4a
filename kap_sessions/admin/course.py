"""The therapist's list of KAP courses: phase moves go through ``course_advance``.

The phase is read-only on the change form; the actions below are the way to
move a course, one service call (and one audit line naming her) per row.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.http import HttpRequest

from practice.admin_actions import admin_actor, service_action
from practice.admin_audit import AuditedAdminMixin
from practice.admin_site import Section
from practice.models import Client

from ..models import Course
from ..services import course_advance


def _advance_action(to: str, label: str) -> Callable[..., None]:
    def advance(request: HttpRequest, course: Course) -> Course:
        actor = admin_actor(request)
        return course_advance(course=course, to=to, actor=actor)

    return service_action(
        name=f"move_to_{to}",
        label=label,
        apply_with_request=advance,
        done=lambda count: f"{count} course(s) moved.",
    )


@admin.register(Course)
class CourseAdmin(AuditedAdminMixin):
    workspace_section = Section.CLIENTS
    list_display = ["__str__", "client", "phase", "started_on", "phase_changed_at"]
    list_filter = ["phase"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client"]
    raw_id_fields = ["client"]
    readonly_fields = ["phase", "phase_changed_at", "closed_on", "created_at"]
    actions = [
        _advance_action(Course.Phase.DOSING, "Move to dosing"),
        _advance_action(Course.Phase.INTEGRATION, "Move to integration"),
        _advance_action(Course.Phase.COMPLETED, "Mark completed"),
        _advance_action(Course.Phase.WITHDRAWN, "Mark withdrawn"),
    ]

    def audit_client(self, obj: object) -> Client | None:
        return obj.client if isinstance(obj, Course) else None
