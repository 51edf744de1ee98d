"""The service's verdict cache: `attachguard.cache` entries in the metadata database, so every
replica behind a load balancer reuses a verdict any of them made (agents send the same
return-policy PDF to thousands of customers).

`DatabaseCache` is a `attachguard.cache.VerdictStore` over the ``attachguard_verdicts`` table
(service/db.py); `cached_scanner` wraps the service's scanner with it. The key already holds the
policy's digest, every engine's version (clamd's signature version among them) and the code's
digest, so a change of any of them is a miss; old entries are never wrong, only unused, and are
pruned by age and count. A database problem is a miss (logged once a minute), never a failed
scan. Whoever can write to this table can approve files: it lives beside the attachments' own
verdicts, with the same access.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from attachguard.cache import CachedScanner
from attachguard.service.db import Database, verdicts

log = logging.getLogger("attachguard.service")

__all__ = ["DatabaseCache", "cached_scanner"]

MAX_AGE = 30 * 24 * 3600.0  # seconds; signatures change daily, so older entries are dead weight
MAX_ENTRIES = 100_000  # about 200 MB of JSON at the typical 1-3 KB a report
_PRUNE_EVERY = 500  # puts between two prunes (a prune is two indexed statements)
_QUIET = 60.0  # seconds between two warnings about a failing database


class DatabaseCache:
    """Verdicts in the ``attachguard_verdicts`` table of ``db``; thread-safe."""

    def __init__(
        self, db: Database, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE
    ) -> None:
        self.engine = db.engine
        self.max_entries = max_entries
        self.max_age = max_age
        self._lock = threading.Lock()
        self._puts = 0
        self._warned = 0.0

    def get(self, key: str) -> str | None:
        stmt = select(verdicts.c.entry).where(verdicts.c.key == key)
        try:
            with self.engine.connect() as conn:
                row = conn.execute(stmt).first()
        except SQLAlchemyError:
            self._warn("read")
            return None
        return None if row is None else str(row[0])

    def put(self, key: str, entry: str) -> None:
        row = {"key": key, "entry": entry, "created_at": time.time()}
        try:
            with self.engine.begin() as conn:
                conn.execute(verdicts.insert().values(**row))
        except IntegrityError:
            return  # another replica stored the same verdict first: it is the same entry
        except SQLAlchemyError:
            self._warn("write")
            return
        with self._lock:
            self._puts += 1
            due = self._puts % _PRUNE_EVERY == 1
        if due:
            self.prune()

    def __len__(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(verdicts)).scalar_one())

    def prune(self) -> int:
        """Remove entries older than ``max_age``, then the oldest beyond ``max_entries``; the
        number removed."""
        t = verdicts.c
        try:
            with self.engine.begin() as conn:
                gone = conn.execute(
                    delete(verdicts).where(t.created_at < time.time() - self.max_age)
                )
                removed = int(gone.rowcount or 0)
                newest = select(t.created_at).order_by(t.created_at.desc())
                edge = conn.execute(newest.offset(self.max_entries).limit(1)).scalar()
                if edge is not None:
                    gone = conn.execute(delete(verdicts).where(t.created_at <= edge))
                    removed += int(gone.rowcount or 0)
        except SQLAlchemyError:
            self._warn("prune")
            return 0
        return removed

    def _warn(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned >= _QUIET:
            self._warned = now
            log.warning("verdict cache: cannot %s the database; scanning without it", what)


def cached_scanner(scanner: Any, db: Database, max_entries: int = MAX_ENTRIES) -> Any:
    """``scanner`` through the database cache when it is a `Scanner`; anything else (a stand-in
    without engine versions, as tests and embedders pass, or one already cached) unchanged."""
    from attachguard.pipeline import Scanner

    if not isinstance(scanner, Scanner):
        return scanner
    return CachedScanner(scanner, DatabaseCache(db, max_entries))
