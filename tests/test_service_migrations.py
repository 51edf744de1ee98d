"""Schema migrations of the metadata database, on SQLite and a real PostgreSQL: the first revision
is release 0.1's schema exactly; replicas starting together on an empty database all come up; a
0.1 database with records in every state is stamped (not recreated) and its lifecycle carries on
(nothing lost, nothing scanned twice); a newer schema is refused in one line; `attachguard db`."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    column,
    create_engine,
    inspect,
    select,
    table,
    update,
)
from sqlalchemy.engine import make_url

from attachguard.demo import EICAR
from attachguard.pipeline import Scanner
from attachguard.report import Report
from attachguard.service import migrations
from attachguard.service.db import (
    APPROVED,
    IN_PROGRESS,
    REJECTED,
    Database,
    _sqlite_wal,
    attachments,
    check_schema,
    engine_for,
    metadata,
)
from attachguard.service.dbcli import db as db_cli
from attachguard.service.lifecycle import Lifecycle
from attachguard.storage.local import LocalStore

HEAD = migrations.scripts().get_current_head() or migrations.BASELINE
# Every table of the newest schema (db.py's), and the version table.
HEAD_TABLES = sorted([migrations.VERSION_TABLE, *metadata.tables])
VERSIONS = table(migrations.VERSION_TABLE, column("version_num"))

# Release 0.1's table, frozen as its service/db.py declared it (create_all at start-up).
RELEASE_0_1 = MetaData()
Table(
    "attachguard_attachments",
    RELEASE_0_1,
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


@contextmanager
def pg_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    name = f"ag_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]


@pytest.fixture(params=KINDS)
def new_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases of one kind (a SQLite file, or a PostgreSQL database)."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def make() -> str:
            if request.param == "sqlite":
                return f"sqlite:///{tmp_path / f'meta{next(numbers)}.db'}"
            server: str = request.getfixturevalue("postgres_url")
            return stack.enter_context(pg_database(server))

        yield make


@contextmanager
def opened(url: str) -> Iterator[Engine]:
    engine = engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


def versions(url: str) -> list[str]:
    with opened(url) as engine, engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(select(VERSIONS.c.version_num))]


def tables(url: str) -> list[str]:
    with opened(url) as engine, engine.connect() as conn:
        return sorted(inspect(conn).get_table_names())


def schema(url: str) -> dict[str, Any]:
    """Everything a schema comparison cares about, the version table aside."""
    with opened(url) as engine, engine.connect() as conn:
        found = inspect(conn)
        name = "attachguard_attachments"
        return {
            "tables": sorted(set(found.get_table_names()) - {migrations.VERSION_TABLE}),
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c["default"])
                for c in found.get_columns(name)
            ],
            "pk": found.get_pk_constraint(name)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), i["unique"]) for i in found.get_indexes(name)
            ),
            "foreign": found.get_foreign_keys(name),
            "unique": found.get_unique_constraints(name),
        }


def test_first_revision_is_release_0_1_schema(new_url: Callable[[], str]) -> None:
    migrated, created = new_url(), new_url()
    with opened(migrated) as engine, engine.begin() as conn:
        config = migrations._config(None)
        config.attributes["connection"] = conn
        alembic_command.upgrade(config, migrations.BASELINE)  # the first revision only
    with opened(created) as engine:
        RELEASE_0_1.create_all(engine)
    assert schema(migrated) == schema(created)
    assert versions(migrated) == [migrations.BASELINE]


def test_head_is_what_the_code_reads_and_writes(new_url: Callable[[], str]) -> None:
    """Alembic's autogenerate finds nothing to change: a revision that forgets a column of
    db.py (or db.py that forgets a revision) fails here."""
    url = new_url()
    Database(url).close()
    with opened(url) as engine, engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": migrations.VERSION_TABLE}
        )
        assert compare_metadata(context, metadata) == []


REPLICA = textwrap.dedent(
    """
    import pathlib, sys, time
    from attachguard.service.db import Database
    folder = pathlib.Path(sys.argv[2])
    (folder / f"ready-{sys.argv[3]}").touch()
    while not (folder / "go").exists():
        time.sleep(0.005)
    Database(sys.argv[1]).close()
    """
)


@pytest.mark.integration  # eight subprocesses
def test_replicas_starting_together_all_come_up(new_url: Callable[[], str], tmp_path: Path) -> None:
    """Eight processes open one empty database at the same instant (each waits, imports done,
    for a common signal): create_all let two of them race to create the table, and on SQLite
    one in six such starts had a replica lose the race to switch the file to WAL."""
    url, count = new_url(), 8
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, url, str(tmp_path), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in replicas]
    assert [rc for rc, _ in outcomes] == [0] * count, [err for _, err in outcomes]
    assert versions(url) == [HEAD]
    assert tables(url) == HEAD_TABLES


class _RacingConnection:
    """A DBAPI connection whose first switches to WAL lose the race (as a SQLite file's do when
    other processes switch it at the same time), then succeed."""

    def __init__(self, losses: int, error: str = "database is locked") -> None:
        self.losses, self.error, self.done = losses, error, list[str]()

    def cursor(self) -> _RacingConnection:
        return self

    def execute(self, sql: str) -> None:
        if "journal_mode" in sql and self.losses:
            self.losses -= 1
            raise sqlite3.OperationalError(self.error)
        self.done.append(sql)

    def close(self) -> None:
        pass


def test_a_connection_that_loses_the_race_to_switch_to_wal_waits() -> None:
    racing = _RacingConnection(losses=3)
    _sqlite_wal(racing, None)  # type: ignore[arg-type]  # a DBAPI connection's duck type
    assert racing.done == ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"]
    broken = _RacingConnection(losses=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):  # not a lock: at once
        _sqlite_wal(broken, None)  # type: ignore[arg-type]
    assert broken.done == []


# Records of release 0.1 in every state, and what the store holds for each.
STATES: dict[str, dict[str, Any]] = {
    "leased": {"status": IN_PROGRESS, "owner": "live-replica", "lease": 3600.0, "put": "s"},
    "expired": {"status": IN_PROGRESS, "owner": "dead-replica", "lease": -60.0, "put": "s"},
    "queued": {"status": IN_PROGRESS, "owner": None, "lease": None, "put": "s"},
    "approved": {"status": APPROVED, "settled": True, "put": "f"},
    "approved-unsettled": {"status": APPROVED, "settled": False, "put": "sf"},
    "rejected": {"status": REJECTED, "settled": True, "put": ""},
    "rejected-unsettled": {"status": REJECTED, "settled": False, "put": "s"},
}
CONTENT = {"expired": EICAR}  # the rest are plain notes (see _note)


def _note(name: str) -> bytes:
    return f"Hello, the parcel for order {name} arrived this morning. Thank you!\n".encode()


def _row(name: str, state: dict[str, Any], now: float) -> dict[str, Any]:
    base = f"connect/attachguard/Attachments/chat/2024/01/02/{name}_20240102T10:00_UTC.txt"
    data = CONTENT.get(name, _note(name))
    decided = state["status"] != IN_PROGRESS
    lease = state.get("lease")
    return {
        "id": name, "chat_id": "old-chat", "sender": "customer", "file_name": f"{name}.txt",
        "ext": ".txt", "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "status": state["status"], "settled": state.get("settled", False),
        "staging_key": f"staging/{base}", "final_key": f"final/{base}",
        "created_at": now - 100, "updated_at": now - 50, "owner": state.get("owner"),
        "lease_until": None if lease is None else now + lease,
        "attempts": 1 if state.get("owner") else 0,
        "reason_codes": "MALWARE" if state["status"] == REJECTED else ("" if decided else None),
        "report": json.dumps({"status": state["status"], "reasons": []}) if decided else None,
    }  # fmt: skip


def write_release_0_1(url: str, store: LocalStore) -> list[dict[str, Any]]:
    """A database as release 0.1 left it, with its objects; its rows, as stored."""
    now = time.time()
    rows = [_row(name, state, now) for name, state in STATES.items()]
    for row, state in zip(rows, STATES.values(), strict=True):
        data = CONTENT.get(row["id"], _note(row["id"]))
        for where in state["put"]:
            store.put(row["staging_key" if where == "s" else "final_key"], data)
    with opened(url) as engine:
        RELEASE_0_1.create_all(engine)
        with engine.begin() as conn:
            conn.execute(RELEASE_0_1.tables["attachguard_attachments"].insert(), rows)
    return dump(url)


def dump(url: str) -> list[dict[str, Any]]:
    with opened(url) as engine, engine.connect() as conn:
        result = conn.execute(select(attachments).order_by(attachments.c.id))
        return [dict(r._mapping) for r in result]


class Counting:
    """The real scanner, counting the files it scans."""

    def __init__(self, inner: Scanner) -> None:
        self.inner = inner
        self.scanned: list[str] = []

    def scan(self, data: bytes, name: str) -> Report:
        self.scanned.append(name)
        return self.inner.scan(data, name)


def test_release_0_1_database_is_stamped_and_its_lifecycle_continues(
    new_url: Callable[[], str], tmp_path: Path, scanner: Scanner
) -> None:
    url, store = new_url(), LocalStore(tmp_path / "objects")
    before = write_release_0_1(url, store)
    with pytest.raises(migrations.SchemaError, match=r"created by attachguard 0\.1"):
        Database(url, migrate=False)  # --no-migrate: refused, and nothing written
    assert tables(url) == ["attachguard_attachments"]

    db = Database(url)
    assert versions(url) == [HEAD]
    assert dump(url) == before  # stamped, not recreated: every record, every field
    counting = Counting(scanner)
    life = Lifecycle(store, db, counting)
    assert sorted(life.recover()) == ["expired", "queued"]  # "leased" is still someone's
    for name in ("expired", "queued", "approved", "rejected", "leased"):
        life.process(name)  # decided ones are not rescanned; the leased one is not ours yet
    with db.engine.begin() as conn:  # the live replica dies: its lease runs out
        conn.execute(update(attachments).where(attachments.c.id == "leased").values(lease_until=1))
    assert life.recover() == ["leased"]
    life.process("leased")

    assert sorted(counting.scanned) == ["expired.txt", "leased.txt", "queued.txt"]  # once each
    final = {r.id: r for r in db.chat("old-chat")}
    assert len(final) == len(STATES) and all(r.settled for r in final.values())
    assert {k: r.status for k, r in final.items() if k in CONTENT} == {"expired": REJECTED}
    assert final["queued"].status == final["leased"].status == APPROVED
    approved = sorted(r.final_key for r in final.values() if r.status == APPROVED)
    assert sorted(store.keys()) == approved  # staging emptied, rejected bytes gone
    found = life.content("approved")
    assert found is not None and found[1] == _note("approved")
    db.close()


def test_a_table_that_is_not_release_0_1s_is_not_stamped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    with opened(url) as engine, engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE attachguard_attachments (id VARCHAR(36), extra TEXT)")
    for attempt in (lambda: Database(url), lambda: check_schema(url, migrate=True)):
        with pytest.raises(migrations.SchemaError) as refused:
            attempt()
        assert "not release 0.1's" in str(refused.value) and "'extra'" in str(refused.value)
    assert tables(url) == ["attachguard_attachments"]


def test_a_newer_schema_is_refused_in_one_line(new_url: Callable[[], str]) -> None:
    """A downgrade: this release meets a database a newer one upgraded."""
    url = new_url()
    Database(url).close()
    with opened(url) as engine, engine.begin() as conn:
        conn.execute(update(VERSIONS).values(version_num="0099"))
    for attempt in (
        lambda: Database(url),
        lambda: Database(url, migrate=False),
        lambda: check_schema(url, migrate=True),
    ):
        with pytest.raises(migrations.SchemaError) as refused:
            attempt()
        message = str(refused.value)
        assert "\n" not in message and "0099" in message and HEAD in message
    runner = CliRunner()
    for command in ("upgrade", "current"):
        answer = runner.invoke(db_cli, [command, "--database-url", url])
        assert answer.exit_code == 2, answer.output
        assert "0099" in answer.output
    assert versions(url) == ["0099"]  # untouched


SECOND = textwrap.dedent(
    '''
    """A note on each attachment (a throwaway revision for the tests)."""

    import sqlalchemy as sa
    from alembic import op

    revision = "9002"
    down_revision = "{head}"
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        with op.batch_alter_table("attachguard_attachments") as batch:
            batch.add_column(sa.Column("note", sa.String(40)))
            batch.alter_column("sender", existing_type=sa.String(64), type_=sa.String(80))


    def downgrade() -> None:
        raise RuntimeError("not undone")
    '''
)


def test_a_second_revision_keeps_records_and_the_older_release_refuses_it(
    new_url: Callable[[], str], tmp_path: Path
) -> None:
    """The mechanism future revisions use: batch mode on SQLite (a table copy), plain ALTER on
    PostgreSQL; a 0.1 database goes through the stamp and the new revision in one upgrade."""
    location = tmp_path / "migrations"
    packaged = Path(str(files(migrations.__name__)))
    shutil.copytree(packaged, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "9002_note.py").write_text(SECOND.format(head=HEAD))
    url = new_url()
    before = write_release_0_1(url, LocalStore(tmp_path / "objects"))
    with opened(url) as engine:
        first, last = migrations.upgrade(engine, location)
    assert (first.legacy, last.current) == (True, ("9002",))
    after = dump(url)  # through db.py's table: the new column is not read
    assert after == before
    assert "note" in [c[0] for c in schema(url)["columns"]]
    with pytest.raises(migrations.SchemaError, match="9002"):
        Database(url)  # this release does not know 9002


def test_a_failing_revision_leaves_the_database_as_it_was(
    new_url: Callable[[], str], tmp_path: Path
) -> None:
    """One transaction for the stamp and every revision: a revision that fails half-way (here
    after altering the table) undoes all of it, on SQLite as on PostgreSQL."""
    location = tmp_path / "migrations"
    packaged = Path(str(files(migrations.__name__)))
    shutil.copytree(packaged, location, ignore=shutil.ignore_patterns("__pycache__"))
    altered = "type_=sa.String(80))\n"
    failing = SECOND.replace(altered, altered + '    raise RuntimeError("half-way")\n')
    (location / "versions" / "9002_note.py").write_text(failing.format(head=HEAD))
    url = new_url()
    before = write_release_0_1(url, LocalStore(tmp_path / "objects"))
    shape = schema(url)
    with opened(url) as engine, pytest.raises(RuntimeError, match="half-way"):
        migrations.upgrade(engine, location)
    assert (tables(url), schema(url), dump(url)) == (["attachguard_attachments"], shape, before)


def test_no_migrate_refuses_an_empty_database_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'attachguard.db'}"
    check_schema(url, migrate=True)  # will be created: fine
    with pytest.raises(migrations.SchemaError, match="attachguard db upgrade"):
        check_schema(url, migrate=False)
    assert not (tmp_path / "data").exists()
    (tmp_path / "data").mkdir()
    with pytest.raises(migrations.SchemaError, match="none"):
        Database(url, migrate=False)
    assert tables(url) == []
    Database(url).close()
    Database(url, migrate=False).close()
    check_schema(url, migrate=False)


def test_db_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]
    history = runner.invoke(db_cli, ["history"])
    assert history.exit_code == 0 and history.output.startswith(f"{HEAD} (head)")
    pending = runner.invoke(db_cli, ["current", *data])
    assert pending.exit_code == 1 and "none (empty database)" in pending.output
    assert not (tmp_path / "data").exists()  # `current` only reads
    done = runner.invoke(db_cli, ["upgrade", *data])
    assert done.exit_code == 0 and f"to {HEAD} (head)" in done.output
    again = runner.invoke(db_cli, ["upgrade", *data])
    assert again.exit_code == 0 and "already at" in again.output
    now = runner.invoke(db_cli, ["current", *data])
    assert now.exit_code == 0 and now.output.strip().endswith(f"{HEAD} (head)")
