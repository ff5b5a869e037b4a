"""The first README command, `make run`, on the embedded defaults.

SQLite and the file-system broker under a fresh VAR_DIR, no services: the
site must serve the home page and a healthy /healthz (which needs the worker
and beat that `make run` starts beside the web server).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_make_run_serves_the_demo_practice_with_background_jobs(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "STAFF_MFA_REQUIRED", "DEBUG"}
    }
    env.update(VAR_DIR=str(tmp_path / "var"), PORT=str(port))
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        health: dict[str, object] = {}
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
            except OSError:
                time.sleep(1)
                continue
            health = json.loads(body)
            if status == 200:
                break
            time.sleep(1)
        output = (tmp_path / "run.log").read_text()

        assert health.get("status") == "ok", (health, output)
        assert health["database"] == {"ok": True, "detail": "sqlite"}
        assert health["broker"] == {"ok": True, "detail": "filesystem"}
        status, home = _get(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert b"Harbor Light Therapy" in home
        assert "Therapist (admin): therapist@example.com / demo-therapist-2026" in output
        assert f"The practice is running at http://localhost:{port}/" in output
        assert (tmp_path / "var" / "db.sqlite3").exists()
        # Everything the quick start writes stays under VAR_DIR, the broker's
        # broadcast exchanges too (kombu would otherwise use ./control).
        assert list((tmp_path / "var" / "broker" / "control").iterdir())
        # Nothing alarming for a newcomer to read in what it prints.
        assert "No hostname was supplied" not in output
        assert "Traceback" not in output
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
