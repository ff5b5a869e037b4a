"""The KAP panels of a client's page in the admin (``practice.client_panels``).

What the therapist reads at a glance when she opens a client: open safety
flags first, where the client is in preparation (her course, the intake's
parts), her eligibility with its reasons and any decision, her questionnaire
scores with their trend, what she still has to answer, and her consents.
Each panel links to the record it sums up (the response, the signature and
its PDF, the flag's acknowledgement, the eligibility page), and to the list
of those records filtered to her: those lists are out of the sidebar
(``workspace_section = None`` in the ``kap_sessions/admin/`` modules).

Her course, once she has one, is shown as a timeline: the beginning
(preparation), the middle (medicine and integration sessions, in order)
and the end (completed, withdrawn, or the planned end).

Registered by ``KapSessionsConfig.ready()``. Each panel reads a fixed number
of rows (slices, not whole histories) in a fixed number of queries, writes
nothing, and shows no clinical free text but the therapist's own eligibility
note: her intake answers and notes stay on their pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from practice.calendar.display import in_practice_time, short_day
from practice.calendar.models import Appointment, AppointmentKind
from practice.client_panels import client_panel
from practice.identity import practice_profile
from practice.models import Client, User

from .instruments import INSTRUMENTS, instrument_for
from .models import (
    CLOSED_PHASES,
    OPTIONAL_CONSENT_KINDS,
    SECTIONS,
    ConsentKind,
    ConsentSignature,
    Course,
    CoursePhase,
    Intake,
    SafetyFlag,
    SafetyFlagStatus,
    SafetySource,
    ScreeningAssignment,
    ScreeningResponse,
)
from .services import consents_to_sign, eligibility_for, screening_history

# How many rows a panel lists before it sends her to the whole list.
SHOWN = 10
# How many of an instrument's scores its trend reads, oldest to newest.
TREND = 5
# How many acknowledged flags are listed under the open ones.
ACKNOWLEDGED_SHOWN = 3


def _who(user: User | None) -> str:
    if user is None:
        return "someone no longer on staff"
    return user.get_full_name() or user.email


def _day(day: date, *, today: date) -> str:
    """'Tue, Jan 5', with the year when it is not this year's."""
    return short_day(day) if day.year == today.year else f"{short_day(day)}, {day.year}"


def abbreviation(slug: str) -> str:
    """The instrument's short name ("PHQ-9", "GAD-7", "EPDS"): its slug, upper-cased."""
    return slug.upper()


def _her_list(name: str, client: Client, **filters: str) -> str:
    """The admin list ``name`` (``app_model``) filtered to her records."""
    query = "&".join(
        [f"client__id__exact={client.pk}", *(f"{key}={value}" for key, value in filters.items())]
    )
    return f"{reverse(f'admin:{name}_changelist')}?{query}"


# --- Safety flags ---------------------------------------------------------------------


@dataclass(frozen=True)
class FlagRow:
    flag: SafetyFlag
    source: str
    raised: str
    response_url: str
    acknowledge_url: str
    acknowledged: str


def flag_source(flag: SafetyFlag) -> str:
    """What raised it: "her intake", "her PHQ-9 (item 9)"."""
    if flag.source == SafetySource.INTAKE:
        return "her intake"
    instrument = instrument_for(flag.source)
    return f"her {abbreviation(instrument.slug)} (item {instrument.safety_item})"


@client_panel(
    "kap_sessions.safety",
    title="Safety flags",
    order=10,
    template="kap_sessions/admin/client_panel_safety.html",
    permission="kap_sessions.view_safetyflag",
)
def safety_flags(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any]:
    """Her open flags, oldest first, each with its way to acknowledge; the last few answered."""
    open_flags = list(
        SafetyFlag.objects.filter(client=client, status=SafetyFlagStatus.OPEN).order_by(
            "raised_at", "id"
        )[: SHOWN + 1]
    )
    answered = list(
        SafetyFlag.objects.for_client(client).filter(status=SafetyFlagStatus.ACKNOWLEDGED)[
            :ACKNOWLEDGED_SHOWN
        ]
    )
    may_acknowledge = request.user.has_perm("kap_sessions.change_safetyflag")
    may_read_answers = request.user.has_perm("kap_sessions.view_screeningresponse")
    acknowledge = reverse("admin:kap_sessions_safetyflag_acknowledge")
    # Back to her page once acknowledged.
    back = urlencode({"next": reverse("admin:practice_client_change", args=[client.pk])})

    def row(flag: SafetyFlag) -> FlagRow:
        return FlagRow(
            flag=flag,
            source=flag_source(flag),
            raised=in_practice_time(flag.raised_at, now=now),
            response_url=reverse(
                "admin:kap_sessions_screeningresponse_change", args=[flag.screening_response_id]
            )
            if flag.screening_response_id is not None and may_read_answers
            else "",
            acknowledge_url=f"{acknowledge}?ids={flag.pk}&{back}"
            if flag.is_open and may_acknowledge
            else "",
            acknowledged=""
            if flag.is_open or flag.acknowledged_at is None
            else (
                f"Acknowledged by {_who(flag.acknowledged_by)}, "
                f"{in_practice_time(flag.acknowledged_at, now=now)}"
            ),
        )

    shown_open = open_flags[:SHOWN]
    return {
        "open": [row(flag) for flag in shown_open],
        "more_open": len(open_flags) > SHOWN,
        "acknowledge_all_url": f"{acknowledge}?ids={','.join(str(f.pk) for f in shown_open)}&{back}"
        if len(shown_open) > 1 and may_acknowledge
        else "",
        "answered": [row(flag) for flag in answered],
        "list_url": _her_list("kap_sessions_safetyflag", client),
    }


