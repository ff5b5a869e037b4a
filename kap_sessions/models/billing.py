"""Money paperwork: superbills for out-of-network reimbursement, and Good Faith Estimates.

The therapist enters the service codes and fees; nothing here is computed
from a price list. A superbill lists services she received (dates, codes,
fees) for her insurer; a Good Faith Estimate lists the sessions and fees
expected for a self-pay client before care is scheduled (the No Surprises
Act). Both are rendered as PDFs at download time (``kap_sessions.documents``)
and every download is audited. A GFE is shown in her portal once issued.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from practice.encryption import EncryptedTextField
from practice.models import Client

from .course import Course

MONEY = {"max_digits": 8, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class Superbill(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="superbills")
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.PROTECT, related_name="superbills"
    )
    issued_on = models.DateField(default=timezone.localdate)
    # A diagnosis is what the therapist writes about her: encrypted at rest.
    diagnosis_codes = EncryptedTextField(
        "diagnosis codes (ICD-10)", blank=True, help_text="Comma-separated, e.g. F53.0, F41.1."
    )
    visible_to_client = models.BooleanField(
        default=True, help_text="She can download it in her portal."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return f"Superbill #{self.pk} of {self.issued_on}"

    @property
    def total(self) -> Decimal:
        return sum((line.fee * line.units for line in self.lines.all()), Decimal("0"))


class SuperbillLine(models.Model):
    superbill = models.ForeignKey(Superbill, on_delete=models.CASCADE, related_name="lines")
    service_date = models.DateField()
    code = models.CharField("service code (CPT)", max_length=10, help_text="e.g. 90837.")
    modifier = models.CharField(max_length=10, blank=True)
    description = models.CharField(max_length=200)
    units = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    fee = models.DecimalField("fee per unit", **MONEY)  # type: ignore[arg-type]
    appointment = models.ForeignKey(
        "practice.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["service_date", "id"]

    def __str__(self) -> str:
        return f"{self.service_date} {self.code}"

    @property
    def amount(self) -> Decimal:
        return self.fee * self.units


class GoodFaithEstimate(models.Model):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="good_faith_estimates"
    )
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.PROTECT, related_name="estimates"
    )
    issued_on = models.DateField(default=timezone.localdate)
    services_from = models.DateField(help_text="The first expected date of service.")
    services_until = models.DateField(help_text="The last expected date (at most 12 months on).")
    diagnosis_codes = EncryptedTextField(
        "diagnosis codes (ICD-10)", blank=True, help_text="Comma-separated, e.g. F53.0, F41.1."
    )
    notes = EncryptedTextField(
        blank=True, help_text="Anything else she should know, e.g. what is not included."
    )
    shared_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it was shown in her portal."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = "Good Faith Estimate"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(services_until__gte=models.F("services_from")),
                name="kap_sessions_goodfaithestimate_period_in_order",
                violation_error_message="The last date cannot be before the first.",
            ),
        ]

    def __str__(self) -> str:
        return f"Good Faith Estimate #{self.pk} of {self.issued_on}"

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines.all()), Decimal("0"))


class EstimateLine(models.Model):
    estimate = models.ForeignKey(GoodFaithEstimate, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=200, help_text="e.g. Integration session, 50 min.")
    code = models.CharField("service code (CPT)", max_length=10, blank=True)
    quantity = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_fee = models.DecimalField(**MONEY)  # type: ignore[arg-type]

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description

    @property
    def amount(self) -> Decimal:
        return self.unit_fee * self.quantity
