"""Writing to the outbox and sending what is due: the one loop for every email.

**Asking for an email.** :func:`outbox_put` writes a row in the caller's
transaction, so the email exists exactly when the change that causes it
commits, and a rolled-back change asks for nothing. After the commit it rings
the doorbell (:func:`outbox_wake`): one ``practice.outbox.send_due`` job is
queued unless one is already waiting, so a burst of sign-ups publishes one
message, not one per email. Every minute beat's sweep (:func:`outbox_sweep`)
sets senders to work on whatever is due: reminders at their time, retries,
and whatever a lost doorbell (Redis flushed or stopped, a worker killed) left
behind.

**Sending.** :func:`outbox_send_due` claims one due row at a time and
stamps it sent in the same statement (``claim.py``: row lock, skip locked),
asks the row's kind to build the email from the ids (``kinds.py``; ``None``
voids the row: what it was about no longer stands), sends it, and commits
once the mail server has accepted it: until then the stamp is a promise no
one else can see.

**The guarantee.** A worker killed (or a database lost) at any point before
that commit leaves the row pending and unlocked; the next sweep sends it. So
nothing is lost, and nothing is sent twice, with one exception: a worker that
dies after the mail server accepted the message and before the commit sends
that one message again on the next sweep (at most once more per crash). We
accept a rare duplicate confirmation over a lost one. Campaign deliveries,
which are sent to thousands, narrow that window further with their own SMTP
protocol (``newsletter/sending.py``).

**Failures.** A mail server that refuses or cannot be reached adds one to the
row's failure count, keeps the kind of error and the server's code (never the
message), and puts the row back for later with an exponential backoff
(``OUTBOX_RETRY_BASE_SECONDS``, doubling, at most ``OUTBOX_RETRY_MAX_SECONDS``).
After ``OUTBOX_MAX_FAILURES`` it is marked failed and shown in the admin,
where the therapist can send it again. A refused recipient fails at once.
When the server cannot be reached the batch stops there: the other rows are
not charged for the same outage.
"""

from __future__ import annotations

import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, models, transaction
from django.utils import timezone

from practice.prepared import prepared_cursor
from practice.queue import Doorbell, enqueue

from .claim import claim_sql
from .kinds import kind_named
from .models import OutboxMessage, object_type_of

logger = logging.getLogger(__name__)

SEND_DUE_TASK = "practice.outbox.send_due"
# Set while a send_due job is queued and not yet started; the job clears it
# first thing, so a row committed after that rings again.
WAKE_KEY = "outbox:wake-pending"
WAKE_KEY_TTL = 60


