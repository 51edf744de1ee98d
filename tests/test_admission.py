"""Scans at once by their files' sizes (`attachguard.admission`): large files one after the
other, small ones together, first come first served, a caller's deadline respected."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from attachguard.admission import CAPACITY, Admission
from attachguard.engines.base import Engine, Item, Result
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from test_pipeline import Detector, Fake

BOUND = 10.0  # seconds a test waits for what should happen at once


def test_a_large_file_waits_for_the_one_before_and_small_ones_share() -> None:
    admission = Admission(capacity=100)
    inside = threading.Event()
    order: list[str] = []
    with admission.admitted(500):  # a large file: the whole capacity
        waiter = threading.Thread(target=lambda: _enter(admission, 100, order, inside))
        waiter.start()
        assert not inside.wait(0.2)  # the second large file waits
        order.append("first done")
    waiter.join(BOUND)
    assert order == ["first done", "entered"]
    with admission.admitted(40), admission.admitted(40):  # two small ones at once
        pass


def _enter(admission: Admission, size: int, order: list[str], inside: threading.Event) -> None:
    with admission.admitted(size):
        order.append("entered")
        inside.set()


def test_first_come_first_served() -> None:
    # a small file that came after a waiting large one does not pass it
    admission = Admission(capacity=100)
    order: list[str] = []
    started = threading.Event()
    with admission.admitted(60):
        large = threading.Thread(target=lambda: _record(admission, 100, "large", order, started))
        large.start()
        assert started.wait(BOUND)
        _wait_until(lambda: len(admission._waiting) == 1)
        small = threading.Thread(target=lambda: _record(admission, 10, "small", order))
        small.start()
        _wait_until(lambda: len(admission._waiting) == 2)
    large.join(BOUND)
    small.join(BOUND)
    assert order == ["large", "small"]


def _record(
    admission: Admission,
    size: int,
    name: str,
    order: list[str],
    started: threading.Event | None = None,
) -> None:
    if started:
        started.set()
    with admission.admitted(size):
        order.append(name)


def _wait_until(condition: object) -> None:
    deadline = time.monotonic() + BOUND
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)
    assert condition()  # type: ignore[operator]


def test_a_deadline_ends_the_wait() -> None:
    admission = Admission(capacity=100)
    with admission.admitted(100):
        start = time.monotonic()
        with admission.admitted(100, deadline=time.monotonic() + 0.2):
            waited = time.monotonic() - start
    assert 0.15 < waited < BOUND
    with admission.admitted(100):  # nothing left held
        pass


def test_the_scanner_scans_large_files_one_at_a_time(policy: Policy) -> None:
    # three large files handed over at once: their engines never overlap, so none of them
    # shares the interpreter with another's and runs past its timeout
    running, most = 0, 0
    lock = threading.Lock()

    def busy(item: Item) -> Result:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1
        return Result()

    engines: dict[str, Engine] = {
        name: Fake(name, busy if name == "pdf" else None)
        for name in ("filetype", "clamav", "pdf", "polyglot", "sensitive")
    }
    large = b"%PDF-1.7\n" + b"0" * CAPACITY
    with Scanner(policy, engines, Detector(), concurrency=3) as scanner:
        with ThreadPoolExecutor(3) as pool:
            reports = list(pool.map(lambda n: scanner.scan(large, f"{n}.pdf"), range(3)))
        assert most == 1
        # three small files at once: each engine waits for the other two, so they must share
        meeting = threading.Barrier(3, timeout=BOUND)
        engines["pdf"].behaviour = lambda item: (meeting.wait(), Result())[1]  # type: ignore[attr-defined]
        small = b"%PDF-1.7\n" + b"0" * 1000
        with ThreadPoolExecutor(3) as pool:
            shared = list(pool.map(lambda n: scanner.scan(small, f"{n}.pdf"), range(3)))
    assert all(r.approved for r in reports + shared), [r.reasons for r in reports + shared]


def test_an_endless_deadline_waits_as_none_does() -> None:
    # inf (the "no deadline" of a context) or one past what a lock accepts: no OverflowError,
    # no place left in the line
    admission = Admission(capacity=100)
    entered = threading.Event()
    with admission.admitted(100):
        waiter = threading.Thread(
            target=lambda: _enter_by(admission, float("inf"), entered), daemon=True
        )
        waiter.start()
        assert not entered.wait(0.2)
    assert entered.wait(BOUND)
    waiter.join(BOUND)
    assert not admission._waiting
    with admission.admitted(100, deadline=time.monotonic() + 1e12):
        pass


def _enter_by(admission: Admission, deadline: float, entered: threading.Event) -> None:
    with admission.admitted(100, deadline=deadline):
        entered.set()
