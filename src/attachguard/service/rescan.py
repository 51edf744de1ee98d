"""Rescans after a signature update: approved files in the final store, scanned again.

A file approved yesterday may carry malware that today's signatures find. `Rescanner.poll`,
called by the worker's periodic sweep, reads the clamav engine's version (clamd's VERSION,
which the client re-asks at most once a minute); when clamd has loaded a database with a higher
number than the last one recorded, it records a *job* for that version, and the job scans every
file uploaded before it started that is APPROVED, a batch at a time (``batch`` files per sweep,
in a thread of its own so the sweep is not held up). Progress is a cursor in the job's row
(upload time, id), written after each file: a restart, or another replica once this one's lease
on the job runs out, carries on where it stopped. A newer version supersedes an unfinished job
(the new job covers the same files).

The cursor never passes a file the job has not settled (a REJECTED one is simply passed over):

- a file still IN_PROGRESS, or APPROVED but not yet copied to final, stops the batch there: its
  verdict may come from signatures older than the job's (a scan begun before the update, or a
  replica not updated yet), so the job waits for it and rescans it once it is settled;
- a file whose rescan is undecided (every rejecting finding momentary: clamd away, a timeout)
  stops the batch there too and is tried again at the next sweep (by any replica); after
  ``retries`` tries over at least ``patience`` seconds (3 and 10 minutes by default, counted in
  each process) the job gives up on it — it stays approved, and the give-up is logged as an
  error and counted (``on_scanned("gave_up")``). A file undecided for that long is far likelier
  a broken engine than news about its bytes, and one such file must not hold up the rescan of
  all the others for good.

Every replica has a clamd of its own, updated at its own time: a replica whose clamd has not
loaded the job's signatures yet (a lower number, or no answer) does not run the job — it gives
its claim back and leaves the job to a replica that has them. Every rescan's report is checked
too (a cached verdict carries the versions of its key), so no file is passed on old signatures.
Not covered by this job: a file uploaded after the job started and approved by a replica whose
clamd is still on older signatures (the job's range ends at its start); the next job, which
covers every approved file uploaded before it, rescans it.

The claim on a job is a lease, renewed every third of ``lease_seconds`` by a timer while a batch
runs (and after each file), so a file whose scan takes longer than the lease does not hand the
job to another replica mid-file; a replica that lost its lease anyway (a stall longer than the
lease) stops without moving the cursor, and gives its claim back whenever a batch stops early.

A file that is now REJECTED on its bytes is revoked — also when another engine failed beside
the finding (`attachguard.rescan.outcome_of`): its row becomes REJECTED with the new report (its
``rescan`` part says when, why and which signatures), downloads stop at once, and its final
object is deleted — or, with ``action="quarantine"``, first copied to ``quarantine/<same key>``
(which the orphan sweep leaves alone) for an operator to examine. Each revocation is published
(``on_revoked``: the chat's event stream, the metrics) and listed in ``attachguard_revocations``
for the dashboard.

The first version seen is a baseline (nothing is rescanned); a database without a version (the
generated test set) never starts a job. ``attachguard rescan --service`` runs a job by hand.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select, update

from attachguard.report import Report
from attachguard.rescan import outcome_of
from attachguard.service.db import APPROVED, IN_PROGRESS, REJECTED, Database, Record, attachments
from attachguard.service.db import revocations as revoked_table
from attachguard.service.lifecycle import Lifecycle
from attachguard.service.rescan_jobs import Job, JobTable, signature_of
from attachguard.storage import NotFound

log = logging.getLogger("attachguard.service")

__all__ = ["ACTIONS", "Job", "Rescanner", "quarantine_key", "signature_of"]

ACTIONS = ("delete", "quarantine")


def quarantine_key(final_key: str) -> str:
    """Where a revoked file is kept with ``action="quarantine"``: ``quarantine/`` + the key's
    part after ``final/``."""
    return "quarantine/" + final_key.removeprefix("final/")


class Rescanner:
    """Rescans ``lifecycle``'s final store with ``scanner`` (see the module docstring)."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        *,
        action: str = "delete",
        batch: int = 50,
        lease_seconds: float = 120.0,
        retries: int = 3,
        patience: float = 600.0,
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
        self.retries = retries
        self.patience = patience
        self.on_revoked = on_revoked
        self.on_scanned = on_scanned
        self.owner = uuid.uuid4().hex
        self.table = JobTable(self.db, self.owner, lease_seconds)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # undecided rescans in this process: (job, attachment id) -> (tries, first try)
        self._tries: dict[tuple[str, str], tuple[int, float]] = {}

    # --- jobs ----------------------------------------------------------------------------------

    def poll(self) -> threading.Thread | None:
        """Note the signatures clamd has loaded and run a batch of any unfinished job in a
        thread (at most one at a time); the thread, or None. Never raises (a sweep calls it)."""
        try:
            loaded = signature_of(self._versions())
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
        last = self.table.last_number()
        if last is not None and number <= last:
            return None
        now = time.time()
        return self.table.create(signature, number, finished=now if last is None else None)

    def start(self, signature: str | None = None) -> Job:
        """A job started by hand (``attachguard rescan --service``): every approved file, with
        the signatures loaded now (their number is the job's: no replica with older ones runs
        it)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        loaded = signature_of(self._versions())
        return self.table.create(signature or f"manual {stamp}", loaded[1] if loaded else None)

    def _versions(self) -> dict[str, str]:
        """The engines' versions as this replica's scanner reports them now ({} without)."""
        versions = getattr(self.lifecycle.scanner, "versions", None)
        return versions() if callable(versions) else {}

    def job(self, signature: str) -> Job | None:
        return self.table.get(signature)

    def pending(self) -> Job | None:
        """The unfinished job, if any."""
        return self.table.pending()

    def jobs(self, limit: int = 10) -> list[Job]:
        """The most recent jobs, newest first (for the dashboard)."""
        return self.table.recent(limit)

    # --- batches -------------------------------------------------------------------------------

    def _safe_step(self) -> None:
        try:
            self.step()
        except Exception:  # the lease runs out and this or another replica carries on
            log.exception("rescan batch failed")

    def step(self, limit: int | None = None) -> Job | None:
        """Rescan the next batch (``limit`` files, default ``batch``) of the unfinished job, if
        this process may hold it and its clamd has the job's signatures; the job as it then
        stands, or None when there is none."""
        job = self.pending()
        if job is None:
            return None
        if not job.has_signatures(self._versions()):
            self.table.release(job)  # a replica whose clamd has them runs it
            return job
        if not self.table.claim(job):
            return job
        size = limit or self.batch
        with self._leased(job) as held:
            records = self.table.files_after(job, size)
            for record in records:
                if self._stopping.is_set() or not held.is_set() or not self._take(job, record):
                    # the cursor says where to resume; any replica may, from the next sweep
                    self.table.release(job)
                    return self.job(job.signature)
            if len(records) < size:
                self.table.finish(job)
        return self.job(job.signature)

    @contextlib.contextmanager
    def _leased(self, job: Job) -> Iterator[threading.Event]:
        """Renew the lease on ``job`` every third of ``lease_seconds`` while a batch runs (one
        file's read and scan can take longer than the lease); the event is cleared once the
        lease is lost."""
        held, done = threading.Event(), threading.Event()
        held.set()

        def beat() -> None:
            while not done.wait(self.lease_seconds / 3):
                try:
                    if not self.table.renew(job):
                        held.clear()
                        return
                except Exception:  # the database briefly away: the next beat tries again
                    log.exception("renewing the rescan lease failed")

        thread = threading.Thread(target=beat, name="rescan-lease", daemon=True)
        thread.start()
        try:
            yield held
        finally:
            done.set()
            thread.join()

    def _take(self, job: Job, record: Record) -> bool:
        """Deal with one file at the cursor; True when the cursor moved past it."""
        if record.status == REJECTED:  # nothing to revoke
            return self.table.advance(job, record, scanned=False)
        if record.status == IN_PROGRESS or not record.settled:
            # its verdict may be on older signatures: wait for it, then rescan it
            log.info("rescan waits for attachment %s to be decided and settled", record.id)
            return False
        result = self.recheck(record, job)
        if result == "stale":  # this replica's clamd went back to older signatures
            return False
        if result == "undecided" and not self._give_up(job, record):
            return False
        self._tries.pop((job.signature, record.id), None)
        return self.table.advance(job, record, scanned=True, revoked=result == "revoked")

    def _give_up(self, job: Job, record: Record) -> bool:
        """After an undecided rescan: False (try it again at the next sweep) until it has
        been tried ``retries`` times over at least ``patience`` seconds."""
        key = (job.signature, record.id)
        tries, first = self._tries.get(key, (0, time.monotonic()))
        tries += 1
        self._tries[key] = (tries, first)
        if tries < self.retries or time.monotonic() - first < self.patience:
            log.warning(
                "rescan of %s could not decide (try %d): tried again later", record.id, tries
            )
            self.on_scanned("undecided")
            return False
        log.error("rescan of %s gave up after %d undecided tries: kept approved", record.id, tries)
        self.on_scanned("gave_up")
        return True

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
            before = job
            job = self.step(size)
            if job is None or (job == before and job.finished_at is None):
                break  # another replica holds it, or it waits (a file unsettled, undecided)
            done += job.scanned - before.scanned
        return job

    # --- one file ------------------------------------------------------------------------------

    def recheck(self, record: Record, job: Job) -> str:
        """Scan an approved file again for ``job``: "missing", "approved", "undecided" (only
        momentary findings rejected it: kept for now), "stale" (scanned with signatures older
        than the job's: nothing decided), "revoked", or "rejected" (no longer APPROVED by the
        time it was to be revoked)."""
        try:
            data = self.lifecycle.store.get(record.final_key)
        except NotFound:
            self.on_scanned("missing")
            return "missing"
        report: Report = self.lifecycle.scanner.scan(data, record.file_name)
        if not job.has_signatures(report.versions):
            log.warning("rescan for %s skipped: this clamd has older signatures", job.signature)
            return "stale"
        done = outcome_of(report, "delete")
        if done == "kept":
            self.on_scanned("approved")
            return "approved"
        if done == "undecided":  # see _give_up
            return "undecided"
        self.on_scanned("rejected")
        return "revoked" if self.revoke(record, report, job.signature) else "rejected"

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
