"""Rescans after a signature update: approved files in the final store, scanned again.

A file approved yesterday may carry malware that today's signatures find. `Rescanner.poll`,
called by the worker's periodic sweep, reads the clamav engine's version (clamd's VERSION,
which the client re-asks at most once a minute); when clamd has loaded a database with a higher
number than the last one recorded, it records a *job* for that version, and the job scans every
file APPROVED before it started, a batch at a time (``batch`` files per sweep, in a thread of
its own so the sweep is not held up). Progress is a cursor in the job's row, written after each
file: a restart, or another replica once this one's lease on the job runs out, carries on where
it stopped. A newer version supersedes an unfinished job (the new job covers the same files).

A file that is now REJECTED is revoked: its row becomes REJECTED with the new report (its
``rescan`` part says when, why and which signatures), downloads stop at once, and its final
object is deleted — or, with ``action="quarantine"``, first copied to ``quarantine/<same key>``
(which the orphan sweep leaves alone) for an operator to examine. A rejection that depended on
the moment (an engine error or timeout) revokes nothing: an approved file is not deleted because
clamd was briefly away. Each revocation is published (``on_revoked``: the chat's event stream,
the metrics) and listed in ``attachguard_revocations`` for the dashboard.

The first version seen is a baseline (nothing is rescanned); a database without a version (the
generated test set) never starts a job. ``attachguard rescan --service`` runs a job by hand.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from attachguard.cache import storable
from attachguard.report import Report
from attachguard.service.db import APPROVED, REJECTED, Database, Record, attachments, rescans
from attachguard.service.db import revocations as revoked_table
from attachguard.service.lifecycle import Lifecycle
from attachguard.storage import NotFound

log = logging.getLogger("attachguard.service")

__all__ = ["ACTIONS", "Job", "Rescanner", "quarantine_key", "signature_of"]

ACTIONS = ("delete", "quarantine")
_NUMBER = re.compile(r"signatures (\d+)")


def signature_of(versions: dict[str, str]) -> tuple[str, int | None] | None:
    """The clamav engine's version text and its signature number (None without clamav)."""
    text = versions.get("clamav")
    if not text or text.startswith(("unavailable", "disabled")):
        return None
    found = _NUMBER.search(text)
    return text[:200], int(found.group(1)) if found else None


def quarantine_key(final_key: str) -> str:
    """Where a revoked file is kept with ``action="quarantine"``: ``quarantine/`` + the key's
    part after ``final/``."""
    return "quarantine/" + final_key.removeprefix("final/")


@dataclass(frozen=True)
class Job:
    """One rescan: the signatures it runs for, and how far it got."""

    signature: str
    number: int | None
    started_at: float
    finished_at: float | None
    cursor_created: float | None
    cursor_id: str | None
    scanned: int
    revoked: int

    @classmethod
    def from_row(cls, row: Any) -> Job:
        m = row._mapping
        return cls(
            m["signature"], m["number"], m["started_at"], m["finished_at"],
            m["cursor_created"], m["cursor_id"], m["scanned"] or 0, m["revoked"] or 0,
        )  # fmt: skip


