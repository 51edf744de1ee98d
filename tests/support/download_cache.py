"""Where downloaded test data is kept, and one lock over it: test processes (pytest-xdist's
workers, two suites at once) may all find the data missing, and only one may fetch it."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_dir() -> Path:
    configured = os.environ.get("ATTACHGUARD_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "attachguard-test-data"


@contextmanager
def locked(cache: Path) -> Iterator[Path]:
    """``cache``, created, held by this process alone until the block ends."""
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield cache
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
