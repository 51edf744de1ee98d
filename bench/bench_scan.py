"""Benchmark: how fast attachguard scans a mixed corpus of chat attachments, and how a warm clamd
compares with one clamscan process per file (what S3 antivirus Lambdas do).

    .venv/bin/python bench/bench_scan.py [--files 200] [--json]

Prints figures, not pass/fail tests: latency percentiles per type (in-process, warm engines, one
file at a time), files/s with 1, 2 and 4 threads, peak RSS, the cold start of a new process,
then the same synthetic signature database (2 M hash + 100 k body signatures) loaded once in
clamd and once per file by clamscan. clamd's clean-file cache is switched off in both private
clamds: every real upload is a new file, and repeated passes over the corpus must not hit it.
Everything happens in a temporary directory, removed at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import corpus
import numpy as np
from common import percentile

from attachguard import demo
from attachguard.clamav.client import ClamdClient
from attachguard.clamav.daemon import PrivateClamd

TARGETS = {"p50_ms": 50.0, "p99_ms": 500.0, "files_per_s": 40.0, "clamd_speedup": 50.0}
SMALL = 5_000_000  # the latency targets are for files up to this size

COLD_START = """
import json, sys, time
start = time.perf_counter()
from attachguard.clamav.client import ClamdClient
from attachguard.policy import load_policy
from attachguard.scanner import build_scanner
imported = time.perf_counter()
scanner = build_scanner(load_policy(), ClamdClient(sys.argv[1]))
built = time.perf_counter()
report = scanner.scan_path(sys.argv[2])
done = time.perf_counter()
print(json.dumps({"verdict_at": time.time(), "import_s": imported - start,
                  "build_s": built - imported, "first_scan_s": done - built,
                  "status": report.status.value}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BenchClamd(PrivateClamd):
    """The project's private clamd with its clean-file cache off (and any extra options)."""

    def __init__(self, workdir: Path, database: Path | None, options: list[str]) -> None:
        super().__init__(workdir, database)
        self.options = ["DisableCache yes", *options]

    def write_config(self) -> Path:
        path = super().write_config()
        with path.open("a", encoding="utf-8") as config:
            config.write("".join(f"{option}\n" for option in self.options))
        return path

    def peak_rss_mb(self) -> float:
        pid = (self.workdir / "clamd.pid").read_text().strip()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return math.nan


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms, default=math.nan),
    }


def make_file(job: tuple[Path, int, str, int, int]) -> tuple[str, str, int]:
    """Build and write one corpus file (runs in a worker process): (path, kind, size)."""
    folder, index, kind, size, seed = job
    extension, data = corpus.build(kind, size, seed + index)
    path = folder / f"{index:04d}-{kind}-{size}{extension}"
    path.write_bytes(data)
    return str(path), kind, len(data)


def make_corpus(folder: Path, count: int, seed: int) -> list[tuple[Path, str, int]]:
    folder.mkdir(parents=True)
    jobs = [(folder, i, k, s, seed) for i, (k, s) in enumerate(corpus.mixed_sizes(count, seed))]
    # worker processes: the generator's big arrays must not count in this process's peak RSS
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        return [(Path(p), kind, size) for p, kind, size in pool.map(make_file, jobs)]


def write_signature_db(dest: Path, hashes: int, bodies: int, seed: int) -> Path:
    """Random signatures, streamed to ``bench.hdb`` (``md5:size:name``) and ``bench.ndb``
    (``name:0:*:hex``, 20-40 bytes, any file type, anywhere in the file)."""
    dest.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    chunk = 100_000
    with (dest / "bench.hdb").open("w", encoding="ascii") as out:
        for start in range(0, hashes, chunk):
            n = min(chunk, hashes - start)
            md5s, sizes = rng.bytes(16 * n).hex(), rng.integers(1_000, 20_000_000, n).tolist()
            out.write(
                "".join(f"{md5s[32 * i : 32 * i + 32]}:{sizes[i]}:Bench.Hash-{start + i}\n"
                        for i in range(n))
            )  # fmt: skip
    with (dest / "bench.ndb").open("w", encoding="ascii") as out:
        for start in range(0, bodies, chunk):
            lengths = rng.integers(20, 41, min(chunk, bodies - start)).tolist()
            hexes, pos, lines = rng.bytes(sum(lengths)).hex(), 0, []
            for i, length in enumerate(lengths):
                lines.append(f"Bench.Body-{start + i}:0:*:{hexes[pos : pos + 2 * length]}\n")
                pos += 2 * length
            out.write("".join(lines))
    return dest


