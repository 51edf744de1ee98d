"""The attachment lifecycle over a local folder and a real S3 API: staging → scan → final, or
deleted everywhere; deny-by-default in every state; repairs after a crash at any step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from attachguard.demo import EICAR, demo_samples
from attachguard.pipeline import Scanner
from attachguard.service.db import APPROVED, IN_PROGRESS, REJECTED, Database
from attachguard.service.lifecycle import (
    Lifecycle,
    NotAvailable,
    clean_name,
    extension,
    object_keys,
)
from attachguard.storage import ObjectStore
from attachguard.storage.local import LocalStore
from attachguard.storage.s3 import S3Store
from support.service import GatedScanner


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "objects")
    else:
        _client, bucket = request.getfixturevalue("s3_bucket")
        yield S3Store(bucket)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    yield database
    database.close()


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    return demo_samples()


def test_keys_follow_connect_layout_and_never_use_the_name() -> None:
    when = datetime(2023, 7, 13, 23, 41, 5, tzinfo=UTC)
    staging, final = object_keys("shop", "f-1", when, ".txt")
    assert staging == "staging/connect/shop/Attachments/chat/2023/07/13/f-1_20230713T23:41_UTC.txt"
    assert final == "final/connect/shop/Attachments/chat/2023/07/13/f-1_20230713T23:41_UTC.txt"
    assert extension("../../etc/passwd") == ".bin"
    assert extension("Receipt.PDF") == ".pdf"
    assert extension("evil.p/df") == ".bin"
    assert extension("x.tar.gz;rm -rf") == ".bin"
    assert clean_name("..\\..\\windows\\system.ini") == "system.ini"
    assert clean_name("a\x00b\nc.txt") == "abc.txt"


def test_approved_moves_to_final(
    store: ObjectStore, db: Database, scanner: Scanner, samples: dict[str, bytes]
) -> None:
    life = Lifecycle(store, db, scanner)
    record = life.accept(samples["receipt.pdf"], "receipt.pdf", "chat-1", "customer")
    assert list(store.keys()) == [record.staging_key]
    assert "receipt" not in record.staging_key
    with pytest.raises(NotAvailable):
        life.content(record.id)  # deny by default: IN_PROGRESS
    done = life.process(record.id)
    assert done is not None and done.status == APPROVED and done.settled
    assert list(store.keys()) == [record.final_key]  # copied to final, staging deleted
    found = life.content(record.id)
    assert found is not None and found[1] == samples["receipt.pdf"]


def test_rejected_is_deleted_everywhere(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    life = Lifecycle(store, db, scanner)
    record = life.accept(EICAR, "eicar.txt", "chat-1", "customer")
    done = life.process(record.id)
    assert done is not None and done.status == REJECTED
    assert list(store.keys()) == []
    assert done.report is not None and done.report["reasons"]  # only the report is kept
    with pytest.raises(NotAvailable) as refused:
        life.content(record.id)
    assert refused.value.status == REJECTED
    assert life.content("no-such-id") is None


def test_rejected_bytes_nowhere_on_disk(tmp_path: Path, scanner: Scanner) -> None:
    """Not in staging, not in final, not in the metadata database or its journal."""
    store = LocalStore(tmp_path / "data" / "objects")
    db = Database(f"sqlite:///{tmp_path / 'data' / 'meta.db'}")
    token = uuid.uuid4().hex.encode()
    life = Lifecycle(store, db, scanner)
    record = life.accept(b"@echo off\r\nrem " + token + b"\r\n", "run.bat", "c", "customer")
    assert any(token in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    done = life.process(record.id)
    assert done is not None and done.status == REJECTED
    assert [p for p in tmp_path.rglob("*") if p.is_file() and token in p.read_bytes()] == []
    db.close()


def test_in_progress_then_decision_is_final(
    store: ObjectStore, db: Database, scanner: Scanner
) -> None:
    """A second scan of a decided file (another replica, a retry) cannot change the verdict."""
    life = Lifecycle(store, db, scanner)
    record = life.accept(b"hello\n", "hello.txt", None, None)
    assert db.get(record.id).status == IN_PROGRESS  # type: ignore[union-attr]
    assert life.process(record.id).status == APPROVED  # type: ignore[union-attr]
    assert not db.decide(record.id, REJECTED, {"reasons": ["late"]}, [])
    assert db.get(record.id).status == APPROVED  # type: ignore[union-attr]


def test_lease_keeps_other_replicas_off(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    mine, other = Lifecycle(store, db, scanner), Lifecycle(store, db, scanner)
    record = mine.accept(b"hello\n", "hello.txt", None, None)
    assert db.claim(record.id, other.owner, 0) is None  # leased to `mine`
    assert other.recover() == []
    assert mine.process(record.id).status == APPROVED  # type: ignore[union-attr]


def test_crash_after_decision_is_repaired(
    store: ObjectStore, db: Database, scanner: Scanner
) -> None:
    """A crash between recording REJECTED and deleting: the bytes are already refused, and
    recovery deletes them."""
    life = Lifecycle(store, db, scanner)
    record = life.accept(EICAR, "eicar.txt", None, None)
    assert db.decide(record.id, REJECTED, {"reasons": ["malware"]}, ["MALWARE"])
    with pytest.raises(NotAvailable):
        life.content(record.id)
    assert list(store.keys()) == [record.staging_key]
    assert Lifecycle(store, db, scanner).recover() == []
    assert list(store.keys()) == []
    assert db.get(record.id).settled  # type: ignore[union-attr]


def test_crash_after_copy_is_repaired(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    life = Lifecycle(store, db, scanner)
    record = life.accept(b"hello\n", "hello.txt", None, None)
    store.copy(record.staging_key, record.final_key)
    assert db.decide(record.id, APPROVED, {"reasons": []}, [])
    Lifecycle(store, db, scanner).recover()
    assert list(store.keys()) == [record.final_key]


def test_lost_staging_fails_closed(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    life = Lifecycle(store, db, scanner)
    record = life.accept(b"hello\n", "hello.txt", None, None)
    store.delete(record.staging_key)
    done = life.process(record.id)
    assert done is not None and done.status == REJECTED
    assert "lost" in done.report["reasons"][0]  # type: ignore[index]


def test_scanner_crash_fails_closed(store: ObjectStore, db: Database) -> None:
    class Broken:
        def scan(self, data: bytes, name: str) -> None:
            raise RuntimeError("boom")

    life = Lifecycle(store, db, Broken())  # type: ignore[arg-type]
    record = life.accept(b"hello\n", "hello.txt", None, None)
    done = life.process(record.id)
    assert done is not None and done.status == REJECTED and list(store.keys()) == []


def test_gated_scan_holds_in_progress(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    import threading

    gated = GatedScanner(scanner)
    life = Lifecycle(store, db, gated)
    record = life.accept(b"hello\n", "hello.txt", None, None)
    thread = threading.Thread(target=life.process, args=(record.id,))
    thread.start()
    assert gated.started.wait(30)
    with pytest.raises(NotAvailable):
        life.content(record.id)
    assert not store.exists(record.final_key)
    gated.gate.set()
    thread.join(30)
    assert life.content(record.id) is not None


def test_late_approval_after_another_replica_rejected_leaves_nothing(
    store: ObjectStore, db: Database, scanner: Scanner
) -> None:
    """Our lease ran out mid-scan; while our approval copies staging to final, another replica
    rejects and cleans up. Our copy lands after their clean-up and our decision loses the race:
    the bytes must not stay in final."""
    other = Lifecycle(store, db, scanner)

    class RacingStore:
        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def copy(self, source: str, target: str) -> None:
            data = store.get(source)
            record_id = target.rsplit("/", 1)[1].split("_", 1)[0]
            assert db.decide(record_id, REJECTED, {"reasons": ["other replica"]}, ["MALWARE"])
            other.settle(record_id)  # deletes staging and final
            store.put(target, data)  # our copy lands afterwards

    late = Lifecycle(RacingStore(), db, scanner)  # type: ignore[arg-type]
    record = late.accept(b"hello\n", "hello.txt", None, None)
    done = late.process(record.id)
    assert done is not None and done.status == REJECTED
    assert list(store.keys()) == []
