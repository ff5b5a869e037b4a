"""Her intake, as she answered it: one read-only page per client, every opening audited.

The client page's preparation panel says which parts are done; this page
(``admin:kap_sessions_client_intake``, ``client/<id>/``) is where the
therapist reads the answers themselves: every section of
:data:`kap_sessions.models.SECTIONS`, each question as the client read it
(:data:`kap_sessions.views.intake.QUESTIONS`), her free text decrypted, yes
and no in words, choices by their label, the "people" answers from her client
record, and whether and when the intake was sent. Each opening writes one
audit line (a view of her intake, naming who looked; never what was read).
Nothing here writes to the intake: the portal's service is the one way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from practice.admin_mixins import ReadOnlyAdminMixin
from practice.models import AuditEvent, Client, User
from practice.services import audit_record

from ..client_panels import SECTION_LABELS
from ..models import SECTIONS, Intake, IntakeSection
from ..views.intake import QUESTIONS

NOT_ANSWERED = "Not answered"


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # her answer in words, or "Not answered"
    answered: bool
    long: bool  # free text, shown with its line breaks


@dataclass(frozen=True)
class SectionAnswers:
    title: str
    answers: list[Answer]


def _answer(owner: models.Model, name: str) -> Answer:
    field = owner._meta.get_field(name)
    assert isinstance(field, models.Field)  # noqa: S101  (a concrete column, for mypy)
    value = getattr(owner, name)
    if value is None or value == "":
        return Answer(QUESTIONS[name], NOT_ANSWERED, answered=False, long=False)
    if isinstance(value, bool):
        text = "Yes" if value else "No"
    elif field.choices:
        text = str(dict(field.flatchoices).get(value, value))
    else:
        text = str(value)
    return Answer(QUESTIONS[name], text, answered=True, long=isinstance(field, models.TextField))


def intake_answers(intake: Intake, client: Client) -> list[SectionAnswers]:
    """Every section in the order she is asked them, each question with her answer."""

    def answers(section: IntakeSection) -> list[Answer]:
        return [
            _answer(client if name in section.client_fields else intake, name)
            for name in (*section.fields, *section.client_fields)
        ]

    return [
        SectionAnswers(SECTION_LABELS.get(section.name, section.title), answers(section))
        for section in SECTIONS
    ]


@admin.register(Intake)
class IntakeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Who has an intake and whether it is sent; each one is read on her intake page."""

    workspace_section = None  # from her client page (the preparation panel)
    list_display = ["client", "started_at", "updated_at", "submitted_at", "read"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client"]
    ordering = ["-updated_at", "-id"]

    @admin.display(description="Her answers")
    def read(self, intake: Intake) -> str:
        return format_html(
            '<a href="{}">Read her intake</a>',
            reverse("admin:kap_sessions_client_intake", args=[intake.client_id]),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "client/<int:client_id>/",
                self.admin_site.admin_view(self.client_view),
                name="kap_sessions_client_intake",
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
        # One page reads an intake (and audits it): hers.
        intake = self.get_object(request, object_id)
        if intake is None:
            return super().change_view(request, object_id, form_url, extra_context)
        return HttpResponseRedirect(
            reverse("admin:kap_sessions_client_intake", args=[intake.client_id])
        )

    def client_view(self, request: HttpRequest, client_id: int) -> HttpResponse:
        """Her intake, section by section, read-only; one audit line per opening."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        client = get_object_or_404(Client, pk=client_id)
        intake = Intake.objects.filter(client=client).first()
        audit_record(
            actor=cast(User, request.user),
            action=AuditEvent.Action.VIEW,
            obj=client if intake is None else intake,
            client=client,
            request=request,
        )
        shown = intake or Intake(client=client)  # not started: her record's answers only
        shown.client = client  # the "people" answers, read without a second query
        return render(
            request,
            "kap_sessions/admin/client_intake.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Intake: {client.full_name}",
                "opts": self.opts,
                "client": client,
                "intake": intake,
                "sections": intake_answers(shown, client),
                "client_url": reverse("admin:practice_client_change", args=[client.pk]),
            },
        )
