"""Polyglot engine: data after the real end of JPEG, PNG, GIF and PDF files, and what is not."""

from __future__ import annotations

import io
import random
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter

from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.polyglot import PolyglotEngine
from attachguard.formats.jpeg import jpeg_end
from attachguard.formats.jpeg import samsung_trailer as samsung_trailer_at
from attachguard.policy import Policy
from attachguard.report import FileType
from support import evasions

CLAM_EXE = Path("/usr/share/clamav-testfiles/clam.exe")
TYPES = {
    "jpeg": FileType("jpeg", "image/jpeg", "image"),
    "png": FileType("png", "image/png", "image"),
    "gif": FileType("gif", "image/gif", "image"),
    "pdf": FileType("pdf", "application/pdf", "document"),
    "mp4": FileType("mp4", "video/mp4", "video"),
    "qt": FileType("qt", "video/quicktime", "video"),
    "heif": FileType("heif", "image/heic", "image"),
    "wav": FileType("wav", "audio/x-wav", "audio"),
}


def scan(policy: Policy, label: str, data: bytes) -> Result:
    # The type is given, as the pipeline would: Magika may call a small image with a big
    # appendix "zip", which the file-type engine then reports as a mismatch instead.
    return PolyglotEngine().scan(Item(f"file.{label}", data, TYPES[label]), policy.context())


def hits(result: Result) -> list[tuple[str, str | None]]:
    assert all(f.code is FindingCode.POLYGLOT for f in result.findings)
    return [(f.message, f.location) for f in result.findings]


# --- builders -------------------------------------------------------------------------------


def image(fmt: str, size: tuple[int, int] = (120, 90), **options: object) -> bytes:
    img = Image.new("RGB", size, (200, 40, 40))
    for x in range(size[0]):
        img.putpixel((x, x % size[1]), (x % 256, 255, 0))
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    return jpeg[:2] + segment(marker, payload) + jpeg[2:]


def with_exif_thumbnail(jpeg: bytes, thumbnail: bytes) -> bytes:
    """EXIF APP1: TIFF header, an empty IFD0 linking to IFD1, which locates the thumbnail."""
    ifd1 = 14
    thumb_at = ifd1 + 2 + 3 * 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<HI", 0, ifd1)
    tiff += struct.pack("<H", 3) + struct.pack("<HHII", 0x0103, 3, 1, 6)
    tiff += struct.pack("<HHII", 0x0201, 4, 1, thumb_at)
    tiff += struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail)) + struct.pack("<I", 0)
    return with_segment(jpeg, 0xE1, b"Exif\x00\x00" + tiff + thumbnail)


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.txt", "hidden " * 40)
    return buf.getvalue()


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def iso_media() -> bytes:
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    ftyp = box(b"ftyp", b"isom\0\0\2\0isomavc1mp41")
    return ftyp + box(b"moov", box(b"mvhd", b"\0" * 100)) + box(b"mdat", b"\x11" * 6000)


def samsung_trailer(blocks: list[tuple[int, bytes, bytes]], gap: bytes = b"") -> bytes:
    """Samsung's SEF trailer as ExifTool reads it: blocks, a SEFH directory, length, SEFT;
    ``gap`` goes after the first block, where no directory entry points."""
    body, offsets = b"", []
    for kind, name, payload in blocks:
        offsets.append(len(body))
        body += struct.pack("<HHI", 0, kind, len(name)) + name + payload
        body += gap if len(offsets) == 1 else b""
    directory = b"SEFH" + struct.pack("<II", 101, len(blocks))
    for (kind, name, payload), offset in zip(blocks, offsets, strict=True):
        size = 8 + len(name) + len(payload)
        directory += struct.pack("<HHII", 0, kind, len(body) - offset, size)
    return body + directory + struct.pack("<I", len(directory)) + b"SEFT"


# --- JPEG -----------------------------------------------------------------------------------


def test_clean_jpeg(policy: Policy) -> None:
    assert scan(policy, "jpeg", image("JPEG")).findings == []
    assert scan(policy, "jpeg", image("JPEG", progressive=True)).findings == []


