"""``attachguard scan`` on every core: worker processes, each with its own warm scanner.

Most of a scan's own work holds the GIL (pypdf, the Office, zip and text readers: on the
real-world corpus 124 of the 153 CPU seconds were Python threads, docs/benchmarks.md), so the
threads of one process use about one core while clamd gets the other. Worker processes put the
Python work on every core. Memory stays bounded: each worker holds one scanner and at most
``threads`` files, and at most two batches of files per worker are in flight.

Workers are spawned (not forked: the parent may hold threads and sockets), load the policy,
connect to the parent's clamd and build their scanner once; each batch of files comes back as
reports in the order of the files.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from attachguard.report import Report

BATCH = 8  # files per task: few enough to balance the workers, enough to amortise the IPC


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to build the same scanner as the parent would."""

    policy: Path | None
    clamd: str | None  # None: the policy disables the clamav engine
    timeout: float
    threads: int
    cache: Path | None
    cache_entries: int


_worker: dict[str, object] = {}  # the scanner of this worker process, built once


def _start(setup: WorkerSetup) -> None:
    from attachguard.clamav.client import ClamdClient
    from attachguard.cli import _policy, _scanner

    client = (
        ClamdClient(setup.clamd, setup.timeout, max_concurrent=setup.threads)
        if setup.clamd
        else None
    )
    policy = _policy(setup.policy)
    _worker["scanner"] = _scanner(policy, client, setup.threads, setup.cache, setup.cache_entries)
    _worker["threads"] = setup.threads


def _scan_batch(paths: list[Path]) -> list[tuple[Path, Report]]:
    from attachguard.cli import ScansPaths, scan_files

    scanner = cast(ScansPaths, _worker["scanner"])
    return list(scan_files(scanner, paths, cast(int, _worker["threads"])))


def scan_in_processes(
    setup: WorkerSetup, files: list[Path], processes: int
) -> Iterator[tuple[Path, Report]]:
    """Each file's report, in the order of ``files``, from ``processes`` workers."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        processes, mp_context=context, initializer=_start, initargs=(setup,)
    ) as pool:
        pending: deque[Future[list[tuple[Path, Report]]]] = deque()
        for start in range(0, len(files), BATCH):
            pending.append(pool.submit(_scan_batch, files[start : start + BATCH]))
            if len(pending) >= 2 * processes:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
