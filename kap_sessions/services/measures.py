"""The course's outcome measures: which questionnaires she answers at which point of it.

Each point of a course is an *occasion*, and each occasion asks the three
questionnaires (PHQ-9, GAD-7, EPDS) once:

| occasion | planned when | due |
|---|---|---|
| ``baseline`` | the course starts (preparation) | that day |
| ``before_dosing_<n>`` | medicine session *n* is booked | the day before it (today at the latest) |
| ``after_integration`` | the course is completed | that day |
| ``one_month``, ``three_months`` | the course is completed | 30 and 90 days after it closed |

The follow-ups continue after completion; withdrawal withdraws every measure
of the course still open.

**Planning twice plans nothing new.** The database holds one assignment per
(course, questionnaire, occasion) (``kap_sessions_screeningassignment_once_per_occasion``)
and the planners lock the course row before they read what exists, so a
retried phase change, a repeated booking or two at once leave one
assignment per occasion and never fail on the constraint.

These functions run inside their caller's transaction (``course_start``,
``course_advance``, ``session_book``): not durable, and they commit or roll
back with the change that caused them.

Her "a short form is ready" email is the course's
(``kap_sessions.course_emails.measures_due_emails_plan``): one per client and
due date, on the morning of that date (at once when it has passed), voided
at send time once nothing due that day is open; withdrawal voids it too.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from practice.identity import practice_profile
from practice.models import AuditEvent
from practice.services import audit_record

from ..course_emails import measures_due_emails_plan
from ..instruments import EPDS, GAD_7, PHQ_9
from ..models import Course, CoursePhase, CourseSession, ScreeningAssignment, ScreeningStatus

# The questionnaires every occasion asks, in the order they are shown.
MEASURE_INSTRUMENTS: tuple[str, ...] = (PHQ_9.slug, GAD_7.slug, EPDS.slug)

BASELINE = "baseline"
AFTER_INTEGRATION = "after_integration"
ONE_MONTH = "one_month"
THREE_MONTHS = "three_months"
FOLLOW_UP_OPENS_BEFORE = timedelta(days=3)
BEFORE_DOSING_PREFIX = "before_dosing_"

# Follow-ups, in days after the course closed.
FOLLOW_UPS: tuple[tuple[str, int], ...] = ((ONE_MONTH, 30), (THREE_MONTHS, 90))


def before_dosing_occasion(number: int) -> str:
    return f"{BEFORE_DOSING_PREFIX}{number}"


def occasion_label(occasion: str) -> str:
    """The occasion in the therapist's words: "Baseline", "Before medicine session 2"."""
    if occasion.startswith(BEFORE_DOSING_PREFIX):
        return f"Before medicine session {occasion.removeprefix(BEFORE_DOSING_PREFIX)}"
    labels = {
        BASELINE: "Baseline",
        AFTER_INTEGRATION: "After the last integration",
        ONE_MONTH: "One month after completion",
        THREE_MONTHS: "Three months after completion",
        "": "Assigned by hand",
    }
    return labels.get(occasion, occasion.replace("_", " ").capitalize())


def _today(now: datetime) -> date:
    return timezone.localdate(now, timezone=practice_profile().zone)


@transaction.atomic
def measures_plan_for_phase(*, course: Course, now: datetime) -> int:
    """Plan (or withdraw) the measures of the phase ``course`` has just entered.

    Called by ``course_start`` and ``course_advance`` after the phase change,
    in their transaction. Returns how many assignments it created (or, on
    withdrawal, withdrew); 0 when the phase plans nothing (dosing,
    integration) or everything is planned already.

    Side effects:
    - preparation: the baseline questionnaires, due today;
    - completed: the "after the last integration" questionnaires, due today,
      and the one- and three-month follow-ups, due 30 and 90 days after the
      course closed;
    - withdrawn: every open measure of the course is withdrawn, with an
      audit line each (the emails asking for them are voided);
    - each assignment created has an audit line (no actor: the course
      planned it) and asks for her "a short form is ready" email on the
      morning it is due (``measures_due_emails_plan``; only with a portal login).
    """
    course = _lock(course)
    today = _today(now)
    if course.phase == CoursePhase.PREPARATION:
        return _plan(course, [(BASELINE, today)], now=now)
    if course.phase == CoursePhase.COMPLETED:
        closed_on = course.closed_on or today
        return _plan(
            course,
            [
                (AFTER_INTEGRATION, today),
                *((occasion, closed_on + timedelta(days=days)) for occasion, days in FOLLOW_UPS),
            ],
            now=now,
        )
    if course.phase == CoursePhase.WITHDRAWN:
        return _withdraw_open(course)
    return 0


@transaction.atomic
def measures_plan_before_dosing(*, session: CourseSession, now: datetime) -> int:
    """Plan the questionnaires she answers before medicine session ``session``.

    Called by ``session_book`` for a medicine session, in its transaction.
    Due the day before the session (today, when it is tomorrow or sooner).
    Returns how many assignments it created: 0 for a session that is not a
    medicine session, for a closed course, or when they are planned already.

    Side effects: as ``measures_plan_for_phase`` for each assignment created
    (audit line, her email on the morning it is due).
    """
    if not session.is_dosing or session.dosing_number is None:
        return 0
    course = _lock(session.course)
    if not course.is_open:
        return 0
    session_day = timezone.localdate(session.appointment.start, timezone=practice_profile().zone)
    due_on = max(_today(now), session_day - timedelta(days=1))
    return _plan(course, [(before_dosing_occasion(session.dosing_number), due_on)], now=now)


def _lock(course: Course) -> Course:
    # Planners of one course run one after the other: each reads what
    # exists after the previous one has written it.
    return Course.objects.select_for_update(of=("self",)).select_related("client").get(pk=course.pk)


def _plan(course: Course, occasions: list[tuple[str, date]], *, now: datetime) -> int:
    """Create each (occasion, due on) × questionnaire not yet planned; return how many."""
    client = course.client
    planned = set(
        ScreeningAssignment.objects.filter(
            course=course, occasion__in=[occasion for occasion, _ in occasions]
        ).values_list("occasion", "instrument")
    )
    created = 0
    for occasion, due_on in occasions:
        for instrument in MEASURE_INSTRUMENTS:
            if (occasion, instrument) in planned:
                continue
            assignment = ScreeningAssignment.objects.create(
                client=client,
                instrument=instrument,
                due_on=due_on,
                # A follow-up months ahead opens a few days before it is due,
                # not the day the course ends.
                opens_on=due_on - FOLLOW_UP_OPENS_BEFORE if occasion in dict(FOLLOW_UPS) else None,
                assigned_at=now,
                course=course,
                occasion=occasion,
            )
            audit_record(actor=None, action=AuditEvent.Action.CREATE, obj=assignment, client=client)
            measures_due_emails_plan(assignment=assignment, now=now)
            created += 1
    return created


def _withdraw_open(course: Course) -> int:
    open_measures = list(
        ScreeningAssignment.objects.select_for_update()
        .filter(course=course, status=ScreeningStatus.OPEN)
        .order_by("pk")
    )
    for assignment in open_measures:
        assignment.move_to(ScreeningStatus.WITHDRAWN)
        assignment.save(update_fields=["status"])
        audit_record(
            actor=None, action=AuditEvent.Action.CHANGE, obj=assignment, client=course.client
        )
    return len(open_measures)
