"""The therapist's consultation list: upcoming first, intake read-only, audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from practice.admin_actions import service_action
from practice.admin_audit import AuditedAdminMixin
from practice.models import Appointment, Client

from .forms import AdminCancelForm
from .models import INTAKE_FIELDS, Consultation, WaitlistEntry
from .services import consultation_convert_to_client, consultation_transition


class WhenFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("upcoming", "Upcoming"), ("today", "Today"), ("past", "Past")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:  # type: ignore[type-arg]
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(appointment__start__gte=now)
        if self.value() == "past":
            return queryset.filter(appointment__start__lt=now)
        if self.value() == "today":
            today = timezone.localdate()
            return queryset.filter(appointment__start__date=today)
        return queryset


def _transition_action(to: str, label: str):  # type: ignore[no-untyped-def]
    return service_action(
        name=f"mark_{to}",
        label=label,
        apply=lambda consultation: consultation_transition(consultation=consultation, to=to),
        done=lambda count: (
            f"{count} consultation(s) marked {Appointment.Status(to).label.lower()}."
        ),
    )


@admin.register(Consultation)
class ConsultationAdmin(AuditedAdminMixin):
    list_display = [
        "full_name",
        "email",
        "start_display",
        "status_display",
        "mode_display",
        "client",
    ]
    list_filter = [WhenFilter, "appointment__status", "appointment__mode"]
    date_hierarchy = "appointment__start"
    search_fields = ["first_name", "last_name", "email"]
    list_select_related = ["appointment", "client"]
    readonly_fields = [
        "start_display",
        "status_display",
        "mode_display",
        "time_zone",
        "created_at",
        "client",
        "cancelled_by",
        "cancel_reason",
        "cancel_note",
        *INTAKE_FIELDS,
    ]
    fieldsets = (
        (None, {"fields": ("start_display", "status_display", "mode_display", "client")}),
        (
            "Contact",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "preferred_contact",
                    "time_zone",
                )
            },
        ),
        ("Intake (as she wrote it)", {"fields": INTAKE_FIELDS}),
        ("History", {"fields": ("created_at", "cancelled_by", "cancel_reason", "cancel_note")}),
    )
    actions = [
        _transition_action(Appointment.Status.COMPLETED, "Mark completed"),
        _transition_action(Appointment.Status.NO_SHOW, "Mark no-show"),
        "cancel_with_note",
        "convert_to_client",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Consultation]:
        now = timezone.now()
        # Upcoming first (soonest at the top), then the past (latest first).
        # Not super(): it orders before the annotations that the ordering uses.
        queryset = Consultation.objects.select_related("appointment", "client").annotate(
            is_past=Case(
                When(appointment__start__lt=now, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            upcoming_start=Case(When(appointment__start__gte=now, then=F("appointment__start"))),
        )
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request: HttpRequest) -> list[Any]:  # type: ignore[override]
        # Given here rather than in get_queryset: the change list would put the
        # model's default (newest booking first) ahead of a queryset's order.
        return ["is_past", F("upcoming_start").asc(nulls_last=True), "-appointment__start"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Consultations are booked through the public page so the calendar,
        # reminders and emails are all set up the same way.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def audit_client(self, obj: Any) -> Client | None:
        return obj.client if isinstance(obj, Consultation) else None

    @admin.display(description="When (practice time)", ordering="appointment__start")
    def start_display(self, obj: Consultation) -> str:
        local = timezone.localtime(obj.appointment.start)
        return f"{local:%a %b} {local.day}, {local:%Y %H:%M}"

    @admin.display(description="Status", ordering="appointment__status")
    def status_display(self, obj: Consultation) -> str:
        return obj.appointment.get_status_display()

    @admin.display(description="How", ordering="appointment__mode")
    def mode_display(self, obj: Consultation) -> str:
        return obj.appointment.get_mode_display()

    @admin.action(description="Cancel, with a note to her", permissions=["change"])
    def cancel_with_note(
        self, request: HttpRequest, queryset: QuerySet[Consultation]
    ) -> HttpResponse | None:
        form = AdminCancelForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            cancelled = 0
            for consultation in queryset:
                try:
                    consultation_transition(
                        consultation=consultation,
                        to=Appointment.Status.CANCELLED,
                        by=Consultation.CancelledBy.PRACTICE,
                        note=form.cleaned_data["note"],
                    )
                    cancelled += 1
                except ValidationError as exc:
                    self.message_user(
                        request, f"{consultation}: {exc.messages[0]}", messages.WARNING
                    )
            if cancelled:
                self.message_user(
                    request,
                    f"{cancelled} consultation(s) cancelled; she has been emailed.",
                    messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "consultations/admin/cancel_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": "Cancel consultations",
                "opts": self.model._meta,
                "queryset": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Convert to a client record", permissions=["change"])
    def convert_to_client(self, request: HttpRequest, queryset: QuerySet[Consultation]) -> None:
        for consultation in queryset:
            client = consultation_convert_to_client(consultation=consultation, actor=request.user)  # type: ignore[arg-type]
            self.message_user(
                request,
                f"{consultation.full_name} is linked to client #{client.pk}.",
                messages.SUCCESS,
            )


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "email", "preferred_times", "status", "created_at", "notified_at"]
    list_filter = ["status"]
    search_fields = ["name", "email"]
    readonly_fields = ["created_at", "notified_at"]
