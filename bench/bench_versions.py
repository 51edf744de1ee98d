"""Two copies of attachguard's ``src`` folder (the code before and after a change), the same
files, the same clamd: ``attachguard scan --json`` of each over the folder in a new process,
alternating in each round. Prints each version's wall and CPU seconds (the scan process and
its children; clamd's CPU apart) and every file whose verdict or finding codes differ.

    git archive COMMIT src | tar -x -C /tmp/before   # and the same for the other version
    .venv/bin/python bench/bench_versions.py /tmp/before/src /tmp/after/src \\
        [--corpus bench|realworld | --folder DIR] [--files 60] [--rounds 2]

Each version runs with its own packaged default policy, one file at a time (versions before
issue 12 have no ``--jobs``). This checkout's installed metadata lists the engines' entry points;
one whose module a version does not have (an engine added later) is left out for that version,
by a ``sitecustomize`` shim put first on its ``PYTHONPATH``. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_scan import BenchClamd
from bench_throughput import bench_corpus, realworld
from bench_throughput import cpu_seconds as clamd_cpu_seconds

# Imported by the interpreter at start-up from the first PYTHONPATH entry: drops the
# attachguard.engines entry points whose module this version of src does not have.
_SHIM = """\
import importlib.metadata as _metadata
import importlib.util as _util

_entry_points = _metadata.entry_points


def _present(point):
    try:
        return _util.find_spec(point.module) is not None
    except ImportError:
        return False


def entry_points(**selection):
    found = _entry_points(**selection)
    if selection.get("group") != "attachguard.engines":
        return found
    return _metadata.EntryPoints(point for point in found if _present(point))


_metadata.entry_points = entry_points
"""


def scan(
    source: Path, shim: Path, address: str, folder: Path
) -> tuple[float, float, dict[str, tuple[str, list[str]]]]:
    """Wall seconds, CPU seconds of the scan's processes, and each file's (status, codes)."""
    command = [sys.executable, "-m", "attachguard.cli", "scan", "--json"]
    command += ["--clamd", address, str(folder)]
    env = os.environ | {"PYTHONPATH": f"{shim}{os.pathsep}{source}", "ATTACHGUARD_QUIET": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stdout:
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.DEVNULL, env=env)
        process.wait()
        stdout.seek(0)
        reports = [json.loads(line) for line in stdout.read().splitlines()]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if process.returncode not in (0, 1):
        raise RuntimeError(f"attachguard scan ({source}) exited {process.returncode}")
    verdicts = {
        Path(r["file"]).name: (r["status"], sorted({f["code"] for f in r["findings"]}))
        for r in reports
    }
    return wall, cpu, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the src folder before the change")
    parser.add_argument("after", type=Path, help="the src folder after the change")
    parser.add_argument("--corpus", default="bench", choices=("bench", "realworld"))
    parser.add_argument("--folder", type=Path, help="scan this folder's files instead")
    parser.add_argument("--files", type=int, default=60, help="files in the bench corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    versions = {"before": args.before.resolve(), "after": args.after.resolve()}
    walls: dict[str, list[float]] = {name: [] for name in versions}
    cpus: dict[str, list[float]] = {name: [] for name in versions}
    clamd_cpus: dict[str, list[float]] = {name: [] for name in versions}
    verdicts: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="agv-") as tmp:  # short: clamd's socket lives here
        work = Path(tmp)
        shim = work / "shim"
        shim.mkdir()
        (shim / "sitecustomize.py").write_text(_SHIM)
        if args.folder:
            files = sorted(p for p in args.folder.resolve().iterdir() if p.is_file())
        elif args.corpus == "bench":
            files = bench_corpus(work / "files", args.files, args.seed)
        else:
            files = realworld(work / "files")
        folder = files[0].parent
        size = sum(f.stat().st_size for f in files) / 1e6
        print(f"{args.folder or args.corpus}: {len(files)} files, {size:.0f} MB")
        with BenchClamd(work / "clamd", None, []) as clamd:
            for number in range(1, args.rounds + 1):
                for name, source in versions.items():
                    clamd_before = clamd_cpu_seconds(clamd)[0]
                    wall, cpu, verdicts[name] = scan(source, shim, clamd.address, folder)
                    clamd_cpus[name].append(clamd_cpu_seconds(clamd)[0] - clamd_before)
                    walls[name].append(wall)
                    cpus[name].append(cpu)
                    print(f"round {number}  {name:6}  wall {wall:6.1f} s  CPU {cpu:6.1f} s  "
                          f"clamd CPU {clamd_cpus[name][-1]:5.1f} s", flush=True)  # fmt: skip
    for name in versions:
        rejected = sum(status == "REJECTED" for status, _ in verdicts[name].values())
        print(f"median  {name:6}  wall {statistics.median(walls[name]):6.1f} s  "
              f"CPU {statistics.median(cpus[name]):6.1f} s  rejected {rejected}")  # fmt: skip
    after, before = verdicts["after"], verdicts["before"]
    differ = sorted(name for name in after if after[name] != before.get(name))
    print(f"files whose verdict or codes differ: {len(differ)}")
    for name in differ:
        print(f"  {name}: before {before.get(name)}, after {after[name]}")


if __name__ == "__main__":
    main()
