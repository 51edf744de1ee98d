"""Pillow's process-wide settings, made once for every reader of pictures (the image engine,
moderation, OCR): importing this module makes them.

- HEIC/HEIF is taught to Pillow by pillow-heif (`register_heif`, on first use: registration
  mutates Pillow's global table).
- Pillow's warning of a picture past its own pixel limit is silenced: every reader compares
  the policy's limit itself (and Pillow still raises past twice its own). Turning it into an
  error or silencing it around each call (`warnings.catch_warnings`) changes the process-wide
  filters while other threads open pictures (hunt 98: the image engine failed on a deck's
  115-megapixel picture, one run in five, while the OCR read it).

`open_image` opens a picture's bytes as every reader here does: a PNG whose one colour
profile inflates past Pillow's limit for a compressed chunk (1 MB; a printer's profile of
1.6 MB made an honest PNG "damaged", hunt 117), and within `PNG_PROFILE`, is opened without
that profile (its pixels are the same; its colours are read untransformed). Pillow's limit
itself stays: raised for the process, it let 400 profiles of 4 MB each cost 8 s a reader
(review 117).
"""

from __future__ import annotations

import io
import threading
import warnings

from PIL import Image, PngImagePlugin

from attachguard.formats import png

__all__ = ["PNG_PROFILE", "open_image", "register_heif"]

PNG_PROFILE = 16 * 1024 * 1024

_heif_lock = threading.Lock()
_heif_registered = False


def register_heif() -> None:
    """Teach Pillow HEIC/HEIF, once per process."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True


def open_image(data: bytes) -> Image.Image:
    """``Image.open`` of ``data`` (the header read, no pixel decoded), a PNG's one oversized
    colour profile left out (see the module docstring)."""
    return Image.open(io.BytesIO(_without_large_profile(data)))


def _without_large_profile(data: bytes) -> bytes:
    """A PNG without its colour profile (``iCCP``) when it has one, whose content inflates
    past Pillow's chunk limit and within `PNG_PROFILE`; any other bytes unchanged."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or b"iCCP" not in data:
        return data
    profiles = [chunk for chunk in png.walk(data).chunks if chunk.kind == b"iCCP"]
    if len(profiles) != 1:
        return data  # two profiles: Pillow's own judgement (the PNG standard allows one)
    chunk = profiles[0]
    inflated = png.inflate(b"iCCP", data[chunk.start : chunk.end], PNG_PROFILE + 1)
    if inflated is None or not inflated[1]:
        return data
    if len(inflated[0]) <= PngImagePlugin.MAX_TEXT_CHUNK or len(inflated[0]) > PNG_PROFILE:
        return data
    return data[: chunk.start - 8] + data[chunk.end + 4 :]  # its length, type, payload, CRC


warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
