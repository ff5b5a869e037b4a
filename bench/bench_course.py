"""The therapist's course and client pages, the Today page and each course PDF.

1. HTTP, on gunicorn + PostgreSQL (2 sync workers, wrk -c8), signed in as
   the demo therapist through the real login and her authenticator code
   (``bench_pages.therapist_session``), against the bare template page in the
   same run:

   - the course page in the admin (``admin:kap_sessions_course_change``) of
     the demo's completed course (Dana: preparation, a medicine session with
     its record, its check-in and integration session, her questionnaires),
     with a row of vitals every quarter hour of the medicine session added;
   - her client page (``admin:practice_client_change``: every panel, audited
     per view);
   - the Today page (``/admin/``).

   Each page is fetched once and checked (200, no redirect to the login, her
   name on it) before it is measured: wrk counts a redirect as a success.

2. Each course PDF of ``kap_sessions.documents`` rendered in this process
   (the medicine session's record, the course summary, the superbill, the
   Good Faith Estimate) against a bare one-page WeasyPrint document, as
   ``bench_pdf`` measures the consent PDF (its helpers are reused): median
   and 90th percentile milliseconds, pages, and the ratio to bare.
   ``BENCH_PDF_ROUNDS`` sets the renders per document (default 30).
"""

from __future__ import annotations

import os
import statistics
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

from bench.bench_pages import therapist_session
from bench.bench_pdf import BARE_HTML, _row, _timed
from bench.common import bench_database, load, report, serve

CLIENT_EMAIL = "dana.whitfield@example.com"
VITALS_EVERY = timedelta(minutes=15)
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))  # of each wrk run


def _dana_course() -> tuple[Any, Any]:
    """The demo's completed course, its medicine session's vitals filled in."""
    from kap_sessions.models import Course, DosingRecord
    from kap_sessions.services.dosing import vital_sign_record

    course = Course.objects.select_related("client").get(client__email=CLIENT_EMAIL)
    record = DosingRecord.objects.select_related("session__appointment").get(session__course=course)
    appointment = record.session.appointment
    taken_at = appointment.start
    n = 0
    while taken_at <= appointment.end:
        vital_sign_record(
            record=record,
            entry_key=uuid.uuid4(),
            taken_at=taken_at,
            systolic=118 + 3 * (n % 5),
            diastolic=76 + (n % 4),
            heart_rate=72 + 2 * (n % 6),
            spo2=98 - (n % 2),
        )
        taken_at += VITALS_EVERY
        n += 1
    return course, record


def _check(base: str, path: str, cookie: str, *needles: str) -> None:
    request = urllib.request.Request(f"{base}{path}", headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        assert response.status == 200, (path, response.status)
        assert response.geturl() == f"{base}{path}", response.geturl()
        body = response.read().decode()
    for needle in needles:
        assert needle in body, (path, needle)


def page_rows(database_url: str) -> tuple[list[dict[str, object]], Any, Any]:
    cookie = therapist_session(database_url)  # also sets Django up in this process
    from django.urls import reverse

    course, record = _dana_course()
    pages = [
        ("course page (admin)", reverse("admin:kap_sessions_course_change", args=[course.pk])),
        ("client page (admin)", reverse("admin:practice_client_change", args=[course.client_id])),
        ("/admin/ (Today)", "/admin/"),
    ]
    rows: list[dict[str, object]] = []
    with serve(database_url) as base:
        for _, path in pages:
            _check(base, path, cookie, "Whitfield" if path != "/admin/" else "Today")
        bare = load(f"{base}/bench/bare/", seconds=SECONDS)
        rows.append({"page": "bare template", **bare, "ratio": 1.0})
        for label, path in pages:
            result = load(f"{base}{path}", headers={"Cookie": cookie}, seconds=SECONDS)
            rows.append({"page": label, **result, "ratio": round(result["rps"] / bare["rps"], 3)})
    return rows, course, record


def pdf_rows(course: Any, record: Any) -> list[dict[str, object]]:
    from weasyprint import HTML

    from kap_sessions.documents import (
        course_summary_pdf,
        dosing_record_pdf,
        estimate_pdf,
        superbill_pdf,
    )
    from kap_sessions.models import GoodFaithEstimate, Superbill

    superbill = Superbill.objects.order_by("pk").first()
    estimate = GoodFaithEstimate.objects.order_by("pk").first()
    assert superbill is not None and estimate is not None, "seed_demo made no paperwork"
    bare_times, bare_pdf = _timed(lambda: bytes(HTML(string=BARE_HTML).write_pdf()))
    baseline = statistics.median(bare_times)
    rows = [_row("bare one-page document", bare_times, bare_pdf, baseline)]
    for name, render in (
        ("medicine session record", lambda: dosing_record_pdf(record)),
        ("course summary", lambda: course_summary_pdf(course)),
        ("superbill", lambda: superbill_pdf(superbill)),
        ("Good Faith Estimate", lambda: estimate_pdf(estimate)),
    ):
        times, pdf = _timed(render)
        rows.append(_row(name, times, pdf, baseline))
    return rows


def main() -> None:
    database_url = bench_database("course", seed=True)
    rows, course, record = page_rows(database_url)
    report(
        "Course, client and Today pages (therapist signed in) vs a bare page "
        "(gunicorn, 2 sync workers, wrk -c8)",
        rows,
    )
    report(
        "Course PDFs vs a bare one-page WeasyPrint document (same process)",
        pdf_rows(course, record),
    )


if __name__ == "__main__":
    main()
