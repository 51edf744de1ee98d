"""Rescanning an S3 prefix of approved attachments (``attachguard connect rescan``, and
``attachguard rescan s3://bucket/prefix``).

Amazon Connect keeps an approved attachment under its instance's attachments prefix
(``connect/<alias>/Attachments/chat/YYYY/MM/DD/<FileId>_<time>_UTC.<ext>``) until a lifecycle
rule expires it; a file approved before a signature update is scanned again here. A file now
REJECTED on its bytes is deleted (a download then fails, as for any file Connect rejected),
copied to a quarantine prefix and then deleted, or only reported (see `attachguard.rescan` for
the decision, undecided scans included).

Bounded and resumable: at most ``max_files`` objects per run, taken in S3's key order after
``start_after``; `RescanRun.marker` is the last key done, to pass as ``start_after`` next time
(None when the prefix is finished). Keys sort by date within a prefix, so a daily run over
``.../chat/<today>`` and a catch-up run from a marker both work. The object's name for the
scan is the key's last segment: its extension is the upload's, which is what the engines use.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from attachguard.connect import s3util
from attachguard.rescan import ACTIONS, Rescanned, Scans, outcome_of

__all__ = ["RescanRun", "rescan_prefix"]

_PAGE = 1000  # ListObjectsV2's largest page


@dataclass
class RescanRun:
    """One bounded pass: what was rescanned, and where to start the next pass (None: the
    prefix is done)."""

    results: list[Rescanned] = field(default_factory=list)
    marker: str | None = None

    @property
    def revoked(self) -> int:
        return sum(r.revoked for r in self.results)


def _objects(
    s3: Any, bucket: str, prefix: str, start_after: str | None, limit: int
) -> Iterator[tuple[str, int, bool]]:
    """(key, size, more after it) of up to ``limit`` objects under ``prefix``, in key order."""
    token: str | None = None
    seen = 0
    while seen < limit:
        page: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": min(_PAGE, limit)}
        if token is not None:
            page["ContinuationToken"] = token
        elif start_after:
            page["StartAfter"] = start_after
        answer = s3util.retry(functools.partial(s3.list_objects_v2, **page))
        contents = answer.get("Contents", [])
        truncated = bool(answer.get("IsTruncated"))
        for index, item in enumerate(contents):
            seen += 1
            more = truncated or index + 1 < len(contents)
            yield str(item["Key"]), int(item["Size"]), more
            if seen >= limit:
                return
        token = answer.get("NextContinuationToken")
        if not truncated or token is None:
            return


def rescan_prefix(
    s3: Any,
    bucket: str,
    prefix: str,
    scanner: Scans,
    *,
    action: str = "delete",
    quarantine_prefix: str | None = None,
    max_files: int = 1000,
    start_after: str | None = None,
) -> RescanRun:
    """Rescan up to ``max_files`` objects under ``prefix`` after ``start_after`` (see the
    module docstring)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    if action == "quarantine" and not quarantine_prefix:
        raise ValueError("quarantine needs a prefix to copy files to")
    if quarantine_prefix and quarantine_prefix.startswith(prefix):
        raise ValueError("the quarantine prefix must not be inside the prefix rescanned")
    run = RescanRun()
    for key, size, more in _objects(s3, bucket, prefix, start_after, max_files):
        done = _rescan_object(s3, bucket, key, size, scanner, action, quarantine_prefix)
        run.results.append(done)
        run.marker = key if more else None
    return run


def _rescan_object(
    s3: Any,
    bucket: str,
    key: str,
    size: int,
    scanner: Scans,
    action: str,
    quarantine_prefix: str | None,
) -> Rescanned:
    max_size = scanner.policy.max_file_size
    if size > max_size:
        return Rescanned(key, "", [], "skipped", "over the policy's size limit")
    try:
        data = s3util.read(s3, bucket, key, max_size)
    except Exception as exc:
        if s3util.missing(exc):  # expired or deleted since the listing
            return Rescanned(key, "", [], "skipped", "gone")
        raise
    report = scanner.scan(data, key.rsplit("/", 1)[-1])
    done = outcome_of(report, action)
    if done == "quarantined" and quarantine_prefix:
        target = quarantine_prefix.rstrip("/") + "/" + key
        source = {"Bucket": bucket, "Key": key}
        s3util.retry(lambda: s3.copy_object(Bucket=bucket, Key=target, CopySource=source))
    if done in ("deleted", "quarantined"):
        s3util.retry(lambda: s3.delete_object(Bucket=bucket, Key=key))
    return Rescanned(key, report.status.value, report.rejecting_codes, done)
