"""The Nu HTML Checker (the W3C's ``vnu.jar``), run once over a batch of pages.

``.ci/run`` installs Java (Debian's ``default-jre-headless``) and fetches the
pinned ``vnu-jar`` package's ``vnu.jar`` into ``.venv/vnu/``; ``VNU_JAR``
points elsewhere. One JVM checks every page: starting Java is most of the cost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VNU_JAR = ROOT / ".venv" / "vnu" / "vnu.jar"


def vnu_command() -> list[str] | None:
    """``java -jar vnu.jar``, or ``None`` when Java or the jar is missing."""
    java = shutil.which("java")
    jar = Path(os.environ.get("VNU_JAR") or DEFAULT_VNU_JAR)
    if java is None or not jar.is_file():
        return None
    return [java, "-Xss2m", "-jar", str(jar)]


def vnu_errors(command: list[str], pages: dict[str, str], workdir: Path) -> list[str]:
    """Check every page (name to HTML) in one run; return its errors, one line each."""
    names: dict[str, str] = {}
    files: list[str] = []
    for number, (name, html) in enumerate(pages.items()):
        path = (workdir / f"page-{number:03d}.html").resolve()
        path.write_text(html, encoding="utf-8")
        names[path.as_uri()] = name
        files.append(str(path))
    result = subprocess.run(  # noqa: S603  (our own java and jar, our own files)
        [*command, "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(result.stderr or result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"vnu did not answer in JSON (exit {result.returncode}):\n{result.stderr[-2000:]}"
        ) from exc
    problems = []
    for message in report.get("messages", []):
        if message.get("type") not in ("error", "non-document-error"):
            continue
        page = names.get(_as_uri(message.get("url", "")), message.get("url", "?"))
        extract = message.get("extract", "").replace("\n", " ")
        problems.append(
            f"{page} line {message.get('lastLine', '?')}: {message['message']}  [{extract}]"
        )
    if result.returncode != 0 and not problems:
        raise AssertionError(f"vnu failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return problems


def _as_uri(url: str) -> str:
    # vnu reports file:/tmp/x.html; pathlib writes file:///tmp/x.html.
    if url.startswith("file:") and not url.startswith("file://"):
        return "file://" + url.removeprefix("file:")
    return url
