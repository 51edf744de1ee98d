"""Precision: PowerPoint's buffer slack after its thumbnail and its media pictures.

PowerPoint 2007 writes docProps/thumbnail.jpeg and ppt/media pictures from buffers of whole
KiB: Open-XML-SDK's SmartArt_OrgChart1_3D.pptx has a 32,768-byte thumbnail with 10,749 bytes
after the image, SoundTest.pptx a 3,072-byte ppt/media/image1.png with 577. At most 4 KiB,
or half the part up to 32 KiB, searched for payloads; anything else stays POLYGLOT.
"""

from __future__ import annotations

import io
import random
import struct

import pytest
from PIL import Image

from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.polyglot import PolyglotEngine
from attachguard.policy import load_policy
from attachguard.report import FileType

TYPES = {
    "jpeg": FileType("jpeg", "image/jpeg", "image"),
    "png": FileType("png", "image/png", "image"),
}
CONTEXT = load_policy().context()
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def picture(fmt: str, size: tuple[int, int], noise: bool = False) -> bytes:
    img = Image.new("RGB", size, (30, 90, 160))
    if noise:  # detail, so that a small picture makes a large JPEG
        rng = random.Random(5)
        img.putdata(
            [(rng.randrange(256), rng.randrange(256), 90) for _ in range(size[0] * size[1])]
        )
    out = io.BytesIO()
    img.save(out, fmt, quality=85) if fmt == "JPEG" else img.save(out, fmt)
    return out.getvalue()


def in_buffer(image: bytes, part_size: int, lead: bytes = b"") -> bytes:
    """``image`` in a buffer of ``part_size`` bytes: ``lead``, then leftover pointers, zeros."""
    slack = lead + struct.pack("<I", 0x0E4A33) * 40
    return image + (slack + b"\0" * part_size)[: part_size - len(image)]


def scan(data: bytes, name: str, label: str = "jpeg") -> Result:
    return PolyglotEngine().scan(Item(name, data, TYPES[label], 1), CONTEXT)


def messages(result: Result) -> list[str]:
    assert all(f.code is FindingCode.POLYGLOT for f in result.findings)
    return [f.message for f in result.findings]


@pytest.fixture(scope="module")
def big_thumbnail() -> bytes:
    image = picture("JPEG", (180, 130), noise=True)
    assert 16_384 < len(image) < 32_768 - 4096  # more than 4 KiB of slack in a 32 KiB buffer
    return image


def test_a_32_kib_thumbnail_buffer_is_structure(big_thumbnail: bytes) -> None:
    data = in_buffer(big_thumbnail, 32_768)
    assert scan(data, "docProps/thumbnail.jpeg").findings == []


def test_a_presentation_picture_buffer_is_structure() -> None:
    image = picture("PNG", (40, 30))
    data = in_buffer(image, (len(image) // 1024 + 1) * 1024)
    assert scan(data, "ppt/media/image1.png", "png").findings == []


def test_slack_over_half_a_large_buffer_is_hidden_data(big_thumbnail: bytes) -> None:
    data = in_buffer(big_thumbnail, 65_536)
    assert messages(scan(data, "docProps/thumbnail.jpeg")) == [
        f"{65_536 - len(big_thumbnail):,} bytes of data hidden after the end of the JPEG image"
    ]


def test_slack_in_a_part_not_a_whole_kib_is_hidden_data() -> None:
    image = picture("PNG", (40, 30))
    data = in_buffer(image, len(image) + 1000)
    assert len(messages(scan(data, "ppt/media/image1.png", "png"))) == 1


def test_slack_in_an_excel_picture_is_hidden_data() -> None:
    image = picture("PNG", (40, 30))
    data = in_buffer(image, (len(image) // 1024 + 1) * 1024)
    for name in ("xl/media/image1.png", "image1.png"):
        assert len(messages(scan(data, name, "png"))) == 1


def test_word_2007_leaves_buffer_slack_after_its_pictures_too() -> None:
    # Apache Tika's testWORD_embeded.docx (Microsoft Office Word): a 4,096-byte JPEG with
    # 2,252 bytes of leftover memory after its end
    image = picture("PNG", (40, 30))
    data = in_buffer(image, (len(image) // 1024 + 1) * 1024)
    assert messages(scan(data, "word/media/image1.png", "png")) == []
    size = (len(image) // 1024 + 1) * 1024
    hostile = in_buffer(image, size, lead=b"\0" * 64 + pe_header())
    assert any(
        "Windows program" in m for m in messages(scan(hostile, "word/media/image1.png", "png"))
    )


def pe_header() -> bytes:
    header = bytearray(b"MZ" + b"\x90" * 0x7E)
    header[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(header) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 18


@pytest.mark.parametrize(
    ("lead", "what"),
    [
        (b"\0" * 64 + pe_header(), "Windows program"),
        (b"\0" * 64 + b"\x7fELF\x02\x01\x01" + b"\0" * 57, "Linux program"),
        (b"\0" * 64 + b"<html><script>x()</script>", "HTML or script markup"),
    ],
    ids=["pe", "elf", "html"],
)
def test_a_payload_in_the_slack_is_a_polyglot(big_thumbnail: bytes, lead: bytes, what: str) -> None:
    data = in_buffer(big_thumbnail, 32_768, lead)
    assert messages(scan(data, "docProps/thumbnail.jpeg")) == [
        f"{what} hidden after the end of the JPEG image"
    ]


def test_eicar_at_the_start_of_media_slack_is_named() -> None:
    image = picture("PNG", (40, 30))
    data = in_buffer(image, (len(image) // 1024 + 2) * 1024, b"#!/bin/sh\n" + EICAR)
    assert messages(scan(data, "ppt/media/image1.png", "png")) == [
        "script hidden after the end of the PNG image"
    ]
