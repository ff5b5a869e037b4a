"""Writes to the record of a medicine (dosing) session, and how to read its flags.

The session is started by ``session_start`` (``services/sessions.py``: the
start gates, the baseline blood pressure, ``started_at`` and the start of the
therapist's presence). From then on the page of the record writes here: what
was given, vitals one row at a time, adverse events, observations, her
presence, and the discharge, which completes the session through
``session_complete``.

Vitals are typed on a tablet that may lose its connection or its sign-in
(the staff session ends after an idle hour) while a row is on its way. The
tablet keeps every row until the server has answered for it and sends it
again, each with the ``entry_key`` it was given when it was typed. So
:func:`vital_sign_record` may be asked for one row any number of times, at
once from two requests even: it stores the row once and answers every ask
with the stored row. The database settles a race
(``kap_sessions_vitalsign_entry_once``), never a 500.

Not durable, as :mod:`kap_sessions.services.sessions`: ``seed_demo`` may
write a demo session's record through these functions inside its one
transaction; called alone (the page's forms), each runs in a transaction of
its own. The race above is settled by a savepoint, nested or not.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from practice.calendar.display import clock
from practice.identity import practice_profile
from practice.models import AuditEvent, Client, User
from practice.services import audit_record

from ..models import AdverseEvent, CourseSettings, DosingRecord, VitalSign
from .sessions import SessionCompleted, session_complete

VITAL_SIGN_ENTRY_ONCE = "kap_sessions_vitalsign_entry_once"
# A discharge time typed a little ahead of the server's clock is still "now".
CLOCK_SKEW = timedelta(minutes=5)

DISCHARGE_CHECKLIST: tuple[tuple[str, str], ...] = (
    ("alert_and_oriented", "alert and oriented"),
    ("steady_on_feet", "steady on her feet"),
    ("driver_present", "driver present"),
)
READINGS: tuple[str, ...] = ("systolic", "diastolic", "heart_rate", "spo2")


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED = _Unchanged.UNCHANGED
Keep = Literal[_Unchanged.UNCHANGED]


def _clock(moment: datetime) -> str:
    """'9:05 AM' in the practice's zone."""
    return clock(moment.astimezone(practice_profile().zone))


def _client_of(record: DosingRecord) -> Client:
    return record.session.course.client


def _locked(record: DosingRecord) -> DosingRecord:
    return (
        DosingRecord.objects.select_related("session__course__client", "session__appointment")
        .select_for_update(of=("self",))
        .get(pk=record.pk)
    )


def _violates(exc: IntegrityError, name: str) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return bool(diag.constraint_name == name)
    # SQLite names the columns only; (record, entry_key) is unique in no other rule.
    return "kap_sessions_vitalsign.record_id, kap_sessions_vitalsign.entry_key" in str(exc)


@transaction.atomic
def dosing_record_update(
    *,
    record: DosingRecord,
    medication: str | Keep = UNCHANGED,
    route: str | Keep = UNCHANGED,
    dose_mg: Decimal | None | Keep = UNCHANGED,
    lot_number: str | Keep = UNCHANGED,
    given_at: datetime | None | Keep = UNCHANGED,
    prescriber: str | Keep = UNCHANGED,
    observations: str | Keep = UNCHANGED,
    present_from: datetime | None | Keep = UNCHANGED,
    present_until: datetime | None | Keep = UNCHANGED,
    actor: User | None = None,
) -> DosingRecord:
    """Change what was given, the observations or the therapist's presence on ``record``.

    Only the fields passed change (each form of the page sends its own).
    Raises ``ValidationError`` (by field) for a value the record refuses: a
    dose of zero, an unknown route, a presence that ends before it starts.

    Side effects: saves the record (row locked first, so two forms sent at
    once both land); one "changed" audit line naming the record and her,
    written only when something changed (never the content).
    """
    locked = _locked(record)
    changes = {
        "medication": medication,
        "route": route,
        "dose_mg": dose_mg,
        "lot_number": lot_number,
        "given_at": given_at,
        "prescriber": prescriber,
        "observations": observations,
        "present_from": present_from,
        "present_until": present_until,
    }
    changed = [
        name
        for name, value in changes.items()
        if value is not UNCHANGED and getattr(locked, name) != value
    ]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, changes[name])
    if (
        locked.present_from is not None
        and locked.present_until is not None
        and locked.present_until <= locked.present_from
    ):
        raise ValidationError({"present_until": "Your presence must end after it starts."})
    locked.full_clean(exclude=["session"], validate_unique=False, validate_constraints=False)
    locked.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor, action=AuditEvent.Action.CHANGE, obj=locked, client=_client_of(locked)
    )
    return locked


