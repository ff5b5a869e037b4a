"""Parts for the fault tests: a mail server that holds messages, a PostgreSQL
of the test's own, the outbox's sweep as beat sends it, and a user the file
system's modes bind.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.redis import free_port
from tests.support.smtp import SMTPSink

# --- A mail server that holds messages -----------------------------------------


class HoldingHandler:
    """An SMTP server that accepts the first ``accept`` messages at once and then holds
    every later one without answering, until :meth:`release`.

    The held messages are told apart by ``keep`` (used in turn): ``True``, the
    server has stored the whole message and is slow to say so (a sender that
    dies now has delivered it without knowing); ``False``, it has not taken
    it yet (a sender that dies now has delivered nothing, as when a real
    server sees the connection drop before its answer). ``held`` lists
    ``(recipient, stored)`` in the order the messages came. A killed sender's
    connection closes, and aiosmtpd then cancels that held message.
    """

    def __init__(self, sink: SMTPSink, *, accept: int, keep: Sequence[bool]) -> None:
        self.sink = sink
        self.accept = accept
        self.keep = tuple(keep)
        self.started = 0
        self.held: list[tuple[str, bool]] = []
        self.holding = True

    def release(self) -> None:
        """From now on every message is accepted at once."""
        self.holding = False

    def _store(self, envelope: Any) -> None:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(message)  # type: ignore[arg-type]
            self.sink.recipients.extend(envelope.rcpt_tos)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802  (aiosmtpd's name)
        self.started += 1
        if not self.holding or self.started <= self.accept:
            self._store(envelope)
            return "250 Message accepted for delivery"
        stored = self.keep[len(self.held) % len(self.keep)]
        self.held.append((envelope.rcpt_tos[0], stored))
        if stored:
            self._store(envelope)
        while self.holding:
            await asyncio.sleep(0.05)
        if not stored:
            self._store(envelope)
        return "250 Message accepted for delivery"


# --- A PostgreSQL of the test's own -----------------------------------------------------


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL's server programs are not installed (/usr/lib/postgresql)")
    return found[-1].parent


class PrivatePostgres:
    """``initdb`` into a directory of its own, ``postgres`` on a free port, run as the
    ``postgres`` OS user when the tests run as root (PostgreSQL refuses root).

    ``stop()`` is a fast shutdown (sessions are ended, as a restart ends them);
    ``start()`` brings it back on the same port.
    """

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        # Under /tmp, which the postgres user can reach (pytest's tmp_path is root's alone).
        self.root = Path(tempfile.mkdtemp(prefix="practice-faults-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.running = False

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str, owner: bool = True, stdin: bytes = b"") -> bytes:
        """Run one of PostgreSQL's programs (as the data directory's owner); its output."""
        command = [*(self.as_owner if owner else []), str(self.bin / program), *args]
        result = subprocess.run(command, cwd=self.root, capture_output=True, input=stdin)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise RuntimeError(f"{program} failed:\n{output}\n{self.log()}")
        return result.stdout

    def init(self) -> PrivatePostgres:
        data = str(self.data)
        self._run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(self.log_path)
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def copy_database(self, source_url: str, name: str) -> str:
        """Create ``name`` here as a copy of ``source_url`` (schema and rows); return its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), name)
        dump = self._run("pg_dump", "--no-owner", "--no-privileges", "-d", source_url, owner=False)
        target = self.url(name)
        self._run("psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", target, owner=False, stdin=dump)
        return target

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def destroy(self) -> None:
        if self.running:
            try:
                self.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


# --- The app in production mode, and a visitor behind its TLS proxy ---------------------


PRODUCTION_ENV = {
    # The friendly error pages are what production shows; DEBUG shows a traceback.
    "DEBUG": "false",
    "SECRET_KEY": "faults-" + "k2Vq8sLx0pZr4Tn6Wb1Yc3Ud5Fe7Gh9J" + "mN0pQ2rS4tU6vW8xY",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # TLS ends at a proxy in production; the test talks plain HTTP to gunicorn.
    "SECURE_SSL_REDIRECT": "false",
    "EMAIL_URL": "dummymail://",
}


# --- A user the file system's modes bind ---------------------------------------------


def unprivileged(command: Sequence[str]) -> list[str]:
    """``command`` (a Python interpreter and its arguments) run so that file modes
    apply to it, which they do not for root.

    As ``nobody`` when that user can run the interpreter; when it cannot
    (pyenv keeps the interpreter under root's home, mode 0700), as root
    stripped of the capabilities that let root ignore a file's mode. Either
    way a directory of mode 0555 cannot be written.
    """
    if os.geteuid() != 0:
        return list(command)
    probe = subprocess.run(
        ["runuser", "-u", "nobody", "--", command[0], "-c", ""], capture_output=True
    )
    if probe.returncode == 0:
        return ["runuser", "-u", "nobody", "--", *command]
    return [
        "setpriv",
        "--bounding-set=-dac_override,-dac_read_search,-fowner",
        "--inh-caps=-all",
        "--",
        *command,
    ]
