"""`make bench`: run every bench/bench_*.py in its own process, in order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    failed = []
    only = sys.argv[1:]
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        if only and not any(name in script.stem for name in only):
            continue
        print(f"\n### {script.name}", flush=True)
        code = subprocess.call(
            [sys.executable, "-c", f"import bench.{script.stem} as b; b.main()"], cwd=ROOT
        )
        if code:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
