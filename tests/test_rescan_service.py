"""Rescans of the service's final store after a signature update: clamd's VERSION polled by the
sweep starts a job; an approved file the new signatures find is revoked (REJECTED, final deleted
or quarantined), published on its chat's stream, counted and listed on the dashboard, also when
another engine failed beside the finding; a failed scan revokes nothing and is tried again; jobs
are bounded and resume where they stopped, also in another process; a replica whose clamd has
older signatures than the job's leaves it alone; a file not yet settled holds the cursor; a long
scan keeps the job's lease. clamd is a fake client behind the real clamav engine: its VERSION
answer and what it finds change as a signature update changes them."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from attachguard.cache import CachedScanner
from attachguard.clamav.client import ClamdAnswer, ClamdError
from attachguard.engines.base import Context, Item, Result
from attachguard.engines.clamav import ClamAVEngine
from attachguard.pipeline import Scanner
from attachguard.policy import parse_policy
from attachguard.scanner import build_scanner
from attachguard.service.db import APPROVED, IN_PROGRESS, REJECTED, Database, Record, rescans
from attachguard.service.events import EventHub
from attachguard.service.lifecycle import Lifecycle
from attachguard.service.rescan import Rescanner, quarantine_key, signature_of
from attachguard.storage.local import LocalStore
from support.service import BOUND, live_server, make_client, wait_verdict
from test_service_browser import browser  # noqa: F401  (the fixture)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

OLD = "ClamAV 1.4.6/27470/Tue Nov 24 09:30:00 2026"
NEW = "ClamAV 1.4.6/27471/Wed Nov 25 09:30:00 2026"
POLICY = "allowed_extensions: [.txt]\n"
PAYLOAD = b"stage-two-dropper"  # what the new signatures find


def note(n: int) -> bytes:
    return f"Order {n} arrived, thank you! The box was a little damaged.\n".encode() * 10


class UpdatableClamd:
    """A clamd whose signatures can be updated: VERSION, and INSTREAM finding ``payloads``;
    ``down`` makes every stream fail (clamd briefly away), ``broken`` those holding it;
    ``during_scan`` runs inside the next stream (once)."""

    def __init__(self) -> None:
        self.answer = OLD
        self.payloads: set[bytes] = set()
        self.down = False
        self.broken: bytes | None = None
        self.during_scan: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def update(self) -> None:
        with self._lock:
            self.answer = NEW
            self.payloads.add(PAYLOAD)

    def roll_back(self) -> None:
        """Back to the old database (a restart on an older copy of it)."""
        with self._lock:
            self.answer = OLD
            self.payloads.clear()

    def version(self) -> str:
        return self.answer

    def instream(self, data: bytes) -> ClamdAnswer:
        hook, self.during_scan = self.during_scan, None
        if hook is not None:
            hook()
        if self.down or (self.broken is not None and self.broken in data):
            raise ClamdError("clamd went away")
        found = next((p for p in self.payloads if p in data), None)
        return ClamdAnswer("Win.Dropper.Test-1" if found else None)


class Failing:
    """An engine that fails on every file: a momentary error, not news about the bytes."""

    name = "sensitive"  # routed to text files

    def version(self) -> str:
        return "1"

    def scan(self, item: Item, context: Context) -> Result:
        raise RuntimeError("briefly away")


def scanner_for(clamd: UpdatableClamd, *, failing: bool = False) -> Scanner:
    extra: dict[str, Any] = {"clamav": ClamAVEngine(clamd)}  # type: ignore[arg-type]
    if failing:
        extra["sensitive"] = Failing()
    return build_scanner(parse_policy(POLICY), None, extra=extra)


@pytest.fixture
def clamd() -> UpdatableClamd:
    return UpdatableClamd()


@pytest.fixture
def parts(tmp_path: Path, clamd: UpdatableClamd) -> Iterator[tuple[Lifecycle, LocalStore]]:
    store = LocalStore(tmp_path / "objects")
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    yield Lifecycle(store, db, scanner_for(clamd)), store
    db.close()


def noted(rescanner: Rescanner) -> None:
    """Record the signatures the scanner's clamd has loaded now (what `Rescanner.poll` does)."""
    scanner = rescanner.lifecycle.scanner
    assert isinstance(scanner, Scanner | CachedScanner)
    loaded = signature_of(scanner.versions())
    assert loaded is not None
    rescanner.note(*loaded)


