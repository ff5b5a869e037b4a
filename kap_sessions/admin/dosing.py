"""One page per medicine session, made for the tablet in the therapist's hand.

``DosingRecord``'s change page (``admin:kap_sessions_dosingrecord_change``)
is the whole session on one page, top to bottom as the day goes: her name
(first name and initial), the time and the driver; the start (what she
says about pregnancy when no recent attestation is on file, through
``pregnancy_attestation_record``; the baseline blood pressure through
``session_start``, with the gates in plain words and, when the start is
refused, why, beside "Reschedule"); what was given; vitals, one row at a time;
adverse events; observations and the therapist's presence; the discharge
checklist and time (``dosing_discharge``). Every form is a plain POST that
redirects back to its part of the page, so the page works with JavaScript
off; ``static/kap_sessions/dosing.js`` sends vitals rows in place through
``admin:kap_sessions_dosingrecord_vitals`` (JSON) and keeps the rows it could
not send on the tablet until it can. Each opening of the page writes one
audit line; each write audits itself in its service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from practice.admin_actions import admin_actor
from practice.admin_audit import AuditedAdminMixin
from practice.calendar.display import clock, in_practice_time, short_day, tel_url
from practice.identity import practice_profile
from practice.models import AuditEvent, Client
from practice.services import audit_record

from ..models import (
    AdverseEvent,
    CourseSettings,
    DosingRecord,
    MedicalClearance,
    PregnancyAttestation,
    PregnancyStatus,
    VitalSign,
)
from ..services.dosing import (
    Reading,
    adverse_event_record,
    dosing_discharge,
    dosing_record_update,
    presence_flag,
    vital_readings,
    vital_sign_record,
)
from ..services.gates import Gate, GateClosed, dosing_start_gates
from ..services.sessions import pregnancy_attestation_record, session_start
from .sessions import completed_message

# --- Forms: one per part of the page; times are typed on the session's day -----


class TimeOfDayInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


def time_field(label: str, *, required: bool = True) -> forms.TimeField:
    return forms.TimeField(label=label, required=required, widget=TimeOfDayInput())


def reading_field(label: str, low: int, high: int, unit: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-unit": unit}),
    )


class StartForm(forms.Form):
    baseline_systolic = reading_field("Systolic", 40, 300, "mmHg")
    baseline_diastolic = reading_field("Diastolic", 20, 200, "mmHg")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("baseline_systolic", "baseline_diastolic"):
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, "Enter her blood pressure before the start.")
        return data


class AttestationForm(forms.Form):
    status = forms.ChoiceField(
        label="What she says today about pregnancy",
        choices=PregnancyStatus.choices,
        widget=forms.RadioSelect,
    )


class MedicationForm(forms.Form):
    medication = forms.CharField(max_length=100)
    route = forms.ChoiceField(
        choices=DosingRecord.Route.choices, required=False, widget=forms.RadioSelect
    )
    dose_mg = forms.DecimalField(
        label="Dose (mg)",
        required=False,
        min_value=Decimal("0.1"),
        max_digits=6,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    lot_number = forms.CharField(label="Lot number", max_length=60, required=False)
    given_at = time_field("Time given", required=False)
    prescriber = forms.CharField(max_length=200, required=False)


class VitalSignForm(forms.Form):
    entry_key = forms.UUIDField(widget=forms.HiddenInput)
    taken_at = time_field("Time")
    systolic = reading_field("Systolic", 40, 300, "mmHg")
    diastolic = reading_field("Diastolic", 20, 200, "mmHg")
    heart_rate = reading_field("Heart rate", 20, 250, "bpm")
    spo2 = reading_field("SpO2", 50, 100, "%")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        readings = ("systolic", "diastolic", "heart_rate", "spo2")
        if not self.errors and all(data.get(name) is None for name in readings):
            raise ValidationError("Enter at least one reading.")
        return data


class AdverseEventForm(forms.Form):
    at = time_field("Time")
    severity = forms.ChoiceField(choices=AdverseEvent.Severity.choices, widget=forms.RadioSelect)
    description = forms.CharField(label="What happened", widget=forms.Textarea(attrs={"rows": 3}))
    action_taken = forms.CharField(
        label="What you did", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ObservationsForm(forms.Form):
    observations = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}))


class PresenceForm(forms.Form):
    present_from = time_field("From", required=False)
    present_until = time_field("Until", required=False)


class DischargeForm(forms.Form):
    alert_and_oriented = forms.BooleanField(label="Alert and oriented", required=False)
    steady_on_feet = forms.BooleanField(label="Steady on her feet", required=False)
    driver_present = forms.BooleanField(label="Driver present", required=False)
    discharged_at = time_field("Discharge time")


FORMS: dict[str, type[forms.Form]] = {
    "attestation": AttestationForm,
    "start": StartForm,
    "medication": MedicationForm,
    "vital": VitalSignForm,
    "adverse": AdverseEventForm,
    "observations": ObservationsForm,
    "presence": PresenceForm,
    "discharge": DischargeForm,
}
ANCHORS = {
    "attestation": "start",
    "start": "start",
    "medication": "medication",
    "vital": "vitals",
    "adverse": "adverse-events",
    "observations": "observations",
    "presence": "observations",
    "discharge": "discharge",
}


def _on_session_day(record: DosingRecord, moment: time | None) -> datetime | None:
    """A time of day typed on the page, as the moment of the session it names.

    On the session's day in the practice's zone, or the day before or after
    when that is nearer the middle of the session (one that runs past
    midnight: "12:30 AM" is the next day's).
    """
    if moment is None:
        return None
    appointment = record.session.appointment
    middle = timezone.localtime(appointment.start + (appointment.end - appointment.start) / 2)
    zone = timezone.get_current_timezone()
    typed = moment.replace(second=0, microsecond=0)
    candidates = [
        datetime.combine(middle.date() + timedelta(days=shift), typed, tzinfo=zone)
        for shift in (-1, 0, 1)
    ]
    return min(candidates, key=lambda candidate: abs(candidate - middle))


def _hh_mm(moment: datetime | None) -> str | None:
    return None if moment is None else f"{timezone.localtime(moment):%H:%M}"


def short_name(client: Client) -> str:
    """'Amara O.': her first name and the initial of her last."""
    initial = client.last_name[:1]
    return f"{client.first_name} {initial}." if initial else client.first_name


@dataclass(frozen=True)
class VitalRow:
    vital: VitalSign
    readings: list[Reading]


# --- The admin ------------------------------------------------------------------


@admin.register(DosingRecord)
class DosingRecordAdmin(AuditedAdminMixin):
    """Medicine session records: the list, and one tablet page per session."""

    workspace_section = None  # from her course session (the "Medicine session record" link)
    list_display = ["her", "when", "dosing_number", "status"]
    list_select_related = ["session__appointment", "session__course__client"]
    search_fields = ["session__course__client__first_name", "session__course__client__last_name"]
    ordering = ["-session__appointment__start", "-id"]
    change_form_template = "kap_sessions/admin/dosing_record.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super()
            .get_queryset(request)
            .select_related("session__appointment", "session__course__client")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Booking a medicine session creates its record (``session_book``).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def audit_client(self, obj: object) -> Client | None:
        return obj.session.course.client if isinstance(obj, DosingRecord) else None

    @admin.display(description="Client", ordering="session__course__client__first_name")
    def her(self, record: DosingRecord) -> str:
        return short_name(record.session.course.client)

    @admin.display(description="When", ordering="session__appointment__start")
    def when(self, record: DosingRecord) -> str:
        return in_practice_time(record.session.appointment.start)

    @admin.display(description="Session")
    def dosing_number(self, record: DosingRecord) -> str:
        return f"Medicine session {record.session.dosing_number or ''}".strip()

    @admin.display(description="Status")
    def status(self, record: DosingRecord) -> str:
        if record.discharged_at is not None:
            return f"Discharged at {clock(timezone.localtime(record.discharged_at))}"
        if record.started_at is not None:
            return f"Under way since {clock(timezone.localtime(record.started_at))}"
        return "Not started"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/vitals/",
                self.admin_site.admin_view(require_POST(self.vitals_view)),
                name="kap_sessions_dosingrecord_vitals",
            ),
            *super().get_urls(),
        ]

    # --- The page -----------------------------------------------------------

    def _record(self, request: HttpRequest, object_id: str) -> DosingRecord:
        # ``get_object`` reads a malformed id as no record (a 404, not a 500).
        record = self.get_object(request, object_id)
        if record is None:
            raise Http404("No such medicine session record.")
        if not self.has_view_or_change_permission(request, record):
            raise PermissionDenied
        return cast(DosingRecord, record)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        record = self._record(request, object_id)
        now = timezone.now()
        bound: dict[str, forms.Form] = {}
        blocked: list[Gate] = []
        if request.method == "POST":
            if not self.has_change_permission(request, record):
                raise PermissionDenied
            name = request.POST.get("form", "")
            if name not in FORMS:
                return HttpResponseBadRequest("Unknown form.")
            form = FORMS[name](request.POST, prefix=name)
            if form.is_valid():
                try:
                    done = self._apply(request, record, name, form.cleaned_data, now)
                except GateClosed as exc:
                    blocked = list(exc.gates)
                    form.add_error(None, "The session cannot start yet.")
                except ValidationError as exc:
                    _add_errors(form, exc)
                else:
                    self.message_user(request, done, messages.SUCCESS)
                    return HttpResponseRedirect(f"{request.path}#{ANCHORS[name]}")
            bound[name] = form
            record.refresh_from_db()
        else:
            audit_record(
                actor=admin_actor(request),
                action=AuditEvent.Action.VIEW,
                obj=record,
                client=record.session.course.client,
                request=request,
            )
        context = {
            **self.admin_site.each_context(request),
            **self._page_context(request, record, now, bound, blocked),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)

    def _apply(
        self,
        request: HttpRequest,
        record: DosingRecord,
        name: str,
        data: dict[str, Any],
        now: datetime,
    ) -> str:
        """Call the form's service; return the message that says it is done."""
        actor = admin_actor(request)
        if name == "attestation":
            pregnancy_attestation_record(
                client=record.session.course.client,
                status=data["status"],
                source=PregnancyAttestation.Source.IN_PERSON,
                actor=actor,
                now=now,
            )
            return "What she said is recorded."
        if name == "start":
            session_start(
                session=record.session,
                baseline_systolic=data["baseline_systolic"],
                baseline_diastolic=data["baseline_diastolic"],
                actor=actor,
                now=now,
            )
            return "The session has started."
        if name == "medication":
            dosing_record_update(
                record=record,
                medication=data["medication"],
                route=data["route"],
                dose_mg=data["dose_mg"],
                lot_number=data["lot_number"],
                given_at=_on_session_day(record, data["given_at"]),
                prescriber=data["prescriber"],
                actor=actor,
            )
            return "What was given is saved."
        if name == "vital":
            vital_sign_record(
                record=record,
                entry_key=data["entry_key"],
                taken_at=cast(datetime, _on_session_day(record, data["taken_at"])),
                systolic=data["systolic"],
                diastolic=data["diastolic"],
                heart_rate=data["heart_rate"],
                spo2=data["spo2"],
                actor=actor,
            )
            return "The row of vitals is saved."
        if name == "adverse":
            adverse_event_record(
                record=record,
                at=cast(datetime, _on_session_day(record, data["at"])),
                severity=data["severity"],
                description=data["description"],
                action_taken=data["action_taken"],
                actor=actor,
            )
            return "The adverse event is recorded."
        if name == "observations":
            dosing_record_update(record=record, observations=data["observations"], actor=actor)
            return "Observations saved."
        if name == "presence":
            dosing_record_update(
                record=record,
                present_from=_on_session_day(record, data["present_from"]),
                present_until=_on_session_day(record, data["present_until"]),
                actor=actor,
            )
            return "Your presence is saved."
        completed = dosing_discharge(
            record=record,
            alert_and_oriented=data["alert_and_oriented"],
            steady_on_feet=data["steady_on_feet"],
            driver_present=data["driver_present"],
            discharged_at=_on_session_day(record, data["discharged_at"]),
            actor=actor,
            now=now,
        )
        return completed_message(completed, lead="She is discharged and the session is completed.")

    def _page_context(
        self,
        request: HttpRequest,
        record: DosingRecord,
        now: datetime,
        bound: dict[str, forms.Form],
        blocked: list[Gate],
    ) -> dict[str, Any]:
        session = record.session
        course = session.course
        client = course.client
        appointment = session.appointment
        limits = CourseSettings.current()
        local_now = f"{timezone.localtime(now):%H:%M}"

        def form(name: str, initial: dict[str, Any]) -> forms.Form:
            return bound.get(name) or FORMS[name](prefix=name, initial=initial)

        prescriber = record.prescriber
        if not prescriber:
            clearance = MedicalClearance.objects.filter(course=course).first()
            prescriber = clearance.prescriber if clearance else ""
        vitals = [VitalRow(vital, vital_readings(vital, limits)) for vital in record.vitals.all()]
        gates: list[Gate] = []
        if record.started_at is None:
            # A start just refused is read with the blood pressure it was sent with.
            typed = getattr(bound.get("start"), "cleaned_data", {})
            gates = dosing_start_gates(
                session=session,
                now=now,
                baseline_systolic=typed.get("baseline_systolic", record.baseline_systolic),
                baseline_diastolic=typed.get("baseline_diastolic", record.baseline_diastolic),
            )
        return {
            "title": f"Medicine session {session.dosing_number or ''}: {short_name(client)}",
            "opts": self.opts,
            "has_view_permission": True,
            # The tablet's whole width for the session; the breadcrumbs lead back.
            "is_nav_sidebar_enabled": False,
            "can_change": self.has_change_permission(request, record),
            "record": record,
            "session": session,
            "course": course,
            "client": client,
            "her_name": short_name(client),
            "day": short_day(timezone.localtime(appointment.start)),
            "starts": clock(timezone.localtime(appointment.start)),
            "ends": clock(timezone.localtime(appointment.end)),
            "started_at": record.started_at and clock(timezone.localtime(record.started_at)),
            "driver_name": course.driver_name,
            "driver_phone": course.driver_phone,
            "driver_tel": tel_url(course.driver_phone),
            "gates": gates,
            "attestation_missing": any(
                gate.key == "attestation" and not gate.met for gate in gates
            ),
            "blocked": blocked,
            "session_url": reverse("admin:kap_sessions_coursesession_change", args=[session.pk]),
            "reschedule_url": reverse(
                "admin:kap_sessions_coursesession_reschedule", args=[session.pk]
            ),
            "pdf_url": reverse("kap_sessions:admin_dosing_record_pdf", args=[record.pk]),
            "client_url": reverse("admin:practice_client_change", args=[client.pk]),
            "attestation_form": form("attestation", {}),
            "course_url": reverse("admin:kap_sessions_course_change", args=[course.pk]),
            "start_form": form(
                "start",
                {
                    "baseline_systolic": record.baseline_systolic,
                    "baseline_diastolic": record.baseline_diastolic,
                },
            ),
            "medication_form": form(
                "medication",
                {
                    "medication": record.medication,
                    "route": record.route,
                    "dose_mg": record.dose_mg,
                    "lot_number": record.lot_number,
                    "given_at": _hh_mm(record.given_at) or local_now,
                    "prescriber": prescriber,
                },
            ),
            "vital_form": form("vital", {"entry_key": uuid.uuid4(), "taken_at": local_now}),
            "adverse_form": form("adverse", {"at": local_now}),
            "observations_form": form("observations", {"observations": record.observations}),
            "presence_form": form(
                "presence",
                {
                    "present_from": _hh_mm(record.present_from),
                    "present_until": _hh_mm(record.present_until),
                },
            ),
            "discharge_form": form(
                "discharge",
                {"discharged_at": _hh_mm(record.discharged_at) or local_now},
            ),
            "vitals": vitals,
            "limits": limits,
            "adverse_events": list(record.adverse_events.select_related("recorded_by")),
            "presence_flag": presence_flag(record),
            "vitals_url": reverse("admin:kap_sessions_dosingrecord_vitals", args=[record.pk]),
            "login_url": reverse("account_login") + f"?next={request.path}",
            "practice_zone": practice_profile().zone.key,
        }

    # --- Vitals sent in place by dosing.js -------------------------------------

    def vitals_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """Store one row of vitals (POST, the vitals form's fields); answer in JSON.

        200 with the stored row (also for a row sent again), 400 with the
        errors by field for a row that can never be stored as it is.
        """
        record = self._record(request, object_id)
        if not self.has_change_permission(request, record):
            raise PermissionDenied
        form = VitalSignForm(request.POST, prefix="vital")
        if form.is_valid():
            data = form.cleaned_data
            try:
                vital = vital_sign_record(
                    record=record,
                    entry_key=data["entry_key"],
                    taken_at=cast(datetime, _on_session_day(record, data["taken_at"])),
                    systolic=data["systolic"],
                    diastolic=data["diastolic"],
                    heart_rate=data["heart_rate"],
                    spo2=data["spo2"],
                    actor=admin_actor(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return JsonResponse({"ok": True, "row": _row_json(vital)})
        return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)


def _row_json(vital: VitalSign) -> dict[str, Any]:
    limits = CourseSettings.current()
    return {
        "entry_key": str(vital.entry_key),
        "taken_at": clock(timezone.localtime(vital.taken_at)),
        "readings": [
            {"name": reading.name, "value": reading.value, "out_of_range": reading.out_of_range}
            for reading in vital_readings(vital, limits)
        ],
    }


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
