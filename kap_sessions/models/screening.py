"""Screening questionnaires: what the therapist assigns, and what she answered.

The instruments themselves (items, options, scoring) are plain Python in
``kap_sessions.instruments``; these tables keep the record. An answer is
stored as the position of the option she chose, with the score it gave, and
the response keeps the instrument's ``version`` string and the band computed
at the time (the EPDS's cut-offs are the practice's and may change later),
so an old result reads as it was scored.

``ScreeningResponse.client`` repeats ``assignment.client`` so that "her
PHQ-9 results, newest first" is one indexed read. SQL cannot check a value
against another table's row, so the one service that writes a response
copies the client (and the instrument) from the assignment; nothing else
writes them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from kap_sessions.instruments import EPDS, INSTRUMENTS, EPDSCutoffs, Instrument, instrument_for
from practice.models import Client
from practice.transitions import Transitions

INSTRUMENT_CHOICES = [(slug, instrument.name) for slug, instrument in INSTRUMENTS.items()]


class ScreeningStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ScreeningAssignmentQuerySet(models.QuerySet["ScreeningAssignment"]):
    def open_for(self, client: Client, *, on: date | None = None) -> ScreeningAssignmentQuerySet:
        """What she still has to answer on day ``on`` (today), the earliest due first.

        A follow-up planned months ahead is left out until it opens.
        """
        on = on or timezone.localdate()
        return (
            self.filter(client=client, status=ScreeningStatus.OPEN)
            .filter(models.Q(opens_on__isnull=True) | models.Q(opens_on__lte=on))
            .order_by("due_on", "id")
        )


class ScreeningAssignment(Transitions):
    """One questionnaire the therapist asked her to complete by a date.

    Completed when her response is saved, withdrawn if the therapist takes
    it back; either is final (a new assignment asks again).
    """

    Status = ScreeningStatus

    STATE_FIELD = "status"
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.OPEN: (Status.COMPLETED, Status.WITHDRAWN),
        Status.COMPLETED: (),
        Status.WITHDRAWN: (),
    }

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="screening_assignments"
    )
    instrument = models.CharField(max_length=20, choices=INSTRUMENT_CHOICES)
    due_on = models.DateField()
    assigned_at = models.DateTimeField(default=timezone.now, editable=False)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # Set when the course planned it (baseline, before a medicine session,
    # after the last integration, the follow-ups); empty when assigned by hand.
    course = models.ForeignKey(
        "kap_sessions.Course",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="measures",
    )
    occasion = models.CharField(
        max_length=40,
        blank=True,
        help_text="Which point of the course it measures, e.g. baseline or before_dosing_2.",
    )
    opens_on = models.DateField(
        null=True,
        blank=True,
        help_text="Shown to her from this day; empty to show it at once (a follow-up waits).",
    )

    objects = ScreeningAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(instrument__in=list(INSTRUMENTS)),
                name="kap_sessions_screeningassignment_instrument_known",
                violation_error_message="Choose one of the questionnaires.",
            ),
            # The course plans each measure of each occasion once, however
            # often a phase change or a booking is retried.
            models.UniqueConstraint(
                fields=["course", "instrument", "occasion"],
                condition=models.Q(course__isnull=False),
                name="kap_sessions_screeningassignment_once_per_occasion",
            ),
        ]
        indexes = [
            models.Index(
                fields=["client", "status", "due_on"], name="kap_screening_assign_open_idx"
            ),
        ]
        # What the therapist calls them: the sidebar's "Questionnaires".
        verbose_name = "questionnaire"
        verbose_name_plural = "questionnaires"

    def __str__(self) -> str:
        return f"Questionnaire #{self.pk} ({self.get_status_display()}) due {self.due_on}"

    @property
    def definition(self) -> Instrument:
        return instrument_for(self.instrument)

    @property
    def is_open(self) -> bool:
        return self.status == ScreeningStatus.OPEN

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on < today


class ScreeningResponseQuerySet(models.QuerySet["ScreeningResponse"]):
    def for_client(self, client: Client, instrument: str) -> ScreeningResponseQuerySet:
        """Her results on one instrument, newest first (the trend the therapist reads)."""
        return self.filter(client=client, instrument=instrument).order_by("-completed_at", "-id")

    def with_change_since_last(self) -> ScreeningResponseQuerySet:
        """Annotate ``previous_total`` and ``change_since_last`` (``None`` for her first).

        "The last one" is her response to the same instrument just before this
        one, looked up by a correlated subquery on the (client, instrument,
        -completed_at) index: still one query for a whole list, and right
        whatever else filters the list (a window over the rows shown would
        count only those).
        """
        earlier = (
            self.model._default_manager.filter(
                client=models.OuterRef("client"), instrument=models.OuterRef("instrument")
            )
            .filter(
                models.Q(completed_at__lt=models.OuterRef("completed_at"))
                | models.Q(
                    completed_at=models.OuterRef("completed_at"), pk__lt=models.OuterRef("pk")
                )
            )
            .order_by("-completed_at", "-id")
            .values("total")[:1]
        )
        return self.annotate(
            previous_total=models.Subquery(earlier, output_field=models.IntegerField()),
            change_since_last=models.ExpressionWrapper(
                models.F("total") - models.F("previous_total"), output_field=models.IntegerField()
            ),
        )


class ScreeningResponse(models.Model):
    """Her answered questionnaire: the total, band and safety flag as scored then.

    Its answers are :class:`ScreeningAnswer` rows, one per item. A response
    is the record of what she said on a day; it is written once by the
    scoring service and not edited.
    """

    assignment = models.OneToOneField(
        ScreeningAssignment, on_delete=models.PROTECT, related_name="response"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="screenings")
    instrument = models.CharField(max_length=20, choices=INSTRUMENT_CHOICES)
    version = models.CharField(
        max_length=100, help_text="The instrument's version string when she answered."
    )
    total = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=60)
    safety = models.BooleanField(
        default=False, help_text="Its safety item was answered above zero."
    )
    completed_at = models.DateTimeField(default=timezone.now)

    objects = ScreeningResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-completed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(instrument__in=list(INSTRUMENTS)),
                name="kap_sessions_screeningresponse_instrument_known",
            ),
        ]
        indexes = [
            models.Index(
                fields=["client", "instrument", "-completed_at"],
                name="kap_screening_resp_client_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Questionnaire response #{self.pk}"

    @property
    def definition(self) -> Instrument:
        return instrument_for(self.instrument)


class ScreeningAnswer(models.Model):
    """Her answer to one item: the option's position as shown, and the score it gave.

    The score of an item that is asked but not counted (the "how difficult"
    question closing the PHQ-9 and GAD-7) is kept too; the instrument's
    ``scored`` flag says whether it is in the total.
    """

    response = models.ForeignKey(
        ScreeningResponse, on_delete=models.CASCADE, related_name="answers"
    )
    item_number = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField(help_text="The option she chose; 0 is the first.")
    score = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["response", "item_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "item_number"],
                name="kap_sessions_screeninganswer_one_per_item",
            ),
            models.CheckConstraint(
                condition=models.Q(item_number__gte=1),
                name="kap_sessions_screeninganswer_item_number_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Item {self.item_number} of response #{self.response_id}"


EPDS_CUTOFFS_MESSAGE = (
    "The EPDS cut-offs must be at least 1, at most 30, and probable no lower than possible."
)


class ScreeningSettings(models.Model):
    """The practice's scoring choices (one row): the EPDS cut-offs.

    The EPDS has no published bands, only cut-offs, and practices differ on
    them (10 and 13 are the published ones and the defaults). A change
    applies to questionnaires answered from then on: a response keeps the
    band it was given when she answered.
    """

    epds_possible = models.PositiveSmallIntegerField(
        "EPDS: possible depression from",
        default=10,
        help_text="An EPDS total at or above this reads as possible depression.",
    )
    epds_probable = models.PositiveSmallIntegerField(
        "EPDS: probable depression from",
        default=13,
        help_text="An EPDS total at or above this reads as probable depression.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "screening settings"
        verbose_name_plural = "screening settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1), name="kap_sessions_screeningsettings_singleton"
            ),
            # EPDSCutoffs' rule, so a row written past the form is refused too.
            models.CheckConstraint(
                condition=models.Q(
                    epds_possible__gte=1,
                    epds_probable__gte=models.F("epds_possible"),
                    epds_probable__lte=EPDS.max_total,
                ),
                name="kap_sessions_screeningsettings_epds_cutoffs_ordered",
                violation_error_message=EPDS_CUTOFFS_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        return "Screening settings"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # The scoring's own rule decides (EPDSCutoffs); the message goes by the
        # field, and Django then skips the constraint that would repeat it.
        super().clean()
        if self.epds_possible is None or self.epds_probable is None:
            return
        try:
            self.epds_cutoffs  # noqa: B018  (built for its check)
        except ValueError as exc:
            raise ValidationError({"epds_probable": EPDS_CUTOFFS_MESSAGE}) from exc

    @property
    def epds_cutoffs(self) -> EPDSCutoffs:
        return EPDSCutoffs(possible=self.epds_possible, probable=self.epds_probable)
