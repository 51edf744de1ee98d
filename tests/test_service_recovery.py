"""Crash recovery. In-process: the store, the database and the scanner fail at each step of the
lifecycle in turn — the process dies there, or the call fails and the process carries on — and
recovery runs as the service runs it. After every one: no accepted file is lost, nothing can be
downloaded unless APPROVED, no rejected byte is left, and every record is decided exactly once.
Out of process: `attachguard serve` SIGKILLed while its scans wait on a clamd that never answers,
then restarted on the same data folder with a real clamd."""

from __future__ import annotations

import contextlib
import signal
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from attachguard.clamav.daemon import PrivateClamd
from attachguard.demo import EICAR, demo_samples
from attachguard.pipeline import Scanner
from attachguard.report import Report
from attachguard.service.db import APPROVED, IN_PROGRESS, REJECTED, Database
from attachguard.service.lifecycle import Lifecycle, NotAvailable
from attachguard.storage.local import LocalStore
from support.net import free_port
from support.service import BOUND, spawn_service, wait_verdict

# The calls the lifecycle makes; each one is a step at which a test makes it fail.
STORE_STEPS = frozenset({"put", "get", "copy", "delete", "exists"})
DB_STEPS = frozenset({"insert", "claim", "get", "decide", "settle", "orphans"})


class Crash(BaseException):
    """The process dies here: unlike an error, no handler in the lifecycle runs after it."""


@dataclass
class Faults:
    """Numbers every step the lifecycle takes and makes the ``at``-th one raise ``error``
    before it happens; records which decisions took effect."""

    at: int | None = None
    error: type[BaseException] = Crash
    steps: list[str] = field(default_factory=list)
    decided: list[str] = field(default_factory=list)

    def step(self, name: str) -> None:
        self.steps.append(name)
        if self.at is not None and len(self.steps) - 1 == self.at:
            self.at = None  # one failure per run
            raise self.error(f"injected at step {len(self.steps) - 1} ({name})")


class Failing:
    """``inner`` with ``faults`` consulted before each of its ``steps``."""

    def __init__(self, inner: Any, faults: Faults, prefix: str, steps: frozenset[str]) -> None:
        self._inner, self._faults, self._prefix, self._steps = inner, faults, prefix, steps

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name not in self._steps:
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self._faults.step(f"{self._prefix}.{name}")
            result = target(*args, **kwargs)
            if name == "decide" and result:
                self._faults.decided.append(args[0])
            return result

        return call


class FailingScanner:
    def __init__(self, inner: Scanner, faults: Faults) -> None:
        self.inner, self.faults = inner, faults

    def scan(self, data: bytes, name: str) -> Report:
        self.faults.step("scanner.scan")
        return self.inner.scan(data, name)


@dataclass
class World:
    """One run: its own store and chat (in a database the runs share), and the failing views
    of them that lifecycles use."""

    store: LocalStore
    db: Database
    chat: str
    faults: Faults
    scanner: FailingScanner

    def lifecycle(self, lease_seconds: float = 120.0) -> Lifecycle:
        store = Failing(self.store, self.faults, "store", STORE_STEPS)
        db = Failing(self.db, self.faults, "db", DB_STEPS)
        return Lifecycle(store, db, self.scanner, lease_seconds=lease_seconds)  # type: ignore[arg-type]


@pytest.fixture
def worlds(tmp_path: Path, scanner: Scanner) -> Iterator[Callable[[Faults], World]]:
    """A new run: a fresh store and chat. The database is shared (opening one takes 0.2 s, its
    migrations): every earlier run ended decided and settled, so none disturbs another."""
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    runs = iter(range(1_000))

    def make(faults: Faults) -> World:
        run = next(runs)
        store = LocalStore(tmp_path / f"objects-{run}")
        return World(store, db, f"chat-{run}", faults, FailingScanner(scanner, faults))

    yield make
    db.close()


def upload(life: Lifecycle, chat: str, name: str, data: bytes) -> str | None:
    """The upload and its scan, as the API and a worker thread run them; the id if the upload
    was accepted (answered 202)."""
    record = life.accept(data, name, chat, "customer")
    with contextlib.suppress(Exception):  # the worker logs it; the sweep retries later
        life.process(record.id)
    return record.id


def sweep(life: Lifecycle) -> None:
    """What the service does at start and every 15 s, until nothing is left to do."""
    for _ in range(5):
        pending = life.recover()
        if not pending:
            return
        for id in pending:
            life.process(id)


def check_served(world: World, data: bytes) -> None:
    """Whatever state the failure left: only an APPROVED file's bytes can be downloaded."""
    reader = Lifecycle(world.store, world.db, world.scanner.inner)
    for record in world.db.chat(world.chat):
        if record.status == APPROVED:
            found = reader.content(record.id)
            assert found is not None and found[1] == data
        else:
            with pytest.raises(NotAvailable):
                reader.content(record.id)


def check_recovered(world: World, accepted: str | None, verdict: str | None) -> None:
    """``accepted``: the id the upload was answered with; ``verdict``: the one it must get
    (None when the failure may reject it instead: fail closed)."""
    records = world.db.chat(world.chat)
    if accepted is not None:
        assert [r.id for r in records] == [accepted], "an accepted file was lost"
    assert len(records) <= 1
    for record in records:
        assert record.status != IN_PROGRESS and record.settled
        assert world.faults.decided.count(record.id) == 1, "not decided exactly once"
        if accepted is not None and verdict is not None:
            assert record.status == verdict
        if record.status == REJECTED:
            assert record.report is not None and record.report["customer_reasons"]
    keys = sorted(world.store.keys())
    approved = [r.final_key for r in records if r.status == APPROVED]
    assert keys == approved, "bytes left behind"  # no staging, nothing rejected


