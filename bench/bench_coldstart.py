"""Benchmark the container Lambda's cold start with a signature database the size of ClamAV's.

    .venv/bin/python bench/bench_coldstart.py [--hashes 8400000] [--bodies 300000] [--json]

Prints figures, asserts nothing. With a synthetic database (random MD5 hash and body
signatures, `bench_scan.write_signature_db`) of about the official database's signature count:

1. clamd alone on that database: time and CPU to load it, its memory, then a RELOAD with
   ``ConcurrentDatabaseReload yes`` (what a signature update does between events): how long
   until it switches, and its peak memory while it holds both engines;
2. the container entry point (`attachguard.connect.container`) in a new process, as Lambda
   starts it with provisioned concurrency (init waits for clamd), against moto's S3 server on
   loopback, on a small database (``--container-hashes``): import, warm-up, the first event and
   a warm one, the Python process's peak memory — the part that does not depend on the
   database; Lambda's memory must hold it plus clamd's reload peak from step 1;
3. with ``--on-demand``, a second start as an on-demand environment: the first event arrives at
   once and waits for the warm-up, or fails with ScannerNotReady for Connect to retry.

Besides wall time it reports CPU seconds (clamd's from /proc): on a shared machine the wall
time stretches with the load, while clamd's single-threaded load costs about the same CPU.

Each entry-point run gets its own clamd directory (``ATTACHGUARD_CLAMD_DIR``), removed after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_scan import BenchClamd, write_signature_db
from common import free_port

from attachguard import demo, samples

ROOT = Path(__file__).resolve().parent.parent

# A new process that starts like the container Lambda: import the entry point (which starts the
# warm-up), then one event; prints what it measured as JSON on stderr's last line.
CONTAINER = """
import json, os, resource, sys, threading, time
t0 = time.perf_counter()
from attachguard.connect import container
imported = time.perf_counter()
marks = {}
def watch():
    container._warmup._ready.wait()
    marks["ready"] = time.perf_counter()
threading.Thread(target=watch, daemon=True).start()
class Context:
    def __init__(self): self.end = time.monotonic() + 55
    def get_remaining_time_in_millis(self): return int((self.end - time.monotonic()) * 1000)
def status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"): return int(line.split()[1]) / 1024
def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
event = json.loads(sys.argv[1])
try:
    answer = container.handler(event, Context())
except container.ScannerNotReady as exc:
    answer = {"error": "ScannerNotReady"}
answered = time.perf_counter()
ready = container._warmup.wait(900)
time.sleep(0.1)
warm = time.perf_counter()
second = container.handler(event, Context())
done = time.perf_counter()
antivirus = container._warmup.connect.antivirus
clamd_pid = int(open(os.environ["ATTACHGUARD_CLAMD_DIR"] + "/clamd.pid").read())
out = {"import_s": imported - t0, "first_answer": answer,
    "first_event_s": answered - imported, "ready_s": marks["ready"] - t0, "ready": ready,
    "warm_event_ms": (done - warm) * 1000, "second_answer": second,
    "python_hwm_mb": status(os.getpid(), "VmHWM"), "clamd_rss_mb": status(clamd_pid, "VmRSS"),
    "clamd_cpu_s": cpu(clamd_pid),
    "python_cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2])}
if "--reload" in sys.argv:
    before = cpu(clamd_pid)
    begin = time.perf_counter()
    out["reload_switched"] = antivirus._daemon.reload(timeout=900)
    out["reload_s"] = time.perf_counter() - begin
    out["reload_cpu_s"] = cpu(clamd_pid) - before
    out["clamd_after_reload_rss_mb"] = status(clamd_pid, "VmRSS")
out["clamd_hwm_mb"] = status(clamd_pid, "VmHWM")
print(json.dumps(out), file=sys.stderr)
antivirus.stop()
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clamd_alone(database: Path, tmp: Path) -> dict[str, Any]:
    """A clamd on ``database``: load (wall, CPU, memory), then a concurrent RELOAD."""
    clamd = BenchClamd(tmp / "clamd", database, [])
    started = time.perf_counter()
    clamd.start(timeout=1800)
    try:
        load_s = time.perf_counter() - started
        pid = int((clamd.workdir / "clamd.pid").read_text())
        figures = {"load_s": load_s, "load_cpu_s": cpu_s(pid)}
        figures["loaded_rss_mb"] = rss_mb(pid, "VmRSS")
        before = cpu_s(pid)
        begin = time.perf_counter()
        figures["reload_switched"] = clamd.reload(timeout=1800)
        figures["reload_s"] = time.perf_counter() - begin
        figures["reload_cpu_s"] = cpu_s(pid) - before
        figures["reload_peak_rss_mb"] = rss_mb(pid, "VmHWM")
        figures["after_reload_rss_mb"] = rss_mb(pid, "VmRSS")
        return figures
    finally:
        clamd.stop()


def container_start(
    database: Path, event: dict[str, Any], provisioned: bool, reload: bool
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="ag-lambda-"))  # short: it holds clamd's socket
    env = {
        **os.environ,
        "ATTACHGUARD_CLAMD": "private",
        "ATTACHGUARD_CLAMD_DIR": str(workdir),
        "ATTACHGUARD_CLAMAV_DATABASE": str(database),
        "ATTACHGUARD_MODERATION": "none",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    env.pop("ATTACHGUARD_DEFINITIONS", None)
    env.pop("ATTACHGUARD_POLICY", None)
    if provisioned:
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CONTAINER, json.dumps(event), *(["--reload"] if reload else [])],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    wall = time.perf_counter() - started
    shutil.rmtree(workdir, ignore_errors=True)
    lines = [x for x in proc.stderr.splitlines() if x.startswith('{"import_s"')]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"container start failed: {proc.stderr[-2000:]}")
    return {**json.loads(lines[-1]), "process_wall_s": wall}