def approved(lifecycle: Lifecycle, data: bytes, name: str) -> Record:
    record = lifecycle.accept(data, name, "chat-1", "customer")
    done = lifecycle.process(record.id)
    assert done is not None and done.status == APPROVED
    return done


def test_signature_of_reads_the_engines_version() -> None:
    assert signature_of({"clamav": "ClamAV 1.4.6, signatures 27471 (Wed Nov 25 2026)"}) == (
        "ClamAV 1.4.6, signatures 27471 (Wed Nov 25 2026)",
        27471,
    )
    assert signature_of({"clamav": "ClamAV 1.4.6 (no official signatures loaded)"})[1] is None  # type: ignore[index]
    assert signature_of({"clamav": "unavailable (ClamdError)"}) is None
    assert signature_of({}) is None


def test_a_newer_database_revokes_what_it_now_finds(
    parts: tuple[Lifecycle, LocalStore], clamd: UpdatableClamd
) -> None:
    lifecycle, store = parts
    revoked: list[tuple[Record, dict[str, Any]]] = []
    rescanner = Rescanner(lifecycle, on_revoked=lambda r, report: revoked.append((r, report)))
    clean = approved(lifecycle, note(1), "receipt.txt")
    bad = approved(lifecycle, note(2) + PAYLOAD, "invoice.txt")
    assert rescanner.poll() is None  # the first version seen is a baseline: nothing to do
    assert [j.finished_at is not None for j in rescanner.jobs()] == [True]
    clamd.update()
    thread = rescanner.poll()
    assert thread is not None
    thread.join(BOUND)
    job = rescanner.jobs()[0]
    assert (job.number, job.scanned, job.revoked) == (27471, 2, 1) and job.finished_at
    now = lifecycle.db.get(bad.id)
    assert now is not None and (now.status, now.settled) == (REJECTED, True)
    assert now.report is not None and now.report["rescan"]["action"] == "delete"
    assert [f["code"] for f in now.report["findings"]] == ["MALWARE"]
    assert not store.exists(bad.final_key)  # deleted from final
    assert store.exists(clean.final_key) and lifecycle.db.get(clean.id).status == APPROVED  # type: ignore[union-attr]
    assert [r.id for r, _ in revoked] == [bad.id]
    assert [(r.id, action) for r, action, _ in rescanner.revoked()] == [(bad.id, "delete")]
    with pytest.raises(Exception, match="REJECTED"):
        lifecycle.content(bad.id)  # downloads stop at once
    assert rescanner.poll() is None  # the same version again: no new job


def test_quarantine_keeps_a_copy_outside_final(
    parts: tuple[Lifecycle, LocalStore], clamd: UpdatableClamd
) -> None:
    lifecycle, store = parts
    rescanner = Rescanner(lifecycle, action="quarantine")
    bad = approved(lifecycle, note(3) + PAYLOAD, "invoice.txt")
    rescanner.poll()
    clamd.update()
    noted(rescanner)
    rescanner.run()
    assert not store.exists(bad.final_key)
    kept = quarantine_key(bad.final_key)
    assert kept.startswith("quarantine/") and store.get(kept) == note(3) + PAYLOAD


def test_a_failed_scan_revokes_nothing_and_is_tried_again(
    parts: tuple[Lifecycle, LocalStore], clamd: UpdatableClamd
) -> None:
    """clamd away: the file stays approved and the cursor stays on it (the job is not done);
    once clamd is back, the next run finds what the new signatures see."""
    lifecycle, store = parts
    results: list[str] = []
    rescanner = Rescanner(lifecycle, on_scanned=results.append)
    record = approved(lifecycle, note(4) + PAYLOAD, "invoice.txt")
    rescanner.poll()
    clamd.update()
    clamd.down = True
    noted(rescanner)
    for _ in range(2):
        job = rescanner.run()
        assert job is not None and (job.scanned, job.revoked, job.finished_at) == (0, 0, None)
        assert job.cursor_id is None  # not moved past the file
    assert results == ["undecided", "undecided"]
    assert lifecycle.db.get(record.id).status == APPROVED and store.exists(record.final_key)  # type: ignore[union-attr]
    clamd.down = False
    job = rescanner.run()
    assert job is not None and (job.scanned, job.revoked) == (1, 1) and job.finished_at
    assert lifecycle.db.get(record.id).status == REJECTED  # type: ignore[union-attr]
    assert results[-1] == "rejected"


