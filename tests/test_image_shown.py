"""Pictures decoded as viewers show them, for the OCR and moderation (red team 95): 16-bit
samples scaled rather than clipped, an embedded colour profile applied, transparency laid on
black as well as white, an animation's second frame read too."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from attachguard.moderation import ImageTooLarge, imaging
from attachguard.sensitive.ocr import OcrPicture
from attachguard.sensitive.ocr_local import views

LIMIT = 50_000_000


def s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def threshold_profile(threshold: int) -> bytes:
    """An RGB display profile (ICC v2) whose tone curves show every sample below
    ``threshold`` black and the rest white."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curve = b"curv\0\0\0\0" + struct.pack(">I", 256)
    curve += b"".join(struct.pack(">H", 0 if i < threshold else 65535) for i in range(256))
    desc = b"desc\0\0\0\0" + struct.pack(">I", 5) + b"test\0" + bytes(79)
    tags = [
        (b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)), (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ]  # fmt: skip
    offset, table, body = 128 + 4 + 12 * len(tags), struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        body += bytes(-(offset + len(body)) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = struct.pack(">I", 128 + len(table) + len(body)) + b"lcms" + bytes([2, 0x10, 0, 0])
    header += b"mntrRGB XYZ " + bytes(12) + b"acspAPPL" + bytes(24)
    header += s15(0.9642) + s15(1.0) + s15(0.8249) + b"lcms" + bytes(44)
    return header + table + body


def saved(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_sixteen_bit_samples_are_scaled_not_clipped() -> None:
    grey = Image.new("I;16", (100, 20), 32768)
    shown = imaging.open_image(saved(grey), LIMIT, 2048)
    assert shown.mode == "RGB" and shown.getextrema()[0] == (128, 128)


def test_an_embedded_colour_profile_is_applied() -> None:
    pale = Image.new("RGB", (100, 20), (254, 254, 254))
    data = saved(pale, icc_profile=threshold_profile(255))
    assert imaging.open_image(data, LIMIT, 2048).getextrema()[0] == (0, 0)
    assert imaging.open_image(saved(pale), LIMIT, 2048).getextrema()[0] == (254, 254)


def test_a_profile_that_cannot_be_read_is_left_unapplied() -> None:
    pale = Image.new("RGB", (100, 20), (254, 254, 254))
    data = saved(pale, icc_profile=b"\0" * 200)
    assert imaging.open_image(data, LIMIT, 2048).getextrema()[0] == (254, 254)


def picture(data: bytes) -> OcrPicture:
    return OcrPicture(data, "png", LIMIT)


def test_transparency_is_also_laid_on_black() -> None:
    sticker = Image.new("RGBA", (200, 40), (255, 255, 255, 0))
    sticker.paste((255, 255, 255, 255), (10, 10, 190, 30))  # white on transparent
    shown = views(picture(saved(sticker)), 2048)
    assert [view.getpixel((2, 2)) for view in shown] == [(255, 255, 255), (0, 0, 0)]
    opaque = views(picture(saved(Image.new("RGB", (200, 40), "white"))), 2048)
    assert len(opaque) == 1
    dark = Image.new("RGBA", (200, 40), (255, 255, 255, 0))
    dark.paste((20, 20, 20, 255), (10, 10, 190, 30))  # dark on transparent: white is enough
    assert len(views(picture(saved(dark)), 2048)) == 1


def test_an_animations_second_frame_is_read_too() -> None:
    first = Image.new("RGB", (200, 40), "white")
    second = Image.new("RGB", (200, 40), "black")
    data = saved(first, save_all=True, append_images=[second], duration=100)
    shown = views(picture(data), 2048)
    assert [view.getpixel((2, 2)) for view in shown] == [(255, 255, 255), (0, 0, 0)]


def test_a_second_frame_that_cannot_be_decoded_costs_only_its_own_reading() -> None:
    # an animated PNG whose second frame's data is damaged: the first is still read
    out = io.BytesIO()
    first = Image.new("RGB", (200, 40), "white")
    first.save(out, "PNG", save_all=True, append_images=[Image.new("RGB", (200, 40), "black")])
    data = bytearray(out.getvalue())
    at = data.index(b"fdAT") + 8  # after the type and the sequence number: the zlib stream
    data[at : at + 6] = b"\xff" * 6
    damaged = bytes(data)
    assert imaging.frames(damaged) == 2
    shown = views(OcrPicture(damaged, "png", LIMIT), 2048)
    assert [view.getpixel((2, 2)) for view in shown] == [(255, 255, 255)]


def test_a_cameras_second_image_is_no_frame_to_read() -> None:
    # MPO's second image is a preview or a depth map of the same shot: not read again
    out = io.BytesIO()
    first = Image.new("RGB", (200, 40), "white")
    first.save(out, "MPO", save_all=True, append_images=[Image.new("RGB", (200, 40), "black")])
    assert imaging.frames(out.getvalue()) == 1


def test_reading_a_picture_leaves_the_process_warning_filters_alone() -> None:
    """The warning filters are process-wide: changing them around a call (to make Pillow's
    pixel warning an error) raced with other threads opening pictures (hunt 98: the image
    engine failed on a deck's 115-megapixel picture one run in five while the OCR read it)."""
    import warnings

    before = list(warnings.filters)
    data = saved(Image.new("RGB", (40, 30), "white"))
    imaging.open_image(data, 10_000, 64)
    imaging.size_of(data)
    assert warnings.filters == before
    over = saved(Image.new("1", (200, 200)))
    with pytest.raises(ImageTooLarge, match="over the 100 pixel limit"):
        imaging.open_image(over, 100, 64)
    assert warnings.filters == before
