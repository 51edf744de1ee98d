"""The rows of rescan jobs (`attachguard.service.rescan`): one per signature version, with its
cursor, counters and the lease of the replica running it.

Every write that moves a job on (`JobTable.advance`, `renew`, `finish`) is conditional on this
process's ``owner`` holding the job: a replica that lost its lease (a stall longer than the
lease, a take-over) cannot move the cursor or finish a job another replica is running.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from attachguard.service.db import Database, Record, attachments, rescans

log = logging.getLogger("attachguard.service")

__all__ = ["Job", "JobTable", "signature_of"]

_NUMBER = re.compile(r"signatures (\d+)")


def signature_of(versions: dict[str, str]) -> tuple[str, int | None] | None:
    """The clamav engine's version text and its signature number (None without clamav)."""
    text = versions.get("clamav")
    if not text or text.startswith(("unavailable", "disabled")):
        return None
    found = _NUMBER.search(text)
    return text[:200], int(found.group(1)) if found else None


@dataclass(frozen=True)
class Job:
    """One rescan: the signatures it runs for (``number``: no replica with older ones may run
    it; None when unknown), and how far it got."""

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

    def has_signatures(self, versions: dict[str, str]) -> bool:
        """True when ``versions`` (a replica's engines, or a report's) include signatures at
        least as new as this job's; a job without a number asks nothing."""
        if self.number is None:
            return True
        loaded = signature_of(versions)
        return loaded is not None and loaded[1] is not None and loaded[1] >= self.number


class JobTable:
    """``attachguard_rescans`` as one process (``owner``) sees it."""

    def __init__(self, db: Database, owner: str, lease_seconds: float) -> None:
        self.db = db
        self.owner = owner
        self.lease_seconds = lease_seconds

    def last_number(self) -> int | None:
        """The highest signature number recorded (None: no job yet)."""
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.max(rescans.c.number))).scalar()

    def create(self, signature: str, number: int | None, finished: float | None = None) -> Job:
        """Record a job (``finished``: a baseline, done at once); an unfinished one supersedes
        any older unfinished job. Another replica may have recorded it first: the job either way."""
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
        job = self.get(signature)
        if job is None:  # removed by hand in between: nothing to run
            raise LookupError(f"rescan job {signature!r} vanished")
        return job

    def get(self, signature: str) -> Job | None:
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

    def recent(self, limit: int = 10) -> list[Job]:
        """The most recent jobs, newest first."""
        stmt = select(rescans).order_by(rescans.c.started_at.desc()).limit(limit)
        with self.db.engine.connect() as conn:
            return [Job.from_row(r) for r in conn.execute(stmt)]

    def claim(self, job: Job) -> bool:
        """Take ``job`` when nobody else holds a live lease on it."""
        now = time.time()
        t = rescans.c
        stmt = (
            update(rescans)
            .where(t.signature == job.signature, t.finished_at.is_(None))
            .where((t.owner == self.owner) | t.lease_until.is_(None) | (t.lease_until < now))
            .values(owner=self.owner, lease_until=now + self.lease_seconds)
        )
        return self._changed(stmt)

    def release(self, job: Job) -> None:
        """Give back this process's claim on ``job`` (at once, not when the lease runs out)."""
        t = rescans.c
        stmt = (
            update(rescans)
            .where(t.signature == job.signature, t.owner == self.owner)
            .values(owner=None, lease_until=None)
        )
        self._changed(stmt)

    def renew(self, job: Job) -> bool:
        """Extend this process's lease on ``job``; False when it is no longer this process's
        (another replica took it over, or a newer job finished it)."""
        stmt = self._held(job).values(lease_until=time.time() + self.lease_seconds)
        return self._changed(stmt)

    def advance(self, job: Job, record: Record, *, scanned: bool, revoked: bool = False) -> bool:
        """Move the cursor past ``record``; False when the job is no longer this process's."""
        t = rescans.c
        stmt = self._held(job).values(
            cursor_created=record.created_at,
            cursor_id=record.id,
            scanned=t.scanned + int(scanned),
            revoked=t.revoked + int(revoked),
            lease_until=time.time() + self.lease_seconds,
        )
        return self._changed(stmt)

    def finish(self, job: Job) -> None:
        """Mark ``job`` done (when this process still holds it) and log its counts."""
        stmt = self._held(job).values(finished_at=time.time(), owner=None, lease_until=None)
        if not self._changed(stmt):
            return  # taken over meanwhile: its holder finishes it
        done = self.get(job.signature)
        if done is not None:
            log.info(
                "rescan for %s done: %d files, %d revoked",
                job.signature,
                done.scanned,
                done.revoked,
            )

    def files_after(self, job: Job, limit: int) -> list[Record]:
        """The next ``limit`` attachments after ``job``'s cursor, uploaded before it started,
        in (upload time, id) order — in every status (see `Rescanner` for why)."""
        t = attachments.c
        where = [t.created_at <= job.started_at]
        if job.cursor_created is not None:
            after = or_(
                t.created_at > job.cursor_created,
                and_(t.created_at == job.cursor_created, t.id > (job.cursor_id or "")),
            )
            where.append(after)
        stmt = select(attachments).where(*where).order_by(t.created_at, t.id).limit(limit)
        with self.db.engine.connect() as conn:
            return [Record.from_row(r) for r in conn.execute(stmt)]

    def _held(self, job: Job) -> Any:
        t = rescans.c
        return update(rescans).where(
            t.signature == job.signature, t.owner == self.owner, t.finished_at.is_(None)
        )

    def _changed(self, stmt: Any) -> bool:
        with self.db.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount == 1)
