"""Shared pieces of the benchmarks in bench/.

Every figure is a ratio against a baseline measured in the same run on the
same server (a bare Django page or form), so results compare across machines.

- ``bench_database(name)``: a fresh, migrated PostgreSQL database.
- ``django_setup(database_url)``: configure Django in this process against it.
- ``serve(database_url)``: gunicorn serving the app with production settings.
- ``load(url, ...)``: drive a URL with wrk; returns requests/s and p99.
- ``report(title, rows)``: print a table and save it under bench/results/.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
_VAR_DIR = tempfile.mkdtemp(prefix="practice-bench-")
_FIELD_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like process (DEBUG off) on this machine."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        REDIS_URL=BENCH_REDIS_URL,
        DEBUG="false",
        SECRET_KEY=env.get("BENCH_SECRET_KEY", secrets.token_urlsafe(50)),
        FIELD_ENCRYPTION_KEYS=env.get("BENCH_FIELD_ENCRYPTION_KEYS", _FIELD_KEY),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        STAFF_MFA_REQUIRED="true",
        VAR_DIR=_VAR_DIR,
        EMAIL_URL="consolemail://",
        LOG_LEVEL="WARNING",
    )
    env["BENCH_SECRET_KEY"] = env["SECRET_KEY"]
    env.update(extra)
    os.environ["BENCH_SECRET_KEY"] = env["SECRET_KEY"]
    return env


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as c:
        c.execute(sql)


def bench_database(name: str, *, seed: bool = False) -> str:
    """Drop and create ``bench_<name>``, migrate it, collect static; return its URL.

    ``seed`` adds the demo practice (``manage.py seed_demo``).
    """
    db = f"bench_{re.sub(r'[^a-z0-9_]', '_', name.lower())}"
    _admin_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    _admin_sql(f'CREATE DATABASE "{db}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
    env = bench_env(url)
    commands = [["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]]
    if seed:
        commands.append(["seed_demo"])
    for command in commands:
        subprocess.run(
            [PYTHON, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return url


def django_setup(database_url: str) -> None:
    os.environ.update(bench_env(database_url))
    import django

    django.setup()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(
    database_url: str, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run gunicorn (sync workers) on a free port; yield its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "practice.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--access-logfile",
            "/dev/null",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=bench_env(database_url, **(env or {})),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/bench/bare/", timeout=2)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def csrf_cookie(url: str) -> str:
    """GET ``url`` and return the CSRF cookie it sets (also valid as the token)."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        for header in response.headers.get_all("Set-Cookie") or []:
            match = re.match(r"csrftoken=([^;]+)", header)
            if match:
                return match.group(1)
    raise RuntimeError(f"no CSRF cookie from {url}")


_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
"""


def _lua(value: str) -> str:
    return "[==[" + value + "]==]"


def load(
    url: str,
    *,
    seconds: int = 10,
    connections: int = 8,
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
    warmup: int = 2,
    extra_lua: str = "",
) -> dict[str, float]:
    """Drive ``url`` with wrk (one thread); return rps, p99 in ms and non-2xx/3xx count.

    ``extra_lua`` is added to the wrk script, e.g. a ``request()`` that varies each request.
    """
    script = (
        _WRK_SCRIPT.format(
            method=_lua(method),
            body=_lua(body),
            headers="\n".join(
                # The spaces matter: ``[[==[`` would open a Lua long string.
                f"wrk.headers[ {_lua(k)} ] = {_lua(v)}"
                for k, v in (headers or {}).items()
            ),
        )
        + extra_lua
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        lua = handle.name
    base = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", lua]
    if warmup:
        subprocess.run([*base, f"-d{warmup}s", url], check=True, capture_output=True)
    run = subprocess.run([*base, f"-d{seconds}s", url], check=True, capture_output=True, text=True)
    # wrk runs on with plain GETs when its script does not load; refuse that.
    if "error" in run.stderr.lower():
        raise RuntimeError(f"wrk could not load its script: {run.stderr.strip()}")
    out = run.stdout
    Path(lua).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": round(rps, 1),
        "p99_ms": round(p99_ms, 2),
        "errors": int(bad.group(1)) if bad else 0,
    }


def report(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n== {title} ==")
    if rows:
        keys = list(rows[0])
        widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
        print("  ".join(k.ljust(widths[k]) for k in keys))
        for row in rows:
            print("  ".join(str(row.get(k, "")).ljust(widths[k]) for k in keys))
    RESULTS.mkdir(exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    (RESULTS / f"{slug}.json").write_text(json.dumps({"title": title, "rows": rows}, indent=2))


def start_celery_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A real Celery worker (2 processes) logging to ``log``, once it says it is ready."""
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "practice", "worker", "--concurrency=2",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or worker.poll() is not None:
            worker.kill()
            raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    return worker


def wait_then_stop(
    worker: subprocess.Popen[bytes], done: Callable[[], bool], what: str
) -> list[int]:
    """Wait (15 minutes at most) until ``done()``; stop the worker; return each
    of its processes' peak resident memory in KiB (VmHWM), main process first."""
    try:
        deadline = time.monotonic() + 900
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not finish in 15 minutes")
            time.sleep(0.5)
        return [_peak_kib(pid) for pid in [worker.pid, *_children(worker.pid)]]
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
