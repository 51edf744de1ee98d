"""PolyglotEngine on ZIPs hidden in a PNG's pixels, an MP4's media data, a WAV's audio and a
PDF's stream, written with records no zip tool writes but zipfile, 7-Zip and Info-ZIP open
(red team 104): end records whose counts disagree or are 0, or whose disks are not 0; zip64
end records likewise; local headers claiming version 25.5 or no name. The same files without
the ZIP stay clean."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from attachguard import samples
from attachguard.policy import Policy
from test_formats_zipscan_embedded import MEMBERS, classic, zip64
from test_polyglot import hits, scan

ZIPS = {
    "here-0": classic(MEMBERS, counts=(0, 1), version=0xFF),
    "count-0": classic(MEMBERS, counts=(0, 0), version=0xFF),
    "disks-1": classic(MEMBERS, disks=(1, 1), named=False),
    "here-2": classic(MEMBERS, counts=(2, 1), named=False),
    "zip64-here-0": zip64(MEMBERS, counts=(0, 1)),
    "zip64-count-0": zip64(MEMBERS, counts=(0, 0)),
}


def with_comment(archive: bytes, length: int) -> bytes:
    """The archive with its comment declared ``length`` bytes long: what follows it in the
    file becomes its comment, as the red team wrote it (no bytes after the archive)."""
    return archive[:-2] + struct.pack("<H", length)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(payload: bytes = b"") -> bytes:
    """A one-row PNG whose pixel data, stored uncompressed, ends with ``payload``; the IDAT's
    two checksums and IEND (20 bytes) become the archive's comment."""
    archive = with_comment(payload, 20) if payload else b""
    width = (len(archive) + 32) // 3 + 1
    row = b"\x00" + b"\x80" * (3 * width - len(archive)) + archive
    stored = b"\x78\x01\x01" + struct.pack("<HH", len(row), 0xFFFF ^ len(row)) + row
    stored += struct.pack(">I", zlib.adler32(row))
    ihdr = struct.pack(">IIBBBBB", width, 1, 8, 2, 0, 0, 0)
    chunks = _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", stored) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(payload: bytes = b"") -> bytes:
    """A camera's layout (ftyp, mdat, moov), the archive at the end of the media data and
    the movie header its comment."""
    video = samples.mp4(40_000, seed=3)
    moov = video[video.rindex(b"moov") - 4 :]
    mdat = video[video.index(b"mdat") + 4 : video.rindex(b"moov") - 4]
    media = mdat + (with_comment(payload, len(moov)) if payload else b"")
    return video[: video.index(b"mdat") - 4] + _box(b"mdat", media) + moov


def wav(payload: bytes = b"") -> bytes:
    """A recording whose last samples are the archive."""
    audio = bytearray(samples.wav(60_000, seed=7))
    if payload:
        audio[-len(payload) :] = payload
    return bytes(audio)


def pdf(payload: bytes = b"") -> bytes:
    """A PDF with the archive in a stream nothing declares, its end record in the last KiB."""
    stream = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(payload), payload)
    body = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj\n" + stream + b"\nendobj\n"
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


BUILDERS = {"png": png, "mp4": mp4, "wav": wav, "pdf": pdf}
WHAT = {"png": "PNG image", "mp4": "MP4 video", "wav": "WAV audio", "pdf": "PDF"}


@pytest.mark.parametrize("archive", ZIPS.values(), ids=ZIPS.keys())
@pytest.mark.parametrize("label", BUILDERS)
def test_a_zip_with_records_no_tool_writes_is_found(
    label: str, archive: bytes, policy: Policy
) -> None:
    data = BUILDERS[label](archive)
    [(message, location)] = hits(scan(policy, label, data))
    assert message.startswith("ZIP archive hidden ")
    assert message.endswith(f"the {WHAT[label]}")
    first = data.index(b"PK\x03\x04")
    assert location == f"offset {first}"


@pytest.mark.parametrize("label", BUILDERS)
def test_the_same_files_without_an_archive_are_clean(label: str, policy: Policy) -> None:
    assert hits(scan(policy, label, BUILDERS[label]())) == []


def test_python_reads_the_archives_the_tests_hide() -> None:
    """The readers' side: zipfile lists the member whatever the counts and disks say."""
    for archive in ZIPS.values():
        assert zipfile.ZipFile(io.BytesIO(png(archive))).namelist() == ["invoice.hta"]