def scan_one_by_one(scanner: Any, files: list[tuple[Path, str, int]]) -> dict[str, Any]:
    """Latency per file (bytes read before the clock starts), verdicts, time per engine."""
    rows = []
    engines: dict[str, dict[str, list[float]]] = {}  # type -> engine -> ms per file
    started = time.perf_counter()
    for path, kind, size in files:
        data = path.read_bytes()
        begin = time.perf_counter()
        report = scanner.scan(data, path.name)
        ms = (time.perf_counter() - begin) * 1000
        rows.append({"file": path.name, "kind": kind, "size": size, "ms": ms,
                     "status": report.status.value, "reasons": report.reasons})  # fmt: skip
        for engine, spent in report.timings_ms.items():
            engines.setdefault(kind, {}).setdefault(engine, []).append(spent)
    wall = time.perf_counter() - started
    kinds = sorted({r["kind"] for r in rows})
    latency = {k: summary([r["ms"] for r in rows if r["kind"] == k]) for k in kinds}
    latency["all"] = summary([r["ms"] for r in rows])
    latency["all <= 5 MB"] = summary([r["ms"] for r in rows if r["size"] <= SMALL])
    rejected = [
        {"file": r["file"], "reasons": r["reasons"]} for r in rows if r["status"] == "REJECTED"
    ]
    return {
        "latency": latency,
        "files_per_s_1_thread": len(rows) / wall,
        "engine_mean_ms": {
            kind: {e: statistics.fmean(v) for e, v in sorted(by_engine.items())}
            for kind, by_engine in sorted(engines.items())
        },
        "rejected": rejected,
    }


def throughput(scanner: Any, files: list[tuple[Path, str, int]], threads: int) -> float:
    """Files per second with ``threads`` uploads scanned at once (files read in the worker)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda f: scanner.scan_path(f[0]), files))
    return len(files) / (time.perf_counter() - started)


def cold_start(address: str, path: Path, runs: int) -> dict[str, Any]:
    """A new Python process: start → imports → build the scanner → first verdict (median)."""
    results = []
    for _ in range(runs):
        launched = time.time()
        output = subprocess.run(
            [sys.executable, "-c", COLD_START, address, str(path)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        result = json.loads(output.strip().splitlines()[-1])
        result["to_first_verdict_s"] = result.pop("verdict_at") - launched
        results.append(result)
    results.sort(key=lambda r: float(r["to_first_verdict_s"]))
    return {"runs": runs, **results[len(results) // 2]}


def scanned_in_process(args: argparse.Namespace, tmp: Path, files: list[Any]) -> dict[str, Any]:
    from attachguard.policy import load_policy
    from attachguard.scanner import build_scanner

    clamd = BenchClamd(tmp / "clamd", None, args.clamd_option)
    with clamd:
        client = ClamdClient(clamd.address, timeout=120.0)
        out: dict[str, Any] = {"signatures": clamd.database_kind, "clamd": client.version()}
        with build_scanner(load_policy(args.policy), client) as scanner:
            log("warming up on the demo samples...")
            samples = demo.demo_samples()
            verdicts = {n: scanner.scan(data, n).status.value for n, data in samples.items()}
            out["demo_mismatches"] = {n: v for n, v in verdicts.items() if v != demo.EXPECTED[n]}
            log(f"scanning {len(files)} files one at a time...")
            out |= scan_one_by_one(scanner, files)
            out["files_per_s"] = {1: out.pop("files_per_s_1_thread")}
            for threads in args.threads:
                log(f"scanning with {threads} threads...")
                out["files_per_s"][threads] = throughput(scanner, files, threads)
            out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            out["clamd_peak_rss_mb"] = clamd.peak_rss_mb()
        log("cold start...")
        receipt = tmp / "receipt.pdf"
        receipt.write_bytes(samples["receipt.pdf"])
        out["cold_start"] = cold_start(clamd.address, receipt, args.cold_runs)
    return out


def pick(files: list[tuple[Path, str, int]], count: int) -> list[tuple[Path, str, int]]:
    """``count`` files spread evenly over the corpus's size range (by size quantile)."""
    ordered = sorted(files, key=lambda f: f[2])
    return [ordered[int((i + 0.5) * len(ordered) / count)] for i in range(count)]


