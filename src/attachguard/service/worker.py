"""`Worker`: a bounded pool of scan threads fed by a bounded queue, plus a periodic sweep.

Uploads are answered as soon as the bytes are in staging; the scan runs here. The queue is
bounded so a burst cannot grow memory without limit (the API answers 503 when it is full), and
the sweep re-queues work nobody holds a lease on: scans a crashed replica left behind, and
uploads that arrived while the queue was full.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("attachguard.service")

_STOP = ""


class Worker:
    """``threads`` scan threads running ``process(id)``; ``find_work()`` is called every
    ``sweep_seconds`` and its ids are queued (ids already queued are skipped)."""

    def __init__(
        self,
        process: Callable[[str], object],
        find_work: Callable[[], list[str]],
        threads: int = 2,
        queue_size: int = 1000,
        sweep_seconds: float = 15.0,
    ) -> None:
        self._process = process
        self._find_work = find_work
        self._queue: queue.Queue[str] = queue.Queue(maxsize=queue_size)
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._busy = 0
        self._sweep_seconds = sweep_seconds
        self._threads = [
            threading.Thread(target=self._run, name=f"scan-{i}", daemon=True)
            for i in range(threads)
        ]
        self._sweeper = threading.Thread(target=self._sweep_loop, name="sweep", daemon=True)

    @property
    def depth(self) -> int:
        """Attachments waiting for a scan thread."""
        return self._queue.qsize()

    @property
    def busy(self) -> int:
        """Attachments being scanned right now."""
        return self._busy

    def full(self) -> bool:
        return self._queue.full()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self.sweep()
        self._sweeper.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; scans in flight get ``timeout`` seconds to finish. Queued ids stay
        IN_PROGRESS in the database and are picked up by the next start."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        for _ in self._threads:
            try:
                self._queue.put_nowait(_STOP)
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(timeout)

    def submit(self, id: str) -> bool:
        """Queue ``id``; False when the queue is full (the sweep will queue it later)."""
        with self._lock:
            if id in self._queued:
                return True
            try:
                self._queue.put_nowait(id)
            except queue.Full:
                return False
            self._queued.add(id)
        return True

    def sweep(self) -> int:
        """Queue whatever `find_work` returns; the number of ids queued."""
        try:
            ids = self._find_work()
        except Exception:  # the database may be briefly away; the next sweep retries
            log.exception("sweep failed")
            return 0
        return sum(self.submit(id) for id in ids)

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self._sweep_seconds):
            self.sweep()

    def _run(self) -> None:
        while True:
            id = self._queue.get()
            if id == _STOP or self._stop.is_set():
                return
            with self._lock:
                self._queued.discard(id)
                self._busy += 1
            try:
                self._process(id)
            except Exception:  # the lease expires and the sweep retries this id
                log.exception("processing %s failed; it will be retried", id)
            finally:
                with self._lock:
                    self._busy -= 1
