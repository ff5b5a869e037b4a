"""Fixtures for the consultation funnel (the calendar's are in tests/support/calendar.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from tests.support.calendar import FIRST_SLOT, NOW, open_weekdays

__all__ = ["FIRST_SLOT", "NOW", "open_weekdays"]


# Words that must never appear in an email, a calendar file or a log line.
CLINICAL_WORDS = [
    "ketamine",
    "kap",
    "dosing",
    "dose",
    "psychedelic",
    "micro-dosing",
    "microdosing",
    "medicine session",
    "diagnosis",
    "depress",
    "anxiety",
    "postpartum",
    "pregnan",
    "sertraline",
    "medication",
    "exhausted",
]


@pytest.fixture(autouse=True)
def _no_local_calendar_generation(settings):  # type: ignore[no-untyped-def]
    # Each test has its own database and a cleared cache; a generation held
    # in this process from an earlier test must not be trusted.
    settings.CALENDAR_CACHE_LOCAL_SECONDS = 0


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process (they are queued on commit by the services)."""
    from practice.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def booking_data():  # type: ignore[no-untyped-def]
    """A valid booking form for the first offered time, as the browser posts it."""

    def make(**overrides: str) -> dict[str, str]:
        data = {
            "start": FIRST_SLOT.isoformat(),
            "submission_id": str(uuid.uuid4()),
            "time_zone": "America/New_York",
            "first_name": "Nora",
            "last_name": "O'Neill",
            "email": "nora@example.com",
            "phone": "+1 (510) 555-0100",
            "preferred_contact": "email",
            "meeting_mode": "video",
            "reason": "I feel far away from my children and I am exhausted.",
            "perinatal": "postpartum",
            "perinatal_months": "5",
            "children_ages": "4, 5 months",
            "prior_experience": "micro",
            "medications": "sertraline",
            "heard_from": "friend",
            "consent_to_contact": "on",
            "website": "",
        }
        data.update(overrides)
        return data

    return make


def assert_nothing_clinical(text: str) -> None:
    lowered = text.lower()
    for word in CLINICAL_WORDS:
        pattern = r"\bkap\b" if word == "kap" else re.escape(word)
        assert re.search(pattern, lowered) is None, f"{word!r} appears in: {text[:300]}"


# --- A real SMTP server --------------------------------------------------------


class _SlowHandler:
    """Accepts a message only after ``delay`` seconds, like a busy mail server.

    If the sending process dies while the server waits, aiosmtpd cancels this
    handler on the dropped connection, so the message is never accepted: that
    is what a real server does when the client vanishes before the final reply.
    ``started`` counts the messages whose DATA has begun.
    """

    def __init__(self, sink: object, delay: float) -> None:
        self.sink = sink
        self.delay = delay
        self.started = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        import asyncio
        import email
        import email.policy

        self.started += 1
        await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:  # type: ignore[attr-defined]
            self.sink.messages.append(message)  # type: ignore[attr-defined]
            self.sink.recipients.extend(envelope.rcpt_tos)  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


@pytest.fixture
def slow_smtp_sink(settings):  # type: ignore[no-untyped-def]
    """A sink that takes a second to accept each message; ``.handler.started`` counts."""
    from tests.support.smtp import SMTPSink

    sink = SMTPSink(handler_factory=lambda s: _SlowHandler(s, delay=1.0))
    sink.start()
    sink.configure_django(settings)
    try:
        yield sink
    finally:
        sink.stop()
