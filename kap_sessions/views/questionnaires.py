"""The screening questionnaires in her portal: /portal/questionnaires/<slug>/.

The page opens her earliest open assignment of that instrument (a 404 when
she has none), one fieldset per item with its options as radio buttons. The
form carries the assignment's id, so a second submit of the same page (a
double tap, the back button and "send again") lands on the first answer's
result instead of a 404; the lookup is always by ``client=request.client``,
so another client's assignment is a 404 whatever id is posted.

After her answers: the crisis page when they trip the safety rule (the flag
and the therapist's alert are already written, in the same transaction),
otherwise a calm thank-you page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from practice.forms import error_summary

from ..instruments import Instrument, instrument_for
from ..models import ScreeningAssignment, ScreeningResponse, ScreeningStatus
from ..services.screening import screening_submit
from .access import PortalRequest, portal_client_required


def item_field_name(number: int) -> str:
    return f"item_{number}"


class QuestionnaireForm(forms.Form):
    """One radio list per item; a value is the position of the option (0 is the first shown)."""

    assignment = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[item_field_name(item.number)] = forms.TypedChoiceField(
                label=item.text,
                choices=[
                    (str(position), label) for position, (label, _) in enumerate(item.options)
                ],
                coerce=int,
                empty_value=None,
                required=item.required,
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"Please answer question {item.number}.",
                    "invalid_choice": f"Please choose an answer to question {item.number}.",
                },
            )

    def answers(self) -> dict[int, int]:
        """Item number → position, for the items she answered."""
        answers = {}
        for item in self.instrument.items:
            position = self.cleaned_data.get(item_field_name(item.number))
            if position is not None:
                answers[item.number] = position
        return answers


def _instrument_or_404(slug: str) -> Instrument:
    try:
        return instrument_for(slug)
    except KeyError:
        raise Http404("No such questionnaire.") from None


def _answered(slug: str, response: ScreeningResponse) -> HttpResponseRedirect:
    if response.safety:
        return redirect("kap_sessions:portal_safety")
    return redirect("kap_sessions:portal_questionnaire_thanks", slug=slug)


def _render(
    request: PortalRequest, form: QuestionnaireForm, assignment: ScreeningAssignment
) -> HttpResponse:
    return render(
        request,
        "kap_sessions/portal/questionnaire.html",
        {
            "form": form,
            "instrument": form.instrument,
            "assignment": assignment,
            "questions": [
                (item, form[item_field_name(item.number)]) for item in form.instrument.items
            ],
            "errors": error_summary(form) if form.is_bound else [],
        },
    )


@portal_client_required
@require_http_methods(["GET", "POST"])
def questionnaire(request: PortalRequest, slug: str) -> HttpResponse:
    instrument = _instrument_or_404(slug)
    if request.method != "POST":
        assignment = (
            ScreeningAssignment.objects.open_for(request.client)
            .filter(instrument=instrument.slug)
            .first()
        )
        if assignment is None:
            raise Http404("Nothing to answer here.")
        form = QuestionnaireForm(initial={"assignment": assignment.pk}, instrument=instrument)
        return _render(request, form, assignment)

    try:
        assignment_id = int(request.POST.get("assignment", ""))
    except ValueError:
        raise Http404("No such questionnaire.") from None
    assignment = get_object_or_404(
        ScreeningAssignment, pk=assignment_id, client=request.client, instrument=instrument.slug
    )
    if assignment.status == ScreeningStatus.COMPLETED:
        # Sent twice: her first answers stand, and she sees where they led.
        return _answered(slug, assignment.response)
    form = QuestionnaireForm(request.POST, instrument=instrument)
    if form.is_valid():
        try:
            response = screening_submit(
                assignment=assignment, answers=form.answers(), client=request.client
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _answered(slug, response)
    return _render(request, form, assignment)


@portal_client_required
@require_http_methods(["GET"])
def questionnaire_thanks(request: PortalRequest, slug: str) -> HttpResponse:
    # No score or band is shown to her, here or anywhere in the portal. These
    # are screening tools the therapist reads with her: a bare number can
    # alarm or falsely reassure a tired mother at midnight, and most practices
    # keep raw scores for the conversation. She hears about them when they meet.
    instrument = _instrument_or_404(slug)
    next_assignment = ScreeningAssignment.objects.open_for(request.client).first()
    return render(
        request,
        "kap_sessions/portal/questionnaire_thanks.html",
        {
            "instrument": instrument,
            "next_assignment": next_assignment,
            "next_url": (
                reverse("kap_sessions:portal_questionnaire", args=[next_assignment.instrument])
                if next_assignment is not None
                else ""
            ),
            "portal_home": reverse("kap_sessions:portal_home"),
        },
    )
