"""The quick start on a VAR_DIR it cannot write: one clear message, no traceback.

``make run`` first runs ``manage.py migrate`` on the embedded defaults, which
keep the SQLite database, the file-system job queue and the generated keys
under VAR_DIR. Run as a user the directory's mode binds (root ignores it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.support import unprivileged
from tests.support.worker import ROOT

# What the quick start is run with: none of the services' variables.
SERVICE_VARIABLES = {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "STAFF_MFA_REQUIRED", "DEBUG"}


@pytest.fixture
def read_only_dir() -> Iterator[Path]:
    """A directory nobody may write, where any user can reach it (under /tmp)."""
    directory = Path(tempfile.mkdtemp(prefix="practice-faults-ro-"))
    directory.chmod(0o555)
    try:
        yield directory
    finally:
        directory.chmod(0o755)
        shutil.rmtree(directory)


def quick_start_first_step(var_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES | {"VAR_DIR"}}
    env["VAR_DIR"] = str(var_dir)
    command = unprivileged([sys.executable, "manage.py", "migrate", "--no-input"])
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("inside", [False, True], ids=["read-only", "under-a-read-only-parent"])
def test_a_read_only_var_dir_stops_the_quick_start_with_one_clear_message(read_only_dir, inside):
    var_dir = read_only_dir / "var" if inside else read_only_dir

    result = quick_start_first_step(var_dir)

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert output.strip().splitlines() == [
        f"Error: VAR_DIR {var_dir} cannot be written (Permission denied). The app keeps its "
        "database, job queue and keys there: make that directory writable for the user that "
        "runs the app, or set VAR_DIR to a directory that user can write."
    ]
    assert list(read_only_dir.iterdir()) == []
