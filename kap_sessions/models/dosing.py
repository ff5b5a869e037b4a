"""The record of a supervised medicine (dosing) session.

One :class:`DosingRecord` per medicine session: what was given, the baseline
blood pressure the start gate read, the therapist's presence, observations,
the discharge checklist and time. Vitals and adverse events are rows of
their own. A vital sign carries the ``entry_key`` the tablet gave it when it
was typed, so a row sent twice (a reload, a sign-in after the idle sign-out)
is stored once.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from practice.encryption import EncryptedTextField

from .sessions import CourseSession, CourseSettings


class Route(models.TextChoices):
    SUBLINGUAL = "sublingual", "Sublingual"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    OTHER = "other", "Other"


class DosingRecord(models.Model):
    Route = Route

    session = models.OneToOneField(
        CourseSession, on_delete=models.PROTECT, related_name="dosing_record"
    )
    # Before the start: the gate reads these.
    baseline_systolic = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(40), MaxValueValidator(300)]
    )
    baseline_diastolic = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(20), MaxValueValidator(200)]
    )
    started_at = models.DateTimeField(null=True, blank=True)
    # What was given.
    medication = models.CharField(max_length=100, default="Ketamine")
    route = models.CharField(max_length=20, choices=Route.choices, blank=True)
    dose_mg = models.DecimalField(
        "dose (mg)",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    lot_number = models.CharField(max_length=60, blank=True)
    given_at = models.DateTimeField(null=True, blank=True)
    prescriber = models.CharField(max_length=200, blank=True)
    # The therapist's presence, from start to end.
    present_from = models.DateTimeField(null=True, blank=True)
    present_until = models.DateTimeField(null=True, blank=True)
    observations = EncryptedTextField(blank=True)
    # Discharge.
    alert_and_oriented = models.BooleanField(default=False)
    steady_on_feet = models.BooleanField(default=False)
    driver_present = models.BooleanField(default=False)
    discharged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discharged_at__isnull=True)
                | models.Q(alert_and_oriented=True, steady_on_feet=True, driver_present=True),
                name="kap_sessions_dosingrecord_discharge_checklist_complete",
                violation_error_message=(
                    "Discharge needs every item of the checklist: alert and oriented, "
                    "steady on her feet, driver present."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(present_until__isnull=True)
                | models.Q(present_from__isnull=True)
                | models.Q(present_until__gt=models.F("present_from")),
                name="kap_sessions_dosingrecord_presence_in_order",
                violation_error_message="Presence must end after it starts.",
            ),
        ]
        verbose_name = "medicine session record"

    def __str__(self) -> str:
        return f"Medicine session record #{self.pk}"

    @property
    def is_started(self) -> bool:
        return self.started_at is not None

    @property
    def is_discharged(self) -> bool:
        return self.discharged_at is not None


class VitalSign(models.Model):
    record = models.ForeignKey(DosingRecord, on_delete=models.CASCADE, related_name="vitals")
    taken_at = models.DateTimeField()
    systolic = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(40), MaxValueValidator(300)]
    )
    diastolic = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(20), MaxValueValidator(200)]
    )
    heart_rate = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(20), MaxValueValidator(250)]
    )
    spo2 = models.PositiveSmallIntegerField(
        "SpO2", null=True, blank=True, validators=[MinValueValidator(50), MaxValueValidator(100)]
    )
    entry_key = models.UUIDField(default=uuid.uuid4, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [
            # A row re-sent by the tablet is the same row.
            models.UniqueConstraint(
                fields=["record", "entry_key"], name="kap_sessions_vitalsign_entry_once"
            ),
            models.CheckConstraint(
                condition=models.Q(systolic__isnull=False)
                | models.Q(diastolic__isnull=False)
                | models.Q(heart_rate__isnull=False)
                | models.Q(spo2__isnull=False),
                name="kap_sessions_vitalsign_has_a_value",
                violation_error_message="Enter at least one reading.",
            ),
        ]

    def __str__(self) -> str:
        return f"Vitals at {self.taken_at:%H:%M}"

    def out_of_range(self, limits: CourseSettings) -> set[str]:
        """The names of the readings outside the practice's ranges."""
        out: set[str] = set()
        if self.systolic is not None and not (
            limits.systolic_low <= self.systolic <= limits.systolic_high
        ):
            out.add("systolic")
        if self.diastolic is not None and not (
            limits.diastolic_low <= self.diastolic <= limits.diastolic_high
        ):
            out.add("diastolic")
        if self.heart_rate is not None and not (
            limits.heart_rate_low <= self.heart_rate <= limits.heart_rate_high
        ):
            out.add("heart_rate")
        if self.spo2 is not None and self.spo2 < limits.spo2_low:
            out.add("spo2")
        return out


class AdverseEventSeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class AdverseEvent(models.Model):
    Severity = AdverseEventSeverity

    record = models.ForeignKey(
        DosingRecord, on_delete=models.CASCADE, related_name="adverse_events"
    )
    at = models.DateTimeField(default=timezone.now)
    severity = models.CharField(max_length=20, choices=Severity.choices)
    description = EncryptedTextField()
    action_taken = EncryptedTextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Adverse event #{self.pk} ({self.get_severity_display()})"