def test_exif_thumbnail_end_marker_is_not_the_end(policy: Policy) -> None:
    main, thumb = image("JPEG", (320, 240)), image("JPEG", (32, 24))
    data = with_exif_thumbnail(main, thumb)
    assert data.find(b"\xff\xd9") < len(data) - 2  # the thumbnail's own end marker comes first
    Image.open(io.BytesIO(data)).load()  # a valid JPEG
    assert jpeg_end(data) == len(data)
    assert scan(policy, "jpeg", data).findings == []


def test_zip_after_jpeg(policy: Policy) -> None:
    main = with_exif_thumbnail(image("JPEG"), image("JPEG", (16, 16)))
    result = scan(policy, "jpeg", main + zip_bytes())
    assert hits(result) == [
        ("ZIP archive hidden after the end of the JPEG image", f"offset {len(main)}")
    ]


@pytest.mark.skipif(not CLAM_EXE.exists(), reason="clamav-testfiles not installed")
def test_program_after_progressive_jpeg(policy: Policy) -> None:
    main = image("JPEG", progressive=True)
    result = scan(policy, "jpeg", main + CLAM_EXE.read_bytes())
    assert hits(result) == [
        ("Windows program hidden after the end of the JPEG image", f"offset {len(main)}")
    ]


def test_unexplained_bytes_after_jpeg(policy: Policy) -> None:
    result = scan(policy, "jpeg", image("JPEG") + b"secret message for someone")
    assert [m for m, _ in hits(result)] == [
        "26 bytes of data hidden after the end of the JPEG image"
    ]


def test_padding_after_the_end_is_not_hidden_data(policy: Policy) -> None:
    for padding in (b"\x00" * 700, b"\r\n", b"\xff" * 16, b" \n\t"):
        assert scan(policy, "jpeg", image("JPEG") + padding).findings == []
        assert scan(policy, "png", image("PNG") + padding).findings == []


def test_zip_inside_a_jpeg_comment(policy: Policy) -> None:
    # The ZIP's directory sits in a COM segment; unzip finds it by scanning from the end.
    result = scan(policy, "jpeg", with_segment(image("JPEG"), 0xFE, zip_bytes()))
    assert hits(result) == [
        ("ZIP archive hidden in the comment segment of the JPEG image", "offset 6")
    ]


def test_pdf_header_inside_a_jpeg(policy: Policy) -> None:
    result = scan(policy, "jpeg", with_segment(image("JPEG"), 0xFE, b"%PDF-1.4 trailer..."))
    assert [m for m, _ in hits(result)] == ["PDF document hidden inside the JPEG image"]