@transaction.atomic
def vital_sign_record(
    *,
    record: DosingRecord,
    entry_key: uuid.UUID,
    taken_at: datetime,
    systolic: int | None = None,
    diastolic: int | None = None,
    heart_rate: int | None = None,
    spo2: int | None = None,
    actor: User | None = None,
) -> VitalSign:
    """Store one row of vitals typed on the tablet, once per ``entry_key``; return the stored row.

    A row already stored under ``entry_key`` (a re-send after a reload, a lost
    answer or a new sign-in) is returned as it was stored, and what was sent
    again is not compared: the first arrival is the row. Two sends at once
    insert one row; the loser of the race reads the winner's
    (``kap_sessions_vitalsign_entry_once``).

    Raises ``ValidationError`` when the session has not started, when no
    reading is given or when a reading is outside what a person can have
    (the fields' validators). Readings outside the practice's ranges are
    stored: they are what the page highlights.

    Side effects: inserts the row; one "created" audit line naming it and
    her (none for a re-send).
    """
    stored = VitalSign.objects.filter(record=record, entry_key=entry_key).first()
    if stored is not None:
        return stored
    if not record.is_started:
        raise ValidationError("Start the session before entering vitals.")
    vital = VitalSign(
        record=record,
        entry_key=entry_key,
        taken_at=taken_at,
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=heart_rate,
        spo2=spo2,
        recorded_by=actor,
    )
    if all(getattr(vital, name) is None for name in READINGS):
        raise ValidationError("Enter at least one reading.")
    # The entry key's uniqueness is the insert's to settle, not a read's.
    vital.full_clean(exclude=["record", "entry_key", "recorded_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            vital.save(force_insert=True)
    except IntegrityError as exc:
        if not _violates(exc, VITAL_SIGN_ENTRY_ONCE):
            raise
        return VitalSign.objects.get(record=record, entry_key=entry_key)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=vital,
        client=_client_of(record),
    )
    return vital


@transaction.atomic
def adverse_event_record(
    *,
    record: DosingRecord,
    at: datetime,
    severity: str,
    description: str,
    action_taken: str = "",
    actor: User | None = None,
) -> AdverseEvent:
    """Add an adverse event to ``record``: when, how severe, what happened and what was done.

    Raises ``ValidationError`` (by field) without a description or with an
    unknown severity.

    Side effects: inserts the event; one "created" audit line naming it and
    her (never its text).
    """
    if not description.strip():
        raise ValidationError({"description": "Say what happened."})
    event = AdverseEvent(
        record=record,
        at=at,
        severity=severity,
        description=description.strip(),
        action_taken=action_taken.strip(),
        recorded_by=actor,
    )
    event.full_clean(exclude=["record", "recorded_by"])
    event.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=event,
        client=_client_of(record),
    )
    return event


def discharge_missing(
    *, alert_and_oriented: bool, steady_on_feet: bool, driver_present: bool
) -> list[str]:
    """The items of the discharge checklist not ticked, in plain words, in checklist order."""
    ticked = {
        "alert_and_oriented": alert_and_oriented,
        "steady_on_feet": steady_on_feet,
        "driver_present": driver_present,
    }
    return [words for name, words in DISCHARGE_CHECKLIST if not ticked[name]]


