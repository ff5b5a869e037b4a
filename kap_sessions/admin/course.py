"""The therapist's KAP courses: the course page, its forms, and the practice's course settings.

The course page (``CourseAdmin``'s change view) is the whole course at a
glance above its editable fields (plan, driver, closing summary): the
phase history, the plan (sessions planned and held, planned end, a warning
when the course runs past it), the gates of the next medicine session as
met or missing in plain words, why its start would be blocked (with a
reschedule link), the sessions with their status and links, clearances,
pregnancy-status attestations and the measures' charts.

Every write has its own small page (book a session, record a clearance or
an attestation, move the phase), each a plain form calling one service;
a refusal (a gate missing, a time taken) is shown on the form in the
service's words. Phase moves from the list are actions through
``course_advance``, one service call (and one audit line naming her) per row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from practice.admin_actions import admin_actor, service_action
from practice.admin_audit import AuditedAdminMixin
from practice.admin_site import Section
from practice.calendar.admin import TimeOfDayWidget
from practice.calendar.display import in_practice_time
from practice.identity import practice_profile
from practice.models import Appointment, AppointmentKind, Client, MeetingMode
from practice.private_files import PrivateUploadField

from ..charts import course_measure_series
from ..models import (
    SESSION_KINDS,
    Course,
    CoursePhase,
    CourseSession,
    CourseSettings,
    MedicalClearance,
    PregnancyAttestation,
    PregnancyStatus,
)
from ..services import (
    course_advance,
    course_start,
    dosing_schedule_gates,
    dosing_start_gates,
    integration_overdue,
    medical_clearance_record,
    pregnancy_attestation_record,
    session_book,
)
from ..services.course import medicine_sessions_held
from ..services.gates import GateClosed
from .sessions import location_warning, session_rows


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


def practice_moment(day: date, at: time) -> datetime:
    """``at`` on ``day`` on the practice's clock, as an aware datetime."""
    return datetime.combine(day, at, tzinfo=practice_profile().zone)


# --- The forms -------------------------------------------------------------------------------


class BookSessionForm(forms.Form):
    kind = forms.ChoiceField(
        label="Session",
        choices=[(kind, AppointmentKind(kind).label) for kind in SESSION_KINDS],
    )
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label="Time (practice time)", widget=TimeOfDayWidget)
    mode = forms.ChoiceField(
        label="How you meet",
        choices=MeetingMode.choices,
        initial=MeetingMode.IN_PERSON,
        help_text="A medicine session is always in person.",
    )
    video_url = forms.URLField(
        label="Video link",
        required=False,
        assume_scheme="https",
        help_text="For a video session; empty for the practice's video room.",
    )
    override_reason = forms.CharField(
        label="Why you book past the eligibility gate",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Only for a medicine session while she is not eligible; kept on the session.",
    )

    def start(self) -> datetime:
        return practice_moment(self.cleaned_data["day"], self.cleaned_data["at"])


class ClearanceForm(forms.Form):
    prescriber = forms.CharField(
        label="Prescriber", max_length=200, help_text="Name and credentials."
    )
    cleared_on = forms.DateField(label="Cleared on", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
    letter = PrivateUploadField(
        label="Clearance letter",
        required=False,
        help_text="Optional: a PDF, or a PNG or JPEG picture. Kept privately, not in her portal.",
    )


class AttestationForm(forms.Form):
    status = forms.ChoiceField(
        label="She says she is", choices=PregnancyStatus.choices, widget=forms.RadioSelect
    )
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label="Time (practice time)", widget=TimeOfDayWidget)


