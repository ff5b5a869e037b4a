"""Newsletter: sign-up POST throughput, and campaign sending speed and memory.

1. The sign-up POST (CSRF, honeypot, consent record, transaction) against
   the bare Django form POST of ``bench.urls``, side by side on the same
   gunicorn (2 sync workers). The per-IP limit is lifted for the run (wrk
   comes from one address). Measured twice:

   - as real sign-ups arrive: a new address on every request (a wrk
     ``request()`` builds ``new-<run>-<n>@example.com``), so each one writes
     a reader with her consent and queues her confirmation;
   - the floor of the first: the bare form handing a new address to the
     sign-up service itself (no sign-up form, no consent details from the
     request), beside the bare form writing one bare row: what the
     service's two rows in one durable commit cost;
   - one address repeated: after the first two it is the "already signed up"
     path, one plain read and no write, which is what a flood of repeats
     costs. Aim: a ratio of 0.6 or more.

   The jobs the load queued for the confirmation emails are purged from the
   bench broker afterwards, so the campaign's worker does not send them.
   Set BENCH_NEWSLETTER_PARTS=signup or =campaign to run one part only.
2. A campaign to 5,000 and to 20,000 confirmed readers, sent by one real
   Celery worker (2 processes) into a local SMTP server (aiosmtpd's Sink, in
   its own process): messages a second from the first to the last delivery
   row, and the worker's peak resident memory (VmHWM of each process), to
   show it does not grow with the list. Aim: 200 messages a second or more.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.common import (
    PYTHON,
    ROOT,
    _free_port,
    _lua,
    bench_database,
    bench_env,
    csrf_cookie,
    django_setup,
    load,
    report,
    serve,
    start_celery_worker,
    wait_then_stop,
)

SIZES = (5_000, 20_000)
EMAIL = "reader@example.com"
SECONDS = 10

# Appended to the wrk script: each request signs up an address never seen
# before. The run's token comes from /dev/urandom, so the warm-up, each round
# and each wrk thread (setup() numbers them) have addresses of their own.
NEW_ADDRESS_LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
local random = io.open("/dev/urandom", "rb")
local run = random:read(6):gsub(".", function(c) return string.format("%%02x", c:byte()) end)
random:close()
local sent = 0
function request()
  sent = sent + 1
  local email = string.format("new-%%s-%%d-%%d%%%%40example.com", run, thread_id or 0, sent)
  return wrk.format(nil, nil, nil, %(body)s .. "&email=" .. email)
end
"""


