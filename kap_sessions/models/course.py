"""A client's KAP course: a beginning, a middle and an end.

Preparation, then supervised dosing sessions that alternate with integration
sessions, then completion (or withdrawal at any point before it). A course
never goes back to preparation. The phase changes only through
``kap_sessions.services.course_advance``; the ``TRANSITIONS`` map below is
enforced by :class:`practice.transitions.Transitions`, in ``move_to`` and in
``save()`` alike.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from practice.encryption import EncryptedTextField
from practice.models import Client
from practice.transitions import Transitions


class CoursePhase(models.TextChoices):
    PREPARATION = "preparation", "Preparation"
    DOSING = "dosing", "Dosing"
    INTEGRATION = "integration", "Integration"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# The phases that end a course, spelled once for the constraints, the
# queryset and the services. It lives at module level because the ``Meta``
# of ``Course`` cannot see names defined in the class body.
CLOSED_PHASES: tuple[CoursePhase, ...] = (CoursePhase.COMPLETED, CoursePhase.WITHDRAWN)


class CourseQuerySet(models.QuerySet["Course"]):
    def open(self) -> CourseQuerySet:
        return self.exclude(phase__in=CLOSED_PHASES)

    def with_client(self) -> CourseQuerySet:
        return self.select_related("client")


class Course(Transitions):
    Phase = CoursePhase

    STATE_FIELD = "phase"
    # Dosing and integration alternate until the planned dosing sessions are
    # done; withdrawal is open from every phase that is not closed.
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Phase.PREPARATION: (Phase.DOSING, Phase.WITHDRAWN),
        Phase.DOSING: (Phase.INTEGRATION, Phase.WITHDRAWN),
        Phase.INTEGRATION: (Phase.DOSING, Phase.COMPLETED, Phase.WITHDRAWN),
        Phase.COMPLETED: (),
        Phase.WITHDRAWN: (),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="courses")
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.PREPARATION)
    started_on = models.DateField(default=timezone.localdate)
    phase_changed_at = models.DateTimeField(default=timezone.now)
    planned_dosing_sessions = models.PositiveSmallIntegerField(
        default=3, help_text="How many medicine sessions the course plans."
    )
    planned_end_on = models.DateField(
        null=True, blank=True, help_text="When the course is planned to end; empty for no plan."
    )
    driver_name = models.CharField(
        max_length=200, blank=True, help_text="Who drives her home after each medicine session."
    )
    driver_phone = models.CharField(max_length=30, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    closing_summary = EncryptedTextField(
        blank=True, help_text="Written when the course is completed or withdrawn."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            # A client has at most one course under way at a time; starting a
            # second one is refused here, whoever races whom.
            models.UniqueConstraint(
                fields=["client"],
                condition=~models.Q(phase__in=CLOSED_PHASES),
                name="kap_sessions_course_one_open_per_client",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_dosing_sessions__gte=1),
                name="kap_sessions_course_plans_a_dosing_session",
                violation_error_message="Plan at least one medicine session.",
            ),
            models.CheckConstraint(
                condition=models.Q(phase__in=CLOSED_PHASES, closed_on__isnull=False)
                | (~models.Q(phase__in=CLOSED_PHASES) & models.Q(closed_on__isnull=True)),
                name="kap_sessions_course_closed_on_matches_phase",
            ),
        ]

    def __str__(self) -> str:
        return f"Course #{self.pk} ({self.get_phase_display()})"

    @property
    def is_open(self) -> bool:
        return self.phase not in CLOSED_PHASES

    def is_past_plan(self, today: date) -> bool:
        """Still open after its planned end date."""
        return self.is_open and self.planned_end_on is not None and today > self.planned_end_on

    def transition_refused_message(self, to: str, *, current: str) -> str:
        labels = dict(CoursePhase.choices)
        now = str(labels.get(current, current)).lower()
        then = str(labels.get(to, to)).lower()
        return f"A course in {now} cannot move to {then}."


class CoursePhaseChange(models.Model):
    """One step of a course's history: the phase it entered and when (the timeline)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="phase_changes")
    phase = models.CharField(max_length=20, choices=CoursePhase.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(
        blank=True,
        help_text="Why, when the move needed a reason (completed before the planned sessions).",
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["course", "at"], name="kap_course_phasechange_idx")]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} on {self.at:%Y-%m-%d}"
