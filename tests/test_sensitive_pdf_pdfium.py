"""The sensitive engine's PDF text by PDFium, and the byte-limit check that decides whether
PDFium may have the file (`formats.pdfstreams`): bombs are left to pypdf, whose decoders are
held to the limit."""

from __future__ import annotations

import base64
import time
import zlib
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import pytest

from attachguard import samples
from attachguard.engines.base import Context, Item, Result
from attachguard.engines.sensitive import SensitiveEngine, SensitiveOptions
from attachguard.formats.pdfstreams import decoded_size
from attachguard.policy import Limits
from attachguard.report import FileType
from attachguard.sensitive.pdfium_text import page_texts

VISA = "4111111111111111"
LIMIT = 1_000_000
FAR = 10**12  # a limit no test file reaches
HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def build(content: bytes, *more: bytes, font: bytes = HELVETICA, filters: bytes = b"") -> bytes:
    """A one-page PDF whose page draws ``content`` (its stream's ``filters`` as given), with
    more objects numbered from 6."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        font,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(content), filters, content),
        *more,
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def text(line: str) -> bytes:
    return b"BT /F1 11 Tf 72 700 Td (%s) Tj ET" % line.encode()


def flate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def scan(data: bytes, limits: Limits | None = None, **options: object) -> Result:
    engine = SensitiveEngine(SensitiveOptions.model_validate(options), None)
    item = Item("file.pdf", data, FileType("pdf", "", "document", False))
    return engine.scan(item, Context(limits or Limits(), deadline=time.monotonic() + 30))


@pytest.fixture
def pdfium_opened(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the files given to PDFium."""
    opened: list[int] = []
    real = pypdfium2.PdfDocument

    def document(data: bytes, *args: Any, **kwargs: Any) -> Any:
        opened.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(pypdfium2, "PdfDocument", document)
    return opened


def test_pdfium_reads_the_card(pdfium_opened: list[int]) -> None:
    data = build(flate(text(f"card {VISA}")), filters=b" /Filter /FlateDecode")
    assert page_texts(data, 1, time.monotonic() + 30, LIMIT) == [f"card {VISA}"]
    result = scan(data)
    assert [f.code.name for f in result.findings] == ["SENSITIVE_CARD"]
    assert len(pdfium_opened) == 2


def test_a_subset_font_maps_its_codes_to_digits_through_to_unicode() -> None:
    # codes 1-10 draw the digits 0-9 of a subset font: only its ToUnicode map says so
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Sub def "
        b"1 begincodespacerange <00> <FF> endcodespacerange "
        b"1 beginbfrange <01> <0A> <0030> endbfrange endcmap CMapName currentdict /CMap "
        b"defineresource pop end end"
    )
    font = (
        b"<< /Type /Font /Subtype /TrueType /BaseFont /ABCDEF+Helvetica /FirstChar 1 "
        b"/LastChar 10 /Widths [%s] /Encoding << /Differences [1 /g1 /g2 /g3 /g4 /g5 /g6 /g7 "
        b"/g8 /g9 /g10] >> /ToUnicode 6 0 R >>" % b" ".join([b"556"] * 10)
    )
    codes = bytes(int(d) + 1 for d in VISA).hex().encode()
    content = b"BT /F1 11 Tf 72 700 Td <%s> Tj ET" % codes
    stream = flate(cmap)
    to_unicode = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (
        len(stream),
        stream,
    )
    data = build(content, to_unicode, font=font)
    assert page_texts(data, 1, time.monotonic() + 30, LIMIT) == [VISA]
    assert [f.code.name for f in scan(data).findings] == ["SENSITIVE_CARD"]


def test_a_bomb_is_left_to_pypdf_which_stops_at_the_limit(pdfium_opened: list[int]) -> None:
    content = text(f"card {VISA}") + b" " * (3 * LIMIT)
    data = build(flate(content), filters=b" /Filter /FlateDecode")
    assert decoded_size(data, LIMIT) is None
    result = scan(data, Limits(max_expanded_bytes=LIMIT))
    assert pdfium_opened == []
    assert result.findings == []
    assert result.facts["sensitive"]["not_read"] == ["page 1 (its text could not be extracted)"]


