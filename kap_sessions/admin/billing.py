"""Superbills and Good Faith Estimates: the therapist enters the codes and fees.

- A superbill lists the services she received, each line a date, a service
  code, a modifier, a description, units and a fee. "Add the course's
  completed sessions" (a button, and an action) fills a line per session not
  billed yet (``superbill_prefill_lines``): the date and what it was; the
  therapist then enters the code and the fee.
- A Good Faith Estimate lists the expected services and fees for a period.
  "Share with her" (``estimate_share``) shows it in her portal and sends the
  "a document is ready" email; from then on it is what she was given, so it
  is read-only here (a change is a new estimate).

Each page has its PDF a click away (``kap_sessions:admin_superbill_pdf``,
``kap_sessions:admin_estimate_pdf``, audited downloads). Every opening and
save of either is audited (``AuditedAdminMixin``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, F, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from practice.admin_actions import admin_actor, service_action
from practice.admin_audit import AuditedAdminMixin
from practice.admin_site import Section
from practice.calendar.display import in_practice_time
from practice.models import Client

from ..documents import money
from ..models import EstimateLine, GoodFaithEstimate, Superbill, SuperbillLine
from ..services.billing import estimate_share, superbill_prefill_lines

CHANGE_FORM_TEMPLATE = "kap_sessions/admin/billing_change_form.html"
COURSE_OF_ANOTHER_CLIENT = "This course is another client's."


def _one_year_on(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # February 29th
        return day.replace(year=day.year + 1, day=28)


class _CourseOfHerForm(forms.ModelForm):  # type: ignore[type-arg]
    """The course chosen must be the client's own; the diagnosis codes are one line."""

    class Meta:
        widgets = {"diagnosis_codes": forms.TextInput(attrs={"class": "vTextField"})}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        client, course = cleaned.get("client"), cleaned.get("course")
        if client is not None and course is not None and course.client_id != client.pk:
            self.add_error("course", COURSE_OF_ANOTHER_CLIENT)
        return cleaned


class GoodFaithEstimateForm(_CourseOfHerForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("services_from"), cleaned.get("services_until")
        if since is not None and until is not None:
            if until < since:
                self.add_error("services_until", "The last date cannot be before the first.")
            elif until > _one_year_on(since):
                self.add_error(
                    "services_until",
                    "An estimate covers at most 12 months; issue another one for later care.",
                )
        return cleaned


def _step(url: str, label: str, help_text: str, *, post: bool) -> dict[str, Any]:
    return {"url": url, "label": label, "help": help_text, "post": post}


def _total_of_lines(amount: Any) -> Sum:
    return Sum(amount, output_field=DecimalField(max_digits=12, decimal_places=2))


class _PaperworkAdmin(AuditedAdminMixin):
    """What both pages share: her record, who made it, its PDF, and one button.

    The button (``button_path``) is a POST to its own address, answered by a
    redirect back to the page with a message; a GET there goes back too. A
    subclass says when the button shows (``button_shown``), who may press it
    (``button_allowed``) and what pressing does (``button_press``, which
    returns the message or raises ``ValidationError``).
    """

    workspace_section = Section.BILLING
    change_form_template = CHANGE_FORM_TEMPLATE
    pdf_url_name = ""
    pdf_link_text = ""
    pdf_help = ""
    button_path = ""
    button_label = ""
    button_help = ""

    def audit_client(self, obj: Any) -> Client | None:
        return obj.client if isinstance(obj, self.model) else None

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = admin_actor(request)
        super().save_model(request, obj, form, change)

    @admin.display(description="PDF")
    def download(self, obj: Any) -> str:
        if obj.pk is None:
            return "–"
        return format_html('<a href="{}">{}</a>', self._pdf_url(obj), self.pdf_link_text)

    def _pdf_url(self, obj: Any) -> str:
        return reverse(self.pdf_url_name, args=[obj.pk])

    def _change_url(self, obj: Any) -> str:
        return reverse(f"admin:kap_sessions_{self.model._meta.model_name}_change", args=[obj.pk])

    def button_allowed(self, request: HttpRequest, obj: Any) -> bool:
        return self.has_change_permission(request, obj)

    def button_shown(self, request: HttpRequest, obj: Any) -> bool:
        return self.button_allowed(request, obj)

    def button_press(self, request: HttpRequest, obj: Any) -> tuple[str, int]:
        raise NotImplementedError

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk is not None:
            steps = [_step(self._pdf_url(obj), "Download the PDF", self.pdf_help, post=False)]
            if self.button_shown(request, obj):
                button = reverse(
                    f"admin:kap_sessions_{self.model._meta.model_name}_{self.button_path}",
                    args=[obj.pk],
                )
                steps.append(_step(button, self.button_label, self.button_help, post=True))
            context["billing_steps"] = steps
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns, whose "<object_id>/" would take this.
        return [
            path(
                f"<path:object_id>/{self.button_path}/",
                self.admin_site.admin_view(self.button_view),
                name=f"kap_sessions_{self.model._meta.model_name}_{self.button_path}",
            ),
            *super().get_urls(),
        ]

    def button_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No such {self.model._meta.verbose_name}.")
        if not self.button_allowed(request, obj):
            raise PermissionDenied
        back = HttpResponseRedirect(self._change_url(obj))
        if request.method != "POST":
            return back
        try:
            message, level = self.button_press(request, obj)
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.WARNING)
            return back
        self.message_user(request, message, level)
        return back