def test_an_undecided_file_is_given_up_after_its_tries(
    parts: tuple[Lifecycle, LocalStore], clamd: UpdatableClamd
) -> None:
    """A file no scan can decide does not hold up the job for good: after ``retries`` tries
    (over ``patience`` seconds) it is left approved and counted, and the job goes on."""
    lifecycle, _ = parts
    results: list[str] = []
    rescanner = Rescanner(lifecycle, retries=2, patience=0.0, on_scanned=results.append)
    stuck = approved(lifecycle, note(4), "a.txt")
    later = approved(lifecycle, note(5) + PAYLOAD, "b.txt")
    rescanner.poll()
    clamd.update()
    noted(rescanner)
    clamd.broken = note(4)  # every scan of that file fails
    assert rescanner.run() is not None and results == ["undecided"]
    job = rescanner.run()
    assert results[:2] == ["undecided", "gave_up"]
    assert job is not None and job.finished_at and (job.scanned, job.revoked) == (2, 1)
    assert lifecycle.db.get(stuck.id).status == APPROVED  # type: ignore[union-attr]
    assert lifecycle.db.get(later.id).status == REJECTED  # type: ignore[union-attr]


def test_malware_beside_a_failed_engine_is_revoked(tmp_path: Path) -> None:
    """The new signatures' finding is about the bytes; a failed engine beside it is not a
    reason to keep the file (nor to move past it undecided)."""
    clamd = UpdatableClamd()
    store = LocalStore(tmp_path / "objects")
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    try:
        record = approved(Lifecycle(store, db, scanner_for(clamd)), note(6) + PAYLOAD, "a.txt")
        rescanner = Rescanner(Lifecycle(store, db, scanner_for(clamd, failing=True)))
        rescanner.poll()
        clamd.update()
        noted(rescanner)
        job = rescanner.run()
        assert job is not None and (job.scanned, job.revoked) == (1, 1) and job.finished_at
        now = db.get(record.id)
        assert now is not None and now.status == REJECTED
        assert now.report is not None
        assert {f["code"] for f in now.report["findings"]} == {"ENGINE_ERROR", "MALWARE"}
        assert not store.exists(record.final_key)
    finally:
        db.close()


def _owner(db: Database, signature: str) -> str | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(rescans.c.owner).where(rescans.c.signature == signature))
        return row.scalar()


def test_a_replica_with_older_signatures_leaves_the_job_alone(tmp_path: Path) -> None:
    """Replica A's clamd loads the new database and records the job; replica B's clamd has
    not yet: B neither runs nor holds the job (even through its verdict cache), A finishes it."""
    from attachguard.service.verdict_cache import cached_scanner

    store = LocalStore(tmp_path / "objects")
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    try:
        clamd_a, clamd_b = UpdatableClamd(), UpdatableClamd()
        a = Lifecycle(store, db, cached_scanner(scanner_for(clamd_a), db))
        b = Lifecycle(store, db, cached_scanner(scanner_for(clamd_b), db))
        bad = approved(b, note(7) + PAYLOAD, "invoice.txt")  # B's cache knows it: clean
        ra, rb_results = Rescanner(a), list[str]()
        rb = Rescanner(b, on_scanned=rb_results.append)
        ra.poll()
        clamd_a.update()
        noted(ra)
        job = rb.run()
        assert job is not None and (job.scanned, job.finished_at, job.cursor_id) == (0, None, None)
        assert rb_results == [] and _owner(db, job.signature) is None  # not held: A may run it
        done = ra.run()
        assert done is not None and done.finished_at and (done.scanned, done.revoked) == (1, 1)
        assert db.get(bad.id).status == REJECTED  # type: ignore[union-attr]
    finally:
        db.close()


def test_a_scan_on_older_signatures_decides_nothing(
    parts: tuple[Lifecycle, LocalStore], clamd: UpdatableClamd
) -> None:
    """clamd goes back to the old database during a rescan (a restart on an older copy): the
    report says so, and the file is neither passed nor counted."""
    lifecycle, _ = parts
    record = approved(lifecycle, note(8) + PAYLOAD, "invoice.txt")
    rescanner = Rescanner(lifecycle)
    rescanner.poll()
    clamd.update()
    noted(rescanner)
    clamd.during_scan = clamd.roll_back
    job = rescanner.run()
    assert job is not None and (job.scanned, job.finished_at, job.cursor_id) == (0, None, None)
    clamd.update()
    job = rescanner.run()
    assert job is not None and (job.scanned, job.revoked) == (1, 1) and job.finished_at
    assert lifecycle.db.get(record.id).status == REJECTED  # type: ignore[union-attr]