def clamd_vs_clamscan(args: argparse.Namespace, tmp: Path, files: list[Any]) -> dict[str, Any]:
    log(f"writing {args.hashes:,} hash + {args.bodies:,} body signatures...")
    started = time.perf_counter()
    database = write_signature_db(tmp / "syndb", args.hashes, args.bodies, args.seed)
    out: dict[str, Any] = {
        "hash_signatures": args.hashes,
        "body_signatures": args.bodies,
        "generated_s": time.perf_counter() - started,
        "database_mb": sum(p.stat().st_size for p in database.iterdir()) / 1e6,
    }
    log("loading them in clamd...")
    started = time.perf_counter()
    clamd = BenchClamd(tmp / "clamd-syn", database, args.clamd_option)
    with clamd:
        out["clamd_load_s"] = time.perf_counter() - started
        out["clamd_rss_mb"] = clamd.peak_rss_mb()
        client = ClamdClient(clamd.address, timeout=120.0)
        corpus_ms = []
        for path, _, _ in files:
            data = path.read_bytes()
            begin = time.perf_counter()
            client.instream(data)
            corpus_ms.append((time.perf_counter() - begin) * 1000)
        out["clamd_corpus"] = summary(corpus_ms) | {"mean_ms": statistics.fmean(corpus_ms)}
        chosen = pick(files, args.clamscan_files)
        rows: list[dict[str, Any]] = []
        for path, kind, size in chosen:
            data = path.read_bytes()
            begin = time.perf_counter()
            answer = client.instream(data)
            clamd_s = time.perf_counter() - begin
            log(f"clamscan {path.name}...")
            begin = time.perf_counter()
            run = subprocess.run(
                ["clamscan", f"--database={database}", "--no-summary", str(path)],
                capture_output=True, text=True,
            )  # fmt: skip
            clamscan_s = time.perf_counter() - begin
            if run.returncode not in (0, 1):
                raise RuntimeError(f"clamscan failed: {run.stderr.strip()[-500:]}")
            rows.append({"file": path.name, "kind": kind, "size": size, "clamd_ms": clamd_s * 1000,
                         "clamscan_s": clamscan_s, "agree": (answer.signature is None) ==
                         (run.returncode == 0)})  # fmt: skip
    out["files"] = rows
    out["clamd_mean_ms"] = statistics.fmean(r["clamd_ms"] for r in rows)
    out["clamscan_mean_s"] = statistics.fmean(r["clamscan_s"] for r in rows)
    # per file, clamscan pays the database load plus the same scan: the ratio falls with size
    out["speedup_median"] = statistics.median(r["clamscan_s"] * 1000 / r["clamd_ms"] for r in rows)
    out["speedup_of_means"] = out["clamscan_mean_s"] * 1000 / out["clamd_mean_ms"]
    return out


