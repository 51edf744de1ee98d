"""Benchmark: replicas of `attachguard serve` on PostgreSQL + an S3 server + one clamd.

    .venv/bin/python bench/bench_replicas.py [--files 150] [--clients 8] [--workers 2]
                                             [--sweep-rows 100000] [--corpus text|mixed]
                                             [--burst 30] [--old-defaults] [--json]

Starts everything it needs in a temporary folder: a PostgreSQL cluster (Debian's binaries,
``initdb``), moto's S3 server (``moto_server``, a subprocess) and one private clamd on the
generated test signatures. Then, figures only (it asserts nothing):

1. **the sweep's database cost**: ``--sweep-rows`` decided rows plus 20 waiting ones; the time
   of one sweep query with revision 0002's partial index and, as the baseline, without it;
2. **throughput and latency** for 1 and 3 replicas (a fresh database and bucket each):
   ``--clients`` clients, each a chat sending its files one after another (waiting for each
   verdict) round-robin over the replicas; files/s over the run and upload-to-verdict
   p50/p99 (``created_at`` → ``updated_at`` of each row: no polling error in the figure);
3. **take-over and hand-over** with 3 replicas on the default lease (10 s) and sweep (1 s):
   ``--burst`` (30) uploads to one replica at once, SIGKILL, seconds until the others hold or
   have decided everything it held; then the same with SIGTERM. ``--old-defaults`` also
   measures take-over with the settings before issue 14 (lease 120 s, sweep 15 s) as a
   baseline: about 2 more minutes.

Files are short chat notes by default (cheap to scan: the figures show what replicas add or
cost, not the engines), or with ``--corpus mixed`` `bench/corpus.py`'s mix (photos, PDFs,
Office files, text, media) at 5 KB to 500 KB; all distinct, so the verdict cache never answers.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import itertools
import json
import os
import platform
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import corpus
import httpx
from common import free_port, percentile
from sqlalchemy import func, insert, select, text

from attachguard.clamav.daemon import PrivateClamd
from attachguard.clamav.signatures import build_test_database
from attachguard.demo import EICAR
from attachguard.service.db import IN_PROGRESS, Database, attachments, engine_for, sweep_query

t = attachments.c
BOUND = 300.0
INDEX = "ix_attachguard_attachments_unsettled"


# --- the servers ----------------------------------------------------------------------------


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster (trust, fsync off); yields the server's base URL."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL server binaries not installed (apt-get install postgresql)")
    bindir = found[-1].parent
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # in /tmp itself: the postgres user cannot enter a private temporary folder of root's
    root = Path(tempfile.mkdtemp(prefix="attachguard-bench-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if prefix:
        user = pwd.getpwnam("postgres").pw_name
        for path in (root, sockets):
            shutil.chown(path, user)
    port = free_port()

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def new_database(server: str, name: str) -> str:
    engine = engine_for(f"{server}/postgres")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return f"{server}/{name}"


@contextlib.contextmanager
def s3_server(root: Path) -> Iterator[str]:
    """moto's S3 server in its own process (not this one: the load runs here)."""
    port = free_port()
    log = (root / "moto.log").open("wb")
    moto = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    process = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106
        AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL_S3=endpoint,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(endpoint, timeout=2)
            break
        if time.monotonic() > deadline:
            raise SystemExit("moto_server did not start")
        time.sleep(0.2)
    try:
        yield endpoint
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def new_bucket() -> str:
    import boto3  # type: ignore[import-untyped]

    name = f"bench-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


class Replica:
    """One `attachguard serve` subprocess."""

    def __init__(self, root: Path, clamd: str, database: str, bucket: str, *extra: str) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = root / f"replica-{port}.log"
        command = [
            sys.executable, "-m", "attachguard.service.cli", "--port", str(port),
            "--data", str(root / f"data-{port}"), "--clamd", clamd, "--database-url", database,
            "--s3-bucket", bucket, *extra,
        ]  # fmt: skip
        with self.log.open("wb") as out:
            env = {**os.environ, "ATTACHGUARD_QUIET": "1"}
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.owner = ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + BOUND
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"a replica exited; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(f"{self.url}/readyz", timeout=5)
                if answer.status_code == 200:
                    self.owner = answer.json()["replica"]
                    return
            if time.monotonic() > deadline:
                raise SystemExit("a replica did not become ready")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@contextlib.contextmanager
def replicas(
    n: int, root: Path, clamd: str, database: str, bucket: str, *extra: str
) -> Iterator[list[Replica]]:
    started = [Replica(root, clamd, database, bucket, *extra) for _ in range(n)]
    try:
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        for replica in started:
            replica.stop()