def test_truncated_jpeg_is_left_to_the_image_engine(policy: Policy) -> None:
    data = image("JPEG")
    assert scan(policy, "jpeg", data[: len(data) // 2]).findings == []


# --- what phone cameras append --------------------------------------------------------------


def test_declared_gain_map_image_is_a_child_not_a_polyglot(policy: Policy) -> None:
    # Ultra HDR / multi-picture: the main image's APP2 "MPF" segment indexes a second JPEG.
    # The EXIF segment in front holds a thumbnail with its own scan marker (FF DA).
    main = with_segment(image("JPEG"), 0xE2, b"MPF\x00" + b"\x00" * 8)
    main = with_exif_thumbnail(main, image("JPEG", (16, 16)))
    extra = image("JPEG", (60, 45))
    result = scan(policy, "jpeg", main + extra)
    assert result.findings == []
    assert [(c.where, c.data) for c in result.children] == [
        (f"extra image at offset {len(main)}", extra)
    ]


def test_undeclared_second_image_is_hidden_data(policy: Policy) -> None:
    main = image("JPEG")
    assert [m for m, _ in hits(scan(policy, "jpeg", main + image("JPEG")))] == [
        "JPEG image hidden after the end of the JPEG image"
    ]


def test_motion_photo_video_is_a_child(policy: Policy) -> None:
    xmp = b'http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta GCamera:MotionPhoto="1"/>'
    main, video = with_segment(image("JPEG"), 0xE1, xmp), iso_media()
    result = scan(policy, "jpeg", main + video)
    assert result.findings == []
    assert [c.data for c in result.children] == [video]


def test_zip_after_a_declared_video_is_still_found(policy: Policy) -> None:
    xmp = b'http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta GCamera:MotionPhoto="1"/>'
    main, video = with_segment(image("JPEG"), 0xE1, xmp), iso_media()
    result = scan(policy, "jpeg", main + video + zip_bytes())
    assert hits(result) == [
        ("ZIP archive hidden after the end of the JPEG image", f"offset {len(main + video)}")
    ]


def test_samsung_trailer_is_accepted_and_its_video_scanned(policy: Policy) -> None:
    video = iso_media()
    trailer = samsung_trailer(
        [(0x0A01, b"Image_UTC_Data", b"1700000000000"), (0x0A30, b"MotionPhoto_Data", video)]
    )
    result = scan(policy, "jpeg", image("JPEG") + trailer)
    assert result.findings == []
    assert [c.data for c in result.children] == [video]


def test_data_between_samsung_blocks_is_hidden_data(policy: Policy) -> None:
    blocks = [(0x0A01, b"Image_UTC_Data", b"1700000000000"), (0x0A30, b"MotionPhoto_Data", b"x")]
    main = image("JPEG")
    assert scan(policy, "jpeg", main + samsung_trailer(blocks, b"\0\0")).findings == []
    result = scan(policy, "jpeg", main + samsung_trailer(blocks, zip_bytes()))
    assert [m for m, _ in hits(result)] == ["ZIP archive hidden after the end of the JPEG image"]


def test_what_a_samsung_block_name_or_directory_holds_is_searched(policy: Policy) -> None:
    # a block's name and the directory's spare room are no camera data: a red team put a ZIP
    # in a name, which unzip opens (its end record's comment covers the directory and footer)
    main, hidden = image("JPEG"), zip_bytes()
    named = samsung_trailer([(0x0A01, b"Image_UTC_Data", b"1700000000000"), (0x010A, hidden, b"")])
    assert [m for m, _ in hits(scan(policy, "jpeg", main + named))] == [
        "ZIP archive hidden after the end of the JPEG image"
    ]
    plain = samsung_trailer([(0x0A01, b"Image_UTC_Data", b"1700000000000")])
    length = int.from_bytes(plain[-8:-4], "little") + len(hidden)
    spare = plain[:-8] + hidden + struct.pack("<I", length) + b"SEFT"
    assert samsung_trailer_at(main + spare) is not None  # still a trailer ExifTool reads
    assert [m for m, _ in hits(scan(policy, "jpeg", main + spare))] == [
        "ZIP archive hidden after the end of the JPEG image"
    ]
    assert scan(policy, "jpeg", main + plain).findings == []


def test_samsung_trailer_pointing_into_the_image_is_forged(policy: Policy) -> None:
    # One directory entry claims a block that starts inside the main image, so that the data
    # between the image and the directory would count as part of the trailer.
    main, hidden = image("JPEG"), zip_bytes()
    directory = b"SEFH" + struct.pack("<II", 101, 1)
    back = len(hidden) + 100
    directory += struct.pack("<HHII", 0, 0x0A01, back, back)
    data = main + hidden + directory + struct.pack("<I", len(directory)) + b"SEFT"
    assert [m for m, _ in hits(scan(policy, "jpeg", data))] == [
        "ZIP archive hidden after the end of the JPEG image"
    ]


def test_broken_samsung_trailer_is_hidden_data(policy: Policy) -> None:
    trailer = samsung_trailer([(0x0A01, b"Image_UTC_Data", b"1700000000000")])
    broken = trailer[:-12] + b"XXXX" + trailer[-8:]  # the directory no longer says SEFH
    assert scan(policy, "jpeg", image("JPEG") + trailer).findings == []
    assert len(scan(policy, "jpeg", image("JPEG") + broken).findings) == 1


# --- PNG, GIF -------------------------------------------------------------------------------


def test_png(policy: Policy) -> None:
    png = image("PNG")
    assert scan(policy, "png", png).findings == []
    result = scan(policy, "png", png + b"<script>alert(document.cookie)</script>")
    assert hits(result) == [
        ("HTML or script markup hidden after the end of the PNG image", f"offset {len(png)}")
    ]


def test_gif(policy: Policy) -> None:
    frames = [Image.new("P", (40, 40), i) for i in range(4)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], comment=b"hello", loop=0)
    gif = buf.getvalue()
    assert scan(policy, "gif", gif).findings == []
    result = scan(policy, "gif", gif + b"#!/bin/sh\nid\n")
    assert hits(result) == [("script hidden after the end of the GIF image", f"offset {len(gif)}")]


# --- PDF ------------------------------------------------------------------------------------


def test_clean_pdf_and_trailing_newlines(policy: Policy) -> None:
    pdf = pdf_bytes()
    assert scan(policy, "pdf", pdf).findings == []
    assert scan(policy, "pdf", pdf + b"\r\n\r\n\x00\x00").findings == []


def test_pdf_with_incremental_update_ends_at_the_last_eof(policy: Policy) -> None:
    update = b"3 0 obj\n<< /Type /Annot >>\nendobj\nstartxref\n9\n%%EOF\n"
    assert scan(policy, "pdf", pdf_bytes() + update).findings == []


def test_zip_after_pdf(policy: Policy) -> None:
    pdf = pdf_bytes()
    result = scan(policy, "pdf", pdf + zip_bytes())
    assert hits(result) == [("ZIP archive hidden after the end of the PDF", f"offset {len(pdf)}")]


def test_zip_inside_pdf_before_its_eof(policy: Policy) -> None:
    pdf = pdf_bytes()
    cut = pdf.rfind(b"startxref")
    data = pdf[:cut] + zip_bytes() + b"\n" + pdf[cut:]
    assert hits(scan(policy, "pdf", data)) == [
        ("ZIP archive hidden inside the PDF", f"offset {cut}")
    ]


def test_data_before_pdf_header(policy: Policy) -> None:
    data = b"MZ\x90\x00" + b"\x00" * 60 + pdf_bytes()
    assert hits(scan(policy, "pdf", data)) == [
        ("Windows program hidden before the start of the PDF", "offset 0")
    ]


_GHOSTSCRIPT = (
    b"GPL Ghostscript 10.02.0 (2023-09-13)\nCopyright (C) 2023 Artifex Software, Inc.  All "
    b"rights reserved.\nProcessing pages 1 through 8.\nPage 1\n"
)
_TICKET = b"%%DEBUT_INSTRUCTION_IMSP: DEBUT\r\n%%SK_GROUPE: TEST\r\n%%SK_NB_PAGES: 2\r\n"


def _apple_single(pdf: bytes) -> bytes:
    name = b"syllabus.pdf"
    header = b"\x00\x05\x16\x00\x00\x02\x00\x00" + bytes(16) + struct.pack(">H", 3)
    at = len(header) + 36
    # the real name, an empty resource fork (as a Mac writes it), then the data fork
    entries = struct.pack(">III", 3, at, len(name)) + struct.pack(">III", 2, at + len(name), 0)
    entries += struct.pack(">III", 1, at + len(name), len(pdf))
    return header + entries + name


@pytest.mark.parametrize(
    ("prefix", "hidden"),
    [(_GHOSTSCRIPT, False), (_TICKET, False), (None, False),
     (b"@echo off\r\nstart calc.exe\r\n", True), (b"<html><script>x()</script>", True),
     (b"x" * 1100, True), (b"note\x01\x02 binary", True), (b"=cmd|'/Ccalc'!A0\r\n", True)],
    ids=["ghostscript-banner", "print-ticket", "apple-single", "batch", "markup", "long",
         "binary", "formula"],
)  # fmt: skip
def test_a_prologue_viewers_skip(policy: Policy, prefix: bytes | None, hidden: bool) -> None:
    """Text a tool printed before the header, or an AppleSingle header whose data fork is the
    PDF, is no file (hunt 101); a script, markup, binary or more than a kilobyte is."""
    pdf = pdf_bytes()
    data = _apple_single(pdf) + pdf if prefix is None else prefix + pdf
    assert bool(hits(scan(policy, "pdf", data))) is hidden


def test_an_apple_single_fork_other_than_metadata_is_hidden_data(policy: Policy) -> None:
    """Only entries that describe the file may stand before the data fork (review 105: a
    "resource fork" held a program)."""
    pdf, program = pdf_bytes(), evasions.PROGRAM
    header = b"\x00\x05\x16\x00\x00\x02\x00\x00" + bytes(16) + struct.pack(">H", 2)
    at = len(header) + 24
    entries = struct.pack(">III", 2, at, len(program))  # a resource fork, then the data fork
    entries += struct.pack(">III", 1, at + len(program), len(pdf))
    assert hits(scan(policy, "pdf", header + entries + program + pdf)) != []


def test_other_types_are_ignored(policy: Policy) -> None:
    item = Item("a.txt", b"hello" + zip_bytes(), FileType("txt", "text/plain", "text", True))
    assert PolyglotEngine().scan(item, policy.context()).findings == []


def test_random_appendix_survives_fuzzing(policy: Policy) -> None:
    # Robustness: arbitrary appended bytes never crash the walkers; more than a handful are
    # always reported.
    rnd = random.Random(11)
    base = image("JPEG")
    for _ in range(30):
        tail = bytes([rnd.randrange(1, 255)]) + rnd.randbytes(rnd.randrange(16, 300))
        assert len(scan(policy, "jpeg", base + tail).findings) >= 1


@pytest.mark.parametrize("label", ["mp4", "qt", "heif"])
def test_iso_media_is_walked_box_by_box(policy: Policy, label: str) -> None:
    media = iso_media()
    assert hits(scan(policy, label, media)) == []
    found = hits(scan(policy, label, media + zip_bytes()))
    assert found[0][0].startswith("ZIP archive hidden after the end")
    assert found[0][1] == f"offset {len(media)}"
    program = b"MZ\x90\x00" + b"\x00" * 200  # not a box: its "size" overruns the file
    ftyp = media[: int.from_bytes(media[:4], "big")]
    assert hits(scan(policy, label, ftyp + program)) != []
    assert hits(scan(policy, label, ftyp + b"\0" * 8 + program)) != []  # size 0, no box type


def _wav() -> bytes:
    pcm = bytes(range(256)) * 40
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(pcm))
        + b"WAVEfmt "
        + fmt
        + b"data"
        + (struct.pack("<I", len(pcm)) + pcm)
    )


