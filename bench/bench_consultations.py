"""The free-consultation booking page, slots.json and the slot engine.

- HTTP: ``/consultation/`` and ``/consultation/slots.json`` against the bare
  Django template page, side by side on the same gunicorn, on a calendar with
  10,000 appointments (ratio; aim: 0.75 or more).
- Queries per request and the slot engine's time for the 60-day horizon (and the
  90-day one of the design page's budget) with
  0, 1,000 and 10,000 existing appointments (aim: both flat).

The appointments are a realistic calendar: up to 200 inside the bookable
horizon (as many as a full practice holds) and the rest in its history.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from bench.common import (
    bench_database,
    csrf_cookie,
    django_setup,
    load,
    report,
    serve,
)

SIZES = [0, 1_000, 10_000]
IN_HORIZON = 200


def _fill(count: int) -> int:
    """Replace the calendar with ``count`` appointments (beside the demo's course sessions);
    return how many are ahead."""
    from django.utils import timezone

    from consultations.models import Consultation
    from practice.models import Appointment

    Consultation.objects.all().delete()
    # The demo's course sessions stay (their records protect them): a handful
    # of the therapist's own sessions, as in a real calendar.
    Appointment.objects.filter(course_session__isnull=True).delete()
    kept = list(Appointment.objects.values_list("occupied_start", "occupied_end"))
    now = timezone.now()
    ahead = min(count, IN_HORIZON)
    rows = []
    # Ahead: one 20-minute block every 7 hours, so many land in open hours.
    for i in range(ahead):
        start = now + timedelta(days=2, hours=7 * i, minutes=13)
        rows.append((start, start + timedelta(minutes=20)))
    # History: one every 3 hours going back.
    for i in range(count - ahead):
        start = now - timedelta(days=1, hours=3 * i)
        rows.append((start, start + timedelta(minutes=20)))
    Appointment.objects.bulk_create(
        (
            Appointment(
                kind="blocked",
                start=start,
                end=end,
                occupied_start=start,
                occupied_end=end,
                title="bench",
            )
            for start, end in rows
            if not any(start < kept_end and kept_start < end for kept_start, kept_end in kept)
        ),
        batch_size=2000,
    )
    from practice.calendar.cache import calendar_changed

    calendar_changed()  # bulk_create sends no signals
    # A calendar that grew over years is vacuumed and has planner statistics;
    # a bulk load has neither until this: the planner would scan every row,
    # and autovacuum would start mid-measurement and take one of the cores.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Appointment._meta.db_table}")
    return ahead


def _engine_ms(horizon_days: int, runs: int = 40) -> tuple[float, int]:
    """The engine itself, uncached: what a booking check or a cache miss costs."""
    import copy

    from practice.calendar.slots import available_slots, kind_settings
    from practice.models import AppointmentKind

    settings = copy.copy(kind_settings(AppointmentKind.CONSULTATION))
    settings.horizon_days = horizon_days
    available_slots(settings=settings)  # warm the practice profile cache
    timings = []
    slots: list = []
    for _ in range(runs):
        began = time.perf_counter()
        slots = available_slots(settings=settings)
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), len(slots)


def _queries(path: str) -> int:
    """Queries of one request computed from the database (the shared copy cleared)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    from practice.calendar.cache import calendar_changed

    client.get(path)
    calendar_changed()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def main() -> None:
    database_url = bench_database("consultations", seed=True)
    django_setup(database_url)

    engine_rows = []
    for size in SIZES:
        ahead = _fill(size)
        median_ms, offered = _engine_ms(60)
        # The design page's budget speaks of a 90-day horizon.
        median_90_ms, _ = _engine_ms(90)
        engine_rows.append(
            {
                "appointments": size,
                "in_horizon": ahead,
                "engine_ms_60_days": round(median_ms, 2),
                "engine_ms_90_days": round(median_90_ms, 2),
                "slots_offered": offered,
                "queries_page": _queries("/consultation/"),
                "queries_slots_json": _queries("/consultation/slots.json?tz=America/New_York"),
            }
        )
    report("Slot engine, 60- and 90-day horizons (median of 40 runs, in process)", engine_rows)

    rows = []
    # The rate limit only counts bookings (POSTs); these are GETs.
    with serve(database_url) as base:
        bare = load(f"{base}/bench/bare/")
        rows.append({"page": "bare template", **bare, "ratio": 1.0})
        # A second baseline: a bare page with a one-field form, which pays for
        # a CSRF token as the booking page does.
        bare_form = load(f"{base}/bench/bare-form/")
        rows.append(
            {
                "page": "bare form page (CSRF)",
                **bare_form,
                "ratio": round(bare_form["rps"] / bare["rps"], 2),
            }
        )
        for path in ("/consultation/", "/consultation/slots.json?tz=America/New_York"):
            result = load(f"{base}{path}")
            rows.append({"page": path, **result, "ratio": round(result["rps"] / bare["rps"], 2)})
        # Most visitors arrive from another page of the site, whose footer form
        # already set the CSRF cookie: Django then masks the token but makes
        # no new secret and sets no cookie. The same three pages, so.
        cookie = {"Cookie": f"csrftoken={csrf_cookie(f'{base}/bench/bare-form/')}"}
        bare_again = load(f"{base}/bench/bare/", headers=cookie)
        rows.append({"page": "bare template, with CSRF cookie", **bare_again, "ratio": 1.0})
        for label, path in (
            ("bare form page (CSRF), with cookie", "/bench/bare-form/"),
            ("/consultation/, with CSRF cookie", "/consultation/"),
        ):
            result = load(f"{base}{path}", headers=cookie)
            rows.append(
                {"page": label, **result, "ratio": round(result["rps"] / bare_again["rps"], 2)}
            )
    report(
        f"Booking page and slots.json vs a bare page ({SIZES[-1]:,} appointments; "
        "gunicorn, 2 sync workers, wrk -c8)",
        rows,
    )


if __name__ == "__main__":
    main()