# --- Superbills ------------------------------------------------------------------------------


class SuperbillLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SuperbillLine
    extra = 0
    fields = ["service_date", "code", "modifier", "description", "units", "fee", "line_amount"]
    readonly_fields = ["line_amount"]

    @admin.display(description="amount")
    def line_amount(self, obj: SuperbillLine) -> str:
        return money(obj.amount) if obj.pk is not None else "–"


def _prefill(request: HttpRequest, superbill: Superbill) -> int:
    return superbill_prefill_lines(superbill=superbill, actor=admin_actor(request))


@admin.register(Superbill)
class SuperbillAdmin(_PaperworkAdmin):
    form = _CourseOfHerForm
    pdf_url_name = "kap_sessions:admin_superbill_pdf"
    pdf_link_text = "Download the superbill"
    pdf_help = "The superbill as it is saved now."
    button_path = "prefill"
    button_label = "Add the course's completed sessions"
    button_help = "A line for each completed session not billed yet; then enter each code and fee."
    inlines = [SuperbillLineInline]
    list_display = [
        "__str__",
        "client",
        "issued_on",
        "line_count",
        "total_amount",
        "visible_to_client",
        "download",
    ]
    list_filter = ["visible_to_client"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client"]
    raw_id_fields = ["client", "course"]
    date_hierarchy = "issued_on"
    fields = [
        "client",
        "course",
        "issued_on",
        "diagnosis_codes",
        "visible_to_client",
        "created_by",
        "download",
    ]
    readonly_fields = ["created_by", "download"]
    actions = [
        service_action(
            name="prefill_lines",
            label="Add the course's completed sessions",
            apply_with_request=_prefill,
            done=lambda count: f"{count} superbill(s) checked for sessions to add.",
        )
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Superbill]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                lines_counted=Count("lines"),
                lines_total=_total_of_lines(F("lines__fee") * F("lines__units")),
            )
        )

    @admin.display(description="lines", ordering="lines_counted")
    def line_count(self, obj: Superbill) -> int:
        return getattr(obj, "lines_counted", 0)

    @admin.display(description="total", ordering="lines_total")
    def total_amount(self, obj: Superbill) -> str:
        return money(getattr(obj, "lines_total", None) or Decimal("0"))

    def button_shown(self, request: HttpRequest, obj: Superbill) -> bool:
        return obj.course_id is not None and self.button_allowed(request, obj)

    def button_press(self, request: HttpRequest, obj: Superbill) -> tuple[str, int]:
        added = _prefill(request, obj)
        if added:
            return (
                f"{added} session(s) added. Enter each line's code and fee, then save.",
                messages.SUCCESS,
            )
        return "Every completed session is billed already.", messages.INFO