def _id3v2(body: bytes) -> bytes:
    size = bytes((len(body) >> shift) & 0x7F for shift in (21, 14, 7, 0))  # synchsafe
    return b"ID3\x03\x00\x00" + size + body


_ID3V1 = b"TAG" + b"Voice note".ljust(30, b"\0") + bytes(94) + b"\x0c"
_FRAME = b"TIT2" + struct.pack(">I", 11) + b"\0\0" + b"\0Voice note"


@pytest.mark.parametrize(
    ("tail", "hidden"),
    [(_ID3V1, False), (_id3v2(_FRAME), False), (_id3v2(_FRAME) + _ID3V1, False),
     (b"TAG+" + bytes(223) + _ID3V1, False),
     (_ID3V1 + b"MZ" + bytes(200), True), (_ID3V1[:100], True),
     (_id3v2(_FRAME)[:-4], True), (_id3v2(_FRAME) + b"<hta:application>", True)],
    ids=["id3v1", "id3v2", "both", "enhanced", "more-after", "short-tag", "cut-tag",
         "script-after"],
)  # fmt: skip
def test_audio_tags_after_a_wav_are_tags(policy: Policy, tail: bytes, hidden: bool) -> None:
    """Audio taggers append ID3 tags to a WAV as to an MP3 (hunt 100's recording); anything
    else after the RIFF data, or a tag whose size does not cover what follows, stays hidden."""
    wav = _wav()
    found = hits(scan(policy, "wav", wav + tail))
    assert bool(found) is hidden
    if hidden:
        assert found[0][1] == f"offset {len(wav)}"


