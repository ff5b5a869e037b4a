"""The booking, reschedule, cancel and waitlist forms.

A start time comes back from the browser as ISO 8601 with an offset; it is
accepted only when it is one of the slots offered right now, with a message
that says why not otherwise.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from practice.calendar.slots import is_offered, kind_settings
from practice.forms import HoneypotMixin
from practice.models import AppointmentKind, MeetingMode

from .models import INTAKE_FIELDS, Consultation
from .services import DETAIL_FIELDS
from .zones import zone_or_none

PHONE_CHARACTERS = re.compile(r"^\+?[\d\s().\-]+$")

SLOT_GONE = "That time was just taken. Please choose another; everything else you typed is kept."

# What the phone field's label adds, by what her other answers need it for.
# ``static/js/consultation.js`` switches between the same words as she answers.
PHONE_NEEDS = {
    "": "",
    "optional": "(optional)",
    "call": "(needed for a phone call)",
    "contact": "(needed to call or text you)",
}


def phone_need(data: Any) -> str:
    """Why her answers need a phone number: "call", "contact", "optional", or "" (not yet known)."""
    mode = data.get("meeting_mode", "")
    contact = data.get("preferred_contact", "")
    if mode == MeetingMode.PHONE:
        return "call"
    if contact in ("phone", "text"):
        return "contact"
    if mode and contact:
        return "optional"
    return ""


def phone_label(need: str) -> SafeString:
    return format_html('Phone <span data-phone-need="">{}</span>', PHONE_NEEDS[need])


def parse_start(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            return None
        return moment.astimezone(UTC)
    except (ValueError, AttributeError, OverflowError):
        # OverflowError: an offset that carries the first or the last day of
        # the calendar past its end ("0001-01-01T00:30:00+01:00").
        return None


def clean_offered_start(value: str, *, ignore_appointment_id: int | None = None) -> datetime:
    start = parse_start(value or "")
    if start is None:
        raise forms.ValidationError("Please choose one of the times offered.")
    now = timezone.now()
    settings = kind_settings(AppointmentKind.CONSULTATION)
    if start <= now:
        raise forms.ValidationError("That time has already passed. Please choose another.")
    if start < now + settings.minimum_notice:
        raise forms.ValidationError(
            f"Times need to be at least {settings.minimum_notice_hours} hours ahead. "
            "Please choose a later one."
        )
    if start > now + settings.horizon:
        raise forms.ValidationError(
            f"Bookings open {settings.horizon_days} days ahead. Please choose an earlier time."
        )
    if not is_offered(
        kind=AppointmentKind.CONSULTATION,
        start=start,
        now=now,
        settings=settings,
        ignore_appointment_id=ignore_appointment_id,
    ):
        raise forms.ValidationError(SLOT_GONE)
    return start


def clean_zone_name(value: str) -> str:
    if zone_or_none(value) is None:
        raise forms.ValidationError("Please choose a time zone from the list.")
    return value


class BookingForm(HoneypotMixin, forms.ModelForm):  # type: ignore[type-arg]
    start = forms.CharField(
        label="Time", error_messages={"required": "Please choose a time for the call."}
    )
    submission_id = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This page was incomplete. Please check the form and press Book again.",
            "invalid": "This page was incomplete. Please check the form and press Book again.",
        },
    )

    # Kept on the calendar appointment (``Appointment.mode``), not the consultation.
    meeting_mode = forms.ChoiceField(
        label="Phone or video?",
        choices=[(mode.value, mode.label) for mode in Consultation.MEETING_MODES],
        widget=forms.RadioSelect,
        error_messages={"required": "Please choose phone or video."},
    )

    class Meta:
        model = Consultation
        fields = list(DETAIL_FIELDS)
        labels = {
            "first_name": "First name",
            "last_name": "Last name",
            "email": "Email",
            "preferred_contact": "How should I reach you about the booking?",
            "time_zone": "Your time zone",
            "reason": "What brings you here?",
            "perinatal": "Are you pregnant or postpartum?",
            "perinatal_months": "How many months? (optional)",
            "children_ages": "Ages of your children (optional)",
            "prior_experience": "Any earlier experience with micro-dosing or psychedelics?",
            "medications": "Current medications (optional)",
            "heard_from": "How did you hear about the practice? (optional)",
            "consent_to_contact": "I agree to be contacted about this consultation.",
        }
        help_texts = {
            "phone": "Needed for a phone call, or to call or text you.",
            "reason": "A few sentences is plenty.",
            "perinatal_months": "Months pregnant, or months since the birth.",
            "medications": "Names are enough; we can talk on the call.",
        }
        widgets = {
            "preferred_contact": forms.RadioSelect,
            "perinatal": forms.RadioSelect,
            "prior_experience": forms.RadioSelect,
            "time_zone": forms.HiddenInput(attrs={"data-zone-input": ""}),
            "reason": forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
            "medications": forms.Textarea(attrs={"rows": 2, "maxlength": 1000}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(
                attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}
            ),
            "perinatal_months": forms.NumberInput(attrs={"min": 0, "max": 36}),
        }
        error_messages = {
            "first_name": {"required": "Please tell me your first name."},
            "last_name": {"required": "Please tell me your last name."},
            "email": {
                "required": "Please give an email address for the confirmation.",
                "invalid": "That email address does not look right. Please check it.",
            },
            "reason": {"required": "Please say a few words about what brings you here."},
            "preferred_contact": {"required": "Please choose how I should reach you."},
            "perinatal": {"required": "Please say whether you are pregnant or postpartum."},
            "prior_experience": {"required": "Please choose an answer about earlier experience."},
        }

    # The order of the page, which the error summary follows.
    field_order = (
        "start",
        "first_name",
        "last_name",
        "email",
        "meeting_mode",
        "preferred_contact",
        "phone",
        *INTAKE_FIELDS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Her answers so far decide whether the phone is needed; the label
        # says so, and the browser checks it (the server does in ``clean``).
        need = phone_need(self.data) if self.is_bound else ""
        self.fields["phone"].label = phone_label(need)
        if need in ("call", "contact"):
            self.fields["phone"].widget.attrs["required"] = True
        heard_from = cast(forms.ChoiceField, self.fields["heard_from"])
        heard_from.choices = [("", "Choose one"), *Consultation.HeardFrom.choices]
        self.fields["consent_to_contact"].required = True
        self.fields["consent_to_contact"].error_messages["required"] = (
            "Please agree to be contacted, so I can confirm the call."
        )
        self.fields["preferred_contact"].required = True
        # A radio list has no "nothing chosen" button: she picks one of the
        # answers (the field is required), none is chosen for her.
        for name, answers in (
            ("perinatal", Consultation.Perinatal),
            ("prior_experience", Consultation.PriorExperience),
        ):
            cast(forms.ChoiceField, self.fields[name]).choices = answers.choices

    def clean_start(self) -> datetime:
        return clean_offered_start(self.cleaned_data.get("start", ""))

    def clean_time_zone(self) -> str:
        return clean_zone_name(self.cleaned_data.get("time_zone", ""))

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        if not phone:
            return ""
        digits = re.sub(r"\D", "", phone)
        if not PHONE_CHARACTERS.match(phone) or not 7 <= len(digits) <= 15:
            raise forms.ValidationError(
                "That phone number does not look right. Digits, spaces, + ( ) - are fine."
            )
        return phone

    def clean_perinatal_months(self) -> int | None:
        months = self.cleaned_data.get("perinatal_months")
        if months is not None and months > 36:
            raise forms.ValidationError("Please give a number of months up to 36.")
        return months

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("perinatal") == Consultation.Perinatal.NEITHER:
            data["perinatal_months"] = None
        if data.get("preferred_contact") in ("phone", "text") and not data.get("phone"):
            self.add_error("phone", "Please give a phone number, or choose email.")
        if data.get("meeting_mode") == MeetingMode.PHONE and not data.get("phone"):
            self.add_error("phone", "Please give a phone number for the call.")
        return data

    def _post_clean(self) -> None:
        # The consultation row is written by the booking service, not by this
        # form, and its calendar appointment does not exist yet; the model's
        # own checks run there.
        return


class RescheduleForm(forms.Form):
    start = forms.CharField(
        label="New time", error_messages={"required": "Please choose a new time."}
    )

    def __init__(self, *args: Any, appointment_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appointment_id = appointment_id

    def clean_start(self) -> datetime:
        return clean_offered_start(
            self.cleaned_data.get("start", ""), ignore_appointment_id=self.appointment_id
        )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Would you like to say why? (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )


class WaitlistForm(HoneypotMixin, forms.Form):
    # The booking page carries this form beside the booking form: the prefix
    # keeps their element ids (and so their labels) apart.
    prefix = "waitlist"

    name = forms.CharField(max_length=200, error_messages={"required": "Please give your name."})
    email = forms.EmailField(
        error_messages={
            "required": "Please give an email address.",
            "invalid": "That email address does not look right. Please check it.",
        }
    )
    preferred_times = forms.CharField(
        label="Which times would suit you? (optional)",
        required=False,
        max_length=300,
        help_text="For example: weekday evenings, or Saturday mornings.",
    )
    time_zone = forms.CharField(widget=forms.HiddenInput(attrs={"data-zone-input": ""}))

    def clean_time_zone(self) -> str:
        return clean_zone_name(self.cleaned_data.get("time_zone", ""))


class AdminCancelForm(forms.Form):
    note = forms.CharField(
        label="A note to her (optional; sent in the cancellation email)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ConsultationAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """The therapist's consultation page: her contact details, call notes, and how we meet.

    How we meet and this call's own video link live on the calendar
    appointment; the admin saves them through ``consultation_set_meeting``.
    Once the consultation is no longer booked they are shown, not edited.
    """

    meeting_mode = forms.ChoiceField(
        label="How we meet",
        choices=[(mode.value, mode.label) for mode in Consultation.MEETING_MODES],
    )
    video_url = forms.URLField(
        label="Video link for this call",
        required=False,
        assume_scheme="https",
        help_text="Leave empty to use your video room from the practice profile.",
    )

    class Meta:
        model = Consultation
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "preferred_contact",
            "call_notes",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        appointment = self.instance.appointment
        self.fields["meeting_mode"].initial = appointment.mode
        self.fields["video_url"].initial = appointment.video_url
        if appointment.status != appointment.Status.BOOKED:
            self.fields["meeting_mode"].disabled = True
            self.fields["video_url"].disabled = True
