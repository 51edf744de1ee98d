"""Amazon Rekognition ``DetectModerationLabels`` as a moderation backend.

How the image is sent: as an ``S3Object`` when it is the uploaded file itself, sitting in S3
(`StoredBytes`), JPEG or PNG, at most 15 MB and 80-10,000 px a side (the caller then needs
``s3:GetObject`` and, for SSE-KMS, ``kms:Decrypt`` — Rekognition reads with its credentials);
otherwise as ``Bytes`` after a bounded re-encode to JPEG (HEIC/HEIF, WebP, oversized images,
images unpacked from documents). An ``S3Object`` that Rekognition cannot read
(``InvalidS3ObjectException``: a KMS key policy without Rekognition's caller, a bucket-policy
condition such as ``aws:SourceVpce``) is sent again as ``Bytes`` — the bytes are in memory —
and ``S3Object`` is not tried again for ten minutes, so one unreadable object costs one extra
call, not a rejection of every image. Throttling and service faults are retried with jittered
backoff until the deadline; any other error propagates, and the pipeline reports it as an
engine error (fail closed).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from attachguard import awsclient
from attachguard.moderation import Detection, Picture, StoredBytes, imaging
from attachguard.moderation.taxonomy import Label

S3_LIMIT = 15 * 1024 * 1024
MAX_SIDE = 10_000
_RETRYABLE = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "InternalServerError",
        "ServiceUnavailableException",
    }
)
# S3Object attempts that failed because of the image itself are retried once as Bytes.
_RESEND_AS_BYTES = frozenset({"ImageTooLargeException", "InvalidImageFormatException"})
# ... and those that failed because Rekognition could not read the object: then S3Object is
# left alone for a while (the cause, a key or bucket policy, is the same for the next image).
_S3_UNREADABLE = "InvalidS3ObjectException"
S3_PAUSE = 600.0  # seconds


class RekognitionBackend:
    """``client``: a boto3 Rekognition client (created lazily, once, with boto3's standard
    settings, when not given); ``base_delay``: first backoff in seconds."""

    name = "rekognition"

    def __init__(self, client: Any | None = None, base_delay: float = 0.2) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._base_delay = base_delay
        self._model = "unknown until the first call"
        self._s3_paused_until = 0.0  # time.monotonic(): S3Object is not tried before then

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                # our own loop retries within the scan's deadline (`awsclient`)
                self._client = awsclient.client("rekognition")
            return self._client

    def version(self) -> str:
        return f"Amazon Rekognition DetectModerationLabels, model {self._model}"

    def detect(self, picture: Picture, min_confidence: float, deadline: float) -> Detection:
        image, via = self._image(picture)
        try:
            response = self._call(image, min_confidence, deadline)
        except Exception as exc:
            code = _error_code(exc)
            if via != "S3Object" or code not in (*_RESEND_AS_BYTES, _S3_UNREADABLE):
                raise
            if code == _S3_UNREADABLE:
                self._s3_paused_until = time.monotonic() + S3_PAUSE  # a race is harmless
            image, via = {"Bytes": imaging.to_jpeg(picture.data, picture.max_pixels)}, "Bytes"
            response = self._call(image, min_confidence, deadline)
        model = str(response.get("ModerationModelVersion", "unknown"))
        self._model = model  # informative only (shown by version()); a race is harmless
        labels = [
            Label(str(x["Name"]), str(x.get("ParentName", "")), float(x["Confidence"]))
            for x in response.get("ModerationLabels", [])
        ]
        return Detection(labels, f"Rekognition moderation model {model}", via)

    def _image(self, picture: Picture) -> tuple[dict[str, Any], str]:
        data = picture.data
        if (
            isinstance(data, StoredBytes)
            and time.monotonic() >= self._s3_paused_until
            and picture.type in ("jpeg", "png")
            and len(data) <= S3_LIMIT
            and _fits(imaging.size_of(data))
        ):
            s3: dict[str, str] = {"Bucket": data.bucket, "Name": data.key}
            if data.version:
                s3["Version"] = data.version  # exactly the bytes the other engines saw
            return {"S3Object": s3}, "S3Object"
        return {"Bytes": imaging.to_jpeg(data, picture.max_pixels)}, "Bytes"

    def _call(self, image: dict[str, Any], min_confidence: float, deadline: float) -> Any:
        attempt = 0
        while True:
            try:
                return self.client().detect_moderation_labels(
                    Image=image, MinConfidence=float(min_confidence)
                )
            except Exception as exc:
                if _error_code(exc) not in _RETRYABLE:
                    raise
                jitter = 0.5 + random.random() / 2  # noqa: S311  (not for security)
                delay = self._base_delay * 2**attempt * jitter
                if time.monotonic() + delay >= deadline:
                    raise
                time.sleep(delay)
                attempt += 1


def _fits(size: tuple[int, int] | None) -> bool:
    return size is not None and all(imaging.MIN_SIDE <= side <= MAX_SIDE for side in size)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
