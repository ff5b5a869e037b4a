"""The portal's home, her profile, and an appointment's calendar file.

Written for a tired mother on a phone: the home page says hello, shows the
one next step first, then her appointments (in her own time zone), her
documents and her details. Every view is behind ``portal_client_required``
and reads only what belongs to ``request.client``; each page costs a fixed
number of queries, however many appointments or documents she has.

The home's reads (her to-do list, appointments, documents and paperwork),
and its body as rendered from them, are kept in the process between her
views and out-dated by any change of hers
(``kap_sessions.services.portal_cache``): a repeated view costs her session,
her record, the audit line and the portal's frame around the kept body. Her
record itself is read on every view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods, require_safe

from practice.calendar.display import clock
from practice.calendar.ics import appointment_ics
from practice.calendar.zones import zone_choices, zone_label
from practice.client_records import ClientDocument, USState
from practice.forms import error_summary
from practice.identity import practice_profile
from practice.models import Appointment, AppointmentKind, AuditEvent, Client, PracticeProfile
from practice.services import audit_record

from ..services.portal import PROFILE_FIELDS, PortalTodo, client_profile_update, portal_todo
from .access import PortalRequest, audits_itself, her_object_or_404, portal_client_required
from .paperwork import PaperworkItem, portal_paperwork


def her_time(moment: datetime, zone: ZoneInfo) -> str:
    """'Tuesday, January 5 at 9:00 AM' in her zone (with the year when it is not this one)."""
    local = moment.astimezone(zone)
    year = f", {local.year}" if local.year != timezone.now().astimezone(zone).year else ""
    return f"{local:%A, %B} {local.day}{year} at {clock(local)}"


@dataclass(frozen=True)
class UpcomingAppointment:
    appointment: Appointment
    when: str
    what: str
    how: str
    minutes: int
    video_link: str
    calendar_url: str


def _upcoming(
    appointments: tuple[Appointment, ...], zone: ZoneInfo, room_url: str
) -> list[UpcomingAppointment]:
    """Her booked appointments still ahead, as her home lists them (in her zone)."""
    return [
        UpcomingAppointment(
            appointment=appointment,
            when=her_time(appointment.start, zone),
            what=appointment.get_kind_display(),
            how=appointment.get_mode_display(),
            minutes=appointment.duration_minutes,
            video_link=appointment.video_link(room_url),
            calendar_url=reverse("kap_sessions:portal_appointment_ics", args=[appointment.pk]),
        )
        for appointment in appointments
    ]


@dataclass(frozen=True)
class HomeReads:
    """What her home reads from the database, kept between views (``portal_kept``)."""

    todos: tuple[PortalTodo, ...]
    appointments: tuple[Appointment, ...]
    documents: tuple[ClientDocument, ...]
    paperwork: tuple[PaperworkItem, ...]


def _home_reads(client: Client) -> HomeReads:
    """Her to-do list, booked appointments ahead, documents and paperwork (eight queries)."""
    return HomeReads(
        todos=tuple(portal_todo(client)),
        appointments=tuple(
            Appointment.objects.filter(
                client=client, status=Appointment.Status.BOOKED, start__gt=timezone.now()
            ).order_by("start")
        ),
        documents=tuple(ClientDocument.objects.shown_to(client)),
        paperwork=tuple(portal_paperwork(client)),
    )


def _home_body(
    client: Client,
    reads: HomeReads,
    ahead: tuple[Appointment, ...],
    zone: ZoneInfo,
    practice: PracticeProfile,
) -> SafeString:
    """Her home's body, rendered without the request (it is kept: ``portal_home``)."""
    todos = reads.todos
    return render_to_string(
        "kap_sessions/portal/_home_body.html",
        {
            "client": client,
            "practice": practice,
            "next_step": todos[0] if todos else None,
            "later_steps": todos[1:],
            "appointments": _upcoming(ahead, zone, practice.video_room_url),
            "zone_label": zone_label(zone.key),
            "documents": [
                {
                    "document": document,
                    "url": f"/portal/documents/{document.pk}/",
                    "added": her_time(document.created_at, zone).split(" at ")[0],
                }
                for document in reads.documents
            ],
            "paperwork": reads.paperwork,
        },
    )