def s3_event(bucket_dir: str) -> tuple[Any, dict[str, Any]]:
    """moto's S3 server with one receipt PDF; the server and a FILE_SCANNER event for it."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106  (moto on loopback)
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{port}",
    )
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket_dir)
    data = samples.pdf([demo.RECEIPT])
    key = "connect/bench/Attachments/chat/2026/03/14/id_receipt.pdf"
    s3.put_object(Bucket=bucket_dir, Key=key, Body=data)
    location = {"Bucket": bucket_dir, "Key": key, "Arn": f"arn:aws:s3:::{bucket_dir}/{key}"}
    event = {
        "Version": "1.0",
        "InstanceId": "bench",
        "File": {
            "FileId": "bench-receipt",
            "FileCreationTime": 0,
            "FileName": "receipt.pdf",
            "FileSizeInBytes": len(data),
            "FileLocation": {"S3Location": location},
        },
    }
    return server, event


def render(figures: dict[str, Any]) -> str:
    env, db, alone = figures["environment"], figures["database"], figures["clamd"]
    small = figures["container_database"]
    lines = [
        f"attachguard cold start, {env['date']}: {env['cpus']} CPUs, {env['machine']}, "
        f"load average {env['load']} (before the run)",
        f"synthetic database: {db['hashes']:,} hash + {db['bodies']:,} body signatures "
        f"({db['hashes'] + db['bodies']:,}), {db['mb']:.0f} MB of text, written in "
        f"{db['written_s']:.1f} s",
        f"clamd alone: loaded in {alone['load_s']:.1f} s wall, {alone['load_cpu_s']:.1f} s CPU;"
        f" RSS {alone['loaded_rss_mb']:.0f} MB",
        f"  RELOAD (concurrent): switched={alone['reload_switched']} after "
        f"{alone['reload_s']:.1f} s wall, {alone['reload_cpu_s']:.1f} s CPU; peak RSS "
        f"{alone['reload_peak_rss_mb']:.0f} MB, then {alone['after_reload_rss_mb']:.0f} MB",
        f"entry-point runs on {small['hashes']:,} + {small['bodies']:,} signatures:",
    ]
    for name in ("provisioned", "on_demand"):
        if name not in figures:
            continue
        run = figures[name]
        first = run["first_answer"].get("Status") or run["first_answer"].get("error")
        lines += [
            f"container entry point, {name.replace('_', ' ')}: import {run['import_s']:.2f} s,"
            f" warm (clamd answering) {run['ready_s']:.1f} s after process start",
            f"  CPU: clamd {run['clamd_cpu_s']:.1f} s to load, Python {run['python_cpu_s']:.1f} s",
            f"  first event answered {run['first_event_s']:.1f} s after import -> {first}; "
            f"warm event {run['warm_event_ms']:.0f} ms -> {run['second_answer']['Status']}",
            f"  memory: Python peak {run['python_hwm_mb']:.0f} MB, clamd loaded "
            f"{run['clamd_rss_mb']:.0f} MB",
        ]
        if "reload_s" in run:
            lines.append(
                f"  RELOAD (concurrent): switched={run['reload_switched']} after "
                f"{run['reload_s']:.1f} s ({run['reload_cpu_s']:.1f} s CPU); clamd peak "
                f"{run['clamd_hwm_mb']:.0f} MB, then {run['clamd_after_reload_rss_mb']:.0f} MB;"
                f" Python + clamd peak {run['python_hwm_mb'] + run['clamd_hwm_mb']:.0f} MB"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hashes", type=int, default=8_400_000)
    parser.add_argument("--bodies", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--container-hashes",
        type=int,
        default=100_000,
        help="hash signatures for the entry-point runs (their Python side does not depend on "
        "the database; clamd's load is measured on the full one)",
    )
    parser.add_argument(
        "--on-demand", action="store_true", help="also start once as an on-demand environment"
    )
    args = parser.parse_args()
    figures: dict[str, Any] = {
        "environment": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": os.cpu_count(),
            "machine": f"{platform.system()} {platform.machine()}",
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        }
    }
    with tempfile.TemporaryDirectory(prefix="ag-cold-") as tmp_name:
        tmp = Path(tmp_name)
        log(f"writing {args.hashes:,} hash + {args.bodies:,} body signatures...")
        started = time.perf_counter()
        database = write_signature_db(tmp / "db", args.hashes, args.bodies, args.seed)
        figures["database"] = {
            "hashes": args.hashes,
            "bodies": args.bodies,
            "written_s": time.perf_counter() - started,
            "mb": sum(p.stat().st_size for p in database.iterdir()) / 1e6,
        }
        log("clamd alone: load, then a concurrent reload...")
        figures["clamd"] = clamd_alone(database, tmp)
        small = write_signature_db(tmp / "small", args.container_hashes, 5_000, args.seed)
        figures["container_database"] = {"hashes": args.container_hashes, "bodies": 5_000}
        server, event = s3_event("bench-coldstart")
        try:
            log("container entry point, provisioned, then a concurrent reload...")
            figures["provisioned"] = container_start(small, event, True, reload=True)
            if args.on_demand:
                log("container entry point, on demand...")
                figures["on_demand"] = container_start(small, event, False, reload=False)
        finally:
            server.stop()
    print(json.dumps(figures, indent=2) if args.json else render(figures))


if __name__ == "__main__":
    main()
