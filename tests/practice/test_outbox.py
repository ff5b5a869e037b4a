"""The outbox in one process: rows with their change, retries, voids, the doorbell."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from consultations.models import ManageLink
from practice.models import OutboxMessage
from practice.outbox import services
from practice.outbox.services import (
    WAKE_KEY,
    outbox_purge,
    outbox_put,
    outbox_retry,
    outbox_send_due,
)
from tests.consultations.factories import ConsultationFactory
from tests.support.redis import free_port
from tests.support.smtp import SMTPSink

pytestmark = pytest.mark.django_db


class _Refusing:
    """A mail server that answers DATA (or RCPT) with ``code``."""

    def __init__(self, sink: SMTPSink, *, at: str, reply: str) -> None:
        self.at = at
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.at == "rcpt":
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        return self.reply


@pytest.fixture
def refusing_sink(smtp_sink_with):  # type: ignore[no-untyped-def]
    return lambda *, at, reply: smtp_sink_with(lambda sink: _Refusing(sink, at=at, reply=reply))


_hours = itertools.count()


def confirmation(consultation=None, *, key: str | None = None) -> None:  # type: ignore[no-untyped-def]
    consultation = consultation or ConsultationFactory(
        appointment__start=timezone.now() + timedelta(days=3, hours=next(_hours))
    )
    with transaction.atomic():
        outbox_put(
            kind="consultation.booked",
            key=key or f"consultation:{consultation.pk}:booked:0",
            about=consultation,
            recipient=consultation.email,
            params={"sequence": 0},
        )
    return consultation


def test_the_same_key_asked_twice_is_one_row(practice_profile):
    consultation = confirmation()
    confirmation(consultation)

    assert OutboxMessage.objects.count() == 1


def test_a_rolled_back_change_asks_for_nothing(practice_profile):
    consultation = ConsultationFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_put(kind="consultation.booked", key="k", about=consultation)
        raise RuntimeError("the booking failed")

    assert OutboxMessage.objects.count() == 0


def test_an_unknown_kind_is_refused_when_asked_for():
    with pytest.raises(ValueError, match="no email kind"):
        outbox_put(kind="consultation.nonsense", key="k")


def test_a_burst_of_emails_rings_the_doorbell_once(
    practice_profile, django_capture_on_commit_callbacks, monkeypatch
):
    rung: list[str] = []
    monkeypatch.setattr(services, "enqueue", lambda name, **kwargs: rung.append(name) or True)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            confirmation()

    assert rung == ["practice.outbox.send_due"]
    # The job clears the bell as it starts; the next email rings again.
    services.outbox_wake_clear()
    with django_capture_on_commit_callbacks(execute=True):
        confirmation()
    assert rung == ["practice.outbox.send_due", "practice.outbox.send_due"]


def test_a_reminder_due_later_does_not_ring(
    practice_profile, django_capture_on_commit_callbacks, cache_for_test
):
    consultation = ConsultationFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        outbox_put(
            kind="consultation.booked",
            key="later",
            about=consultation,
            not_before=timezone.now() + timedelta(hours=3),
        )

    assert callbacks == []
    assert cache_for_test.get(WAKE_KEY) is None


@pytest.fixture
def cache_for_test():  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    return cache


def test_an_email_to_someone_deleted_is_voided_not_sent(practice_profile, mailoutbox):
    consultation = confirmation()
    consultation.manage_links.all().delete()
    consultation.delete()
    consultation.appointment.delete()

    report = outbox_send_due()

    assert (report.sent, report.voided) == (0, 1)
    assert mailoutbox == []


def test_a_refused_message_is_retried_later_with_the_error_kept_and_no_content(
    practice_profile, refusing_sink, settings
):
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    refusing_sink(at="data", reply="451 4.3.0 try again later")
    consultation = confirmation()
    now = timezone.now()

    with time_machine.travel(now, tick=False):
        report = outbox_send_due()

    assert report.failed == 1
    row = OutboxMessage.objects.get()
    assert (row.status, row.failure_count) == (OutboxMessage.Status.PENDING, 1)
    assert row.not_before == now + timedelta(seconds=60)
    assert row.last_error == "SMTPDataError 451"
    assert consultation.email not in row.last_error
    # The manage link minted for the failed email was rolled back with it.
    assert ManageLink.objects.filter(consultation=consultation).count() == 0
    # Not due again before its time.
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        assert outbox_send_due().handled == 0
    with time_machine.travel(now + timedelta(seconds=61), tick=False):
        assert outbox_send_due().failed == 1
    row.refresh_from_db()
    assert row.not_before == now + timedelta(seconds=61 + 120)


def test_a_message_is_marked_failed_after_the_limit(practice_profile, refusing_sink, settings):
    settings.OUTBOX_MAX_FAILURES = 3
    settings.OUTBOX_RETRY_BASE_SECONDS = 1
    refusing_sink(at="data", reply="451 4.3.0 try again later")
    confirmation()
    moment = timezone.now()

    for _ in range(3):
        moment += timedelta(hours=1)
        with time_machine.travel(moment, tick=False):
            outbox_send_due()

    row = OutboxMessage.objects.get()
    assert (row.status, row.failure_count) == (OutboxMessage.Status.FAILED, 3)
    assert row.finished_at is not None


def test_a_refused_recipient_fails_at_once(practice_profile, refusing_sink):
    refusing_sink(at="rcpt", reply="550 5.1.1 no such mailbox")
    confirmation()

    outbox_send_due()

    row = OutboxMessage.objects.get()
    assert (row.status, row.failure_count, row.last_error) == (
        OutboxMessage.Status.FAILED,
        1,
        "SMTPRecipientsRefused 550",
    )


def test_an_unreachable_mail_server_stops_the_batch_at_the_first_email(practice_profile, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    for _ in range(3):
        confirmation()

    report = outbox_send_due()

    assert (report.failed, report.stopped) == (1, True)
    assert sorted(OutboxMessage.objects.values_list("failure_count", flat=True)) == [0, 0, 1]


def test_the_therapist_can_send_a_failed_email_again(
    practice_profile, refusing_sink, admin_client_mfa, settings, mailoutbox
):
    refusing_sink(at="rcpt", reply="550 5.1.1 no such mailbox")
    confirmation()
    outbox_send_due()
    row = OutboxMessage.objects.get()

    page = admin_client_mfa.get(
        reverse("admin:practice_outboxmessage_changelist") + "?status=failed"
    )
    assert "SMTPRecipientsRefused 550" in page.content.decode()
    response = admin_client_mfa.post(
        reverse("admin:practice_outboxmessage_changelist"),
        {"action": "send_again", "_selected_action": [row.pk]},
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.failure_count, row.last_error) == ("pending", 0, "")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_send_due().sent == 1
    assert len(mailoutbox) == 1


def test_only_a_failed_email_can_be_retried(practice_profile):
    confirmation()
    row = OutboxMessage.objects.get()

    with pytest.raises(Exception, match="cannot become"):
        outbox_retry(message=row)


def test_old_sent_and_voided_rows_are_purged_and_failed_ones_kept(practice_profile, settings):
    settings.OUTBOX_KEEP_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    for key, status in (("a", "sent"), ("b", "voided"), ("c", "failed")):
        OutboxMessage.objects.create(
            kind="consultation.booked", idempotency_key=key, status=status, finished_at=old
        )

    assert outbox_purge() == 2
    assert list(OutboxMessage.objects.values_list("status", flat=True)) == ["failed"]


def test_a_full_batch_hands_over_to_a_job_that_carries_on_where_it_stopped(
    practice_profile, mailoutbox, monkeypatch
):
    queued: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(services, "enqueue", lambda name, **kwargs: queued.append((name, kwargs)))
    for _ in range(3):
        confirmation()

    first = outbox_send_due(limit=2)

    assert first.sent == 2
    ((name, kwargs),) = queued
    assert name == "practice.outbox.send_due"
    last_sent = OutboxMessage.objects.filter(status="sent").order_by("-pk").first()
    assert kwargs == {"after": [last_sent.not_before.isoformat(), last_sent.pk]}
    rest = outbox_send_due(after=tuple(kwargs["after"]))  # type: ignore[arg-type]
    assert (rest.sent, len(mailoutbox)) == (1, 3)


def test_a_process_rings_at_most_once_per_coalescing_window(
    practice_profile, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.OUTBOX_WAKE_COALESCE_SECONDS = 0.5
    clock = [1000.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: clock[0])
    services._doorbell.reset()
    rung: list[str] = []
    monkeypatch.setattr(services, "enqueue", lambda name, **kwargs: rung.append(name) or True)

    with django_capture_on_commit_callbacks(execute=True):
        confirmation()
    services.outbox_wake_clear()  # the job started
    clock[0] += 0.2
    with django_capture_on_commit_callbacks(execute=True):
        confirmation()  # inside the window: no cache call, no ring
    clock[0] += 0.4
    with django_capture_on_commit_callbacks(execute=True):
        confirmation()

    assert rung == ["practice.outbox.send_due", "practice.outbox.send_due"]


def test_a_job_drains_again_at_the_end_of_the_window_for_emails_that_did_not_ring(
    practice_profile, settings, monkeypatch, mailoutbox
):
    settings.OUTBOX_WAKE_COALESCE_SECONDS = 0.5
    pauses: list[float] = []

    def meanwhile(seconds: float) -> None:
        # While the job waits, a sign-up in a process that rang a moment ago
        # commits its email without ringing.
        pauses.append(seconds)
        confirmation()

    monkeypatch.setattr(services.time, "sleep", meanwhile)

    report = services.outbox_send_rung()

    assert len(pauses) == 1
    assert 0 < pauses[0] <= 0.5
    assert (report.sent, len(mailoutbox)) == (1, 1)
