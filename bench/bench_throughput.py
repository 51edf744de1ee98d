"""Benchmark: attachguard's wall time against the antivirus alone, on the same files, in the
same run (issue 12).

    .venv/bin/python bench/bench_throughput.py [--rounds 3] [--jobs N] [--sweep]
        [--corpus bench,realworld] [--files 60] [--profile] [--json]

One private clamd (official signatures when installed, else the generated test set; its
clean-file cache off, so no pass is served from a previous one) serves every method. For each
corpus (the bench corpus: ``--files`` files from `corpus.mixed_sizes` up to 5 MB, built in child
processes; the real-world corpus of tests/support/realworld_data.py, copied into one folder),
each round runs, in this order:

- clamd alone, all cores: ``clamdscan --multiscan --fdpass FOLDER`` (the floor);
- attachguard in-process: `attachguard.cli.scan_files` over a warm scanner, ``--jobs`` at once;
- clamd alone, one file at a time: ``clamdscan --stream FOLDER``;
- attachguard's CLI as a subprocess (``attachguard scan --json --jobs N``: interpreter start,
  imports and Magika's model load included; worker processes, one per core), and the same
  with ``--processes 1`` (threads in one process);
- with ``--before SRC``, the CLI of another copy of attachguard's ``src`` folder (the code
  before a change), on the same files in the same rounds;
- with ``--sweep``, attachguard in-process with 1, 2, 4 and 8 jobs.

The headline is the median over rounds of attachguard's time over the floor's in the same
round. Then one pass one file at a time gives latency per file (p50/p99, files up to 5 MB) and
the mean time per engine; ``--profile`` repeats that pass under cProfile in every thread and
prints the functions with the most own time. Peak RSS: this process (the scanner; corpora are
built elsewhere), the CLI subprocess with its worker processes (summed), clamd.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import corpus
from bench_scan import BenchClamd, make_file
from common import percentile
from threadprofile import own_time, profiled, render_profile

from attachguard.cache import CachedScanner
from attachguard.cache_folder import FolderCache
from attachguard.clamav.client import ClamdClient
from attachguard.cli import default_jobs, scan_files
from attachguard.pipeline import Scanner
from attachguard.policy import load_policy
from attachguard.scanner import build_scanner

SMALL = 5_000_000
FLOOR = "clamd multiscan (floor)"
BEFORE = "CLI before (--before)"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench_corpus(folder: Path, count: int, seed: int) -> list[Path]:
    """``count`` files up to 5 MB in the contact-center mix, built in child processes."""
    folder.mkdir(parents=True)
    sizes = corpus.mixed_sizes(count, seed, high=SMALL)
    jobs = [(folder, i, kind, size, seed) for i, (kind, size) in enumerate(sizes)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return sorted(Path(path) for path, _, _ in pool.map(make_file, jobs))


def realworld(folder: Path) -> list[Path]:
    """The real-world corpus copied into one folder (clamdscan --multiscan parallelises over a
    folder, not over a list of files), each under its own name after an index."""
    from support.realworld_data import realworld_corpus

    folder.mkdir(parents=True)
    for index, f in enumerate(realworld_corpus()):
        shutil.copyfile(f.path, folder / f"{index:04d}-{f.path.name}")
    return sorted(folder.iterdir())


def clamdscan(config: Path, folder: Path, *mode: str) -> None:
    """One clamdscan over ``folder`` (exit 0 clean, 1 found; 2 is an error)."""
    command = ["clamdscan", f"--config-file={config}", "--no-summary", "--quiet", *mode]
    done = subprocess.run([*command, str(folder)], capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"clamdscan failed ({done.returncode}): {done.stderr[-500:]}")


def in_process(scanner: Scanner, files: list[Path], jobs: int) -> None:
    forget(scanner)
    for _ in scan_files(scanner, files, jobs):
        pass


def forget(scanner: Scanner) -> None:
    """The type detector's remembered model answers dropped: every round and pass sees the
    files as new, as a CLI run does (an upload is a new file; a repeated one is the verdict
    cache's business, measured apart)."""
    drop = getattr(scanner.detector, "forget", None)
    if drop is not None:
        drop()


def cli(
    address: str,
    folder: Path,
    jobs: int,
    policy: Path | None,
    out: dict[str, Any],
    source: Path | None = None,
    processes: int | None = None,
) -> None:
    """``attachguard scan`` in a new process; its peak RSS and verdicts go into ``out``.
    ``source``: another copy of attachguard's ``src`` folder to run instead (``--before``)."""
    command = [sys.executable, "-m", "attachguard.cli", "scan", "--json", "--jobs", str(jobs)]
    command += ["--clamd", address, *(["--policy", str(policy)] if policy else []), str(folder)]
    command[-1:-1] = ["--processes", str(processes)] if processes else []
    env = os.environ | ({"PYTHONPATH": str(source)} if source else {})
    with tempfile.TemporaryFile() as stdout:
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.DEVNULL, env=env)
        peak = tree_rss_peak(process)
        stdout.seek(0)
        reports = [json.loads(line) for line in stdout.read().splitlines()]
    if process.returncode not in (0, 1):
        raise RuntimeError(f"attachguard scan exited {process.returncode}")
    key = "before_" if source else "one_process_" if processes == 1 else ""
    rss = max(out.get(f"{key}cli_peak_rss_mb", 0.0), peak)
    out[f"{key}cli_peak_rss_mb"] = rss
    out[f"{key}cli_rejected"] = sum(r["status"] == "REJECTED" for r in reports)


