"""Benchmark: does the service's memory stay flat over many uploads? (issue 12)

    .venv/bin/python bench/bench_service_rss.py [--uploads 10000] [--max-seconds 300]
        [--clients 4] [--workers 2] [--json]

Starts ``attachguard serve`` (embedded defaults: SQLite, folder store, a private clamd) and
uploads small files of the bench corpus (`bench/corpus.py`, 5-60 KB: photos, PDFs, Office
files, text, media) from ``--clients`` chats at once, each waiting for its verdict before the
next, until ``--uploads`` are done or ``--max-seconds`` have passed. Every upload is new bytes
where that is cheap and keeps the file valid (a line of text, a JPEG comment, a PNG text
chunk, one audio or video byte), so the service's verdict cache does not answer for the
scanner; PDFs and Office files repeat from a pool of 300 (cache hits after the first round).
The service's resident memory (VmRSS) and its clamd's are sampled every second; printed: RSS
after the warm-up (the first tenth of the uploads: models load lazily), at each tenth, the
growth from warm-up to the end, and the growth per 1,000 uploads over the second half (a leak
shows as a steady slope).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import struct
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import corpus
from bench_service import client, start_service

POOL = 300
STATUSES = ("APPROVED", "REJECTED")


def unique(name: str, data: bytes, n: int) -> bytes:
    """``data`` made unique for upload ``n`` while staying a valid file of its kind (PDF and
    Office files are returned as they are)."""
    tag = f"upload {n}".encode()
    kind = name.split("-")[1]
    if kind in ("txt", "csv"):
        return data + b"\n" + tag + b"\n"
    if kind == "jpeg":  # a comment segment right after the start-of-image marker
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(tag) + 2) + tag + data[2:]
    if kind == "png":  # a tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR)
        body = b"tEXt" + b"Comment\x00" + tag
        chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
        return data[:33] + chunk + data[33:]
    if kind in ("wav", "mp4"):  # one sample or payload byte in the middle
        middle = len(data) // 2
        return data[:middle] + bytes([n % 251]) + data[middle + 1 :]
    return data


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def clamd_pid(service: int) -> int | None:
    """The clamd the service started for itself (a child of its process)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == service and "(clamd)" in stat:
            return int(entry.name)
    return None


async def drive(
    base: str, pool: list[tuple[str, bytes]], args: argparse.Namespace, pid: int
) -> tuple[list[dict[str, Any]], list[tuple[float, int, float, float]]]:
    """Upload until done or out of time; samples of (seconds, uploads done, service RSS MB,
    clamd RSS MB) every second."""
    results: list[dict[str, Any]] = []
    samples: list[tuple[float, int, float, float]] = []
    clamd = clamd_pid(pid)
    started = time.monotonic()
    deadline = started + args.max_seconds
    per_client = args.uploads // args.clients
    batch = 20  # files a client uploads between looks at the clock

    async def chat(number: int) -> None:
        done = 0
        while done < per_client and time.monotonic() < deadline:
            files = []
            for i in range(done, min(done + batch, per_client)):
                n = i * args.clients + number
                name, data = pool[n % len(pool)]
                files.append((f"{n:05d}-{name}", unique(name, data, n)))
            await client(base, f"rss-{number}-{done}", files, results)
            done += len(files)

    async def sample() -> None:
        while True:
            service, av = rss_mb(pid), rss_mb(clamd) if clamd else float("nan")
            samples.append((time.monotonic() - started, len(results), service, av))
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(chat(i) for i in range(args.clients)))
    sampler.cancel()
    samples.append((time.monotonic() - started, len(results), rss_mb(pid), rss_mb(clamd or 0)))
    return results, samples


def figures(results: list[dict[str, Any]], samples: list[tuple[float, int, float, float]]) -> Any:
    done = len(results)
    warm = next(s for s in samples if s[1] >= max(1, done // 10))
    tenths = [next(s for s in samples if s[1] >= done * k // 10) for k in range(1, 11)]
    half = next(s for s in samples if s[1] >= done // 2)
    end = samples[-1]
    per_k = (end[2] - half[2]) / max(1, end[1] - half[1]) * 1000
    return {
        "uploads": done,
        "seconds": round(end[0], 1),
        "errors": sum("error" in r for r in results),
        "statuses": {
            s: sum(r.get("status") == s for r in results) for s in ("APPROVED", "REJECTED")
        },
        "warm_up": {"uploads": warm[1], "service_mb": warm[2], "clamd_mb": warm[3]},
        "tenths": [{"uploads": s[1], "service_mb": s[2], "clamd_mb": s[3]} for s in tenths],
        "peak_service_mb": max(s[2] for s in samples),
        "growth_mb": end[2] - warm[2],
        "second_half_mb_per_1000": per_k,
        "clamd_growth_mb": end[3] - warm[3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--clients", type=int, default=4, help="chats uploading at once")
    parser.add_argument("--workers", type=int, default=2, help="the service's scan workers")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    sizes = corpus.mixed_sizes(POOL, seed=21, low=5_000, high=60_000)
    pool = list(corpus.corpus(sizes, seed=21))
    tmp = Path(tempfile.mkdtemp(prefix="agrss-"))
    process = None
    try:
        process, base = start_service(tmp, args.workers)
        results, samples = asyncio.run(drive(base, pool, args, process.pid))
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    out = figures(results, samples) | {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "clients": args.clients,
        "workers": args.workers,
        "asked": args.uploads,
        "max_seconds": args.max_seconds,
        "loadavg_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    print(json.dumps(out, indent=2) if args.json else render(out))


def render(out: dict[str, Any]) -> str:
    lines = [
        f"service RSS over uploads, {out['date']}: {out['cpus']} CPUs, {out['clients']} chats, "
        f"{out['workers']} scan workers; {out['uploads']} of {out['asked']} uploads in "
        f"{out['seconds']} s (limit {out['max_seconds']:g} s); load average after "
        f"{out['loadavg_after']}",
        f"verdicts: {out['statuses']}; errors: {out['errors']}",
        f"after warm-up ({out['warm_up']['uploads']} uploads): service "
        f"{out['warm_up']['service_mb']:.0f} MB, clamd {out['warm_up']['clamd_mb']:.0f} MB",
        "  uploads   service MB   clamd MB",
    ]
    for s in out["tenths"]:
        lines.append(f"  {s['uploads']:>7}   {s['service_mb']:>10.0f}   {s['clamd_mb']:>8.0f}")
    lines.append(
        f"growth warm-up to end: service {out['growth_mb']:+.0f} MB (peak "
        f"{out['peak_service_mb']:.0f} MB), clamd {out['clamd_growth_mb']:+.0f} MB; second half: "
        f"{out['second_half_mb_per_1000']:+.1f} MB per 1,000 uploads"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
