"""The therapist's availability and calendar in the admin."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminTimeWidget
from django.db import models
from django.http import HttpRequest
from django.utils.formats import time_format
from django.utils.html import format_html

from practice.admin_actions import service_action
from practice.admin_site import Section

from .display import AppointmentWith, appointments_with
from .models import (
    Appointment,
    AppointmentKind,
    AvailabilityException,
    KindSettings,
    WeeklyHours,
)
from .services import SlotUnavailable, appointment_book, appointment_transition


class TimeOfDayWidget(AdminTimeWidget):
    """A time of day as she reads it, "9:00 AM" (no seconds, no leading zero).

    Typed back as "9:00 AM", "9 am" or "09:00": the formats' ``TIME_INPUT_FORMATS``.
    """

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, time):
            return time_format(value)
        return super().format_value(value)  # type: ignore[no-any-return]


TIME_OF_DAY: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.TimeField: {"widget": TimeOfDayWidget}
}


@admin.register(WeeklyHours)
class WeeklyHoursAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    workspace_section = Section.CALENDAR
    formfield_overrides = TIME_OF_DAY
    list_display = ["__str__", "weekday", "start_time", "end_time"]
    list_editable = ["start_time", "end_time"]
    list_filter = ["weekday"]


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    workspace_section = Section.CALENDAR
    formfield_overrides = TIME_OF_DAY
    list_display = ["__str__", "effect", "first_day", "last_day", "start_time", "end_time", "note"]
    list_filter = ["effect"]
    date_hierarchy = "first_day"


@admin.register(KindSettings)
class KindSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    workspace_section = Section.CALENDAR
    list_display = [
        "kind",
        "duration_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "minimum_notice_hours",
        "horizon_days",
        "daily_cap",
    ]


class AppointmentAddForm(forms.ModelForm):  # type: ignore[type-arg]
    """Placing time by hand: booked through the calendar service once the form is valid.

    The booking happens here rather than in ``save_model`` so that an overlap
    comes back as a message on the form, not as an error page.
    """

    class Meta:
        model = Appointment
        fields = ["kind", "start", "client", "title"]

    def _post_clean(self) -> None:
        # _post_clean is Django's hook after field cleaning; the stubs omit it.
        super()._post_clean()  # type: ignore[misc]
        if self.errors:
            return
        data = self.cleaned_data
        try:
            self.instance = appointment_book(
                kind=data["kind"],
                start=data["start"],
                client_id=data["client"].pk if data.get("client") else None,
                title=data.get("title", ""),
                offered_only=False,
            )
        except SlotUnavailable:
            self.add_error(None, "That time overlaps another appointment (with its buffers).")


def _status_action(to: str, label: str):  # type: ignore[no-untyped-def]
    return service_action(
        name=f"mark_{to}",
        label=label,
        apply=lambda appointment: appointment_transition(appointment=appointment, to=to),
        done=lambda count: f"{count} appointment(s) changed.",
        # Her emails and the waitlist hang off the consultation's own actions;
        # changing only the calendar row would skip them.
        skip=lambda appointment: (
            "change free consultations from the consultations list."
            if appointment.kind == AppointmentKind.CONSULTATION
            else None
        ),
    )


class AppointmentChangeList(ChangeList):
    """The change list, with who each appointment on the page is with.

    Asked once for the whole page (``appointments_with``: a query per kind, not
    per row) and kept on each row for the "With" column.
    """

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        found = appointments_with(self.result_list)
        for appointment in self.result_list:
            appointment.shown_with = found[appointment.pk]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every kind of appointment. Free consultations are managed from their own list."""

    workspace_section = Section.CALENDAR
    list_display = ["start", "end", "kind", "status", "with_display", "mode"]
    list_filter = ["kind", "status"]
    date_hierarchy = "start"
    list_select_related = ["client"]
    raw_id_fields = ["client"]
    search_fields = ["title", "client__first_name", "client__last_name"]
    actions = [
        _status_action(Appointment.Status.CANCELLED, "Cancel (frees the time)"),
        _status_action(Appointment.Status.COMPLETED, "Mark completed"),
        _status_action(Appointment.Status.NO_SHOW, "Mark no-show"),
    ]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return AppointmentChangeList

    @admin.display(description="With")
    def with_display(self, obj: Appointment) -> str:
        shown: AppointmentWith | None = getattr(obj, "shown_with", None)
        if shown is None:  # the change page: one appointment
            shown = appointments_with([obj])[obj.pk]
        if not shown.record_url:
            return shown.name
        return format_html(
            '{} (<a href="{}">{}</a>)', shown.name, shown.record_url, shown.record_label.lower()
        )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = AppointmentAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Times and status change through the services (move, cancel,
        # complete), never by editing the row, so buffers and reminders stay
        # right.
        if obj is None:
            return []
        return [
            "kind",
            "with_display",
            "start",
            "end",
            "status",
            "status_changed_at",
            "rescheduled_to",
        ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["kind", "start", "client", "title"]
        return [
            "kind",
            "with_display",
            "start",
            "end",
            "status",
            "status_changed_at",
            "rescheduled_to",
            "client",
            "title",
        ]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["client", "title"])
        # On add, the form's clean() already booked the time through the service.

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"kind": AppointmentKind.BLOCKED}
