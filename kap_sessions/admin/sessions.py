"""Course sessions in the admin: the list, one page per session, and its reschedule form.

A session is booked from its course's page (``admin:kap_sessions_course_book``);
here it is held, cancelled or moved, each through its service
(``session_complete``, ``session_cancel``, ``session_move``), from the list's
actions or the session's page. A medicine session is held by her discharge
on its record (``admin:kap_sessions_dosingrecord_change``), which the page
links to. The only field edited on the page is her location at the start of
a video session (``session_location_record``), with a warning when the
therapist is not licensed in that state (``PracticeProfile.licensed_states``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from practice.admin_actions import admin_actor, service_action
from practice.admin_audit import AuditedAdminMixin
from practice.admin_site import Section
from practice.calendar.admin import TimeOfDayWidget
from practice.calendar.display import in_practice_time
from practice.client_records import USState
from practice.identity import practice_profile
from practice.models import Appointment, AppointmentKind, Client, MeetingMode

from ..models import CourseSession
from ..services import session_cancel, session_complete, session_location_record, session_move
from ..services.sessions import SessionCompleted


def location_warning(session: CourseSession, licensed_states: Iterable[str]) -> str:
    """Why her location at the start of a video session is a concern, in plain words; or ''."""
    if session.appointment.mode != MeetingMode.VIDEO:
        return ""
    if not session.location_state:
        return f"{session}: her location at the start is not recorded yet."
    if session.location_state not in set(licensed_states):
        state = USState(session.location_state).label
        return (
            f"{session}: she is in {state}, where you are not licensed "
            "(practice profile, licensed states)."
        )
    return ""


@dataclass(frozen=True)
class SessionRow:
    session: CourseSession
    when: str
    status: str
    mode: str
    url: str
    record_url: str
    reschedule_url: str
    warning: str


def session_rows(
    sessions: Sequence[CourseSession], *, licensed_states: Iterable[str], now: datetime
) -> list[SessionRow]:
    """The course page's table of sessions (no query: the sessions come with their parts)."""
    licensed = set(licensed_states)
    rows = []
    for session in sessions:
        appointment = session.appointment
        record = getattr(session, "dosing_record", None) if session.is_dosing else None
        movable = appointment.status == Appointment.Status.BOOKED and appointment.start > now
        rows.append(
            SessionRow(
                session=session,
                when=in_practice_time(appointment.start, now=now),
                status=appointment.get_status_display(),
                mode=appointment.get_mode_display(),
                url=reverse("admin:kap_sessions_coursesession_change", args=[session.pk]),
                record_url=(
                    reverse("admin:kap_sessions_dosingrecord_change", args=[record.pk])
                    if record is not None
                    else ""
                ),
                reschedule_url=(
                    reverse("admin:kap_sessions_coursesession_reschedule", args=[session.pk])
                    if movable
                    else ""
                ),
                warning=location_warning(session, licensed),
            )
        )
    return rows


def completed_message(done: SessionCompleted, *, lead: str = "") -> SafeString:
    """What the therapist reads after a session is held: the check-in, and a link to
    book the proposed integration time (the booking form, filled in)."""
    words = [lead or f"{done.session} is marked held."]
    if done.session.is_dosing:
        if done.check_in is not None:
            check_in = in_practice_time(done.check_in.appointment.start)
            words.append(f"Check-in booked for {check_in}.")
        else:
            words.append("No free time for the check-in the next day: book it by hand.")
    message = format_html("{}", " ".join(words))
    if done.session.is_dosing and done.integration_proposal is not None:
        book = reverse("admin:kap_sessions_course_book", args=[done.session.course_id])
        query = urlencode(
            {"kind": AppointmentKind.INTEGRATION, "start": done.integration_proposal.isoformat()}
        )
        message = format_html(
            '{} First free time for the integration session: {}. <a href="{}">Book it</a>',
            message,
            in_practice_time(done.integration_proposal),
            f"{book}?{query}",
        )
    return message


class RescheduleForm(forms.Form):
    day = forms.DateField(label="New day", widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label="New time (practice time)", widget=TimeOfDayWidget)


class SessionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CourseSession
        fields = ["location_state"]


