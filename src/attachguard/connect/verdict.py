"""The verdict on a FILE_SCANNER event: one path for the Lambda and the service's ``/v1/scan``.

`decide` takes the event, a `Source` of the object's bytes (S3 for the Lambda, the service's
store for ``/v1/scan``), the scanner and a deadline, and returns an `Outcome`. Whatever keeps the
file from a full scan — a malformed event, a bucket or key that is not ours, an object that is
not there or not the announced size, a misconfigured scanner, an unexpected error — is REJECTED
with an *event code*, declared here like finding codes and documented in docs/findings.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from attachguard.codes import TOO_LARGE, Action, Code, declare
from attachguard.connect.event import FileScannerEvent, MalformedEvent, parse_event
from attachguard.errors import AttachguardError
from attachguard.policy import Policy, PolicyError
from attachguard.report import Report, Status, size_text

_TRY_AGAIN = "We couldn't check this file, so it wasn't shared. Please try sending it again."


def _event(name: str, summary: str, customer: str = _TRY_AGAIN) -> Code:
    return declare(name, "unscannable", Action.REJECT, summary, customer, event=True)


MALFORMED_EVENT = _event("MALFORMED_EVENT", "the FILE_SCANNER event is missing or mistypes fields")
WRONG_BUCKET = _event("WRONG_BUCKET", "the event names a bucket this scanner does not serve")
OUTSIDE_PREFIX = _event("OUTSIDE_PREFIX", "the event's key is outside this scanner's prefix")
NOT_FOUND = _event("NOT_FOUND", "the object is not in storage (deleted, or a wrong key)")
ACCESS_DENIED = _event("ACCESS_DENIED", "storage refused access to the object (IAM, KMS)")
SIZE_MISMATCH = _event(
    "SIZE_MISMATCH", "the object's size is not the event's FileSizeInBytes, or it changed"
)
S3_ERROR = _event("S3_ERROR", "S3 refused the request for a reason no retry can fix")
S3_UNAVAILABLE = _event("S3_UNAVAILABLE", "S3 kept failing until the deadline")
STORE_ERROR = _event("STORE_ERROR", "the service's store failed while reading the object")
NO_CREDENTIALS = _event("NO_CREDENTIALS", "no usable AWS credentials to read the object")
CONFIG_ERROR = _event("CONFIG_ERROR", "the scanner or its storage client is misconfigured")
SCANNER_NOT_READY = _event("SCANNER_NOT_READY", "the scanner was still starting")
SCANNER_FAILED = _event("SCANNER_FAILED", "the scanner could not start")
NO_TIME = _event("NO_TIME", "too little time was left in the invocation for a full scan")
INTERNAL_ERROR = _event("INTERNAL_ERROR", "an unexpected error stopped the scan")


class Rejected(AttachguardError):
    """The object cannot be scanned and is REJECTED with ``code``; the message says why in
    words (never the key or the file's contents)."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Read:
    """An object's bytes, and how long reading them took (milliseconds, by step)."""

    data: bytes
    timings_ms: dict[str, float] = field(default_factory=dict)


class Scans(Protocol):
    """What a verdict needs of a scanner (`attachguard.pipeline.Scanner` is one)."""

    policy: Policy

    def scan(self, data: bytes, name: str, deadline: float | None = None) -> Report: ...


class Source(Protocol):
    """Where an event's object is read from; `Rejected` when it cannot be."""

    def read(
        self, bucket: str, key: str, expected_size: int, max_size: int, deadline: float
    ) -> Read: ...


@dataclass
class Outcome:
    """What one event decided: for the response, the log line and the metrics."""

    status: Status
    reasons: list[str]
    codes: list[str]
    report: Report | None = None
    event: FileScannerEvent | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: Exception | None = None

    @property
    def response(self) -> dict[str, str]:
        """Exactly what Connect expects: ``{"Status": "APPROVED"}`` or ``"REJECTED"``."""
        return {"Status": self.status.value}

    @property
    def file_id(self) -> str | None:
        return self.event.File.FileId if self.event else None


def rejected(
    code: Code, message: str, event: FileScannerEvent | None = None, error: Exception | None = None
) -> Outcome:
    """REJECTED before (or instead of) a scan, for ``code``."""
    return Outcome(Status.REJECTED, [message], [code.name], event=event, error=error)


def decide(
    event: Any,
    source: Source,
    scanner: Scans | Callable[[], Scans],
    deadline: float,
) -> Outcome:
    """The verdict on a FILE_SCANNER ``event`` (see the module docstring). ``scanner`` may be a
    function that builds it on first use (the Lambda's warm state); ``deadline`` is a
    `time.monotonic` value the answer must be back by."""
    started = time.monotonic()
    try:
        parsed = parse_event(event)
    except MalformedEvent as exc:
        return rejected(MALFORMED_EVENT, str(exc))
    try:
        return _scan(parsed, source, scanner, started, deadline)
    except Rejected as exc:
        return rejected(exc.code, str(exc), parsed)
    except PolicyError as exc:
        return rejected(CONFIG_ERROR, "the scanner is misconfigured", parsed, exc)
    except Exception as exc:  # fail closed on anything unexpected; the caller logs it
        return rejected(INTERNAL_ERROR, type(exc).__name__, parsed, exc)


def _scan(
    event: FileScannerEvent,
    source: Source,
    scanner: Scans | Callable[[], Scans],
    started: float,
    deadline: float,
) -> Outcome:
    ready = scanner() if callable(scanner) else scanner
    policy = ready.policy
    where = event.location
    # Leave the scan its whole time budget; storage retries get what remains before it.
    read_by = max(started + 1.0, deadline - policy.timeouts.scan)
    got = source.read(
        where.Bucket, where.Key, event.File.FileSizeInBytes, policy.max_file_size, read_by
    )
    # a slow read leaves less than the policy's scan time: what is not scanned by the deadline
    # is a timeout finding (REJECTED), never an invocation that runs out of time
    report = ready.scan(got.data, event.File.FileName, deadline=deadline)
    return Outcome(
        report.status,
        report.reasons,
        report.rejecting_codes,
        report,
        event,
        {**got.timings_ms, **report.timings_ms},
    )


def too_large(size: int, limit: int) -> Rejected:
    """The rejection of an object over the policy's size limit, before it is read."""
    return Rejected(TOO_LARGE, f"file is {size_text(size)}, over the {size_text(limit)} limit")
