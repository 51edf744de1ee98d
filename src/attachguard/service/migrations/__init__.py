"""Schema migrations of the metadata database (Alembic), applied at start-up under a lock.

`upgrade(engine)` brings the database to this release's newest revision (*head*) inside one
transaction that first takes a lock every replica agrees on — a PostgreSQL advisory lock, or
SQLite's own write lock (``BEGIN EXCLUSIVE``) — so any number of replicas may start at once:
the first migrates, the others wait, then find the schema current. A database created by
release 0.1 (``metadata.create_all``, no version table) is recognised by its table and stamped
with the baseline revision, never recreated; one whose table differs from 0.1's is refused.

`read_status` and `refuse` only read: a database at a revision this release does not know (a
newer release upgraded it) is refused with a one-line `SchemaError` before anything is written,
and so is any database not at head when automatic changes are forbidden (``--no-migrate``).

Revisions live in ``versions/`` (``0001_baseline.py`` is release 0.1's schema, exactly); a new
one is ``NNNN_what.py`` from ``script.py.mako`` (by hand, or with Alembic's ``revision
--autogenerate --rev-id NNNN`` pointed at this folder and at a database at head) that changes
db.py's table the same way, using ``op.batch_alter_table`` for any ALTER so that SQLite (which
cannot alter most columns) gets a copy-and-move; tests/test_service_migrations.py fails until
head and db.py agree. The version table is ``attachguard_alembic_version``, not Alembic's default,
so attachguard can share a database with an application that has its own Alembic history.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, column, inspect, select, table, text
from sqlalchemy.engine import Engine

from attachguard.errors import AttachguardError

log = logging.getLogger("attachguard.service")

VERSION_TABLE = "attachguard_alembic_version"
BASELINE = "0001"
ATTACHMENTS = "attachguard_attachments"
# The PostgreSQL advisory lock every release takes while it migrates ("ag_schem" in ASCII):
# any constant works, as long as it never changes.
PG_LOCK_KEY = 0x6167_5F73_6368_656D
UPGRADE_HINT = "run `attachguard db upgrade` (or start without --no-migrate)"

# Alembic's `context` and `op` are module-wide proxies: two migrations at once in one process
# (tests, embedding) would overwrite each other's. Processes are serialised by the database lock.
_in_process = threading.Lock()


class SchemaError(AttachguardError):
    """The metadata database's schema is not one this release may use; the message (one line)
    names the revisions and what to do."""


@dataclass(frozen=True)
class Status:
    """Where a database stands: the revisions in its version table, this release's head, the
    ones this release does not know, and whether it holds release 0.1's unstamped table."""

    current: tuple[str, ...]
    head: str
    unknown: tuple[str, ...] = ()
    legacy: bool = False

    @property
    def at_head(self) -> bool:
        return self.current == (self.head,)

    def describe(self) -> str:
        if self.legacy:
            return "none (created by attachguard 0.1, not yet stamped)"
        if not self.current:
            return "none (empty database)"
        shown = ", ".join(self.current)
        return f"{shown} (head)" if self.at_head else shown


def scripts(location: Path | None = None) -> ScriptDirectory:
    """The revisions: the packaged ones, or those under ``location`` (tests)."""
    return _packaged() if location is None else ScriptDirectory.from_config(_config(location))


@functools.cache
def _packaged() -> ScriptDirectory:
    # Loaded once: reading the revision files took 40 ms of each 60 ms start-up check.
    return ScriptDirectory.from_config(_config(None))


def _config(location: Path | None) -> Config:
    config = Config()
    where = location or Path(str(files(__name__)))
    config.set_main_option("script_location", str(where))
    return config


def _current(conn: Connection) -> tuple[str, ...]:
    # Read directly: Alembic's MigrationContext would log two lines each time a service starts.
    if not inspect(conn).has_table(VERSION_TABLE):
        return ()
    versions = table(VERSION_TABLE, column("version_num"))
    return tuple(str(r[0]) for r in conn.execute(select(versions.c.version_num)))


