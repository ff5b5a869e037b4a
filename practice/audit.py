"""The audit trail's hash chain: how a row is sealed, and the check that names a broken link.

Every ``AuditEvent`` carries ``hash``, the SHA-256 of a canonical
serialisation of its fields and of ``prev_hash``, the previous row's hash (in
id order; the first row's ``prev_hash`` is empty). ``audit_record`` appends
under one lock (:func:`audit_chain_lock`), so two writers can never seal
their rows onto the same predecessor, and ids grow in chain order.

What the chain proves, and what it does not:

- a row changed in place no longer matches its own hash: *altered*;
- a row taken out leaves the next row pointing at a hash nobody carries:
  *removed*; two rows swapped leave a row pointing at a hash that a later row
  carries: *reordered*;
- the newest rows can be cut off without trace by someone who can delete
  (the chain has no outside anchor); on PostgreSQL the trigger of
  ``0009_audit_append_only`` refuses every DELETE and UPDATE, whatever role
  connects, so that takes disabling the trigger first.

Nothing here reads or stores clinical content: an event names a record by
type and id only.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from .models import AuditCheckResult, AuditEvent

__all__ = [
    "CHAIN_FIELDS",
    "AuditCheck",
    "audit_chain_lock",
    "audit_chain_tail",
    "audit_check_record",
    "audit_event_hash",
    "audit_verify",
]

# The fields a row's hash covers, in the order they are serialised. The id is
# not among them (it is given by the insert, after the hash is computed): the
# order is proven by ``prev_hash`` instead.
CHAIN_FIELDS = (
    "at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "client_id",
    "ip_address",
    "user_agent",
    "path",
    "outcome",
    "prev_hash",
)

# The key of the PostgreSQL advisory lock that serialises appends (any constant
# bigint; this one spells "audit" in ASCII).
_CHAIN_LOCK_KEY = 0x6175646974

CHUNK = 2000


@dataclass(frozen=True)
class AuditCheck:
    """What ``audit_verify`` found: ``first_bad_id`` and ``problem`` name the first broken link."""

    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""


def _canonical(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "at" and isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if name == "ip_address":
        # The database may write an address its own way (PostgreSQL's inet);
        # both sides of the comparison go through the same normal form.
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return str(value)
    if name in ("actor_id", "client_id"):
        return int(value)
    return str(value)


def audit_event_hash(values: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of one event's ``CHAIN_FIELDS``, ``prev_hash`` included."""
    canonical = {name: _canonical(name, values.get(name)) for name in CHAIN_FIELDS}
    serialised = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(serialised.encode("ascii")).hexdigest()


def audit_chain_lock() -> None:
    """Hold the chain's append lock until the current transaction ends.

    On PostgreSQL a transaction-scoped advisory lock: the next writer waits
    until this one has committed, so it reads the row just written as its
    predecessor. SQLite serialises writers by itself. Call inside
    ``transaction.atomic``.
    """
    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def audit_chain_tail() -> str:
    """The hash of the newest event (empty for the first): what the next one chains to."""
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""


def _later_carrier(prev_hash: str, after_id: int) -> int | None:
    if not prev_hash:
        return None
    return (
        AuditEvent.objects.filter(hash=prev_hash, id__gt=after_id)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def audit_verify() -> AuditCheck:
    """Walk every event in id order and name the first altered, removed or reordered one.

    Reads in chunks of ``CHUNK`` rows (flat memory), recomputing each row's
    hash and checking that it chains to the row before. Writes nothing.
    """
    checked = 0
    previous_id: int | None = None
    previous_hash = ""
    fields = ("id", "hash", *CHAIN_FIELDS)
    while True:
        rows = AuditEvent.objects.order_by("id").values(*fields)
        if previous_id is not None:
            rows = rows.filter(id__gt=previous_id)
        chunk = list(rows[:CHUNK])
        if not chunk:
            return AuditCheck(ok=True, checked=checked)
        for row in chunk:
            event_id = row["id"]
            after = f"event #{previous_id}" if previous_id is not None else "the start"
            if row["prev_hash"] != previous_hash:
                carrier = _later_carrier(row["prev_hash"], event_id)
                if carrier is not None:
                    problem = (
                        f"Event #{event_id} is out of order: it follows event #{carrier}, "
                        f"which now comes after it."
                    )
                else:
                    problem = (
                        f"Event #{event_id} does not follow {after}: "
                        f"an event between them was removed."
                    )
                return AuditCheck(ok=False, checked=checked, first_bad_id=event_id, problem=problem)
            if audit_event_hash(row) != row["hash"]:
                return AuditCheck(
                    ok=False,
                    checked=checked,
                    first_bad_id=event_id,
                    problem=f"Event #{event_id} was altered: its content no longer "
                    f"matches its hash.",
                )
            checked += 1
            previous_id = event_id
            previous_hash = row["hash"]


@transaction.atomic(durable=True)
def audit_check_record(*, now: datetime | None = None) -> AuditCheckResult:
    """Verify the trail and keep the result for the Today page.

    Side effects: one ``AuditCheckResult`` row.
    """
    check = audit_verify()
    return AuditCheckResult.objects.create(
        checked_at=now or timezone.now(),
        ok=check.ok,
        checked=check.checked,
        first_bad_id=check.first_bad_id,
        problem=check.problem[:300],
    )
