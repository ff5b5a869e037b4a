"""PostgreSQL restarted under load, on a PostgreSQL of the test's own.

The app runs as production runs it (gunicorn, DEBUG off, persistent database
connections with health checks) on a copy of the test database in a server
started for this test. Visitors keep asking for the booking page, booking and
``/healthz`` while the server has a fast shutdown (every session ended, a
booking held mid-transaction among them) and is started again. Whatever
fails meanwhile fails with the practice's own error page, and the same
gunicorn serves and books again once the database is back.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time as clock
from pathlib import Path

import psycopg
import pytest

from practice import identity
from practice.identity import practice_profile_forget
from tests.factories import WeeklyHoursFactory
from tests.faults.support import PRODUCTION_ENV
from tests.support.booking import booking_answers
from tests.support.server import Visitor, hidden
from tests.support.waiting import wait_until
from tests.support.worker import database_url_for_current_test_db

pytestmark = [pytest.mark.slow]

FRIENDLY = "Something went wrong on our side"
CRISIS_LINE = "If you are in crisis, call or text 988."
PAGES = ("page", "booking")  # the visitors who get HTML; the third asks for /healthz


@dataclass
class Answer:
    loop: str
    phase: str  # where the database was for the whole request: up, down or back
    status: int
    body: str
    started: float  # time.monotonic(), when it was asked
    ended: float


@dataclass
class Load:
    """Visitors asking again and again, each in a thread, noting every answer."""

    phase: str = "up"
    answers: list[Answer] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self, loops: dict[str, Callable[[], tuple[int, str]]]) -> None:
        for name, ask in loops.items():
            thread = threading.Thread(target=self._run, args=(name, ask), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, name: str, ask: Callable[[], tuple[int, str]]) -> None:
        while not self.stopping.is_set():
            before, started = self.phase, time.monotonic()
            try:
                status, body = ask()
            except Exception as exc:  # a reset or dropped connection is the failure we look for
                with self.lock:
                    self.broken.append(f"{name}: {exc!r}")
                continue
            phase = before if self.phase == before else "changing"
            with self.lock:
                self.answers.append(Answer(name, phase, status, body, started, time.monotonic()))
            time.sleep(0.02)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def seen(self, loop: str, phase: str, *, ok: bool | None = None, after: float = 0.0) -> int:
        with self.lock:
            return sum(
                1
                for a in self.answers
                if a.loop == loop
                and a.phase == phase
                and a.started > after
                and (ok is None or (a.status == 200) == ok)
            )


class Booker:
    """A mother booking a free consultation: the form's page, then the form, each time
    at a time nobody has taken yet."""

    def __init__(self, base: str) -> None:
        self.visitor = Visitor(base, production_cookies=True)
        self.taken: set[str] = set()
        self.page = ""
        self.count = 0

    def book(self) -> tuple[int, str]:
        status, page = self.visitor.get("/consultation/")
        if status == 200:
            self.page = page
        start = next(
            s for s in re.findall(r'name="start" id="[^"]+" value="([^"]+)"', self.page)
            if s not in self.taken
        )  # fmt: skip
        self.taken.add(start)
        self.count += 1
        return self.visitor.post(
            "/consultation/",
            booking_answers(
                start=start,
                csrf=hidden(self.page, "csrfmiddlewaretoken"),
                email=f"nora{self.count}@example.com",
            ),
        )


def is_friendly_error(status: int, body: str) -> bool:
    return status in (500, 503) and FRIENDLY in body and CRISIS_LINE in body


def served_with_static_files(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A VAR_DIR whose static files are collected, as a production deploy collects them."""
    from django.core.management import call_command

    var_dir = tmp_path / "var"
    settings.STATIC_ROOT = var_dir / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return var_dir


def waiting_on_a_lock(connection: psycopg.Connection) -> int:
    row = connection.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    ).fetchone()
    return int(row[0]) if row else 0


