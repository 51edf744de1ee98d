"""Card numbers in the text a picture or a recording carries besides its pixels and sound (red
team 94): EXIF and XMP descriptions, a JPEG comment, PNG text chunks, MP4 user data, WAV INFO.
Explorer's Details pane, Photos and media players show them; the OCR never sees them."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image, PngImagePlugin

from test_sensitive_formats import Blank, found, scan

VISA = "4111 1111 1111 1111"


def jpeg(**save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 210, 220)).save(out, "JPEG", **save)
    return out.getvalue()


def jpeg_with_comment(text: str) -> bytes:
    data = jpeg()
    body = text.encode()
    comment = b"\xff\xfe" + struct.pack(">H", len(body) + 2) + body
    return data[:2] + comment + data[2:]


def exif_comment(text: str) -> bytes:
    exif = Image.Exif()
    exif[0x9C9C] = (text + "\0").encode("utf-16-le")  # XPComment, as Explorer writes it
    exif[0x010E] = "Holiday"  # ImageDescription
    return jpeg(exif=exif.tobytes())


def png_text(text: str, compressed: bool) -> bytes:
    info = PngImagePlugin.PngInfo()
    if compressed:
        info.add_text("Comment", text, zip=True)
    else:
        info.add_text("Comment", text)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def wav_info(text: str) -> bytes:
    """A WAV file with a LIST/INFO chunk's comment (ICMT)."""
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    data = b"data" + struct.pack("<I", 800) + bytes(800)
    comment = text.encode() + b"\0"
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(comment)) + comment
    listing = b"LIST" + struct.pack("<I", len(info)) + info
    body = b"WAVE" + fmt + data + listing
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp4_comment(text: str) -> bytes:
    """An MP4's user data: a ©cmt box in udta in moov."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    cmt = box(b"\xa9cmt", struct.pack(">HH", len(text), 0) + text.encode())
    moov = box(b"moov", box(b"mvhd", bytes(100)) + box(b"udta", cmt))
    return ftyp + moov + box(b"mdat", bytes(64))


CASES = [
    ("jpeg", lambda t: jpeg_with_comment(t)),
    ("jpeg", lambda t: exif_comment(t)),
    ("png", lambda t: png_text(t, compressed=False)),
    ("png", lambda t: png_text(t, compressed=True)),
    ("wav", lambda t: wav_info(t)),
    ("mp4", lambda t: mp4_comment(t)),
]
IDS = ["jpeg-comment", "exif-xpcomment", "png-text", "png-ztxt", "wav-info", "mp4-udta"]


@pytest.mark.parametrize(("label", "build"), CASES, ids=IDS)
def test_a_card_number_in_a_pictures_or_recordings_metadata_is_found(
    label: str, build: object
) -> None:
    data = build(f"Card {VISA} exp 12/27")  # type: ignore[operator]
    result = scan(data, label, Blank())
    assert [(code, where) for code, _, where in found(result)] == [("SENSITIVE_CARD", "metadata")]


@pytest.mark.parametrize(("label", "build"), CASES, ids=IDS)
def test_ordinary_metadata_passes(label: str, build: object) -> None:
    text = "Shot on holiday, 2024-07-14 18:22:05, ISO 100, 1/250 s, ref 4111-2024"
    data = build(text)  # type: ignore[operator]
    assert found(scan(data, label, Blank())) == []


def test_a_compressed_png_chunk_is_read_inflated() -> None:
    data = png_text(f"Card {VISA}", compressed=True)
    assert VISA.encode() not in data  # only inflated is it there
    assert [code for code, _, _ in found(scan(data, "png", Blank()))] == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("label", ["txt", "csv"])
def test_a_utf32_mark_is_also_read_as_excel_reads_it(label: str) -> None:
    # FF FE 00 00: UTF-32 to Python, a UTF-16 mark and a NUL to Excel and Notepad (red team 90)
    data = b"\xff\xfe\x00\x00" + f"\r\nname,card\r\nAnn,{VISA}\r\n".encode("utf-16-le")
    codes = [code for code, _, _ in found(scan(data, label, Blank()))]
    assert codes == ["SENSITIVE_CARD"]
