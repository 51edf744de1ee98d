"""Pillow's process-wide settings, made once for every reader of pictures (the image engine,
moderation, OCR): importing this module makes them.

- HEIC/HEIF is taught to Pillow by pillow-heif (`register_heif`, on first use: registration
  mutates Pillow's global table).
- Pillow's warning of a picture past its own pixel limit is silenced: every reader compares
  the policy's limit itself (and Pillow still raises past twice its own). Turning it into an
  error or silencing it around each call (`warnings.catch_warnings`) changes the process-wide
  filters while other threads open pictures (hunt 98: the image engine failed on a deck's
  115-megapixel picture, one run in five, while the OCR read it).
- A PNG's compressed chunks (a colour profile, ``zTXt``) may inflate to `PNG_CHUNK` rather than
  Pillow's 1 MB: a printer's colour profile of 1.6 MB made an honest PNG "damaged" (hunt 117).
  Pillow still caps all of a picture's text at its ``MAX_TEXT_MEMORY`` (64 MB), and the file
  itself is within the policy's size.
"""

from __future__ import annotations

import threading
import warnings

from PIL import Image, PngImagePlugin

__all__ = ["PNG_CHUNK", "register_heif"]

PNG_CHUNK = 16 * 1024 * 1024

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


warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
PngImagePlugin.MAX_TEXT_CHUNK = max(PngImagePlugin.MAX_TEXT_CHUNK, PNG_CHUNK)
