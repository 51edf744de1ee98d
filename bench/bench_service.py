"""Benchmark: the attachment service over HTTP on loopback, under load from a separate process.

    .venv/bin/python bench/bench_service.py [--clients N] [--files 200] [--max-size 2MB]
                                            [--workers 2] [--url http://host:port] [--json]

Starts ``attachguard serve`` as a subprocess on its embedded defaults (a temporary data folder,
SQLite, a private clamd) unless ``--url`` points at a running service, then runs ``--clients``
concurrent clients. Each client is one chat: it listens to the chat's server-sent events and
uploads its share of a mixed corpus (`bench/corpus.py`: photos, PDFs, Office files, text,
media; sizes log-uniform) one file after another, timing each from the start of the upload to
the APPROVED/REJECTED event. Prints files/s, MB/s, upload-to-verdict p50/p90/p99, the upload
answer time, verdicts and errors (the target for errors is 0). Figures, not pass/fail.

The load benchmark of issue 9: ``--clients`` defaults to twice ``--workers`` (the service's
default, 2), so uploads always wait for a worker; ENGINE_TIMEOUT verdicts (from the service's
``attachguard_rejections_total`` metric) must stay at 0, since an engine's timeout counts from
when it starts, not from when its file was queued.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import corpus
import httpx
from common import free_port, percentile


def _bytes(text: str) -> int:
    """``2MB``, ``500KB`` or plain bytes (decimal units, as the policy counts them)."""
    text = text.strip().upper()
    for unit, factor in (("MB", 1000**2), ("KB", 1000), ("B", 1)):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def start_service(data: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (data / "service.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "attachguard.service.cli",
        "--port",
        str(port),
        "--data",
        str(data / "data"),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited; see {data / 'service.log'}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the service did not become healthy in 180 s")


async def client(
    base: str, chat: str, files: list[tuple[str, bytes]], results: list[dict[str, Any]]
) -> None:
    """One chat: upload each file, wait for its verdict event, then the next."""
    verdicts: dict[str, asyncio.Future[dict[str, Any]]] = {}
    loop = asyncio.get_running_loop()
    timeout = httpx.Timeout(120, connect=10)
    async with httpx.AsyncClient(base_url=base, timeout=timeout) as http:

        async def listen() -> None:
            async with http.stream("GET", f"/v1/chats/{chat}/events") as stream:
                async for line in stream.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    event = json.loads(line[6:])
                    if event["status"] != "IN_PROGRESS":
                        future = verdicts.setdefault(event["id"], loop.create_future())
                        if not future.done():
                            future.set_result(event)

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.2)
        for name, data in files:
            started = time.perf_counter()
            try:
                answer = await http.post(
                    "/v1/attachments",
                    files={"file": (name, data)},
                    data={"chat_id": chat, "sender": "customer"},
                )
                accepted = time.perf_counter()
                if answer.status_code != 202:
                    results.append({"error": f"HTTP {answer.status_code}", "size": len(data)})
                    continue
                id = answer.json()["id"]
                future = verdicts.setdefault(id, loop.create_future())
                event = await asyncio.wait_for(future, timeout=120)
            except (httpx.HTTPError, TimeoutError) as exc:
                results.append({"error": type(exc).__name__, "size": len(data)})
                continue
            results.append(
                {
                    "status": event["status"],
                    "reasons": event["reasons"],
                    "name": name,
                    "size": len(data),
                    "kind": name.split("-")[1],
                    "upload_s": accepted - started,
                    "verdict_s": time.perf_counter() - started,
                }
            )
        listener.cancel()


async def run(base: str, corpus: list[tuple[str, bytes]], clients: int) -> tuple[list[Any], float]:
    shares = [corpus[i::clients] for i in range(clients)]
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    await asyncio.gather(*(client(base, f"bench-{i}", s, results) for i, s in enumerate(shares)))
    return results, time.perf_counter() - started


def _metric(text: str, prefix: str) -> float:
    """The sum of the Prometheus samples whose line starts with ``prefix``."""
    lines = text.splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(prefix))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, help="chats at once; default: 2 x --workers")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--max-size", default="2MB", help="largest file in the corpus")
    parser.add_argument("--workers", type=int, default=2, help="scan threads in the service")
    parser.add_argument("--url", help="benchmark a running service instead of starting one")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.clients = args.clients or 2 * args.workers

    t0 = time.perf_counter()
    sizes = corpus.mixed_sizes(args.files, seed=7, low=10_000, high=_bytes(args.max_size))
    files = list(corpus.corpus(sizes, seed=7))
    total = sum(len(d) for _n, d in files)
    print(
        f"files: {len(files)} files, {total / 1e6:.1f} MB, built in "
        f"{time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )

    tmp = Path(tempfile.mkdtemp(prefix="attachguard-bench-"))
    process = None
    try:
        if args.url:
            base = args.url.rstrip("/")
        else:
            process, base = start_service(tmp, args.workers)
        results, wall = asyncio.run(run(base, files, args.clients))
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)

    done = [r for r in results if "status" in r]
    verdict = [r["verdict_s"] * 1000 for r in done]
    upload = [r["upload_s"] * 1000 for r in done]
    figures = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "clients": args.clients,
        "service_workers": args.workers,
        "files": len(files),
        "megabytes": round(total / 1e6, 1),
        "wall_s": round(wall, 2),
        "files_per_s": round(len(done) / wall, 2),
        "mb_per_s": round(sum(r["size"] for r in done) / 1e6 / wall, 2),
        "verdict_ms": {
            q: round(percentile(verdict, p), 1)
            for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        },
        "upload_answer_ms": {
            "p50": round(percentile(upload, 50), 1),
            "p99": round(percentile(upload, 99), 1),
        },
        "mean_verdict_ms": round(statistics.fmean(verdict), 1) if verdict else None,
        "rejected": [
            f"{r['name']}: {'; '.join(r['reasons'])}" for r in done if r["status"] == "REJECTED"
        ],
        "statuses": {s: sum(r["status"] == s for r in done) for s in ("APPROVED", "REJECTED")},
        "errors": len(results) - len(done),
        "error_kinds": sorted({r["error"] for r in results if "error" in r}),
        "engine_errors": _metric(metrics, "attachguard_engine_errors_total{"),
        "engine_timeouts": _metric(metrics, 'attachguard_rejections_total{code="ENGINE_TIMEOUT"}'),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{figures['files']} files ({figures['megabytes']} MB), {args.clients} clients, "
        f"{args.workers} scan workers, {figures['cpus']} CPUs"
    )
    print(
        f"throughput: {figures['files_per_s']} files/s, {figures['mb_per_s']} MB/s "
        f"(wall {figures['wall_s']} s)"
    )
    v = figures["verdict_ms"]
    print(
        f"upload-to-verdict: p50 {v['p50']} ms, p90 {v['p90']} ms, p99 {v['p99']} ms, "
        f"max {v['max']} ms"
    )
    u = figures["upload_answer_ms"]
    print(f"upload answered (202): p50 {u['p50']} ms, p99 {u['p99']} ms")
    print(
        f"verdicts: {figures['statuses']}; errors: {figures['errors']} "
        f"{figures['error_kinds']}; engine errors: {figures['engine_errors']:g}; "
        f"ENGINE_TIMEOUT verdicts: {figures['engine_timeouts']:g}"
    )


if __name__ == "__main__":
    main()