# --- the measurements -----------------------------------------------------------------------


def sweep_cost(server: str, rows: int, repeat: int = 50) -> dict[str, Any]:
    """Milliseconds per sweep query over ``rows`` settled rows, with and without the index."""
    db = Database(new_database(server, "bench_sweep"))
    now = time.time()
    base = {"chat_id": "bench", "sender": "c", "file_name": "f.txt", "ext": ".txt", "size": 1,
            "sha256": "0" * 64, "staging_key": "s", "final_key": "f", "attempts": 1}  # fmt: skip
    with db.engine.begin() as conn:
        for start in range(0, rows, 10_000):
            batch = [
                base
                | {
                    "id": str(uuid.uuid4()),
                    "status": "APPROVED",
                    "settled": True,
                    "created_at": now - rows + i,
                    "updated_at": now,
                }
                for i in range(start, min(rows, start + 10_000))
            ]
            conn.execute(insert(attachments), batch)
        waiting = [
            base
            | {
                "id": str(uuid.uuid4()),
                "status": IN_PROGRESS,
                "settled": False,
                "created_at": now,
                "updated_at": now,
                "lease_until": now + 3600,
            }
            for _ in range(20)
        ]
        conn.execute(insert(attachments), waiting)
        conn.execute(text("ANALYZE attachguard_attachments"))

    def timed() -> float:
        db.orphans()
        start = time.perf_counter()
        for _ in range(repeat):
            db.orphans()
        return (time.perf_counter() - start) / repeat * 1000

    indexed, plan = timed(), _plan(db)
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP INDEX {INDEX}"))
        conn.execute(text("ANALYZE attachguard_attachments"))
    plain = timed()
    db.close()
    return {
        "rows": rows,
        "ms_with_index": round(indexed, 3),
        "ms_without_index": round(plain, 2),
        "plan_uses_index": INDEX in plan,
    }


def _plan(db: Database) -> str:
    """PostgreSQL's plan for the sweep's query."""
    sql = sweep_query(time.time()).compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        return "\n".join(str(row[0]) for row in conn.execute(text(f"EXPLAIN {sql}")))


def _decided(db: Database, id: str) -> bool:
    with db.engine.connect() as conn:
        status = conn.execute(select(t.status).where(t.id == id)).scalar_one_or_none()
    return status not in (None, IN_PROGRESS)


def _files(kind: str, count: int, seed: int) -> list[tuple[str, bytes]]:
    """``count`` distinct files: short chat notes (``text``), or the mixed corpus."""
    if kind == "mixed":
        sizes = corpus.mixed_sizes(count, seed=seed, low=5_000, high=500_000)
        return list(corpus.corpus(sizes, seed=seed))
    note = "Order {i} (run {seed}): the parcel arrived in good condition, thank you.\n"
    return [(f"note-{i}.txt", note.format(i=i, seed=seed).encode() * 4) for i in range(count)]


def throughput(
    n: int, args: argparse.Namespace, root: Path, clamd: str, server: str, seed: int
) -> dict[str, Any]:
    """``args.files`` files from ``args.clients`` closed-loop clients over ``n`` replicas."""
    url = new_database(server, f"bench_{n}_{seed}")
    bucket = new_bucket()
    files = _files(args.corpus, args.files, seed)
    db = Database(url)
    extra = ("--workers", str(args.workers))
    with replicas(n, root, clamd, url, bucket, *extra) as running:
        turn = itertools.count()
        lock = threading.Lock()
        errors = 0

        def one(name: str, data: bytes) -> None:
            nonlocal errors
            with lock:
                replica = running[next(turn) % n]
            answer = httpx.post(
                f"{replica.url}/v1/attachments", files={"file": (name, data)}, timeout=BOUND
            )
            if answer.status_code != 202:
                errors += 1
                return
            id = answer.json()["id"]
            deadline = time.monotonic() + BOUND
            while not _decided(db, id) and time.monotonic() < deadline:
                time.sleep(0.05)

        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda f: one(*f), files))
    with db.engine.connect() as conn:
        rows = conn.execute(select(t.created_at, t.updated_at, t.status)).all()
    db.close()
    waits = [(u - c) * 1000 for c, u, s in rows if s != IN_PROGRESS]
    span = max(u for _, u, _ in rows) - min(c for c, _, _ in rows)
    return {
        "replicas": n,
        "files": len(rows),
        "files_per_s": round(len(rows) / span, 1),
        "p50_ms": round(percentile(waits, 50)),
        "p99_ms": round(percentile(waits, 99)),
        "errors": errors,
    }


