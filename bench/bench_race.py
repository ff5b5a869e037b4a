"""A 50-way race for one consultation slot, through gunicorn (2 sync workers).

Fifty visitors press "Book" for the same offered time at once: fifty threads,
each with its own prepared form (its own ``submission_id`` and address, a
valid CSRF cookie and token), released together by a barrier, POST
``/consultation/``. Exactly one booking must result: one 302 to the
confirmation, the other 49 get the page back with "that time was just
taken" (409), and the database holds one consultation at that start. The
per-address booking limit is lifted for the run (every request comes from
127.0.0.1).

Reported per round (``BENCH_RACE_ROUNDS``, default 3, each for the next
offered time; ``BENCH_RACE_SIZE``, default 50, racers): the wall time from
the release to the last answer, the answers a second that makes, and its
ratio to the bare page's requests a second measured by wrk on the same
server in the same run (a losing POST re-checks the slot under the lock and
renders the whole form again, so well below 1 is expected).
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from urllib.parse import urlencode

from bench.bench_newsletter import _count, _purge_bench_queue
from bench.common import bench_database, csrf_cookie, load, report, serve

RACERS = int(os.environ.get("BENCH_RACE_SIZE", "50"))
ROUNDS = int(os.environ.get("BENCH_RACE_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))  # of the wrk run


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _form(start: str, token: str, n: int) -> bytes:
    return urlencode(
        {
            "csrfmiddlewaretoken": token,
            "start": start,
            "submission_id": str(uuid.uuid4()),
            "time_zone": "America/New_York",
            "first_name": "Racer",
            "last_name": f"Number {n}",
            "email": f"racer{n}@example.com",
            "phone": "+1 (510) 555-0100",
            "preferred_contact": "email",
            "meeting_mode": "video",
            "reason": "I would like to talk about how I have been feeling.",
            "perinatal": "postpartum",
            "perinatal_months": "5",
            "children_ages": "4, 5 months",
            "prior_experience": "none",
            "medications": "",
            "heard_from": "friend",
            "consent_to_contact": "on",
            "website": "",
        }
    ).encode()


def race(base: str, start: str, token: str) -> tuple[float, Counter[int]]:
    """Run one race for ``start``; return its wall seconds and the answers' statuses."""
    bodies = [_form(start, token, n) for n in range(RACERS)]
    barrier = threading.Barrier(RACERS + 1)
    statuses: list[int] = []
    lock = threading.Lock()

    def racer(body: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310
            f"{base}/consultation/",
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token}",
            },
        )
        barrier.wait()
        try:
            with _OPENER.open(request, timeout=120) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=racer, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, Counter(statuses)


def _slots(base: str) -> list[str]:
    url = f"{base}/consultation/slots.json?tz=America/New_York"
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310
        return list(json.load(response)["slots"])


# Each process trusts its copy of the calendar's generation this long
# (CALENDAR_CACHE_LOCAL_SECONDS, 1 s by default): the other worker may offer
# the booked time that much longer. A margin for a slow machine.
WITHDRAWN_WITHIN = 1.0 + 2.0


def _until_withdrawn(base: str, start: str) -> None:
    """Wait until neither worker offers ``start``; fail past ``WITHDRAWN_WITHIN`` seconds."""
    deadline = time.monotonic() + WITHDRAWN_WITHIN
    while start in _slots(base):
        assert time.monotonic() < deadline, "the booked time is still offered"
        time.sleep(0.1)


def main() -> None:
    database_url = bench_database("race", seed=True)
    rows: list[dict[str, object]] = []
    with serve(database_url, workers=2, env={"CONSULTATION_BOOKING_RATE_LIMIT": "0"}) as base:
        token = csrf_cookie(f"{base}/bench/bare-form/")
        bare = load(f"{base}/bench/bare/", seconds=SECONDS)
        rows.append({"what": "bare template (wrk -c8)", "requests": "", "rps": bare["rps"],
                     "wall_s": "", "won": "", "lost_409": "", "ratio": 1.0})  # fmt: skip
        for round_ in range(ROUNDS):
            slots = _slots(base)
            assert slots, "no slot offered"
            start = slots[0]
            before = _count(database_url, "SELECT count(*) FROM consultations_consultation")
            seconds, statuses = race(base, start, token)
            booked = _count(
                database_url,
                "SELECT count(*) FROM consultations_consultation c "
                "JOIN practice_appointment a ON a.id = c.appointment_id "
                "WHERE a.start = %s::timestamptz AND a.status = 'booked'",
                start,
            )
            made = _count(database_url, "SELECT count(*) FROM consultations_consultation") - before
            assert booked == 1 and made == 1, (start, booked, made, statuses)
            assert statuses[302] == 1 and statuses[409] == RACERS - 1, statuses
            _until_withdrawn(base, start)
            rate = RACERS / seconds
            rows.append(
                {
                    "what": f"{RACERS}-way race for one slot, round {round_ + 1}",
                    "requests": RACERS,
                    "rps": round(rate, 1),
                    "wall_s": round(seconds, 3),
                    "won": statuses[302],
                    "lost_409": statuses[409],
                    "ratio": round(rate / bare["rps"], 3),
                }
            )
    _purge_bench_queue(database_url)  # the winners' confirmation jobs; nothing sends them here
    report(
        f"{RACERS}-way race for one consultation slot vs a bare page "
        "(gunicorn, 2 sync workers; exactly one booking each round)",
        rows,
    )


if __name__ == "__main__":
    main()
