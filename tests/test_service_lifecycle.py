"""The attachment lifecycle over a local folder and a real S3 API: staging → scan → final, or
deleted everywhere; deny-by-default in every state; files that cannot be scanned are rejected
with a registered code and its customer text. (Crashes at each step: test_service_recovery.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from attachguard.codes import ENGINE_ERROR
from attachguard.connect.verdict import NOT_FOUND, SIZE_MISMATCH, STORE_ERROR
from attachguard.demo import EICAR, demo_samples
from attachguard.pipeline import Scanner
from attachguard.report import Report
from attachguard.service.db import APPROVED, IN_PROGRESS, REJECTED, Database, Record
from attachguard.service.lifecycle import (
    MAX_ATTEMPTS,
    Lifecycle,
    NotAvailable,
    clean_name,
    extension,
    object_keys,
)
from attachguard.storage import ObjectStore
from attachguard.storage.local import LocalStore
from attachguard.storage.s3 import S3Store
from support.service import BOUND, GatedScanner


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


def failure(done: Record | None) -> tuple[str, str, list[str]]:
    """(status, code, customer texts) of a file the lifecycle could not scan."""
    assert done is not None and done.report is not None
    (found,) = done.report["findings"]
    return done.status, found["code"], done.report["customer_reasons"]


def test_lost_staging_fails_closed(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    life = Lifecycle(store, db, scanner)
    record = life.accept(b"hello\n", "hello.txt", None, None)
    store.delete(record.staging_key)
    done = life.process(record.id)
    assert failure(done) == (REJECTED, "NOT_FOUND", [NOT_FOUND.customer])
    assert "lost" in done.report["reasons"][0]  # type: ignore[union-attr,index]


def test_changed_staging_fails_closed(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    life = Lifecycle(store, db, scanner)
    record = life.accept(b"hello\n", "hello.txt", None, None)
    store.put(record.staging_key, b"HELLO\n")  # same size, other bytes
    done = life.process(record.id)
    assert failure(done) == (REJECTED, "SIZE_MISMATCH", [SIZE_MISMATCH.customer])
    assert list(store.keys()) == []


def test_scanner_crash_fails_closed(store: ObjectStore, db: Database) -> None:
    class Broken:
        def scan(self, data: bytes, name: str) -> Report:
            raise RuntimeError("boom")

    life = Lifecycle(store, db, Broken())
    record = life.accept(b"hello\n", "hello.txt", None, None)
    done = life.process(record.id)
    assert failure(done) == (REJECTED, "ENGINE_ERROR", [ENGINE_ERROR.customer])
    assert list(store.keys()) == []


def test_too_many_attempts_fail_closed(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    """A file whose scans keep killing the process (three claims, no verdict) is rejected."""
    life = Lifecycle(store, db, scanner)
    record = life.accept(b"hello\n", "hello.txt", None, None)
    for _ in range(MAX_ATTEMPTS):
        assert db.claim(record.id, life.owner, 0) is not None
    done = life.process(record.id)
    assert failure(done) == (REJECTED, "ENGINE_ERROR", [ENGINE_ERROR.customer])


def test_upload_the_store_refuses_is_rejected_at_once(
    store: ObjectStore, db: Database, scanner: Scanner
) -> None:
    class Full:
        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def put(self, key: str, data: bytes) -> None:
            raise OSError("no space left on device")

    changes: list[Record] = []
    life = Lifecycle(Full(), db, scanner, on_change=changes.append)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="no space"):
        life.accept(b"hello\n", "hello.txt", "chat-1", "customer")
    (record,) = db.chat("chat-1")
    assert failure(record) == (REJECTED, "STORE_ERROR", [STORE_ERROR.customer])
    assert record.settled and [c.status for c in changes] == [REJECTED]
    assert list(store.keys()) == []


def test_gated_scan_holds_in_progress(store: ObjectStore, db: Database, scanner: Scanner) -> None:
    import threading

    gated = GatedScanner(scanner)
    life = Lifecycle(store, db, gated)
    record = life.accept(b"hello\n", "hello.txt", None, None)
    thread = threading.Thread(target=life.process, args=(record.id,))
    thread.start()
    assert gated.started.wait(BOUND)
    with pytest.raises(NotAvailable):
        life.content(record.id)
    assert not store.exists(record.final_key)
    gated.gate.set()
    thread.join(BOUND)
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


def test_approved_file_lost_from_both_places_is_settled_once(
    store: ObjectStore, db: Database, scanner: Scanner, caplog: pytest.LogCaptureFixture
) -> None:
    """An APPROVED record whose staging and final objects are both gone (removed by hand, a
    bucket rule) while it was unsettled: the sweep settles it with one error line instead of
    failing on it at every pass; its verdict stands and its content answers "unknown"."""
    life = Lifecycle(store, db, scanner)
    record = life.accept(b"Thanks, the parcel arrived.\n", "note.txt", None, None)
    store.copy(record.staging_key, record.final_key)
    assert db.decide(record.id, APPROVED, {"reasons": []}, [])  # crashed before settling
    store.delete(record.staging_key)
    store.delete(record.final_key)
    assert [r.id for r in db.orphans()] == [record.id]
    with caplog.at_level("ERROR", logger="attachguard.service"):
        assert life.recover() == []
        assert life.recover() == []  # settled: not swept again, not logged again
    lost = [r for r in caplog.records if "gone from both staging and final" in r.getMessage()]
    assert len(lost) == 1 and record.id in lost[0].getMessage()
    assert db.orphans() == []
    settled = db.get(record.id)
    assert settled is not None and settled.status == APPROVED and settled.settled
    assert life.content(record.id) is None
    assert list(store.keys()) == []


def test_heartbeat_renews_and_release_hands_back(store: ObjectStore, db: Database) -> None:
    """`renew` extends only this process's leases on rows still IN_PROGRESS; `release` frees
    them for any replica (``keep``: the scans still running stay ours)."""
    mine, other = Lifecycle(store, db, None, lease_seconds=60), Lifecycle(store, db, None)  # type: ignore[arg-type]
    a, b, c = (mine.accept(f"{i}\n".encode(), f"{i}.txt", None, None) for i in range(3))
    assert other.renew([a.id, b.id]) == 0  # not other's to renew
    assert mine.renew([a.id, b.id, c.id]) == 3
    assert db.orphans() == []
    assert mine.release(keep=[c.id]) == 2
    assert sorted(r.id for r in db.orphans()) == sorted([a.id, b.id])
    assert other.db.claim(a.id, other.owner, 1e12) is not None  # taken at once, no lease wait
    assert other.db.claim(c.id, other.owner, 1e12) is None  # still ours
    assert mine.renew([a.id]) == 0  # a lease another replica took is not taken back
    assert mine.release(only=[c.id]) == 1
    assert other.db.claim(c.id, other.owner, 1e12) is not None
