"""`make bench`: run every bench/bench_*.py in its own process, in order.

``make bench ARGS="course feed"`` runs the benches whose names contain one of
the words. Each bench saves its tables under ``bench/results/<title>.json``;
at the end every table there is gathered into ``bench/results/latest.json``
with the machine it ran on, and into ``bench/results/latest.md`` (the same
tables in Markdown, for the README).
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


def gather(ran: list[str]) -> None:
    """Every saved table (this run's and earlier ones', each with its time) in one file."""
    tables = []
    for path in sorted(RESULTS.glob("*.json"), key=lambda p: p.stat().st_mtime):
        if path.name in LATEST:
            continue
        table = json.loads(path.read_text())
        measured = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        table["measured_at"] = measured.isoformat(timespec="seconds")
        tables.append(table)
    latest = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "ran": ran,
        "machine": machine(),
        "tables": tables,
    }
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2))
    header = ", ".join(f"{k}: {v}" for k, v in latest["machine"].items())  # type: ignore[attr-defined]
    (RESULTS / "latest.md").write_text(
        f"Machine: {header}\n\n" + "\n".join(_markdown(table) for table in tables)
    )
    print(f"\nsaved {RESULTS / 'latest.json'} and latest.md", flush=True)


def main() -> int:
    failed = []
    ran = []
    only = sys.argv[1:]
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
    gather(ran)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
