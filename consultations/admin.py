"""The therapist's consultations: upcoming first, intake read-only, audited.

A consultation's page is where she works through the call: its time in her
zone and the practice's, a tap-to-call phone, how they meet (with the video
link she gets), private call notes, and buttons for what comes next. Each
button posts to a small view of its own that calls the same service as the
list's bulk actions; a button that no longer applies (the state changed in
another tab, a double click) answers with a message, never an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from practice.admin_actions import service_action
from practice.admin_audit import AuditedAdminMixin
from practice.admin_site import Section
from practice.calendar.display import in_practice_time, tel_url
from practice.identity import practice_profile
from practice.models import Appointment, Client, MeetingMode
from practice.privacy_admin import erase_action

from .forms import AdminCancelForm, ConsultationAdminForm
from .models import INTAKE_FIELDS, Consultation, WaitlistEntry
from .privacy import consultation_erase
from .services import (
    consultation_convert_to_client,
    consultation_send_video_link,
    consultation_set_meeting,
    consultation_transition,
)
from .zones import in_two_zones, zone_label


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


def _already(consultation: Consultation) -> str:
    """Why a button no longer applies, in her words, from the consultation's state now."""
    appointment = consultation.appointment
    if appointment.status != Appointment.Status.BOOKED:
        return (
            "Nothing changed: this consultation is already "
            f"{appointment.get_status_display().lower()}."
        )
    if appointment.start > timezone.now():
        return "Nothing changed: the call has not started yet."
    return "Nothing changed: the time of the call has passed; mark it completed or no-show."


