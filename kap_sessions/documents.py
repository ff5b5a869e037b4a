"""The course's documents as PDFs: a medicine session's record, the course summary,
a superbill and a Good Faith Estimate.

Each ``*_pdf`` function takes the row, reads everything it prints in a fixed
number of queries (however many vitals, sessions or lines there are) and
returns the PDF's bytes from ``practice.pdf.render_pdf`` (WeasyPrint,
imported only when a document is rendered; no network fetch). Nothing is
stored: a document is rendered when it is downloaded, so it always shows the
record as it stands, and the views that serve it write the audit line
(``kap_sessions.views.paperwork``).

Times are printed in the practice's zone, as the admin shows them. The
``*_context`` functions are the documents' content; the portal's page that
shows her a Good Faith Estimate reads the same context as its PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.utils import timezone

from practice.calendar.models import Appointment, AppointmentKind
from practice.identity import practice_profile
from practice.pdf import render_pdf

from .charts import course_measure_series
from .models import (
    CLOSED_PHASES,
    Course,
    CoursePhase,
    CoursePhaseChange,
    CourseSession,
    CourseSettings,
    DosingRecord,
    EstimateLine,
    GoodFaithEstimate,
    Superbill,
    SuperbillLine,
)
from .services.dosing import Reading, presence_flag, vital_readings

__all__ = [
    "GFE_DISPUTE_THRESHOLD",
    "course_summary_context",
    "course_summary_pdf",
    "dosing_record_context",
    "dosing_record_pdf",
    "estimate_context",
    "estimate_pdf",
    "money",
    "superbill_context",
    "superbill_pdf",
]

DOSING_RECORD_TEMPLATE = "pdf/kap_dosing_record.html"
COURSE_SUMMARY_TEMPLATE = "pdf/kap_course_summary.html"
SUPERBILL_TEMPLATE = "pdf/kap_superbill.html"
ESTIMATE_TEMPLATE = "pdf/kap_estimate.html"

T = TypeVar("T")

# The No Surprises Act: a bill this much over the estimate may be disputed.
GFE_DISPUTE_THRESHOLD = Decimal("400")


def money(amount: Decimal) -> str:
    """'$1,250.00'."""
    return f"${amount:,.2f}"


def _render(template: str, context_of: Callable[[T], dict[str, Any]], obj: T) -> bytes:
    # Every date and time in a document is the practice's, as the admin shows it.
    with timezone.override(practice_profile().zone):
        return render_pdf(template, context_of(obj))


# --- The medicine session's record -------------------------------------------------


@dataclass(frozen=True)
class VitalRow:
    taken_at: datetime
    readings: list[Reading]  # table order; each "high" or "low" when out of range


def dosing_record_context(record: DosingRecord) -> dict[str, Any]:
    """What the record's PDF prints; four queries whatever the number of vitals."""
    record = DosingRecord.objects.select_related(
        "session__appointment", "session__course__client"
    ).get(pk=record.pk)
    limits = CourseSettings.current()
    session = record.session
    vitals = [
        VitalRow(taken_at=vital.taken_at, readings=vital_readings(vital, limits))
        for vital in record.vitals.all()
    ]
    return {
        "record": record,
        "session": session,
        "appointment": session.appointment,
        "client": session.course.client,
        "vitals": vitals,
        "limits": limits,
        "adverse_events": list(record.adverse_events.all()),
        "presence_flag": presence_flag(record),
        "issued_on": timezone.localdate(),
    }


def dosing_record_pdf(record: DosingRecord) -> bytes:
    """The medicine session's record: what was given, vitals (out-of-range marked),
    the therapist's presence, adverse events and the discharge."""
    return _render(DOSING_RECORD_TEMPLATE, dosing_record_context, record)


# --- The course summary ---------------------------------------------------------------


@dataclass(frozen=True)
class PhaseStep:
    """One stretch of the timeline: a phase and the dates it ran (``until`` None: ongoing
    or, for the closing phase, the day the course ended)."""

    phase: str
    label: str
    since: date
    until: date | None

    @property
    def is_closing(self) -> bool:
        return self.phase in CLOSED_PHASES


