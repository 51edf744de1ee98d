"""How long the unit subset (``pytest -m "not integration"``) takes, in one process, with one
worker per core, and with the default (pytest-xdist: tests/conftest.py, a worker per core and
one more), alternating the three in each round.

Prints per round and method the wall time, the CPU seconds of pytest and its workers, and the
load average before the run; then the median wall time of each method. Not a test: it asserts
nothing. Target (issue 7): under 30 s.

    .venv/bin/python bench/bench_unit_suite.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_CORES = os.cpu_count() or 1
METHODS = {
    "one process (-n 0)": ["-n", "0"],
    f"a worker a core (-n {_CORES})": ["-n", str(_CORES), "--dist", "worksteal"],
    "default (cores + 1)": [],
}


def run(extra: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the children, pytest's summary line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not integration", "-p", "no:cacheprovider",
         *extra],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.strip().splitlines() or ["no output"]
    return wall, cpu, lines[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    print(f"{os.cpu_count()} cores; PYTHONDONTWRITEBYTECODE={flag!r}")
    walls: dict[str, list[float]] = {name: [] for name in METHODS}
    run(["--co"])  # compiled modules in place before the first timed run
    for number in range(1, args.rounds + 1):
        for name, extra in METHODS.items():
            load = os.getloadavg()[0]
            wall, cpu, summary = run(extra)
            walls[name].append(wall)
            print(f"round {number}  {name:26} wall {wall:6.1f} s  CPU {cpu:6.1f} s  "
                  f"load before {load:4.1f}  | {summary}")  # fmt: skip
    for name, seen in walls.items():
        print(f"median  {name:26} wall {statistics.median(seen):6.1f} s")


if __name__ == "__main__":
    main()
