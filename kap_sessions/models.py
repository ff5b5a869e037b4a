"""A client's KAP course: a beginning, a middle and an end.

Preparation, a supervised dosing session, integration, then completion (or
withdrawal). Moves between phases go through ``services.course_advance``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from practice.models import Client

CLOSED = ["completed", "withdrawn"]


class CourseQuerySet(models.QuerySet["Course"]):
    def open(self) -> CourseQuerySet:
        return self.exclude(phase__in=Course.CLOSED_PHASES)

    def with_client(self) -> CourseQuerySet:
        return self.select_related("client")


class Course(models.Model):
    class Phase(models.TextChoices):
        PREPARATION = "preparation", "Preparation"
        DOSING = "dosing", "Dosing"
        INTEGRATION = "integration", "Integration"
        COMPLETED = "completed", "Completed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    CLOSED_PHASES = (Phase.COMPLETED, Phase.WITHDRAWN)
    # Where a course may go from each phase. A course can be withdrawn at any
    # time before it is closed; it never goes backwards.
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Phase.PREPARATION: (Phase.DOSING, Phase.WITHDRAWN),
        Phase.DOSING: (Phase.INTEGRATION, Phase.WITHDRAWN),
        Phase.INTEGRATION: (Phase.COMPLETED, Phase.WITHDRAWN),
        Phase.COMPLETED: (),
        Phase.WITHDRAWN: (),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="courses")
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.PREPARATION)
    started_on = models.DateField(default=timezone.localdate)
    phase_changed_at = models.DateTimeField(default=timezone.now)
    closed_on = models.DateField(null=True, blank=True)
    closing_summary = models.TextField(
        blank=True, help_text="Written when the course is completed or withdrawn."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            # A client has at most one course under way at a time.
            models.UniqueConstraint(
                fields=["client"],
                condition=~models.Q(phase__in=CLOSED),
                name="kap_sessions_course_one_open_per_client",
            ),
            models.CheckConstraint(
                condition=models.Q(phase__in=["completed", "withdrawn"], closed_on__isnull=False)
                | (
                    ~models.Q(phase__in=["completed", "withdrawn"])
                    & models.Q(closed_on__isnull=True)
                ),
                name="kap_sessions_course_closed_on_matches_phase",
            ),
        ]

    def __str__(self) -> str:
        return f"Course #{self.pk} ({self.get_phase_display()})"

    @property
    def is_open(self) -> bool:
        return self.phase not in self.CLOSED_PHASES

    def can_move_to(self, phase: str) -> bool:
        return phase in self.TRANSITIONS[self.phase]