# --- Where she is in preparation --------------------------------------------------------


# The intake's parts as the therapist reads them (their titles are written to her).
SECTION_LABELS = {
    "medical": "Physical health",
    "mental_health": "Mental health",
    "substances": "Alcohol and other substances",
    "medications": "Medications and allergies",
    "pregnancy": "Pregnancy and breastfeeding",
    "experience": "Past experience",
    "people": "Where she lives and who to call",
    "session_day": "Getting home and her children",
}


@dataclass(frozen=True)
class SectionRow:
    title: str
    done: bool


@client_panel(
    "kap_sessions.preparation",
    title="Preparation",
    order=20,
    template="kap_sessions/admin/client_panel_preparation.html",
    permission="kap_sessions.view_intake",
)
def preparation(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any]:
    """Her course's phase, and the intake part by part: done, missing, sent."""
    course = (
        Course.objects.filter(client=client)
        .only("phase", "started_on", "phase_changed_at", "closed_on")
        .order_by("-started_on", "-id")
        .first()
    )
    # The encrypted answers are read only to tell a part answered from one not.
    intake = Intake.objects.filter(client=client).select_related("client").first()
    sections = (
        []
        if intake is None
        else [
            SectionRow(
                SECTION_LABELS.get(section.name, section.title), intake.section_done(section)
            )
            for section in SECTIONS
        ]
    )
    done = sum(1 for section in sections if section.done)
    submitted = intake is not None and intake.submitted_at is not None
    zone = practice_profile().zone
    today = now.astimezone(zone).date()
    since = None if course is None else course.phase_changed_at.astimezone(zone).date()
    return {
        "course": course,
        "course_since": "" if since is None else _day(since, today=today),
        "course_url": ""
        if course is None or not request.user.has_perm("kap_sessions.view_course")
        else reverse("admin:kap_sessions_course_change", args=[course.pk]),
        # No course yet: the course's add form, her name already chosen.
        "start_url": ""
        if course is not None or not request.user.has_perm("kap_sessions.add_course")
        else reverse("admin:kap_sessions_course_add") + f"?client={client.pk}",
        # Said only when the phase began later than the course.
        "course_started": ""
        if course is None or course.started_on == since
        else _day(course.started_on, today=today),
        "intake": intake,
        "intake_url": ""
        if intake is None
        else reverse("admin:kap_sessions_client_intake", args=[client.pk]),
        # Part by part until she has sent every part.
        "sections": sections if not submitted or done < len(SECTIONS) else [],
        "done": done,
        "total": len(SECTIONS),
        "submitted": in_practice_time(intake.submitted_at, now=now)
        if intake is not None and intake.submitted_at is not None
        else "",
        "last_saved": "" if intake is None else in_practice_time(intake.updated_at, now=now),
    }


# --- Eligibility ----------------------------------------------------------------------------


@client_panel(
    "kap_sessions.eligibility",
    title="Eligibility",
    order=30,
    template="kap_sessions/admin/client_panel_eligibility.html",
    permission="kap_sessions.view_eligibilityoverride",
)
def eligibility(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any]:
    """Her status with its reasons; the therapist's decision in force (who, when, why)."""
    result = eligibility_for(client)
    override = result.override
    return {
        "eligibility": result,
        "intake_started": result.intake_complete or Intake.objects.filter(client=client).exists(),
        "decided_by": "" if override is None else _who(override.decided_by),
        "decided_at": "" if override is None else in_practice_time(override.decided_at, now=now),
        "review_url": reverse("admin:kap_sessions_client_eligibility", args=[client.pk]),
        "may_decide": request.user.has_perm("kap_sessions.add_eligibilityoverride"),
    }


