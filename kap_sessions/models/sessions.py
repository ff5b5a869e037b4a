"""A course's sessions on the shared calendar, and the facts its gates read.

A session is an :class:`~practice.calendar.models.Appointment` (the calendar
keeps the time, the status, the mode and the overlap rule) plus one row
here that ties it to the course and keeps what only a course session has:
which medicine session of the plan it is, and where she is when it is held
by video. ``CourseSession.kind`` repeats the appointment's kind so that "her
medicine sessions" is one indexed read; the one service that books a
session (``kap_sessions.services.sessions``) copies it, nothing else writes it.

The gates of a medicine session read the rows below: the prescriber's
medical clearance (per course), a recent pregnancy-status attestation (per
client) and the practice's limits (:class:`CourseSettings`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from practice.calendar.models import Appointment, AppointmentKind
from practice.client_records import USState
from practice.encryption import EncryptedTextField
from practice.models import Client

from .course import Course

# The appointment kinds a course books.
SESSION_KINDS: tuple[str, ...] = (
    AppointmentKind.PREPARATION,
    AppointmentKind.DOSING,
    AppointmentKind.INTEGRATION,
    AppointmentKind.CHECK_IN,
)


class CourseSessionQuerySet(models.QuerySet["CourseSession"]):
    def with_appointment(self) -> CourseSessionQuerySet:
        return self.select_related("appointment", "course", "course__client")

    def dosing(self) -> CourseSessionQuerySet:
        return self.filter(kind=AppointmentKind.DOSING)

    def standing(self) -> CourseSessionQuerySet:
        """Booked, held or missed; not cancelled or moved."""
        return self.filter(appointment__status__in=Appointment.OCCUPYING_STATUSES)


class CourseSession(models.Model):
    """One session of a course: preparation, medicine (dosing), integration or check-in."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="course_session"
    )
    kind = models.CharField(
        max_length=20,
        choices=[(kind, AppointmentKind(kind).label) for kind in SESSION_KINDS],
    )
    dosing_number = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Which medicine session of the plan this is (1, 2, 3...).",
    )
    location_state = models.CharField(
        "her location at the start",
        max_length=2,
        choices=USState.choices,
        blank=True,
        help_text="For a video session: the state she is in when it starts.",
    )
    gate_override_reason = EncryptedTextField(
        max_length=300,
        blank=True,
        help_text="Why the eligibility gate was overridden for this session, if it was.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CourseSessionQuerySet.as_manager()

    class Meta:
        ordering = ["appointment__start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SESSION_KINDS),
                name="kap_sessions_coursesession_kind_known",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=AppointmentKind.DOSING, dosing_number__isnull=False)
                | (~models.Q(kind=AppointmentKind.DOSING) & models.Q(dosing_number__isnull=True)),
                name="kap_sessions_coursesession_dosing_number_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["course", "kind"], name="kap_coursesession_kind_idx")]
        verbose_name = "course session"

    def __str__(self) -> str:
        label = AppointmentKind(self.kind).label
        if self.dosing_number:
            return f"{label} {self.dosing_number} (#{self.pk})"
        return f"{label} #{self.pk}"

    @property
    def is_dosing(self) -> bool:
        return self.kind == AppointmentKind.DOSING


class MedicalClearance(models.Model):
    """The prescriber's medical clearance for a course (a gate of every medicine session).

    Recorded once per course; a later row supersedes an earlier one (the
    newest counts), so the history of who cleared her stays on file.
    """

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="clearances")
    prescriber = models.CharField(max_length=200, help_text="Name and credentials.")
    cleared_on = models.DateField()
    note = EncryptedTextField(blank=True)
    letter = models.ForeignKey(
        "practice.ClientDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The clearance letter, if one was sent.",
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-cleared_on", "-id"]
        get_latest_by = ["cleared_on", "id"]

    def __str__(self) -> str:
        return f"Medical clearance #{self.pk} of {self.cleared_on}"


class PregnancyStatus(models.TextChoices):
    NOT_PREGNANT = "not_pregnant", "Not pregnant"
    PREGNANT = "pregnant", "Pregnant"
    UNSURE = "unsure", "Not sure"


class PregnancyAttestationQuerySet(models.QuerySet["PregnancyAttestation"]):
    def recent_for(
        self, client: Client, *, at: datetime, days: int
    ) -> PregnancyAttestationQuerySet:
        """Her attestations made in the ``days`` before ``at``, newest first."""
        return self.filter(
            client=client, attested_at__lte=at, attested_at__gt=at - timedelta(days=days)
        ).order_by("-attested_at", "-id")


class PregnancyAttestation(models.Model):
    """What she attested about pregnancy, and when (a gate of starting a medicine session)."""

    Status = PregnancyStatus

    class Source(models.TextChoices):
        PORTAL = "portal", "Her portal"
        IN_PERSON = "in_person", "In person, recorded by staff"

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="pregnancy_attestations"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    attested_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PregnancyAttestationQuerySet.as_manager()

    class Meta:
        ordering = ["-attested_at", "-id"]
        indexes = [
            models.Index(fields=["client", "attested_at"], name="kap_pregnancy_attest_idx"),
        ]

    def __str__(self) -> str:
        return f"Pregnancy attestation #{self.pk} of {self.attested_at:%Y-%m-%d}"


class CourseSettings(models.Model):
    """The practice's limits for medicine sessions. One row, edited in the admin."""

    baseline_systolic_limit = models.PositiveSmallIntegerField(
        default=140, help_text="A session does not start at or above this systolic pressure."
    )
    baseline_diastolic_limit = models.PositiveSmallIntegerField(
        default=90, help_text="A session does not start at or above this diastolic pressure."
    )
    attestation_days = models.PositiveSmallIntegerField(
        default=7, help_text="How recent her pregnancy-status attestation must be, in days."
    )
    integration_within_hours = models.PositiveSmallIntegerField(
        default=72, help_text="An integration session is due this soon after a medicine session."
    )
    # Vitals outside these ranges are highlighted on the session record.
    systolic_high = models.PositiveSmallIntegerField(default=160)
    systolic_low = models.PositiveSmallIntegerField(default=90)
    diastolic_high = models.PositiveSmallIntegerField(default=100)
    diastolic_low = models.PositiveSmallIntegerField(default=50)
    heart_rate_high = models.PositiveSmallIntegerField(default=120)
    heart_rate_low = models.PositiveSmallIntegerField(default=50)
    spo2_low = models.PositiveSmallIntegerField("SpO2 low", default=94)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "course settings"
        verbose_name_plural = "course settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="kap_coursesettings_singleton"),
        ]

    def __str__(self) -> str:
        return "Course settings"

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def current(cls) -> CourseSettings:
        """The saved row, or the defaults when none is saved yet (not written)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
