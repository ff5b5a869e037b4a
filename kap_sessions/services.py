from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from practice.models import Client

from .models import Course


@transaction.atomic
def course_start(*, client: Client) -> Course:
    """Open a course in preparation for ``client``.

    Refuses when she already has a course under way (one open course each,
    enforced by ``kap_sessions_course_one_open_per_client``).
    """
    if Course.objects.open().filter(client=client).exists():
        raise ValidationError("This client already has a course under way.")
    return Course.objects.create(client=client)


@transaction.atomic
def course_advance(*, course: Course, to: str, closing_summary: str = "") -> Course:
    """Move ``course`` to phase ``to``.

    Side effects: stamps ``phase_changed_at``; closing (completed or
    withdrawn) stamps ``closed_on`` and stores the closing summary. Later
    features hang reminders and documents off these moves.
    """
    course = Course.objects.select_for_update().get(pk=course.pk)
    if not course.can_move_to(to):
        raise ValidationError(
            f"A course in {course.get_phase_display().lower()} cannot move to {to}."
        )
    course.phase = to
    course.phase_changed_at = timezone.now()
    if to in Course.CLOSED_PHASES:
        course.closed_on = timezone.localdate()
        course.closing_summary = closing_summary
    course.save()
    return course