# --- Questionnaire scores ---------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    total: int
    on: str
    url: str


@dataclass(frozen=True)
class InstrumentScores:
    name: str
    max_total: int
    latest: ScreeningResponse
    latest_on: str
    change: str
    safety: bool
    # Oldest to newest, the latest last: "14 → 11 → 8".
    trend: list[Score]
    earlier_url: str

    @property
    def trend_text(self) -> str:
        return " → ".join(str(score.total) for score in self.trend)


def _change(response: ScreeningResponse) -> str:
    change = getattr(response, "change_since_last", None)
    if change is None:
        return "her first"
    if change == 0:
        return f"no change since the last ({response.previous_total})"  # type: ignore[attr-defined]
    return f"{change:+d} since the last ({response.previous_total})"  # type: ignore[attr-defined]


@client_panel(
    "kap_sessions.scores",
    title="Questionnaire scores",
    order=40,
    template="kap_sessions/admin/client_panel_scores.html",
    permission="kap_sessions.view_screeningresponse",
)
def scores(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any]:
    """Per questionnaire: the latest score, band and change since the last, and the trend.

    One query per instrument (``screening_history``), each reading the
    trend's rows and one more, to know whether earlier ones exist.
    """
    rows = []
    for slug, instrument in INSTRUMENTS.items():
        history = list(screening_history(client=client, instrument=slug)[: TREND + 1])
        if not history:
            continue
        latest = history[0]
        rows.append(
            InstrumentScores(
                name=abbreviation(slug),
                max_total=instrument.max_total,
                latest=latest,
                latest_on=in_practice_time(latest.completed_at, now=now),
                change=_change(latest),
                safety=latest.safety,
                trend=[
                    Score(
                        total=response.total,
                        on=in_practice_time(response.completed_at, now=now),
                        url=reverse(
                            "admin:kap_sessions_screeningresponse_change", args=[response.pk]
                        ),
                    )
                    for response in reversed(history[:TREND])
                ],
                earlier_url=_her_list(
                    "kap_sessions_screeningresponse", client, instrument__exact=slug
                )
                if len(history) > TREND
                else "",
            )
        )
    return {
        "instruments": rows,
        "list_url": _her_list("kap_sessions_screeningresponse", client),
    }


# --- What she still has to answer ---------------------------------------------------------


@dataclass(frozen=True)
class OutstandingRow:
    name: str
    due: str
    overdue: bool
    url: str


@client_panel(
    "kap_sessions.outstanding",
    title="Questionnaires outstanding",
    order=50,
    template="kap_sessions/admin/client_panel_outstanding.html",
    permission="kap_sessions.view_screeningassignment",
)
def outstanding(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any]:
    """Her open questionnaires, the earliest due first, overdue ones marked; the way to assign."""
    today = now.astimezone(practice_profile().zone).date()
    assignments = list(ScreeningAssignment.objects.open_for(client)[: SHOWN + 1])
    may_assign = request.user.has_perm("kap_sessions.add_screeningassignment")
    return {
        "assignments": [
            OutstandingRow(
                name=abbreviation(assignment.instrument),
                due=_day(assignment.due_on, today=today),
                overdue=assignment.is_overdue(today),
                url=reverse("admin:kap_sessions_screeningassignment_change", args=[assignment.pk]),
            )
            for assignment in assignments[:SHOWN]
        ],
        "more": len(assignments) > SHOWN,
        "assign_url": f"{reverse('admin:kap_sessions_screeningassignment_assign')}"
        f"?client={client.pk}"
        if may_assign
        else "",
        "list_url": _her_list("kap_sessions_screeningassignment", client),
    }


# --- Consents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRow:
    title: str
    version: int
    signed: str
    current: bool
    url: str
    pdf_url: str


@dataclass(frozen=True)
class ToSignRow:
    title: str
    version: int
    again: bool
    optional: bool


# Signed documents are listed in the order she reads them.
KIND_ORDER = {kind: index for index, kind in enumerate(ConsentKind.values)}


