"""Reading one uploaded file from S3: HeadObject first, then a bounded, pinned GetObject.

The size is checked against the event's ``FileSizeInBytes`` and the policy's limit before a
byte is downloaded; the download is pinned to what HeadObject saw (``IfMatch`` on the ETag and
the ``VersionId`` when the bucket is versioned) and reads at most that many bytes, so memory
stays bounded by the policy's size limit. SSE-S3 and SSE-KMS objects are decrypted by S3 (the
caller needs ``kms:Decrypt`` on the key). A missing object, access denied, missing credentials
or a misconfigured client fail at once; throttling, 5xx answers and network faults are retried
with backoff until the deadline.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from attachguard.connect.verdict import (
    ACCESS_DENIED,
    CONFIG_ERROR,
    NO_CREDENTIALS,
    NOT_FOUND,
    S3_ERROR,
    S3_UNAVAILABLE,
    SIZE_MISMATCH,
    WRONG_BUCKET,
    Read,
    Rejected,
    too_large,
)
from attachguard.moderation import StoredBytes

T = TypeVar("T")
_CHUNK = 1024 * 1024
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
        "503",
        "500",
        "RequestTimeTooSkewed",
    }
)


@dataclass(frozen=True)
class Fetched:
    data: StoredBytes
    head_ms: float
    get_ms: float


def fetch(
    s3: Any, bucket: str, key: str, expected_size: int, max_size: int, deadline: float
) -> Fetched:
    """The object's bytes (carrying their S3 location), or `Rejected`."""
    start = time.perf_counter()
    head = _retrying(lambda: s3.head_object(Bucket=bucket, Key=key), deadline)
    head_ms = (time.perf_counter() - start) * 1000
    size = int(head["ContentLength"])
    if size != expected_size:
        raise Rejected(
            SIZE_MISMATCH,
            f"the object holds {size:,} bytes but the event announced {expected_size:,}",
        )
    if size > max_size:
        raise too_large(size, max_size)
    pin: dict[str, str] = {"IfMatch": head["ETag"]} if head.get("ETag") else {}
    version = head.get("VersionId")
    if version and version != "null":
        pin["VersionId"] = version
    start = time.perf_counter()
    data = _retrying(lambda: _read(s3, bucket, key, pin, size), deadline)
    get_ms = (time.perf_counter() - start) * 1000
    return Fetched(StoredBytes(data, bucket, key, pin.get("VersionId")), head_ms, get_ms)


def _read(s3: Any, bucket: str, key: str, pin: dict[str, str], size: int) -> bytearray:
    body = s3.get_object(Bucket=bucket, Key=key, **pin)["Body"]
    buf = bytearray()
    try:
        while chunk := body.read(min(_CHUNK, size + 1 - len(buf))):
            buf += chunk
            if len(buf) > size:
                raise Rejected(SIZE_MISMATCH, "the object grew while it was read")
    finally:
        body.close()
    if len(buf) != size:
        raise _ShortRead(f"read {len(buf):,} of {size:,} bytes")
    return buf


class _ShortRead(Exception):
    """The stream ended early: a network fault, worth a retry."""


def _code(exc: Exception) -> tuple[str, int]:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", 0
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def _permanent(exc: Exception) -> Rejected | None:
    """The rejection for an error no retry can fix, or None when it is worth retrying."""
    if isinstance(exc, Rejected):
        return exc
    if isinstance(exc, _ShortRead):
        return None
    code, status = _code(exc)
    if code in ("NoSuchKey", "NotFound", "404", "NoSuchBucket", "NoSuchVersion"):
        return Rejected(NOT_FOUND, "the file is not in S3 (deleted, or a wrong key)")
    if code in ("AccessDenied", "Forbidden", "403", "KMS.AccessDeniedException") or status == 403:
        return Rejected(ACCESS_DENIED, "access to the file in S3 was denied")
    if code in ("PreconditionFailed", "412") or status == 412:
        return Rejected(SIZE_MISMATCH, "the object changed while it was read")
    if code in _TRANSIENT_CODES or status >= 500 or status in (408, 429):
        return None
    if status:  # any other 4xx: the request is wrong and stays wrong
        return Rejected(S3_ERROR, f"S3 refused the request ({code or status})")
    return _client_side(exc)


def _client_side(exc: Exception) -> Rejected | None:
    """An error raised before S3 answered: network faults are worth a retry; missing
    credentials and client settings are not (retrying them only delays the verdict)."""
    from botocore import exceptions as boto  # type: ignore[import-untyped]

    network = (
        boto.ConnectionError,  # EndpointConnectionError, ConnectTimeoutError, SSLError, proxy
        boto.HTTPClientError,  # ReadTimeoutError, ConnectionClosedError, ResponseStreamingError
        boto.IncompleteReadError,
        boto.ChecksumError,
        boto.FlexibleChecksumError,  # the bytes were damaged on the way
    )
    credentials = (
        boto.NoCredentialsError,
        boto.PartialCredentialsError,
        boto.CredentialRetrievalError,
        boto.UnknownCredentialError,
        boto.NoAuthTokenError,
        boto.TokenRetrievalError,
        boto.SSOError,
    )
    if isinstance(exc, network):
        return None
    if isinstance(exc, credentials):
        return Rejected(
            NO_CREDENTIALS, f"no usable AWS credentials to read the file ({type(exc).__name__})"
        )
    if isinstance(exc, boto.BotoCoreError):  # region, endpoint, profile, parameter, signing...
        # the type only: botocore's message can quote the bucket and key
        return Rejected(CONFIG_ERROR, f"the S3 client is misconfigured ({type(exc).__name__})")
    if type(exc).__module__.startswith("urllib3") or isinstance(exc, OSError):
        return None  # connection, timeout and streaming faults below botocore
    raise exc


def _retrying(call: Callable[[], T], deadline: float, base: float = 0.1) -> T:
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:
            rejected = _permanent(exc)
            if rejected is not None:
                raise rejected from (None if rejected is exc else exc)
            delay = min(2.0, base * 2**attempt) * (0.5 + random.random() / 2)  # noqa: S311  (jitter)
            if time.monotonic() + delay >= deadline:
                raise Rejected(
                    S3_UNAVAILABLE, f"S3 kept failing until the deadline ({type(exc).__name__})"
                ) from exc
            time.sleep(delay)
            attempt += 1


class S3Source:
    """The Lambda's `Source`: objects read from S3 with ``s3`` (a boto3 client, or a function
    that makes one on first use); with ``bucket`` set, events naming another are REJECTED."""

    def __init__(self, s3: Any, bucket: str | None = None) -> None:
        self._s3 = s3
        self.bucket = bucket

    def read(
        self, bucket: str, key: str, expected_size: int, max_size: int, deadline: float
    ) -> Read:
        if self.bucket and bucket != self.bucket:
            raise Rejected(WRONG_BUCKET, "the event names another bucket")
        client = self._s3() if callable(self._s3) else self._s3
        got = fetch(client, bucket, key, expected_size, max_size, deadline)
        return Read(got.data, {"s3_head": round(got.head_ms, 2), "s3_get": round(got.get_ms, 2)})
