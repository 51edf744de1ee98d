"""Image engine: decodes each picture safely, under the policy's pixel limit.

Reports IMAGE_BOMB when width x height (read from the header, before any pixel is decoded) is
over ``limits.max_image_pixels``, or when Pillow itself refuses the size; CORRUPT when the image
cannot be opened or fully decoded (truncated or damaged data). HEIC/HEIF is read through
pillow-heif, registered once on first use (`attachguard.pillow`, which sets Pillow up). Facts
for the report: width, height, format.

Limits: only the first frame of an animated or multi-page image is decoded. Pillow's
``MAX_IMAGE_PIXELS`` is process-wide, so the policy limit is compared here rather than set
there. Pillow's ``LOAD_TRUNCATED_IMAGES`` would make damaged images decode silently; if
anything in the process has turned it on, scanning fails (and the pipeline rejects) rather than
pass images that were not fully read.
"""

from __future__ import annotations

from PIL import Image, ImageFile, UnidentifiedImageError

from attachguard.codes import CORRUPT, IMAGE_BOMB
from attachguard.engines.base import Context, EngineSpec, Item, Options, Result, finding
from attachguard.pillow import open_image, register_heif


class ImageEngine:
    """Decodes images under ``limits.max_image_pixels``; see the module docstring."""

    name = "image"

    def __init__(self) -> None:
        pass

    def version(self) -> str:
        import pillow_heif
        from PIL import __version__ as pillow

        return f"Pillow {pillow}, pillow-heif {pillow_heif.__version__}"

    def scan(self, item: Item, context: Context) -> Result:
        if ImageFile.LOAD_TRUNCATED_IMAGES:
            raise RuntimeError(
                "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on: damaged images would pass"
            )
        if item.type.label == "heif":
            register_heif()
        limit = context.limits.max_image_pixels
        kind = item.type.label.upper()
        try:
            with open_image(item.data) as img:  # reads the header only
                width, height = img.size
                facts = {"width": width, "height": height, "format": img.format}
                if width * height > limit:
                    message = f"image is {width:,} x {height:,} pixels, over the limit of {limit:,}"
                    return Result([finding(self.name, IMAGE_BOMB, message)], facts=facts)
                img.load()
        except Image.DecompressionBombError:
            message = "image is too large to decode safely"
            return Result([finding(self.name, IMAGE_BOMB, message)])
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            message = f"damaged {kind} image that could not be decoded"
            return Result([finding(self.name, CORRUPT, message)])
        return Result(facts=facts)


ENGINE = EngineSpec(
    name="image",
    summary="decodes pictures safely under the pixel limit (Pillow, pillow-heif)",
    types=("jpeg", "png", "gif", "webp", "bmp", "tiff", "heif"),
    codes=(IMAGE_BOMB, CORRUPT),
    build=lambda options, resources: ImageEngine(),
    options=Options,
    order=20,
)
