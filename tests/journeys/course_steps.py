"""The course journey's clock, and its steps in the pages (``test_course_journey.py``).

**The clock.** A course of care runs for days: a session is booked for a time
still to come and marked held once that time has come, a medicine session
starts on its own day, the check-in call is booked for the next day. The
journey moves the time of the app's processes instead of waiting for it.
Each of them (gunicorn, the Celery worker and beat) starts with the
``sitecustomize.py`` that :class:`JourneyClock` writes into a folder on
``PYTHONPATH``; it loads this file and calls :func:`clock_follow`, after
which every wall-clock read of the process (``time.time``, ``datetime.now``,
so Django's ``timezone.now``, beat's schedule and allauth's authenticator
codes) is the real time plus an offset kept in one file. The test moves the
time by replacing that file, and each process reads the new time on its
next clock read: no restart, no message. Monotonic clocks are left alone, so
timeouts, gunicorn's worker check and Celery's timers run as ever. The
browser's clock (the tablet fills a vitals row's time with "now") follows
through Playwright's clock.

The app processes load this file by its path before Django is set up, so at
the top it imports only the standard library and time-machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import _time_machine
import time_machine

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

SITECUSTOMIZE = """\
# Written by tests/journeys/course_steps.py: this process reads the course journey's clock.
import importlib.util
import os
import sys

_clock_file = os.environ.get("JOURNEY_CLOCK_FILE")
if _clock_file:
    _spec = importlib.util.spec_from_file_location("journey_course_steps", {steps!r})
    _steps = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = _steps
    _spec.loader.exec_module(_steps)
    _steps.clock_follow(_clock_file)
"""


# --- The clock, as the app's processes read it --------------------------------------------


class _FollowingTraveller(time_machine.Traveller):
    """time-machine's traveller whose time is the real time plus the offset in ``path``.

    The file is read again only when it was replaced (a ``stat`` per clock
    read, no cost worth counting); while it cannot be read the last offset stands.
    """

    def __init__(self, path: str) -> None:
        super().__init__(destination_timestamp_ns=0, destination_tzname=None, tick=True)
        self._path = Path(path)
        self._seen: tuple[int, int] | None = None
        self._offset_ns = 0
        self._read()

    def _read(self) -> None:
        try:
            stat = self._path.stat()
        except OSError:
            return
        version = (stat.st_ino, stat.st_mtime_ns)
        if version == self._seen:
            return
        try:
            self._offset_ns = int(self._path.read_text())
        except (OSError, ValueError):
            return
        self._seen = version

    def time_ns(self) -> int:
        self._read()
        return int(_time_machine.original_time_ns()) + self._offset_ns


def clock_follow(path: str) -> None:
    """Make this process's wall clock the journey's (called by the written ``sitecustomize``)."""
    time_machine.travel(0, tick=True).start()
    time_machine.traveller_stack[-1] = _FollowingTraveller(path)


# --- The clock, as the test moves it ------------------------------------------------------


class JourneyClock:
    """The journey's time: set once, then moved on; the processes and browsers follow.

    ``environment()`` is what the app's processes need in their environment
    (set before they start); ``keep_in_step(context)`` puts a browser context
    on the same time.
    """

    def __init__(self, directory: Path, *, start: datetime) -> None:
        self.file = directory / "clock-offset-ns"
        self.hooks = directory / "clock-hooks"
        self.hooks.mkdir(parents=True, exist_ok=True)
        (self.hooks / "sitecustomize.py").write_text(
            SITECUSTOMIZE.format(steps=str(Path(__file__).resolve()))
        )
        self._offset_ns = 0
        self._contexts: list[BrowserContext] = []
        self.move_to(start)

    def environment(self) -> dict[str, str]:
        paths = [str(self.hooks), *filter(None, [os.environ.get("PYTHONPATH", "")])]
        return {"PYTHONPATH": os.pathsep.join(paths), "JOURNEY_CLOCK_FILE": str(self.file)}

    def now(self) -> datetime:
        return datetime.fromtimestamp((time.time_ns() + self._offset_ns) / 1e9, tz=UTC)

    def move_to(self, moment: datetime) -> None:
        """From now on every process (and browser kept in step) reads ``moment`` and on."""
        self._offset_ns = round(moment.timestamp() * 1e9) - time.time_ns()
        written = self.file.with_name(self.file.name + ".new")
        written.write_text(str(self._offset_ns))
        written.replace(self.file)
        for context in self._contexts:
            context.clock.set_system_time(moment)

    def keep_in_step(self, context: BrowserContext) -> None:
        context.clock.install(time=self.now())
        self._contexts.append(context)


# --- Steps in the pages ----------------------------------------------------------------------


def words(text: str) -> str:
    """Text as a reader sees it: runs of white space as one space."""
    return " ".join(text.split())


def staff_sign_in(
    page: Page, base: str, *, email: str, password: str, code: str, next_path: str
) -> None:
    """She opens ``next_path``, is asked to sign in (email and password, then her
    authenticator's code) and lands on it."""
    page.goto(f"{base}{next_path}")
    page.wait_for_url("**/accounts/login/?next=*")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}{next_path}")


def client_sign_in(page: Page, *, email: str, password: str) -> None:
    """Her sign-in on the page she was sent to: email and password, then her portal."""
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/")


def admin_messages(page: Page) -> str:
    """The admin's messages after an action ("The course has moved.")."""
    return words(page.locator("ul.messagelist").inner_text())


def fill_intake_section(page: Page, answers: dict[str, str]) -> None:
    """Answer one part of her intake as she would: tick the options, type the rest."""
    for name, value in answers.items():
        field = page.locator(f'[name="{name}"]')
        kind = field.first.evaluate("el => el.type || el.tagName.toLowerCase()")
        if kind == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind.startswith("select"):
            field.select_option(value)
        else:
            field.fill(value)


def answer_questionnaire(page: Page, choices: list[str | None]) -> None:
    """Tick one option per question, in order ("Not at all", ...; ``None`` leaves an optional
    question out), and send."""
    for number, label in enumerate(choices, start=1):
        if label is None:
            continue
        question = page.get_by_role("group", name=re.compile(rf"^{number}\. "))
        question.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Send my answers").click()


def sign_consent(page: Page, full_name: str) -> None:
    page.get_by_label("Your full name").fill(full_name)
    page.get_by_label("I have read and agree").check()
    page.get_by_role("button", name="Sign", exact=True).click()


def download(page: Page, link: str) -> bytes:
    """Click the link named ``link`` and return the file it downloads."""
    with page.expect_download() as started:
        page.get_by_role("link", name=link).click()
    path = started.value.path()
    return Path(path).read_bytes()


def pdf_text(content: bytes, *, pdftotext: str, directory: Path) -> str:
    """The words of a PDF, as poppler's ``pdftotext`` (its path) reads them."""
    pdf = directory / f"document-{len(list(directory.glob('document-*.pdf')))}.pdf"
    pdf.write_bytes(content)
    done = subprocess.run(  # noqa: S603  (a fixed tool on a file the test wrote)
        [pdftotext, "-layout", str(pdf), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return words(done.stdout.decode())


def link_in(message: EmailMessage, path: str) -> str:
    """The address in the message's text that leads to ``path`` (e.g. ``/accounts/welcome/``)."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no text part"
    found = re.search(rf"https?://\S+{re.escape(path)}\S*", str(part.get_content()))
    assert found, f"no link to {path} in: {part.get_content()}"
    return found.group(0)
