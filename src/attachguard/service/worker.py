"""`Worker`: a bounded pool of scan threads fed by a bounded queue, a periodic sweep and a
heartbeat.

Uploads are answered as soon as the bytes are in staging; the scan runs here. The queue is
bounded so a burst cannot grow memory without limit (the API answers 503 when it is full), and
the sweep re-queues work nobody holds a lease on: scans a crashed replica left behind, work a
stopping replica handed back, and uploads that arrived while the queue was full. Swept work has
waited longest, so it goes before new uploads. The heartbeat
renews the leases of the scans in flight, so a lease can be short (seconds) and still never run
out under a scan that is alive.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection

log = logging.getLogger("attachguard.service")

_STOP = ""
# Queue order: work found by the sweep (a crashed or stopping replica's, older than any new
# upload) goes before new uploads, oldest first; the stop marker after everything.
_SWEPT, _NEW, _LAST = 0, 1, 2


class Worker:
    """``threads`` scan threads running ``process(id)``; ``find_work()`` is called every
    ``sweep_seconds`` and its ids are queued (ids already queued or in flight are skipped);
    ``renew(ids)`` is called every ``heartbeat_seconds`` with the ids being scanned."""

    def __init__(
        self,
        process: Callable[[str], object],
        find_work: Callable[[], list[str]],
        threads: int = 2,
        queue_size: int = 1000,
        sweep_seconds: float = 1.0,
        renew: Callable[[Collection[str]], object] = lambda ids: None,
        heartbeat_seconds: float = 10.0 / 3,
    ) -> None:
        self._process = process
        self._find_work = find_work
        self._renew = renew
        self._queue: queue.PriorityQueue[tuple[int, int, str]] = queue.PriorityQueue(queue_size)
        self._order = itertools.count()
        self._queued: set[str] = set()
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beating = threading.Event()
        self._beating.set()
        self._beat_lock = threading.Lock()  # a renewal never crosses `stop_heartbeat`
        self._idle = threading.Condition(self._lock)
        self._sweep_seconds = sweep_seconds
        self._heartbeat_seconds = heartbeat_seconds
        self._threads = [
            threading.Thread(target=self._run, name=f"scan-{i}", daemon=True)
            for i in range(threads)
        ]
        self._sweeper = threading.Thread(target=self._sweep_loop, name="sweep", daemon=True)
        self._heart = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)

    @property
    def depth(self) -> int:
        """Attachments waiting for a scan thread."""
        return self._queue.qsize()

    @property
    def busy(self) -> int:
        """Attachments being scanned right now."""
        return len(self._inflight)

    def inflight(self) -> set[str]:
        """The ids being scanned right now (a copy)."""
        with self._lock:
            return set(self._inflight)

    def full(self) -> bool:
        return self._queue.full()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self.sweep()
        self._sweeper.start()
        self._heart.start()

    def stop_taking(self) -> list[str]:
        """Stop taking work: nothing more is dequeued, submitted or swept. Returns the ids that
        were waiting in the queue (their leases are the caller's to hand back); scans in
        flight go on, with their heartbeat, until they finish (`wait_idle`)."""
        self._stop.set()
        waiting = []
        while True:
            try:
                _, _, id = self._queue.get_nowait()
            except queue.Empty:
                break
            if id != _STOP:
                waiting.append(id)
        with self._lock:
            self._queued.clear()
        for _ in self._threads:
            try:
                self._queue.put_nowait((_LAST, next(self._order), _STOP))
            except queue.Full:  # cannot be: the queue was just emptied and nothing is added
                break
        return waiting

    def wait_idle(self, timeout: float) -> set[str]:
        """Wait up to ``timeout`` seconds for the scans in flight to finish; the ids of those
        still running."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._idle.wait(left)
            return set(self._inflight)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; scans in flight get ``timeout`` seconds to finish. Queued ids stay
        IN_PROGRESS in the database (hand them back first: `stop_taking`)."""
        self.stop_taking()
        self.wait_idle(timeout)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(0.1)

    def submit(self, id: str, swept: bool = False) -> bool:
        """Queue ``id`` (``swept``: ahead of new uploads); False when the queue is full (the
        sweep will queue it later) or the worker is stopping (the caller hands the lease back).
        """
        with self._lock:
            if self._stop.is_set():
                return False
            if id in self._queued or id in self._inflight:
                return True
            try:
                self._queue.put_nowait((_SWEPT if swept else _NEW, next(self._order), id))
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
        return sum(self.submit(id, swept=True) for id in ids)

    def beat(self) -> None:
        """Renew the leases of the scans in flight (once; the heartbeat thread repeats it)."""
        with self._beat_lock:
            ids = self.inflight()
            if not ids or not self._beating.is_set():
                return
            try:
                self._renew(ids)
            except Exception:  # the database may be briefly away: two beats are missed before
                log.exception("lease renewal failed")  # the lease runs out

    def stop_heartbeat(self) -> None:
        """No more renewals: the leases of scans still running are about to be released."""
        with self._beat_lock:
            self._beating.clear()

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self._sweep_seconds):
            self.sweep()

    def _heartbeat_loop(self) -> None:
        # beats go on while stopping: scans finishing within the grace period keep their leases
        while True:
            time.sleep(self._heartbeat_seconds)
            if not self._beating.is_set() or (self._stop.is_set() and not self._inflight):
                return
            self.beat()

    def _run(self) -> None:
        while True:
            _, _, id = self._queue.get()
            with self._lock:
                if id == _STOP or self._stop.is_set():
                    return
                self._queued.discard(id)
                self._inflight.add(id)
            try:
                self._process(id)
            except Exception:  # the lease expires and the sweep retries this id
                log.exception("processing %s failed; it will be retried", id)
            finally:
                with self._idle:
                    self._inflight.discard(id)
                    self._idle.notify_all()