@pytest.mark.parametrize(
    "payload",
    [evasions.PROGRAM, b"%PDF-1.4\n1 0 obj<<>>endobj", b"<hta:application><script>x"],
    ids=["program", "pdf", "hta"],
)
def test_what_an_audio_tag_holds_is_searched(policy: Policy, payload: bytes) -> None:
    """A tag's frames are searched as a buffer's slack is (red team 108: a program, a PDF and
    an HTA in TXXX, PRIV and COMM frames were approved)."""
    frame = b"PRIV" + struct.pack(">I", len(payload) + 2) + b"\0\0" + payload
    assert hits(scan(policy, "wav", _wav() + _id3v2(frame))) != []


def test_an_id3_footer_must_be_one(policy: Policy) -> None:
    tag = b"ID3\x04\x00\x10" + bytes([0, 0, 2, 0])  # a footer, 256 bytes of frames
    frames = b"TIT2" + bytes([0, 0, 1, 118]) + bytes(2) + b"\x03" + b"a" * 245  # 246
    footer = b"3DI\x04\x00\x10" + bytes([0, 0, 2, 0])
    assert hits(scan(policy, "wav", _wav() + tag + frames + footer)) == []
    assert hits(scan(policy, "wav", _wav() + tag + frames + b"<script>x()")) != []


