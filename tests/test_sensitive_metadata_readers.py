"""Card numbers in media metadata that only a format's own reader brings out (red team 114):
ID3 tags past an extended header, unsynchronised or in version 2.2, in RF64 recordings too;
XMP packets in UTF-16 and UTF-32; EXIF comments in JIS. Each case has a look-alike of the same
structure without a card number, which passes."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image

from test_sensitive_formats import Blank, found, scan
from test_sensitive_metadata import VISA, id3_tag, jpeg, jpeg_with_xmp, riff_chunk, wave

FULLWIDTH_IDEOGRAPHIC = "".join(
    chr(0xFF10 + int(c)) if c.isdigit() else "\u3000" for c in VISA
)  # four groups of fullwidth digits, ideographic spaces between


def codes(data: bytes, label: str) -> list[str]:
    return [code for code, _, _ in found(scan(data, label, Blank()))]


def unsynchronised(content: bytes) -> bytes:
    return content.replace(b"\xff", b"\xff\x00")


def compressed_title(version: int, text: str) -> tuple[bytes, int, bytes]:
    """A TIT2 frame compressed with zlib (its inflated size first, 2.3's and 2.4's way)."""
    content = b"\x03" + text.encode()
    size = len(content).to_bytes(4, "big")
    return (b"TIT2", 0x0080 if version == 3 else 0x0009, size + zlib.compress(content))


# 2.3: a size that leaves out its own 4 bytes, flags, the padding's size; 2.4: a synchsafe size
# of the whole, one byte of flags, no flag set
EXTENDED = {3: struct.pack(">IHI", 6, 0, 16), 4: bytes((0, 0, 0, 6, 1, 0))}


def tags_wav(tag: bytes) -> bytes:
    return wave(riff_chunk(b"id3 ", tag))


def id3_cases(text: str) -> list[bytes]:
    """A tag of each structure mutagen and FFmpeg read and attachguard did not (red team 114)."""
    wide = b"\x01" + f"Card {text}".encode("utf-16")  # FF FE first: unsynchronised too
    extended = [
        id3_tag(v, compressed_title(v, f"Card {text}"), flags=0x40, extended=EXTENDED[v])
        for v in (3, 4)
    ]
    return [
        *(tags_wav(tag) for tag in extended),
        tags_wav(id3_tag(4, (b"TIT2", 0, unsynchronised(wide)), flags=0x80)),
        tags_wav(id3_tag(2, (b"TT2", 0, unsynchronised(wide)), flags=0x80)),
        rf64(riff_chunk(b"id3 ", id3_tag(4, compressed_title(4, f"Card {text}")))),
    ]


IDS = ["v23-extended", "v24-extended", "v24-unsynchronised", "v22-unsynchronised", "rf64"]


def rf64(*chunks: bytes) -> bytes:
    """An RF64 recording: sizes in its ds64 chunk, placeholders in the headers."""
    pcm = bytes(800)
    ds64 = riff_chunk(b"ds64", struct.pack("<QQQI", 0, len(pcm), len(pcm), 0))
    fmt = riff_chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8))
    body = b"WAVE" + ds64 + fmt + b"data" + struct.pack("<I", 0xFFFFFFFF) + pcm + b"".join(chunks)
    return b"RF64" + struct.pack("<I", 0xFFFFFFFF) + body


@pytest.mark.parametrize("index", range(5), ids=IDS)
def test_id3_tags_are_read_as_mutagen_reads_them(index: int) -> None:
    assert codes(id3_cases(FULLWIDTH_IDEOGRAPHIC)[index], "wav") == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("index", range(5), ids=IDS)
def test_ordinary_id3_tags_of_the_same_structure_pass(index: int) -> None:
    assert codes(id3_cases("take 4111-2024, 12:30")[index], "wav") == []


WIDE = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]


@pytest.mark.parametrize("mark", ["\ufeff", ""], ids=["marked", "unmarked"])
@pytest.mark.parametrize("encoding", WIDE)
def test_xmp_in_utf16_and_utf32_is_read_as_a_viewer_lists_it(encoding: str, mark: str) -> None:
    # ExifTool shows the packet's description whatever its encoding; a CDATA section split the
    # UTF-16 runs, and UTF-32 had none
    title = "Card 4111 1111 <![CDATA[1111]]> 1111"
    assert codes(jpeg_with_xmp(title, encoding, mark), "jpeg") == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("encoding", WIDE)
def test_ordinary_xmp_in_utf16_and_utf32_passes(encoding: str) -> None:
    # its document IDs, 4111111111 and 111111, side by side are no card number
    assert codes(jpeg_with_xmp("Holiday <![CDATA[2024]]>", encoding, "\ufeff"), "jpeg") == []


def jis_comment(text: str, endian: str) -> bytes:
    """A JPEG whose EXIF user comment is ``text`` (fullwidth) in JIS X 0208, two bytes a
    character in the EXIF's byte order (``endian``), as ExifTool reads it."""
    pairs = text.encode("iso2022_jp")[3:-3]  # without the escapes in and out of JIS X 0208
    if endian == "<":
        pairs = bytes(b for at in range(0, len(pairs), 2) for b in pairs[at : at + 2][::-1])
    exif = Image.Exif()
    exif.endian = endian
    exif.get_ifd(0x8769)[0x9286] = b"JIS\0\0\0\0\0" + pairs
    return jpeg(exif=exif.tobytes())


def fullwidth(text: str) -> str:
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize("endian", [">", "<"], ids=["big-endian", "little-endian"])
def test_an_exif_comment_in_jis_is_read_as_exiftool_reads_it(endian: str) -> None:
    # ExifTool shows the fullwidth letters and digits; read as Latin-1 they were "#4#1#1#1"
    assert codes(jis_comment(fullwidth(f"Card {VISA}"), endian), "jpeg") == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("endian", [">", "<"], ids=["big-endian", "little-endian"])
def test_an_ordinary_exif_comment_in_jis_passes(endian: str) -> None:
    text = "撮影　" + fullwidth("2024/07/14 18:22, Ref 4111 2024")
    assert codes(jis_comment(text, endian), "jpeg") == []
