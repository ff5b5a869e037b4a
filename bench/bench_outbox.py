"""The outbox's sender against the campaign sender, in the same run.

Both send into one local SMTP server (aiosmtpd's Sink, in its own process)
from one real Celery worker with 2 processes, on the bench's PostgreSQL and
Redis, with the same number of messages:

- the campaign sender: a campaign to N confirmed readers (its own tuned SMTP
  protocol, ``newsletter/sending.py``), unpaced;
- the outbox: N waitlist-opening emails (a light transactional email, built
  from ids at send time like every outbox email), set going by beat's sweep.

Each size runs twice, alternating, and the best run of each side counts.
Reported: messages a second from the first to the last stamp, the ratio
outbox / campaign (aim: 1.0 or more), and each worker process's peak
resident memory (VmHWM), at two sizes, to show it stays flat.
"""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from pathlib import Path

from bench.bench_newsletter import campaign_row
from bench.common import (
    PYTHON,
    ROOT,
    _free_port,
    bench_database,
    bench_env,
    django_setup,
    report,
    start_celery_worker,
    wait_then_stop,
)

SIZES = (2_000, 10_000)
ROUNDS = 2


def drain_outbox(database_url: str, *, smtp_port: int, name: str) -> list[int]:
    """One real worker (2 sender processes) sends everything pending into the sink.

    Beat's one sweep starts it; the senders carry on by themselves. Returns the
    peak memory (KiB) of the worker's main process, then of each sender.
    """
    from practice.models import OutboxMessage

    env = bench_env(
        database_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        OUTBOX_SEND_PARALLEL="2",
        OUTBOX_BATCH_SIZE="200",
    )
    log = Path(env["VAR_DIR"]) / f"bench-{name}-worker.log"
    worker = start_celery_worker(env, log)
    beat_once = "from practice.celery import app; app.send_task('practice.outbox.sweep')"
    try:
        subprocess.run([PYTHON, "-c", beat_once], cwd=ROOT, env=env, check=True)
    except BaseException:
        worker.terminate()
        raise
    return wait_then_stop(
        worker, lambda: not OutboxMessage.objects.pending().exists(), f"the {name} outbox"
    )


def outbox_row(database_url: str, *, messages: int, smtp_port: int) -> dict[str, object]:
    from django.db import connection
    from django.db.models import Max, Min
    from django.utils import timezone

    from consultations.models import WaitlistEntry
    from practice.models import OutboxMessage

    OutboxMessage.objects.all().delete()
    WaitlistEntry.objects.all().delete()
    opened_at = (timezone.now() + timedelta(days=3)).isoformat()
    entries = WaitlistEntry.objects.bulk_create(
        (
            WaitlistEntry(
                name="Ivy Waiting",
                email=f"waiting{n}@example.com",
                time_zone="America/Chicago",
                status=WaitlistEntry.Status.NOTIFIED,
            )
            for n in range(messages)
        ),
        batch_size=2000,
    )
    OutboxMessage.objects.bulk_create(
        (
            OutboxMessage(
                kind="consultation.waitlist_opening",
                idempotency_key=f"bench:waitlist:{entry.pk}",
                object_type="consultations.waitlistentry",
                object_id=entry.pk,
                recipient=entry.email,
                params={"opened_at": opened_at},
            )
            for entry in entries
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE practice_outboxmessage")
        cursor.execute("VACUUM ANALYZE consultations_waitlistentry")
    peaks = drain_outbox(database_url, smtp_port=smtp_port, name=f"outbox-{messages}")
    sent = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT)
    span = sent.aggregate(first=Min("finished_at"), last=Max("finished_at"))
    seconds = max((span["last"] - span["first"]).total_seconds(), 0.001)
    count = sent.count()
    return {
        "messages": messages,
        "sent": count,
        "failed": OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).count(),
        "seconds": round(seconds, 1),
        "messages_per_s": round(count / seconds, 1),
        "worker_main_peak_mib": round(peaks[0] / 1024, 1),
        "sender_peak_mib": round(max(peaks[1:] or [0]) / 1024, 1),
    }


def main() -> None:
    database_url = bench_database("outbox", seed=True)
    django_setup(database_url)
    port = _free_port()
    sink = subprocess.Popen(
        [PYTHON, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"],
        cwd=ROOT,
    )
    rows = []
    try:
        time.sleep(1.0)
        for size in SIZES:
            # Two alternating rounds, best of each (as the sign-up bench
            # does): the machine is shared, and a burst of someone else's
            # work should not land on one side only.
            campaigns, outboxes = [], []
            for _ in range(ROUNDS):
                campaigns.append(campaign_row(database_url, readers=size, smtp_port=port))
                outboxes.append(outbox_row(database_url, messages=size, smtp_port=port))
            campaign = max(campaigns, key=lambda row: float(row["messages_per_s"]))
            outbox = max(outboxes, key=lambda row: float(row["messages_per_s"]))
            rows.append(
                {
                    "messages": size,
                    "campaign_per_s": campaign["messages_per_s"],
                    "outbox_per_s": outbox["messages_per_s"],
                    "ratio": round(
                        float(outbox["messages_per_s"]) / float(campaign["messages_per_s"]), 2
                    ),
                    "outbox_unsent": outbox["failed"],
                    "campaign_sender_mib": campaign["sender_peak_mib"],
                    "outbox_sender_mib": outbox["sender_peak_mib"],
                    "outbox_worker_main_mib": outbox["worker_main_peak_mib"],
                }
            )
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    report(
        "Outbox sender vs campaign sender into one local SMTP sink (1 worker, 2 processes)", rows
    )