def test_a_file_not_yet_settled_holds_the_cursor(tmp_path: Path) -> None:
    """A file still IN_PROGRESS when the job reaches it may be approved on old signatures
    (here by a replica not yet updated): the job waits for it, then rescans it."""
    store = LocalStore(tmp_path / "objects")
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    try:
        clamd_a, clamd_b = UpdatableClamd(), UpdatableClamd()
        a = Lifecycle(store, db, scanner_for(clamd_a))
        b = Lifecycle(store, db, scanner_for(clamd_b))
        first = approved(a, note(1), "receipt.txt")
        waiting = b.accept(note(2) + PAYLOAD, "invoice.txt", "chat-1", "customer")
        ra = Rescanner(a)
        ra.poll()
        clamd_a.update()
        noted(ra)
        job = ra.run()
        assert job is not None and (job.scanned, job.finished_at) == (1, None)
        assert job.cursor_id == first.id and db.get(waiting.id).status == IN_PROGRESS  # type: ignore[union-attr]
        assert b.process(waiting.id).status == APPROVED  # type: ignore[union-attr]  # old signatures
        job = ra.run()
        assert job is not None and job.finished_at and (job.scanned, job.revoked) == (2, 1)
        assert db.get(waiting.id).status == REJECTED  # type: ignore[union-attr]
    finally:
        db.close()


def test_a_long_scan_keeps_the_jobs_lease(
    parts: tuple[Lifecycle, LocalStore], clamd: UpdatableClamd
) -> None:
    """The lease is renewed while one file is scanned: another replica cannot take the job
    over once the lease taken at the start of the batch has run out."""
    lifecycle, _ = parts
    record = approved(lifecycle, note(9) + PAYLOAD, "invoice.txt")
    holder = Rescanner(lifecycle, lease_seconds=1.2)
    holder.poll()
    clamd.update()
    noted(holder)
    job = holder.pending()
    assert job is not None
    scanning, finish = threading.Event(), threading.Event()

    def long_scan() -> None:
        scanning.set()
        assert finish.wait(BOUND)

    clamd.during_scan = long_scan
    thread = threading.Thread(target=holder.step)
    thread.start()
    try:
        assert scanning.wait(BOUND)
        first_lease = time.time() + 1.2  # at most what the claim took
        while time.time() < first_lease + 0.4:  # well past it
            time.sleep(0.05)
        other = Rescanner(lifecycle)
        assert other.step() == holder.pending()  # not claimed, nothing done
        assert _owner(lifecycle.db, job.signature) == holder.owner
    finally:
        finish.set()
        thread.join(BOUND)
    done = holder.pending() or holder.jobs()[0]
    assert done.finished_at and (done.scanned, done.revoked) == (1, 1)
    assert lifecycle.db.get(record.id).status == REJECTED  # type: ignore[union-attr]


def test_jobs_are_bounded_and_resume_in_another_process(
    parts: tuple[Lifecycle, LocalStore], clamd: UpdatableClamd
) -> None:
    """A batch at a time; the cursor is in the database, so a new Rescanner (a restart, or
    another replica once the lease runs out) carries on after the last file done."""
    lifecycle, _ = parts
    records = [approved(lifecycle, note(n) + (PAYLOAD if n == 4 else b""), f"{n}.txt")
               for n in range(6)]  # fmt: skip
    first = Rescanner(lifecycle, batch=2, lease_seconds=0.01)
    first.poll()
    clamd.update()
    noted(first)
    job = first.step()
    assert job is not None and (job.scanned, job.finished_at) == (2, None)
    time.sleep(0.02)  # the first one's lease runs out
    scanned: list[str] = []
    second = Rescanner(lifecycle, batch=2, on_scanned=scanned.append)
    done = second.run()
    assert done is not None and done.finished_at and (done.scanned, done.revoked) == (6, 1)
    assert len(scanned) == 4  # only the files the first one had not done
    assert lifecycle.db.get(records[4].id).status == REJECTED  # type: ignore[union-attr]
    # a live lease keeps other replicas off the job
    clamd.answer = "ClamAV 1.4.6/27472/Thu Nov 26 09:30:00 2026"
    holder = Rescanner(lifecycle, batch=1, lease_seconds=60)
    noted(holder)
    holder.step()
    other = Rescanner(lifecycle, batch=1)
    before = other.pending()
    assert before is not None and other.step() == before  # not claimed: nothing done


