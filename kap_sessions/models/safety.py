"""Safety flags: a sign of risk on her record that stays until the therapist answers it.

A flag is raised when PHQ-9 item 9 or EPDS item 10 scores above zero, or
when the intake says she has thoughts of ending her life now. It is written
in the same transaction as the answer that raised it, together with the
outbox row of the therapist's alert, so neither is lost if a worker or Redis
is down. It stays open, on her record and in the admin, until the therapist
acknowledges it with a note (``safety_flag_acknowledge``, the one transition
function).

The note is clinical text and encrypted, so SQL cannot see whether it is
empty in any useful way beyond ``= ''``; "acknowledged means a note was
written" is the service's and the form's rule. The database checks what it
can see: an acknowledged flag names who acknowledged it and when.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from practice.encryption import EncryptedTextField
from practice.models import Client
from practice.transitions import Transitions

from .screening import ScreeningResponse


class SafetySource(models.TextChoices):
    """What raised the flag; the values of the questionnaires are their URL slugs."""

    INTAKE = "intake", "Intake"
    PHQ_9 = "phq-9", "PHQ-9"
    EPDS = "epds", "EPDS"


class SafetyFlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"


class SafetyFlagQuerySet(models.QuerySet["SafetyFlag"]):
    def open(self) -> SafetyFlagQuerySet:
        """The flags nobody has answered yet, oldest first, with their client."""
        return (
            self.filter(status=SafetyFlagStatus.OPEN)
            .select_related("client")
            .order_by("raised_at", "id")
        )

    def for_client(self, client: Client) -> SafetyFlagQuerySet:
        return (
            self.filter(client=client)
            .select_related("acknowledged_by")
            .order_by("-raised_at", "-id")
        )


class SafetyFlag(Transitions):
    Status = SafetyFlagStatus
    Source = SafetySource

    STATE_FIELD = "status"
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.OPEN: (Status.ACKNOWLEDGED,),
        Status.ACKNOWLEDGED: (),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="safety_flags")
    source = models.CharField(max_length=20, choices=Source.choices)
    screening_response = models.ForeignKey(
        ScreeningResponse,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="safety_flags",
    )
    raised_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # PROTECT: who answered a sign of risk is part of the record; staff
    # accounts are deactivated, not deleted.
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledgement_note = EncryptedTextField(
        blank=True, help_text="What you did about it. Required to acknowledge."
    )

    objects = SafetyFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    status=SafetyFlagStatus.ACKNOWLEDGED,
                    acknowledged_at__isnull=False,
                    acknowledged_by__isnull=False,
                )
                | models.Q(
                    status=SafetyFlagStatus.OPEN,
                    acknowledged_at__isnull=True,
                    acknowledged_by__isnull=True,
                ),
                name="kap_sessions_safetyflag_acknowledged_matches_status",
                violation_error_message=(
                    "An acknowledged flag needs who acknowledged it and when; "
                    "an open flag has neither."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(source=SafetySource.INTAKE, screening_response__isnull=False),
                name="kap_sessions_safetyflag_intake_has_no_response",
            ),
            # The same answer raises one flag, however often it is saved or
            # a service retried: the intake is saved as she goes.
            models.UniqueConstraint(
                fields=["screening_response"],
                condition=models.Q(screening_response__isnull=False),
                name="kap_sessions_safetyflag_one_per_response",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(source=SafetySource.INTAKE, status=SafetyFlagStatus.OPEN),
                name="kap_sessions_safetyflag_one_open_intake_flag_per_client",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "raised_at"], name="kap_safetyflag_status_idx"),
        ]

    def __str__(self) -> str:
        # No source: the name of a flag is shown in lists and the audit log.
        return f"Safety flag #{self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == SafetyFlagStatus.OPEN