@client_panel(
    "kap_sessions.consents",
    title="Consents",
    order=60,
    template="kap_sessions/admin/client_panel_consents.html",
    permission="kap_sessions.view_consentsignature",
)
def consents(request: HttpRequest, *, client: Client, now: datetime) -> dict[str, Any]:
    """What she signed (with the PDF, through the audited download) and what she has still to sign.

    Two queries: the current versions with her signature's hash of each
    (``consents_to_sign``), and her valid signatures (at most one per kind).
    """
    to_sign = consents_to_sign(client)
    again_kinds = {document.kind for document in to_sign}
    may_download = request.user.has_perm("practice.view_clientdocument")
    signed = [
        SignedRow(
            title=signature.document.title,
            version=signature.document.version,
            signed=in_practice_time(signature.signed_at, now=now),
            current=signature.document.kind not in again_kinds,
            url=reverse("admin:kap_sessions_consentsignature_change", args=[signature.pk]),
            pdf_url=reverse("admin:practice_clientdocument_download", args=[signature.pdf_id])
            if signature.pdf_id is not None and may_download
            else "",
        )
        for signature in sorted(
            ConsentSignature.objects.for_client(client),
            key=lambda signature: KIND_ORDER.get(signature.document.kind, len(KIND_ORDER)),
        )
    ]
    return {
        "signed": signed,
        "to_sign": [
            ToSignRow(
                title=document.title,
                version=document.version,
                again=bool(document.signed_kind),  # type: ignore[attr-defined]
                optional=document.kind in OPTIONAL_CONSENT_KINDS,
            )
            for document in to_sign
        ],
        # What holds back a dosing session (consents_complete's rule).
        "required_left": sum(
            1 for document in to_sign if document.kind not in OPTIONAL_CONSENT_KINDS
        ),
        "list_url": _her_list("kap_sessions_consentsignature", client),
    }


# --- The course as a timeline -----------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    day: str
    what: str
    status: str = ""
    upcoming: bool = False


@dataclass(frozen=True)
class TimelineStage:
    title: str
    entries: list[TimelineEntry]
    current: bool


_BEGINNING = "Beginning: preparation"
_MIDDLE = "Middle: medicine and integration sessions"
_END = "End"


@client_panel(
    "kap_sessions.course_timeline",
    title="Her course",
    order=15,
    template="kap_sessions/admin/client_panel_course.html",
    permission="kap_sessions.view_course",
)
def course_timeline(
    request: HttpRequest, *, client: Client, now: datetime
) -> dict[str, Any] | None:
    """Her latest course in three stages, each with its sessions and dated steps (three queries).

    Cancelled and moved sessions are left out; the session they became is shown.
    """
    course = Course.objects.filter(client=client).order_by("-started_on", "-id").first()
    if course is None:
        return None
    zone = practice_profile().zone
    today = now.astimezone(zone).date()
    changes = list(course.phase_changes.all())
    sessions = list(
        course.sessions.standing().select_related("appointment").order_by("appointment__start")
    )
    beginning: list[TimelineEntry] = [
        TimelineEntry(_day(course.started_on, today=today), "Course started")
    ]
    middle: list[TimelineEntry] = []
    end: list[TimelineEntry] = []
    for session in sessions:
        appointment = session.appointment
        entry = TimelineEntry(
            day=_day(appointment.start.astimezone(zone).date(), today=today),
            what=session.get_kind_display()
            + (f" {session.dosing_number}" if session.dosing_number else ""),
            status=appointment.get_status_display(),
            upcoming=appointment.is_upcoming,
        )
        (beginning if session.kind == AppointmentKind.PREPARATION else middle).append(entry)
    for change in changes:
        if change.phase in CLOSED_PHASES:
            end.append(
                TimelineEntry(
                    _day(change.at.astimezone(zone).date(), today=today), change.get_phase_display()
                )
            )
    if course.is_open and course.planned_end_on is not None:
        end.append(
            TimelineEntry(
                _day(course.planned_end_on, today=today),
                "Planned end" + (" (passed)" if course.is_past_plan(today) else ""),
                upcoming=True,
            )
        )
    held = sum(
        1
        for session in sessions
        if session.is_dosing and session.appointment.status == Appointment.Status.COMPLETED
    )
    phase = course.phase
    return {
        "course": course,
        "held": held,
        "past_plan": course.is_past_plan(today),
        "course_url": reverse("admin:kap_sessions_course_change", args=[course.pk]),
        "stages": [
            TimelineStage(_BEGINNING, beginning, current=phase == CoursePhase.PREPARATION),
            TimelineStage(
                _MIDDLE, middle, current=phase in (CoursePhase.DOSING, CoursePhase.INTEGRATION)
            ),
            TimelineStage(_END, end, current=phase in CLOSED_PHASES),
        ],
    }