def test_max_files_bounds_a_run(parts: tuple[Lifecycle, LocalStore], clamd: UpdatableClamd) -> None:
    lifecycle, _ = parts
    for n in range(5):
        approved(lifecycle, note(n), f"{n}.txt")
    rescanner = Rescanner(lifecycle, batch=2)
    rescanner.start("by hand")
    job = rescanner.run(max_files=3)
    assert job is not None and job.scanned == 3 and job.finished_at is None
    job = rescanner.run()
    assert job is not None and job.scanned == 5 and job.finished_at is not None


def test_a_revocation_is_a_second_verdict_on_the_stream() -> None:
    """A stream that sent APPROVED sends the revocation (same id, REJECTED, rescanned)."""
    hub = EventHub()
    base = {"id": "a1", "status": "APPROVED", "rescanned": False}
    revoked = {"id": "a1", "status": "REJECTED", "rescanned": True}

    async def main() -> list[tuple[str, bool]]:
        hub.bind(asyncio.get_running_loop())
        stream = hub.stream("chat", lambda: [base], heartbeat=5.0)
        out: list[tuple[str, bool]] = []
        async with asyncio.timeout(30):
            async for text in stream:
                for line in text.splitlines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        out.append((event["status"], event["rescanned"]))
                        if len(out) == 1:
                            hub.publish("chat", revoked)
                        else:
                            await stream.aclose()  # type: ignore[attr-defined]
                            return out
        raise AssertionError("no revocation sent")

    assert asyncio.run(main()) == [("APPROVED", False), ("REJECTED", True)]


def test_the_service_rescans_when_clamd_loads_a_newer_database(
    tmp_path: Path, clamd: UpdatableClamd
) -> None:
    """End to end: uploads approved; clamd reloads; the sweep notices, the file is revoked, the
    chat's stream is told, the metrics count it and the dashboard lists it."""
    with make_client(tmp_path / "data", scanner_for(clamd), sweep_seconds=0.2) as client:
        ids = []
        for data in (note(1), note(2) + PAYLOAD):
            answer = client.post(
                "/v1/attachments", files={"file": ("a.txt", data)}, data={"chat_id": "c1"}
            )
            ids.append(answer.json()["id"])
        assert [wait_verdict(client, i)["status"] for i in ids] == [APPROVED, APPROVED]
        svc = client.app.state.service  # type: ignore[attr-defined]
        published: list[dict[str, Any]] = []
        publish = svc.hub.publish

        def recorded(chat: str | None, event: dict[str, Any]) -> None:
            published.append(event)
            publish(chat, event)

        svc.hub.publish = recorded
        clamd.update()
        deadline = time.monotonic() + BOUND
        while client.get(f"/v1/attachments/{ids[1]}").json()["status"] != REJECTED:
            assert time.monotonic() < deadline, "never revoked"
            time.sleep(0.05)
        # the row changes first; the event, the counters and the job's end follow
        while not (svc.rescanner.jobs() and svc.rescanner.jobs()[0].finished_at):
            assert time.monotonic() < deadline, "the job never finished"
            time.sleep(0.05)
        view = client.get(f"/v1/attachments/{ids[1]}").json()
        assert view["rescanned"] is True and view["reasons"]
        report = svc.db.get(ids[1]).report
        assert [f["code"] for f in report["findings"]] == ["MALWARE"]
        assert client.get(f"/v1/attachments/{ids[1]}/content").status_code != 200
        assert client.get(f"/v1/attachments/{ids[0]}/content").status_code == 200
        # an upload's own verdict may be published just after its status was read (the row is
        # written first): only rescans' events are this test's business
        rescanned = [(e["id"], e["status"]) for e in published if e.get("rescanned")]
        assert rescanned == [(ids[1], REJECTED)]
        assert all(e["status"] == APPROVED for e in published if not e.get("rescanned"))
        metrics = client.get("/metrics").text
        assert 'attachguard_revocations_total{action="delete"} 1' in metrics
        assert 'attachguard_rescans_total{result="approved"} 1' in metrics
        stats = client.get("/v1/stats").json()["rescans"]
        assert [r["action"] for r in stats["revoked"]] == ["delete"]
        assert stats["revoked"][0]["id"] == ids[1][:8]  # no API key: shortened
        assert stats["jobs"][0]["revoked"] == 1


