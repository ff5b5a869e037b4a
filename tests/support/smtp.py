"""A real SMTP server (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage

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


class SMTPSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[str] = []
        self.lock = threading.Lock()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=0)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.server.sockets[0].getsockname()[1])

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
