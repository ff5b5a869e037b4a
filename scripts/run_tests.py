"""`make test`: ruff (lint, format), mypy, `makemigrations --check`, then pytest.

Uses PostgreSQL and Redis when they answer (or where DATABASE_URL and
REDIS_URL point), otherwise SQLite and the file-system broker, and says which.
With CI=true it requires PostgreSQL, Redis and Chromium and fails rather than
skip. Extra arguments go to pytest.

pytest runs in as many processes as the machine has cores (pytest-xdist, a
test module to a process; ``TEST_PROCESSES=1`` runs them in this one). Each
process has its own test database, Redis database and VAR_DIR
(tests/support/xdist_env.py), so tests that start real workers never share a
queue.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() == "true"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/practice"
# A Redis database of its own, so a `make run` on the same server never takes
# the tests' tasks.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def run(*command: str, env: dict[str, str]) -> int:
    print("$", " ".join(command), flush=True)
    return subprocess.call(command, cwd=ROOT, env=env)


def parallel(env: dict[str, str]) -> list[str]:
    processes = int(env.get("TEST_PROCESSES") or os.cpu_count() or 1)
    if processes <= 1:
        return []
    # A module's tests stay in one process: module-scoped fixtures (a set of
    # app processes, a browser page) are started once, not once per process.
    return ["-n", str(processes), "--dist", "loadfile", "--durations=10"]


def main() -> int:
    env = dict(os.environ)
    problems: list[str] = []

    database_url = env.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if answers(database_url, 5432):
        env["DATABASE_URL"] = database_url
        print(f"tests: PostgreSQL at {urlparse(database_url).hostname}")
    else:
        problems.append(f"PostgreSQL does not answer at {database_url}")
        env.pop("DATABASE_URL", None)
        print("tests: PostgreSQL not found; using SQLite (tests that need it will skip)")

    redis_url = env.get("REDIS_URL", DEFAULT_REDIS_URL)
    if answers(redis_url, 6379):
        env["REDIS_URL"] = redis_url
        print(f"tests: Redis at {redis_url}")
    else:
        problems.append(f"Redis does not answer at {redis_url}")
        env.pop("REDIS_URL", None)
        print("tests: Redis not found; using the file-system broker")

    if not Path("/usr/bin/chromium").exists():
        problems.append("Chromium is not installed at /usr/bin/chromium")
        print("tests: Chromium not found; browser tests will skip")

    if IN_CI and problems:
        for problem in problems:
            print(f"CI=true: {problem}", file=sys.stderr)
        return 1

    # Tests never touch the developer's var/ (database, broker, secret key).
    env["VAR_DIR"] = tempfile.mkdtemp(prefix="practice-test-var-")
    env.setdefault("STAFF_MFA_REQUIRED", "true")
    env.setdefault("DEBUG", "true")
    env["EMAIL_URL"] = "consolemail://"

    try:
        # makemigrations only compares models with migration files; it runs
        # on the throwaway SQLite so it needs no database to exist.
        offline = {k: v for k, v in env.items() if k != "DATABASE_URL"}
        steps = [
            ((str(BIN / "ruff"), "check", "."), env),
            ((str(BIN / "ruff"), "format", "--check", "."), env),
            ((str(BIN / "mypy"), "."), offline),
            ((str(BIN / "python"), "manage.py", "makemigrations", "--check", "--dry-run"), offline),
            ((str(BIN / "python"), "-m", "pytest", *parallel(env), *sys.argv[1:]), env),
        ]
        for step, step_env in steps:
            code = run(*step, env=step_env)
            if code != 0:
                return code
        return 0
    finally:
        shutil.rmtree(env["VAR_DIR"], ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
