"""The outbox table: one row per email the practice means to send.

A row holds what is needed to build the email at send time (its kind, the
ids of the objects it is about, a few flags), never the email itself: no
address of a third party, no health answer and no rendered text waits here
or in Redis. ``idempotency_key`` is unique, so the change that asks for an
email twice (a retried request, a task run twice) still gets one row.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone

from practice.transitions import Transitions


class OutboxMessageQuerySet(models.QuerySet["OutboxMessage"]):
    def pending(self) -> OutboxMessageQuerySet:
        return self.filter(status=OutboxMessage.Status.PENDING)

    def due(self, now: datetime) -> OutboxMessageQuerySet:
        return self.pending().filter(not_before__lte=now)

    def failed(self) -> OutboxMessageQuerySet:
        return self.filter(status=OutboxMessage.Status.FAILED)

    def about(self, obj: models.Model) -> OutboxMessageQuerySet:
        return self.filter(object_type=object_type_of(obj), object_id=obj.pk)


def object_type_of(obj: models.Model | type[models.Model]) -> str:
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}"


class OutboxMessage(Transitions):
    """One email to send once its ``not_before`` time has come.

    The sender (``services.outbox_send_due``) claims due rows one at a time
    with a row lock, asks the row's kind to build the email from the ids (or
    to void it, when what it was about no longer stands), sends it and stamps
    it in the same transaction.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        VOIDED = "voided", "Not needed any more"
        FAILED = "failed", "Failed"

    # A failed message can be tried again from the admin; the rest are final.
    TRANSITIONS = {
        Status.PENDING: (Status.SENT, Status.VOIDED, Status.FAILED),
        Status.FAILED: (Status.PENDING,),
        Status.SENT: (),
        Status.VOIDED: (),
    }

    kind = models.CharField(max_length=60)
    idempotency_key = models.CharField(max_length=200, editable=False)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    # Ids and flags the kind needs to build the email; never content.
    params = models.JSONField(default=dict, blank=True)
    recipient = models.EmailField(
        blank=True, help_text="Where it was addressed when it was asked for (the kind decides)."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    not_before = models.DateTimeField(default=timezone.now)
    failure_count = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(
        max_length=200, blank=True, help_text="The kind of error and the mail server's code only."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        verbose_name = "outgoing email"
        verbose_name_plural = "outgoing emails"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="practice_outboxmessage_one_per_key"
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", finished_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(finished_at__isnull=False)),
                name="practice_outboxmessage_finished_when_not_pending",
            ),
        ]
        indexes = [
            # The sender's claim: the next due rows in time order.
            models.Index(
                fields=["not_before", "id"],
                condition=models.Q(status="pending"),
                name="practice_outbox_due_idx",
            ),
            models.Index(fields=["object_type", "object_id"], name="practice_outbox_object_idx"),
            models.Index(fields=["status", "finished_at"], name="practice_outbox_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
