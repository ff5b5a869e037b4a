"""The therapist's calendar feed (``/calendar/feed/<token>.ics``) against the bare page.

The calendar holds about ``BENCH_FEED_APPOINTMENTS`` (default 100) appointments
inside the feed's window (30 days back to 90 ahead; ``practice/calendar/feed.py``):
one a day at 10:00, consultations with their callers (the display hook
names them by initials) and, every fourth day, blocked time.

- warm, on gunicorn + PostgreSQL (2 sync workers, wrk -c8): the file comes
  from the shared cache (Redis) after the first fetch; each request still
  looks its token up and may stamp its use. Ratio to the bare template page
  in the same run. The feed's per-address limit is lifted for the run.
- cold, in this process (wrk cannot clear the cache between requests): the
  whole request through Django's test client with the calendar's generation
  bumped before each one (a booking would do the same), and
  ``build_calendar_feed`` alone, each against the bare page through the same
  test client: median and 90th percentile milliseconds and the ratio of the
  medians (here a ratio above 1 is slower).
"""

from __future__ import annotations

import os
import statistics
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock

from bench.common import bench_database, django_setup, load, report, serve

APPOINTMENTS = int(os.environ.get("BENCH_FEED_APPOINTMENTS", "100"))
ROUNDS = int(os.environ.get("BENCH_FEED_ROUNDS", "50"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))  # of each wrk run


def _fill() -> int:
    """One appointment a day across the window; return how many the feed holds."""
    from django.utils import timezone

    from consultations.models import Consultation
    from practice.calendar.cache import calendar_changed
    from practice.calendar.feed import _feed_appointments, _window
    from practice.identity import practice_profile
    from practice.models import Appointment, AppointmentKind, MeetingMode

    zone = practice_profile().zone
    today = timezone.now().astimezone(zone).date()
    first = today - timedelta(days=29)
    appointments = []
    for i in range(APPOINTMENTS):
        start = datetime.combine(first + timedelta(days=i), clock(10), tzinfo=zone)
        blocked = i % 4 == 3
        appointments.append(
            Appointment(
                kind="blocked" if blocked else AppointmentKind.CONSULTATION,
                start=start,
                end=start + timedelta(minutes=20),
                occupied_start=start,
                occupied_end=start + timedelta(minutes=20),
                title="Errand" if blocked else "",
                mode="" if blocked else MeetingMode.VIDEO if i % 2 else MeetingMode.PHONE,
            )
        )
    Appointment.objects.bulk_create(appointments)
    Consultation.objects.bulk_create(
        Consultation(
            appointment=appointment,
            submission_id=uuid.uuid4(),
            first_name="Feed",
            last_name=f"Caller {n}",
            email=f"feed{n}@example.com",
            phone="(510) 555-0100",
            time_zone=zone.key,
            reason="A bench booking.",
            perinatal="neither",
            prior_experience="none",
            consent_to_contact=True,
        )
        for n, appointment in enumerate(appointments)
        if appointment.kind == AppointmentKind.CONSULTATION
    )
    calendar_changed()  # bulk_create sends no signals
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Appointment._meta.db_table}")
    return len(_feed_appointments(*_window(timezone.now())))


def _timed(run: Callable[[], object]) -> list[float]:
    run()  # warm-up: templates, the practice profile, the zone database
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _row(name: str, times: list[float], baseline: float) -> dict[str, object]:
    median = statistics.median(times)
    return {
        "what": name,
        "runs": len(times),
        "median_ms": round(median, 2),
        "p90_ms": round(statistics.quantiles(times, n=10)[-1], 2),
        "ratio_to_bare": round(median / baseline, 2),
    }


def cold_rows(path: str) -> list[dict[str, object]]:
    from django.test import Client
    from django.utils import timezone

    from practice.calendar.cache import calendar_changed
    from practice.calendar.feed import build_calendar_feed

    client = Client(HTTP_HOST="127.0.0.1")

    def bare() -> None:
        assert client.get("/bench/bare/").status_code == 200

    def feed_cold() -> None:
        calendar_changed()
        assert client.get(path).status_code == 200

    bare_times = _timed(bare)
    baseline = statistics.median(bare_times)
    return [
        _row("bare page (test client)", bare_times, baseline),
        _row("feed request, cache missed (test client)", _timed(feed_cold), baseline),
        _row(
            "build_calendar_feed alone",
            _timed(lambda: build_calendar_feed(now=timezone.now())),
            baseline,
        ),
    ]


def main() -> None:
    os.environ["CALENDAR_FEED_RATE_LIMIT"] = "0"  # one address fetches it thousands of times
    database_url = bench_database("feed", seed=True)
    django_setup(database_url)
    from practice.calendar.feed import calendar_feed_token_create

    held = _fill()
    path = f"/calendar/feed/{calendar_feed_token_create()}.ics"
    rows: list[dict[str, object]] = []
    with serve(database_url) as base:
        with urllib.request.urlopen(f"{base}{path}", timeout=20) as response:  # noqa: S310
            body = response.read().decode()
        assert response.status == 200 and body.count("BEGIN:VEVENT") == held, held
        bare = load(f"{base}/bench/bare/", seconds=SECONDS)
        rows.append({"page": "bare template", **bare, "ratio": 1.0})
        warm = load(f"{base}{path}", seconds=SECONDS)
        rows.append(
            {
                "page": f"calendar feed, cached ({held} events)",
                **warm,
                "ratio": round(warm["rps"] / bare["rps"], 3),
            }
        )
    report(
        "Calendar feed, cached, vs a bare page (gunicorn, 2 sync workers, wrk -c8)",
        rows,
    )
    report(
        f"Calendar feed built from the database ({held} events) vs a bare page (in process)",
        cold_rows(path),
    )


if __name__ == "__main__":
    main()
