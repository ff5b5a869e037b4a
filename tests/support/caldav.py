"""A Radicale CalDAV server of the test's own, and the few requests tests make of it.

Radicale parses calendar data with vobject, as other calendar servers do, so
it shows how such a server reads a file the practice sends. Its free-busy
report (RFC 4791 section 7.10) answers with the busy periods it computed, in
UTC: the start and end instants as the server's parser sees them. Cancelled
events are not busy.

The server runs in a subprocess on a free port, with its storage in a
temporary folder and no authentication; ``stop`` ends it.
"""

from __future__ import annotations

import base64
import http.client
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from icalendar import Calendar

from tests.support.redis import free_port

CALENDAR_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="{start}" end="{end}"/>
        <C:prop-filter name="STATUS">
          <C:text-match negate-condition="yes">CANCELLED</C:text-match>
        </C:prop-filter>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"""

FREE_BUSY_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:time-range start="{start}" end="{end}"/>
</C:free-busy-query>"""


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


class Radicale:
    def __init__(self, directory: Path, *, user: str = "nora") -> None:
        self.port = free_port()
        self.directory = directory
        self.user = user
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / "radicale.log"

    def start(self) -> Radicale:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and fixed arguments)
            [
                sys.executable,
                "-m",
                "radicale",
                "--config",  # no value: read no configuration file of this machine
                "--server-hosts",
                f"127.0.0.1:{self.port}",
                "--auth-type",
                "none",
                "--rights-type",
                "authenticated",
                "--storage-filesystem-folder",
                str(self.directory / "storage"),
                "--logging-level",
                "warning",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"radicale exited: {self.log_path.read_text()}")
            if self._answers():
                return self
            time.sleep(0.05)
        raise TimeoutError(f"radicale did not start: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _answers(self) -> bool:
        try:
            return self.request("OPTIONS", "/")[0] == 200
        except OSError:
            return False

    def request(
        self, method: str, path: str, body: bytes | str = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        login = base64.b64encode(f"{self.user}:-".encode()).decode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                method,
                path,
                body=body,
                headers={"Authorization": f"Basic {login}", **(headers or {})},
            )
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def make_calendar(self, name: str) -> str:
        path = f"/{self.user}/{name}/"
        status, text = self.request("MKCALENDAR", path)
        assert status == 201, (status, text)
        return path

    def put(self, calendar: str, name: str, content: bytes) -> int:
        """Store ``content`` as ``name`` in ``calendar``; the status: 201 new, 204 replaced."""
        status, text = self.request(
            "PUT", f"{calendar}{name}", content, {"Content-Type": "text/calendar; charset=utf-8"}
        )
        assert status in (201, 204), (status, text)
        return status

    def get(self, calendar: str, name: str) -> Calendar:
        status, text = self.request("GET", f"{calendar}{name}")
        assert status == 200, (status, text)
        return Calendar.from_ical(text)

    def busy(
        self, calendar: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The busy periods the server computes between ``start`` and ``end`` (UTC)."""
        status, text = self.request(
            "REPORT",
            calendar,
            FREE_BUSY_QUERY.format(start=_stamp(start), end=_stamp(end)),
            {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        assert status == 200, (status, text)
        periods: list[tuple[datetime, datetime]] = []
        for component in Calendar.from_ical(text).walk("VFREEBUSY"):
            values = component.get("FREEBUSY", [])
            for value in values if isinstance(values, list) else [values]:
                if value.params.get("FBTYPE", "BUSY") != "BUSY":
                    continue  # FREE: Radicale lists a cancelled event's time so
                begin, until = value.dt
                periods.append((begin, begin + until if isinstance(until, timedelta) else until))
        return sorted(periods)

    def standing_events(self, calendar: str, start: datetime, end: datetime) -> list[str]:
        """The hrefs of events between ``start`` and ``end`` that are not cancelled."""
        status, text = self.request(
            "REPORT",
            calendar,
            CALENDAR_QUERY.format(start=_stamp(start), end=_stamp(end)),
            {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        assert status == 207, (status, text)
        return sorted(part.split("</href>", 1)[0] for part in text.split("<href>")[1:])
