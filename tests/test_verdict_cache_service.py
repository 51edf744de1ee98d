"""The service's verdict cache in the metadata database: shared by replicas, a hit reported in the
attachment's report and view and counted, and a miss after any change of policy, engine version
or signatures. clamd is a fake client behind the real clamav engine (its VERSION answer is what
a signature update changes); SQLite here, PostgreSQL in the integration run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from attachguard.cache import CachedScanner
from attachguard.pipeline import Scanner
from attachguard.service.db import Database
from attachguard.service.verdict_cache import DatabaseCache, cached_scanner
from support.fake_clamd import EICAR, FakeClamd
from support.fake_clamd import scanner_for as fake_scanner
from support.service import make_client, wait_verdict

NOTE = b"The return policy: 30 days, with the receipt. Thank you for your order!\n" * 20
POLICY = "allowed_extensions: [.txt, .pdf]\n"


def scanner_for(clamd: FakeClamd, policy: str = POLICY) -> Scanner:
    return fake_scanner(clamd, policy)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meta.db'}"
        return
    from test_service_migrations import pg_database

    with pg_database(request.getfixturevalue("postgres_url")) as made:
        yield made


@pytest.fixture
def db(url: str) -> Iterator[Database]:
    database = Database(url)
    yield database
    database.close()


def test_replicas_share_verdicts(url: str) -> None:
    """Two replicas (two processes' worth of engine, database handle and scanner): a file one
    of them scanned is decided by the other from the database."""
    one, two = Database(url), Database(url)
    clamd = FakeClamd()
    try:
        first = CachedScanner(scanner_for(clamd), DatabaseCache(one))
        second = CachedScanner(scanner_for(clamd), DatabaseCache(two))
        made = first.scan(NOTE, "return-policy.txt")
        reused = second.scan(NOTE, "policy-for-you.txt")
        assert (made.cached, reused.cached) == (False, True) and clamd.streams == 1
        assert reused.file == "policy-for-you.txt" and reused.status == made.status
        rejected = second.scan(EICAR, "eicar.txt")
        again = first.scan(EICAR, "eicar.txt")
        assert again.cached and again.rejecting_codes == rejected.rejecting_codes == ["MALWARE"]
    finally:
        one.close()
        two.close()


Change = Callable[[FakeClamd], tuple[FakeClamd, str]]
CHANGES: dict[str, Change] = {
    "policy": lambda c: (c, POLICY + "max_file_size: 1MB\n"),
    "signatures": lambda c: (FakeClamd("ClamAV 1.4.6/27471/Wed Nov 25 09:30:00 2026"), POLICY),
    "engine": lambda c: (FakeClamd("ClamAV 1.4.7/27470/Tue Nov 24 09:30:00 2026"), POLICY),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_misses(db: Database, change: str) -> None:
    clamd = FakeClamd()
    before = CachedScanner(scanner_for(clamd), DatabaseCache(db))
    assert not before.scan(NOTE, "a.txt").cached
    assert before.scan(NOTE, "a.txt").cached
    changed, policy = CHANGES[change](clamd)
    after = CachedScanner(scanner_for(changed, policy), DatabaseCache(db))
    assert not after.scan(NOTE, "a.txt").cached
    assert after.scan(NOTE, "a.txt").cached  # and the new verdict is kept


def test_a_database_fault_is_a_miss_not_an_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    store = DatabaseCache(db)
    store.put("a" * 64, "{}")
    assert store.get("a" * 64) == "{}"
    store.put("a" * 64, "{}")  # a second writer of the same verdict
    db.engine.dispose()
    (tmp_path / "meta.db").unlink()
    (tmp_path / "meta.db").mkdir()  # no database can be opened there now
    assert store.get("a" * 64) is None
    store.put("b" * 64, "{}")  # swallowed, logged


def test_pruned_by_age_and_count(db: Database) -> None:
    store = DatabaseCache(db, max_entries=3, max_age=3600)
    for n in range(5):
        store.put(f"{n:064x}", f'{{"n": {n}}}')
    store.prune()
    assert len(store) == 3 and store.get(f"{0:064x}") is None and store.get(f"{4:064x}")
    with db.engine.begin() as conn:
        from attachguard.service.db import verdicts

        conn.execute(verdicts.update().values(created_at=time.time() - 7200))
    assert store.prune() == 3 and len(store) == 0


def test_only_a_full_scanner_is_cached(db: Database) -> None:
    clamd = FakeClamd()
    real = scanner_for(clamd)
    assert isinstance(cached_scanner(real, db), CachedScanner)
    stand_in = object()
    assert cached_scanner(stand_in, db) is stand_in


def _upload(client: TestClient, name: str, data: bytes) -> dict[str, Any]:
    answer = client.post("/v1/attachments", files={"file": (name, data)}, data={"chat_id": "c1"})
    assert answer.status_code == 202, answer.text
    return wait_verdict(client, answer.json()["id"])


def test_the_service_decides_a_repeated_file_from_the_cache(tmp_path: Path) -> None:
    clamd = FakeClamd()
    with make_client(tmp_path / "data", scanner_for(clamd)) as client:
        first = _upload(client, "return-policy.txt", NOTE)
        second = _upload(client, "return-policy.txt", NOTE)
        assert first["status"] == second["status"] == "APPROVED"
        assert (first["cached"], second["cached"]) == (False, True)
        assert clamd.streams == 1
        rejected = [_upload(client, "eicar.txt", EICAR) for _ in range(2)]
        assert [r["status"] for r in rejected] == ["REJECTED", "REJECTED"]
        assert [r["cached"] for r in rejected] == [False, True]
        assert rejected[1]["reasons"] == rejected[0]["reasons"]
        metrics = client.get("/metrics").text
        assert "attachguard_verdict_cache_hits_total 2" in metrics
    with make_client(tmp_path / "data", scanner_for(clamd), verdict_cache=False) as client:
        assert not _upload(client, "return-policy.txt", NOTE)["cached"]


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_service_misses_after_a_change(tmp_path: Path, change: str) -> None:
    """A restart with a new policy, new signatures or a new engine: the same file is scanned."""
    clamd = FakeClamd()
    with make_client(tmp_path / "data", scanner_for(clamd)) as client:
        _upload(client, "a.txt", NOTE)
        assert _upload(client, "a.txt", NOTE)["cached"]
    changed, policy = CHANGES[change](clamd)
    streams = changed.streams
    scanner = scanner_for(changed, policy)
    with make_client(tmp_path / "data", scanner) as client:
        made = _upload(client, "a.txt", NOTE)
        # scanned again under the change: by this upload, or (new signatures) by the rescan the
        # start-up sweep began a moment before, whose verdict this upload may then reuse
        assert changed.streams > streams
        report = client.app.state.service.db.get(made["id"]).report  # type: ignore[attr-defined]
        assert report["versions"] == scanner.versions()
        if change != "signatures":
            assert not made["cached"]
        assert _upload(client, "a.txt", NOTE)["cached"]


def test_the_scan_endpoint_shares_the_cache(tmp_path: Path) -> None:
    """``/v1/scan`` (the FILE_SCANNER event) scans with the same cached scanner as uploads."""
    clamd = FakeClamd()
    with make_client(tmp_path / "data", scanner_for(clamd)) as client:
        _upload(client, "a.txt", NOTE)
        svc = client.app.state.service  # type: ignore[attr-defined]
        assert svc.scanner is svc.lifecycle.scanner
        assert svc.scanner.scan(NOTE, "b.txt").cached and clamd.streams == 1