def course_timeline(course: Course, changes: Sequence[CoursePhaseChange]) -> list[PhaseStep]:
    """The phases one after the other, each with its dates, from the course's phase changes.

    A course opens in preparation; when no change row records that opening
    (older courses), its start date does.
    """
    labels = dict(CoursePhase.choices)
    points: list[tuple[str, date]] = [
        (change.phase, timezone.localdate(change.at)) for change in changes
    ]
    if not points or points[0][0] != CoursePhase.PREPARATION:
        points.insert(0, (CoursePhase.PREPARATION, course.started_on))
    steps = []
    for index, (phase, since) in enumerate(points):
        until = points[index + 1][1] if index + 1 < len(points) else None
        steps.append(PhaseStep(phase=phase, label=str(labels[phase]), since=since, until=until))
    return steps


@dataclass(frozen=True)
class HeldSession:
    day: date
    label: str
    minutes: int
    mode: str


def _session_label(session: CourseSession) -> str:
    label = str(AppointmentKind(session.kind).label)
    return f"{label} {session.dosing_number}" if session.dosing_number else label


def course_summary_context(course: Course) -> dict[str, Any]:
    """What the course summary prints; a fixed number of queries whatever the number of sessions."""
    course = Course.objects.select_related("client").get(pk=course.pk)
    changes = list(CoursePhaseChange.objects.filter(course=course).order_by("at", "id"))
    sessions = list(
        CourseSession.objects.filter(
            course=course, appointment__status=Appointment.Status.COMPLETED
        )
        .select_related("appointment")
        .order_by("appointment__start", "id")
    )
    held = [
        HeldSession(
            day=timezone.localdate(session.appointment.start),
            label=_session_label(session),
            minutes=session.appointment.duration_minutes,
            mode=session.appointment.get_mode_display(),
        )
        for session in sessions
    ]
    return {
        "course": course,
        "client": course.client,
        "timeline": course_timeline(course, changes),
        "sessions": held,
        "medicine_sessions": sum(
            1 for session in sessions if session.kind == AppointmentKind.DOSING
        ),
        # One chart per questionnaire she answered, with its summary in words.
        "charts": [series for series in course_measure_series(course=course) if series.points],
        "issued_on": timezone.localdate(),
    }


def course_summary_pdf(course: Course) -> bytes:
    """The course at its end: the phases as a timeline, the sessions held, the measures'
    charts and the aftercare plan (the closing summary)."""
    return _render(COURSE_SUMMARY_TEMPLATE, course_summary_context, course)


# --- Superbill ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SuperbillRow:
    line: SuperbillLine
    fee: str
    amount: str


def superbill_context(superbill: Superbill) -> dict[str, Any]:
    """What the superbill prints; two queries whatever the number of lines."""
    superbill = (
        Superbill.objects.select_related("client").prefetch_related("lines").get(pk=superbill.pk)
    )
    lines = list(superbill.lines.all())
    return {
        "superbill": superbill,
        "client": superbill.client,
        "diagnosis_codes": _codes(superbill.diagnosis_codes),
        "rows": [
            SuperbillRow(line=line, fee=money(line.fee), amount=money(line.amount))
            for line in lines
        ],
        "total": money(superbill.total),
        "first_day": min((line.service_date for line in lines), default=None),
        "last_day": max((line.service_date for line in lines), default=None),
    }


def superbill_pdf(superbill: Superbill) -> bytes:
    """A superbill for out-of-network reimbursement: the practice's and her details,
    diagnosis codes, each service with its code and fee, the total and a signature line."""
    return _render(SUPERBILL_TEMPLATE, superbill_context, superbill)


# --- Good Faith Estimate --------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateRow:
    line: EstimateLine
    unit_fee: str
    amount: str


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


def estimate_context(estimate: GoodFaithEstimate) -> dict[str, Any]:
    """What the Good Faith Estimate says (its PDF and her portal page); two queries."""
    estimate = (
        GoodFaithEstimate.objects.select_related("client")
        .prefetch_related("lines")
        .get(pk=estimate.pk)
    )
    return {
        "estimate": estimate,
        "client": estimate.client,
        "diagnosis_codes": _codes(estimate.diagnosis_codes),
        "rows": [
            EstimateRow(line=line, unit_fee=money(line.unit_fee), amount=money(line.amount))
            for line in estimate.lines.all()
        ],
        "total": money(estimate.total),
        "dispute_threshold": money(GFE_DISPUTE_THRESHOLD).removesuffix(".00"),
    }


def estimate_pdf(estimate: GoodFaithEstimate) -> bytes:
    """A Good Faith Estimate (No Surprises Act): the expected services, codes, quantities
    and fees with the total for the period, her rights, and the practice's details."""
    return _render(ESTIMATE_TEMPLATE, estimate_context, estimate)
