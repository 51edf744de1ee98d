"""Image moderation in the Amazon Rekognition taxonomy, behind one small backend interface.

Backends: `rekognition.RekognitionBackend` (Amazon Rekognition DetectModerationLabels) and
`local.LocalBackend` (NudeNet's bundled detector; nudity only). Both are imported lazily by
`load_backend` so that neither boto3 nor NudeNet is needed unless chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from attachguard.moderation.taxonomy import Label


class StoredBytes(bytes):
    """File contents that also know the S3 object they were read from, so that a backend may
    let the service read the object itself (Rekognition ``S3Object``) instead of sending bytes.
    Slices and copies are plain ``bytes``: only the uploaded file itself carries a location."""

    bucket: str
    key: str
    version: str | None

    def __new__(
        cls, data: bytes | bytearray, bucket: str, key: str, version: str | None = None
    ) -> StoredBytes:
        self = super().__new__(cls, data)
        self.bucket, self.key, self.version = bucket, key, version
        return self


@dataclass(frozen=True)
class Picture:
    """An image to moderate: its bytes and the detected type label (jpeg, png, heif...)."""

    data: bytes
    type: str
    max_pixels: int


@dataclass(frozen=True)
class Detection:
    """A backend's answer: every label it saw (the policy decides), the model that saw them,
    and how the image was sent (for the report)."""

    labels: list[Label]
    model: str
    via: str = ""
    facts: dict[str, str] = field(default_factory=dict)


class ModerationBackend(Protocol):
    name: str

    def version(self) -> str: ...

    def detect(self, picture: Picture, min_confidence: float, deadline: float) -> Detection:
        """Labels at or above ``min_confidence`` (0-100); ``deadline`` is a `time.monotonic`
        value the backend must not retry past."""
        ...


class ImageUnreadable(ValueError):
    """The image cannot be decoded (damaged, unsupported) or re-encoded within limits."""


class ImageTooLarge(ImageUnreadable):
    """The image has more pixels than the policy allows (checked before decoding)."""


def load_backend(name: str) -> ModerationBackend | None:
    """The backend a policy or setting names: ``none`` → None, ``rekognition``, ``local``."""
    if name == "none":
        return None
    if name == "rekognition":
        from attachguard.moderation.rekognition import RekognitionBackend

        return RekognitionBackend()
    if name == "local":
        from attachguard.moderation.local import LocalBackend

        return LocalBackend()
    raise ValueError(f"unknown moderation backend {name!r} (none, rekognition or local)")