@transaction.atomic
def dosing_discharge(
    *,
    record: DosingRecord,
    alert_and_oriented: bool,
    steady_on_feet: bool,
    driver_present: bool,
    discharged_at: datetime | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> SessionCompleted:
    """Discharge her at ``discharged_at`` (default now) and complete the session.

    Refused (``ValidationError``, plain words) while an item of the checklist
    is not ticked ("Before she leaves: steady on her feet, driver present."),
    before the session has started, for a time before the start or in the
    future, and a second time (the page's button sent twice).

    Side effects, in one transaction:
    - the checklist and the discharge time are saved on the record (row
      locked); an empty end of the therapist's presence becomes the discharge
      time (she is there to discharge her);
    - one "changed" audit line naming the record and her;
    - ``session_complete``: the appointment is marked completed, the check-in
      is booked for the next day and an integration time proposed (see there
      for its own side effects), returned as it returns them.
    """
    now = now or timezone.now()
    missing = discharge_missing(
        alert_and_oriented=alert_and_oriented,
        steady_on_feet=steady_on_feet,
        driver_present=driver_present,
    )
    if missing:
        raise ValidationError(f"Before she leaves: {', '.join(missing)}.", code="checklist")
    locked = _locked(record)
    if locked.started_at is None:
        raise ValidationError("The session has not started yet.", code="not_started")
    if locked.discharged_at is not None:
        raise ValidationError(
            f"She was discharged at {_clock(locked.discharged_at)}.",
            code="discharged",
        )
    discharged_at = discharged_at or now
    if discharged_at <= locked.started_at:
        raise ValidationError(
            {
                "discharged_at": "Discharge must come after the start at "
                f"{_clock(locked.started_at)}."
            }
        )
    if discharged_at > now + CLOCK_SKEW:
        raise ValidationError({"discharged_at": "That time has not come yet."})
    locked.alert_and_oriented = locked.steady_on_feet = locked.driver_present = True
    locked.discharged_at = discharged_at
    if locked.present_until is None:
        locked.present_until = discharged_at
    locked.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.CHANGE, obj=locked, client=_client_of(locked)
    )
    record.refresh_from_db()
    return session_complete(session=locked.session, actor=actor, now=now)


def presence_flag(record: DosingRecord) -> str | None:
    """Why the therapist's presence is shorter than the session, in plain words; ``None`` if not.

    The session runs from ``started_at`` to ``discharged_at`` (still running
    before discharge). Her presence (``present_from`` to ``present_until``,
    an empty end meaning she is still there) must cover it.
    """
    if record.started_at is None:
        return None
    if record.present_from is None:
        return "Your presence is not recorded."
    if record.present_from > record.started_at:
        return (
            f"Your presence starts at {_clock(record.present_from)}, "
            f"after the session started at {_clock(record.started_at)}."
        )
    if record.present_until is None:
        return None
    if record.discharged_at is None:
        return (
            f"Your presence ends at {_clock(record.present_until)}, and she is not discharged yet."
        )
    if record.present_until < record.discharged_at:
        return (
            f"Your presence ends at {_clock(record.present_until)}, "
            f"before her discharge at {_clock(record.discharged_at)}."
        )
    return None


@dataclass(frozen=True)
class Reading:
    """One reading of a row as the page shows it: its value and, out of range, which way."""

    name: str
    value: int | None
    out_of_range: Literal["high", "low", ""]


def vital_readings(vital: VitalSign, limits: CourseSettings) -> list[Reading]:
    """The row's readings in table order, each marked "high" or "low" when outside the ranges."""
    out = vital.out_of_range(limits)
    lows = {
        "systolic": limits.systolic_low,
        "diastolic": limits.diastolic_low,
        "heart_rate": limits.heart_rate_low,
        "spo2": limits.spo2_low,
    }
    readings = []
    for name in READINGS:
        value = getattr(vital, name)
        direction: Literal["high", "low", ""] = ""
        if name in out:
            direction = "low" if value < lows[name] else "high"
        readings.append(Reading(name, value, direction))
    return readings
