"""A picture of the page when a browser check fails.

``with screenshot_on_failure(page, "booking-390"):`` around the checks of a
layout test: if one fails, the whole page is saved as
``<dir>/booking-390.png`` and the failure's message names the file. The
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
        path = directory / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as problem:  # the failure itself matters more than its picture
            failure.add_note(f"no screenshot: {problem}")
        else:
            failure.add_note(f"screenshot: {path}")
        raise
