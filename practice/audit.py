"""The audit trail's hash chain: how rows are sealed, and the check that names a broken link.

**Writing and sealing are two steps.** ``audit_record`` (``practice.services``)
inserts its row *unsealed* (no ``hash``, no ``prev_hash``, no
``chain_position``): one prepared INSERT (:func:`audit_event_insert`) in the
caller's transaction, no lock and no read, so a page view pays for one
statement. Once that transaction commits
it rings the sealer's doorbell (:func:`audit_seal_wake`, a
``practice.audit_seal`` job, at most one per process per
``WAKE_COALESCE_SECONDS``), and beat queues the same job every few seconds
(``practice-seal-audit`` in ``CELERY_BEAT_SCHEDULE``), so a row whose
doorbell was lost (Redis away, a worker killed, a ring coalesced away) is
sealed on the next beat. :func:`audit_verify` seals what is waiting before
it checks.

**The chain's order is its own.** Rows commit out of id order (a long
transaction takes its id early and commits late), so the sealer does not
chain by id: under one lock (:func:`audit_chain_lock`, so two sealers never
seal onto the same predecessor) it takes the committed unsealed rows in id
order and gives each the next ``chain_position``, the previous position's
hash as ``prev_hash``, and ``hash``, the SHA-256 of a canonical
serialisation of its fields and of ``prev_hash`` (the first row's
``prev_hash`` is empty). A row that commits after a later id was sealed
simply takes the next position. Each batch is committed on its own, so the
lock is held for milliseconds, never through a verification.

What the chain proves, and what it does not:

- a sealed row changed in place no longer matches its own hash: *altered*;
- a sealed row taken out leaves the next row pointing at a hash nobody
  carries: *removed*; two rows' positions swapped leave a row pointing at a
  hash that a later row carries: *reordered*;
- a row that waits too long to be sealed (``UNSEALED_MAX_AGE``) means the
  sealer does not run: the check reports it;
- the newest rows can be cut off without trace by someone who can delete
  (the chain has no outside anchor), and a row altered in the seconds before
  it is sealed is sealed as altered. On PostgreSQL the trigger of
  ``0010_audit_sealed_off_the_request`` refuses every DELETE and every UPDATE
  whatever role connects, except the one sealing of an unsealed row (its
  hash empty, then set once, with nothing but ``chain_position``,
  ``prev_hash`` and ``hash`` changed), so either takes disabling the trigger
  first. The id is a label, not part of the chain: the order is proven by
  ``prev_hash``.

**A page view's line rides on the request's durable commit.** Every
signed-in request ends by saving its session (``SESSION_SAVE_EVERY_REQUEST``),
a commit PostgreSQL makes durable before it answers, and PostgreSQL writes
its log in order: that flush takes every earlier commit of the server with
it. So a view line written just before, outside any transaction, need not
wait for the disk itself (``audit_event_insert(..., flushed_by_next_commit=True)``:
the one statement commits asynchronously). By the time the page leaves,
the line is on disk; should the request die between the two, the page was
never shown and the line still reaches the disk within PostgreSQL's
``wal_writer_delay`` (0.2 s by default), unless the database server itself
crashes in that instant. Inside a transaction, or anywhere else, a line is
committed durably with the change it records.

Nothing here reads or stores clinical content: an event names a record by
type and id only.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, connections, router, transaction
from django.utils import timezone

from .models import AuditCheckResult, AuditEvent
from .prepared import insert_statement, insert_values, prepared_cursor
from .queue import Doorbell, enqueue

__all__ = [
    "CHAIN_FIELDS",
    "SEAL_TASK",
    "UNSEALED_MAX_AGE",
    "AuditCheck",
    "audit_chain_lock",
    "audit_chain_tail",
    "audit_check_record",
    "audit_event_hash",
    "audit_event_insert",
    "audit_seal",
    "audit_seal_wake",
    "audit_verify",
]

# The fields a row's hash covers, in the order they are serialised. Neither
# the id nor the position is among them: the order is proven by
# ``prev_hash`` instead.
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

# The key of the PostgreSQL advisory lock that serialises sealing (any constant
# bigint; this one spells "audit" in ASCII).
_CHAIN_LOCK_KEY = 0x6175646974

# Rows read per query by the check, and sealed per transaction by the sealer.
CHUNK = 2000
SEAL_BATCH = 500

SEAL_TASK = "practice.audit_seal"
# A process queues at most one sealing job in this many seconds: a page view
# pays for a publish (0.4 ms) once a second, not every time. A row committed
# inside the window after that job ran waits for the next ring or beat.
WAKE_COALESCE_SECONDS = 1.0
_doorbell = Doorbell(lambda: WAKE_COALESCE_SECONDS)

# Beat seals every few seconds; a row still unsealed after this long means the
# sealer is not running, which the check reports.
UNSEALED_MAX_AGE = timedelta(minutes=10)


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


@functools.cache
def _unflushed_insert_statement() -> str:
    """The audit INSERT, committed without waiting for the disk (PostgreSQL).

    ``set_config(..., true)`` sets ``synchronous_commit`` for the statement's
    own implicit transaction only; the subquery in ``RETURNING`` makes
    PostgreSQL evaluate it (a ``WITH`` query nobody reads is skipped).
    """
    sql, _ = insert_statement(AuditEvent)
    insert = sql.removesuffix(" RETURNING id")
    # The model's own INSERT, built by insert_statement.
    unflushed = "SELECT set_config('synchronous_commit', 'off', true) AS setting"
    return f"WITH unflushed AS ({unflushed}) {insert} RETURNING id, (SELECT setting FROM unflushed)"  # noqa: S608


def audit_event_insert(event: AuditEvent, *, flushed_by_next_commit: bool = False) -> None:
    """Insert ``event`` as it is (unsealed), in the current transaction if there is one.

    The hottest write of the app, one per view of a record: a prepared
    statement (``practice/prepared.py``) instead of ``save()``, which
    compiles the INSERT anew each time. Sends no ``post_save``: nothing
    listens to audit rows.

    ``flushed_by_next_commit``: the caller knows that a durable commit
    follows on this connection before anyone is answered (a signed-in
    request's session save), so the line, when it is its own transaction on
    PostgreSQL, commits without waiting for the disk (see the module's
    docstring). In a transaction it is ignored: the setting would reach the
    whole transaction.
    """
    sql, fields = insert_statement(AuditEvent)
    if (
        flushed_by_next_commit
        and connection.vendor == "postgresql"
        and connection.get_autocommit()
        and not connection.in_atomic_block
    ):
        sql = _unflushed_insert_statement()
    with prepared_cursor() as cursor:
        cursor.execute(sql, insert_values(event, fields))
        row = cursor.fetchone()
    event.pk = row[0]
    event._state.adding = False
    event._state.db = connection.alias


def audit_chain_lock() -> None:
    """Hold the chain's sealing lock until the current transaction ends.

    On PostgreSQL a transaction-scoped advisory lock: the next sealer waits
    until this one has committed, so it reads the position and hash just
    written as its predecessor. SQLite serialises writers by itself. Call
    inside ``transaction.atomic``.
    """
    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def audit_chain_tail() -> tuple[int, str]:
    """The newest sealed event's position and hash, ``(0, "")`` for none: what the next
    one chains to."""
    tail = (
        AuditEvent.objects.filter(chain_position__isnull=False)
        .order_by("-chain_position")
        .values_list("chain_position", "hash")
        .first()
    )
    if tail is None or tail[0] is None:
        return 0, ""
    return tail[0], tail[1]


def _seal_batch() -> int:
    with transaction.atomic():
        audit_chain_lock()
        position, previous_hash = audit_chain_tail()
        # Only committed rows are seen: a row still in its writer's
        # transaction is sealed by a later run, at a later position.
        batch = list(
            AuditEvent.objects.filter(chain_position__isnull=True).order_by("id")[:SEAL_BATCH]
        )
        for event in batch:
            position += 1
            event.chain_position = position
            event.prev_hash = previous_hash
            event.hash = audit_event_hash({name: getattr(event, name) for name in CHAIN_FIELDS})
            previous_hash = event.hash
        if batch:
            AuditEvent.objects.bulk_update(batch, ["chain_position", "prev_hash", "hash"])
        return len(batch)


def audit_seal() -> int:
    """Seal every committed unsealed event onto the chain, in id order; return how many.

    Safe to run at any time and from several workers at once (they take
    turns under :func:`audit_chain_lock`). Side effects: each event's
    ``chain_position``, ``prev_hash`` and ``hash``, ``SEAL_BATCH`` events per
    transaction (outside a transaction of the caller's, each batch commits
    and releases the lock).
    """
    sealed = 0
    while True:
        count = _seal_batch()
        sealed += count
        if count < SEAL_BATCH:
            return sealed


def audit_seal_wake() -> None:
    """Queue one ``practice.audit_seal`` job (best effort; ``audit_record`` calls it after commit).

    A process that queued one less than ``WAKE_COALESCE_SECONDS`` ago does
    not queue another; beat's run picks up whatever a skipped or lost ring
    left behind.
    """
    if _doorbell.may_ring():
        enqueue(SEAL_TASK)


def _later_carrier(prev_hash: str, after_position: int) -> int | None:
    if not prev_hash:
        return None
    return (
        AuditEvent.objects.filter(hash=prev_hash, chain_position__gt=after_position)
        .order_by("chain_position")
        .values_list("id", flat=True)
        .first()
    )


def _waiting_too_long(now: datetime) -> AuditEvent | None:
    return (
        AuditEvent.objects.filter(chain_position__isnull=True, at__lt=now - UNSEALED_MAX_AGE)
        .order_by("id")
        .only("id")
        .first()
    )


def audit_verify(*, seal: bool = True, now: datetime | None = None) -> AuditCheck:
    """Walk the sealed events in chain order and name the first altered, removed or
    reordered one, or else an event left unsealed for longer than ``UNSEALED_MAX_AGE``.

    First seals what is waiting (:func:`audit_seal`), so the check covers
    every committed event; ``seal=False`` checks without writing anything.
    Reads in chunks of ``CHUNK`` rows (flat memory), recomputing each row's
    hash and checking that it chains to the row before.
    """
    if seal:
        audit_seal()
    checked = 0
    previous_id: int | None = None
    previous_position = 0
    previous_hash = ""
    fields = ("id", "chain_position", "hash", *CHAIN_FIELDS)
    while True:
        chunk = list(
            AuditEvent.objects.filter(chain_position__gt=previous_position)
            .order_by("chain_position")
            .values(*fields)[:CHUNK]
        )
        if not chunk:
            break
        for row in chunk:
            event_id = row["id"]
            after = f"event #{previous_id}" if previous_id is not None else "the start"
            if row["prev_hash"] != previous_hash:
                carrier = _later_carrier(row["prev_hash"], row["chain_position"])
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
            previous_position = row["chain_position"]
            previous_hash = row["hash"]
    waiting = _waiting_too_long(now or timezone.now())
    if waiting is not None:
        minutes = int(UNSEALED_MAX_AGE.total_seconds() // 60)
        return AuditCheck(
            ok=False,
            checked=checked,
            first_bad_id=waiting.id,
            problem=f"Event #{waiting.id} is still not sealed more than {minutes} minutes "
            f"after it was written: the sealer (practice.audit_seal) is not running.",
        )
    return AuditCheck(ok=True, checked=checked)


def audit_check_record(*, now: datetime | None = None) -> AuditCheckResult:
    """Seal what is waiting, verify the trail and keep the result for the Today page.

    The sealing commits batch by batch before the walk, so the sealer's lock
    is not held through a check of the whole table. Side effects: the
    sealing (:func:`audit_seal`), one ``AuditCheckResult`` row.
    """
    check = audit_verify(now=now)
    with transaction.atomic(durable=True):
        return AuditCheckResult.objects.create(
            checked_at=now or timezone.now(),
            ok=check.ok,
            checked=check.checked,
            first_bad_id=check.first_bad_id,
            problem=check.problem[:300],
        )
