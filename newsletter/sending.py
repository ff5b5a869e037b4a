"""Sending a campaign: the claim, and exactly what it guarantees.

A campaign starts by snapshotting its confirmed readers into one pending
``Delivery`` row each (unique per campaign and reader in the database). Then
senders (Celery tasks, on one worker or many) each work through rows, one
message per short transaction:

1. lock the next pending row of the campaign with ``SELECT ... FOR UPDATE
   SKIP LOCKED`` (the row claim shared with the outbox,
   ``practice/outbox/claim.py``): any other sender skips it;
2. re-read the reader; if she left since the snapshot the row becomes
   ``skipped``;
3. start the SMTP transaction (MAIL FROM, RCPT TO, DATA); a recipient the
   server refuses for good makes the row ``failed``;
4. mark the row ``sent``, still uncommitted;
5. write the whole message and its final "." to the SMTP socket;
6. COMMIT;
7. read the server's answer to the message; if it refused it, mark the row
   ``failed``.

The guarantee. A sender that dies before step 5 leaves the server with a
half-written DATA, which it discards (RFC 5321 says a message is the
server's only once it has the final "."), and PostgreSQL rolls the row back
to pending, so it goes out later, once. A sender that dies after step 6 leaves
a row marked sent and a server holding the whole message. So a crash, a
restart, a redelivered task or a second worker never mails a reader twice and
never leaves one out, with two exceptions:

- if the sender dies in the few microseconds between handing the final "."
  and handing COMMIT to the kernel (between steps 5 and 6), or the database
  itself fails that COMMIT, that one reader may get the message twice;
- if the server refuses a complete message and the sender dies before step 7
  records it, that one reader is counted as sent but was not.

Every other way of dying falls outside those windows. Transient SMTP trouble
(a 4xx answer, a dropped connection) rolls the current row back and ends the
batch; the task retries, and beat takes up a campaign that stops moving.

Back ends other than SMTP (console, file, locmem in tests) are sent through
their ``send_messages`` before the commit: good enough for development.
"""

from __future__ import annotations

import re
import smtplib
import time
from types import TracebackType

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import connection, transaction
from django.utils import timezone

from practice.outbox.claim import claim_sql

from .emails import CampaignContent, campaign_email
from .models import Campaign, Delivery, Subscriber


class TransientSendError(Exception):
    """The mail server asked us to come back later, or went away."""


class _Pacer:
    """Spaces messages out to a steady rate (messages a second; 0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        self.next_at += self.interval
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:
            # After a slow patch, do not burst to catch up.
            self.next_at = time.monotonic()


def _quote_periods(data: bytes) -> bytes:
    return re.sub(rb"(?m)^\.", b"..", data)


class CampaignSender:
    """One sender: an open SMTP connection working through a campaign's rows."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.content = CampaignContent(campaign)
        self.backend = get_connection()
        self.smtp: smtplib.SMTP | None = None
        self.last_pk = 0
        self.claim_sql = self._claim_sql()
        self.mark_sql = (
            f"UPDATE {Delivery._meta.db_table} SET status = %s, sent_at = %s, error = %s "  # noqa: S608  (the model's own table)
            "WHERE id = %s"
        )
        senders = max(1, settings.NEWSLETTER_SEND_PARALLEL)
        self.pacer = _Pacer(settings.NEWSLETTER_SEND_RATE / senders)

    def __enter__(self) -> CampaignSender:
        self.backend.open()
        if isinstance(self.backend, SMTPBackend) and self.backend.connection is not None:
            self.smtp = self.backend.connection
            self.backend.connection.ehlo_or_helo_if_needed()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.backend.close()
        except (smtplib.SMTPException, OSError):
            pass

    def run(self, *, limit: int) -> int:
        """Send up to ``limit`` messages; return how many rows were handled."""
        handled = 0
        while handled < limit and self.send_next():
            handled += 1
            self.pacer.wait()
        return handled

    def _claim_sql(self) -> str:
        # The row claim every sender shares (practice/outbox/claim.py), over
        # the campaign's deliveries joined to their readers.
        delivery, subscriber = Delivery._meta.db_table, Subscriber._meta.db_table
        return claim_sql(
            columns="d.id, s.id, s.email, s.first_name, s.status",
            source=f"{delivery} d JOIN {subscriber} s ON s.id = d.subscriber_id",
            where="d.campaign_id = %s AND d.status = %s AND d.id > %s",
            order_by="d.id",
            lock="d",
        )

    def _claim(self) -> tuple[int, Subscriber] | None:
        """Lock the next pending row (step 1); None when there is none left.

        Starts after the last row this sender handled: rows behind it are done
        or held by another sender, and skipping them saves walking over every
        row already sent (dead index entries until autovacuum). A row another
        sender gave back is found by the next batch, which starts from the
        beginning again.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                self.claim_sql, [self.campaign.pk, Delivery.Status.PENDING, self.last_pk]
            )
            row = cursor.fetchone()
        if row is None:
            return None
        delivery_id, subscriber_id, email, first_name, status = row
        self.last_pk = delivery_id
        return delivery_id, Subscriber(
            pk=subscriber_id, email=email, first_name=first_name, status=status
        )

    def _mark(self, delivery_id: int, status: str, *, sent: bool = False, error: str = "") -> None:
        # Hand-written for the same reason as the claim: once per message.
        with connection.cursor() as cursor:
            cursor.execute(
                self.mark_sql,
                [status, timezone.now() if sent else None, error[:300], delivery_id],
            )

    def send_next(self) -> bool:
        """Handle the next pending row (the numbered steps above). False: none left."""
        with transaction.atomic():
            claimed = self._claim()
            if claimed is None:
                return False
            delivery_id, subscriber = claimed
            if subscriber.status != Subscriber.Status.CONFIRMED:
                self._mark(delivery_id, Delivery.Status.SKIPPED)
                return True
            message = campaign_email(content=self.content, subscriber=subscriber)
            if self.smtp is None:
                self._mark(delivery_id, Delivery.Status.SENT, sent=True)
                self.backend.send_messages([message])
                return True
            try:
                payload = self._smtp_begin(self.smtp, message)
            except smtplib.SMTPRecipientsRefused as exc:
                self._mark(delivery_id, Delivery.Status.FAILED, error=str(exc.recipients))
                return True
            self._mark(delivery_id, Delivery.Status.SENT, sent=True)
            self.smtp.send(payload)
        code, reply = self.smtp.getreply()
        if code != 250:
            self._mark(
                delivery_id,
                Delivery.Status.FAILED,
                error=f"{code} {reply.decode(errors='replace')}",
            )
        return True

    def _smtp_begin(self, smtp: smtplib.SMTP, message: EmailMultiAlternatives) -> bytes:
        """MAIL FROM, RCPT TO and DATA; return the bytes that complete the message."""
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(message.from_email, encoding)
        (recipient,) = [sanitize_address(address, encoding) for address in message.recipients()]
        data = message.message().as_bytes(linesep="\r\n")
        code, reply = smtp.mail(sender)
        if code != 250:
            self._abandon(smtp)
            raise TransientSendError(f"MAIL FROM refused: {code}")
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            self._abandon(smtp)
            if 500 <= code < 600:
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
            raise TransientSendError(f"RCPT TO deferred: {code}")
        code, reply = smtp.docmd("DATA")
        if code != 354:
            self._abandon(smtp)
            raise TransientSendError(f"DATA refused: {code}")
        payload = _quote_periods(data)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        return payload + b".\r\n"

    @staticmethod
    def _abandon(smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientSendError("the mail server went away") from exc