def tree_rss_peak(process: subprocess.Popen[bytes]) -> float:
    """Wait for ``process``; the largest sum of the resident memory (MB) of it and its
    descendants (the CLI's worker processes), sampled every 0.1 s. (``ru_maxrss`` will not
    do: on Linux a child inherits this process's high-water mark through fork and exec.)"""
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, sum(_rss_mb(pid) for pid in _tree(process.pid)))
        time.sleep(0.1)
    return peak


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            todo += [
                int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()
            ]
        except OSError:
            continue
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(clamd: BenchClamd) -> tuple[float, float]:
    """CPU time so far of clamd, and of this process (every thread) with its waited-for
    children (clamdscan, the CLI): under other load, steadier measures than wall time."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    pid = (clamd.workdir / "clamd.pid").read_text().strip()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    clamd_ticks = int(fields[11]) + int(fields[12])  # utime, stime
    own = time.process_time() + children.ru_utime + children.ru_stime
    return clamd_ticks / os.sysconf("SC_CLK_TCK"), own


def rounds(
    args: argparse.Namespace, clamd: BenchClamd, scanner: Scanner, files: list[Path]
) -> dict[str, Any]:
    """Every method once per round, in a fixed order: wall and CPU seconds of each."""
    folder = files[0].parent
    out: dict[str, Any] = {}
    floor = ("--multiscan", "--fdpass")
    run_cli = functools.partial(cli, clamd.address, folder, args.jobs, args.policy, out)
    methods: dict[str, Callable[[], None]] = {
        FLOOR: lambda: clamdscan(clamd.config, folder, *floor),
        f"attachguard in-process, {args.jobs} jobs": lambda: in_process(scanner, files, args.jobs),
        "clamd stream, one at a time": lambda: clamdscan(clamd.config, folder, "--stream"),
        f"attachguard CLI, {args.jobs} jobs": run_cli,
    }  # fmt: skip
    methods[f"attachguard CLI, {args.jobs} jobs, 1 process"] = functools.partial(
        run_cli, processes=1
    )
    if args.before:
        methods[BEFORE] = functools.partial(run_cli, source=args.before)
    for jobs in (1, 2, 4, 8) if args.sweep else ():
        methods[f"sweep: in-process, {jobs} jobs"] = lambda j=jobs: in_process(scanner, files, j)  # type: ignore[misc]
    wall: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    clamd_cpu: dict[str, list[float]] = {name: [] for name in methods}
    for number in range(args.rounds):
        for name, method in methods.items():
            (clamd_before, own_before), started = cpu_seconds(clamd), time.perf_counter()
            method()
            wall[name].append(time.perf_counter() - started)
            clamd_after, own_after = cpu_seconds(clamd)
            clamd_cpu[name].append(clamd_after - clamd_before)
            cpu[name].append(clamd_cpu[name][-1] + own_after - own_before)
            log(f"  round {number + 1}: {name}: {wall[name][-1]:.2f} s, CPU {cpu[name][-1]:.2f} s")
    return out | {"seconds": wall, "cpu_seconds": cpu, "clamd_cpu_seconds": clamd_cpu}


def _ratios(times: dict[str, list[float]]) -> dict[str, float]:
    """Each method's median over rounds of its time over the floor's in the same round."""
    floor = times[FLOOR]
    return {
        method: statistics.median(t / f for t, f in zip(runs, floor, strict=True))
        for method, runs in times.items()
    }


def cache_hits(scanner: Scanner, files: list[Path], folder: Path) -> dict[str, Any]:
    """Every file through a `CachedScanner` on a folder cache twice: the second pass is all
    hits. Milliseconds per hit (bytes in memory, as the Lambda has them), and how many of the
    first pass's verdicts were stored."""
    cached = CachedScanner(scanner, FolderCache(folder))
    contents = [(path.name, path.read_bytes()) for path in files[:200]]
    for name, data in contents:
        cached.scan(data, name)
    ms: list[tuple[int, float]] = []
    for name, data in contents:
        begin = time.perf_counter()
        report = cached.scan(data, name)
        ms.append((len(data), (time.perf_counter() - begin) * 1000))
        if not report.cached:
            ms.pop()  # a verdict that is never stored (an engine timed out under load)
    by_size = {"<= 1 MB": [t for n, t in ms if n <= 1e6], "1-5 MB": [t for n, t in ms if n > 1e6]}
    return {
        "files": len(contents),
        "hits": len(ms),
        "ms": {
            label: {"n": len(t), "p50": percentile(t, 50), "p99": percentile(t, 99)}
            for label, t in by_size.items()
        },
    }


