"""Eligibility: the contraindications the practice screens for, and the therapist's decisions.

A client's status (eligible, needs medical review, not eligible) is
computed, not stored: from her intake through the built-in rules
(:class:`IntakeRule`), plus the contraindications the therapist marked on
her record by hand (:class:`ClientContraindication`). The worst outcome
among the active contraindications that apply is her status, and each one
that applies is a reason listed in its ``plain_words``.

The therapist may override the computed status with a note
(:class:`EligibilityOverride`). Each decision is a new row that is never
edited, so the history of who decided what and when is kept; the newest
one applies.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from practice.encryption import EncryptedTextField
from practice.models import Client

from .final import RecordIsFinal


class EligibilityStatus(models.TextChoices):
    """Her status, computed or decided. Listed from best to worst."""

    ELIGIBLE = "eligible", "Eligible"
    NEEDS_MEDICAL_REVIEW = "needs_medical_review", "Needs medical review"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"


class ContraindicationOutcome(models.TextChoices):
    """What a contraindication does to her status; the values are :class:`EligibilityStatus`'s."""

    NEEDS_MEDICAL_REVIEW = EligibilityStatus.NEEDS_MEDICAL_REVIEW.value, "Needs medical review"
    NOT_ELIGIBLE = EligibilityStatus.NOT_ELIGIBLE.value, "Not eligible"


class IntakeRule(models.TextChoices):
    """The rules computed from the intake; each applies when the intake says so.

    - uncontrolled_hypertension: blood pressure "high, and not under control";
    - psychosis_or_mania: a history of psychosis, or of mania or bipolar disorder;
    - active_substance_use: she is worried about her use (recovery is not "active");
    - pregnancy: pregnant now;
    - active_suicidal_ideation: thoughts of ending her life now;
    - the others: the intake's yes to that condition.
    """

    UNCONTROLLED_HYPERTENSION = "uncontrolled_hypertension", "Uncontrolled high blood pressure"
    PSYCHOSIS_OR_MANIA = "psychosis_or_mania", "Psychosis, mania or bipolar disorder"
    ACTIVE_SUBSTANCE_USE = "active_substance_use", "Active substance use"
    PREGNANCY = "pregnancy", "Pregnancy"
    ACTIVE_SUICIDAL_IDEATION = "active_suicidal_ideation", "Current suicidal thoughts"
    HEART_CONDITION = "heart_condition", "Heart condition"
    LIVER_CONDITION = "liver_condition", "Liver condition"
    BLADDER_CONDITION = "bladder_condition", "Bladder condition"
    GLAUCOMA = "glaucoma", "Glaucoma"
    SEIZURES = "seizures", "Seizures"


class ContraindicationQuerySet(models.QuerySet["Contraindication"]):
    def active(self) -> ContraindicationQuerySet:
        return self.filter(active=True)

    def from_intake(self) -> ContraindicationQuerySet:
        """The active built-in rules, in the order the therapist reads reasons."""
        return self.active().exclude(intake_rule="").order_by("order", "id")


class Contraindication(models.Model):
    """One reason a client may not (yet) take part, configured by the therapist.

    Rows with an ``intake_rule`` are computed from the intake; the practice's
    starting set is written by migration ``0005_preparation_defaults``. Rows
    without one are those the therapist adds and marks per client. Turning
    a row off (``active``) stops it counting for everyone, without losing
    the clients it was marked on.
    """

    Outcome = ContraindicationOutcome
    Rule = IntakeRule

    code = models.SlugField(max_length=60, unique=True)
    plain_words = models.CharField(
        max_length=200,
        help_text="The reason as you read it, e.g. “Uncontrolled high blood pressure”.",
    )
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    intake_rule = models.CharField(
        max_length=40,
        choices=Rule.choices,
        blank=True,
        help_text="Computed from her intake; empty for one you mark on a client by hand.",
    )
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    objects = ContraindicationQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["intake_rule"],
                condition=~models.Q(intake_rule=""),
                name="kap_sessions_contraindication_one_per_intake_rule",
                violation_error_message="Another contraindication already uses this intake rule.",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=ContraindicationOutcome.values),
                name="kap_sessions_contraindication_outcome_known",
                violation_error_message="Choose what this contraindication does to eligibility.",
            ),
        ]

    def __str__(self) -> str:
        return self.plain_words

    @property
    def is_from_intake(self) -> bool:
        return bool(self.intake_rule)


class ClientContraindicationQuerySet(models.QuerySet["ClientContraindication"]):
    def for_client(self, client: Client) -> ClientContraindicationQuerySet:
        return (
            self.filter(client=client)
            .select_related("contraindication", "noted_by")
            .order_by("contraindication__order", "contraindication_id")
        )


class ClientContraindication(models.Model):
    """A contraindication the therapist marked on one client by hand.

    Any contraindication may be marked, a built-in one too (her doctor's
    letter may say what the intake did not).
    """

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="marked_contraindications"
    )
    contraindication = models.ForeignKey(
        Contraindication, on_delete=models.PROTECT, related_name="client_marks"
    )
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    noted_at = models.DateTimeField(default=timezone.now, editable=False)
    note = EncryptedTextField(blank=True)

    objects = ClientContraindicationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "contraindication"],
                name="kap_sessions_clientcontraindication_once_per_client",
                violation_error_message="This contraindication is already marked on her record.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contraindication} (client #{self.client_id})"


class EligibilityOverrideQuerySet(models.QuerySet["EligibilityOverride"]):
    def for_client(self, client: Client) -> EligibilityOverrideQuerySet:
        """Her decisions, newest (the one that applies) first."""
        return (
            self.filter(client=client).select_related("decided_by").order_by("-decided_at", "-id")
        )

    def current_for(self, client: Client) -> EligibilityOverride | None:
        """The decision that applies to her now, if the therapist made any."""
        return self.for_client(client).first()


class EligibilityOverride(models.Model):
    """The therapist's decision on a client's eligibility, replacing the computed one.

    Written once and never edited (``save()`` refuses); changing her mind is
    a new row, and the newest applies. The note is required by the form and
    the service (encrypted text cannot be checked in SQL).
    """

    Status = EligibilityStatus

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="eligibility_overrides"
    )
    status = models.CharField(max_length=30, choices=Status.choices)
    note = EncryptedTextField(help_text="Why you decided this.")
    # PROTECT and required: "who decided" is the point of the record; staff
    # accounts are deactivated, not deleted.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EligibilityOverrideQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=EligibilityStatus.values),
                name="kap_sessions_eligibilityoverride_status_known",
                violation_error_message="Choose a status.",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-decided_at"], name="kap_eligibility_client_idx"),
        ]

    def __str__(self) -> str:
        return f"Eligibility decision #{self.pk} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RecordIsFinal(
                "An eligibility decision is not edited; record a new decision instead."
            )
        super().save(*args, **kwargs)
