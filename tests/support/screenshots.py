"""A picture of the page, and its HTML, when a browser check fails.

``with screenshot_on_failure(page, "booking-390"):`` around the checks of a
layout test or a journey's step: if one fails, the whole page is saved as
``<dir>/booking-390.png``, its HTML as ``<dir>/booking-390.html``, and the
failure's message names both files and the page's address. The
directory is ``$TEST_SCREENSHOTS``, else ``var/test-screenshots`` in the
checkout (``var/`` is not committed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def screenshot_dir() -> Path:
    return Path(os.environ.get("TEST_SCREENSHOTS") or ROOT / "var" / "test-screenshots")


@contextmanager
def screenshot_on_failure(page: Any, name: str) -> Iterator[None]:
    try:
        yield
    except Exception as failure:
        directory = screenshot_dir()
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
        try:
            failure.add_note(f"page: {page.url}")
            page.screenshot(path=f"{stem}.png", full_page=True)
        except Exception as problem:  # the failure itself matters more than its picture
            failure.add_note(f"no screenshot: {problem}")
        else:
            failure.add_note(f"screenshot: {stem}.png")
        try:
            Path(f"{stem}.html").write_text(page.content())
        except Exception as problem:
            failure.add_note(f"no HTML: {problem}")
        else:
            failure.add_note(f"HTML: {stem}.html")
        raise
