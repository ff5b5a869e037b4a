"""The app as production runs it: two gunicorn processes, two Celery workers and
one beat on one PostgreSQL and Redis, sending to one SMTP sink.

Every process gets the same configuration (``production_environment``), as a
deployment gives them. ``LOAD_SCALE`` (an integer, default 1) multiplies the
campaign and the reminder burst for a long run.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tests.support.booking import booking_answers
from tests.support.server import AppServer, Visitor, hidden
from tests.support.smtp import SMTPSink
from tests.support.worker import CeleryBeat, CeleryWorker

LOAD_SCALE = max(1, int(os.environ.get("LOAD_SCALE", "1")))
RACERS = 50
READERS = 2000 * LOAD_SCALE
REMINDERS = 200 * LOAD_SCALE

# The burst's appointments are booked back to back, half an hour apart. The
# practice's first reminder goes out further ahead than the last of them
# (REMINDER_DAY_BEFORE_MINUTES), so every one of them is due at once without
# moving any process's clock.
APPOINTMENT_SPACING = timedelta(minutes=30)
FIRST_REMINDER_LEAD = APPOINTMENT_SPACING * REMINDERS + timedelta(days=1)

_RECEIVED = re.compile(r"Task \S+\[([0-9a-f-]+)\] received")
_FINISHED = re.compile(r"Task \S+\[([0-9a-f-]+)\] (?:succeeded|raised|failed|retry)")


def production_environment(*, sink: SMTPSink, site_url: str, cache_prefix: str) -> dict[str, str]:
    return {
        "EMAIL_URL": sink.url,
        "SITE_URL": site_url,
        # One cache namespace for the test and every process: the calendar's
        # generation and the outbox's doorbell are shared, as in production.
        "CACHE_KEY_PREFIX": cache_prefix,
        # Every racer comes from 127.0.0.1; the per-address limit would stop
        # them before the slot is contested.
        "CONSULTATION_BOOKING_RATE_LIMIT": "0",
        # A campaign as fast as the mail server takes it, four senders at once.
        "NEWSLETTER_SEND_RATE": "0",
        "NEWSLETTER_SEND_PARALLEL": "4",
        "NEWSLETTER_SEND_BATCH_SIZE": "100",
        # Four senders a sweep, in small batches: a worker holds at most two
        # jobs (prefetch 1, two processes), so a burst is shared by both.
        "OUTBOX_SEND_PARALLEL": "4",
        "OUTBOX_BATCH_SIZE": "25",
        "REMINDER_DAY_BEFORE_MINUTES": str(first_reminder_minutes()),
    }


def first_reminder_minutes() -> int:
    return int(FIRST_REMINDER_LEAD.total_seconds() // 60)


def jobs_in_hand(worker: CeleryWorker) -> set[str]:
    """The jobs a worker has received and not finished (read from its log)."""
    log = worker.log()
    return set(_RECEIVED.findall(log)) - set(_FINISHED.findall(log))


def outbox_sent_ids(worker: CeleryWorker, kind: str) -> list[int]:
    """The outbox rows of ``kind`` this worker logged as sent, in order."""
    return [int(pk) for pk in re.findall(rf"outbox (\d+) {re.escape(kind)} sent", worker.log())]


def finished_jobs(worker: CeleryWorker, task: str) -> int:
    return len(re.findall(rf"{re.escape(task)}\[[0-9a-f-]+\] succeeded", worker.log()))


@dataclass
class Production:
    servers: list[AppServer]
    workers: list[CeleryWorker]
    beat: CeleryBeat
    smtp: SMTPSink
    cache_prefix: str

    @classmethod
    def start(cls, *, log_dir: Path) -> Production:
        sink = SMTPSink()
        sink.start()
        cache_prefix = f"production-{uuid.uuid4().hex[:12]}"
        # Three sync workers each, as docs/deploy.md runs them: six bookings
        # in flight at once across the two processes.
        servers = [AppServer(env={}, log_dir=log_dir, workers=3) for _ in range(2)]
        env = production_environment(sink=sink, site_url=servers[0].url, cache_prefix=cache_prefix)
        for server in servers:
            server.extra_env.update(env)
        production = cls(
            servers=servers,
            workers=[CeleryWorker(env=env, log_dir=log_dir) for _ in range(2)],
            beat=CeleryBeat(env=env, log_dir=log_dir),
            smtp=sink,
            cache_prefix=cache_prefix,
        )
        try:
            # Everything imports the app at once; the waits come after.
            for worker in production.workers:
                worker.start(wait=False)
            production.beat.start()
            with ThreadPoolExecutor(len(servers)) as pool:
                list(pool.map(AppServer.start, servers))
            for worker in production.workers:
                worker.wait_until_ready()
        except BaseException:
            production.stop()
            raise
        return production

    def stop(self) -> None:
        # All at once: each waits for its own graceful shutdown.
        parts: list[AppServer | CeleryWorker | CeleryBeat] = [*self.servers, *self.workers]
        parts.append(self.beat)
        with ThreadPoolExecutor(len(parts)) as pool:
            list(pool.map(lambda part: part.stop(), parts))
        self.smtp.stop()

    @property
    def url(self) -> str:
        return self.servers[0].url

    def logs(self) -> str:
        """Every process's log (the end of it), for a failure's message."""
        parts = [
            *((f"gunicorn {s.port}", s.log()) for s in self.servers),
            *((f"worker {w.name}", w.log()) for w in self.workers),
            ("beat", self.beat.log()),
        ]
        return "\n".join(f"--- {name} ---\n{log[-3000:]}" for name, log in parts)

    def settle(self, condition: Callable[[], object], *, what: str, timeout: float = 120.0) -> None:
        """Wait until ``condition()`` holds and neither worker has a job in hand.

        A row is stamped only after the mail server accepted its message, so
        once the rows are done and no job is running, every message that will
        ever arrive has arrived: the sink's count is final.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition() and not any(jobs_in_hand(worker) for worker in self.workers):
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")


def booking_form(page: str, *, start: str, n: int) -> dict[str, str]:
    """The booking form of ``page`` (its own CSRF token and submission id) for ``start``."""
    return booking_answers(
        start=start,
        csrf=hidden(page, "csrfmiddlewaretoken"),
        submission_id=hidden(page, "submission_id"),
        last_name=f"Racer {n}",
        email=f"racer{n}@example.com",
    )


@dataclass
class Racer:
    visitor: Visitor
    form: dict[str, str]


def race(racers: list[Racer], path: str) -> list[tuple[int, str]]:
    """POST every racer's form to ``path`` at once; return each answer (status, page).

    The threads wait at a barrier, so the requests leave together; an error
    on the way (a reset connection) is an answer too, with status 0.
    """
    barrier = threading.Barrier(len(racers))
    answers: list[tuple[int, str]] = [(0, "no answer")] * len(racers)

    def run(index: int) -> None:
        racer = racers[index]
        barrier.wait()
        try:
            answers[index] = racer.visitor.post(path, racer.form)
        except Exception as exc:  # the answer is what the test reports
            answers[index] = (0, repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
