"""The course's paperwork, downloaded: by the therapist from the workspace, by her in her portal.

Every document is rendered when it is asked for (``kap_sessions.documents``)
and every download (and every opening of her estimate's page) writes one
audit line naming who, which record and from where; never its content.

Her portal (``/portal/paperwork/...``), behind ``portal_client_required``,
finds only what is hers and shown to her, so another client's number is a
404: her course summary once the course is completed, her superbills marked
visible to her once every line has its code, and her Good Faith Estimates
once shared (read on a page, or downloaded).

The therapist's downloads (``/workspace/documents/...``) keep the names the
course pages link to (``kap_sessions:admin_*``), so they live in this app's
URLs rather than under ``/admin/``, whose catch-all answers every path
there. They pass the admin's own gate (``admin.site.admin_view``: signed in
as staff, the practice's time zone), the same second-factor rule as the
admin (``StaffMFARequiredMiddleware`` only looks at ``/admin/``), and the
model's view permission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import CharField, Exists, F, OuterRef, Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from practice.middleware import staff_has_mfa
from practice.models import AuditEvent, Client
from practice.services import audit_record

from ..documents import (
    course_summary_pdf,
    dosing_record_pdf,
    estimate_context,
    estimate_pdf,
    superbill_pdf,
)
from ..models import (
    Course,
    CoursePhase,
    DosingRecord,
    GoodFaithEstimate,
    Superbill,
    SuperbillLine,
)
from .access import PortalRequest, audits_itself, her_object_or_404, portal_client_required

__all__ = [
    "PaperworkItem",
    "admin_course_summary_pdf",
    "admin_dosing_record_pdf",
    "admin_estimate_pdf",
    "admin_superbill_pdf",
    "portal_course_summary",
    "portal_estimate",
    "portal_estimate_pdf",
    "portal_paperwork",
    "portal_superbill",
]


def pdf_response(content: bytes, *, name: str, day: date) -> HttpResponse:
    """The PDF as an attachment with a discreet name ("superbill-2027-03-01.pdf"), never cached."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}-{day.isoformat()}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _audit(request: HttpRequest, action: str, obj: models.Model, client: Client) -> None:
    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=action,
        obj=obj,
        client=client,
        request=request,
    )


# --- The therapist's downloads -----------------------------------------------------------

StaffView = Callable[..., HttpResponse]


def staff_download(permission: str) -> Callable[[StaffView], StaffView]:
    """Open the view to staff only, as the admin would, and to those with ``permission``."""

    def decorate(view: StaffView) -> StaffView:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if settings.STAFF_MFA_REQUIRED and not staff_has_mfa(request.user):
                return redirect("mfa_activate_totp")
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return admin.site.admin_view(require_safe(wrapped))

    return decorate


@staff_download("kap_sessions.view_course")
def admin_course_summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course.objects.select_related("client"), pk=pk)
    content = course_summary_pdf(course)
    _audit(request, AuditEvent.Action.DOWNLOAD, course, course.client)
    return pdf_response(content, name="course-summary", day=course.closed_on or course.started_on)


@staff_download("kap_sessions.view_dosingrecord")
def admin_dosing_record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(
        DosingRecord.objects.select_related("session__appointment", "session__course__client"),
        pk=pk,
    )
    content = dosing_record_pdf(record)
    _audit(request, AuditEvent.Action.DOWNLOAD, record, record.session.course.client)
    day = timezone.localdate(record.session.appointment.start)
    return pdf_response(content, name="session-record", day=day)


@staff_download("kap_sessions.view_superbill")
def admin_superbill_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    superbill = get_object_or_404(Superbill.objects.select_related("client"), pk=pk)
    content = superbill_pdf(superbill)
    _audit(request, AuditEvent.Action.DOWNLOAD, superbill, superbill.client)
    return pdf_response(content, name="superbill", day=superbill.issued_on)


@staff_download("kap_sessions.view_goodfaithestimate")
def admin_estimate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    estimate = get_object_or_404(GoodFaithEstimate.objects.select_related("client"), pk=pk)
    content = estimate_pdf(estimate)
    _audit(request, AuditEvent.Action.DOWNLOAD, estimate, estimate.client)
    return pdf_response(content, name="good-faith-estimate", day=estimate.issued_on)


