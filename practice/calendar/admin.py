"""The therapist's availability and calendar in the admin."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminTimeWidget
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import time_format
from django.utils.html import format_html

from practice.admin_actions import service_action
from practice.admin_site import Section

from .display import AppointmentWith, appointments_with
from .feed import calendar_feed_token_create, calendar_feed_token_revoke, calendar_feed_url
from .models import (
    Appointment,
    AppointmentKind,
    AvailabilityException,
    CalendarFeedToken,
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


@admin.register(CalendarFeedToken)
class CalendarFeedTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Her calendar subscription link: make a new one (shown once) or turn it off.

    Rows are the history of links (when made, last fetched, turned off); only
    a fingerprint of each is kept, so a link can be shown only on the page
    that made it.
    """

    workspace_section = Section.CALENDAR
    list_display = ["created_at", "state", "last_used_at", "revoked_at"]
    change_list_template = "admin/practice/calendarfeedtoken/change_list.html"

    @admin.display(description="state")
    def state(self, obj: CalendarFeedToken) -> str:
        return "Active" if obj.is_active else "Turned off"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made by the "new link" button, never typed in

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _may_manage(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("practice.add_calendarfeedtoken"))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        context = {
            "may_manage": self._may_manage(request),
            "has_active": CalendarFeedToken.objects.active().exists(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "new/",
                self.admin_site.admin_view(self.new_link_view),
                name="practice_calendarfeedtoken_new",
            ),
            path(
                "revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="practice_calendarfeedtoken_revoke",
            ),
            *super().get_urls(),
        ]

    def new_link_view(self, request: HttpRequest) -> HttpResponse:
        """POST: a new link (the old one stops working), shown on this page only."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self._may_manage(request):
            raise PermissionDenied
        token = calendar_feed_token_create()
        made = CalendarFeedToken.objects.active().get()
        self.log_addition(request, made, "Made a new calendar subscription link.")
        url = calendar_feed_url(token)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Your calendar subscription link",
            "feed_url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[1],
            "changelist_url": reverse("admin:practice_calendarfeedtoken_changelist"),
        }
        response = TemplateResponse(request, "admin/practice/calendarfeedtoken/made.html", context)
        # The link is in this page alone: nothing may keep a copy of it.
        response["Cache-Control"] = "no-store"
        return response

    def revoke_view(self, request: HttpRequest) -> HttpResponse:
        """POST: turn the link off; her calendar apps get a 404 from now on."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self._may_manage(request):
            raise PermissionDenied
        active = CalendarFeedToken.objects.active().first()
        if calendar_feed_token_revoke() and active is not None:
            self.log_change(request, active, "Turned the calendar subscription link off.")
            self.message_user(request, "The calendar subscription link is off.")
        else:
            self.message_user(request, "There was no active link.", level=messages.WARNING)
        return HttpResponseRedirect(reverse("admin:practice_calendarfeedtoken_changelist"))