def one_at_a_time(scanner: Scanner, files: list[Path]) -> dict[str, Any]:
    """Latency per file (bytes read first) and the mean ms per engine (children included)."""
    ms: list[tuple[int, float]] = []
    engines: dict[str, list[float]] = {}
    rejected = []
    slowest = []
    forget(scanner)
    for path in files:
        data = path.read_bytes()
        begin = time.perf_counter()
        report = scanner.scan(data, path.name)
        ms.append((len(data), (time.perf_counter() - begin) * 1000))
        for engine, spent in report.timings_ms.items():
            engines.setdefault(engine, []).append(spent)
        if not report.approved:
            rejected.append({"file": path.name, "codes": report.rejecting_codes})
        slowest.append((ms[-1][1], path.name, len(data), report.timings_ms))
    slowest.sort(key=lambda row: -row[0])
    small = [t for size, t in ms if size <= SMALL]
    return {
        "p50_ms": percentile(small, 50),
        "p99_ms": percentile(small, 99),
        "max_ms": max(small, default=float("nan")),
        "n_small": len(small),
        "engine_mean_ms": {e: sum(v) / len(files) for e, v in sorted(engines.items())},
        "rejected": rejected,
        "slowest": [
            {"ms": t, "file": name, "size": size, "engines_ms": spent}
            for t, name, size, spent in slowest[:10]
        ],
    }


