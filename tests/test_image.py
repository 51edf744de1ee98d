"""Image engine: safe decoding under the pixel limit; damaged images are CORRUPT."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.image import ImageEngine
from attachguard.policy import Limits, Policy
from attachguard.report import FileType

LABELS = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "HEIF": "heif"}


def filetype(label: str) -> FileType:
    return FileType(label, f"image/{label}", "image")


def scan(policy: Policy, label: str, data: bytes) -> Result:
    return ImageEngine().scan(Item(f"photo.{label}", data, filetype(label)), policy.context())


def encode(fmt: str, size: tuple[int, int] = (96, 64)) -> bytes:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()  # pillow-heif 1.x writes HEIC with x265
    img = Image.new("RGB", size, (20, 120, 220))
    for x in range(size[0]):
        img.putpixel((x, x % size[1]), (255, x % 256, 0))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height``: a few dozen bytes, no pixels behind it."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "HEIF"])
def test_clean_images_decode_with_facts(policy: Policy, fmt: str) -> None:
    result = scan(policy, LABELS[fmt], encode(fmt))
    assert result.findings == []
    assert result.facts == {"width": 96, "height": 64, "format": fmt}


def test_a_png_with_a_large_colour_profile_is_read(policy: Policy) -> None:
    """Hunt 117: a printer's 1.6 MB colour profile inflated past Pillow's 1 MB chunk limit and
    the honest picture was CORRUPT; it is opened without the profile (`attachguard.pillow`),
    and a PNG of many such profiles is still refused, at once."""
    buffer = io.BytesIO()
    profile = bytes(range(256)) * (1_700_000 // 256)  # what the chunk holds, not a real profile
    Image.new("RGB", (96, 64), (20, 120, 220)).save(buffer, "PNG", icc_profile=profile)
    result = scan(policy, "png", buffer.getvalue())
    assert result.findings == []
    assert result.facts == {"width": 96, "height": 64, "format": "PNG"}
    data = buffer.getvalue()
    profile_at = data.index(b"iCCP") - 4
    profile_end = profile_at + 12 + int.from_bytes(data[profile_at : profile_at + 4], "big")
    twice = data[:profile_end] + data[profile_at:]  # the standard allows one
    assert [f.code for f in scan(policy, "png", twice).findings] == [FindingCode.CORRUPT]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIF"])
def test_truncated_image_is_corrupt(policy: Policy, fmt: str) -> None:
    data = encode(fmt, (200, 150))
    result = scan(policy, LABELS[fmt], data[: len(data) * 6 // 10])
    assert [(f.code, f.message) for f in result.findings] == [
        (FindingCode.CORRUPT, f"damaged {LABELS[fmt].upper()} image that could not be decoded")
    ]


def test_jpeg_missing_only_its_end_marker_is_corrupt(policy: Policy) -> None:
    # Pillow's default (LOAD_TRUNCATED_IMAGES off) refuses even this: fail closed.
    assert [f.code for f in scan(policy, "jpeg", encode("JPEG")[:-2]).findings] == [
        FindingCode.CORRUPT
    ]


def test_garbage_is_corrupt(policy: Policy) -> None:
    result = scan(policy, "png", b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    assert [f.code for f in result.findings] == [FindingCode.CORRUPT]


def test_header_claiming_ten_billion_pixels_is_a_bomb(policy: Policy) -> None:
    data = png_header(100_000, 100_000)  # 30 GB if decoded; Pillow itself refuses to open it
    assert len(data) < 100
    result = scan(policy, "png", data)
    assert [f.code for f in result.findings] == [FindingCode.IMAGE_BOMB]


def test_image_over_the_policy_limit_is_a_bomb_before_decoding(policy: Policy) -> None:
    # 56 million pixels: under Pillow's own limit, over the policy's 50 million. The pixel data
    # behind the header is bogus, so only a size check from the header can give this answer.
    result = scan(policy, "png", png_header(8000, 7000))
    assert [(f.code, f.message) for f in result.findings] == [
        (FindingCode.IMAGE_BOMB, "image is 8,000 x 7,000 pixels, over the limit of 50,000,000")
    ]
    assert result.facts["width"] == 8000


def test_limit_comes_from_the_policy(policy: Policy) -> None:
    strict = policy.model_copy(update={"limits": Limits(max_image_pixels=1000)})
    assert [f.code for f in scan(strict, "jpeg", encode("JPEG")).findings] == [
        FindingCode.IMAGE_BOMB
    ]
    assert Image.MAX_IMAGE_PIXELS != 1000  # the process-wide Pillow limit is left alone


def test_truncated_images_setting_is_left_off_and_enforced(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan(policy, "jpeg", encode("JPEG"))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        scan(policy, "jpeg", encode("JPEG"))


def test_version() -> None:
    assert ImageEngine().version().startswith("Pillow ")


def test_engine_registers_heif_support_itself(tmp_path: Path) -> None:
    # In a fresh interpreter nothing has registered pillow-heif: the engine must do it. The
    # context is built from the default limits, not the packaged policy, whose loading imports
    # every engine (0.45 s of CPU, and any of them could register pillow-heif first).
    path = tmp_path / "photo.heic"
    path.write_bytes(encode("HEIF"))
    code = (
        "import sys; from pathlib import Path\n"
        "from attachguard.engines.base import Context, Item\n"
        "from attachguard.engines.image import ImageEngine\n"
        "from attachguard.policy import Limits\n"
        "from attachguard.report import FileType\n"
        "heif = FileType('heif', 'image/heic', 'image')\n"
        "item = Item('p.heic', Path(sys.argv[1]).read_bytes(), heif)\n"
        "result = ImageEngine().scan(item, Context(Limits()))\n"
        "print(result.findings, result.facts)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] {'width': 96, 'height': 64, 'format': 'HEIF'}"