class Rescanner:
    """Rescans ``lifecycle``'s final store with ``scanner`` (see the module docstring)."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        *,
        action: str = "delete",
        batch: int = 50,
        lease_seconds: float = 120.0,
        on_revoked: Callable[[Record, dict[str, Any]], None] = lambda record, report: None,
        on_scanned: Callable[[str], None] = lambda result: None,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"rescan action must be one of {ACTIONS}, not {action!r}")
        self.lifecycle = lifecycle
        self.db: Database = lifecycle.db
        self.action = action
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.on_revoked = on_revoked
        self.on_scanned = on_scanned
        self.owner = uuid.uuid4().hex
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # --- jobs ----------------------------------------------------------------------------------

    def poll(self) -> threading.Thread | None:
        """Note the signatures clamd has loaded and run a batch of any unfinished job in a
        thread (at most one at a time); the thread, or None. Never raises (a sweep calls it)."""
        try:
            versions = getattr(self.lifecycle.scanner, "versions", None)
            loaded = signature_of(versions()) if callable(versions) else None
            if loaded is not None:
                self.note(*loaded)
            with self._lock:
                if self._stopping.is_set():
                    return None
                if self._thread is not None and self._thread.is_alive():
                    return None
                if self.pending() is None:
                    return None
                self._thread = threading.Thread(target=self._safe_step, name="rescan", daemon=True)
                self._thread.start()
                return self._thread
        except Exception:  # the database or clamd may be briefly away: the next sweep retries
            log.exception("rescan poll failed")
            return None

    def note(self, signature: str, number: int | None) -> Job | None:
        """Record the loaded signatures: a new job when ``number`` is higher than the last
        one recorded (the first one is a finished baseline); the new job, or None."""
        if number is None:
            return None
        t = rescans.c
        with self.db.engine.connect() as conn:
            last = conn.execute(select(func.max(t.number))).scalar()
        if last is not None and number <= last:
            return None
        now = time.time()
        return self._create(signature, number, finished=now if last is None else None)

    def start(self, signature: str | None = None) -> Job:
        """A job started by hand (``attachguard rescan --service``): every approved file, with
        the signatures loaded now."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return self._create(signature or f"manual {stamp}", None)

    def _create(self, signature: str, number: int | None, finished: float | None = None) -> Job:
        now = time.time()
        row = {
            "signature": signature, "number": number, "started_at": now, "finished_at": finished,
            "scanned": 0, "revoked": 0,
        }  # fmt: skip
        t = rescans.c
        try:
            with self.db.engine.begin() as conn:
                if finished is None:  # a new job covers what an unfinished older one had left
                    older = update(rescans).where(t.finished_at.is_(None))
                    conn.execute(older.values(finished_at=now))
                conn.execute(rescans.insert().values(**row))
        except IntegrityError:
            pass  # another replica recorded it first
        else:
            if finished is None:
                log.warning("signatures changed (%s): rescanning approved files", signature)
        job = self.job(signature)
        if job is None:  # removed by hand in between: nothing to run
            raise LookupError(f"rescan job {signature!r} vanished")
        return job

    def job(self, signature: str) -> Job | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(rescans).where(rescans.c.signature == signature)).first()
        return Job.from_row(row) if row else None

    def pending(self) -> Job | None:
        """The unfinished job, if any."""
        t = rescans.c
        stmt = select(rescans).where(t.finished_at.is_(None)).order_by(t.started_at.desc())
        with self.db.engine.connect() as conn:
            row = conn.execute(stmt.limit(1)).first()
        return Job.from_row(row) if row else None

    def jobs(self, limit: int = 10) -> list[Job]:
        """The most recent jobs, newest first (for the dashboard)."""
        stmt = select(rescans).order_by(rescans.c.started_at.desc()).limit(limit)
        with self.db.engine.connect() as conn:
            return [Job.from_row(r) for r in conn.execute(stmt)]

    def _claim(self, job: Job) -> bool:
        now = time.time()
        t = rescans.c
        stmt = (
            update(rescans)
            .where(t.signature == job.signature, t.finished_at.is_(None))
            .where((t.owner == self.owner) | t.lease_until.is_(None) | (t.lease_until < now))
            .values(owner=self.owner, lease_until=now + self.lease_seconds)
        )
        with self.db.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    # --- batches -------------------------------------------------------------------------------

    def _safe_step(self) -> None:
        try:
            self.step()
        except Exception:  # the lease runs out and this or another replica carries on
            log.exception("rescan batch failed")

    def step(self, limit: int | None = None) -> Job | None:
        """Rescan the next batch (``limit`` files, default ``batch``) of the unfinished job, if
        this process may hold it; the job as it then stands, or None when there is none."""
        job = self.pending()
        if job is None or not self._claim(job):
            return job
        records = self._next(job, limit or self.batch)
        for record in records:
            if self._stopping.is_set():  # shutting down: the cursor says where to resume
                return self.job(job.signature)
            revoked = self.recheck(record, job.signature)
            self._advance(job, record, revoked)
        if len(records) < (limit or self.batch):
            self._finish(job)
        return self.job(job.signature)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the file being rescanned (the service's shutdown)."""
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def run(self, max_files: int | None = None) -> Job | None:
        """Run the unfinished job to its end, or until ``max_files`` were rescanned."""
        done = 0
        job = self.pending()
        while job is not None and job.finished_at is None:
            size = self.batch if max_files is None else min(self.batch, max_files - done)
            if size <= 0:
                break
            before = job.scanned
            job = self.step(size)
            if job is None or (job.scanned == before and job.finished_at is None):
                break  # another replica holds it
            done += job.scanned - before
        return job

    def _next(self, job: Job, limit: int) -> list[Record]:
        t = attachments.c
        where = [t.status == APPROVED, t.settled.is_(True), t.created_at <= job.started_at]
        if job.cursor_created is not None:
            after = or_(
                t.created_at > job.cursor_created,
                and_(t.created_at == job.cursor_created, t.id > (job.cursor_id or "")),
            )
            where.append(after)
        stmt = select(attachments).where(*where).order_by(t.created_at, t.id).limit(limit)
        with self.db.engine.connect() as conn:
            return [Record.from_row(r) for r in conn.execute(stmt)]

    def _advance(self, job: Job, record: Record, revoked: bool) -> None:
        t = rescans.c
        stmt = (
            update(rescans)
            .where(t.signature == job.signature)
            .values(
                cursor_created=record.created_at,
                cursor_id=record.id,
                scanned=t.scanned + 1,
                revoked=t.revoked + int(revoked),
                lease_until=time.time() + self.lease_seconds,
            )
        )
        with self.db.engine.begin() as conn:
            conn.execute(stmt)

    def _finish(self, job: Job) -> None:
        t = rescans.c
        stmt = update(rescans).where(t.signature == job.signature).values(finished_at=time.time())
        with self.db.engine.begin() as conn:
            conn.execute(stmt)
        done = self.job(job.signature)
        if done is not None:
            log.info(
                "rescan for %s done: %d files, %d revoked",
                job.signature,
                done.scanned,
                done.revoked,
            )

    # --- one file ------------------------------------------------------------------------------

    def recheck(self, record: Record, signature: str) -> bool:
        """Scan an approved file again; True when it was revoked."""
        try:
            data = self.lifecycle.store.get(record.final_key)
        except NotFound:
            self.on_scanned("missing")
            return False
        report: Report = self.lifecycle.scanner.scan(data, record.file_name)
        if report.approved:
            self.on_scanned("approved")
            return False
        if not storable(report):  # an engine error or timeout: not a verdict on the bytes
            log.warning("rescan of %s could not decide: kept approved", record.id)
            self.on_scanned("undecided")
            return False
        self.on_scanned("rejected")
        return self.revoke(record, report, signature)

    def revoke(self, record: Record, report: Report, signature: str) -> bool:
        """APPROVED → REJECTED for ``record``, then its final object deleted (or quarantined);
        False when it was no longer APPROVED."""
        store = self.lifecycle.store
        if self.action == "quarantine":
            store.copy(record.final_key, quarantine_key(record.final_key))
        now = time.time()
        shown = report.to_dict()
        shown["rescan"] = {"signature": signature, "at": now, "action": self.action}
        codes = report.rejecting_codes
        t = attachments.c
        stmt = (
            update(attachments)
            .where(t.id == record.id, t.status == APPROVED)
            .values(
                status=REJECTED,
                settled=False,
                report=json.dumps(shown),
                reason_codes=",".join(codes)[:400],
                updated_at=now,
            )
        )
        note = {
            "id": record.id, "signature": signature, "revoked_at": now, "action": self.action,
            "reason_codes": ",".join(codes)[:400],
        }  # fmt: skip
        with self.db.engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                return False
            conn.execute(revoked_table.insert().values(**note))
        settled = self.lifecycle.settle(record.id)  # deletes final (the janitor would, too)
        log.warning("attachment %s revoked after a signature update: %s", record.id, codes)
        self.on_revoked(settled or record, shown)
        return True

    def revoked(self, limit: int = 20) -> list[tuple[Record, str, float]]:
        """The most recent revocations: (record, action, when), newest first."""
        r, t = revoked_table.c, attachments.c
        stmt = (
            select(attachments, r.action, r.revoked_at)
            .join(revoked_table, r.id == t.id)
            .order_by(r.revoked_at.desc())
            .limit(limit)
        )
        with self.db.engine.connect() as conn:
            return [
                (Record.from_row(row), row.action, row.revoked_at) for row in conn.execute(stmt)
            ]
