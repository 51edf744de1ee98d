"""OCR by AWS: Amazon Textract ``DetectDocumentText`` or Amazon Rekognition ``DetectText``.

Textract reads documents and screenshots line by line with no limit on the number of words;
Rekognition's DetectText returns at most 100 words a picture (enough for a photo of a card, not
for a statement), so Textract is the better choice where it is offered. The picture is sent as
``Bytes``: re-encoded as a JPEG of at most 2,048 pixels a side (`moderation.imaging.to_jpeg`),
under both services' size limits. Throttling and service faults are retried with jittered
backoff until the deadline; any other error propagates, and the pipeline reports it as an
engine error (fail closed). The caller needs ``textract:DetectDocumentText`` or
``rekognition:DetectText``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from attachguard import awsclient
from attachguard.moderation import imaging
from attachguard.sensitive.ocr import OcrPicture

_RETRYABLE = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "InternalServerError",
        "ServiceUnavailableException",
    }
)


def _textract_lines(client: Any, jpeg: bytes) -> list[str]:
    response = client.detect_document_text(Document={"Bytes": jpeg})
    return [str(b["Text"]) for b in response.get("Blocks", []) if b.get("BlockType") == "LINE"]


def _rekognition_lines(client: Any, jpeg: bytes) -> list[str]:
    response = client.detect_text(Image={"Bytes": jpeg})
    return [
        str(t["DetectedText"])
        for t in response.get("TextDetections", [])
        if t.get("Type") == "LINE"
    ]


_CALLS: dict[str, tuple[str, Callable[[Any, bytes], list[str]], str]] = {
    "textract": ("textract", _textract_lines, "Amazon Textract DetectDocumentText"),
    "rekognition": ("rekognition", _rekognition_lines, "Amazon Rekognition DetectText"),
}


class AwsOcr:
    """``service``: ``textract`` or ``rekognition``; ``client``: a boto3 client of that service
    (created lazily, once, when not given); ``base_delay``: first backoff in seconds."""

    def __init__(self, service: str, client: Any | None = None, base_delay: float = 0.2) -> None:
        self.name = service
        self._service, self._lines, self._title = _CALLS[service]
        self._client = client
        self._lock = threading.Lock()
        self._base_delay = base_delay

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                # our own loop retries within the scan's deadline (`awsclient`)
                self._client = awsclient.client(self._service)
            return self._client

    def version(self) -> str:
        return self._title

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        jpeg = imaging.to_jpeg(picture.data, picture.max_pixels)
        attempt = 0
        while True:
            try:
                return self._lines(self.client(), jpeg)
            except Exception as exc:
                if _error_code(exc) not in _RETRYABLE:
                    raise
                jitter = 0.5 + random.random() / 2  # noqa: S311  (not for security)
                delay = self._base_delay * 2**attempt * jitter
                if time.monotonic() + delay >= deadline:
                    raise
                time.sleep(delay)
                attempt += 1


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