@admin.register(CourseSession)
class CourseSessionAdmin(AuditedAdminMixin):
    workspace_section = Section.CLIENTS
    change_form_template = "kap_sessions/admin/session_change_form.html"
    form = SessionForm
    list_display = ["__str__", "client", "when", "mode", "status", "course_link"]
    list_filter = ["kind", "appointment__status"]
    search_fields = ["course__client__first_name", "course__client__last_name"]
    list_select_related = ["appointment", "course__client"]
    ordering = ["-appointment__start", "-id"]
    readonly_fields = [
        "course_link",
        "kind",
        "dosing_number",
        "when",
        "mode",
        "status",
        "gate_override_reason",
        "created_at",
        "created_by",
    ]
    fields = [*readonly_fields, "location_state"]
    actions = [
        service_action(
            name="complete",
            label="Mark held",
            apply_with_request=lambda request, session: session_complete(
                session=session, actor=admin_actor(request)
            ),
            done=lambda count: f"{count} session(s) marked held.",
        ),
        service_action(
            name="cancel",
            label="Cancel",
            apply_with_request=lambda request, session: session_cancel(
                session=session, actor=admin_actor(request)
            ),
            done=lambda count: f"{count} session(s) cancelled.",
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CourseSession]:
        return super().get_queryset(request).select_related("appointment", "course__client")

    def audit_client(self, obj: object) -> Client | None:
        return obj.course.client if isinstance(obj, CourseSession) else None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # booked from the course's page, through session_book

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Client", ordering="course__client__first_name")
    def client(self, session: CourseSession) -> str:
        return session.course.client.full_name

    @admin.display(description="When", ordering="appointment__start")
    def when(self, session: CourseSession) -> str:
        return in_practice_time(session.appointment.start)

    @admin.display(description="How")
    def mode(self, session: CourseSession) -> str:
        return session.appointment.get_mode_display()

    @admin.display(description="Status", ordering="appointment__status")
    def status(self, session: CourseSession) -> str:
        return session.appointment.get_status_display()

    @admin.display(description="Course")
    def course_link(self, session: CourseSession) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:kap_sessions_course_change", args=[session.course_id]),
            session.course,
        )

    def save_model(self, request: HttpRequest, obj: CourseSession, form: Any, change: bool) -> None:
        if "location_state" in form.changed_data:
            session_location_record(
                session=obj, location_state=obj.location_state, actor=admin_actor(request)
            )

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # session_location_record wrote the audit line (when anything changed).
        return admin.ModelAdmin.log_change(self, request, obj, message)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:session_id>/reschedule/",
                self.admin_site.admin_view(self.reschedule_view),
                name="kap_sessions_coursesession_reschedule",
            ),
            path(
                "<int:session_id>/do/<str:what>/",
                self.admin_site.admin_view(self.do_view),
                name="kap_sessions_coursesession_do",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        session = (
            CourseSession.objects.select_related("appointment", "course__client")
            .filter(pk=object_id)
            .first()
            if object_id.isdigit()
            else None
        )
        if session is not None:
            record = getattr(session, "dosing_record", None) if session.is_dosing else None
            now = timezone.now()
            booked = session.appointment.status == Appointment.Status.BOOKED
            extra_context = {
                "course_session": session,
                "location_warning": location_warning(session, practice_profile().licensed_states),
                "record_url": (
                    reverse("admin:kap_sessions_dosingrecord_change", args=[record.pk])
                    if record is not None
                    else ""
                ),
                "reschedule_url": (
                    reverse("admin:kap_sessions_coursesession_reschedule", args=[session.pk])
                    if booked and session.appointment.start > now
                    else ""
                ),
                "can_complete": booked and not session.is_dosing,
                "can_cancel": booked,
                **(extra_context or {}),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _session(self, request: HttpRequest, session_id: int) -> CourseSession:
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(
            CourseSession.objects.select_related("appointment", "course__client"), pk=session_id
        )

    def do_view(self, request: HttpRequest, session_id: int, what: str) -> HttpResponse:
        """Mark held or cancel (POST), back to the session's page with the outcome."""
        session = self._session(request, session_id)
        back = HttpResponseRedirect(
            reverse("admin:kap_sessions_coursesession_change", args=[session.pk])
        )
        if request.method != "POST" or what not in ("complete", "cancel"):
            return back
        message: str
        try:
            if what == "complete":
                done = session_complete(session=session, actor=admin_actor(request))
                message = completed_message(done)
            else:
                session_cancel(session=session, actor=admin_actor(request))
                message = f"{session} is cancelled; its time is free again."
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.WARNING)
        else:
            self.message_user(request, message, messages.SUCCESS)
        return back

    def reschedule_view(self, request: HttpRequest, session_id: int) -> HttpResponse:
        """Move the session to a new day and time (practice time) through ``session_move``."""
        session = self._session(request, session_id)
        form = RescheduleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            start = datetime.combine(
                form.cleaned_data["day"], form.cleaned_data["at"], tzinfo=practice_profile().zone
            )
            try:
                moved = session_move(session=session, start=start, actor=admin_actor(request))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    f"{moved} is moved to {in_practice_time(moved.appointment.start)}; "
                    "her reminders follow.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:kap_sessions_course_change", args=[moved.course_id])
                )
        course = session.course
        return render(
            request,
            "kap_sessions/admin/session_reschedule.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Reschedule {session}: {course.client.full_name}",
                "session": session,
                "when": in_practice_time(session.appointment.start),
                "course": course,
                "course_url": reverse("admin:kap_sessions_course_change", args=[course.pk]),
                "form": form,
            },
        )
