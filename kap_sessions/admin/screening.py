"""Screening questionnaires: what she is asked to answer, her answers as scored, the cut-offs.

"Add" on the assignments is the assign form (several questionnaires at
once); withdrawing one goes through ``screening_withdraw``. Her answered
questionnaires are read-only and every opening is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from practice.admin_actions import admin_actor, service_action
from practice.admin_audit import AuditedAdminMixin
from practice.admin_mixins import ReadOnlyAdminMixin
from practice.admin_site import Section
from practice.identity import practice_profile
from practice.models import Client

from ..instruments import INSTRUMENTS
from ..models import INSTRUMENT_CHOICES, ScreeningAssignment, ScreeningResponse, ScreeningSettings
from ..services import screening_assign, screening_withdraw


class AssignQuestionnairesForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.active().order_by("last_name"))
    instruments = forms.MultipleChoiceField(
        label="Questionnaires",
        choices=INSTRUMENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one questionnaire."},
    )
    due_on = forms.DateField(
        label="Due on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="She is emailed that something is ready in her portal (nothing more).",
    )

    def clean_due_on(self) -> date:
        due_on: date = self.cleaned_data["due_on"]
        if due_on < timezone.localdate(timezone=practice_profile().zone):
            raise forms.ValidationError("Choose today or a later day.")
        return due_on


def _withdraw(request: HttpRequest, assignment: ScreeningAssignment) -> ScreeningAssignment:
    actor = admin_actor(request)
    return screening_withdraw(assignment=assignment, actor=actor)


@admin.register(ScreeningAssignment)
class ScreeningAssignmentAdmin(AuditedAdminMixin):
    """What she has been asked to answer. "Add" is the assign form (several at once)."""

    workspace_section = Section.CLIENTS
    list_display = ["client", "instrument", "due_on", "status", "assigned_at"]
    list_filter = ["status", "instrument"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client"]
    readonly_fields = ["client", "instrument", "due_on", "status", "assigned_at", "assigned_by"]
    change_list_template = "kap_sessions/admin/screeningassignment_change_list.html"
    actions = [
        service_action(
            name="withdraw",
            label="Withdraw (she no longer needs to answer)",
            apply_with_request=_withdraw,
            done=lambda count: f"{count} questionnaire(s) withdrawn.",
        )
    ]

    def audit_client(self, obj: object) -> Client | None:
        return obj.client if isinstance(obj, ScreeningAssignment) else None

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns, whose "<object_id>/" would take it.
        return [
            path(
                "assign/",
                self.admin_site.admin_view(self.assign_view),
                name="kap_sessions_screeningassignment_assign",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self.assign_view(request)

    def assign_view(self, request: HttpRequest) -> HttpResponse:
        """Assign questionnaires to a client for a date; ``?client=<id>`` preselects her."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = AssignQuestionnairesForm(request.POST)
            if form.is_valid():
                return self._assign(request, form)
        else:
            form = AssignQuestionnairesForm(initial={"client": request.GET.get("client")})
        return render(
            request,
            "kap_sessions/admin/assign_questionnaires.html",
            {
                **self.admin_site.each_context(request),
                "title": "Assign questionnaires",
                "opts": self.opts,
                "form": form,
            },
        )

    def _assign(self, request: HttpRequest, form: AssignQuestionnairesForm) -> HttpResponse:
        client: Client = form.cleaned_data["client"]
        due_on: date = form.cleaned_data["due_on"]
        actor = admin_actor(request)
        with transaction.atomic():
            for slug in form.cleaned_data["instruments"]:
                screening_assign(client=client, instrument=slug, due_on=due_on, actor=actor)
        names = ", ".join(INSTRUMENTS[slug].name for slug in form.cleaned_data["instruments"])
        self.message_user(
            request,
            f"{client.full_name} is asked to answer {names} by {date_format(due_on)}.",
            messages.SUCCESS,
        )
        changelist = reverse("admin:kap_sessions_screeningassignment_changelist")
        return HttpResponseRedirect(f"{changelist}?client__id__exact={client.pk}")


RESPONSE_FIELDS: tuple[str, ...] = (
    "client",
    "instrument",
    "version",
    "completed_at",
    "score",
    "band",
    "safety",
    "change_since_last",
    "answers_as_text",
)


def answer_lines(response: ScreeningResponse) -> list[str]:
    """Her answers as text, "Q9: Several days (1)", in item order (the admin's and tests' form)."""
    instrument = response.definition
    lines = []
    for answer in response.answers.all():
        item = instrument.item(answer.item_number)
        label = item.options[answer.position][0]
        counted = "" if item.scored else ", not counted"
        lines.append(f"Q{answer.item_number}: {label} ({answer.score}{counted})")
    return lines


@admin.register(ScreeningResponse)
class ScreeningResponseAdmin(ReadOnlyAdminMixin, AuditedAdminMixin):
    """Her answered questionnaires, as scored then. Read-only; every opening is audited.

    The list shows who answered what and when, never a score: opening one is
    the audited view of her answers (a list of scores would be a view of
    many records that no audit line names).
    """

    workspace_section = None  # from her client page (the scores panel)
    list_display = ["client", "instrument", "completed_at"]
    list_filter = ["instrument"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client"]
    date_hierarchy = "completed_at"
    fields = RESPONSE_FIELDS
    readonly_fields = RESPONSE_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScreeningResponse]:
        return (
            super()
            .get_queryset(request)
            .select_related("client")
            .with_change_since_last()  # type: ignore[attr-defined]
            .prefetch_related("answers")
        )

    def audit_client(self, obj: object) -> Client | None:
        return obj.client if isinstance(obj, ScreeningResponse) else None

    @admin.display(description="Score")
    def score(self, obj: ScreeningResponse) -> str:
        return f"{obj.total} of {obj.definition.max_total}"

    @admin.display(description="Change since the last one")
    def change_since_last(self, obj: ScreeningResponse) -> str:
        change = getattr(obj, "change_since_last", None)
        if change is None:
            return "Her first one"
        return f"{change:+d} (from {obj.previous_total})"  # type: ignore[attr-defined]

    @admin.display(description="Answers")
    def answers_as_text(self, obj: ScreeningResponse) -> str:
        """One line per item, "Q9: Several days (1)": the option she chose and its score."""
        return format_html(
            '<ul class="screening-answers">{}</ul>',
            format_html_join("", "<li>{}</li>", ((line,) for line in answer_lines(obj))),
        )


@admin.register(ScreeningSettings)
class ScreeningSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The EPDS cut-offs: one row, written by the migration; changes apply to new answers."""

    workspace_section = Section.SETTINGS
    fields = ["epds_possible", "epds_probable"]

    # One row with defaults: never "added", and the list opens the row itself.
    # (Asking whether it exists would cost a query on every admin page, where
    # the sidebar asks each model whether she may add one.)
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        row, _ = ScreeningSettings.objects.get_or_create(pk=1)
        return HttpResponseRedirect(
            reverse("admin:kap_sessions_screeningsettings_change", args=[row.pk])
        )
