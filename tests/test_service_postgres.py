"""Metadata in a real PostgreSQL server (Debian's postgresql, started by the tests): the
lifecycle, leases between replicas, two replicas sharing one state over S3, and the sweep's
index."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text, update

from attachguard.demo import EICAR, demo_samples
from attachguard.pipeline import Scanner
from attachguard.service.db import APPROVED, REJECTED, Database, attachments, sweep_query
from attachguard.service.lifecycle import Lifecycle
from attachguard.storage.local import LocalStore
from attachguard.storage.s3 import S3Store
from support.service import make_client, wait_verdict


@pytest.fixture
def db(postgres_url: str) -> Database:
    database = Database(postgres_url)
    assert database.kind == "postgresql"
    return database


def test_lifecycle_on_postgres(db: Database, tmp_path: Path, scanner: Scanner) -> None:
    store = LocalStore(tmp_path / "objects")
    life = Lifecycle(store, db, scanner)
    good = life.accept(b"Hello, the parcel arrived. Thank you!\n", "note.txt", "pg-chat", "agent")
    bad = life.accept(EICAR, "eicar.txt", "pg-chat", "customer")
    assert life.process(good.id).status == APPROVED  # type: ignore[union-attr]
    assert life.process(bad.id).status == REJECTED  # type: ignore[union-attr]
    assert [r.id for r in db.chat("pg-chat")] == [good.id, bad.id]
    assert list(store.keys()) == [good.final_key]
    assert db.get(bad.id).report["reasons"]  # type: ignore[union-attr,index]


def test_leases_between_replicas(db: Database, tmp_path: Path, scanner: Scanner) -> None:
    store = LocalStore(tmp_path / "objects")
    a, b = Lifecycle(store, db, scanner), Lifecycle(store, db, scanner, lease_seconds=0.0)
    record = a.accept(b"Thanks for your help today.\n", "n.txt", None, None)
    assert b.db.claim(record.id, b.owner, 0) is None  # a's lease is live
    assert record.id not in [r.id for r in db.orphans()]
    # a dies without scanning: once its lease has run out, b takes the file over
    with db.engine.begin() as conn:
        conn.execute(update(attachments).where(attachments.c.id == record.id).values(lease_until=1))
    assert record.id in b.recover()
    assert b.process(record.id).status == APPROVED  # type: ignore[union-attr]


def test_two_replicas_share_state(
    postgres_url: str, s3_bucket: tuple[object, str], tmp_path: Path, scanner: Scanner
) -> None:
    _client, bucket = s3_bucket
    receipt = demo_samples()["receipt.pdf"]
    with (
        make_client(tmp_path / "a", scanner, database_url=postgres_url, s3_bucket=bucket) as a,
        make_client(tmp_path / "b", scanner, database_url=postgres_url, s3_bucket=bucket) as b,
    ):
        assert a.get("/healthz").json()["checks"]["database"]["kind"] == "postgresql"
        answer = a.post("/v1/attachments", files={"file": ("receipt.pdf", receipt)})
        id = answer.json()["id"]
        assert wait_verdict(b, id)["status"] == "APPROVED"  # asked of the other replica
        assert b.get(f"/v1/attachments/{id}/content").content == receipt
        keys = list(S3Store(bucket).keys())
        assert len(keys) == 1 and keys[0].startswith("final/connect/")


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
)
def test_the_sweep_reads_through_the_partial_index(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Every replica sweeps every second: its query must be one the partial index on unsettled
    rows can answer (revision 0002), or it reads the whole table each time. PostgreSQL is told
    not to scan the table when it has another way, so the plan names the index if, and only if,
    the query's condition implies the index's."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'meta.db'}"
        explain, setup = "EXPLAIN QUERY PLAN", None
    else:
        url = request.getfixturevalue("postgres_url")
        explain, setup = "EXPLAIN", "SET enable_seqscan = off"
    database = Database(url)
    sql = sweep_query(time.time()).compile(database.engine, compile_kwargs={"literal_binds": True})
    with database.engine.connect() as conn:
        if setup:
            conn.execute(text(setup))
        plan = " ".join(str(row) for row in conn.execute(text(f"{explain} {sql}")))
    database.close()
    assert "ix_attachguard_attachments_unsettled" in plan
