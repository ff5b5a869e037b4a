"""`make bench`: run every bench/bench_*.py in its own process, in order.

``make bench ARGS="course feed"`` runs the benches whose names contain one of
the words. Each bench saves its tables under ``bench/results/<title>.json``;
at the end every table there is gathered into ``bench/results/latest.json``
with the machine it ran on, and into ``bench/results/latest.md`` (the same
tables in Markdown). ``--readme`` also writes that Markdown into README.md
between its ``bench:latest`` markers: ``make bench ARGS=--readme`` after a
full run is how the README's table is kept.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LATEST = ("latest.json", "latest.md")
README = ROOT / "README.md"
README_START = "<!-- bench:latest:start (written by bench/run.py --readme) -->"
README_END = "<!-- bench:latest:end -->"


def machine() -> dict[str, object]:
    """What the figures were measured on: CPU model and count, memory, OS, Python."""
    cpu = platform.processor() or platform.machine()
    memory_gib: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": memory_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average": [round(n, 2) for n in os.getloadavg()],
    }


def _markdown(table: dict[str, object]) -> str:
    rows = table.get("rows") or []
    assert isinstance(rows, list)
    lines = [f"**{table['title']}** ({table['measured_at']})", ""]
    if rows:
        keys = list(rows[0])
        lines.append("| " + " | ".join(keys) + " |")
        lines.append("|" + "---|" * len(keys))
        lines += ["| " + " | ".join(str(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def readme_write(markdown: str) -> None:
    """Put ``markdown`` between the README's markers (the tables' headings one level down)."""
    text = README.read_text()
    before, start, rest = text.partition(README_START)
    _, end, after = rest.partition(README_END)
    if not start or not end:
        raise SystemExit(f"README.md has no {README_START} ... {README_END} section")
    README.write_text(f"{before}{README_START}\n{markdown.strip()}\n{README_END}{after}")
    print(f"wrote the tables into {README}", flush=True)


def gather(ran: list[str], *, started: datetime, readme: bool = False) -> None:
    """Every saved table (this run's and earlier ones', each with its time) in one file."""
    tables = []
    for path in sorted(RESULTS.glob("*.json"), key=lambda p: p.stat().st_mtime):
        if path.name in LATEST:
            continue
        table = json.loads(path.read_text())
        measured = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        table["measured_at"] = measured.isoformat(timespec="seconds")
        tables.append(table)
    finished = datetime.now(UTC)
    latest = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "minutes": round((finished - started).total_seconds() / 60, 1),
        "ran": ran,
        "machine": machine(),
        "tables": tables,
    }
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2))
    described = ", ".join(f"{k}: {v}" for k, v in latest["machine"].items())  # type: ignore[attr-defined]
    header = (
        f"Machine: {described}. Benches run: {', '.join(ran)}, in {latest['minutes']} minutes "
        f"(finished {latest['finished_at']}).\n\n"
    )
    markdown = header + "\n".join(_markdown(table) for table in tables)
    (RESULTS / "latest.md").write_text(markdown)
    print(f"\nsaved {RESULTS / 'latest.json'} and latest.md", flush=True)
    if readme:
        # This run's tables only: a table an earlier run left (another size,
        # another bench) is not part of what the README reports.
        fresh = [table for table in tables if str(table["measured_at"]) >= latest["started_at"]]
        readme_write(header + "\n".join(_markdown(table) for table in fresh))


def main() -> int:
    failed = []
    ran = []
    started = datetime.now(UTC)
    readme = "--readme" in sys.argv[1:]
    only = [word for word in sys.argv[1:] if word != "--readme"]
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        if only and not any(name in script.stem for name in only):
            continue
        print(f"\n### {script.name}", flush=True)
        code = subprocess.call(
            [sys.executable, "-c", f"import bench.{script.stem} as b; b.main()"], cwd=ROOT
        )
        ran.append(script.stem)
        if code:
            failed.append(script.name)
    RESULTS.mkdir(exist_ok=True)
    gather(ran, started=started, readme=readme and not failed)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
