"""How many scans one process runs at once, by the size of their files.

The engines are Python: however many threads a process gives them, they share one core's worth
of interpreter (the GIL). Scans at once share it evenly, so N large files that each take 8 s
alone all finish together after 8N s, each past its engine timeout (20 s), where one after the
other each finishes in time: three pdfTeX manuals of 9-13 MB scanned together were all
ENGINE_TIMEOUT, and each alone took 3-11 s. So a file counts its size against `CAPACITY`,
capped there (a large file runs alone, small ones together, as many as the caller's threads
allow), and waits its turn, first come first served, before its scan starts: its deadlines
count from then. A caller with a deadline of its own (a Lambda's) waits no later than that,
and then runs all the same (its engines then run out of time, and say so).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["CAPACITY", "Admission"]

CAPACITY = 4 * 1024 * 1024  # bytes of files in scans at once (a larger file runs alone)


class Admission:
    """Scans in flight, weighed by their files' sizes, admitted in the order they came."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._used = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    @contextmanager
    def admitted(self, size: int, deadline: float | None = None) -> Iterator[None]:
        """Hold a share of the capacity for a scan of ``size`` bytes, once every earlier
        caller has theirs and the share fits; past ``deadline`` (`time.monotonic`), without
        one."""
        weight = max(1, min(size, self.capacity))
        turn = object()
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait >= threading.TIMEOUT_MAX:
            wait = None  # no deadline to speak of (inf)
        with self._changed:
            self._waiting.append(turn)
            try:
                fits = self._changed.wait_for(
                    lambda: self._waiting[0] is turn and self._used + weight <= self.capacity,
                    None if wait is None else max(0.0, wait),
                )
            finally:  # gone from the line however the wait ends
                self._waiting.remove(turn)
                self._changed.notify_all()  # the next in line may fit now
            weight = weight if fits else 0
            self._used += weight
        try:
            yield
        finally:
            with self._changed:
                self._used -= weight
                self._changed.notify_all()
