"""Start and kill a real Celery worker process for a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Self

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def database_url_for_current_test_db() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("a worker needs a database it can share: PostgreSQL")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def app_process_environment(extra: dict[str, str]) -> dict[str, str]:
    """The environment of an app process (worker, gunicorn) on the test's database.

    It shares the test's cache namespace (see the ``_isolated_cache`` fixture);
    ``extra`` comes last.
    """
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_for_current_test_db(),
        DJANGO_SETTINGS_MODULE="practice.settings",
        PYTHONUNBUFFERED="1",
        # The test's keys, so a worker reads the clinical text the test wrote.
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
    )
    prefix = getattr(settings, "CACHE_KEY_PREFIX_FOR_TEST", None)
    if prefix:
        env["CACHE_KEY_PREFIX"] = prefix
    env.update(extra)
    return env


class _CeleryProcess:
    """A ``celery -A practice <command>`` subprocess, in a process group of its own,
    logging to ``<log_dir>/<name>.log``."""

    command = ""
    ready_line = ""

    def __init__(self, *, env: dict[str, str] | None, log_dir: Path | None, prefix: str) -> None:
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.directory = log_dir or Path(settings.VAR_DIR)
        self.log_path = self.directory / f"{self.name}.log"

    def environment(self) -> dict[str, str]:
        return app_process_environment(self.extra_env)

    def arguments(self) -> list[str]:
        return []

    def start(self, *, wait: bool = True) -> Self:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "practice", self.command, *self.arguments()],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if wait:
            self.wait_until_ready()
        return self

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited early:\n{self.log()}")
            if self.ready_line in self.log():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.command} did not start:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group (main process and pool children) at once."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.process = None


class CeleryWorker(_CeleryProcess):
    """A ``celery worker`` subprocess on the test database and broker."""

    command = "worker"
    ready_line = "ready."

    def __init__(
        self,
        *,
        env: dict[str, str] | None = None,
        concurrency: int = 2,
        log_dir: Path | None = None,
    ) -> None:
        super().__init__(env=env, log_dir=log_dir, prefix="test")
        self.concurrency = concurrency

    def arguments(self) -> list[str]:
        return [
            "--loglevel=INFO",
            f"--concurrency={self.concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{self.name}@%h",
        ]


class CeleryBeat(_CeleryProcess):
    """A ``celery beat`` subprocess with a schedule file of its own.

    Beat only queues tasks by name at their times; what it sends lands in the
    broker of ``REDIS_URL`` (the environment's), for any worker there to run.
    """

    command = "beat"
    ready_line = "beat: Starting"

    def __init__(self, *, env: dict[str, str] | None = None, log_dir: Path | None = None) -> None:
        super().__init__(env=env, log_dir=log_dir, prefix="beat")
        self.schedule_path = self.directory / f"{self.name}-schedule"

    def arguments(self) -> list[str]:
        return ["--loglevel=INFO", f"--schedule={self.schedule_path}", "--max-interval=1"]

    def sent(self, task: str) -> int:
        """How many times beat has queued ``task`` (read from its log)."""
        return sum(
            1
            for line in self.log().splitlines()
            if "Sending due task" in line and f"({task})" in line
        )