def test_rescan_command_on_the_service_store(tmp_path: Path, clamd: UpdatableClamd) -> None:
    """``attachguard rescan --service``, with the service stopped: a job by hand."""
    from attachguard.rescan_cli import rescan

    data = tmp_path / "data"
    with make_client(data, scanner_for(clamd)) as client:
        answer = client.post("/v1/attachments", files={"file": ("a.txt", note(9) + PAYLOAD)})
        id = answer.json()["id"]
        assert wait_verdict(client, id)["status"] == APPROVED
    clamd.update()
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("attachguard.scanner.build_scanner", lambda *a, **k: scanner_for(clamd))
        mp.setattr("attachguard.runtime.clamd_for", _no_clamd)
        result = runner.invoke(rescan, ["--service", "--data", str(data), "--action", "quarantine"])
    assert result.exit_code == 1, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert lines[0] == {
        "where": id,
        "status": REJECTED,
        "codes": ["MALWARE"],
        "done": "quarantined",
    }
    assert lines[-1]["rescanned"] == 1 and lines[-1]["rejected"] == 1 and lines[-1]["next"] is None
    store = LocalStore(data / "objects")
    assert len(list(store.keys("quarantine/"))) == 1 and not list(store.keys("final/"))


def test_rescan_command_leaves_a_job_for_newer_signatures(tmp_path: Path) -> None:
    """A job recorded for signatures newer than this run's clamd: nothing is rescanned (the
    file stays approved) and the summary says why."""
    from attachguard.rescan_cli import rescan
    from attachguard.service.settings import Settings

    old, new = UpdatableClamd(), UpdatableClamd()
    new.update()
    data = tmp_path / "data"
    with make_client(data, scanner_for(old)) as client:
        answer = client.post("/v1/attachments", files={"file": ("a.txt", note(9) + PAYLOAD)})
        id = answer.json()["id"]
        assert wait_verdict(client, id)["status"] == APPROVED
    db = Database(Settings(data_dir=data).database)
    try:
        job = Rescanner(Lifecycle(LocalStore(data / "objects"), db, scanner_for(new))).start()
        assert job.number == 27471
    finally:
        db.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("attachguard.scanner.build_scanner", lambda *a, **k: scanner_for(old))
        mp.setattr("attachguard.runtime.clamd_for", _no_clamd)
        result = CliRunner().invoke(rescan, ["--service", "--data", str(data)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert summary["rescanned"] == 0 and summary["next"] == "run again to continue"
    assert summary["note"] == "this clamd has older signatures than the job's"
    assert len(list(LocalStore(data / "objects").keys("final/"))) == 1  # still there


class _NoClamd:
    client = None
    test_signatures = False

    def __enter__(self) -> _NoClamd:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _no_clamd(address: str | None = None) -> _NoClamd:
    return _NoClamd()


def test_the_dashboard_lists_revoked_files(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    """In headless Chromium: the dashboard's "Revoked after a signature update" table."""
    import httpx
    from playwright.sync_api import expect

    from attachguard.service.app import create_app
    from attachguard.service.settings import Settings

    clamd = UpdatableClamd()
    settings = Settings(data_dir=tmp_path / "data", sweep_seconds=0.2, log_file_names=True)
    app = create_app(settings, scanner=scanner_for(clamd))
    errors: list[str] = []
    with live_server(app) as base, httpx.Client(base_url=base) as client:
        answer = client.post("/v1/attachments", files={"file": ("invoice.txt", note(5) + PAYLOAD)})
        id = answer.json()["id"]
        assert wait_verdict(client, id)["status"] == APPROVED
        clamd.update()
        deadline = time.monotonic() + BOUND
        while client.get(f"/v1/attachments/{id}").json()["status"] != REJECTED:
            assert time.monotonic() < deadline, "never revoked"
            time.sleep(0.05)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base + "/dashboard")
        expect(page.locator("#revoked tr")).to_have_count(1, timeout=BOUND * 1000)
        row = page.locator("#revoked tr").inner_text()
        assert "delete" in row and "invoice.txt" in row and id[:8] in row
        expect(page.locator("#rescan-job")).to_contain_text("1 revoked")
    assert errors == []


def test_rescan_command_refuses_a_folder_a_service_holds(tmp_path: Path) -> None:
    clamd = UpdatableClamd()
    with make_client(tmp_path / "data", scanner_for(clamd)), pytest.MonkeyPatch.context() as mp:
        mp.setattr("attachguard.scanner.build_scanner", lambda *a, **k: scanner_for(clamd))
        mp.setattr("attachguard.runtime.clamd_for", _no_clamd)
        from attachguard.rescan_cli import rescan

        result = CliRunner().invoke(rescan, ["--service", "--data", str(tmp_path / "data")])
    assert result.exit_code == 2 and "another attachguard service" in result.output
