"""Writes to a client's KAP course: opening it and moving it between phases.

Both functions are entry points (the admin calls them once per selected row,
outside any transaction), so each runs in a transaction of its own
(``durable=True`` refuses to be nested inside another one by mistake).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from practice.models import AuditEvent, Client, User
from practice.services import audit_record

from ..models import CLOSED_PHASES, Course

ONE_OPEN_PER_CLIENT = "kap_sessions_course_one_open_per_client"


def _violates_one_open_per_client(exc: IntegrityError) -> bool:
    # PostgreSQL names the refused index in the error's diagnostics. SQLite
    # names only the columns; ``client_id`` is unique in no other rule.
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:
        return bool(diag.constraint_name == ONE_OPEN_PER_CLIENT)
    return "UNIQUE constraint failed: kap_sessions_course.client_id" in str(exc)


@transaction.atomic(durable=True)
def course_start(*, client: Client) -> Course:
    """Open a course in preparation for ``client`` and return it.

    Raises ``ValidationError`` when she already has a course under way. The
    database decides (``kap_sessions_course_one_open_per_client``), so two
    starts racing for her leave one course and one friendly refusal.

    Side effects: inserts the course row (started today, in preparation).
    """
    try:
        with transaction.atomic():
            return Course.objects.create(client=client)
    except IntegrityError as exc:
        if _violates_one_open_per_client(exc):
            raise ValidationError("This client already has a course under way.") from exc
        raise


@transaction.atomic(durable=True)
def course_advance(
    *,
    course: Course,
    to: str,
    closing_summary: str = "",
    actor: User | None = None,
) -> Course:
    """Move ``course`` to phase ``to``: the one way a course changes phase.

    Raises ``InvalidTransition`` (a ``ValidationError``) when ``Course.TRANSITIONS``
    does not allow the move from the phase the course is in now. The row is
    locked first, so two moves at once are applied one after the other and
    the second is checked against the first.

    Side effects:
    - stamps ``phase_changed_at`` with the current time;
    - closing (completed or withdrawn) stamps ``closed_on`` with the practice's date
      and stores ``closing_summary``;
    - appends a "changed" line to the audit log for the course and its client,
      naming ``actor`` when given (the line holds no course content).

    Returns the course as saved.
    """
    course = (
        Course.objects.select_related("client").select_for_update(of=("self",)).get(pk=course.pk)
    )
    course.move_to(to)
    course.phase_changed_at = timezone.now()
    if to in CLOSED_PHASES:
        course.closed_on = timezone.localdate()
        course.closing_summary = closing_summary
    course.save()
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=course, client=course.client)
    return course
