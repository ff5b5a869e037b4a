"""The mail server down for a while: the outbox retries with its backoff, and past
its limit the email is marked failed and shown to the therapist on Today.

The backoff is shortened through the settings' environment variables
(``OUTBOX_RETRY_BASE_SECONDS``, ``OUTBOX_MAX_FAILURES``); sweeps are sent as
beat sends them, one at a time, so each failed try is counted, not timed.
``tests/practice/test_outbox_worker.py`` already shows a booking made while
Redis and the mail server were both down confirmed once later; this adds the
limit, the failed state and the Today page.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from practice.models import OutboxMessage
from practice.outbox.services import outbox_put
from tests.consultations.factories import ConsultationFactory
from tests.support.outbox import sweep_and_settle
from tests.support.smtp import SMTPSink
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow]

MAX_FAILURES = 3


def confirmation_for(address: str, *, days_ahead: int) -> OutboxMessage:
    """Her booking's confirmation, asked for as the booking asks (its doorbell rung)."""
    start = timezone.now() + timedelta(days=days_ahead)
    consultation = ConsultationFactory(email=address, appointment__start=start)
    with transaction.atomic():
        outbox_put(
            kind="consultation.booked",
            key=f"consultation:{consultation.pk}:booked:0",
            about=consultation,
            recipient=address,
            params={"sequence": 0},
        )
    return OutboxMessage.objects.get(recipient=address)


def status_of(row: OutboxMessage) -> tuple[str, int]:
    row.refresh_from_db()
    return row.status, row.failure_count


def test_emails_wait_out_a_mail_server_outage_and_past_the_limit_show_as_failed_on_today(
    celery_worker, admin_client_mfa
):
    sink = SMTPSink()  # its port is chosen; nothing listens there yet
    worker = celery_worker(
        env={
            "EMAIL_URL": sink.url,
            "OUTBOX_RETRY_BASE_SECONDS": "1",
            "OUTBOX_MAX_FAILURES": str(MAX_FAILURES),
        }
    )
    lost = [
        confirmation_for("ada@example.com", days_ahead=2),
        confirmation_for("bea@example.com", days_ahead=3),
    ]

    wait_until(
        lambda: (
            sweep_and_settle(worker)
            or all(status_of(row)[0] == OutboxMessage.Status.FAILED for row in lost)
        ),
        what="both emails to reach the limit of tries",
    )

    assert [status_of(row) for row in lost] == [("failed", MAX_FAILURES)] * 2
    today = admin_client_mfa.get("/admin/")
    html = today.content.decode()
    assert today.status_code == 200
    assert "2 emails could not be sent." in html
    for address in ("ada@example.com", "bea@example.com"):
        assert f"consultation.booked to {address}" in html
    assert html.count("· ConnectionRefusedError") == 2
    assert 'href="/admin/practice/outboxmessage/?status__exact=failed"' in html

    # Another email, tried once while the server is still down, then it is back.
    kept = confirmation_for("cleo@example.com", days_ahead=4)
    wait_until(
        lambda: sweep_and_settle(worker) or status_of(kept)[1] >= 1,
        what="the first try of the third email",
    )
    sink.start()
    try:
        wait_until(
            lambda: sweep_and_settle(worker) or status_of(kept)[0] == OutboxMessage.Status.SENT,
            what="the retry after the server came back",
        )
        sweep_and_settle(worker)
        assert Counter(sink.recipients) == {"cleo@example.com": 1}
        assert [status_of(row)[0] for row in lost] == ["failed", "failed"]
    finally:
        sink.stop()
