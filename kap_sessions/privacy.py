"""The KAP course's share of her privacy rights (``practice.privacy``'s parts).

Registered from ``KapSessionsConfig.ready()``:

- the export: her intake, questionnaires with their answers and scores,
  consents signed, eligibility decisions, safety flags, courses with their
  phases, sessions, clearances and medicine session records (vitals, adverse
  events), session notes (``notes_for_export``: psychotherapy notes only
  when asked), superbills and estimates; and as PDFs the summary of each
  completed course, each superbill and each estimate
  (``kap_sessions.documents``). A constant number of queries for the JSON;
  each PDF costs its document's fixed few.
- the purge: every row of hers, deleted in the order the ``PROTECT`` keys
  need (addenda, notes, session records, sessions, ...; the course last).
- the activity: a client with an open course, or one closed since the
  cutoff, is not closed yet.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from practice.models import Client
from practice.privacy import (
    ExportSection,
    model_rows,
    register_client_activity,
    register_client_purge,
    register_export_part,
)

from .documents import course_summary_pdf, estimate_pdf, superbill_pdf
from .models import (
    CLOSED_PHASES,
    ClientContraindication,
    ConsentSignature,
    Course,
    CoursePhase,
    CourseSession,
    DosingRecord,
    EligibilityOverride,
    GoodFaithEstimate,
    Intake,
    MedicalClearance,
    NoteAddendum,
    PregnancyAttestation,
    PsychotherapyNote,
    SafetyFlag,
    ScreeningAssignment,
    ScreeningResponse,
    SessionNote,
    Superbill,
)
from .services.notes import notes_for_export

__all__: list[str] = []


def _notes(client: Client, include_psychotherapy: bool) -> list[dict[str, Any]]:
    return [
        {
            "kind": "psychotherapy" if exported.is_psychotherapy else "progress",
            "session_id": exported.session.pk,
            "held_at": exported.held_at,
            "signed": exported.is_signed,
            "signed_at": exported.note.signed_at,
            "sections": [{"label": label, "text": text} for label, text in exported.sections],
            "addenda": [
                {"written_at": addendum.written_at, "text": addendum.text}
                for addendum in exported.addenda
            ],
        }
        for exported in notes_for_export(client=client, include_psychotherapy=include_psychotherapy)
    ]


def _questionnaires(client: Client) -> list[dict[str, Any]]:
    assignments = ScreeningAssignment.objects.filter(client=client).order_by("due_on", "pk")
    responses = {
        response.assignment_id: response
        for response in ScreeningResponse.objects.filter(client=client).prefetch_related("answers")
    }
    result = []
    for assignment in assignments:
        row = model_rows([assignment])[0]
        response = responses.get(assignment.pk)
        row["response"] = None
        if response is not None:
            row["response"] = model_rows([response])[0]
            row["response"]["answers"] = model_rows(
                sorted(response.answers.all(), key=attrgetter("item_number")),
                exclude=("response",),
            )
        result.append(row)
    return result


def _courses(client: Client) -> list[dict[str, Any]]:
    courses = (
        Course.objects.filter(client=client)
        .order_by("started_on", "pk")
        .prefetch_related(
            "phase_changes",
            "clearances",
            Prefetch(
                "sessions",
                queryset=CourseSession.objects.select_related("appointment").order_by(
                    "appointment__start"
                ),
            ),
        )
    )
    records = {
        record.session_id: record
        for record in DosingRecord.objects.filter(session__course__client=client).prefetch_related(
            "vitals", "adverse_events"
        )
    }
    result = []
    for course in courses:
        row = model_rows([course])[0]
        row["phases"] = model_rows(
            sorted(course.phase_changes.all(), key=attrgetter("at", "pk")),
            exclude=("course", "actor"),
        )
        row["clearances"] = model_rows(course.clearances.all(), exclude=("course", "recorded_by"))
        sessions = []
        for session in course.sessions.all():
            entry = model_rows([session], exclude=("course", "created_by"))[0]
            entry["start"] = session.appointment.start
            entry["end"] = session.appointment.end
            entry["status"] = session.appointment.status
            record = records.get(session.pk)
            entry["medicine_session_record"] = None
            if record is not None:
                entry["medicine_session_record"] = {
                    **model_rows([record], exclude=("session", "recorded_by"))[0],
                    "vitals": model_rows(
                        sorted(record.vitals.all(), key=attrgetter("taken_at")),
                        exclude=("record", "recorded_by"),
                    ),
                    "adverse_events": model_rows(
                        record.adverse_events.all(), exclude=("record", "recorded_by")
                    ),
                }
            sessions.append(entry)
        row["sessions"] = sessions
        result.append(row)
    return result


def _with_lines(rows: QuerySet[Any], owner: str) -> list[dict[str, Any]]:
    result = []
    for row in rows.prefetch_related("lines"):
        entry = model_rows([row], exclude=("created_by",))[0]
        entry["lines"] = model_rows(row.lines.all(), exclude=(owner,))
        result.append(entry)
    return result


@register_export_part("kap_sessions", order=20)
def kap_export(*, client: Client, include_psychotherapy: bool) -> ExportSection:
    signatures = (
        ConsentSignature.objects.filter(client=client)
        .select_related("document")
        .order_by("signed_at", "pk")
    )
    consents = [
        {
            **model_rows([signature], exclude=("user_agent",))[0],
            "document_title": signature.document.title,
            "document_version": signature.document.version,
        }
        for signature in signatures
    ]
    superbills = Superbill.objects.filter(client=client).order_by("issued_on", "pk")
    estimates = GoodFaithEstimate.objects.filter(client=client).order_by("issued_on", "pk")
    data = {
        "intake": model_rows(Intake.objects.filter(client=client), exclude=("client",)),
        "questionnaires": _questionnaires(client),
        "consents": consents,
        "eligibility": {
            "marked_contraindications": model_rows(
                ClientContraindication.objects.filter(client=client), exclude=("noted_by",)
            ),
            "overrides": model_rows(
                EligibilityOverride.objects.filter(client=client), exclude=("decided_by",)
            ),
        },
        "safety_flags": model_rows(
            SafetyFlag.objects.filter(client=client), exclude=("acknowledged_by",)
        ),
        "courses": _courses(client),
        "session_notes": _notes(client, include_psychotherapy),
        "superbills": _with_lines(superbills, "superbill"),
        "estimates": _with_lines(estimates, "estimate"),
    }
    files: dict[str, bytes] = {}
    for course in Course.objects.filter(client=client, phase=CoursePhase.COMPLETED):
        files[f"course-summary-{course.pk}.pdf"] = course_summary_pdf(course)
    for superbill in superbills:
        files[f"superbill-{superbill.pk}.pdf"] = superbill_pdf(superbill)
    for estimate in estimates:
        files[f"good-faith-estimate-{estimate.pk}.pdf"] = estimate_pdf(estimate)
    return ExportSection(data=data, files=files)


@register_client_purge("kap_sessions", order=20)
def kap_purge(*, client_ids: list[int]) -> dict[str, int]:
    """Every KAP row of these clients, children before the rows they ``PROTECT``."""
    of_sessions = Q(session__course__client_id__in=client_ids)
    of_clients = Q(client_id__in=client_ids)
    counts: dict[str, int] = {}

    def delete(queryset: QuerySet[Any]) -> None:
        for label, deleted in queryset.delete()[1].items():
            counts[label] = counts.get(label, 0) + deleted

    delete(
        NoteAddendum.objects.filter(
            Q(session_note__session__course__client_id__in=client_ids)
            | Q(psychotherapy_note__session__course__client_id__in=client_ids)
        )
    )
    delete(PsychotherapyNote.objects.filter(of_sessions))
    delete(SessionNote.objects.filter(of_sessions))
    delete(DosingRecord.objects.filter(of_sessions))
    delete(MedicalClearance.objects.filter(course__client_id__in=client_ids))
    delete(PregnancyAttestation.objects.filter(of_clients))
    delete(CourseSession.objects.filter(course__client_id__in=client_ids))
    delete(SafetyFlag.objects.filter(of_clients))
    delete(ScreeningResponse.objects.filter(of_clients))
    delete(ScreeningAssignment.objects.filter(of_clients))
    # A newer signature names the one it superseded (PROTECT): unlink first.
    signatures = ConsentSignature.objects.filter(of_clients)
    signatures.exclude(superseded_by=None).update(superseded_by=None)
    delete(signatures)
    delete(ClientContraindication.objects.filter(of_clients))
    delete(EligibilityOverride.objects.filter(of_clients))
    delete(Intake.objects.filter(of_clients))
    delete(Superbill.objects.filter(of_clients))
    delete(GoodFaithEstimate.objects.filter(of_clients))
    delete(Course.objects.filter(of_clients))
    return counts


@register_client_activity("kap_sessions")
def kap_activity(*, since: datetime) -> QuerySet[Any]:
    """Clients with an open course, or a course closed on or after ``since``."""
    return Course.objects.filter(
        ~Q(phase__in=CLOSED_PHASES) | Q(closed_on__gte=since.date())
    ).values("client_id")