def _status(conn: Connection, script: ScriptDirectory) -> Status:
    current = _current(conn)
    known = {s.revision for s in script.walk_revisions()}
    head = script.get_current_head() or BASELINE
    legacy = not current and inspect(conn).has_table(ATTACHMENTS)
    if legacy:
        _check_release_0_1(conn, script)
    unknown = tuple(r for r in current if r not in known)
    return Status(current, head, unknown, legacy)


def read_status(engine: Engine, location: Path | None = None) -> Status:
    """Where ``engine``'s database stands (reads only); `SchemaError` for a table that has no
    revision and is not release 0.1's."""
    with engine.connect() as conn:
        return _status(conn, scripts(location))


def refuse(status: Status, *, behind_ok: bool) -> None:
    """`SchemaError` for a schema this release must not use: a revision it does not know, or
    — unless ``behind_ok`` (an upgrade will follow) — anything but head."""
    if status.unknown:
        raise SchemaError(
            f"the metadata database is at schema revision {', '.join(status.unknown)}, which "
            f"this release of attachguard does not know (its newest is {status.head}): a newer "
            "release upgraded it; run that release or a later one (downgrades are not supported)"
        )
    if behind_ok or status.at_head:
        return
    if status.legacy:
        raise SchemaError(
            "the metadata database was created by attachguard 0.1 and has no schema revision "
            f"yet: {UPGRADE_HINT}; every record is kept"
        )
    raise SchemaError(
        f"the metadata database is at schema revision {status.describe()}, this release needs "
        f"{status.head}: {UPGRADE_HINT}"
    )


def _lock_postgresql(conn: Connection) -> None:
    # Released at commit or rollback, and by the server if this process dies.
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})


def _lock_sqlite(conn: Connection) -> None:
    # pysqlite has not begun a transaction yet (it defers BEGIN to the first write), so this
    # is the transaction: every later statement, DDL included, runs under the write lock.
    conn.exec_driver_sql("BEGIN EXCLUSIVE")


def _no_lock(conn: Connection) -> None:
    log.warning("no schema lock for %s: start one replica before the others", conn.dialect.name)


LOCKS: dict[str, Callable[[Connection], None]] = {
    "postgresql": _lock_postgresql,
    "sqlite": _lock_sqlite,
}


def _check_release_0_1(conn: Connection, script: ScriptDirectory) -> None:
    """`SchemaError` unless the unstamped table is release 0.1's (then it may be stamped)."""
    baseline = script.get_revision(BASELINE)  # packaged with this module
    expected = {c.name for c in baseline.module.columns()} if baseline else set()
    found = {c["name"] for c in inspect(conn).get_columns(ATTACHMENTS)}
    if found != expected:
        missing, extra = sorted(expected - found), sorted(found - expected)
        raise SchemaError(
            f"table {ATTACHMENTS} has no schema revision and is not release 0.1's "
            f"(missing columns: {missing or 'none'}; unknown columns: {extra or 'none'}): "
            "refusing to stamp it"
        )


def _stamp_legacy(conn: Connection, script: ScriptDirectory) -> None:
    MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).stamp(script, BASELINE)
    log.info("metadata schema: release 0.1's table stamped with revision %s", BASELINE)


def upgrade(engine: Engine, location: Path | None = None) -> tuple[Status, Status]:
    """Bring the database to head, under the lock, in one transaction; (before, after).
    `SchemaError` (nothing written) when it is at a revision this release does not know, or
    holds an unstamped table that is not release 0.1's."""
    config, script = _config(location), scripts(location)
    with _in_process, engine.begin() as conn:
        LOCKS.get(conn.dialect.name, _no_lock)(conn)
        before = _status(conn, script)
        refuse(before, behind_ok=True)
        if before.legacy:
            _stamp_legacy(conn, script)
        if not before.at_head:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        after = _status(conn, script)
    if after != before:
        log.info("metadata schema: %s → %s", before.describe(), after.describe())
    return before, after