@admin.register(Consultation)
class ConsultationAdmin(AuditedAdminMixin):
    workspace_section = Section.CONSULTATIONS
    form = ConsultationAdminForm
    change_form_template = "consultations/admin/change_form.html"
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
        "when_display",
        "status_display",
        "mode_display",
        "phone_link",
        "zone_display",
        "video_link_display",
        "created_at",
        "client",
        "cancelled_by",
        "cancel_reason",
        "cancel_note",
        *INTAKE_FIELDS,
    ]
    fieldsets = (
        (None, {"fields": ("when_display", "status_display", "client")}),
        (
            "Contact",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "email",
                    ("phone", "phone_link"),
                    "preferred_contact",
                    "zone_display",
                )
            },
        ),
        ("How we meet", {"fields": ("meeting_mode", "video_url", "video_link_display")}),
        ("Intake (as she wrote it)", {"fields": INTAKE_FIELDS}),
        (
            "Call notes (private)",
            {
                "fields": ("call_notes",),
                "description": (
                    "Clinical, like the intake: never emailed, and every view and change "
                    "of this page is written to the audit log (without the notes)."
                ),
            },
        ),
        ("History", {"fields": ("created_at", "cancelled_by", "cancel_reason", "cancel_note")}),
    )
    actions = [
        _transition_action(Appointment.Status.COMPLETED, "Mark completed"),
        _transition_action(Appointment.Status.NO_SHOW, "Mark no-show"),
        "cancel_with_note",
        "convert_to_client",
        # On her request, for a request never converted into a client (a
        # converted one is refused: it is purged with her record).
        erase_action(
            name="erase_selected",
            label="Erase the selected requests (on request)",
            erase=consultation_erase,
            what="request(s)",
            warning="their details, intake answers and appointments.",
        ),
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
        return in_practice_time(obj.appointment.start)

    @admin.display(description="When")
    def when_display(self, obj: Consultation) -> str:
        return in_two_zones(obj.appointment.start, ours=practice_profile().zone, hers=obj.zone)

    @admin.display(description="Her time zone")
    def zone_display(self, obj: Consultation) -> str:
        return zone_label(obj.time_zone)

    @admin.display(description="Call her")
    def phone_link(self, obj: Consultation) -> str:
        href = tel_url(obj.phone)
        if not href:
            return "No phone given"
        return format_html('<a href="{}">Call {}</a>', href, obj.phone)

    @admin.display(description="The link she gets")
    def video_link_display(self, obj: Consultation) -> str:
        if obj.meeting_mode != MeetingMode.VIDEO:
            return "None: this is a phone call."
        link = obj.video_link
        if not link:
            return format_html(
                'No link yet: add your video room to the <a href="{}">practice profile</a>, '
                "or give a link for this call above.",
                reverse("admin:practice_practiceprofile_change", args=[1]),
            )
        return format_html('<a href="{}" rel="noopener" target="_blank">{}</a>', link, link)

    @admin.display(description="Status", ordering="appointment__status")
    def status_display(self, obj: Consultation) -> str:
        return obj.appointment.get_status_display()

    @admin.display(description="How", ordering="appointment__mode")
    def mode_display(self, obj: Consultation) -> str:
        return obj.appointment.get_mode_display()

    def save_model(self, request: HttpRequest, obj: Consultation, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and {"meeting_mode", "video_url"} & set(form.changed_data):
            consultation_set_meeting(
                consultation=obj,
                mode=form.cleaned_data["meeting_mode"],
                video_url=form.cleaned_data["video_url"],
            )

    # --- The buttons on a consultation's page ---------------------------------

    def next_steps(self, obj: Consultation) -> list[dict[str, str]]:
        """The buttons that apply to ``obj`` now: label, URL and a line of help."""
        appointment = obj.appointment
        started = appointment.start <= timezone.now()
        booked = appointment.status == Appointment.Status.BOOKED
        steps: list[tuple[str, str, str]] = []
        if booked and started:
            steps += [("complete", "Mark completed", ""), ("no_show", "Mark no-show", "")]
        if obj.is_upcoming and obj.meeting_mode == MeetingMode.VIDEO and obj.video_link:
            steps.append(("send_video_link", "Send the video link", f"By email to {obj.email}"))
        if obj.client_id is None:
            steps.append(("convert", "Convert to client", ""))
        if obj.is_upcoming:
            steps.append(("cancel", "Cancel, with a note to her", ""))
        return [
            {"name": name, "label": label, "help": help_text, "url": self._step_url(name, obj)}
            for name, label, help_text in steps
        ]

    def _step_url(self, name: str, obj: Consultation) -> str:
        return reverse(f"admin:consultations_consultation_{name}", args=[obj.pk])

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Consultation | None = None,
    ) -> HttpResponse:
        if obj is not None and self.has_change_permission(request, obj):
            context["next_steps"] = self.next_steps(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        def step(name: str, view: Callable[..., HttpResponse]) -> URLPattern:
            return path(
                f"<path:object_id>/{name.replace('_', '-')}/",
                self.admin_site.admin_view(view),
                name=f"consultations_consultation_{name}",
            )

        # Before the inherited patterns, whose "<object_id>/" would take these.
        return [
            step("complete", self.complete_view),
            step("no_show", self.no_show_view),
            step("cancel", self.cancel_view),
            step("convert", self.convert_view),
            step("send_video_link", self.send_video_link_view),
            *super().get_urls(),
        ]

    def _step_target(self, request: HttpRequest, object_id: str) -> Consultation | None:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and not self.has_change_permission(request, obj):
            raise PermissionDenied
        if obj is None:
            self.message_user(request, "That consultation no longer exists.", messages.WARNING)
        return obj

    def _back(self, obj: Consultation | None) -> HttpResponseRedirect:
        if obj is None:
            return HttpResponseRedirect(reverse("admin:consultations_consultation_changelist"))
        return HttpResponseRedirect(
            reverse("admin:consultations_consultation_change", args=[obj.pk])
        )

    def _mark(self, request: HttpRequest, object_id: str, to: str) -> HttpResponse:
        obj = self._step_target(request, object_id)
        if obj is None or request.method != "POST":
            return self._back(obj)
        appointment = obj.appointment
        if appointment.status != Appointment.Status.BOOKED or appointment.start > timezone.now():
            self.message_user(request, _already(obj), messages.WARNING)
            return self._back(obj)
        try:
            consultation_transition(consultation=obj, to=to)
        except ValidationError:
            # Changed meanwhile (another tab, a double click): say what it is now.
            obj = Consultation.objects.with_appointment().get(pk=obj.pk)
            self.message_user(request, _already(obj), messages.WARNING)
            return self._back(obj)
        label = Appointment.Status(to).label.lower()
        self.message_user(request, f"Marked {label}.", messages.SUCCESS)
        return self._back(obj)

    def complete_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._mark(request, object_id, Appointment.Status.COMPLETED)

    def no_show_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._mark(request, object_id, Appointment.Status.NO_SHOW)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for the note (the button's post), then cancel (the form's post), then go back."""
        obj = self._step_target(request, object_id)
        if obj is None:
            return self._back(obj)
        if not obj.is_upcoming:
            self.message_user(request, _already(obj), messages.WARNING)
            return self._back(obj)
        applying = request.method == "POST" and "apply" in request.POST
        form = AdminCancelForm(request.POST if applying else None)
        if applying and form.is_valid():
            try:
                consultation_transition(
                    consultation=obj,
                    to=Appointment.Status.CANCELLED,
                    by=Consultation.CancelledBy.PRACTICE,
                    note=form.cleaned_data["note"],
                )
            except ValidationError:
                obj = Consultation.objects.with_appointment().get(pk=obj.pk)
                self.message_user(request, _already(obj), messages.WARNING)
                return self._back(obj)
            self.message_user(
                request,
                "Cancelled; she has been emailed and the time is free again.",
                messages.SUCCESS,
            )
            return self._back(obj)
        return TemplateResponse(
            request,
            "consultations/admin/cancel_one.html",
            {
                **self.admin_site.each_context(request),
                "title": "Cancel this consultation",
                "opts": self.opts,
                "original": obj,
                "when": self.when_display(obj),
                "form": form,
                "back_url": self._back(obj).url,
            },
        )

    def convert_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._step_target(request, object_id)
        if obj is None or request.method != "POST":
            return self._back(obj)
        if obj.client_id is not None:
            self.message_user(
                request,
                f"Nothing changed: {obj.full_name} is already client #{obj.client_id}.",
                messages.WARNING,
            )
            return self._back(obj)
        client = consultation_convert_to_client(consultation=obj, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _converted_message(obj, client), messages.SUCCESS)
        return self._back(obj)

    def send_video_link_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._step_target(request, object_id)
        if obj is None or request.method != "POST":
            return self._back(obj)
        try:
            sent = consultation_send_video_link(consultation=obj, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.WARNING)
            return self._back(obj)
        if sent.asked:
            self.message_user(request, f"Sent to {obj.email}.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                f"Already on its way to {obj.email} (asked moments ago); not sent twice.",
                messages.INFO,
            )
        return self._back(obj)

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
            self.message_user(request, _converted_message(consultation, client), messages.SUCCESS)


def _converted_message(consultation: Consultation, client: Client) -> str:
    """'Nora O'Neill is linked to client #7.' with the way to her page and its invitation button."""
    return format_html(
        '{} is linked to client #{}. <a href="{}">Open her client page</a> '
        "to invite her to the client portal.",
        consultation.full_name,
        client.pk,
        reverse("admin:practice_client_change", args=[client.pk]),
    )


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    workspace_section = Section.CONSULTATIONS
    list_display = ["name", "email", "preferred_times", "status", "created_at", "notified_at"]
    list_filter = ["status"]
    search_fields = ["name", "email"]
    readonly_fields = ["created_at", "notified_at"]
