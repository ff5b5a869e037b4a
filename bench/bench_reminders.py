"""Reminder dispatch for 10,000 due reminders against the campaign sender, in one run.

Both send into one local SMTP server (aiosmtpd's Sink, in its own process)
from one real Celery worker with 2 processes, on the bench's PostgreSQL and
Redis, with the same number of messages (``BENCH_REMINDERS``, default 10,000;
``BENCH_REMINDERS=2000`` for a quick run):

- the campaign sender (``bench_newsletter.campaign_row``): a campaign to N
  confirmed readers, unpaced: the baseline, as in ``bench_outbox``;
- reminders: N consultations booked in the coming months (one every half
  hour), each with its hour-before reminder due now, as the calendar plans it
  (``practice/calendar/reminders.py``: kind ``reminder.consultation``, key
  ``reminder:<appointment>:hour_before``). Beat's sweep sets the outbox going;
  at send time each reminder checks that its appointment still stands and that
  no closer reminder is due, then the consultation's builder writes it.

Reported: messages a second from the first to the last stamp, the ratio
reminders / campaign, and each worker process's peak resident memory (VmHWM:
the worker's main process and its busiest sender process).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from datetime import timedelta
from typing import cast

from bench.bench_newsletter import campaign_row
from bench.bench_outbox import drain_outbox
from bench.common import (
    PYTHON,
    ROOT,
    _free_port,
    bench_database,
    django_setup,
    report,
)

REMINDERS = int(os.environ.get("BENCH_REMINDERS", "10000"))


def _plan(count: int) -> None:
    """``count`` future consultations, each with its hour-before reminder due now."""
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from consultations.models import Consultation
    from practice.calendar.reminders import ReminderKind, reminder_outbox_kind
    from practice.models import Appointment, AppointmentKind, MeetingMode, OutboxMessage
    from practice.outbox.models import object_type_of

    kind = reminder_outbox_kind(AppointmentKind.CONSULTATION)
    assert kind is not None, "no consultation reminder is registered"
    OutboxMessage.objects.all().delete()
    now = timezone.now()
    # After every appointment already on the calendar (the demo's): no two overlap.
    latest = Appointment.objects.aggregate(end=Max("occupied_end"))["end"]
    first = max(now + timedelta(days=2), latest or now)
    first = first.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    appointments = Appointment.objects.bulk_create(
        (
            Appointment(
                kind=AppointmentKind.CONSULTATION,
                start=first + timedelta(minutes=30 * n),
                end=first + timedelta(minutes=30 * n + 20),
                occupied_start=first + timedelta(minutes=30 * n),
                occupied_end=first + timedelta(minutes=30 * n + 20),
                mode=MeetingMode.PHONE if n % 2 else MeetingMode.VIDEO,
            )
            for n in range(count)
        ),
        batch_size=2000,
    )
    Consultation.objects.bulk_create(
        (
            Consultation(
                appointment=appointment,
                submission_id=uuid.uuid4(),
                first_name="Remy",
                last_name=f"Caller {n}",
                email=f"caller{n}@example.com",
                phone="(510) 555-0100",
                time_zone="America/Chicago",
                reason="A bench booking.",
                perinatal="neither",
                prior_experience="none",
                consent_to_contact=True,
            )
            for n, appointment in enumerate(appointments)
        ),
        batch_size=2000,
    )
    due = now - timedelta(minutes=1)
    OutboxMessage.objects.bulk_create(
        (
            OutboxMessage(
                kind=kind,
                idempotency_key=f"reminder:{appointment.pk}:{ReminderKind.HOUR_BEFORE}",
                object_type=object_type_of(appointment),
                object_id=appointment.pk,
                params={
                    "reminder": ReminderKind.HOUR_BEFORE,
                    "for_start": appointment.start.isoformat(),
                },
                not_before=due,
                created_at=due,
            )
            for appointment in appointments
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        for model in (OutboxMessage, Appointment, Consultation):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def reminders_row(database_url: str, *, count: int, smtp_port: int) -> dict[str, object]:
    from django.db.models import Max, Min

    from practice.models import OutboxMessage

    _plan(count)
    peaks = drain_outbox(database_url, smtp_port=smtp_port, name=f"reminders-{count}")
    reminders = OutboxMessage.objects.filter(kind__startswith="reminder.")
    sent = reminders.filter(status=OutboxMessage.Status.SENT)
    span = sent.aggregate(first=Min("finished_at"), last=Max("finished_at"))
    seconds = max((span["last"] - span["first"]).total_seconds(), 0.001)
    count_sent = sent.count()
    return {
        "sent": count_sent,
        "not_sent": reminders.exclude(status=OutboxMessage.Status.SENT).count(),
        "seconds": round(seconds, 1),
        "messages_per_s": round(count_sent / seconds, 1),
        "worker_main_peak_mib": round(peaks[0] / 1024, 1),
        "sender_peak_mib": round(max(peaks[1:] or [0]) / 1024, 1),
    }


def main() -> None:
    database_url = bench_database("reminders", seed=True)
    django_setup(database_url)
    port = _free_port()
    sink = subprocess.Popen(
        [PYTHON, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"],
        cwd=ROOT,
    )
    try:
        time.sleep(1.0)
        campaign = campaign_row(database_url, readers=REMINDERS, smtp_port=port)
        reminders = reminders_row(database_url, count=REMINDERS, smtp_port=port)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    assert reminders["sent"] == REMINDERS, reminders
    report(
        f"Reminder dispatch ({REMINDERS:,} due) vs the campaign sender into one local SMTP "
        "sink (1 worker, 2 processes)",
        [
            {
                "sender": "campaign (baseline)",
                "messages": campaign["sent"],
                "seconds": campaign["seconds"],
                "messages_per_s": campaign["messages_per_s"],
                "ratio": 1.0,
                "worker_main_mib": campaign["worker_main_peak_mib"],
                "sender_peak_mib": campaign["sender_peak_mib"],
            },
            {
                "sender": "outbox: hour-before reminders",
                "messages": reminders["sent"],
                "seconds": reminders["seconds"],
                "messages_per_s": reminders["messages_per_s"],
                "ratio": round(
                    cast(float, reminders["messages_per_s"])
                    / cast(float, campaign["messages_per_s"]),
                    2,
                ),
                "worker_main_mib": reminders["worker_main_peak_mib"],
                "sender_peak_mib": reminders["sender_peak_mib"],
            },
        ],
    )


if __name__ == "__main__":
    main()