@require_safe
@portal_client_required
def portal_home(request: PortalRequest) -> HttpResponse:
    client = request.client
    practice = practice_profile()
    zone = client.zone_or(practice.zone)
    kept = request.kept
    reads = kept.remember("reads", lambda: _home_reads(client))
    # Read up to a minute earlier: one may have started since.
    now = timezone.now()
    ahead = tuple(appointment for appointment in reads.appointments if appointment.start > now)
    body = kept.remember(
        "home",
        lambda: _home_body(client, reads, ahead, zone, practice),
        # Everything the body shows that is not one of her rows (portal_cache).
        zone.key,
        now.astimezone(zone).year,
        practice.therapist_name,
        practice.video_room_url,
        *(appointment.pk for appointment in ahead),
    )
    return render(request, "kap_sessions/portal/home.html", {"client": client, "body": body})


@require_safe
@portal_client_required
@audits_itself
def portal_appointment_ics(request: PortalRequest, appointment_id: int) -> HttpResponse:
    """One of her appointments as a calendar file; anyone else's is a 404 (both audited)."""
    appointment = her_object_or_404(
        request,
        Appointment.objects.exclude(kind=AppointmentKind.BLOCKED)
        .exclude(status=Appointment.Status.CANCELLED)
        .filter(client=request.client),
        pk=appointment_id,
    )
    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=AuditEvent.Action.DOWNLOAD,
        obj=appointment,
        client=request.client,
        request=request,
    )
    calendar_file = appointment_ics(appointment)
    response = HttpResponse(calendar_file.content, content_type=calendar_file.mimetype)
    response["Content-Disposition"] = f'attachment; filename="{calendar_file.filename}"'
    return response


class ProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    """Her contact details, emergency contact and support person, in her words."""

    time_zone = forms.ChoiceField(label="Your time zone", required=False)
    state = forms.ChoiceField(
        label="The state you live in",
        required=False,
        help_text="The practice can meet with clients in some states only.",
    )

    class Meta:
        model = Client
        fields = list(PROFILE_FIELDS)
        labels = {
            "phone": "Your phone number",
            "emergency_contact_name": "Name",
            "emergency_contact_phone": "Phone number",
            "emergency_contact_relationship": "Who they are to you",
            "support_person_name": "Name",
            "support_person_phone": "Phone number",
            "support_person_email": "Email address",
        }
        help_texts = {
            "emergency_contact_relationship": "For example: partner, sister, friend.",
            # The fieldset says who a support person is, in her words.
            "support_person_name": "",
        }
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel"}),
            "support_person_phone": forms.TextInput(attrs={"type": "tel"}),
            "support_person_email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "emergency_contact_name": forms.TextInput(attrs={"autocomplete": "off"}),
            "support_person_name": forms.TextInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args: Any, practice_zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        time_zone = cast(forms.ChoiceField, self.fields["time_zone"])
        time_zone.choices = [
            ("", f"The practice's time ({zone_label(practice_zone.key)})"),
            *zone_choices(self.instance.time_zone),
        ]
        state = cast(forms.ChoiceField, self.fields["state"])
        state.choices = [("", "Choose your state"), *USState.choices]
        # Everything may wait: she fills in what she has when she has it.
        for name in PROFILE_FIELDS:
            self.fields[name].required = False


# The summary above the form names a field without its fieldset's legend.
ERROR_SUMMARY_LABELS = {
    "emergency_contact_name": "Emergency contact's name",
    "emergency_contact_phone": "Emergency contact's phone number",
    "emergency_contact_relationship": "Who your emergency contact is to you",
    "support_person_name": "Support person's name",
    "support_person_phone": "Support person's phone number",
    "support_person_email": "Support person's email address",
}


@require_http_methods(["GET", "POST"])
@portal_client_required
def portal_profile(request: PortalRequest) -> HttpResponse:
    client = request.client
    practice_zone = practice_profile().zone
    form = ProfileForm(
        request.POST if request.method == "POST" else None,
        instance=client,
        practice_zone=practice_zone,
    )
    if request.method == "POST" and form.is_valid():
        client_profile_update(
            client=client,
            actor=request.user,  # type: ignore[arg-type]
            changes={name: form.cleaned_data[name] for name in PROFILE_FIELDS},
        )
        messages.success(request, "Your details are saved.")
        return redirect("kap_sessions:portal_profile")
    errors = error_summary(
        form, question=lambda field: ERROR_SUMMARY_LABELS.get(field.name, str(field.label))
    )
    return render(
        request,
        "kap_sessions/portal/profile.html",
        {"client": client, "form": form, "errors": errors},
        status=400 if form.is_bound else 200,
    )
