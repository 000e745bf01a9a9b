"""Run every benchmark of this folder in turn and collect their RESULT lines.

`make bench` runs this. Each `bench/*.py` (except this file) is run as its own
subprocess with the same Python, its output streamed as it goes; at the end
the RESULT line of each is printed again, together. A benchmark that fails
or prints no RESULT line is reported and makes the exit status 1.

Options: the names of the benchmarks to run (e.g. `seed ingest`); default all.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    wanted = set(sys.argv[1:])
    scripts = sorted(
        path
        for path in HERE.glob("*.py")
        if path.name != Path(__file__).name
        and not path.name.startswith("_")
        and (not wanted or path.stem in wanted)
    )
    if wanted - {path.stem for path in scripts}:
        print(f"unknown benchmarks: {sorted(wanted - {p.stem for p in scripts})}", file=sys.stderr)
        return 2
    results: list[str] = []
    failures: list[str] = []
    for script in scripts:
        print(f"=== bench/{script.name}", flush=True)
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        found: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("RESULT "):
                found.append(line.rstrip("\n"))
        status = proc.wait()
        print(f"=== bench/{script.name}: exit {status} in {time.perf_counter() - started:.0f} s")
        if status != 0 or not found:
            failures.append(f"{script.name} (exit {status}, {len(found)} RESULT lines)")
        results.extend(found)
    print()
    print("=== results")
    for line in results:
        print(line)
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
