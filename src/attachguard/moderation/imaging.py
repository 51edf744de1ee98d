"""Decoding and bounded re-encoding of images for the moderation backends (Pillow, pillow-heif).

Every decode checks the pixel count from the header before any pixel is decoded, and shrinks
while decoding where the format allows (JPEG draft mode), so memory stays bounded. Animated
images are judged on their first frame (the OCR reads a second too: `frames`).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from attachguard import pillow
from attachguard.moderation import ImageTooLarge, ImageUnreadable
from attachguard.pillow import register_heif

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Rekognition: JPEG or PNG, 5 MB as Bytes, 80 px minimum per side (design.md).
BYTES_LIMIT = 5 * 1024 * 1024
MIN_SIDE = 80
MAX_SIDE = 2048  # ample for moderation; keeps the request small and fast


def open_image(data: bytes, max_pixels: int, fit: int, frame: int = 0) -> Image.Image:
    """The image (its ``frame``, the first by default) decoded as a viewer shows it (`shown`),
    in RGB(A) with its EXIF orientation applied, no larger than ``fit`` pixels a side;
    `ImageUnreadable` if damaged, unsupported, over ``max_pixels`` or without that frame."""
    register_heif()
    try:
        image: Image.Image = pillow.open_image(data)
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLarge(
                f"image is {width}x{height} pixels, over the {max_pixels:,} pixel limit"
            )
        if image.format == "JPEG":
            image.draft("RGB", (fit, fit))  # decode at a reduced scale: fast, small
        image.seek(frame)
        image.load()
        profile = image.info.get("icc_profile")
        image = ImageOps.exif_transpose(image) or image
    except ImageUnreadable:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ) as exc:
        raise ImageUnreadable(f"image could not be decoded ({type(exc).__name__})") from exc
    image.thumbnail((fit, fit))
    return shown(image, profile)


_ANIMATED = frozenset({"PNG", "GIF", "WEBP"})  # formats whose frames play one after another


def frames(data: bytes) -> int:
    """How many frames the image plays (1 for a still one, or one that cannot be read). A
    camera's MPO images (a preview, a depth map) and a HEIF file's other images are not frames
    a viewer plays: 1."""
    register_heif()
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in _ANIMATED:
                return 1
            return max(1, int(getattr(image, "n_frames", 1)))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return 1


_WIDE_SAMPLES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


def shown(image: Image.Image, profile: bytes | None = None) -> Image.Image:
    """The image in RGB(A) as a viewer shows it: 16-bit samples scaled to 8 (a plain
    conversion clips them all to white), and an embedded colour profile applied, as a colour
    managed viewer does (LittleCMS, through Pillow: a red team drew digits a value from white
    that the profile shows black). A profile that cannot be read is left unapplied."""
    if image.mode in _WIDE_SAMPLES:
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    wanted = "RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB"
    if profile and image.mode in _PROFILED:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(image, source, _srgb(), outputMode=wanted)
            image = converted if converted is not None else image
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a profile LittleCMS cannot use: the samples as they are
    return image if image.mode == wanted else image.convert(wanted)


_PROFILED = frozenset({"RGB", "RGBA", "L", "CMYK"})  # modes a profile is applied from
_srgb_profile: list[ImageCms.ImageCmsProfile] = []


def _srgb() -> ImageCms.ImageCmsProfile:
    if not _srgb_profile:
        _srgb_profile.append(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")))
    return _srgb_profile[0]


def size_of(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header, or None when Pillow cannot tell (or refuses to: a
    header declaring a bomb; decoding it is `open_image`'s to refuse, with a reason)."""
    register_heif()
    try:
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