# --- Her portal ------------------------------------------------------------------------------


def her_course_summaries(client: Client) -> models.QuerySet[Course]:
    """The courses whose summary she may download: hers, completed (a withdrawn one has none)."""
    return Course.objects.filter(client=client, phase=CoursePhase.COMPLETED)


def her_superbills(client: Client) -> models.QuerySet[Superbill]:
    """Her superbills marked visible to her, once they list services each with its code
    (lines added from the course wait for the therapist's codes and fees)."""
    lines = SuperbillLine.objects.filter(superbill=OuterRef("pk"))
    return (
        Superbill.objects.filter(client=client, visible_to_client=True)
        .filter(Exists(lines))
        .exclude(Exists(lines.filter(code="")))
    )


def her_estimates(client: Client) -> models.QuerySet[GoodFaithEstimate]:
    return GoodFaithEstimate.objects.filter(client=client, shared_at__isnull=False)


@dataclass(frozen=True)
class PaperworkItem:
    """One line of her portal's documents list: a summary, a superbill or an estimate."""

    kind: str
    pk: int
    day: date

    @property
    def title(self) -> str:
        return {
            "summary": "Your course summary",
            "superbill": "Superbill for your insurer",
            "estimate": "Good Faith Estimate of your costs",
        }[self.kind]

    @property
    def url(self) -> str:
        name = {
            "summary": "portal_course_summary",
            "superbill": "portal_superbill",
            "estimate": "portal_estimate",
        }[self.kind]
        return reverse(f"kap_sessions:{name}", args=[self.pk])

    @property
    def is_pdf(self) -> bool:
        # The estimate opens as a page first (with its own download link).
        return self.kind != "estimate"


def portal_paperwork(client: Client) -> list[PaperworkItem]:
    """Her course summaries, superbills and shared estimates, newest first: one query."""

    def rows(queryset: models.QuerySet[Any], kind: str, day: str) -> models.QuerySet[Any]:
        return (
            queryset.order_by()
            .annotate(paper_kind=Value(kind, output_field=CharField()), paper_day=F(day))
            .values_list("paper_kind", "pk", "paper_day")
        )

    combined = rows(her_course_summaries(client), "summary", "closed_on").union(
        rows(her_superbills(client), "superbill", "issued_on"),
        rows(her_estimates(client), "estimate", "issued_on"),
        all=True,
    )
    return [
        PaperworkItem(kind=kind, pk=pk, day=day)
        for kind, pk, day in combined.order_by("-paper_day", "paper_kind", "-pk")
    ]


@require_safe
@portal_client_required
@audits_itself
def portal_course_summary(request: PortalRequest, pk: int) -> HttpResponse:
    course = her_object_or_404(request, her_course_summaries(request.client), pk=pk)
    content = course_summary_pdf(course)
    _audit(request, AuditEvent.Action.DOWNLOAD, course, request.client)
    return pdf_response(content, name="course-summary", day=course.closed_on or course.started_on)


@require_safe
@portal_client_required
@audits_itself
def portal_superbill(request: PortalRequest, pk: int) -> HttpResponse:
    superbill = her_object_or_404(request, her_superbills(request.client), pk=pk)
    content = superbill_pdf(superbill)
    _audit(request, AuditEvent.Action.DOWNLOAD, superbill, request.client)
    return pdf_response(content, name="superbill", day=superbill.issued_on)


@require_safe
@portal_client_required
@audits_itself
def portal_estimate(request: PortalRequest, pk: int) -> HttpResponse:
    """Her Good Faith Estimate, to read on the page (with its PDF a tap away)."""
    estimate = her_object_or_404(request, her_estimates(request.client), pk=pk)
    context = estimate_context(estimate)
    _audit(request, AuditEvent.Action.VIEW, estimate, request.client)
    return render(request, "kap_sessions/portal/estimate.html", context)


@require_safe
@portal_client_required
@audits_itself
def portal_estimate_pdf(request: PortalRequest, pk: int) -> HttpResponse:
    estimate = her_object_or_404(request, her_estimates(request.client), pk=pk)
    content = estimate_pdf(estimate)
    _audit(request, AuditEvent.Action.DOWNLOAD, estimate, request.client)
    return pdf_response(content, name="good-faith-estimate", day=estimate.issued_on)
