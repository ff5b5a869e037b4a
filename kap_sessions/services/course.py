"""Writes to a client's KAP course: opening it and moving it between phases.

**The phase follows the sessions.** ``Course.TRANSITIONS`` says which moves
exist; :func:`course_advance` also checks that the sessions held agree:

- into **dosing** (from preparation, or again from integration) while fewer
  medicine sessions are held than the course plans;
- into **integration** once this round's medicine session is held: as many
  medicine sessions held as times the course has entered dosing;
- into **completed** once the planned medicine sessions are held, or
  earlier with a reason, kept on the phase change;
- into **withdrawn** from any open phase, always.

Booking a medicine session does not need the course in dosing: its own
gates (:mod:`kap_sessions.services.gates`) say when she is ready, and the
therapist moves the phase when the day comes.

Not durable: ``seed_demo`` builds its demo courses through these functions
inside one transaction, and the admin calls them inside the transaction of
its form; each still runs in one transaction of its own when called alone
(an admin action, once per selected row).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from practice.calendar.services import appointment_transition
from practice.models import Appointment, AppointmentKind, AuditEvent, Client, User
from practice.services import audit_record

from ..course_emails import course_reminders_stop
from ..models import CLOSED_PHASES, Course, CoursePhase, CoursePhaseChange, CourseSession
from .measures import measures_plan_for_phase

ONE_OPEN_PER_CLIENT = "kap_sessions_course_one_open_per_client"
# A course with no planned end given is planned to end this long after it starts.
PLAN_WEEKS = 12


def _violates_one_open_per_client(exc: IntegrityError) -> bool:
    # PostgreSQL names the refused index in the error's diagnostics. SQLite
    # names only the columns; ``client_id`` is unique in no other rule.
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return bool(diag.constraint_name == ONE_OPEN_PER_CLIENT)
    return "UNIQUE constraint failed: kap_sessions_course.client_id" in str(exc)


@transaction.atomic
def course_start(
    *,
    client: Client,
    planned_dosing_sessions: int = 3,
    planned_end_on: date | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> Course:
    """Open a course in preparation for ``client`` and return it.

    ``planned_end_on`` defaults to twelve weeks (``PLAN_WEEKS``) after the
    start, a typical course of a few preparation sessions, three medicine
    sessions with their integration, and room for the unexpected; the
    therapist changes it on the course page.

    Raises ``ValidationError`` when she already has a course under way (the
    database decides, ``kap_sessions_course_one_open_per_client``, so two
    starts racing for her leave one course and one friendly refusal), for
    fewer than one planned medicine session, or for a planned end before
    the start.

    Side effects:
    - inserts the course (started on the practice's date of ``now``, in
      preparation) and its first phase change (preparation, ``actor``);
    - plans the baseline questionnaires (``measures_plan_for_phase``: her
      portal's "something is ready" email when she has a login);
    - appends a "created" line to the audit log for the course and its client.
    """
    now = now or timezone.now()
    started_on = timezone.localdate(now)
    if planned_dosing_sessions < 1:
        raise ValidationError("Plan at least one medicine session.", code="plan")
    if planned_end_on is None:
        planned_end_on = started_on + timedelta(weeks=PLAN_WEEKS)
    elif planned_end_on < started_on:
        raise ValidationError("The planned end cannot be before the start.", code="plan")
    try:
        with transaction.atomic():
            course = Course.objects.create(
                client=client,
                started_on=started_on,
                phase_changed_at=now,
                planned_dosing_sessions=planned_dosing_sessions,
                planned_end_on=planned_end_on,
                created_at=now,
            )
    except IntegrityError as exc:
        if _violates_one_open_per_client(exc):
            raise ValidationError("This client already has a course under way.") from exc
        raise
    CoursePhaseChange.objects.create(course=course, phase=course.phase, at=now, actor=actor)
    measures_plan_for_phase(course=course, now=now)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=course, client=client)
    return course


def medicine_sessions_held(course: Course) -> int:
    return CourseSession.objects.filter(
        course=course,
        kind=AppointmentKind.DOSING,
        appointment__status=Appointment.Status.COMPLETED,
    ).count()


def _check_sessions_agree(course: Course, to: str, *, reason: str) -> None:
    """Refuse a move the sessions held do not support (see the module docstring)."""
    planned = course.planned_dosing_sessions
    if to == CoursePhase.DOSING:
        held = medicine_sessions_held(course)
        if held >= planned:
            raise ValidationError(
                f"All {planned} planned medicine sessions are held: complete the course, "
                "or plan another session first.",
                code="plan_done",
            )
    elif to == CoursePhase.INTEGRATION:
        held = medicine_sessions_held(course)
        rounds = CoursePhaseChange.objects.filter(course=course, phase=CoursePhase.DOSING).count()
        if held < max(rounds, 1):
            raise ValidationError(
                "Integration follows a medicine session: mark this round's medicine session "
                "held first.",
                code="not_held",
            )
    elif to == CoursePhase.COMPLETED:
        held = medicine_sessions_held(course)
        if held < planned and not reason:
            raise ValidationError(
                f"{held} of {planned} planned medicine sessions are held: give a reason to "
                "complete the course before its plan.",
                code="reason_required",
            )


@transaction.atomic
def course_advance(
    *,
    course: Course,
    to: str,
    closing_summary: str = "",
    reason: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> Course:
    """Move ``course`` to phase ``to``: the one way a course changes phase.

    Raises ``InvalidTransition`` (a ``ValidationError``) when ``Course.TRANSITIONS``
    does not allow the move from the phase the course is in now, and a
    ``ValidationError`` when the sessions held do not support it (see the
    module docstring; ``reason`` lets a course complete before its plan).
    The row is locked first, so two moves at once are applied one after the
    other and the second is checked against the first.

    Side effects:
    - stamps ``phase_changed_at`` with ``now`` and appends the phase change
      (the course's history: phase, time, ``actor``, ``reason`` as its note);
    - closing (completed or withdrawn) stamps ``closed_on`` with the practice's
      date and stores ``closing_summary``;
    - withdrawal cancels every booked session of the course still to come
      (``appointment_transition``: the time is freed and its reminders are
      voided), each with an audit line;
    - closing stops the course's emails (``course_reminders_stop``): every
      future session reminder; on withdrawal the questionnaire emails too
      (after completion the follow-up questionnaires continue);
    - plans or withdraws the phase's questionnaires (``measures_plan_for_phase``:
      completion plans the last ones and the one- and three-month follow-ups;
      withdrawal withdraws every open one);
    - appends a "changed" line to the audit log for the course and its client,
      naming ``actor`` when given (the line holds no course content).

    No document is written: the course summary PDF is rendered from the
    course as it stands when the therapist or she downloads it.

    Returns the course as saved.
    """
    now = now or timezone.now()
    course = (
        Course.objects.select_related("client").select_for_update(of=("self",)).get(pk=course.pk)
    )
    course.move_to(to)
    reason = reason.strip()
    _check_sessions_agree(course, to, reason=reason)
    course.phase_changed_at = now
    if to in CLOSED_PHASES:
        course.closed_on = timezone.localdate(now)
        course.closing_summary = closing_summary
    course.save()
    CoursePhaseChange.objects.create(course=course, phase=to, at=now, actor=actor, note=reason)
    if to == CoursePhase.WITHDRAWN:
        _cancel_sessions_to_come(course, actor=actor, now=now)
    if to in CLOSED_PHASES:
        course_reminders_stop(course=course, withdrawn=to == CoursePhase.WITHDRAWN, now=now)
    measures_plan_for_phase(course=course, now=now)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=course, client=course.client)
    return course


def _cancel_sessions_to_come(course: Course, *, actor: User | None, now: datetime) -> None:
    to_come = CourseSession.objects.filter(
        course=course,
        appointment__status=Appointment.Status.BOOKED,
        appointment__start__gt=now,
    ).select_related("appointment")
    for session in to_come:
        appointment_transition(
            appointment=session.appointment, to=Appointment.Status.CANCELLED, now=now
        )
        audit_record(
            actor=actor, action=AuditEvent.Action.CHANGE, obj=session, client=course.client
        )