@pytest.mark.parametrize(("version", "flags"), [(3, 0x0080), (3, 0x0040), (4, 0x0008)])
def test_a_coded_id3_frame_is_no_plain_tag(policy: Policy, version: int, flags: int) -> None:
    """A compressed or encrypted frame hides its content from a search (review 105)."""
    body = b"\x00\x00\x00\x10" + bytes(20)

    def tag(frame_flags: int) -> bytes:
        frame = b"GEOB" + len(body).to_bytes(4, "big") + frame_flags.to_bytes(2, "big") + body
        frames = frame + bytes(200)  # padding
        size = bytes((len(frames) >> s) & 0x7F for s in (21, 14, 7, 0))
        return b"ID3" + bytes([version, 0, 0]) + size + frames

    assert hits(scan(policy, "wav", _wav() + tag(flags))) != []
    assert hits(scan(policy, "wav", _wav() + tag(0))) == []


def test_a_zip_in_an_audio_tag_is_found(policy: Policy) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("invoice.exe", b"MZ" + bytes(100))
    frame = b"GEOB" + struct.pack(">I", len(archive.getvalue())) + b"\0\0" + archive.getvalue()
    assert any("ZIP" in message for message, _ in hits(scan(policy, "wav", _wav() + _id3v2(frame))))


def test_wav_ends_where_its_riff_header_says(policy: Policy) -> None:
    pcm = bytes(range(256)) * 40
    wav = (
        b"RIFF"
        + struct.pack("<I", 36 + len(pcm))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
        + b"data"
        + struct.pack("<I", len(pcm))
        + pcm
    )
    assert hits(scan(policy, "wav", wav)) == []
    found = hits(scan(policy, "wav", wav + b"MZ" + b"\x90" * 300))
    assert found == [
        ("Windows program hidden after the end of the WAV audio", f"offset {len(wav)}")
    ]


# -- red team 94: a picture whose first bytes are also a tar header -----------------------------


def tar_over(picture: bytes) -> bytes:
    """``picture`` with a comment segment at its start whose bytes make the first 512 a valid
    tar header (name: the picture's own first bytes; a member named "invoice.pdf.bat"
    behind it), as `tar` and 7-Zip accept one: checksum and ustar magic."""
    body = bytearray(600)
    data = bytearray(picture[:2] + b"\xff\xfe" + struct.pack(">H", len(body) + 2) + body)
    data += picture[2:]
    data[124:136] = b"%011o\x00" % 10  # member size
    data[156:157] = b"0"
    data[257:265] = b"ustar\x0000"
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\x00 " % sum(data[:512])
    return bytes(data)


def test_a_picture_that_is_also_a_tar_archive_is_a_polyglot(policy: Policy) -> None:
    data = tar_over(image("JPEG"))
    assert Image.open(io.BytesIO(data)).size == (120, 90)  # still the picture
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:  # and a tar archive
        assert [member.size for member in archive.getmembers()] == [10]
    found = hits(scan(policy, "jpeg", data))
    assert ("tar archive laid over the start of the JPEG image", "offset 0") in found
    assert hits(scan(policy, "jpeg", image("JPEG"))) == []
