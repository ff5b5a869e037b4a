"""A real SMTP server (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(message)  # type: ignore[arg-type]
            self.sink.recipients.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


class StallingHandler:
    """A server that takes ``delay`` seconds over each message, counting ``started``.

    With ``store_first`` it keeps the message *before* it waits for the reply
    (a server that has the whole message and is slow to say so), for the
    first ``stalls`` messages only: a client that dies in that wait has had
    its message delivered without knowing it. Without it the message is kept
    only after the wait: if the client vanishes meanwhile, aiosmtpd cancels
    the handler and the message was never accepted, as a real server does.
    """

    def __init__(
        self, sink: SMTPSink, *, delay: float, store_first: bool = False, stalls: int = 10**6
    ) -> None:
        self.sink = sink
        self.delay = delay
        self.store_first = store_first
        self.stalls = stalls
        self.started = 0

    def _store(self, envelope: Any) -> None:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(message)  # type: ignore[arg-type]
            self.sink.recipients.extend(envelope.rcpt_tos)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        import asyncio

        self.started += 1
        stalling = self.started <= self.stalls
        if self.store_first:
            self._store(envelope)
            if stalling:
                await asyncio.sleep(self.delay)
        else:
            if stalling:
                await asyncio.sleep(self.delay)
            self._store(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SMTPSink:
    """``handler_factory(sink)`` may give a handler of another behaviour (slow, failing)."""

    def __init__(self, handler_factory: Callable[[SMTPSink], object] | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[str] = []
        self.lock = threading.Lock()
        self.handler = handler_factory(self) if handler_factory else _Handler(self)
        # aiosmtpd 1.4 cannot start on port 0 (its start-up check connects to
        # the port it was given), so a free port is picked first.
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=_free_port())
        self._port = int(self.controller.port)
        self.running = False

    def start(self) -> None:
        # A sink may be started again after stop() (a mail server back up).
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False

    @property
    def port(self) -> int:
        return self._port

    def configure_django(self, settings: Any) -> None:
        """Send this process's Django email to the sink (``settings`` is pytest-django's)."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = self.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.recipients.clear()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(
                f"expected {count} messages at the SMTP sink, got {len(self.messages)}"
            )

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "message has no text/plain part"
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "message has no text/html part"
    return str(part.get_content())
