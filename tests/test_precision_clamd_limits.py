"""Precision: clamd's MaxFileSize rejects only a part that is truly larger, and stays a limit.

clamd skips a PDF's non-JPEG pictures, except when its name parser misses "/Subtype /Image":
it takes names after /Filter as filter names, so in a dictionary whose keys are sorted (as
qpdf and pikepdf write them) the picture is decoded and its pixels scanned like any stream,
against ``MaxFileSize``. pikepdf's pdfa/multipage.pdf holds a 9000x9000 RGB picture of
243,000,000 bytes decoded (450 KB deflated): past the shipped limit, so it stays AV_LIMIT.
The limit is the default policy's ``max_expanded_bytes``, so a picture the policy's
``max_image_pixels`` admits (147 MB decoded here) is scanned to its last byte.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from attachguard.clamav.client import ClamdClient
from attachguard.clamav.daemon import PrivateClamd
from attachguard.clamav.signatures import EICAR, EICAR_SIGNATURE, build_test_database
from attachguard.engines.base import Item
from attachguard.engines.clamav import ClamAVEngine
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import UNKNOWN_TYPE, Status
from attachguard.scanner import build_scanner
from support.clamd import requires_clamd
from support.realworld_data import SOURCES, CorpusUnavailable, realworld_corpus

pytestmark = [pytest.mark.integration, requires_clamd]  # a real clamd

MULTIPAGE = "pikepdf/tests/resources/pdfa/multipage.pdf"
LIMIT = "Heuristics.Limits.Exceeded.MaxFileSize"
SORTED = b"/BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /FlateDecode /Height %d "
SORTED += b"/Subtype /Image /Type /XObject /Width %d /Length %d"  # keys as pikepdf writes them
NATURAL = b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
NATURAL += b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d"


def shipped_max_file_size() -> int:
    conf = resources.files("attachguard.clamav").joinpath("clamd.conf").read_text()
    match = re.search(r"(?m)^MaxFileSize (\d+)M$", conf)
    assert match is not None
    return int(match[1]) << 20


def pixels(width: int, height: int, eicar: bool) -> bytes:
    """A flat RGB picture, deflated in pieces (never held decoded), EICAR in its last row."""
    size, zip_ = width * height * 3, zlib.compressobj(9)
    tail = EICAR + bytes(200 - len(EICAR)) if eicar else bytes(200)
    out, left, chunk = [], size - len(tail), bytes(1 << 20)
    while left:
        out.append(zip_.compress(chunk[: min(left, len(chunk))]))
        left -= min(left, len(chunk))
    out += [zip_.compress(tail), zip_.flush()]
    return b"".join(out)


def picture_pdf(width: int, height: int, *, eicar: bool = False, keys: bytes = SORTED) -> bytes:
    """A one-page PDF drawing one deflated RGB picture, its dictionary keys in ``keys`` order."""
    data = pixels(width, height, eicar)
    first, second = (height, width) if keys is SORTED else (width, height)
    image = b"<< " + keys % (first, second, len(data)) + b" >>\nstream\n" + data + b"\nendstream"
    content = b"q 612 0 0 792 0 0 cm /Im1 Do Q"
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        image,
    ]
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def signature(engine: ClamAVEngine, data: bytes, policy: Policy) -> str | None:
    findings = engine.scan(Item("file.pdf", data, UNKNOWN_TYPE), policy.context()).findings
    assert len(findings) <= 1
    return findings[0].label if findings else None


class OldLimitClamd(PrivateClamd):
    """The shipped configuration with the MaxFileSize it had before (100M)."""

    def write_config(self) -> Path:
        path = super().write_config()
        text, count = re.subn(r"(?m)^MaxFileSize .*$", "MaxFileSize 100M", path.read_text())
        assert count == 1
        path.write_text(text)
        return path


@pytest.fixture(scope="module")
def engine(clamd_client: ClamdClient) -> ClamAVEngine:
    return ClamAVEngine(clamd_client)


@pytest.fixture(scope="module")
def multipage() -> bytes:
    source = next(s for s in SOURCES if s.name == "pikepdf")
    try:
        files = realworld_corpus((source,))
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    return next(f for f in files if f.id == MULTIPAGE).path.read_bytes()


@pytest.fixture(scope="module")
def scanner(policy: Policy, clamd_client: ClamdClient) -> Iterator[Scanner]:
    with build_scanner(policy, clamd_client) as scanner:
        yield scanner


def test_multipage_holds_a_picture_truly_larger_than_the_limit(multipage: bytes) -> None:
    at = multipage.index(b"\n38 0 obj\n")
    head = multipage[at : multipage.index(b"stream", at)]
    assert b"/Filter /FlateDecode /Height 9000 /Subtype /Image" in head  # /Filter first
    rest = multipage[multipage.index(b"stream", at) + len(b"stream\n") :]
    decoder, decoded = zlib.decompressobj(), 0
    while rest and not decoder.eof:  # 16 MiB at a time: never held decoded
        decoded += len(decoder.decompress(rest, 1 << 24))
        rest = decoder.unconsumed_tail
    assert decoded == 9000 * 9000 * 3 > shipped_max_file_size()


def test_multipage_stays_rejected_at_the_limit(multipage: bytes, scanner: Scanner) -> None:
    report = scanner.scan(multipage, "multipage.pdf")
    assert report.status is Status.REJECTED
    assert "AV_LIMIT" in report.rejecting_codes
    [limit] = [f for f in report.findings if f.code.name == "AV_LIMIT"]
    assert limit.label == LIMIT


def test_a_picture_past_the_limit_is_av_limit(engine: ClamAVEngine, policy: Policy) -> None:
    assert signature(engine, picture_pdf(9000, 9000), policy) == LIMIT


def test_a_picture_the_policy_admits_is_scanned_to_its_end(
    engine: ClamAVEngine, policy: Policy, tmp_path: Path
) -> None:
    # 7000x7000 = 49 M pixels (max_image_pixels: 50 M) = 147,000,000 bytes decoded
    clean, infected = picture_pdf(7000, 7000), picture_pdf(7000, 7000, eicar=True)
    assert signature(engine, clean, policy) is None
    assert signature(engine, infected, policy) == f"{EICAR_SIGNATURE}.UNOFFICIAL"
    with OldLimitClamd(tmp_path, database=build_test_database(tmp_path / "db")) as daemon:
        old = ClamAVEngine(ClamdClient(daemon.address, timeout=60.0))
        assert signature(old, clean, policy) == LIMIT  # what 100M rejected


def test_clamd_decodes_pictures_only_with_filter_before_subtype(
    engine: ClamAVEngine, policy: Policy
) -> None:
    # the reason one writer's picture meets the limit and another's does not
    sorted_keys = picture_pdf(2000, 2000, eicar=True)
    natural_keys = picture_pdf(2000, 2000, eicar=True, keys=NATURAL)
    assert signature(engine, sorted_keys, policy) == f"{EICAR_SIGNATURE}.UNOFFICIAL"
    assert signature(engine, natural_keys, policy) is None