def outbox_put(
    *,
    kind: str,
    key: str,
    about: models.Model | None = None,
    recipient: str = "",
    params: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> None:
    """Ask for one email of ``kind``, once per ``key``, in the caller's transaction.

    ``about`` is the object the email is about (its type and id are kept, so
    the kind can fetch it at send time and a change to it can void the row);
    ``params`` hold ids and flags only. A second call with the same ``key``
    writes nothing. Side effects: after commit, the doorbell when the email is
    due now; a later one is left to beat.
    """
    if kind_named(kind) is None:
        raise ValueError(f"no email kind {kind!r} is registered")
    now = timezone.now()
    row = OutboxMessage(
        kind=kind,
        idempotency_key=key[:200],
        object_type=object_type_of(about) if about is not None else "",
        object_id=about.pk if about is not None else None,
        params=params or {},
        recipient=recipient[:254],
        not_before=not_before or now,
        created_at=now,
    )
    # ON CONFLICT DO NOTHING: one statement, no savepoint, however many times
    # the same change asks.
    OutboxMessage.objects.bulk_create([row], ignore_conflicts=True)
    if row.not_before <= now:
        transaction.on_commit(outbox_wake)


def outbox_put_after_insert(
    *,
    insert_sql: str,
    insert_params: list[Any],
    kind: str,
    key: str,
    about: type[models.Model],
    recipient: str = "",
    params: dict[str, Any] | None = None,
) -> int | None:
    """Run ``insert_sql`` (an ``INSERT ... RETURNING id``) and, if it wrote a row, ask
    for an email about that row; return the new id, or ``None`` when it wrote nothing.

    For the hottest write of all, a sign-up from a new address: on PostgreSQL
    both rows go in one statement (a data-modifying ``WITH``), so the change
    and its email cost one round trip and one durable commit, and are still
    one transaction, and the statement is prepared once per connection
    (``practice/prepared.py``), so ``insert_sql`` must be the same text every
    time, its values in ``insert_params``. ``key`` holds ``{id}`` where the
    new row's id goes. Elsewhere (SQLite) the same two writes run in a
    transaction.
    """
    if kind_named(kind) is None:
        raise ValueError(f"no email kind {kind!r} is registered")
    now = timezone.now()
    object_type = object_type_of(about)
    if connection.vendor != "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert_sql, insert_params)
            row = cursor.fetchone()
            if row is None:
                return None
            new_id = int(row[0])
            outbox_put(
                kind=kind,
                key=key.replace("{id}", str(new_id)),
                about=about(pk=new_id),
                recipient=recipient,
                params=params,
            )
            return new_id
    params_value = OutboxMessage._meta.get_field("params").get_db_prep_save(  # type: ignore[union-attr]
        params or {}, connection
    )
    prefix, _, suffix = key.partition("{id}")
    with prepared_cursor() as cursor:
        cursor.execute(
            f"WITH inserted AS ({insert_sql}) "  # noqa: S608  (table and column names from the models)
            f"INSERT INTO {OutboxMessage._meta.db_table} (kind, idempotency_key, object_type, "
            "object_id, params, recipient, status, not_before, failure_count, last_error, "
            "created_at) "
            "SELECT %s, %s || inserted.id || %s, %s, inserted.id, %s, %s, %s, %s, 0, '', %s "
            "FROM inserted RETURNING object_id",
            [
                *insert_params,
                kind,
                prefix,
                suffix,
                object_type,
                params_value,
                recipient[:254],
                OutboxMessage.Status.PENDING,
                now,
                now,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    transaction.on_commit(outbox_wake)
    return int(row[0])


def outbox_void(*, about: models.Model, kinds: tuple[str, ...] = (), prefix: str = "") -> int:
    """Void the pending emails about ``about``: of ``kinds``, or whose kind has ``prefix``."""
    rows = OutboxMessage.objects.pending().about(about)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    if prefix:
        rows = rows.filter(kind__startswith=prefix)
    # A claim-style update: the filter names the state it moves from.
    return rows.update(status=OutboxMessage.Status.VOIDED, finished_at=timezone.now())


_doorbell = Doorbell(lambda: settings.OUTBOX_WAKE_COALESCE_SECONDS)


def outbox_wake() -> None:
    """Queue one send_due job unless one is already waiting (best effort).

    A process that rang less than ``OUTBOX_WAKE_COALESCE_SECONDS`` ago does
    not ring again: the job that ring led to (started after it) drains once
    more when that long has passed since its start (:func:`outbox_send_rung`),
    so it also sends what was committed meanwhile. A burst of sign-ups costs
    one cache call per process and window, not one per email.
    """
    if not _doorbell.may_ring():
        return
    try:
        first = cache.add(WAKE_KEY, 1, WAKE_KEY_TTL)
    except Exception:  # a cache that cannot be reached: ring anyway
        first = True
    if first:
        enqueue(SEND_DUE_TASK)


def outbox_send_rung(*, after: tuple[str, int] | None = None) -> SendReport:
    """What a send_due job does: send what is due, then drain once more at the end
    of the doorbell's coalescing window (see :func:`outbox_wake`)."""
    started = time.monotonic()
    # Cleared before the claim, so a row committed from now on rings again.
    outbox_wake_clear()
    report = outbox_send_due(after=after)
    coalesce = settings.OUTBOX_WAKE_COALESCE_SECONDS
    if report.stopped or report.handled >= settings.OUTBOX_BATCH_SIZE or not coalesce:
        return report
    pause = started + coalesce - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    more = outbox_send_due()
    return SendReport(
        sent=report.sent + more.sent,
        voided=report.voided + more.voided,
        failed=report.failed + more.failed,
        stopped=more.stopped,
    )


def outbox_wake_clear() -> None:
    try:
        cache.delete(WAKE_KEY)
    except Exception:
        logger.debug("outbox doorbell could not be cleared")


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Beat's minute: set senders to work on whatever is due; return how many.

    Up to ``OUTBOX_SEND_PARALLEL`` send_due jobs, one per batch that is due,
    so a backlog (a morning of reminders, a burst of sign-ups after an
    outage) is shared by the worker's processes. Extra senders are harmless:
    each claims rows the others have not locked.
    """
    batch = settings.OUTBOX_BATCH_SIZE
    wanted = settings.OUTBOX_SEND_PARALLEL
    due = OutboxMessage.objects.due(now or timezone.now()).values("pk")[: wanted * batch].count()
    jobs = min(wanted, -(-due // batch))
    for _ in range(jobs):
        enqueue(SEND_DUE_TASK)
    return jobs


@transaction.atomic(durable=True)
def outbox_retry(*, message: OutboxMessage) -> OutboxMessage:
    """Send a failed email again (from the admin). Side effects: the doorbell, after commit."""
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    message.move_to(OutboxMessage.Status.PENDING)
    message.not_before = timezone.now()
    message.finished_at = None
    message.failure_count = 0
    message.last_error = ""
    message.save(
        update_fields=["status", "not_before", "finished_at", "failure_count", "last_error"]
    )
    transaction.on_commit(outbox_wake)
    return message


def outbox_purge(*, now: datetime | None = None) -> int:
    """Delete sent and voided rows older than ``OUTBOX_KEEP_DAYS``; failed ones stay."""
    before = (now or timezone.now()) - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    deleted, _ = OutboxMessage.objects.filter(
        status__in=[OutboxMessage.Status.SENT, OutboxMessage.Status.VOIDED],
        finished_at__lt=before,
    ).delete()
    return deleted


# --- Sending -------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    voided: int = 0
    failed: int = 0
    stopped: bool = False

    @property
    def handled(self) -> int:
        return self.sent + self.voided + self.failed


_CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)


def _claim_statement() -> str:
    """Claim the next due row and stamp it sent, in one statement.

    The shared row claim (``claim.py``) picks and locks the row; the UPDATE
    around it stamps it ``sent`` at once, so a message costs one statement
    fewer than a claim followed by a stamp. The stamp is only a promise until
    the transaction commits, which happens after the mail server accepted the
    message (or never: a rollback leaves the row pending as it was). A row
    the kind voids is stamped again before the commit.
    """
    table = f'"{OutboxMessage._meta.db_table}"'
    columns = ", ".join(
        f'"{field.column}"' for field in OutboxMessage._meta.concrete_fields if field.column
    )
    claim = claim_sql(
        columns='"id"',
        source=table,
        # After the last row this sender handled: rows behind it are done or
        # held by another sender, and starting there spares walking over
        # every row already sent (dead index entries until autovacuum). A row
        # given back for a retry is due later, so a later batch finds it.
        where="status = %s AND not_before <= %s AND (not_before, id) > (%s, %s)",
        order_by="not_before, id",
        lock=table,
    )
    return (
        f"UPDATE {table} SET status = %s, finished_at = %s "  # noqa: S608  (names from the model, values as parameters)
        f"WHERE id = ({claim}) RETURNING {columns}"
    )


def outbox_send_due(
    *,
    now: datetime | None = None,
    limit: int | None = None,
    after: tuple[str, int] | None = None,
) -> SendReport:
    """Send every due email, up to ``limit`` (``OUTBOX_BATCH_SIZE``); see the module docstring.

    When the batch ends with rows still due, a job is queued to carry on from
    where this one stopped (``after``: the last row's due time and id), so a
    long backlog is walked once; a job never holds a worker process for long.
    The doorbell and the sweep start from the beginning.
    """
    limit = limit or settings.OUTBOX_BATCH_SIZE
    report = SendReport()
    claim = _Claim()
    position = (
        _Position(not_before=datetime.fromisoformat(after[0]), id=int(after[1]))
        if after
        else _Position()
    )
    with _Mailer() as mailer:
        while report.handled < limit:
            outcome = _send_one(claim=claim, mailer=mailer, now=now, position=position)
            if outcome is None:
                return report
            setattr(report, outcome, getattr(report, outcome) + 1)
            if mailer.broken:
                # The server went away; the others wait for the next sweep
                # rather than each being charged for the same outage.
                report.stopped = True
                return report
    enqueue(SEND_DUE_TASK, after=[position.not_before.isoformat(), position.id])
    return report


class _Mailer:
    """One mail connection for a batch, opened at the first message that needs it."""

    def __init__(self) -> None:
        self.backend = get_connection()
        self.broken = False

    def __enter__(self) -> _Mailer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.backend.close()
        except (smtplib.SMTPException, OSError):
            pass

    def send(self, email: EmailMultiAlternatives) -> None:
        # The SMTP backend opens and closes a connection per call unless it
        # is already open; a batch keeps one open.
        if getattr(self.backend, "connection", False) is None:
            self.backend.open()
        email.connection = self.backend
        email.send()

    def lost(self) -> None:
        self.broken = True
        try:
            self.backend.close()
        except (smtplib.SMTPException, OSError):
            pass


class _Claim:
    """The claim statement of a batch, and the row it returns as an ``OutboxMessage``.

    The row is turned into a model instance with the fields' own converters
    (JSON, and datetimes on SQLite) and ``Model.from_db``: a ``raw()``
    queryset does the same with 0.2 ms more work per email.
    """

    def __init__(self) -> None:
        self.sql = _claim_statement()
        fields = [field for field in OutboxMessage._meta.concrete_fields if field.column]
        self.attnames = [field.attname for field in fields]
        self.converters = []
        for field in fields:
            column = field.get_col(OutboxMessage._meta.db_table)
            self.converters.append(
                (
                    column,
                    [
                        *connection.ops.get_db_converters(column),
                        *column.get_db_converters(connection),
                    ],
                )
            )

    def next(self, *, moment: datetime, position: _Position) -> OutboxMessage | None:
        """Claim and stamp the next due row after ``position``; ``None`` when there is none."""
        with connection.cursor() as cursor:
            cursor.execute(
                self.sql,
                [
                    OutboxMessage.Status.SENT,
                    _db_datetime(timezone.now()),
                    OutboxMessage.Status.PENDING,
                    _db_datetime(moment),
                    _db_datetime(position.not_before),
                    position.id,
                ],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        values = []
        for value, (column, converters) in zip(row, self.converters, strict=True):
            for convert in converters:
                value = convert(value, column, connection)
            values.append(value)
        return OutboxMessage.from_db(connection.alias, self.attnames, values)


@dataclass
class _Position:
    """Where a sender's batch has got to: the last claimed row's (not_before, id)."""

    not_before: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    id: int = 0


def _send_one(
    *, claim: _Claim, mailer: _Mailer, now: datetime | None, position: _Position
) -> str | None:
    moment = now or timezone.now()
    message: OutboxMessage | None = None
    try:
        with transaction.atomic():
            message = claim.next(moment=moment, position=position)
            if message is None:
                return None
            # What stands until this transaction commits: the row as it was.
            message.status, message.finished_at = OutboxMessage.Status.PENDING, None
            position.not_before, position.id = message.not_before, message.pk
            kind = kind_named(message.kind)
            if kind is None:
                raise LookupError(f"unknown email kind {message.kind}")
            email = kind.build(message)
            if email is None:
                _finish(message, OutboxMessage.Status.VOIDED)
                logger.info("outbox %s %s voided", message.pk, message.kind)
                return "voided"
            mailer.send(email)
            if kind.after_send is not None:
                kind.after_send(message)
            # Stamped by the claim; the commit below makes it true.
            message.move_to(OutboxMessage.Status.SENT)
    except Exception as exc:
        if message is None:
            raise  # the claim itself failed: nothing to record
        # The whole transaction rolled back (whatever the builder wrote, a
        # fresh manage link, is gone) and the row is unlocked again.
        _record_failure(message.pk, exc)
        if isinstance(exc, _CONNECTION_ERRORS):
            mailer.lost()
        return "failed"
    logger.info("outbox %s %s sent", message.pk, message.kind)
    return "sent"


def _db_datetime(moment: datetime) -> Any:
    # Hand-written SQL gets its datetimes in the form the ORM stores (on
    # SQLite, naive UTC text), so comparisons with stored values hold.
    return connection.ops.adapt_datetimefield_value(moment)


def _finish(message: OutboxMessage, status: str) -> None:
    message.move_to(status)
    # Hand-written, once per email, like the claim; the transitions map was
    # checked just above.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OutboxMessage._meta.db_table} SET status = %s, finished_at = %s "  # noqa: S608  (the model's own table)
            "WHERE id = %s",
            [status, _db_datetime(timezone.now()), message.pk],
        )


def error_summary(exc: BaseException) -> str:
    """The kind of error and the server's code: never the message or an address."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(answer[0]) for answer in exc.recipients.values()})
        code = ",".join(codes)
    return f"{type(exc).__name__} {code}".strip() if code else type(exc).__name__


@transaction.atomic
def _record_failure(message_id: int, exc: BaseException) -> None:
    message = (
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
        .first()
    )
    if message is None:
        return  # another sender has taken it up again meanwhile
    message.failure_count += 1
    message.last_error = error_summary(exc)[:200]
    permanent = isinstance(exc, (smtplib.SMTPRecipientsRefused, LookupError))
    if permanent or message.failure_count >= settings.OUTBOX_MAX_FAILURES:
        message.move_to(OutboxMessage.Status.FAILED)
        message.finished_at = timezone.now()
        logger.error("outbox %s %s failed: %s", message.pk, message.kind, message.last_error)
    else:
        delay = min(
            settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** (message.failure_count - 1),
            settings.OUTBOX_RETRY_MAX_SECONDS,
        )
        message.not_before = timezone.now() + timedelta(seconds=delay)
        logger.warning(
            "outbox %s %s not sent (%s); retry in %ss",
            message.pk,
            message.kind,
            message.last_error,
            delay,
            exc_info=not isinstance(exc, (smtplib.SMTPException, OSError)),
        )
    message.save(
        update_fields=["status", "failure_count", "last_error", "not_before", "finished_at"]
    )