FILES = {"notes.txt": (b"Thanks, the parcel arrived.\n", APPROVED), "eicar.txt": (EICAR, REJECTED)}


@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("error", [Crash, OSError], ids=["crash", "error"])
def test_failure_at_every_step_is_recovered(
    worlds: Callable[[Faults], World], name: str, error: type[BaseException]
) -> None:
    data, verdict = FILES[name]
    clean = worlds(Faults())
    upload(clean.lifecycle(), clean.chat, name, data)
    steps = list(clean.faults.steps)
    assert "scanner.scan" in steps and "db.decide" in steps
    for at, step in enumerate([*steps, "after the last step"]):
        world = worlds(Faults(at=at, error=error))
        # an error leaves the process running, and its lease runs out (here: at once)
        life = world.lifecycle(lease_seconds=0.0 if error is OSError else 120.0)
        accepted = None
        with contextlib.suppress(Crash, OSError):
            accepted = upload(life, world.chat, name, data)
        world.faults.at = None  # recovery itself runs without failures
        context = f"{error.__name__} at step {at} ({step}) of {steps}"
        # a failed scan rejects (fail closed); a crash anywhere only delays the true verdict
        failed_scan = error is OSError and step == "scanner.scan"
        try:
            check_served(world, data)
            if error is Crash:  # a new process on the same data (SQLite: it owns every lease)
                world.db.release_all()
                life = world.lifecycle()
            sweep(life)
            check_recovered(world, accepted, None if failed_scan else verdict)
        except AssertionError as exc:
            raise AssertionError(f"{context}: {exc}") from exc


class StalledClamd(socketserver.ThreadingTCPServer):
    """A clamd that answers PING and VERSION but never the result of a scan: scans wait on it
    for as long as the test needs them to be in flight. ``scans`` counts the streams received."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _StalledHandler)
        self.scans = 0
        self.changed = threading.Condition()
        self.closing = threading.Event()

    def wait_scans(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.scans >= count, timeout)


class _StalledHandler(socketserver.StreamRequestHandler):
    server: StalledClamd

    def handle(self) -> None:
        command = b""
        while not command.endswith(b"\0"):
            byte = self.rfile.read(1)
            if not byte:
                return
            command += byte
        if command == b"zPING\0":
            self.wfile.write(b"PONG\0")
        elif command == b"zVERSION\0":
            self.wfile.write(b"ClamAV 1.4.0\0")
        elif command == b"zINSTREAM\0":
            while (head := self.rfile.read(4)) and len(head) == 4 and (size := _size(head)):
                self.rfile.read(size)
            with self.server.changed:
                self.server.scans += 1
                self.server.changed.notify_all()
            self.server.closing.wait()  # no answer until the test ends


def _size(head: bytes) -> int:
    return int(struct.unpack(">I", head)[0])


@pytest.fixture
def stalled_clamd() -> Iterator[StalledClamd]:
    server = StalledClamd(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.closing.set()
    server.shutdown()
    server.server_close()


def test_kill_during_scan_then_restart(
    tmp_path: Path, clamd_daemon: PrivateClamd, stalled_clamd: StalledClamd
) -> None:
    data_dir = tmp_path / "data"
    receipt = demo_samples()["receipt.pdf"]
    address = f"127.0.0.1:{stalled_clamd.server_address[1]}"
    with spawn_service(data_dir, address) as (proc, url):
        ids = {}
        for name, data in (("receipt.pdf", receipt), ("eicar.txt", EICAR)):
            answer = httpx.post(f"{url}/v1/attachments", files={"file": (name, data)})
            assert answer.status_code == 202
            ids[name] = answer.json()["id"]
        # both scans are in flight: their bytes reached the (stalled) clamd
        assert stalled_clamd.wait_scans(2, timeout=BOUND)
        for id in ids.values():
            assert httpx.get(f"{url}/v1/attachments/{id}").json()["status"] == "IN_PROGRESS"
            assert httpx.get(f"{url}/v1/attachments/{id}/content").status_code == 409
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    staged = [p for p in (data_dir / "objects").rglob("*") if p.is_file()]
    assert len(staged) == 2 and all("/staging/" in str(p) for p in staged)

    with (
        spawn_service(data_dir, clamd_daemon.address) as (_proc, url),
        httpx.Client(base_url=url) as client,
    ):
        approved = wait_verdict(client, ids["receipt.pdf"])
        rejected = wait_verdict(client, ids["eicar.txt"])
        assert approved["status"] == "APPROVED" and approved["type"]["label"] == "pdf"
        assert rejected["status"] == "REJECTED" and rejected["reasons"]
        assert rejected["customer_reasons"] and "eicar" not in str(rejected["customer_reasons"])
        assert client.get(f"/v1/attachments/{ids['receipt.pdf']}/content").content == receipt
    left = [p for p in (data_dir / "objects").rglob("*") if p.is_file()]
    assert len(left) == 1 and "/final/" in str(left[0])
