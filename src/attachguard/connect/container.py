"""The entry point of the container-image Lambda (deploy/container): the same handler, with the
scanner — including a private clamd on the image's signatures — built during Lambda's init
phase in a background thread, so that the first event does not pay for loading the database.

Importing this module starts that thread; the zip package uses `handler` directly instead.

An event never waits for the scanner past its own budget and never builds one itself: while the
warm-up runs (clamd can take tens of seconds to load the official database) an event waits only
as long as still leaves time for the download and a full scan, then answers REJECTED (fail
closed; Connect asks again). A warm-up that failed is started again, in the background, by the
next event.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from attachguard.connect.event import MalformedEvent, parse_event
from attachguard.connect.handler import ConnectScanner, budget
from attachguard.connect.verdict import NO_TIME, SCANNER_FAILED, SCANNER_NOT_READY, rejected
from attachguard.policy import Timeouts

# Seconds an event keeps for S3 before the scan (the handler's retries get what is left of it).
FETCH_WINDOW = 5.0
_UNKNOWN_SCAN_TIME = Timeouts().scan  # until the policy is read: the default scan timeout


class Warmup:
    """Builds ``connect``'s scanner in a background thread, at most one attempt at a time."""

    def __init__(self, connect: ConnectScanner) -> None:
        self.connect = connect
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.error: str | None = None  # why the last attempt failed (type and message)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def start(self) -> threading.Thread | None:
        """Start an attempt unless the scanner is ready or one is running; the running one."""
        with self._lock:
            if self._ready.is_set():
                return None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="attachguard-warm", daemon=True
                )
                self._thread.start()
            return self._thread

    def _run(self) -> None:
        try:
            self.connect.scanner()
        except Exception as exc:  # reported by the events that find no scanner (fail closed)
            self.error = f"{type(exc).__name__}: {exc}"
            self.connect.logger.exception("scanner warm-up failed")
        else:
            self.error = None
            self._ready.set()

    def wait(self, timeout: float) -> bool:
        """Whether the scanner is ready, waiting at most ``timeout`` seconds (restarting a
        failed warm-up first)."""
        thread = self.start()
        if thread is not None and timeout > 0:
            thread.join(timeout)
        return self._ready.is_set()

    def scan_time(self) -> float:
        """The policy's time for one scan (the default one until the scanner is built)."""
        if not self._ready.is_set():
            return _UNKNOWN_SCAN_TIME
        return self.connect.scanner().policy.timeouts.scan


def respond(warmup: Warmup, event: Any, context: Any) -> dict[str, str]:
    """Scan ``event`` with the warmed scanner when it is ready in time, else REJECTED at once."""
    started = time.monotonic()
    seconds = budget(context)  # to the Lambda deadline, less a margin

    def left() -> float:
        return seconds - (time.monotonic() - started)

    if warmup.wait(left() - FETCH_WINDOW - warmup.scan_time()):
        if left() >= FETCH_WINDOW + warmup.scan_time():
            return warmup.connect(event, context)
        code, message = NO_TIME, "too little time left in this invocation for a full scan"
    elif warmup.error is not None:
        code, message = SCANNER_FAILED, "the scanner could not start"
    else:
        code, message = SCANNER_NOT_READY, "the scanner is still starting"
    try:
        parsed = parse_event(event)
    except MalformedEvent:
        parsed = None
    extra: dict[str, Any] = {"reason": code.name}
    if warmup.error is not None:
        extra["error"] = warmup.error
    # the same log line and metrics as every other verdict
    outcome = rejected(code, message, parsed)
    warmup.connect.record(outcome, (time.monotonic() - started) * 1000, **extra)
    return outcome.response


_warmup = Warmup(ConnectScanner())
_warmup.start()


def handler(event: Any, context: Any) -> dict[str, str]:
    """Lambda entry point (``attachguard.connect.container.handler``): scans as
    `attachguard.connect.handler.handler` once the warm-up is done; REJECTED while it is not."""
    return respond(_warmup, event, context)