def test_pages_past_the_cap_and_past_the_time_are_counted(pdfium_opened: list[int]) -> None:
    data = samples.pdf([["Statement"], ["more"], [f"card {VISA}"]])
    assert page_texts(data, 2, time.monotonic() + 30, LIMIT) == ["Statement", "more"]
    assert page_texts(data, 3, time.monotonic() - 1, LIMIT) == []
    result = scan(data, max_pages=2)
    assert [f.code.name for f in result.findings] == ["SENSITIVE_LIMIT"]
    assert pdfium_opened


# -- the byte-limit check ----------------------------------------------------------------------


def test_plain_and_compressed_streams_are_counted() -> None:
    plain = text("hello")
    assert decoded_size(build(plain), FAR) == 0
    assert decoded_size(build(flate(plain), filters=b" /Filter /FlateDecode"), FAR) == len(plain)
    hexed = plain.hex().encode() + b">"
    assert decoded_size(build(hexed, filters=b" /Filter /AHx"), FAR) == len(plain)


def test_bombs_in_any_wrapping_are_over_the_limit() -> None:
    big = b" " * (2 * LIMIT)
    once = flate(big)
    wrapped = base64.a85encode(once, adobe=True)[2:]  # PDF's ASCII85 has no "<~"
    cases = {
        "flate": build(once, filters=b" /Filter /FlateDecode"),
        "flate twice": build(flate(once), filters=b" /Filter [/FlateDecode /FlateDecode]"),
        "base-85": build(wrapped, filters=b" /Filter [/A85 /Fl]"),
        "an image": build(
            text("x"),
            b"<< /Subtype /Image /Width 1 /Height 1 /Length %d /Filter /FlateDecode >>\n"
            b"stream\n%s\nendstream" % (len(once), once),
        ),
    }
    for name, data in cases.items():
        assert decoded_size(data, LIMIT) is None, name
        assert decoded_size(data, FAR) == len(big), name


def test_a_short_length_does_not_hide_the_rest_of_a_zlib_stream() -> None:
    # /Length stops at an "endstream" planted inside the compressed data: a reader that
    # takes another length decodes the whole bomb, so it is counted whole
    bomb = flate(b" " * (2 * LIMIT))
    data = build(bomb[:20] + b"\nendstream\n" + bomb[20:])
    data = data.replace(b"/Length %d >>" % (len(bomb) + 11), b"/Length 20 /Filter /Fl >>")
    assert decoded_size(data, LIMIT) is None


def test_what_is_not_read_here_is_not_known_to_be_safe() -> None:
    inline = b"q BI /W 8 /H 8 /BPC 8 /CS /G /F /Fl ID %s EI Q" % flate(bytes(64))
    hex_inline = b"q BI /W 2 /H 1 /BPC 8 /CS /G /F /AHx ID 00ff> EI Q"
    assert decoded_size(build(inline), FAR) is None
    assert decoded_size(build(hex_inline), FAR) == 0
    # PDFium hands a picture codec's data on still encoded, whatever filters follow
    photo = b"<< /Length 4 /Filter [/DCTDecode /FlateDecode] >>\nstream\nabcd\nendstream"
    assert decoded_size(build(text("x"), photo), FAR) == 0
    hexed = b"<< /Length 9 /Filter [/AHx /JPXDecode] >>\nstream\n61626364>\nendstream"
    assert decoded_size(build(text("x"), hexed), FAR) == 4
    crypt = build(text("x")).replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt << /V 1 >>")
    assert decoded_size(crypt, FAR) is None
    stray = build(text("x")).replace(b"%PDF-1.7\n", b"%PDF-1.7\n% stream\nx\n", 1)
    assert decoded_size(stray, FAR) is None
    assert decoded_size(build(text("x"), filters=b" /Filter 6 0 R"), FAR) is None
