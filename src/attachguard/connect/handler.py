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
- ``ATTACHGUARD_DEFINITIONS``: ``s3://bucket/prefix/`` of the signature mirror the updater
  keeps (a private clamd loads newer files from it at start and between events);
  ``ATTACHGUARD_CLAMAV_DATABASE``: the image's signature directory (``/var/lib/clamav``);
  ``ATTACHGUARD_CLAMD_DIR``: the private clamd's directory (``/tmp/attachguard-clamd``)
- ``ATTACHGUARD_LOG_FILE_NAMES``: ``true`` to log file names and keys (default ``false``)
- ``ATTACHGUARD_BUCKET``: when set, events naming any other bucket are REJECTED
- ``ATTACHGUARD_VERDICT_CACHE_ENTRIES``: verdicts kept in memory per environment (1024; 0 for
  none); ``ATTACHGUARD_VERDICT_CACHE_TABLE``: a DynamoDB table shared by every environment
  (`attachguard.connect.dynamo_cache`), ``ATTACHGUARD_VERDICT_CACHE_TTL_HOURS`` (168)
- ``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_METRICS_NAMESPACE``: log service and metric namespace

Each scan writes one JSON log line (FileId, SHA-256, status, reasons, timings, ``cached`` when
the verdict came from the verdict cache, and with clamd
the loaded signatures' ``signature_version`` and ``signature_age_hours``; no contents) and EMF
metrics: ``Scans`` by ``Status``, ``Rejections`` by ``Reason``, ``ScanLatency``, and with clamd
``SignatureAgeHours``.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, single_metric
from aws_lambda_powertools.metrics import MetricUnit

from attachguard.codes import Code
from attachguard.connect import config
from attachguard.connect.antivirus import Antivirus
from attachguard.connect.config import Settings
from attachguard.connect.fetch import S3Source
from attachguard.connect.verdict import Outcome, decide
from attachguard.pipeline import Scanner
from attachguard.policy import PolicyError
from attachguard.sensitive import redact

if TYPE_CHECKING:
    from attachguard.cache import CachedScanner, VerdictStore

__all__ = ["ConnectScanner", "Outcome", "Settings", "budget", "handler"]

_MARGIN = 1.0  # seconds kept back from the Lambda deadline to answer in time
_NO_CONTEXT_BUDGET = 55.0  # when run without a Lambda context (local invoke)


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
        cache: VerdictStore | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._scanner = None if scanner is None else config.with_cache(scanner, cache)
        self._s3 = s3
        self._lock = threading.Lock()
        self.logger = logger or Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME"))
        self.metrics = metrics
        self.antivirus: Antivirus | None = (
            config.antivirus(self.settings, s3, self.logger) if scanner is None else None
        )

    def s3(self) -> Any:
        with self._lock:
            if self._s3 is None:
                self._s3 = config.s3_client()
            return self._s3

    def scanner(self) -> Scanner | CachedScanner:
        """The warm scanner, built on first use from the settings, through the verdict cache
        they describe (an LRU per environment, and DynamoDB when a table is set)."""
        with self._lock:
            if self._scanner is None:
                built = config.build(self.settings, self._s3, self.antivirus)
                store = config.verdict_store(self.settings, logger=self.logger)
                self._scanner = config.with_cache(built, store)
            return self._scanner

    def refresh(self) -> None:
        """Check for newer signatures in the background when due (cheap when not)."""
        if self.antivirus is not None:
            self.antivirus.refresh()

    def signatures(self) -> dict[str, Any]:
        """The loaded signatures' version and age, for a log line (empty without clamd)."""
        return self.antivirus.fields() if self.antivirus is not None else {}

    def __call__(self, event: Any, context: Any = None) -> dict[str, str]:
        return self.handle(event, context)[0]

    def handle(self, event: Any, context: Any = None) -> tuple[dict[str, str], Outcome]:
        """The response for ``event`` and the outcome behind it (logged and counted)."""
        started = time.perf_counter()
        outcome = self.run(event, context)
        self.record(outcome, (time.perf_counter() - started) * 1000)
        return outcome.response, outcome

    def run(self, event: Any, context: Any) -> Outcome:
        """The decision on ``event``: the one FILE_SCANNER verdict path, over S3."""
        deadline = time.monotonic() + budget(context)
        source = S3Source(self.s3, self.settings.bucket)
        outcome = decide(event, source, self.scanner, deadline)
        if outcome.error is not None and isinstance(outcome.error, PolicyError):
            self.logger.error("configuration error", extra={"error": str(outcome.error)})
        elif outcome.error is not None:
            self.logger.error(
                "scan failed",
                exc_info=outcome.error,
                extra={"FileId": outcome.file_id},
            )
        return outcome

    def record(self, outcome: Outcome, latency_ms: float, **extra: Any) -> None:
        """One JSON log line and the EMF metrics for ``outcome``."""
        status = self.signatures()
        self.logger.info("scan", extra=self._line(outcome, latency_ms, {**status, **extra}))
        if self.metrics:
            self._metrics(outcome, latency_ms, status.get("signature_age_hours"))

    def not_ready(
        self, code: Code, file_id: str | None, latency_ms: float, error: str | None = None
    ) -> None:
        """One log line and the ``NotReady`` metric for an invocation that fails (and that
        Connect retries) because the scanner was not ready in time."""
        line: dict[str, Any] = {
            "FileId": file_id,
            "status": "ERROR",
            "reason": code.name,
            "latency_ms": round(latency_ms, 2),
            **self.signatures(),
        }
        if error is not None:
            line["error"] = error
        self.logger.warning("not ready", extra=line)
        if self.metrics:
            self._metric("NotReady", MetricUnit.Count, 1, Reason=code.name)

    def _metric(self, name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
        dims = {"service": self.logger.service}
        with single_metric(
            name, unit, value, namespace=self.settings.namespace, default_dimensions=dims
        ) as metric:
            for key, dim in dimensions.items():
                metric.add_dimension(key, dim)

    def _line(self, outcome: Outcome, latency_ms: float, extra: dict[str, Any]) -> dict[str, Any]:
        names = self.settings.log_file_names
        line: dict[str, Any] = {
            "FileId": outcome.file_id,
            "status": outcome.status.value,
            "codes": outcome.codes,
            # member paths inside a file are names too: only with ATTACHGUARD_LOG_FILE_NAMES
            "reasons": outcome.reasons if names else _unplaced(outcome),
            "latency_ms": round(latency_ms, 2),
            **extra,
        }
        if names and outcome.event is not None:
            where = outcome.event.location
            name = redact(outcome.event.File.FileName)  # never a full card number in a log
            line.update(FileName=name, Bucket=where.Bucket, Key=where.Key)
        if outcome.timings_ms:
            line["timings_ms"] = {k: round(v, 2) for k, v in outcome.timings_ms.items()}
        report = outcome.report
        if report is not None:
            line.update(
                sha256=report.sha256,
                size=report.size,
                type=report.type.label,
                versions=report.versions,
                cached=report.cached,
            )
        return line

    def _metrics(self, outcome: Outcome, latency_ms: float, age: float | None) -> None:
        self._metric("Scans", MetricUnit.Count, 1, Status=outcome.status.value)
        for code in outcome.codes:
            self._metric("Rejections", MetricUnit.Count, 1, Reason=code)
        self._metric("ScanLatency", MetricUnit.Milliseconds, latency_ms)
        if age is not None:  # the SignatureAge alarm watches it (deploy/container/template.yaml)
            self._metric("SignatureAgeHours", MetricUnit.NoUnit, age)


def _unplaced(outcome: Outcome) -> list[str]:
    """The reasons without where they were found (a member path can be a personal file name)."""
    report = outcome.report
    if report is None:
        return outcome.reasons
    return sorted({f.message for f in report.rejecting})


def budget(context: Any) -> float:
    """Seconds left to answer an invocation, less a margin (55 s without a Lambda context)."""
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
