"""Erasing a newsletter reader at once, on request (the admin's "Erase" action).

The app keeps no suppression list: an erased reader is simply gone, and
signing up again starts a new double opt-in like anyone else's.
"""

from __future__ import annotations

from django.db import transaction

from practice.models import AuditEvent, User
from practice.services import audit_record

from .models import Subscriber

__all__ = ["subscriber_erase"]


@transaction.atomic(durable=True)
def subscriber_erase(*, subscriber: Subscriber, actor: User | None) -> dict[str, int]:
    """Delete one reader and her deliveries (pending or sent); return what went, by kind.

    Side effects, in one transaction: a ``delete`` audit line naming the
    reader by type and id only (no address); the subscriber row and every
    campaign delivery of hers, so no pending one is sent. An email already
    queued for her (a confirmation) finds no reader at send time and is
    voided by its kind's check.
    """
    locked = Subscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
    if locked is None:
        return {}
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, obj=locked)
    deleted = Subscriber.objects.filter(pk=locked.pk).delete()[1]
    return {label: count for label, count in deleted.items() if count}
