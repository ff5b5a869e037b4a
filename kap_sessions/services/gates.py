"""The gates of a medicine (dosing) session: what must be true to book it, and to start it.

Each gate is a named predicate with its plain words (:class:`Gate`): the
admin shows every gate as met or missing, the Today page lists the courses
waiting on one, and the services refuse with :class:`GateClosed`, whose
messages are the details of the missing gates. The gates only read.

**To book** a medicine session (:func:`dosing_schedule_gates`):

- ``eligible``: :func:`~kap_sessions.services.eligibility.eligibility_for` says
  eligible (the therapist's newest decision counts). ``session_book`` may
  book past this one gate when she gives a reason, which the session keeps;
- ``consents``: every consent she must sign is signed in its current version
  (:func:`~kap_sessions.services.consent.consents_complete`);
- ``clearance``: the prescriber's medical clearance is recorded on the course;
- ``preparation``: at least one preparation session of the course was held;
- ``driver``: the course names who drives her home.

**To start** it (:func:`dosing_start_gates`):

- ``attestation``: her newest pregnancy-status attestation from the last
  ``CourseSettings.attestation_days`` (7) days says "not pregnant";
- ``blood_pressure``: the baseline taken at the start is under both limits
  (``CourseSettings``, 140/90): equal to a limit is not under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.utils.formats import date_format

from practice.calendar.display import in_practice_time
from practice.models import Appointment, AppointmentKind, Client

from ..models import (
    Course,
    CourseSession,
    CourseSettings,
    EligibilityStatus,
    MedicalClearance,
    PregnancyAttestation,
    PregnancyStatus,
)
from .consent import consents_missing, consents_to_sign_for
from .eligibility import Eligibility, eligibility_for_clients

__all__ = [
    "SCHEDULE_GATE_KEYS",
    "START_GATE_KEYS",
    "Gate",
    "GateClosed",
    "dosing_schedule_gates",
    "dosing_schedule_gates_for",
    "dosing_start_gates",
    "missing",
]

SCHEDULE_GATE_KEYS = ("eligible", "consents", "clearance", "preparation", "driver")
START_GATE_KEYS = ("attestation", "blood_pressure")

LABELS = {
    "eligible": "Eligible for the course",
    "consents": "Consent documents signed in their current versions",
    "clearance": "Medical clearance from the prescriber",
    "preparation": "At least one preparation session held",
    "driver": "A driver named to take her home",
    "attestation": "Pregnancy status attested in the last days",
    "blood_pressure": "Blood pressure at the start under the limit",
}


@dataclass(frozen=True)
class Gate:
    """One condition of a medicine session, in plain words, met or not."""

    key: str
    label: str
    met: bool
    detail: str


class GateClosed(ValidationError):
    """A medicine session refused because gates are missing; ``gates`` are the missing ones."""

    def __init__(self, gates: Sequence[Gate]) -> None:
        self.gates = list(gates)
        super().__init__([gate.detail for gate in self.gates], code="gate_closed")


def missing(gates: Sequence[Gate]) -> list[Gate]:
    return [gate for gate in gates if not gate.met]


def _gate(key: str, met: bool, detail: str) -> Gate:
    return Gate(key=key, label=LABELS[key], met=met, detail=detail)


# --- To book ------------------------------------------------------------------------------


def _eligible_gate(eligibility: Eligibility) -> Gate:
    if eligibility.status == EligibilityStatus.ELIGIBLE:
        override = eligibility.override
        if override is not None and eligibility.computed_status != EligibilityStatus.ELIGIBLE:
            return _gate(
                "eligible",
                True,
                f"Eligible by your decision of {date_format(override.decided_at)}.",
            )
        return _gate("eligible", True, "Eligible: no contraindication applies.")
    reasons = "; ".join(eligibility.reasons)
    detail = f"{eligibility.status_label}" + (f": {reasons}." if reasons else ".")
    if not eligibility.intake_complete:
        detail += " Her intake is not sent yet."
    return _gate("eligible", False, detail)


def dosing_schedule_gates(*, course: Course, now: datetime) -> list[Gate]:
    """The gates to book a medicine session of ``course``, in the order above."""
    return dosing_schedule_gates_for(courses=[course], now=now)[course.pk]


def dosing_schedule_gates_for(*, courses: Sequence[Course], now: datetime) -> dict[int, list[Gate]]:
    """:func:`dosing_schedule_gates` of each course, by course id, in a constant ten queries.

    The clients are read again in one query, so courses given without their
    client cost nothing more per course. ``now`` is the moment the gates are
    read for (it words the dates); every gate to book is about facts recorded so far.
    """
    if not courses:
        return {}
    course_ids = [course.pk for course in courses]
    clients = Client.objects.in_bulk({course.client_id for course in courses})
    ordered_clients = list(clients.values())
    eligibility = eligibility_for_clients(ordered_clients)
    to_sign = consents_to_sign_for(ordered_clients)
    clearances: dict[int, MedicalClearance] = {}
    for clearance in MedicalClearance.objects.filter(course_id__in=course_ids).order_by(
        "-cleared_on", "-id"
    ):
        clearances.setdefault(clearance.course_id, clearance)
    held = {
        row["course_id"]: row
        for row in CourseSession.objects.filter(
            course_id__in=course_ids,
            kind=AppointmentKind.PREPARATION,
            appointment__status=Appointment.Status.COMPLETED,
        )
        .values("course_id")
        .annotate(count=Count("id"), last=Max("appointment__start"))
    }
    result: dict[int, list[Gate]] = {}
    for course in courses:
        gates = [_eligible_gate(eligibility[course.client_id])]
        unsigned = consents_missing(to_sign[course.client_id])
        if unsigned:
            titles = ", ".join(document.title for document in unsigned)
            gates.append(_gate("consents", False, f"Still to sign: {titles}."))
        else:
            gates.append(
                _gate("consents", True, "Every document she must sign is signed, current version.")
            )
        latest = clearances.get(course.pk)
        if latest is None:
            gates.append(_gate("clearance", False, "No clearance recorded yet."))
        else:
            gates.append(
                _gate(
                    "clearance",
                    True,
                    f"Cleared by {latest.prescriber} on {date_format(latest.cleared_on)}.",
                )
            )
        preparation = held.get(course.pk)
        if preparation is None:
            gates.append(_gate("preparation", False, "No preparation session held yet."))
        else:
            count = preparation["count"]
            sessions = "session" if count == 1 else "sessions"
            gates.append(
                _gate(
                    "preparation",
                    True,
                    f"{count} preparation {sessions} held, the last on "
                    f"{in_practice_time(preparation['last'], now=now)}.",
                )
            )
        if course.driver_name.strip():
            gates.append(_gate("driver", True, f"{course.driver_name} drives her home."))
        else:
            gates.append(_gate("driver", False, "No driver named yet."))
        result[course.pk] = gates
    return result


# --- To start -----------------------------------------------------------------------------


def dosing_start_gates(
    *,
    session: CourseSession,
    now: datetime,
    baseline_systolic: int | None,
    baseline_diastolic: int | None,
) -> list[Gate]:
    """The gates to start the medicine session ``session`` at ``now`` (two or three queries).

    A blood pressure not taken yet (``None``) is a missing gate that says so.
    """
    limits = CourseSettings.current()
    days = limits.attestation_days
    attestation = (
        PregnancyAttestation.objects.recent_for(session.course.client, at=now, days=days)
        .only("status", "attested_at", "source")
        .first()
    )
    if attestation is None:
        gates = [
            _gate(
                "attestation",
                False,
                f"No pregnancy-status attestation in the last {days} days: ask her and record it.",
            )
        ]
    elif attestation.status != PregnancyStatus.NOT_PREGNANT:
        gates = [
            _gate(
                "attestation",
                False,
                f"Her attestation of {in_practice_time(attestation.attested_at, now=now)} says "
                f"“{attestation.get_status_display()}”.",
            )
        ]
    else:
        gates = [
            _gate(
                "attestation",
                True,
                f"Not pregnant, attested {in_practice_time(attestation.attested_at, now=now)} "
                f"({attestation.get_source_display().lower()}).",
            )
        ]
    limit = f"{limits.baseline_systolic_limit}/{limits.baseline_diastolic_limit}"
    if baseline_systolic is None or baseline_diastolic is None:
        gates.append(
            _gate("blood_pressure", False, "No blood pressure taken yet: take it at the start.")
        )
    elif (
        baseline_systolic < limits.baseline_systolic_limit
        and baseline_diastolic < limits.baseline_diastolic_limit
    ):
        gates.append(
            _gate(
                "blood_pressure",
                True,
                f"{baseline_systolic}/{baseline_diastolic} is under the limit of {limit}.",
            )
        )
    else:
        gates.append(
            _gate(
                "blood_pressure",
                False,
                f"{baseline_systolic}/{baseline_diastolic} is not under the limit of {limit}.",
            )
        )
    return gates
