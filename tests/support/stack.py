"""The app's processes as production runs them, for whole journeys."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.server import AppServer
from tests.support.smtp import SMTPSink
from tests.support.worker import CeleryBeat, CeleryWorker


@dataclass
class Stack:
    server: AppServer
    worker: CeleryWorker
    beat: CeleryBeat
    smtp: SMTPSink

    @property
    def url(self) -> str:
        return self.server.url

    def logs(self) -> str:
        """The three processes' logs, for a failure's message."""
        parts = (("gunicorn", self.server), ("worker", self.worker), ("beat", self.beat))
        return "\n".join(f"--- {name} ---\n{part.log()[-4000:]}" for name, part in parts)
