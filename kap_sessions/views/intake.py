"""Her intake in the portal, /portal/intake/: one section at a time, saved as she goes.

- **Where she lands.** Without ``?section=`` the page opens the first section
  still missing an answer, so a new session (another day, another phone)
  resumes where she left off; with every section answered, the last one,
  whose button sends the intake. A short line says "Step 3 of 8".
- **Saving.** Every button saves the section's answers first, as they are:
  a half-filled section is kept half filled. Only the answers she gave are
  checked for their form (a phone number, an email address); an answer that
  is not well formed is shown back to her with its message and the others
  are saved. "Save and continue" then asks for the answers this section
  still needs before it moves on; "Save and continue later" takes her to her
  portal's home; "Back" to the step before. "Send my intake", on the last
  step, checks every section and lists, with links, any still to answer.
- **Safety.** A save that turns "thoughts of ending your life or harming
  yourself now" to yes raises the flag and the therapist's alert in the
  same transaction (``intake_save_section``); she is then shown the crisis
  page at once, whatever button she pressed.
- Once sent, the intake is read-only here (the service refuses changes):
  she sees a thank-you page.

The form of a section is built from :data:`kap_sessions.models.SECTIONS` and
the model fields, with the questions worded for her in :data:`QUESTIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from practice.forms import error_summary
from practice.models import Client, User

from ..models import SECTIONS, Intake, IntakeSection
from ..services.intake import intake_save_section, intake_section, intake_submit
from .access import PortalRequest, portal_client_required

# The portal's home, as the URL contract names it.
PORTAL_HOME = "/portal/"

CONTINUE, LATER, BACK, SUBMIT = "continue", "later", "back", "submit"

YES_NO = [("yes", "Yes"), ("no", "No")]

# The questions as she reads them; the model's verbose names are the
# therapist's short labels.
QUESTIONS: dict[str, str] = {
    "blood_pressure": "Your blood pressure",
    "heart_condition": (
        "Do you have, or have you had, a heart condition? For example a heart attack, "
        "an irregular heartbeat or chest pain."
    ),
    "liver_condition": "Do you have, or have you had, a liver condition?",
    "bladder_condition": "Do you have bladder or urinary problems?",
    "glaucoma": "Do you have glaucoma, or raised pressure in the eye?",
    "seizures": "Have you ever had seizures or epilepsy?",
    "medical_notes": "Anything else about your physical health you would like me to know",
    "psychosis_history": (
        "Have you ever seen or heard things others did not, or held beliefs others found untrue?"
    ),
    "mania_or_bipolar": "Have you ever had mania, or been told you have bipolar disorder?",
    "psychiatric_hospitalization": "Have you ever stayed in hospital for your mental health?",
    "current_suicidal_thoughts": (
        "Are you having thoughts of ending your life or harming yourself now?"
    ),
    "psychiatric_notes": "Anything else about your mental health you would like me to know",
    "substance_use": "Alcohol and other substances",
    "substance_notes": "What you use, and how often",
    "medications": "Medications and supplements you take",
    "allergies": "Allergies",
    "pregnant": "Are you pregnant now?",
    "breastfeeding": "Are you breastfeeding now?",
    "prior_ketamine": "Have you taken ketamine before?",
    "prior_psychedelics": "Have you taken psychedelics before?",
    "prior_experience_notes": "How were those experiences?",
    "state": "The state you live in",
    "emergency_contact_name": "Emergency contact: name",
    "emergency_contact_phone": "Emergency contact: phone",
    "emergency_contact_relationship": "Emergency contact: who they are to you",
    "support_person_name": "Support person: name",
    "support_person_phone": "Support person: phone",
    "support_person_email": "Support person: email",
    "driver_name": "Who will drive you home after a session",
    "driver_phone": "Their phone number",
    "childcare_plan": "Who will care for your children that day",
}

HELP: dict[str, str] = {
    "current_suicidal_thoughts": (
        "If you answer yes, you will see at once who you can reach right now, and "
        "I will be told so that I can reach out to you."
    ),
    "medications": "Include prescriptions, vitamins and herbal remedies. Write “none” if none.",
    "allergies": "Write “none” if you have none.",
    "emergency_contact_relationship": "For example: partner, sister, friend.",
    "support_person_name": (
        "Someone you would like to be told about your care, if you wish. You can leave this empty."
    ),
    "driver_name": "You must not drive for the rest of the day after a session.",
}

INTROS: dict[str, str] = {
    "medical": "A few questions about your body, so that we can plan safely. Answer as best "
    "you can.",
    "mental_health": "These can be hard to answer. Please answer honestly; we will talk them "
    "through together.",
    "substances": "No judgement here: this helps keep your sessions safe.",
    "medications": "So that your prescriber and I know what you already take.",
    "pregnancy": "This matters for your safety, and it stays between us.",
    "experience": "Whatever your experience, it is welcome here.",
    "people": "I can work only with people who live in some states, and we need someone to "
    "call if we cannot reach you.",
    "session_day": "On the day of a session you will need a ride home, and your children "
    "will need care for the rest of that day.",
}

AUTOCOMPLETE: dict[str, str] = {
    "emergency_contact_name": "off",
    "support_person_name": "off",
    "driver_name": "off",
}

PHONE_FIELDS = {"emergency_contact_phone", "support_person_phone", "driver_phone"}
phone_number = RegexValidator(
    r"^\+?[\d\s().\-]{7,}$",
    "Please enter a phone number, for example (555) 123-4567.",
)

ANSWER_NEEDED = "Please answer this question."


def _model_field(section: IntakeSection, name: str) -> models.Field[Any, Any]:
    model = Client if name in section.client_fields else Intake
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)  # noqa: S101  (a concrete column, for mypy)
    return field


def _form_field(section: IntakeSection, name: str) -> forms.Field:
    model_field = _model_field(section, name)
    label = QUESTIONS[name] + (" (optional)" if name in section.optional else "")
    common: dict[str, Any] = {"label": label, "required": False, "help_text": HELP.get(name, "")}
    if isinstance(model_field, models.BooleanField):
        return forms.TypedChoiceField(
            choices=YES_NO,
            coerce=lambda value: value == "yes",
            empty_value=None,
            widget=forms.RadioSelect,
            **common,
        )
    if model_field.choices:
        choices = [(str(value), str(text)) for value, text in model_field.flatchoices]
        if name == "state":
            return forms.TypedChoiceField(
                choices=[("", "Choose your state"), *choices], empty_value="", **common
            )
        return forms.TypedChoiceField(
            choices=choices, empty_value="", widget=forms.RadioSelect, **common
        )
    if isinstance(model_field, models.EmailField):
        return forms.EmailField(max_length=model_field.max_length, **common)
    if isinstance(model_field, models.TextField):
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    attrs = {"autocomplete": AUTOCOMPLETE[name]} if name in AUTOCOMPLETE else {}
    if name in PHONE_FIELDS:
        return forms.CharField(
            max_length=model_field.max_length,
            validators=[phone_number],
            widget=forms.TextInput(attrs={"type": "tel", **attrs}),
            **common,
        )
    return forms.CharField(
        max_length=model_field.max_length, widget=forms.TextInput(attrs=attrs), **common
    )


class IntakeSectionForm(forms.Form):
    """The questions of one section; every answer may be empty (see the module docstring)."""

    def __init__(
        self, *args: Any, section: IntakeSection, intake: Intake, client: Client, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", _initial(section, intake, client))
        super().__init__(*args, **kwargs)
        self.section = section
        for name in (*section.fields, *section.client_fields):
            self.fields[name] = _form_field(section, name)

    def answers(self) -> dict[str, Any]:
        """The answers that are well formed, to be saved (the others keep their stored value)."""
        return {name: value for name, value in self.cleaned_data.items() if name in self.fields}

    def ask_for_missing(self, intake: Intake, client: Client) -> None:
        """Mark the required questions of this section that are still unanswered."""
        for name in self.section.required:
            owner = client if name in self.section.client_fields else intake
            if getattr(owner, name) in (None, "") and name not in self.errors:
                self.add_error(name, ANSWER_NEEDED)


def _initial(section: IntakeSection, intake: Intake, client: Client) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for name in (*section.fields, *section.client_fields):
        value = getattr(client if name in section.client_fields else intake, name)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        initial[name] = value
    return initial


@dataclass(frozen=True)
class Step:
    number: int
    section: IntakeSection

    @property
    def is_last(self) -> bool:
        return self.number == len(SECTIONS)

    @property
    def previous(self) -> IntakeSection | None:
        return SECTIONS[self.number - 2] if self.number > 1 else None

    @property
    def next(self) -> IntakeSection | None:
        return None if self.is_last else SECTIONS[self.number]


def _step(section: IntakeSection) -> Step:
    return Step(number=SECTIONS.index(section) + 1, section=section)


def _section_url(section: IntakeSection) -> str:
    return f"{reverse('kap_sessions:portal_intake')}?section={section.name}"


def _her_intake(client: Client) -> Intake:
    """Her intake, or an empty unsaved one before her first save (a GET writes nothing)."""
    intake = Intake.objects.filter(client=client).first() or Intake(client=client)
    intake.client = client  # missing_sections() reads her record; no second query
    return intake


def _landing_section(intake: Intake, asked: str | None) -> IntakeSection:
    if asked:
        try:
            return intake_section(asked)
        except KeyError:
            pass
    missing = intake.missing_sections()
    return missing[0] if missing else SECTIONS[-1]


def _render(
    request: PortalRequest,
    form: IntakeSectionForm,
    *,
    missing_sections: list[IntakeSection] | None = None,
    status: int = 200,
) -> HttpResponse:
    step = _step(form.section)
    errors = (
        error_summary(form, question=lambda field: QUESTIONS[field.name]) if form.is_bound else []
    )
    return render(
        request,
        "kap_sessions/portal/intake.html",
        {
            "form": form,
            "step": step,
            "steps": len(SECTIONS),
            "intro": INTROS.get(step.section.name, ""),
            "errors": errors,
            "missing_sections": [
                {"title": section.title, "url": _section_url(section)}
                for section in missing_sections or []
            ],
            "actions": {"continue": CONTINUE, "later": LATER, "back": BACK, "submit": SUBMIT},
        },
        status=status,
    )


@sensitive_post_parameters()
@portal_client_required
@require_http_methods(["GET", "POST"])
def intake(request: PortalRequest) -> HttpResponse:
    client = request.client
    her_intake = _her_intake(client)
    if her_intake.is_submitted:
        return render(request, "kap_sessions/portal/intake_done.html", {"home": PORTAL_HOME})
    if request.method != "POST":
        section = _landing_section(her_intake, request.GET.get("section"))
        return _render(
            request, IntakeSectionForm(section=section, intake=her_intake, client=client)
        )

    try:
        section = intake_section(request.POST.get("section", ""))
    except KeyError:
        raise Http404("No such part of the intake.") from None
    form = IntakeSectionForm(request.POST, section=section, intake=her_intake, client=client)
    form.is_valid()  # the well-formed answers are saved whatever else is wrong
    try:
        saved = intake_save_section(
            client=client, section=section.name, answers=form.answers(), actor=_her_user(request)
        )
    except ValidationError as exc:
        if exc.code == "submitted":
            # Sent meanwhile (another tab): what was sent stands.
            return redirect("kap_sessions:portal_intake")
        form.add_error(None, exc)
        return _render(request, form)
    if saved.safety_flag is not None:
        return redirect("kap_sessions:portal_safety")
    return _after_save(request, form, saved.intake, request.POST.get("action", CONTINUE))


def _after_save(
    request: PortalRequest, form: IntakeSectionForm, saved: Intake, action: str
) -> HttpResponse:
    step = _step(form.section)
    if form.errors:
        # Everything well formed is saved; she sees what to correct, whichever button.
        return _render(request, form)
    if action == LATER:
        messages.success(request, "Saved. You can pick up where you left off at any time.")
        return redirect(PORTAL_HOME)
    if action == BACK and step.previous is not None:
        return redirect(_section_url(step.previous))
    if action == SUBMIT:
        try:
            intake_submit(client=request.client, actor=_her_user(request))
        except ValidationError as exc:
            if not saved.section_done(form.section):
                form.ask_for_missing(saved, saved.client)
            missing = _missing_from(exc)
            return _render(request, form, missing_sections=missing)
        messages.success(request, "Thank you. Your intake is on its way.")
        return redirect("kap_sessions:portal_intake")
    if not saved.section_done(form.section):
        form.ask_for_missing(saved, saved.client)
        return _render(request, form)
    if step.next is None:
        return redirect(_section_url(step.section))
    return redirect(_section_url(step.next))


def _missing_from(error: ValidationError) -> list[IntakeSection]:
    params: Mapping[str, Any] = getattr(error, "params", None) or {}
    return list(params.get("sections", []))


def _her_user(request: PortalRequest) -> User:
    # portal_client_required let in a signed-in user with a client record.
    return cast(User, request.user)