def mark(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def render(figures: dict[str, Any]) -> str:
    env, corpus = figures["environment"], figures["corpus"]
    lines = [
        f"attachguard benchmark, {env['date']}: {env['cpus']} CPUs, {env['machine']}, "
        f"Python {env['python']}, load average {env['loadavg']} at start, "
        f"{env.get('loadavg_end', '?')} at the end",
        f"corpus: {corpus['files']} files, {corpus['mb']:.0f} MB, {corpus['min_kb']:.0f} KB to "
        f"{corpus['max_mb']:.1f} MB (log-uniform sizes), built in {corpus['built_s']:.0f} s",
    ]
    scan = figures.get("scan")
    if scan:
        lines += [
            f"clamd: {scan['clamd']}, {scan['signatures']} signatures (cache off)",
            "",
            "latency per file, in-process, warm, one at a time (ms)",
            f"  {'type':<12}{'n':>5}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}",
        ]
        for kind, s in scan["latency"].items():
            lines.append(
                f"  {kind:<12}{s['n']:>5}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}"
                f"{s['p99_ms']:>9.1f}{s['max_ms']:>9.1f}"
            )
        small = scan["latency"]["all <= 5 MB"]
        lines.append(
            f"  files <= 5 MB: p50 {small['p50_ms']:.1f} ms (target <= 50: "
            f"{mark(small['p50_ms'] <= TARGETS['p50_ms'])}), p99 {small['p99_ms']:.1f} ms "
            f"(target <= 500: {mark(small['p99_ms'] <= TARGETS['p99_ms'])})"
        )
        by_type = scan["engine_mean_ms"]
        names = sorted({e for engines in by_type.values() for e in engines} - {"total"})
        lines += ["", "where the time goes: mean ms per file, by engine (children included)"]
        lines.append(f"  {'type':<8}" + "".join(f"{n[:8]:>9}" for n in [*names, "total"]))
        for kind, engines in by_type.items():
            cells = [engines.get(n) for n in [*names, "total"]]
            lines.append(f"  {kind:<8}" + "".join("        -" if c is None else f"{c:>9.1f}"
                                                   for c in cells))  # fmt: skip
        lines.append("")
        best = max(scan["files_per_s"].values())
        rates = ", ".join(f"{t} thread(s) {r:.1f}" for t, r in scan["files_per_s"].items())
        lines.append(f"files/s: {rates} (target >= 40: {mark(best >= TARGETS['files_per_s'])})")
        lines.append(
            f"peak RSS: bench process {scan['peak_rss_mb']:.0f} MB (scanner, engines, Magika), "
            f"clamd {scan['clamd_peak_rss_mb']:.0f} MB"
        )
        cold = scan["cold_start"]
        lines.append(
            f"cold start, process start to first verdict (median of {cold['runs']}): "
            f"{cold['to_first_verdict_s']:.2f} s (imports {cold['import_s']:.2f} s, build "
            f"{cold['build_s']:.2f} s, first scan {cold['first_scan_s']:.2f} s), {cold['status']}"
        )
        lines.append(f"demo verdicts that differ from demo.EXPECTED: {scan['demo_mismatches']}")
        lines.append(f"corpus files rejected (all are clean): {len(scan['rejected'])}")
        lines += [f"  {r['file']}: {'; '.join(r['reasons'])}" for r in scan["rejected"][:10]]
    sig = figures.get("signatures")
    if sig:
        c = sig["clamd_corpus"]
        lines += [
            "",
            f"synthetic database: {sig['hash_signatures']:,} hash + {sig['body_signatures']:,} "
            f"body signatures, {sig['database_mb']:.0f} MB, written in {sig['generated_s']:.1f} s",
            f"  clamd load {sig['clamd_load_s']:.1f} s, clamd RSS {sig['clamd_rss_mb']:.0f} MB",
            f"  warm clamd INSTREAM over the corpus: mean {c['mean_ms']:.1f} ms, p50 "
            f"{c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms",
            f"  {'file':<34}{'size':>10}{'clamd ms':>10}{'clamscan s':>12}{'ratio':>9}",
        ]
        for row in sig["files"]:
            lines.append(
                f"  {row['file'][:34]:<34}{row['size']:>10,}{row['clamd_ms']:>10.1f}"
                f"{row['clamscan_s']:>12.2f}{row['clamscan_s'] * 1000 / row['clamd_ms']:>8.0f}x"
                + ("" if row["agree"] else "  verdicts differ")
            )
        lines.append(
            f"  warm clamd is {sig['speedup_median']:.0f}x faster per file (median of the per-file"
            f" ratios; target >= 50x: {mark(sig['speedup_median'] >= TARGETS['clamd_speedup'])});"
            f" ratio of the means {sig['speedup_of_means']:.0f}x (clamd {sig['clamd_mean_ms']:.1f}"
            f" ms vs clamscan {sig['clamscan_mean_s']:.2f} s)"
        )
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200, help="corpus size (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, nargs="*", default=[2, 4])
    parser.add_argument("--policy", help="policy YAML (default: the packaged one)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--hashes", type=int, default=2_000_000)
    parser.add_argument("--bodies", type=int, default=100_000)
    parser.add_argument("--clamscan-files", type=int, default=5)
    parser.add_argument("--clamd-option", action="append", default=[],
                        help='extra clamd.conf line, e.g. "ScanImageFuzzyHash no"')  # fmt: skip
    parser.add_argument("--skip", choices=["scan", "signatures"], action="append", default=[])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="agbench-"))  # short: clamd's socket lives in it
    try:
        figures: dict[str, Any] = {
            "environment": {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "cpus": os.cpu_count(),
                "machine": f"{platform.system()} {platform.machine()}",
                "python": platform.python_version(),
                "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                "args": {k: v for k, v in vars(args).items() if k not in ("json", "keep")},
            }
        }
        log(f"building {args.files} corpus files in {tmp}...")
        started = time.perf_counter()
        files = make_corpus(tmp / "corpus", args.files, args.seed)
        sizes = [size for _, _, size in files]
        figures["corpus"] = {
            "files": len(files), "mb": sum(sizes) / 1e6, "min_kb": min(sizes) / 1e3,
            "max_mb": max(sizes) / 1e6, "built_s": time.perf_counter() - started,
            "kinds": {k: sum(1 for f in files if f[1] == k) for k in corpus.MIX},
        }  # fmt: skip
        if "scan" not in args.skip:
            figures["scan"] = scanned_in_process(args, tmp, files)
        if "signatures" not in args.skip:
            figures["signatures"] = clamd_vs_clamscan(args, tmp, files)
        figures["environment"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(json.dumps(figures, indent=2) if args.json else render(figures))
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