def corpus_figures(
    args: argparse.Namespace, name: str, files: list[Path], clamd: BenchClamd, scanner: Scanner
) -> dict[str, Any]:
    size = sum(p.stat().st_size for p in files)
    log(f"{name}: {len(files)} files, {size / 1e6:.0f} MB")
    # warm up: lazy loads in the scanner, the files in the page cache
    list(scan_files(scanner, files[:10], args.jobs))
    clamdscan(clamd.config, files[0].parent, "--multiscan", "--fdpass")
    out: dict[str, Any] = {"files": len(files), "mb": size / 1e6}
    if args.rounds:  # --rounds 0: latency, engines and the profile only
        out |= rounds(args, clamd, scanner, files)
        out["ratio_to_floor"] = _ratios(out["seconds"])
        out["cpu_ratio_to_floor"] = _ratios(out["cpu_seconds"])
    log(f"{name}: one file at a time...")
    out["one_at_a_time"] = one_at_a_time(scanner, files)
    with tempfile.TemporaryDirectory(prefix="agcache-") as folder:
        out["cache"] = cache_hits(scanner, files, Path(folder))
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "loadavg_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "jobs": args.jobs,
        "corpora": {},
    }
    with tempfile.TemporaryDirectory(prefix="agtp-") as tmp:  # short: clamd's socket lives here
        work = Path(tmp)
        corpora = {}
        if "bench" in args.corpus:
            corpora["bench"] = bench_corpus(work / "bench", args.files, args.seed)
        if "realworld" in args.corpus:
            corpora["realworld"] = realworld(work / "realworld")
        clamd = BenchClamd(work / "clamd", None, args.clamd_option)
        with clamd:
            client = ClamdClient(clamd.address, timeout=120.0, max_concurrent=16)
            out["clamd"] = f"{client.version()} ({clamd.database_kind} signatures, cache off)"
            out["clamd_options"] = args.clamd_option

            def factory() -> Scanner:
                return build_scanner(load_policy(args.policy), client, concurrency=args.jobs)

            with factory() as scanner:
                for name, files in corpora.items():
                    out["corpora"][name] = corpus_figures(args, name, files, clamd, scanner)
            out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            out["clamd_peak_rss_mb"] = clamd.peak_rss_mb()
            if args.profile:
                files = [f for group in corpora.values() for f in group]
                log("profiling the one-at-a-time pass...")
                out["profile"] = own_time(profiled(factory, files), args.top)
    out["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return out


def render(out: dict[str, Any]) -> str:
    lines = [
        f"attachguard throughput, {out['date']}: {out['cpus']} CPUs, load average "
        f"{out['loadavg_before']} before, {out['loadavg_after']} after; {out['jobs']} jobs"
        f"clamd: {out['clamd']} {' '.join(out['clamd_options'])}",
    ]
    for name, c in out["corpora"].items():
        lines += ["", f"{name}: {c['files']} files, {c['mb']:.0f} MB"]
        lines += [
            "  medians over rounds; CPU: this process, its children and clamd",
            f"  {'method':<34}{'wall s':>8}{'files/s':>8}{'x floor':>8}{'CPU s':>8}{'x floor':>8}"
            f"{'clamd':>7}   wall s per round",
        ]
        for method, times in c.get("seconds", {}).items():
            median = statistics.median(times)
            runs = " ".join(f"{t:.2f}" for t in times)
            cpu = statistics.median(c["cpu_seconds"][method])
            clamd_cpu = statistics.median(c["clamd_cpu_seconds"][method])
            lines.append(
                f"  {method:<34}{median:>8.2f}{c['files'] / median:>8.1f}"
                f"{c['ratio_to_floor'][method]:>8.2f}{cpu:>8.2f}"
                f"{c['cpu_ratio_to_floor'][method]:>8.2f}{clamd_cpu:>7.2f}   {runs}"
            )
        one = c["one_at_a_time"]
        lines.append(
            f"  one at a time, files <= 5 MB (n={one['n_small']}): p50 {one['p50_ms']:.0f} ms, "
            f"p99 {one['p99_ms']:.0f} ms, max {one['max_ms']:.0f} ms"
        )
        spent = sorted(one["engine_mean_ms"].items(), key=lambda kv: -kv[1])
        lines.append("  mean ms per file: " + ", ".join(f"{e} {ms:.1f}" for e, ms in spent))
        lines.append("  slowest files, one at a time:")
        for row in one["slowest"]:
            spent = sorted(row["engines_ms"].items(), key=lambda kv: -kv[1])
            top = ", ".join(f"{e} {t:.0f}" for e, t in spent[:4])
            lines.append(f"    {row['ms']:>7.0f} ms {row['size']:>11,} B  {row['file']}  ({top})")
        hits = c["cache"]
        lines.append(
            f"  verdict cache (folder), {hits['hits']} hits of {hits['files']} files: "
            + "; ".join(
                f"{label} (n={t['n']}) p50 {t['p50']:.2f} ms, p99 {t['p99']:.2f} ms"
                for label, t in hits["ms"].items()
            )
        )
        lines.append(
            f"  rejected: {len(one['rejected'])}; CLI rejected: {c.get('cli_rejected')}"
            + (f"; CLI before: {c['before_cli_rejected']}" if "before_cli_rejected" in c else "")
        )
        for r in one["rejected"][:10]:
            lines.append(f"    {r['file']}: {', '.join(r['codes'])}")
    lines += [
        "",
        f"peak RSS: bench process (scanner) {out['peak_rss_mb']:.0f} MB, clamd "
        f"{out['clamd_peak_rss_mb']:.0f} MB; attachguard CLI (the sum over its processes, "
        "sampled every 0.1 s) "
        + ", ".join(
            f"{n}: {c.get('cli_peak_rss_mb', 0):.0f} MB, one process "
            f"{c.get('one_process_cli_peak_rss_mb', 0):.0f} MB"
            + (
                f", before {c['before_cli_peak_rss_mb']:.0f} MB"
                if "before_cli_peak_rss_mb" in c
                else ""
            )
            for n, c in out["corpora"].items()
        ),
    ]
    if "profile" in out:
        lines += render_profile(out["profile"])
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="default: 2 per core")
    parser.add_argument("--sweep", action="store_true", help="also in-process with 1-8 jobs")
    parser.add_argument(
        "--corpus", default="bench,realworld", type=_corpora,
        help="bench, realworld, or both: bench,realworld (the default)",
    )  # fmt: skip
    parser.add_argument("--files", type=int, default=60, help="files in the bench corpus")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--profile", action="store_true", help="cProfile the one-at-a-time pass")
    parser.add_argument("--top", type=int, default=30, help="functions shown by --profile")
    parser.add_argument("--clamd-option", action="append", default=[], metavar="LINE")
    parser.add_argument("--policy", type=Path, help="policy YAML (default: the packaged one)")
    parser.add_argument(
        "--before",
        type=Path,
        metavar="SRC",
        help="also time the CLI of another copy of attachguard's src folder, in the same rounds",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    return parser.parse_args()


def _corpora(text: str) -> str:
    """``--corpus``: "bench", "realworld" or both, comma-separated; anything else refused."""
    names = {name.strip() for name in text.split(",")}
    if not names or not names <= {"bench", "realworld"}:
        raise argparse.ArgumentTypeError(f"{text!r}: name bench, realworld or bench,realworld")
    return text


def main() -> None:
    args = parse_args()
    if shutil.which("clamdscan") is None:
        raise SystemExit("clamdscan is missing (Debian: apt-get install clamdscan)")
    out = run(args)
    print(json.dumps(out, indent=2) if args.json else render(out))


if __name__ == "__main__":
    main()
