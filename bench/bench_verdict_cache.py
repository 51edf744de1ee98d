"""How long a repeated file takes to decide from the verdict cache, in each store, next to a
full scan of the same files in the same run (the baseline the cache saves).

Prints, per file size, the median and p99 of: a full scan (the scanner the CLI and the service
build, on a private clamd), a hit in memory (`LruCache`, the Lambda's), a hit in a cache folder
(``attachguard scan --cache``), and a hit in the service's database (SQLite here; PostgreSQL too
with ``--postgres URL``). Not a test: it asserts nothing. Target (issue 12): ≤ 5 ms a hit.

    .venv/bin/python bench/bench_verdict_cache.py [--repeat 200] [--postgres URL]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from common import percentile
from corpus import build

from attachguard.cache import CachedScanner, LruCache, VerdictStore
from attachguard.cache_folder import FolderCache
from attachguard.policy import load_policy
from attachguard.runtime import clamd_for
from attachguard.scanner import build_scanner
from attachguard.service.db import Database
from attachguard.service.verdict_cache import DatabaseCache

SIZES = (20_000, 300_000, 2_000_000, 5_000_000)


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def line(label: str, values: list[float]) -> str:
    median, p99 = percentile(values, 50), percentile(values, 99)
    return f"  {label:<28} median {median:8.2f} ms   p99 {p99:8.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="hits timed per store and size")
    parser.add_argument("--scans", type=int, default=5, help="full scans timed per size")
    parser.add_argument("--postgres", metavar="URL", help="also a PostgreSQL database")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp, clamd_for(None) as source:
        root = Path(tmp)
        scanner = build_scanner(load_policy(), source.client)
        stores: dict[str, VerdictStore] = {
            "memory (Lambda)": LruCache(),
            "folder (CLI)": FolderCache(root / "cache"),
        }
        databases = [Database(f"sqlite:///{root / 'meta.db'}")]
        stores["SQLite (service)"] = DatabaseCache(databases[0])
        if args.postgres:
            databases.append(Database(args.postgres))
            stores["PostgreSQL (service)"] = DatabaseCache(databases[1])
        try:
            for size in SIZES:
                extension, data = build("pdf", size, seed=size)
                name = f"return-policy{extension}"
                print(f"{size:,} bytes ({len(data):,} as made), a PDF:")
                print(line("full scan", timed(partial(scanner.scan, data, name), args.scans)))
                digest = partial(hashlib.sha256, data)  # every hit's floor: the key needs it
                print(line("SHA-256 of the bytes alone", timed(digest, args.repeat)))
                for label, store in stores.items():
                    cached = CachedScanner(scanner, store)
                    first = cached.scan(data, name)
                    hit = timed(partial(cached.scan, data, name), args.repeat)
                    if not cached.scan(data, name).cached:
                        print(f"  (not cached: {first.status.value} {first.rejecting_codes})")
                    print(line(f"hit, {label}", hit))
        finally:
            scanner.close()
            for db in databases:
                db.close()


if __name__ == "__main__":
    main()