def _held(db: Database, owner: str) -> int:
    with db.engine.connect() as conn:
        stmt = select(func.count()).where(t.owner == owner, t.status == IN_PROGRESS)
        return int(conn.execute(stmt).scalar_one())


def _handed(log: Path) -> dict[str, Any]:
    """What the replica's own hand-over log line says (SIGTERM only)."""
    found = re.search(r"hand-over done: (\{.*\})", log.read_text())
    return {"hand_over": ast.literal_eval(found.group(1))} if found else {}


def _released(db: Database, owner: str) -> bool:
    return _held(db, owner) == 0


def _seconds_until(check: Callable[[], bool]) -> float:
    start = time.monotonic()
    while not check() and time.monotonic() - start < BOUND:
        time.sleep(0.05)
    return time.monotonic() - start


def takeover(
    root: Path, clamd: str, server: str, name: str, *extra: str, term: bool = True, burst: int = 30
) -> dict[str, Any]:
    """Seconds from SIGKILL (and SIGTERM) of a replica just sent ``burst`` uploads to the moment
    the others hold or have decided every one it held."""
    url = new_database(server, name)
    bucket = new_bucket()
    db = Database(url)
    out: dict[str, Any] = {}
    with replicas(3, root, clamd, url, bucket, *extra) as running:
        signals = [("sigkill", signal.SIGKILL)] + ([("sigterm", signal.SIGTERM)] if term else [])
        for (label, sig), victim in zip(signals, running, strict=False):

            def post(i: int, label: str = label, victim: Replica = victim) -> None:
                data = EICAR if i % 4 == 3 else f"{label} {i} {uuid.uuid4()}\n".encode()
                files = {"file": (f"{i}.txt", data)}
                httpx.post(f"{victim.url}/v1/attachments", files=files, timeout=BOUND)

            with ThreadPoolExecutor(8) as pool:  # faster than it scans: work piles up
                list(pool.map(post, range(burst)))
            owner = victim.owner
            held = _held(db, owner)
            victim.process.send_signal(sig)
            seconds = _seconds_until(functools.partial(_released, db, owner))
            victim.process.wait(BOUND)
            out[label] = {"held": held, "seconds": round(seconds, 1)} | _handed(victim.log)
    db.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", choices=("text", "mixed"), default="text")
    parser.add_argument("--sweep-rows", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=30, help="uploads sent to the victim")
    parser.add_argument("--old-defaults", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    }
    with tempfile.TemporaryDirectory(prefix="attachguard-bench-replicas-") as tmp:
        root = Path(tmp)
        with (
            postgres() as server,
            s3_server(root),
            PrivateClamd(root / "clamd", database=build_test_database(root / "testdb")) as clamd,
        ):
            results["sweep"] = sweep_cost(server, args.sweep_rows)
            results["throughput"] = [
                throughput(n, args, root, clamd.address, server, seed)
                for n, seed in ((1, 1), (3, 3))
            ]
            results["takeover"] = takeover(
                root, clamd.address, server, "bench_takeover", burst=args.burst
            )
            if args.old_defaults:
                old = ("--lease-seconds", "120", "--sweep-seconds", "15")
                results["takeover_old_defaults"] = takeover(
                    root, clamd.address, server, "bench_old", *old, term=False, burst=args.burst
                )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    _print(results)


def _print(results: dict[str, Any]) -> None:
    print(f"machine: {results['machine']}")
    sweep = results["sweep"]
    print(
        f"sweep query over {sweep['rows']:,} rows: {sweep['ms_with_index']} ms with the partial "
        f"index (used: {sweep['plan_uses_index']}), {sweep['ms_without_index']} ms without "
        "(baseline)"
    )
    print("replicas  files  files/s  p50 ms  p99 ms  errors")
    for row in results["throughput"]:
        print(
            f"{row['replicas']:>8}  {row['files']:>5}  {row['files_per_s']:>7}  {row['p50_ms']:>6}"
            f"  {row['p99_ms']:>6}  {row['errors']:>6}"
        )
    for key in ("takeover", "takeover_old_defaults"):
        if key in results:
            for label, figures in results[key].items():
                print(f"{key} {label}: {figures['held']} held, {figures['seconds']} s")
                if "hand_over" in figures:
                    print(f"   the replica's own hand-over: {figures['hand_over']}")


if __name__ == "__main__":
    main()
