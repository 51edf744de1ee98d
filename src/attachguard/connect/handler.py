"""The Amazon Connect FILE_SCANNER Lambda: parse the event, read the file, scan, answer.

The answer is exactly ``{"Status": "APPROVED"}`` or ``{"Status": "REJECTED"}``. Anything that
prevents a full scan — a malformed event, a missing object, access denied, a size that does not
match the event, a configuration error — is REJECTED at once (fail closed, no pointless
retries); transient S3 faults are retried until a deadline taken from the Lambda context.

Settings (environment variables):

- ``ATTACHGUARD_POLICY``: a policy file path or ``s3://bucket/key`` (default: packaged policy)
- ``ATTACHGUARD_MODERATION``: ``none``, ``rekognition`` or ``local`` (overrides the policy)
- ``ATTACHGUARD_CLAMD``: a clamd address (``/path.sock``, ``host:port``) or ``private`` to
  start one in /tmp on the image's signatures; unset: no malware engine (the policy must then
  list ``clamav`` in ``disabled_engines``)
- ``ATTACHGUARD_LOG_FILE_NAMES``: ``true`` to log file names and keys (default ``false``)
- ``ATTACHGUARD_BUCKET``: when set, events naming any other bucket are REJECTED
- ``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_METRICS_NAMESPACE``: log service and metric namespace

Each scan writes one JSON log line (FileId, SHA-256, status, reasons, timings; no contents)
and EMF metrics: ``Scans`` by ``Status``, ``Rejections`` by ``Reason``, ``ScanLatency``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, single_metric
from aws_lambda_powertools.metrics import MetricUnit

from attachguard.connect.event import MalformedEvent, parse_event
from attachguard.connect.fetch import FetchRejected, fetch
from attachguard.pipeline import Scanner
from attachguard.policy import PolicyError
from attachguard.report import Report, Status

APPROVED = {"Status": "APPROVED"}
REJECTED = {"Status": "REJECTED"}
_MARGIN = 1.0  # seconds kept back from the Lambda deadline to answer in time
_NO_CONTEXT_BUDGET = 55.0  # when run without a Lambda context (local invoke)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    policy: str | None = None
    moderation: str | None = None
    clamd: str | None = None
    log_file_names: bool = False
    bucket: str | None = None
    namespace: str = "attachguard"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            policy=env.get("ATTACHGUARD_POLICY") or None,
            moderation=env.get("ATTACHGUARD_MODERATION") or None,
            clamd=env.get("ATTACHGUARD_CLAMD") or None,
            log_file_names=_flag(env.get("ATTACHGUARD_LOG_FILE_NAMES")),
            bucket=env.get("ATTACHGUARD_BUCKET") or None,
            namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or "attachguard",
        )


@dataclass
class Outcome:
    """What one invocation decided, for the response, the log line and the metrics."""

    status: Status
    reasons: list[str]
    codes: list[str]
    report: Report | None = None


class ConnectScanner:
    """The handler's state: a warm `Scanner` and an S3 client, made once and reused.

    ``scanner``/``s3`` are built from ``settings`` on first use when not given (tests and
    the local ``invoke`` command pass their own). ``metrics`` False writes no EMF.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        scanner: Scanner | None = None,
        s3: Any = None,
        logger: Logger | None = None,
        metrics: bool = True,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._scanner = scanner
        self._s3 = s3
        self._lock = threading.Lock()
        self.logger = logger or Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME"))
        self.metrics = metrics

    def s3(self) -> Any:
        with self._lock:
            if self._s3 is None:
                from attachguard.connect.config import s3_client

                self._s3 = s3_client()
            return self._s3

    def scanner(self) -> Scanner:
        with self._lock:
            if self._scanner is None:
                from attachguard.connect.config import build

                self._scanner = build(self.settings, self._s3)
            return self._scanner

    def __call__(self, event: Any, context: Any = None) -> dict[str, str]:
        return self.handle(event, context)[0]

    def handle(self, event: Any, context: Any = None) -> tuple[dict[str, str], Outcome]:
        """The response for ``event`` and the outcome behind it (logged and counted)."""
        started = time.perf_counter()
        outcome, file_id, extra = self.run(event, context)
        extra["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        self._record(outcome, file_id, extra)
        return (APPROVED if outcome.status is Status.APPROVED else REJECTED), outcome

    def run(self, event: Any, context: Any) -> tuple[Outcome, str | None, dict[str, Any]]:
        """The decision on ``event``, plus what the log line should say about it."""
        started = time.monotonic()
        deadline = started + _budget(context)
        extra: dict[str, Any] = {}
        try:
            parsed = parse_event(event)
        except MalformedEvent as exc:
            return _rejected("MALFORMED_EVENT", str(exc)), None, extra
        where = parsed.location
        if self.settings.log_file_names:
            extra.update(FileName=parsed.File.FileName, Bucket=where.Bucket, Key=where.Key)
        if self.settings.bucket and where.Bucket != self.settings.bucket:
            return (
                _rejected("WRONG_BUCKET", "the event names another bucket"),
                parsed.File.FileId,
                extra,
            )
        try:
            scanner = self.scanner()
            # Leave the scan its whole time budget; S3 retries get what remains before it.
            fetch_deadline = max(started + 1.0, deadline - scanner.policy.timeouts.scan)
            got = fetch(
                self.s3(),
                where.Bucket,
                where.Key,
                parsed.File.FileSizeInBytes,
                scanner.policy.max_file_size,
                fetch_deadline,
            )
            # a slow download leaves less than the policy's scan time: what is not scanned by
            # the deadline is a timeout finding (REJECTED), never a Lambda that runs out of time
            report = scanner.scan(got.data, parsed.File.FileName, deadline=deadline)
        except FetchRejected as exc:
            return _rejected(exc.reason, str(exc)), parsed.File.FileId, extra
        except PolicyError as exc:
            self.logger.error("configuration error", extra={"error": str(exc)})
            return (
                _rejected("CONFIG_ERROR", "the scanner is misconfigured"),
                parsed.File.FileId,
                extra,
            )
        except Exception as exc:  # fail closed on anything unexpected, and say what it was
            self.logger.exception("scan failed", extra={"FileId": parsed.File.FileId})
            return _rejected("INTERNAL_ERROR", type(exc).__name__), parsed.File.FileId, extra
        extra["timings_ms"] = {
            "s3_head": round(got.head_ms, 2),
            "s3_get": round(got.get_ms, 2),
            **{k: round(v, 2) for k, v in report.timings_ms.items()},
        }
        codes = sorted({f.code.name for f in report.findings if f.code.name in _rejecting(report)})
        outcome = Outcome(report.status, report.reasons, codes, report)
        return outcome, parsed.File.FileId, extra

    def _record(self, outcome: Outcome, file_id: str | None, extra: dict[str, Any]) -> None:
        report = outcome.report
        line: dict[str, Any] = {
            "FileId": file_id,
            "status": outcome.status.value,
            # member paths inside a file are names too: only with ATTACHGUARD_LOG_FILE_NAMES
            "reasons": outcome.reasons if self.settings.log_file_names else _unplaced(outcome),
            **extra,
        }
        if report is not None:
            line.update(
                sha256=report.sha256,
                size=report.size,
                type=report.type.label,
                versions=report.versions,
            )
        self.logger.info("scan", extra=line)
        if not self.metrics:
            return
        namespace = self.settings.namespace
        dims = {"service": self.logger.service}
        with single_metric(
            "Scans", MetricUnit.Count, 1, namespace=namespace, default_dimensions=dims
        ) as metric:
            metric.add_dimension("Status", outcome.status.value)
        for code in outcome.codes:
            with single_metric(
                "Rejections", MetricUnit.Count, 1, namespace=namespace, default_dimensions=dims
            ) as metric:
                metric.add_dimension("Reason", code)
        with single_metric(
            "ScanLatency",
            MetricUnit.Milliseconds,
            extra["latency_ms"],
            namespace=namespace,
            default_dimensions=dims,
        ):
            pass  # the value is emitted when the block closes


def _unplaced(outcome: Outcome) -> list[str]:
    """The reasons without where they were found (a member path can be a personal file name)."""
    report = outcome.report
    if report is None:
        return outcome.reasons
    rejecting = _rejecting(report)
    return sorted({f.message for f in report.findings if f.code.name in rejecting})


def _rejecting(report: Report) -> set[str]:
    return {code.name for code, action in report.actions.items() if action.value == "reject"}


def _rejected(code: str, message: str) -> Outcome:
    return Outcome(Status.REJECTED, [message], [code])


def _budget(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return _NO_CONTEXT_BUDGET
    return max(0.0, float(remaining()) / 1000 - _MARGIN)


_default: ConnectScanner | None = None
_default_lock = threading.Lock()


def handler(event: Any, context: Any) -> dict[str, str]:
    """The Lambda entry point (``attachguard.connect.handler.handler``)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ConnectScanner()
    return _default(event, context)