def _execute(database_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(
        database_url.replace("postgres://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(sql)


def _count(database_url: str, sql: str, *params: object) -> int:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as connection:
        row = connection.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def signup_rows(database_url: str) -> list[dict[str, object]]:
    _execute(database_url, "CREATE TABLE IF NOT EXISTS bench_write (id bigserial, email text)")
    with serve(database_url, env={"NEWSLETTER_SIGNUP_RATE_LIMIT": "0"}) as base:
        token = csrf_cookie(f"{base}/bench/bare-form/")
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
        }
        bare_body = urlencode({"csrfmiddlewaretoken": token, "email": EMAIL})
        form = {"csrfmiddlewaretoken": token, "first_name": "", "website": "", "page": "/"}
        repeat_body = urlencode({**form, "email": EMAIL})
        new_address_lua = NEW_ADDRESS_LUA % {"body": _lua(urlencode(form))}
        signup = f"{base}/newsletter/"
        # Two alternating rounds, best of each: the machine is shared, and a
        # burst of someone else's work should not land on one side only.
        bare_new_lua = NEW_ADDRESS_LUA % {"body": _lua(urlencode({"csrfmiddlewaretoken": token}))}
        bares, writes, services, news, repeats = [], [], [], [], []
        for _ in range(2):
            writes.append(
                load(
                    f"{base}/bench/bare-form-write/",
                    method="POST",
                    body=bare_body,
                    headers=headers,
                    seconds=SECONDS,
                )
            )
            bares.append(
                load(
                    f"{base}/bench/bare-form/",
                    method="POST",
                    body=bare_body,
                    headers=headers,
                    seconds=SECONDS,
                )
            )
            services.append(
                load(
                    f"{base}/bench/bare-form-subscribe/",
                    method="POST",
                    headers=headers,
                    extra_lua=bare_new_lua,
                    seconds=SECONDS,
                )
            )
            news.append(
                load(
                    signup,
                    method="POST",
                    headers=headers,
                    extra_lua=new_address_lua,
                    seconds=SECONDS,
                )
            )
            repeats.append(
                load(signup, method="POST", body=repeat_body, headers=headers, seconds=SECONDS)
            )
    _purge_bench_queue(database_url)
    # Proof that the load was POSTs that reached the service, not GETs: one
    # reader for the repeated address, and a new reader for (nearly) every
    # measured new-address request (warm-ups add more).
    repeated = _count(
        database_url, "SELECT count(*) FROM newsletter_subscriber WHERE lower(email) = %s", EMAIL
    )
    new_readers = _count(
        database_url,
        "SELECT count(*) FROM newsletter_subscriber WHERE email LIKE 'new-%%@example.com'",
    )
    measured = sum(result["rps"] * SECONDS for result in (*news, *services))
    if repeated != 1 or new_readers < 0.95 * measured:
        raise RuntimeError(
            f"the sign-up load did not sign up as expected ({repeated} repeated, "
            f"{new_readers} new readers for about {measured:.0f} requests): check the wrk script"
        )
    bare = max(bares, key=lambda result: result["rps"])
    write = max(writes, key=lambda result: result["rps"])
    service = max(services, key=lambda result: result["rps"])
    new = max(news, key=lambda result: result["rps"])
    repeat = max(repeats, key=lambda result: result["rps"])
    return [
        {"request": "bare form POST", **bare, "ratio": 1.0},
        {
            "request": "bare form POST writing one row (durable commit)",
            **write,
            "ratio": round(write["rps"] / bare["rps"], 2),
        },
        {
            "request": "bare form POST calling the sign-up service (a new address each time)",
            **service,
            "ratio": round(service["rps"] / bare["rps"], 2),
            "of_write": round(service["rps"] / write["rps"], 2),
        },
        {
            "request": "sign-up POST, a new address each time",
            **new,
            "ratio": round(new["rps"] / bare["rps"], 2),
            "of_write": round(new["rps"] / write["rps"], 2),
        },
        {
            "request": "sign-up POST, one address repeated (no write)",
            **repeat,
            "ratio": round(repeat["rps"] / bare["rps"], 2),
        },
    ]


def _purge_bench_queue(database_url: str) -> None:
    # The new sign-ups queued work for their confirmation emails on the
    # bench's own broker; nothing consumes it here, and the campaign's worker
    # must not.
    subprocess.run(
        [PYTHON, "-m", "celery", "-A", "practice", "purge", "-f"],
        cwd=ROOT,
        env=bench_env(database_url),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def campaign_row(database_url: str, *, readers: int, smtp_port: int) -> dict[str, object]:
    from django.utils import timezone

    from newsletter import services
    from newsletter.consent import CONSENT_TEXT_SHA256
    from newsletter.models import Campaign, Subscriber

    have = Subscriber.objects.confirmed().count()
    Subscriber.objects.bulk_create(
        (
            Subscriber(
                email=f"reader{n}@example.com",
                first_name="Reader",
                status=Subscriber.Status.CONFIRMED,
                consent_text_sha256=CONSENT_TEXT_SHA256,
                confirmed_at=timezone.now(),
            )
            for n in range(have, readers)
        ),
        batch_size=2000,
    )
    campaign = Campaign.objects.create(
        subject=f"Spring letter to {readers}",
        body="Hello from the practice.\n\nA **new article** is up on the website.",
    )
    env = bench_env(
        database_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        NEWSLETTER_SEND_RATE="0",
        NEWSLETTER_SEND_PARALLEL="2",
        NEWSLETTER_SEND_BATCH_SIZE="200",
    )
    log = Path(env["VAR_DIR"]) / f"bench-worker-{readers}.log"
    worker = start_celery_worker(env, log)
    services.campaign_send(campaign=campaign)

    def sent() -> bool:
        campaign.refresh_from_db()
        return campaign.status == Campaign.Status.SENT

    peaks = wait_then_stop(worker, sent, "the campaign")
    seconds = (campaign.finished_at - campaign.started_at).total_seconds()
    return {
        "readers": readers,
        "sent": campaign.sent_count,
        "failed": campaign.failed_count,
        "seconds": round(seconds, 1),
        "messages_per_s": round(campaign.sent_count / seconds, 1),
        "worker_main_peak_mib": round(peaks[0] / 1024, 1),
        "sender_peak_mib": round(max(peaks[1:] or [0]) / 1024, 1),
    }


def main() -> None:
    parts = os.environ.get("BENCH_NEWSLETTER_PARTS", "signup,campaign").split(",")
    database_url = bench_database("newsletter", seed=True)
    if "signup" in parts:
        report(
            "Newsletter sign-up POST vs a bare Django form POST "
            "(gunicorn, 2 sync workers, wrk -c8)",
            signup_rows(database_url),
        )
    if "campaign" not in parts:
        return

    django_setup(database_url)
    port = _free_port()
    sink = subprocess.Popen(
        [PYTHON, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"],
        cwd=ROOT,
    )
    try:
        time.sleep(1.0)
        rows = [campaign_row(database_url, readers=size, smtp_port=port) for size in SIZES]
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    report("Newsletter campaign into a local SMTP sink (1 worker, 2 processes)", rows)
