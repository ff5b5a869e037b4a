"""Contraindications, her hand marks, and the therapist's eligibility decisions.

Contraindications are the practice's settings; a hand mark and an
eligibility decision are written through their services (which audit them).
One page per client ("Eligibility and safety") gathers her status with its
reasons, the decisions, hand marks, open flags and the "not a fit right now" letter.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse

from practice.admin_audit import AuditedAdminMixin
from practice.admin_site import Section
from practice.models import AuditEvent, Client, ClientDocument, User
from practice.services import audit_record

from ..models import (
    ClientContraindication,
    Contraindication,
    EligibilityOverride,
    EligibilityStatus,
    SafetyFlag,
)
from ..services import (
    contraindication_mark,
    contraindication_unmark,
    eligibility_for,
    eligibility_override,
)
from ..services.eligibility import NOTE_REQUIRED as ELIGIBILITY_NOTE_REQUIRED
from ..services.referral import referral_letter_issue
from .common import her_preparation_link


@admin.register(Contraindication)
class ContraindicationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The practice's contraindications: built-in ones follow her intake, others are marked by hand.

    Turn one off rather than delete it: the clients it was marked on keep the mark.
    """

    workspace_section = Section.SETTINGS
    list_display = ["plain_words", "outcome", "intake_rule", "active", "order"]
    list_editable = ["active", "order"]
    list_filter = ["active", "outcome"]
    search_fields = ["plain_words", "code"]
    fields = ["plain_words", "outcome", "intake_rule", "active", "order", "code"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Contraindication | None = None
    ) -> list[str]:
        return ["code", "intake_rule"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MarkContraindicationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ClientContraindication
        fields = ["client", "contraindication", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "contraindication" in self.fields:
            self.fields["contraindication"].queryset = Contraindication.objects.active()  # type: ignore[attr-defined]


@admin.register(ClientContraindication)
class ClientContraindicationAdmin(AuditedAdminMixin):
    """Contraindications marked on a client by hand; a mark is added or removed, not edited."""

    workspace_section = None  # from her client page (her eligibility page lists her marks)
    form = MarkContraindicationForm
    list_display = ["contraindication", "client", "noted_by", "noted_at", "preparation"]
    list_filter = ["contraindication"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["contraindication", "client", "noted_by"]
    raw_id_fields = ["client"]

    def audit_client(self, obj: object) -> Client | None:
        return obj.client if isinstance(obj, ClientContraindication) else None

    def get_readonly_fields(
        self, request: HttpRequest, obj: ClientContraindication | None = None
    ) -> list[str]:
        if obj is None:
            return []
        return ["client", "contraindication", "note", "noted_by", "noted_at"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"client": request.GET.get("client")}

    @admin.display(description="Her record")
    def preparation(self, mark: ClientContraindication) -> str:
        return her_preparation_link(mark.client_id)

    def save_model(
        self, request: HttpRequest, obj: ClientContraindication, form: Any, change: bool
    ) -> None:
        if change:
            return  # a mark is not edited
        mark = contraindication_mark(
            client=obj.client,
            contraindication=obj.contraindication,
            note=obj.note,
            actor=cast(User, request.user),
        )
        obj.pk = mark.pk

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # The service wrote the audit line.
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def delete_model(self, request: HttpRequest, obj: ClientContraindication) -> None:
        contraindication_unmark(mark=obj, actor=cast(User, request.user))

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[ClientContraindication]
    ) -> None:
        for mark in queryset.select_related("client"):
            contraindication_unmark(mark=mark, actor=cast(User, request.user))


class EligibilityDecisionForm(forms.Form):
    status = forms.ChoiceField(label="Her status", choices=EligibilityStatus.choices)
    note = forms.CharField(
        label="Why you decided this",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": ELIGIBILITY_NOTE_REQUIRED},
    )


class EligibilityOverrideForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = EligibilityOverride
        fields = ["client", "status", "note"]
        error_messages = {"note": {"required": ELIGIBILITY_NOTE_REQUIRED}}


@admin.register(EligibilityOverride)
class EligibilityOverrideAdmin(AuditedAdminMixin):
    """The therapist's eligibility decisions: each one is final, the newest applies.

    Also serves each client's "Eligibility and safety" page
    (``client/<id>/``), where she reads the computed status with its
    reasons, records a decision, and issues the "not a fit right now" letter.
    """

    workspace_section = None  # from her client page (the eligibility panel)
    form = EligibilityOverrideForm
    list_display = ["__str__", "client", "status", "decided_by", "decided_at", "preparation"]
    list_filter = ["status"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client", "decided_by"]
    raw_id_fields = ["client"]

    def audit_client(self, obj: object) -> Client | None:
        return obj.client if isinstance(obj, EligibilityOverride) else None

    def get_readonly_fields(
        self, request: HttpRequest, obj: EligibilityOverride | None = None
    ) -> list[str]:
        if obj is None:
            return []
        return ["client", "status", "note", "decided_by", "decided_at"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a decision is kept; a new one replaces it

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"client": request.GET.get("client")}

    @admin.display(description="Her record")
    def preparation(self, decision: EligibilityOverride) -> str:
        return her_preparation_link(decision.client_id)

    def save_model(
        self, request: HttpRequest, obj: EligibilityOverride, form: Any, change: bool
    ) -> None:
        if change:
            return  # final: a new decision is a new row
        decision = eligibility_override(
            client=obj.client, status=obj.status, note=obj.note, actor=cast(User, request.user)
        )
        obj.pk = decision.pk
        obj.decided_at = decision.decided_at

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # The service wrote the audit line.
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def response_add(
        self, request: HttpRequest, obj: EligibilityOverride, post_url_continue: str | None = None
    ) -> HttpResponse:
        self.message_user(request, "Your decision is recorded and applies now.", messages.SUCCESS)
        return HttpResponseRedirect(
            reverse("admin:kap_sessions_client_eligibility", args=[obj.client_id])
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "client/<int:client_id>/",
                self.admin_site.admin_view(self.client_view),
                name="kap_sessions_client_eligibility",
            ),
            path(
                "client/<int:client_id>/referral-letter/",
                self.admin_site.admin_view(self.referral_letter_view),
                name="kap_sessions_client_referral_letter",
            ),
            *super().get_urls(),
        ]

    def client_view(self, request: HttpRequest, client_id: int) -> HttpResponse:
        """Her eligibility with its reasons, the decisions, marks, flags and letters."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        client = get_object_or_404(Client, pk=client_id)
        form = EligibilityDecisionForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            if not self.has_add_permission(request):
                raise PermissionDenied
            try:
                eligibility_override(
                    client=client,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                    actor=cast(User, request.user),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request, "Your decision is recorded and applies now.", messages.SUCCESS
                )
                return HttpResponseRedirect(request.path)
        audit_record(
            actor=cast(User, request.user),
            action=AuditEvent.Action.VIEW,
            obj=client,
            request=request,
        )
        eligibility = eligibility_for(client)
        return render(
            request,
            "kap_sessions/admin/client_eligibility.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Eligibility and safety: {client.full_name}",
                "opts": self.opts,
                "client": client,
                "eligibility": eligibility,
                "not_eligible": eligibility.status == EligibilityStatus.NOT_ELIGIBLE,
                "form": form,
                "decisions": list(EligibilityOverride.objects.for_client(client)[:20]),
                "marks": list(ClientContraindication.objects.for_client(client)),
                "flags": list(SafetyFlag.objects.for_client(client)[:20]),
                "letters": list(
                    ClientDocument.objects.for_client(client).filter(
                        kind=ClientDocument.Kind.REFERRAL_LETTER
                    )
                ),
                "acknowledge_url": reverse("admin:kap_sessions_safetyflag_acknowledge"),
                "mark_url": reverse("admin:kap_sessions_clientcontraindication_add")
                + f"?client={client.pk}",
                "client_url": reverse("admin:practice_client_change", args=[client.pk]),
            },
        )

    def referral_letter_view(self, request: HttpRequest, client_id: int) -> HttpResponse:
        """Issue the "not a fit right now" letter (POST): to her portal, with a short email."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        client = get_object_or_404(Client, pk=client_id)
        back = HttpResponseRedirect(
            reverse("admin:kap_sessions_client_eligibility", args=[client.pk])
        )
        if request.method != "POST":
            return back
        try:
            referral_letter_issue(client=client, actor=cast(User, request.user))
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.WARNING)
            return back
        self.message_user(
            request,
            "The letter is in her portal. She has been told by email that a document is "
            "ready (the email says nothing more).",
            messages.SUCCESS,
        )
        return back
