"""The warm-up of the container-image Lambda's scanner (`attachguard.connect.container`, whose
import starts it): the scanner built in a background thread, at most one attempt at a time, and
the answer to an event while it runs.

A file is never REJECTED because the scanner is starting: REJECTED is final (Connect deletes the
file), while an invocation *error* is retried by Connect (up to 3 times within 60 s). So while
the warm-up runs (clamd can take tens of seconds to load the official database) an event waits
as long as still leaves time for the download and a full scan, then fails with
`ScannerNotReady`; one log line and the ``NotReady`` metric (by ``Reason``) say so. A warm-up
that failed is started again, in the background, by the next event.

Importing this module starts nothing (tests and tools use it without a Lambda's warm-up).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from attachguard.connect.event import MalformedEvent, parse_event
from attachguard.connect.handler import ConnectScanner, budget
from attachguard.connect.verdict import (
    MALFORMED_EVENT,
    NO_TIME,
    SCANNER_FAILED,
    SCANNER_NOT_READY,
    rejected,
)
from attachguard.errors import AttachguardError
from attachguard.policy import Timeouts

__all__ = ["FETCH_WINDOW", "ScannerNotReady", "Warmup", "respond"]

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
            scanner = self.connect.scanner()
        except Exception as exc:  # reported by the events that find no scanner (fail closed)
            self.error = f"{type(exc).__name__}: {exc}"
            self.connect.logger.exception("scanner warm-up failed")
        else:
            # what engines and botocore load on first use is paid here, not by the first file:
            # first event 3.8 s without, 2.3 s after the priming scans, 0.3 s with the S3 client
            # made too (a warm event: 0.2-0.3 s; 2-core box under load, bench_coldstart.py)
            # the engines themselves: a cached verdict would warm nothing (connect/config.py)
            _prime(getattr(scanner, "scanner", scanner), self.connect.logger)
            self.connect.s3()
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


def _prime(scanner: Any, logger: Any) -> None:
    """Scan two small clean files so that the first customer's file does not pay for what the
    engines load on first use (Magika's model session, pypdf, clamd's first stream)."""
    try:
        for data, name in _PRIMERS:
            scanner.scan(data, name)
    except Exception:  # the scanner stays usable; each event is judged on its own
        logger.warning("priming scan failed", exc_info=True)


def _tiny_pdf() -> bytes:
    body = (
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    )
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(body, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


_PRIMERS = ((b"Order 4711: the parcel arrived today.\n" * 8, "warm-up.txt"), (_tiny_pdf(), "a.pdf"))


class ScannerNotReady(AttachguardError):
    """The scanner is not ready in time for this invocation: an error, so that Connect retries
    (a REJECTED answer would delete the customer's file)."""


def respond(warmup: Warmup, event: Any, context: Any) -> dict[str, str]:
    """Scan ``event`` with the warmed scanner when it is ready in time; a malformed event is
    REJECTED at once; otherwise `ScannerNotReady` (Connect retries)."""
    started = time.monotonic()
    seconds = budget(context)  # to the Lambda deadline, less a margin

    def left() -> float:
        return seconds - (time.monotonic() - started)

    try:
        parsed = parse_event(event)
    except MalformedEvent as exc:  # rejected whatever the scanner's state, and logged the same
        outcome = rejected(MALFORMED_EVENT, str(exc))
        warmup.connect.record(outcome, (time.monotonic() - started) * 1000)
        return outcome.response
    if warmup.wait(left() - FETCH_WINDOW - warmup.scan_time()):
        if left() >= FETCH_WINDOW + warmup.scan_time():
            warmup.connect.refresh()  # newer signatures, in the background when due
            return warmup.connect(event, context)
        code = NO_TIME
    else:
        code = SCANNER_FAILED if warmup.error is not None else SCANNER_NOT_READY
    latency = (time.monotonic() - started) * 1000
    warmup.connect.not_ready(code, parsed.File.FileId, latency, error=warmup.error)
    raise ScannerNotReady(f"{code.summary}; Connect retries the file")
