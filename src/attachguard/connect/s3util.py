"""S3 reads and writes for the scanner's own files — its policy, the mirrored ClamAV signatures
— retried on transient faults (throttling, 5xx, network errors) a few times with jittered
backoff. Attachments are read by `attachguard.connect.fetch` instead, pinned and bounded by
each event's deadline.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ATTEMPTS = 4  # with 0.2 s base backoff: gives up after about 1.5 s of waiting
_TRANSIENT = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "500",
        "502",
        "503",
        "504",
    }
)
_MISSING = frozenset({"NoSuchKey", "NotFound", "404", "NoSuchVersion"})
_CHUNK = 1024 * 1024


def error_code(exc: BaseException) -> tuple[str, int]:
    """The service's error code and HTTP status of a botocore ClientError (empty otherwise)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", 0
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def missing(exc: BaseException) -> bool:
    """Whether ``exc`` says the object (or version) does not exist."""
    code, status = error_code(exc)
    return code in _MISSING or status == 404


def transient(exc: BaseException) -> bool:
    """Whether a retry may succeed: throttling, server errors and network faults."""
    code, status = error_code(exc)
    if code or status:
        return code in _TRANSIENT or status >= 500 or status in (408, 429)
    from botocore import exceptions as boto  # type: ignore[import-untyped]

    network = (boto.ConnectionError, boto.HTTPClientError, boto.IncompleteReadError, OSError)
    return isinstance(exc, network)


def retry(
    call: Callable[[], T],
    attempts: int = ATTEMPTS,
    base: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, again after a transient failure (at most ``attempts`` calls in all)."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts - 1 or not transient(exc):
                raise
            sleep(base * 2**attempt * (0.5 + random.random() / 2))  # noqa: S311  (jitter)
    raise AssertionError("unreachable")  # pragma: no cover


def read(s3: Any, bucket: str, key: str, limit: int, version: str | None = None) -> bytes:
    """The object's bytes (at most ``limit``; more is an error, not a silent truncation)."""
    pin = {"VersionId": version} if version else {}

    def once() -> bytes:
        body = s3.get_object(Bucket=bucket, Key=key, **pin)["Body"]
        try:
            data = body.read(limit + 1)
        finally:
            body.close()
        if len(data) > limit:
            raise ValueError(f"s3://{bucket}/{key} is larger than {limit:,} bytes")
        return bytes(data)

    return retry(once)


def download(
    s3: Any, bucket: str, key: str, dest: Path, size: int, sha256: str, version: str | None = None
) -> None:
    """Write the object to ``dest`` (atomically, through a hidden ``.part`` file beside it)
    after checking its size and SHA-256; `ValueError` when they do not match."""
    pin = {"VersionId": version} if version else {}
    part = dest.with_name(f".{dest.name}.part")

    def once() -> None:
        digest, written = hashlib.sha256(), 0
        body = s3.get_object(Bucket=bucket, Key=key, **pin)["Body"]
        try:
            with part.open("wb") as out:
                while chunk := body.read(_CHUNK):
                    digest.update(chunk)
                    written += len(chunk)
                    out.write(chunk)
        finally:
            body.close()
        if written != size or digest.hexdigest() != sha256:
            raise ValueError(f"s3://{bucket}/{key}: got {written:,} bytes that do not match")
        os.replace(part, dest)

    try:
        retry(once)
    finally:
        part.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
