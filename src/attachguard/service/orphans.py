"""`Janitor`: removes what a killed process left in the store and no database row accounts for.

The lifecycle records a row before it stores a byte, so a crash leaves at worst a row without
its object (recovery rejects it, NOT_FOUND). What SIGKILL can still leave behind, and this
removes once it is older than a grace period:

- half-written temporaries of the folder store (``.tmp-*``, by modification time);
- ``staging/`` and ``final/`` objects whose id has no row (a database restored from an older
  backup, a row removed by hand, an earlier release), by the minute stamped in the key — so it
  works on S3 by prefix listing, without a HEAD per object;
- objects a settled row says must not exist, at any age: a REJECTED file's, an APPROVED
  file's staging copy.

Rows still IN_PROGRESS or unsettled are left alone: recovery owns them. Runs once at start-up and
then every ``every`` seconds; each removal counts in ``attachguard_orphans_removed_total``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from attachguard.service.db import APPROVED, REJECTED, Database, Record
from attachguard.storage import ObjectStore

log = logging.getLogger("attachguard.service")

# <id>_<YYYYMMDDTHH:MM>_UTC.<ext>, the last segment of `lifecycle.object_keys`
_NAME = re.compile(r"(?P<id>[0-9a-f-]{36})_(?P<stamp>\d{8}T\d{2}:\d{2})_UTC\.[a-z0-9]+")
AREAS = ("staging/", "final/")


def _unwanted(record: Record | None, key: str, stamped: float, cutoff: float) -> bool:
    """True when no row accounts for ``key`` (and it is older than ``cutoff``), or its settled
    row says it must be gone (at any age: the row is the proof)."""
    if record is None:
        return stamped <= cutoff
    if not record.settled:
        return False  # recovery settles it
    if record.status == REJECTED:
        return True
    return record.status == APPROVED and key == record.staging_key


class Janitor:
    """Sweeps ``store`` against ``db``; ``count(kind, n)`` reports removals."""

    def __init__(
        self,
        store: ObjectStore,
        db: Database,
        *,
        grace_seconds: float,
        count: Callable[[str, int], None] = lambda kind, n: None,
    ) -> None:
        self.store, self.db, self.grace = store, db, grace_seconds
        self.count = count
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> int:
        """One pass; the number of objects and temporaries removed."""
        cutoff = time.time() - self.grace
        removed = 0
        temporaries = getattr(self.store, "remove_temporaries", None)
        if callable(temporaries):
            n = int(temporaries(cutoff))
            self.count("temporary", n)
            removed += n
        for area in AREAS:
            n = self._sweep_area(area, cutoff)
            self.count(area.rstrip("/"), n)
            removed += n
        if removed:
            log.warning("removed %d orphaned objects or temporaries from the store", removed)
        return removed

    def _sweep_area(self, area: str, cutoff: float) -> int:
        removed = 0
        for key in list(self.store.keys(area)):
            match = _NAME.fullmatch(key.rsplit("/", 1)[-1])
            if match is None:
                continue  # not a key this service writes: not ours to remove
            stamp = datetime.strptime(match["stamp"], "%Y%m%dT%H:%M").replace(tzinfo=UTC)
            if _unwanted(self.db.get(match["id"]), key, stamp.timestamp(), cutoff):
                self.store.delete(key)
                removed += 1
        return removed

    def _safe_sweep(self) -> None:
        try:
            self.sweep()
        except Exception:  # the store or database may be briefly away; the next pass retries
            log.exception("orphan sweep failed")

    def start(self, every: float) -> None:
        """Sweep now and every ``every`` seconds, in a thread (S3 listings can be long)."""

        def loop() -> None:
            self._safe_sweep()
            while not self._stop.wait(every):
                self._safe_sweep()

        self._thread = threading.Thread(target=loop, name="orphan-sweep", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