class AdvanceForm(forms.Form):
    to = forms.ChoiceField(label="Move the course to")
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Needed to complete the course before its planned medicine sessions.",
    )
    closing_summary = forms.CharField(
        label="Closing summary",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="When the course is completed or withdrawn.",
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(CoursePhase.choices)
        self.fields["to"].choices = [  # type: ignore[attr-defined]
            (phase, labels[phase]) for phase in Course.TRANSITIONS[course.phase]
        ]


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- The course page -------------------------------------------------------------------------


class PlanFilter(admin.SimpleListFilter):
    """Open courses past their planned end (the Today page's "Courses past their plan")."""

    title = "plan"
    parameter_name = "plan"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("past", "Open, past its planned end")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "past":
            today = timezone.now().astimezone(practice_profile().zone).date()
            return queryset.open().filter(planned_end_on__lt=today)
        return queryset


@admin.register(Course)
class CourseAdmin(AuditedAdminMixin):
    workspace_section = Section.CLIENTS
    change_form_template = "kap_sessions/admin/course_change_form.html"
    list_display = [
        "__str__",
        "client",
        "phase",
        "started_on",
        "planned_end_on",
        "phase_changed_at",
    ]
    list_filter = ["phase", PlanFilter]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client"]
    raw_id_fields = ["client"]
    readonly_fields = ["phase", "phase_changed_at", "closed_on", "created_at"]
    fieldsets = (
        (None, {"fields": ("client", "phase", "started_on", "phase_changed_at")}),
        ("Plan", {"fields": ("planned_dosing_sessions", "planned_end_on")}),
        ("Driver home after a medicine session", {"fields": ("driver_name", "driver_phone")}),
        ("Closing", {"fields": ("closed_on", "closing_summary", "created_at")}),
    )
    actions = [
        _advance_action(Course.Phase.DOSING, "Move to dosing"),
        _advance_action(Course.Phase.INTEGRATION, "Move to integration"),
        _advance_action(Course.Phase.COMPLETED, "Mark completed"),
        _advance_action(Course.Phase.WITHDRAWN, "Mark withdrawn"),
    ]

    def audit_client(self, obj: object) -> Client | None:
        return obj.client if isinstance(obj, Course) else None

    def get_readonly_fields(self, request: HttpRequest, obj: Course | None = None) -> list[str]:
        if obj is None:
            return ["phase", "started_on", "phase_changed_at", "closed_on", "created_at"]
        return ["client", *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: Course, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new course opens through the service: its history, its baseline
        # questionnaires, its audit line.
        course = course_start(
            client=obj.client,
            planned_dosing_sessions=obj.planned_dosing_sessions,
            planned_end_on=obj.planned_end_on,
            actor=admin_actor(request),
        )
        if obj.driver_name or obj.driver_phone:
            course.driver_name, course.driver_phone = obj.driver_name, obj.driver_phone
            course.save(update_fields=["driver_name", "driver_phone"])
        obj.pk = course.pk
        obj._state.adding = False
        obj._loaded_state = course.phase  # type: ignore[attr-defined]

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # course_start wrote the audit line.
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def get_urls(self) -> list[URLPattern]:
        def page(suffix: str, view: Callable[..., HttpResponse], name: str) -> URLPattern:
            return path(
                f"<int:course_id>/{suffix}/",
                self.admin_site.admin_view(view),
                name=f"kap_sessions_course_{name}",
            )

        return [
            page("book", self.book_view, "book"),
            page("clearance", self.clearance_view, "clearance"),
            page("attestation", self.attestation_view, "attestation"),
            page("move", self.advance_view, "advance"),
            *super().get_urls(),
        ]

    # The page ----------------------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        course = (
            Course.objects.select_related("client").filter(pk=object_id).first()
            if object_id.isdigit()
            else None
        )
        if course is not None and request.method == "GET":
            extra_context = {
                **course_page_context(course, now=timezone.now()),
                **(extra_context or {}),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    # The forms ---------------------------------------------------------------------------

    def _course(self, request: HttpRequest, course_id: int) -> Course:
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(Course.objects.select_related("client"), pk=course_id)

    def _form_page(
        self,
        request: HttpRequest,
        course: Course,
        form: forms.Form,
        *,
        title: str,
        intro: str,
        submit: str,
        **context: Any,
    ) -> HttpResponse:
        return render(
            request,
            "kap_sessions/admin/course_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"{title}: {course.client.full_name}",
                "course": course,
                "course_url": reverse("admin:kap_sessions_course_change", args=[course.pk]),
                "form": form,
                "intro": intro,
                "submit": submit,
                **context,
            },
        )

    def _back(self, course: Course) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:kap_sessions_course_change", args=[course.pk]))

    def book_view(self, request: HttpRequest, course_id: int) -> HttpResponse:
        """Book a session: kind, day and time (practice time), mode, override reason."""
        course = self._course(request, course_id)
        now = timezone.now()
        initial: dict[str, Any] = {
            "kind": request.GET.get("kind", ""),
            "mode": MeetingMode.IN_PERSON,
        }
        if "start" in request.GET:
            try:
                start = datetime.fromisoformat(request.GET["start"]).astimezone(
                    practice_profile().zone
                )
            except (ValueError, OverflowError):
                pass  # a link edited by hand: the form starts empty
            else:
                initial.update(day=start.date(), at=start.time())
        form = BookSessionForm(request.POST or None, initial=initial)
        blocked: list[Any] = []
        if request.method == "POST" and form.is_valid():
            try:
                session = session_book(
                    course=course,
                    kind=form.cleaned_data["kind"],
                    start=form.start(),
                    mode=form.cleaned_data["mode"],
                    video_url=form.cleaned_data["video_url"],
                    override_reason=form.cleaned_data["override_reason"],
                    actor=admin_actor(request),
                    now=now,
                )
            except GateClosed as exc:
                blocked = exc.gates
                form.add_error(
                    None, "A medicine session cannot be booked yet: see what is missing."
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                self.message_user(
                    request,
                    f"Booked: {session} on {in_practice_time(session.appointment.start)}.",
                    messages.SUCCESS,
                )
                return self._back(course)
        return self._form_page(
            request,
            course,
            form,
            title="Book a session",
            intro=(
                "The time is placed by hand on your calendar: any free time, inside your hours "
                "or not. A medicine session needs every gate below; eligibility alone can be "
                "booked past with a reason."
            ),
            submit="Book the session",
            gates=dosing_schedule_gates(course=course, now=now),
            blocked=blocked,
        )

    def clearance_view(self, request: HttpRequest, course_id: int) -> HttpResponse:
        """Record the prescriber's medical clearance, with the letter if there is one."""
        course = self._course(request, course_id)
        form = ClearanceForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            letter = form.cleaned_data["letter"]
            try:
                medical_clearance_record(
                    course=course,
                    prescriber=form.cleaned_data["prescriber"],
                    cleared_on=form.cleaned_data["cleared_on"],
                    note=form.cleaned_data["note"],
                    letter_content=letter.content if letter else None,
                    letter_content_type=letter.content_type if letter else "",
                    actor=admin_actor(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                self.message_user(request, "The medical clearance is recorded.", messages.SUCCESS)
                return self._back(course)
        return self._form_page(
            request,
            course,
            form,
            title="Record the medical clearance",
            intro="The prescriber's clearance for her medicine sessions. The newest one counts.",
            submit="Record the clearance",
            multipart=True,
        )

    def attestation_view(self, request: HttpRequest, course_id: int) -> HttpResponse:
        """Record what she said about pregnancy, in person (staff-recorded)."""
        course = self._course(request, course_id)
        local = timezone.localtime()
        form = AttestationForm(
            request.POST or None,
            initial={"day": local.date(), "at": local.time().replace(second=0, microsecond=0)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                pregnancy_attestation_record(
                    client=course.client,
                    status=form.cleaned_data["status"],
                    source=PregnancyAttestation.Source.IN_PERSON,
                    attested_at=practice_moment(form.cleaned_data["day"], form.cleaned_data["at"]),
                    actor=admin_actor(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                self.message_user(request, "Her attestation is recorded.", messages.SUCCESS)
                return self._back(course)
        days = CourseSettings.current().attestation_days
        return self._form_page(
            request,
            course,
            form,
            title="Record her pregnancy status",
            intro=(
                f"What she tells you, in person. A medicine session starts only with "
                f"“not pregnant” attested in the last {days} days."
            ),
            submit="Record what she said",
        )

    def advance_view(self, request: HttpRequest, course_id: int) -> HttpResponse:
        """Move the course to its next phase (``course_advance``), with a reason when needed."""
        course = self._course(request, course_id)
        form = AdvanceForm(request.POST or None, course=course)
        if request.method == "POST" and form.is_valid():
            try:
                course_advance(
                    course=course,
                    to=form.cleaned_data["to"],
                    reason=form.cleaned_data["reason"],
                    closing_summary=form.cleaned_data["closing_summary"],
                    actor=admin_actor(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                self.message_user(request, "The course has moved.", messages.SUCCESS)
                return self._back(course)
        return self._form_page(
            request,
            course,
            form,
            title="Move the course",
            intro=(
                "The phase follows the sessions: integration once this round's medicine "
                "session is held, dosing again while the plan has a session left, completed "
                "once the plan is done (or earlier, with a reason). Withdrawal cancels every "
                "session to come and stops every email."
            ),
            submit="Move the course",
        )


def course_page_context(course: Course, *, now: datetime) -> dict[str, Any]:
    """Everything the course page shows above its fields (a constant number of queries)."""
    sessions = list(
        CourseSession.objects.filter(course=course)
        .select_related("appointment", "dosing_record")
        .order_by("appointment__start", "id")
    )
    licensed = set(practice_profile().licensed_states)
    next_dosing = next(
        (
            s
            for s in sessions
            if s.is_dosing
            and s.appointment.status == Appointment.Status.BOOKED
            and s.appointment.end > now
        ),
        None,
    )
    start_gates = []
    if next_dosing is not None:
        start_gates = [
            gate
            for gate in dosing_start_gates(
                session=next_dosing, now=now, baseline_systolic=None, baseline_diastolic=None
            )
            if gate.key != "blood_pressure"
        ]
    today = timezone.localdate(now)
    held = medicine_sessions_held(course)
    overdue = list(integration_overdue(now=now).filter(course=course))
    return {
        "course": course,
        "phase_changes": list(course.phase_changes.select_related("actor")),
        "plan": {
            "planned": course.planned_dosing_sessions,
            "held": held,
            "booked": sum(
                1
                for s in sessions
                if s.is_dosing and s.appointment.status == Appointment.Status.BOOKED
            ),
            "end": course.planned_end_on,
            "past_plan": course.is_past_plan(today),
        },
        "gates": dosing_schedule_gates(course=course, now=now) if course.is_open else [],
        "next_dosing": next_dosing,
        "start_gates": start_gates,
        "start_blocked": any(not gate.met for gate in start_gates),
        "sessions": session_rows(sessions, licensed_states=licensed, now=now),
        "location_warnings": [
            warning
            for s in sessions
            if (warning := location_warning(s, licensed)) and s.appointment.end > now
        ],
        "overdue": overdue,
        "clearances": list(MedicalClearance.objects.filter(course=course).select_related("letter")),
        "attestations": list(
            PregnancyAttestation.objects.filter(client=course.client).select_related("recorded_by")[
                :5
            ]
        ),
        "series": course_measure_series(course=course),
        "summary_pdf_url": reverse("kap_sessions:admin_course_summary_pdf", args=[course.pk]),
        "book_url": reverse("admin:kap_sessions_course_book", args=[course.pk]),
        "clearance_url": reverse("admin:kap_sessions_course_clearance", args=[course.pk]),
        "attestation_url": reverse("admin:kap_sessions_course_attestation", args=[course.pk]),
        "advance_url": reverse("admin:kap_sessions_course_advance", args=[course.pk]),
        "client_url": reverse("admin:practice_client_change", args=[course.client_id]),
    }


# --- The practice's course settings ----------------------------------------------------------


@admin.register(CourseSettings)
class CourseSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The limits of medicine sessions: one row (the defaults until it is saved)."""

    workspace_section = Section.SETTINGS
    fieldsets = (
        (
            "Before a medicine session starts",
            {"fields": ("baseline_systolic_limit", "baseline_diastolic_limit", "attestation_days")},
        ),
        ("After it", {"fields": ("integration_within_hours",)}),
        (
            "Vitals highlighted outside these ranges",
            {
                "fields": (
                    ("systolic_low", "systolic_high"),
                    ("diastolic_low", "diastolic_high"),
                    ("heart_rate_low", "heart_rate_high"),
                    "spo2_low",
                )
            },
        ),
    )

    # One row with defaults: never "added", and the list opens the row itself
    # (as the screening settings: no existence query on every admin page).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        row, _ = CourseSettings.objects.get_or_create(pk=1)
        return HttpResponseRedirect(
            reverse("admin:kap_sessions_coursesettings_change", args=[row.pk])
        )


__all__ = ["CourseAdmin", "CourseSettingsAdmin", "course_page_context"]
