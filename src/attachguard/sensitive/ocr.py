"""OCR behind one small interface, for the numbers in pictures.

Backends: ``local`` (`ocr_local.LocalOcr`: RapidOCR on ONNX Runtime, with the models its package
ships; the optional extra ``attachguard[ocr]``), ``textract`` (Amazon Textract
DetectDocumentText) and ``rekognition`` (Amazon Rekognition DetectText), both in
`ocr_aws`; ``none`` reads no pictures. Each is imported lazily by `load_ocr`, so that neither
RapidOCR nor boto3 is needed unless chosen.

`readable` decides, from the picture's header alone, whether it could show a card number at a
size anyone can read (icons, bullets and spacer pictures cannot): only those reach a backend.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import Protocol

from attachguard.moderation import imaging

# A card number is 13-19 characters; at 6 pixels a character and 8 of height, the smallest
# picture that can show one legibly.
MIN_WIDTH = 80
MIN_HEIGHT = 8


@dataclass(frozen=True)
class OcrPicture:
    """A picture to read: its bytes, detected type label (jpeg, png, heif...) and the
    policy's pixel limit."""

    data: bytes
    type: str
    max_pixels: int


class OcrBackend(Protocol):
    name: str

    def version(self) -> str: ...

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        """The lines of text in the picture. ``deadline`` is a `time.monotonic` value the
        backend must not retry past. Raises `moderation.ImageUnreadable` (or its
        `ImageTooLarge`) for a picture that cannot be decoded within limits."""
        ...


class OcrUnavailable(RuntimeError):
    """The policy names a backend that cannot run here (its package is not installed)."""


class OcrLate(Exception):
    """A picture not read, or read only in part, for lack of time: ``lines`` is what was read
    before the deadline (the engine searches them and reports the picture as not read)."""

    def __init__(self, lines: list[str] | None = None) -> None:
        super().__init__("out of time")
        self.lines = lines or []


def readable(data: bytes) -> bool:
    """Whether the picture is large enough to show a number legibly, from its header (a
    picture whose size cannot be read is left to the backend, which decodes it or says why)."""
    size = imaging.size_of(data)
    if size is None:
        return True
    width, height = size
    return max(width, height) >= MIN_WIDTH and min(width, height) >= MIN_HEIGHT


# What OCR mistakes for digits inside a number: letters shaped like them.
_LOOKALIKES = str.maketrans("OoQDIlL|!SsBZzGgT", "00001111155822697")
# Groups of digits and look-alikes separated by single spaces or dashes; three in four of
# their characters must be real digits (see `_digits`).
_LIKE = "0-9OoQDIlL|!SsBZzGgT"
_NUMBERISH = re.compile(rf"(?<![A-Za-z])[{_LIKE}]+(?:[ -][{_LIKE}]+)*(?![A-Za-z])")


def as_text(lines: list[str]) -> str:
    """OCR lines as text to search: in a token that is mostly digits, letters OCR takes for
    digits (O for 0, l for 1, S for 5, B for 8) are read as the digits; words stay words."""
    return "\n".join(_NUMBERISH.sub(_digits, line) for line in lines)


def _digits(match: re.Match[str]) -> str:
    token = match.group()
    real = sum(c.isdigit() for c in token)
    shown = len(token) - token.count(" ") - token.count("-")
    return token.translate(_LOOKALIKES) if real >= 2 and real * 4 >= shown * 3 else token


def local_installed() -> bool:
    """Whether the local backend's package (the ``attachguard[ocr]`` extra) is installed."""
    return importlib.util.find_spec("rapidocr") is not None


def resolve(name: str) -> str:
    """The backend ``name`` stands for: ``auto`` is ``local`` where its package is installed
    (the service's and the container Lambda's installs carry it) and ``none`` elsewhere."""
    if name == "auto":
        return "local" if local_installed() else "none"
    return name


def load_ocr(name: str) -> OcrBackend | None:
    """The backend a policy names: ``none`` → None, ``local``, ``textract``, ``rekognition``,
    or ``auto`` (see `resolve`)."""
    name = resolve(name)
    if name == "none":
        return None
    if name == "local":
        from attachguard.sensitive.ocr_local import LocalOcr

        return LocalOcr()
    if name in ("textract", "rekognition"):
        from attachguard.sensitive.ocr_aws import AwsOcr

        return AwsOcr(name)
    raise ValueError(f"unknown OCR backend {name!r} (auto, none, local, textract or rekognition)")