# --- Good Faith Estimates --------------------------------------------------------------------


def _is_shared(obj: Any) -> bool:
    return isinstance(obj, GoodFaithEstimate) and obj.shared_at is not None


class EstimateLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = EstimateLine
    extra = 1
    fields = ["description", "code", "quantity", "unit_fee", "line_amount"]
    readonly_fields = ["line_amount"]

    @admin.display(description="estimated cost")
    def line_amount(self, obj: EstimateLine) -> str:
        return money(obj.amount) if obj.pk is not None else "–"

    # What she was given does not change.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _is_shared(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _is_shared(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _is_shared(obj) and super().has_delete_permission(request, obj)


def _share(request: HttpRequest, estimate: GoodFaithEstimate) -> GoodFaithEstimate:
    return estimate_share(estimate=estimate, actor=admin_actor(request))


@admin.register(GoodFaithEstimate)
class GoodFaithEstimateAdmin(_PaperworkAdmin):
    form = GoodFaithEstimateForm
    pdf_url_name = "kap_sessions:admin_estimate_pdf"
    pdf_link_text = "Download the estimate"
    pdf_help = "The estimate as it is saved now."
    button_path = "share"
    button_label = "Share with her"
    button_help = (
        "Shows it in her portal and emails her that a document is ready. "
        "It cannot be changed afterwards."
    )
    inlines = [EstimateLineInline]
    list_display = [
        "__str__",
        "client",
        "issued_on",
        "services_from",
        "services_until",
        "total_amount",
        "shared",
        "download",
    ]
    list_filter = [("shared_at", admin.EmptyFieldListFilter)]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_select_related = ["client"]
    raw_id_fields = ["client", "course"]
    date_hierarchy = "issued_on"
    fields = [
        "client",
        "course",
        "issued_on",
        "services_from",
        "services_until",
        "diagnosis_codes",
        "notes",
        "shared_at",
        "created_by",
        "download",
    ]
    readonly_fields = ["shared_at", "created_by", "download"]
    actions = [
        service_action(
            name="share",
            label="Share with her (portal and email)",
            apply_with_request=_share,
            done=lambda count: f"{count} estimate(s) shared.",
            skip=lambda estimate: "shared already." if estimate.shared_at else None,
        )
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GoodFaithEstimate]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                lines_total=_total_of_lines(F("lines__unit_fee") * F("lines__quantity")),
            )
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Shared: what she was given. Shown, never changed; a new estimate replaces it.
        return not _is_shared(obj) and super().has_change_permission(request, obj)

    @admin.display(description="total", ordering="lines_total")
    def total_amount(self, obj: GoodFaithEstimate) -> str:
        return money(getattr(obj, "lines_total", None) or Decimal("0"))

    @admin.display(description="shared with her", ordering="shared_at")
    def shared(self, obj: GoodFaithEstimate) -> str:
        return in_practice_time(obj.shared_at) if obj.shared_at else "Not yet"

    def button_allowed(self, request: HttpRequest, obj: GoodFaithEstimate) -> bool:
        # The admin's own change permission: a shared estimate answers "no" above.
        return super(_PaperworkAdmin, self).has_change_permission(request, obj)

    def button_shown(self, request: HttpRequest, obj: GoodFaithEstimate) -> bool:
        return obj.shared_at is None and self.button_allowed(request, obj)

    def button_press(self, request: HttpRequest, obj: GoodFaithEstimate) -> tuple[str, int]:
        if obj.shared_at is not None:
            return "This estimate is shared already.", messages.INFO
        _share(request, obj)
        return (
            "Shared: it is in her portal, and she is emailed that a document is ready.",
            messages.SUCCESS,
        )