def test_postgres_restarted_under_load_shows_the_error_page_and_the_same_server_recovers(
    app_server, private_postgres, practice_profile, settings, tmp_path
):
    for weekday in range(7):  # real time runs in gunicorn: open all day, every day
        WeeklyHoursFactory(weekday=weekday, start_time=clock(0), end_time=clock(23, 59))
    database_url = private_postgres.copy_database(database_url_for_current_test_db(), "practice")
    server = app_server(
        env={
            **PRODUCTION_ENV,
            "DATABASE_URL": database_url,
            "VAR_DIR": str(served_with_static_files(settings, tmp_path)),
            "CONSULTATION_BOOKING_RATE_LIMIT": "0",
        }
    )
    booker = Booker(server.url)
    status, landed = booker.book()
    assert (status, "You are booked, Nora" in landed) == (200, True), landed[:2000]

    pages = Visitor(server.url, production_cookies=True)
    health = Visitor(server.url, production_cookies=True)
    load = Load()
    load.start(
        {
            "page": lambda: pages.get("/consultation/"),
            "booking": booker.book,
            "healthz": lambda: health.get("/healthz"),
        }
    )
    try:
        wait_until(
            lambda: all(load.seen(loop, "up", ok=True) for loop in PAGES),
            what="pages and bookings served before the restart",
        )
        # The next booking waits on the calendar's row lock, mid-transaction, as the
        # server stops.
        held = psycopg.connect(database_url.replace("postgres://", "postgresql://"))
        held.execute("SELECT 1 FROM practice_kindsettings WHERE kind = 'consultation' FOR UPDATE")
        wait_until(lambda: waiting_on_a_lock(held) >= 1, what="a booking to wait on the lock")
        load.phase, stopping = "down", time.monotonic()
        private_postgres.stop()
        held.close()
        wait_until(
            lambda: all(load.seen(loop, "down") >= 3 for loop in (*PAGES, "healthz")),
            what="every visitor to be answered while the database is down",
        )
        # The practice's profile, which pages show, leaves the shared cache; once the
        # server's own copy has expired too, even the error page cannot read it.
        practice_profile_forget()
        expired = time.monotonic() + identity._local.ttl
        wait_until(
            lambda: all(load.seen(loop, "down", after=expired) >= 2 for loop in PAGES),
            what="visitors answered after the server's copy of the profile expired",
        )
        load.phase = "changing"
        private_postgres.start()
        load.phase = "back"
        wait_until(
            lambda: all(load.seen(loop, "back", ok=True) for loop in PAGES),
            what="pages and bookings served again after the restart",
        )
    finally:
        load.stop()

    assert load.broken == []
    in_flight = [a for a in load.answers if a.loop == "booking" and a.started < stopping < a.ended]
    assert [is_friendly_error(a.status, a.body) for a in in_flight] == [True], in_flight
    for answer in load.answers:
        assert "Traceback" not in answer.body
        if answer.loop == "healthz":
            if answer.phase == "down":
                assert answer.status == 503
                assert json.loads(answer.body)["database"]["ok"] is False
        elif answer.status != 200:
            assert is_friendly_error(answer.status, answer.body), (
                answer.loop,
                answer.phase,
                answer.status,
                answer.body[:500],
            )
    assert load.seen("booking", "down", ok=False) >= 3

    # The same gunicorn, never restarted, with its worker never replaced.
    assert server.process is not None and server.process.poll() is None
    assert server.log().count("Booting worker") == 1, server.log()[-3000:]
    status, landed = Booker(server.url).book()
    assert (status, "You are booked, Nora" in landed) == (200, True), landed[:2000]
    status, body = Visitor(server.url, production_cookies=True).get("/healthz")
    assert json.loads(body)["database"] == {"ok": True, "detail": "postgresql"}
    # No booking is half made: each has its appointment and both of its emails.
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as db:
        row = db.execute(
            "SELECT (SELECT count(*) FROM consultations_consultation),"
            " (SELECT count(*) FROM practice_appointment WHERE kind = 'consultation'),"
            " (SELECT count(*) FROM practice_outboxmessage WHERE kind = 'consultation.booked'),"
            " (SELECT count(*) FROM practice_outboxmessage"
            "  WHERE kind = 'consultation.therapist_notice')"
        ).fetchone()
    assert row is not None
    consultations, appointments, confirmations, notices = row
    assert consultations == appointments == confirmations == notices
    booked = sum(1 for a in load.answers if a.loop == "booking" and a.status == 200)
    assert consultations >= booked + 2
