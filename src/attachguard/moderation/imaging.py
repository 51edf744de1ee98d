"""Decoding and bounded re-encoding of images for the moderation backends (Pillow, pillow-heif).

Every decode checks the pixel count from the header before any pixel is decoded, and shrinks
while decoding where the format allows (JPEG draft mode), so memory stays bounded. Animated
images are judged on their first frame.
"""

from __future__ import annotations

import io
import threading
import warnings
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError

from attachguard.moderation import ImageTooLarge, ImageUnreadable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Rekognition: JPEG or PNG, 5 MB as Bytes, 80 px minimum per side (design.md).
BYTES_LIMIT = 5 * 1024 * 1024
MIN_SIDE = 80
MAX_SIDE = 2048  # ample for moderation; keeps the request small and fast

_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True


def open_image(data: bytes, max_pixels: int, fit: int) -> Image.Image:
    """The image decoded in RGB(A) with its EXIF orientation applied, no larger than ``fit``
    pixels a side; `ImageUnreadable` if damaged, unsupported or over ``max_pixels``."""
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"image is {width}x{height} pixels, over the {max_pixels:,} pixel limit"
                )
            if image.format == "JPEG":
                image.draft("RGB", (fit, fit))  # decode at a reduced scale: fast, small
            image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image) or image
    except ImageUnreadable:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ) as exc:
        raise ImageUnreadable(f"image could not be decoded ({type(exc).__name__})") from exc
    image.thumbnail((fit, fit))
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    return image


def size_of(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header, or None when Pillow cannot tell (or refuses to: a
    header declaring a bomb; decoding it is `open_image`'s to refuse, with a reason)."""
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ):
        return None


def to_jpeg(data: bytes, max_pixels: int) -> bytes:
    """A JPEG of the image fit for Rekognition's ``Bytes``: at most `MAX_SIDE` a side, at least
    `MIN_SIDE`, under `BYTES_LIMIT`; transparency flattened on white."""
    image = open_image(data, max_pixels, MAX_SIDE)
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    if min(image.size) < MIN_SIDE:  # too small for Rekognition: enlarge, then pad, never skip
        scale = min(MIN_SIDE / min(image.size), MAX_SIDE / max(image.size))
        if scale > 1:
            image = image.resize((round(image.width * scale), round(image.height * scale)))
        canvas = Image.new("RGB", (max(image.width, MIN_SIDE), max(image.height, MIN_SIDE)))
        canvas.paste(image, (0, 0))
        image = canvas
    for quality in (85, 70, 50):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() <= BYTES_LIMIT:
            return out.getvalue()
    raise ImageUnreadable("image could not be re-encoded under Rekognition's 5 MB limit")


def to_rgba_array(data: bytes, max_pixels: int, fit: int) -> npt.NDArray[np.uint8]:
    """The image as an RGBA array no larger than ``fit`` a side (for local detectors)."""
    import numpy as np

    image = open_image(data, max_pixels, fit).convert("RGBA")
    return np.asarray(image, dtype=np.uint8)
