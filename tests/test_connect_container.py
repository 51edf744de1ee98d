"""The container Lambda's entry point: a file is never REJECTED because the scanner is starting
(an invocation error, which Connect retries, instead); an event never waits for the warm-up
(clamd loading its database) past what leaves time for a full scan, never builds a scanner
itself, and a failed warm-up is started again in the background."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from attachguard.connect import config
from attachguard.connect.handler import ConnectScanner, Outcome, Settings
from attachguard.connect.warmup import FETCH_WINDOW, ScannerNotReady, Warmup, respond
from attachguard.policy import load_policy
from attachguard.report import Status

EVENT = json.loads((Path(__file__).parent / "events" / "receipt.json").read_text())
SCAN_TIME = load_policy().timeouts.scan  # the packaged policy's, which the fake build returns


class Deadline:
    """A Lambda context whose remaining time runs down with the clock."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.end - time.monotonic()) * 1000)


class Recorder(ConnectScanner):
    """A ConnectScanner that records the events it scans instead of reading S3."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        # a fresh service name: Powertools reuses the handler of a logger it has seen
        logger = Logger(service=f"container-{uuid.uuid4().hex[:8]}", stream=self.stream)
        super().__init__(Settings(), logger=logger, metrics=False)
        self.scanned: list[Any] = []

    def handle(self, event: Any, context: Any = None) -> tuple[dict[str, str], Outcome]:
        self.scanned.append(event)
        outcome = Outcome(Status.APPROVED, [], [])
        return outcome.response, outcome

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.stream.getvalue().splitlines() if x.strip()]


class Build:
    """Stands in for `config.build`: blocks until released (clamd loading), may fail."""

    def __init__(self, failures: int = 0) -> None:
        self.calls = 0
        self.failures = failures
        self.release = threading.Event()

    def __call__(self, settings: Settings, s3: Any = None, engine: Any = None) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("clamd exited with status 1 while starting")
        self.release.wait(30)
        return SimpleNamespace(policy=load_policy())


@pytest.fixture
def entry_point() -> ModuleType:
    """The Lambda's entry point module, imported here (its import starts a warm-up with the real
    build, 0.9 s of CPU: only for the test that needs it), its warm-up ended before the test
    replaces `config.build`, so that it cannot pick up the fake."""
    from attachguard.connect import container

    assert container._warmup.wait(120), container._warmup.error
    return container


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch) -> Build:
    fake = Build()
    monkeypatch.setattr(config, "build", fake)
    return fake


def timed(warmup: Warmup, seconds: float) -> tuple[dict[str, str] | None, float]:
    """The answer (None: the invocation failed with ScannerNotReady) and how long it took."""
    started = time.monotonic()
    try:
        response: dict[str, str] | None = respond(warmup, EVENT, Deadline(seconds))
    except ScannerNotReady:
        response = None
    return response, time.monotonic() - started


def not_ready_lines(recorder: Recorder) -> list[dict[str, Any]]:
    return [x for x in recorder.lines() if x.get("message") == "not ready"]


def test_event_fails_for_a_retry_while_the_scanner_starts(build: Build) -> None:
    recorder = Recorder()
    warmup = Warmup(recorder)
    warmup.start()
    # 0.5 s of waiting fits (after the 1 s margin): the download window and a full scan must
    # remain after it
    seconds = 0.5 + 1.0 + FETCH_WINDOW + SCAN_TIME
    response, elapsed = timed(warmup, seconds)
    assert response is None  # an error: Connect retries; never REJECTED for being cold
    assert 0.4 < elapsed < 10.0  # waited its budget, then answered, well before the deadline
    response, elapsed = timed(warmup, 10.0)  # no time to wait at all
    assert response is None and elapsed < 5.0
    assert build.calls == 1  # the events neither built a scanner nor started another warm-up
    log = not_ready_lines(recorder)[0]
    assert log["status"] == "ERROR" and log["reason"] == "SCANNER_NOT_READY"
    assert log["FileId"] == EVENT["File"]["FileId"]
    assert recorder.scanned == []
    assert not [x for x in recorder.lines() if x.get("status") == "REJECTED"]

    build.release.set()  # clamd is up: the next event is scanned by the warmed scanner
    assert respond(warmup, EVENT, Deadline(55)) == {"Status": "APPROVED"}
    assert recorder.scanned == [EVENT] and build.calls == 1


def test_failed_warmup_is_restarted_in_the_background(build: Build) -> None:
    build.failures = 1
    build.release.set()
    recorder = Recorder()
    warmup = Warmup(recorder)
    attempt = warmup.start()
    assert attempt is not None
    attempt.join(5)
    assert not warmup.ready
    assert warmup.error == "RuntimeError: clamd exited with status 1 while starting"
    assert respond(warmup, EVENT, Deadline(55)) == {"Status": "APPROVED"}
    assert build.calls == 2 and recorder.scanned == [EVENT]


def test_warmup_that_keeps_failing_fails_the_invocation_at_once(build: Build) -> None:
    build.failures = 99
    recorder = Recorder()
    warmup = Warmup(recorder)
    response, elapsed = timed(warmup, 55)
    assert response is None
    assert elapsed < 5  # the failed attempt ended the wait; the budget was 19 s
    log = not_ready_lines(recorder)[0]
    assert log["reason"] == "SCANNER_FAILED" and "RuntimeError" in log["error"]
    assert any(x.get("message") == "scanner warm-up failed" for x in recorder.lines())


def test_no_scan_without_time_for_a_full_one(build: Build) -> None:
    build.release.set()
    recorder = Recorder()
    warmup = Warmup(recorder)
    assert warmup.wait(5)
    response, elapsed = timed(warmup, SCAN_TIME)  # ready, but the scan would outlive Lambda
    assert response is None and elapsed < 5.0
    assert recorder.scanned == []
    assert not_ready_lines(recorder)[0]["reason"] == "NO_TIME"


@pytest.mark.integration  # 40 s of real waiting, as Connect's retries would see it
def test_a_clamd_that_takes_40_s_to_load_never_rejects_a_clean_file(build: Build) -> None:
    recorder = Recorder()
    warmup = Warmup(recorder)
    warmup.start()
    threading.Timer(40.0, build.release.set).start()
    answers: list[dict[str, str] | None] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # Connect invokes again after each error
        response, _ = timed(warmup, 55)
        answers.append(response)
        if response is not None:
            break
    assert answers[-1] == {"Status": "APPROVED"}
    assert all(a is None for a in answers[:-1]) and len(answers) >= 2


def test_malformed_event_while_starting_is_rejected(build: Build) -> None:
    warmup = Warmup(Recorder())
    assert respond(warmup, {"nonsense": 1}, Deadline(1)) == {"Status": "REJECTED"}
    assert build.calls <= 1  # rejected without waiting for, or building, a scanner
    build.release.set()


def test_lambda_entry_point_uses_the_module_warmup(
    entry_point: ModuleType, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    build.release.set()
    recorder = Recorder()
    warmup = Warmup(recorder)
    monkeypatch.setattr(entry_point, "_warmup", warmup)
    assert entry_point.handler(EVENT, Deadline(55)) == {"Status": "APPROVED"}
    assert recorder.scanned == [EVENT]


def test_a_warm_event_lets_the_signatures_refresh(build: Build) -> None:
    """Each event scanned by a warm environment gives the signature mirror a chance to be
    checked (in the background, `attachguard.connect.antivirus`); an event that finds the
    scanner starting does not."""
    recorder = Recorder()
    calls: list[int] = []
    recorder.refresh = lambda: calls.append(1)  # type: ignore[method-assign]
    warmup = Warmup(recorder)
    warmup.start()
    response, _ = timed(warmup, 10.0)
    assert response is None and calls == []
    build.release.set()
    assert respond(warmup, EVENT, Deadline(55)) == {"Status": "APPROVED"}
    assert calls == [1]
