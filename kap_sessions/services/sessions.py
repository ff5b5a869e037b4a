"""A course's sessions on the shared calendar: booking, moving, cancelling, starting, completing.

Every session is an appointment of the practice's one calendar (booked with
``offered_only=False``: the therapist places it by hand, so only the overlap
rule applies, the same database constraint as consultations), with its
reminders planned by the calendar. Because it is an appointment, the
free-consultation slots around it disappear with no further step.

A medicine (dosing) session is always in person. Booking one checks the
booking gates (:func:`~kap_sessions.services.gates.dosing_schedule_gates`;
eligibility alone may be overridden with a reason, which the session
keeps), numbers it in the course's plan, creates its empty record and plans
the questionnaires she answers before it. Starting it checks the start
gates (pregnancy-status attestation, baseline blood pressure). Completing it
books the check-in for the next day and proposes an integration session
within ``CourseSettings.integration_within_hours``.

The gates are checked when a medicine session is booked and again when it
starts, not when it moves: a start refused (no attestation, a high blood
pressure) is answered by moving the session, which must stay possible.

Every write appends an audit line naming ``actor`` (never any content).
Not durable, as :mod:`kap_sessions.services.course` (the demo and the admin
call them inside their own transaction); each is atomic.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, QuerySet
from django.utils import timezone

from practice.calendar.display import in_practice_time
from practice.calendar.models import KindSettings
from practice.calendar.services import (
    SlotUnavailable,
    appointment_book,
    appointment_move,
    appointment_transition,
)
from practice.calendar.slots import available_slots, kind_settings
from practice.client_records import USState
from practice.identity import practice_profile
from practice.models import (
    Appointment,
    AppointmentKind,
    AuditEvent,
    Client,
    ClientDocument,
    MeetingMode,
    User,
)
from practice.private_files import private_file_save
from practice.services import audit_record

from ..models import (
    CLOSED_PHASES,
    SESSION_KINDS,
    Course,
    CourseSession,
    CourseSettings,
    DosingRecord,
    MedicalClearance,
    PregnancyAttestation,
    PregnancyStatus,
)
from .gates import GateClosed, dosing_schedule_gates, dosing_start_gates, missing
from .measures import measures_plan_before_dosing

__all__ = [
    "IN_PERSON_ONLY",
    "TIME_TAKEN",
    "SessionCompleted",
    "integration_overdue",
    "medical_clearance_record",
    "pregnancy_attestation_record",
    "session_book",
    "session_cancel",
    "session_complete",
    "session_location_record",
    "session_move",
    "session_start",
]

IN_PERSON_ONLY = (
    "A medicine session is always in person: you are in the room for all of it and "
    "she goes home with her driver."
)
TIME_TAKEN = "That time is taken on your calendar: choose another."
COURSE_CLOSED = "This course is closed: its sessions can no longer change."
CHECK_IN_MODE = MeetingMode.PHONE


@dataclass(frozen=True)
class SessionCompleted:
    """What completing a session did: the session, the check-in booked, the integration proposed.

    ``check_in`` and ``integration_proposal`` are set for a medicine session
    only, and are ``None`` when no free time was found (the check-in on the
    next day; an integration session within the window).
    """

    session: CourseSession
    check_in: CourseSession | None = None
    integration_proposal: datetime | None = None


def _practice_date(moment: datetime) -> date:
    return timezone.localdate(moment, timezone=practice_profile().zone)


def _locked(session: CourseSession) -> CourseSession:
    return (
        CourseSession.objects.select_related("appointment", "course__client")
        .select_for_update(of=("self",))
        .get(pk=session.pk)
    )


def _refuse_if_closed(course: Course) -> None:
    if course.phase in CLOSED_PHASES:
        raise ValidationError(COURSE_CLOSED, code="closed")


def _started(session: CourseSession) -> bool:
    record = DosingRecord.objects.filter(session=session).only("started_at").first()
    return record is not None and record.is_started


# --- Booking ------------------------------------------------------------------------------


def _book_appointment(
    *, client: Client, kind: str, start: datetime, mode: str, video_url: str, now: datetime
) -> Appointment:
    """The appointment on the calendar, or :class:`SlotUnavailable`."""
    appointment = appointment_book(
        kind=kind,
        start=start,
        client_id=client.pk,
        mode=mode,
        offered_only=False,
        reminders=True,
        now=now,
    )
    if video_url:
        appointment.video_url = video_url
        appointment.save(update_fields=["video_url"])
    return appointment


def _standing_medicine_sessions(course: Course) -> int:
    """Medicine sessions booked or held (cancelled and missed ones leave the plan)."""
    return CourseSession.objects.filter(
        course=course,
        kind=AppointmentKind.DOSING,
        appointment__status__in=(Appointment.Status.BOOKED, Appointment.Status.COMPLETED),
    ).count()


@transaction.atomic
def session_book(
    *,
    course: Course,
    kind: str,
    start: datetime,
    mode: str,
    video_url: str = "",
    location_state: str = "",
    override_reason: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> CourseSession:
    """Book a session of ``kind`` for ``course`` at ``start``; return it.

    Raises ``ValidationError`` for a closed course, an unknown kind or mode,
    a start that is not after ``now``, a medicine session not in person
    (:data:`IN_PERSON_ONLY`), a video link or location on a session that is
    not by video, a medicine session past the course's plan, or a time that
    is taken (:data:`TIME_TAKEN`); :class:`GateClosed` (a ``ValidationError``)
    for a medicine session whose booking gates are missing. A missing
    eligibility gate is passed when ``override_reason`` says why; the
    reason is kept on the session (and ignored when nothing was overridden).

    Side effects:
    - an appointment of ``kind`` on the calendar for her (time taken, so the
      consultation slots around it disappear), with its reminders planned;
    - the course session row (kind, number in the plan for a medicine session,
      ``location_state``, override reason, ``actor``);
    - for a medicine session: its empty record, and the questionnaires she
      answers before it (``measures_plan_before_dosing``);
    - an audit line "created" for the session, naming ``actor``.
    """
    now = now or timezone.now()
    course = (
        Course.objects.select_related("client").select_for_update(of=("self",)).get(pk=course.pk)
    )
    _refuse_if_closed(course)
    if kind not in SESSION_KINDS:
        raise ValidationError("Choose the kind of session.", code="kind")
    if mode not in MeetingMode.values:
        raise ValidationError("Choose how you meet.", code="mode")
    if kind == AppointmentKind.DOSING and mode != MeetingMode.IN_PERSON:
        raise ValidationError(IN_PERSON_ONLY, code="in_person")
    if video_url and mode != MeetingMode.VIDEO:
        raise ValidationError("A video link is only for a video session.", code="video_url")
    if location_state and mode != MeetingMode.VIDEO:
        raise ValidationError(
            "Her location is recorded only for a video session.", code="location_state"
        )
    if location_state and location_state not in USState.values:
        raise ValidationError("Choose a state.", code="location_state")
    if start <= now:
        raise ValidationError("Choose a time still to come.", code="past")
    override_reason = override_reason.strip()
    dosing_number = None
    if kind == AppointmentKind.DOSING:
        gates = dosing_schedule_gates(course=course, now=now)
        closed = [
            gate for gate in missing(gates) if not (gate.key == "eligible" and override_reason)
        ]
        if closed:
            raise GateClosed(closed)
        if not any(gate.key == "eligible" and not gate.met for gate in gates):
            override_reason = ""  # nothing was overridden
        standing = _standing_medicine_sessions(course)
        if standing >= course.planned_dosing_sessions:
            raise ValidationError(
                f"The course plans {course.planned_dosing_sessions} medicine sessions and "
                "every one is booked or held: change the plan to add another.",
                code="plan_full",
            )
        dosing_number = standing + 1
    else:
        override_reason = ""
    try:
        appointment = _book_appointment(
            client=course.client, kind=kind, start=start, mode=mode, video_url=video_url, now=now
        )
    except SlotUnavailable as exc:
        raise ValidationError(TIME_TAKEN, code="slot_unavailable") from exc
    session = CourseSession.objects.create(
        course=course,
        appointment=appointment,
        kind=kind,
        dosing_number=dosing_number,
        location_state=location_state,
        gate_override_reason=override_reason,
        created_at=now,
        created_by=actor,
    )
    if session.is_dosing:
        DosingRecord.objects.create(session=session)
        measures_plan_before_dosing(session=session, now=now)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=session, client=course.client)
    return session


# --- Moving and cancelling ---------------------------------------------------------------


@transaction.atomic
def session_move(
    *,
    session: CourseSession,
    start: datetime,
    actor: User | None = None,
    now: datetime | None = None,
) -> CourseSession:
    """Move ``session`` to ``start`` (a reschedule); return it, on its new appointment.

    Raises ``ValidationError`` for a closed course, a session no longer
    booked or already started, a start not after ``now``, or a time that is
    taken. The gates are not checked again (see the module docstring).

    Side effects:
    - the calendar's move (``appointment_move``): the old appointment is
      cancelled and points at the new one, its reminders are voided and the
      new one gets its own;
    - the session now points at the new appointment (its record, notes and
      number stay with it);
    - for a medicine session: the questionnaires before it are planned if
      they were not (``measures_plan_before_dosing`` plans nothing twice);
    - an audit line "changed" for the session, naming ``actor``.
    """
    now = now or timezone.now()
    session = _locked(session)
    _refuse_if_closed(session.course)
    if session.is_dosing and _started(session):
        raise ValidationError("This session has started: it can no longer move.", code="started")
    if start <= now:
        raise ValidationError("Choose a time still to come.", code="past")
    try:
        appointment = appointment_move(
            appointment=session.appointment, start=start, offered_only=False, now=now
        )
    except SlotUnavailable as exc:
        raise ValidationError(TIME_TAKEN, code="slot_unavailable") from exc
    session.appointment = appointment
    session.save(update_fields=["appointment"])
    if session.is_dosing:
        measures_plan_before_dosing(session=session, now=now)
    audit_record(
        actor=actor, action=AuditEvent.Action.CHANGE, obj=session, client=session.course.client
    )
    return session


@transaction.atomic
def session_cancel(
    *, session: CourseSession, actor: User | None = None, now: datetime | None = None
) -> CourseSession:
    """Cancel ``session``; return it.

    Raises ``ValidationError`` for a session not booked (held, missed or
    cancelled already) or a medicine session already started.

    Side effects: the appointment is cancelled (its time is freed, its
    reminders voided); an audit line "changed" for the session, naming ``actor``.
    """
    now = now or timezone.now()
    session = _locked(session)
    if session.appointment.status != Appointment.Status.BOOKED:
        raise ValidationError("Only a booked session can be cancelled.", code="not_booked")
    if session.is_dosing and _started(session):
        raise ValidationError("This session has started: complete it instead.", code="started")
    session.appointment = appointment_transition(
        appointment=session.appointment, to=Appointment.Status.CANCELLED, now=now
    )
    audit_record(
        actor=actor, action=AuditEvent.Action.CHANGE, obj=session, client=session.course.client
    )
    return session


# --- Starting and completing --------------------------------------------------------------


@transaction.atomic
def session_start(
    *,
    session: CourseSession,
    baseline_systolic: int | None,
    baseline_diastolic: int | None,
    actor: User | None = None,
    now: datetime | None = None,
) -> DosingRecord:
    """Start the medicine session ``session`` with her baseline blood pressure; return its record.

    Raises ``ValidationError`` for a session that is not a medicine session,
    is not booked, or is booked for another day than ``now`` (practice
    time), and :class:`GateClosed` when a start gate is missing (no recent
    "not pregnant" attestation, a blood pressure not under the limit or not
    taken). Nothing is written when it refuses. A session already started
    returns its record as it is (the first start stands: a second tap of
    the button changes nothing).

    Side effects: the record (created if need be) gets the baseline, the
    start time and the therapist's presence from ``now``; an audit line
    "changed" for the record, naming ``actor``.
    """
    now = now or timezone.now()
    session = _locked(session)
    if not session.is_dosing:
        raise ValidationError("Only a medicine session is started this way.", code="kind")
    record, _ = DosingRecord.objects.select_for_update().get_or_create(session=session)
    if record.is_started:
        return record
    appointment = session.appointment
    if appointment.status != Appointment.Status.BOOKED:
        raise ValidationError(
            f"This session is {appointment.get_status_display().lower()}.", code="not_booked"
        )
    if _practice_date(appointment.start) != _practice_date(now):
        raise ValidationError(
            f"This session is booked for {in_practice_time(appointment.start, now=now)}: "
            "start it on its day, or reschedule it.",
            code="not_today",
        )
    gates = dosing_start_gates(
        session=session,
        now=now,
        baseline_systolic=baseline_systolic,
        baseline_diastolic=baseline_diastolic,
    )
    closed = missing(gates)
    if closed:
        raise GateClosed(closed)
    record.baseline_systolic = baseline_systolic
    record.baseline_diastolic = baseline_diastolic
    record.started_at = now
    if record.present_from is None:
        record.present_from = now
    record.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.CHANGE, obj=record, client=session.course.client
    )
    return record


def _relaxed(kind: str) -> KindSettings:
    """The kind's calendar settings without the public booking's notice (placed by hand)."""
    row = copy.copy(kind_settings(kind))
    row.minimum_notice_hours = 0
    return row


def _free_starts(kind: str, first_day: date, last_day: date, *, now: datetime) -> list[datetime]:
    """Free starts of ``kind`` within the weekly hours between two practice days, after ``now``."""
    return available_slots(
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        now=now,
        settings=_relaxed(kind),
    )


def _check_in_book(
    session: CourseSession, *, actor: User | None, now: datetime
) -> CourseSession | None:
    """The phone check-in the day after ``session``: at the same local time if that is free,
    else at the first free time of that day within the weekly hours; ``None`` when none is."""
    zone = practice_profile().zone
    local = session.appointment.start.astimezone(zone)
    day = local.date() + timedelta(days=1)
    same_time = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=zone)
    candidates = [same_time, *_free_starts(AppointmentKind.CHECK_IN, day, day, now=now)]
    course = session.course
    for start in candidates:
        if start <= now:
            continue
        try:
            appointment = _book_appointment(
                client=course.client,
                kind=AppointmentKind.CHECK_IN,
                start=start,
                mode=CHECK_IN_MODE,
                video_url="",
                now=now,
            )
        except SlotUnavailable:
            continue
        check_in = CourseSession.objects.create(
            course=course,
            appointment=appointment,
            kind=AppointmentKind.CHECK_IN,
            created_at=now,
            created_by=actor,
        )
        audit_record(
            actor=actor, action=AuditEvent.Action.CREATE, obj=check_in, client=course.client
        )
        return check_in
    return None


def integration_proposal(*, session: CourseSession, now: datetime) -> datetime | None:
    """The first free integration time within the weekly hours, within the window after ``session``.

    Looked for from the day after the session (she rests on the day of a
    medicine session) until ``CourseSettings.integration_within_hours``
    after its end; ``None`` when nothing is free in that time.
    """
    hours = CourseSettings.current().integration_within_hours
    deadline = session.appointment.end + timedelta(hours=hours)
    first_day = _practice_date(session.appointment.end) + timedelta(days=1)
    for start in _free_starts(
        AppointmentKind.INTEGRATION, first_day, _practice_date(deadline), now=now
    ):
        if start <= deadline:
            return start
    return None


@transaction.atomic
def session_complete(
    *, session: CourseSession, actor: User | None = None, now: datetime | None = None
) -> SessionCompleted:
    """Mark ``session`` held; for a medicine session, book the check-in and propose integration.

    Raises ``ValidationError`` for a session not booked, one whose time has
    not come (the calendar's rule), or a medicine session never started
    (its start gates were never passed) or whose record has no discharge
    yet: ``kap_sessions.services.dosing.dosing_discharge`` calls this once
    she is discharged.

    Side effects:
    - the appointment is completed (its unsent reminders are voided);
    - for a medicine session: a phone check-in of the course is booked the
      next day (same local time if free, else the first free time that day
      within the weekly hours; none when the day is full), with its
      reminders and an audit line; the first free integration time from the
      next day within the window is returned as a proposal (nothing is
      booked for it);
    - an audit line "changed" for the session, naming ``actor``.
    """
    now = now or timezone.now()
    session = _locked(session)
    if session.is_dosing:
        record = DosingRecord.objects.filter(session=session).first()
        if record is None or not record.is_started:
            raise ValidationError(
                "Start this session (her attestation and blood pressure) before marking it held.",
                code="not_started",
            )
        if not record.is_discharged:
            raise ValidationError(
                "A medicine session is marked held by her discharge: tick the checklist and "
                "give the time on its record.",
                code="not_discharged",
            )
    session.appointment = appointment_transition(
        appointment=session.appointment, to=Appointment.Status.COMPLETED, now=now
    )
    check_in = None
    proposal = None
    if session.is_dosing:
        check_in = _check_in_book(session, actor=actor, now=now)
        proposal = integration_proposal(session=session, now=now)
    audit_record(
        actor=actor, action=AuditEvent.Action.CHANGE, obj=session, client=session.course.client
    )
    return SessionCompleted(session=session, check_in=check_in, integration_proposal=proposal)


def integration_overdue(*, now: datetime) -> QuerySet[CourseSession]:
    """Medicine sessions held in open courses with no integration booked within the window.

    Flagged from the moment the session is held until an integration session
    of the course is booked (or held) starting within
    ``CourseSettings.integration_within_hours`` of its end; one held later
    clears the flag too (the late integration took place). One query,
    earliest first, with the appointment, course and client joined.
    """
    window = timedelta(hours=CourseSettings.current().integration_within_hours)
    integration = CourseSession.objects.filter(
        course=OuterRef("course"),
        kind=AppointmentKind.INTEGRATION,
    )
    in_time = integration.filter(
        appointment__status__in=(Appointment.Status.BOOKED, Appointment.Status.COMPLETED),
        appointment__start__gte=OuterRef("appointment__start"),
        appointment__start__lte=ExpressionWrapper(
            OuterRef("appointment__end") + window, output_field=DateTimeField()
        ),
    )
    held_late = integration.filter(
        appointment__status=Appointment.Status.COMPLETED,
        appointment__start__gte=OuterRef("appointment__start"),
    )
    return (
        CourseSession.objects.with_appointment()
        .filter(
            kind=AppointmentKind.DOSING,
            appointment__status=Appointment.Status.COMPLETED,
            appointment__start__lte=now,
        )
        .exclude(course__phase__in=CLOSED_PHASES)
        .filter(~Exists(in_time), ~Exists(held_late))
        .order_by("appointment__start", "id")
    )


# --- What the gates read ------------------------------------------------------------------


@transaction.atomic
def pregnancy_attestation_record(
    *,
    client: Client,
    status: str,
    source: str = PregnancyAttestation.Source.IN_PERSON,
    attested_at: datetime | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> PregnancyAttestation:
    """Record what she attested about pregnancy (a start gate reads the newest recent one).

    ``attested_at`` defaults to ``now``; refused in the future.

    Side effects: inserts the attestation (with ``actor`` as who recorded it);
    an audit line "created" for her record.
    """
    now = now or timezone.now()
    attested_at = attested_at or now
    if status not in PregnancyStatus.values:
        raise ValidationError("Choose what she said.", code="status")
    if source not in PregnancyAttestation.Source.values:
        raise ValidationError("Choose how she said it.", code="source")
    if attested_at > now:
        raise ValidationError("An attestation cannot be in the future.", code="future")
    attestation = PregnancyAttestation.objects.create(
        client=client, status=status, source=source, attested_at=attested_at, recorded_by=actor
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=attestation, client=client)
    return attestation


@transaction.atomic
def medical_clearance_record(
    *,
    course: Course,
    prescriber: str,
    cleared_on: date,
    note: str = "",
    letter_content: bytes | None = None,
    letter_content_type: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> MedicalClearance:
    """Record the prescriber's medical clearance on ``course`` (the newest counts).

    Refused without a prescriber or with a date still to come.

    Side effects: the letter, when given, is kept as one of her private
    documents (not shown in her portal); inserts the clearance; an audit
    line "created" for it on her record.
    """
    now = now or timezone.now()
    prescriber = prescriber.strip()
    if not prescriber:
        raise ValidationError("Name the prescriber who cleared her.", code="prescriber")
    if cleared_on > _practice_date(now):
        raise ValidationError("The clearance date cannot be in the future.", code="future")
    client = course.client
    letter = None
    if letter_content is not None:
        letter = private_file_save(
            client=client,
            kind=ClientDocument.Kind.UPLOAD,
            title="Medical clearance letter",
            content=letter_content,
            content_type=letter_content_type,
            created_by=actor,
            visible_to_client=False,
        )
    clearance = MedicalClearance.objects.create(
        course=course,
        prescriber=prescriber,
        cleared_on=cleared_on,
        note=note.strip(),
        letter=letter,
        recorded_at=now,
        recorded_by=actor,
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=clearance, client=client)
    return clearance


@transaction.atomic
def session_location_record(
    *, session: CourseSession, location_state: str, actor: User | None = None
) -> CourseSession:
    """Record the state she is in at the start of the video session ``session``.

    Side effects: saves ``location_state``; an audit line "changed" for the session.
    """
    session = _locked(session)
    if session.appointment.mode != MeetingMode.VIDEO:
        raise ValidationError(
            "Her location is recorded only for a video session.", code="location_state"
        )
    if location_state and location_state not in USState.values:
        raise ValidationError("Choose a state.", code="location_state")
    session.location_state = location_state
    session.save(update_fields=["location_state"])
    audit_record(
        actor=actor, action=AuditEvent.Action.CHANGE, obj=session, client=session.course.client
    )
    return session
