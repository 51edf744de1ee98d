"""Attachment metadata in SQL: SQLite in the data folder by default, PostgreSQL for replicas.

One table, written with SQLAlchemy Core. Every status change is a conditional UPDATE (``WHERE
status = 'IN_PROGRESS'``), so two replicas scanning the same file cannot flip a verdict, and a
scan is *claimed* with a lease so a crashed replica's work is taken over once the lease runs out.
Rows never hold file contents; ``file_name`` is the user's name, shown to the chat's parties and
never used as a path.

The schema is Alembic's (``service/migrations``): opening a `Database` brings it to this
release's revision under a lock, or with ``migrate=False`` refuses any other revision.
``attachments`` below is what the code reads and writes; the migrations must produce exactly it
(tests/test_service_migrations.py compares them).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    false,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.sql import Select

from attachguard.service import migrations

IN_PROGRESS, APPROVED, REJECTED = "IN_PROGRESS", "APPROVED", "REJECTED"
SQLITE_WAIT = 30.0  # seconds a SQLite connection waits for another's lock

metadata = MetaData()
attachments = Table(
    "attachguard_attachments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("chat_id", String(128), index=True),
    Column("sender", String(64)),
    Column("file_name", String(255), nullable=False),
    Column("ext", String(16), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("settled", Boolean, nullable=False, default=False),
    Column("staging_key", String(900), nullable=False),
    Column("final_key", String(900), nullable=False),
    Column("created_at", Float, nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
    Column("owner", String(64)),
    Column("lease_until", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("reason_codes", String(400)),
    Column("report", Text),
)
# The sweep runs every few seconds on every replica and reads only unsettled rows (IN_PROGRESS,
# or decided with a store clean-up to finish): a partial index keeps that read proportional to
# the work waiting, not to the table (revision 0002; figures in docs/service.md).
Index(
    "ix_attachguard_attachments_unsettled",
    attachments.c.created_at,
    postgresql_where=attachments.c.settled == false(),
    sqlite_where=attachments.c.settled == false(),
)

# The verdict cache (`service.verdict_cache`), shared by replicas: a report's name-independent
# part by `attachguard.cache.cache_key`; never a file's contents.
verdicts = Table(
    "attachguard_verdicts",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("entry", Text, nullable=False),
    Column("created_at", Float, nullable=False, index=True),
)

# Rescans after a signature update (`service.rescan`): one job per signature version, its
# progress (resumable), and the approved files it revoked (for the dashboard).
rescans = Table(
    "attachguard_rescans",
    metadata,
    Column("signature", String(200), primary_key=True),
    Column("number", Integer),
    Column("started_at", Float, nullable=False, index=True),
    Column("finished_at", Float),
    Column("cursor_created", Float),
    Column("cursor_id", String(36)),
    Column("owner", String(64)),
    Column("lease_until", Float),
    Column("scanned", Integer, nullable=False, default=0),
    Column("revoked", Integer, nullable=False, default=0),
)
revocations = Table(
    "attachguard_revocations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("signature", String(200), nullable=False),
    Column("revoked_at", Float, nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("reason_codes", String(400)),
)


@dataclass
class Record:
    """One attachment's metadata row."""

    id: str
    chat_id: str | None
    sender: str | None
    file_name: str
    ext: str
    size: int
    sha256: str
    status: str
    settled: bool
    staging_key: str
    final_key: str
    created_at: float
    updated_at: float
    attempts: int = 0
    report: dict[str, Any] | None = field(default=None)

    @classmethod
    def from_row(cls, row: Any) -> Record:
        m = row._mapping
        return cls(
            id=m["id"],
            chat_id=m["chat_id"],
            sender=m["sender"],
            file_name=m["file_name"],
            ext=m["ext"],
            size=m["size"],
            sha256=m["sha256"],
            status=m["status"],
            settled=bool(m["settled"]),
            staging_key=m["staging_key"],
            final_key=m["final_key"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
            attempts=m["attempts"] or 0,
            report=json.loads(m["report"]) if m["report"] else None,
        )


def engine_for(url: str) -> Engine:
    """An engine for ``url``; plain ``postgresql://`` URLs use psycopg 3 (the one installed)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            url = "postgresql+psycopg://" + url[len(scheme) :]
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_WAIT, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_wal)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_wal(conn: sqlite3.Connection, _record: object) -> None:
    """WAL lets the page and the workers read while a scan result is written. Several processes
    opening a new database at once race to switch it, and SQLite can answer the loser "database
    is locked" at once, without waiting as it does for a write: retried up to the same wait."""
    deadline = time.monotonic() + SQLITE_WAIT
    cur = conn.cursor()
    try:
        while True:
            try:
                cur.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def schema_status(url: str) -> migrations.Status:
    """Where ``url``'s schema stands. Writes nothing: a SQLite file that does not exist yet is an
    empty database, and is not created."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return migrations.Status((), migrations.scripts().get_current_head() or "")
    engine = engine_for(url)
    try:
        return migrations.read_status(engine)
    finally:
        engine.dispose()


def check_schema(url: str, *, migrate: bool) -> None:
    """`migrations.SchemaError` (one line) when a service must not start on ``url``: its schema
    is newer than this release, or — with ``migrate=False`` — is not this release's."""
    migrations.refuse(schema_status(url), behind_ok=migrate)


def sweep_query(now: float, limit: int = 500) -> Select[Any]:
    """`Database.orphans`' read, which every replica runs every few seconds. Every row it wants
    is unsettled (IN_PROGRESS rows are too), so it leads with ``settled = false``: the partial
    index ``ix_attachguard_attachments_unsettled`` then holds only the work waiting."""
    t = attachments.c
    stale = (t.status == IN_PROGRESS) & (t.lease_until.is_(None) | (t.lease_until < now))
    return (
        select(attachments)
        .where(t.settled == false(), stale | (t.status != IN_PROGRESS))
        .order_by(t.created_at)
        .limit(limit)
    )


class Database:
    """The metadata store. Thread-safe (one SQLAlchemy engine, a connection per call).

    Opening it migrates the schema to this release's revision (under a lock: replicas may start
    together); with ``migrate=False`` it changes nothing and raises `migrations.SchemaError` unless
    the schema already is this release's."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.engine = engine_for(url)
        self.kind = self.engine.dialect.name
        try:
            if migrate:
                migrations.upgrade(self.engine)
            else:
                migrations.refuse(migrations.read_status(self.engine), behind_ok=False)
        except BaseException:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def insert(self, record: Record, owner: str, lease_until: float) -> None:
        values = {k: v for k, v in record.__dict__.items() if k not in {"report"}} | {
            "owner": owner,
            "lease_until": lease_until,
            "report": None,
            "reason_codes": None,
        }
        with self.engine.begin() as conn:
            conn.execute(attachments.insert().values(**values))

    def get(self, id: str) -> Record | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(attachments).where(attachments.c.id == id)).first()
        return Record.from_row(row) if row else None

    def claim(self, id: str, owner: str, lease_until: float) -> Record | None:
        """Take the scan of ``id`` when it is still IN_PROGRESS and nobody else holds a live
        lease; the record, or None when it is not ours to scan."""
        now = time.time()
        t = attachments.c
        stmt = (
            update(attachments)
            .where(t.id == id, t.status == IN_PROGRESS)
            .where((t.owner == owner) | (t.lease_until.is_(None)) | (t.lease_until < now))
            .values(owner=owner, lease_until=lease_until, attempts=t.attempts + 1)
        )
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount != 1:
                return None
        return self.get(id)

    def renew(self, ids: Collection[str], owner: str, lease_until: float) -> int:
        """Extend ``owner``'s leases on ``ids`` (the heartbeat of scans in flight); the number
        still held: a lease another replica has taken is not taken back."""
        if not ids:
            return 0
        t = attachments.c
        stmt = (
            update(attachments)
            .where(t.id.in_(list(ids)), t.owner == owner, t.status == IN_PROGRESS)
            .values(lease_until=lease_until)
        )
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount)

    def release(
        self, owner: str, *, only: Collection[str] | None = None, keep: Collection[str] = ()
    ) -> int:
        """Drop ``owner``'s leases on IN_PROGRESS rows (all, or ``only`` these; never those in
        ``keep``) so that any replica's next sweep takes them: a hand-over, not a crash."""
        t = attachments.c
        stmt = update(attachments).where(
            t.owner == owner, t.status == IN_PROGRESS, t.lease_until.is_not(None)
        )
        if only is not None:
            if not only:
                return 0
            stmt = stmt.where(t.id.in_(list(only)))
        if keep:
            stmt = stmt.where(t.id.not_in(list(keep)))
        with self.engine.begin() as conn:
            return int(conn.execute(stmt.values(lease_until=None)).rowcount)

    def decide(self, id: str, status: str, report: dict[str, Any], codes: list[str]) -> bool:
        """IN_PROGRESS → ``status`` (not yet settled); False when it was already decided."""
        t = attachments.c
        stmt = (
            update(attachments)
            .where(t.id == id, t.status == IN_PROGRESS)
            .values(
                status=status,
                settled=False,
                report=json.dumps(report),
                reason_codes=",".join(sorted(set(codes)))[:400],
                updated_at=time.time(),
                lease_until=None,
            )
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def settle(self, id: str) -> None:
        """The store now matches the status (staging gone; final present only if approved)."""
        stmt = update(attachments).where(attachments.c.id == id).values(settled=True)
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def release_all(self) -> int:
        """Drop every lease (single-instance start-up: nobody else can be scanning)."""
        t = attachments.c
        stmt = update(attachments).where(t.status == IN_PROGRESS).values(lease_until=None)
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).rowcount)

    def orphans(self, limit: int = 500) -> list[Record]:
        """Work left behind: IN_PROGRESS rows with no live lease, and decided rows whose store
        clean-up did not finish."""
        with self.engine.connect() as conn:
            return [Record.from_row(r) for r in conn.execute(sweep_query(time.time(), limit))]

    def chat(self, chat_id: str, limit: int = 200) -> list[Record]:
        t = attachments.c
        stmt = select(attachments).where(t.chat_id == chat_id).order_by(t.created_at).limit(limit)
        with self.engine.connect() as conn:
            return [Record.from_row(r) for r in conn.execute(stmt)]

    def recent(self, limit: int = 50) -> list[Record]:
        stmt = select(attachments).order_by(attachments.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [Record.from_row(r) for r in conn.execute(stmt)]

    def since(self, t0: float) -> list[tuple[float, str, str | None]]:
        """(updated_at, status, rejecting codes) of every decision since ``t0``, for the chart."""
        t = attachments.c
        stmt = select(t.updated_at, t.status, t.reason_codes).where(
            t.updated_at >= t0, t.status != IN_PROGRESS
        )
        with self.engine.connect() as conn:
            return [(r[0], r[1], r[2]) for r in conn.execute(stmt)]

    def counts(self) -> dict[str, int]:
        t = attachments.c
        stmt = select(t.status, func.count()).group_by(t.status)
        with self.engine.connect() as conn:
            return {str(r[0]): int(r[1]) for r in conn.execute(stmt)}

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except Exception:  # health check: any failure means "not reachable"
            return False
        return True
