"""The signed consent PDF against a bare one-page WeasyPrint document, in the same run.

The consent PDF is rendered inside her "Sign" request (kap_sessions/services/consent.py),
so its time is part of what she waits for. Measured in this process, one
render after another (warmed up once each, so font loading is not counted):

- bare: ``HTML(string="<p>…</p>").write_pdf()``, one page, no stylesheet;
- consent: ``consent_pdf_render`` for the longest starting text (the KAP
  informed consent, version 1 from the data migration): letterhead, the
  practice's stylesheet and bundled fonts, the text and the signature block.

Reported: median and 90th percentile milliseconds, pages, and the ratio
consent / bare of the medians. ``BENCH_PDF_ROUNDS`` sets the renders per
document (default 30).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable

from bench.common import bench_database, django_setup, report

ROUNDS = int(os.environ.get("BENCH_PDF_ROUNDS", "30"))
BARE_HTML = "<!doctype html><html><body><p>A bare page.</p></body></html>"


def _pages(pdf: bytes) -> int | str:
    """Pages, as poppler's pdfinfo counts them ("?" without poppler-utils)."""
    if shutil.which("pdfinfo") is None:
        return "?"
    info = subprocess.run(
        ["pdfinfo", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    match = re.search(r"^Pages:\s+(\d+)", info, re.M)
    return int(match.group(1)) if match else "?"


def _timed(render: Callable[[], bytes]) -> tuple[list[float], bytes]:
    pdf = render()  # warm-up: fonts, stylesheets and templates loaded once
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        pdf = render()
        times.append((time.perf_counter() - started) * 1000)
    return times, pdf


def _row(name: str, times: list[float], pdf: bytes, baseline: float) -> dict[str, object]:
    median = statistics.median(times)
    p90 = statistics.quantiles(times, n=10)[-1] if len(times) >= 2 else times[0]
    return {
        "document": name,
        "renders": len(times),
        "median_ms": round(median, 1),
        "p90_ms": round(p90, 1),
        "pages": _pages(pdf),
        "ratio_to_bare": round(median / baseline, 2),
    }


def main() -> None:
    django_setup(bench_database("pdf"))
    from django.utils import timezone
    from weasyprint import HTML

    from kap_sessions.models import ConsentDocument, ConsentKind, ConsentSignature
    from kap_sessions.services.consent import consent_pdf_render
    from practice.models import Client

    document = ConsentDocument.objects.get(kind=ConsentKind.KAP_INFORMED_CONSENT, version=1)
    client = Client(first_name="Amara", last_name="Okafor", time_zone="America/Chicago")
    signature = ConsentSignature(
        client=client,
        document=document,
        typed_name=client.full_name,
        signed_at=timezone.now(),
        ip_address="203.0.113.7",
        text_sha256=document.text_sha256(),
    )

    bare_times, bare_pdf = _timed(lambda: bytes(HTML(string=BARE_HTML).write_pdf()))
    consent_times, consent_pdf = _timed(lambda: consent_pdf_render(signature=signature))
    baseline = statistics.median(bare_times)
    report(
        "Signed consent PDF vs a bare one-page WeasyPrint document (same process)",
        [
            _row("bare one-page document", bare_times, bare_pdf, baseline),
            _row("signed KAP informed consent", consent_times, consent_pdf, baseline),
        ],
    )
