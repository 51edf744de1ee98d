"""The sensitive engine's PDF text by PDFium, in a process of its own: a file that takes it
past its memory cap or past the deadline costs that process (killed, replaced for the next
file), and its pages are left to pypdf, whose decoders are held to the policy's byte limit."""

from __future__ import annotations

import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from attachguard import samples
from attachguard.engines.base import Context, Item, Result
from attachguard.engines.sensitive import SensitiveEngine, SensitiveOptions
from attachguard.policy import Limits
from attachguard.report import FileType
from attachguard.sensitive import pdf as sensitive_pdf
from attachguard.sensitive.pdfium_text import page_texts
from support import evasions

VISA = "4111111111111111"
LIMIT = 1_000_000
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
    return evasions.pdf(list(enumerate(objects, 1)))


def text(line: str) -> bytes:
    return b"BT /F1 11 Tf 72 700 Td (%s) Tj ET" % line.encode()


def flate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def scan(data: bytes, limits: Limits | None = None, **options: object) -> Result:
    engine = SensitiveEngine(SensitiveOptions.model_validate(options), None)
    item = Item("file.pdf", data, FileType("pdf", "", "document", False))
    return engine.scan(item, Context(limits or Limits(), deadline=time.monotonic() + 30))


def bomb(content: bytes, size: int) -> bytes:
    """A zlib stream of ``content`` and then ``size`` spaces (whole 16 MiB blocks): the same
    deflate block repeated after a full flush, built in milliseconds."""
    block = b" " * (1 << 24)
    deflate = zlib.compressobj(1)
    head = deflate.compress(content) + deflate.flush(zlib.Z_FULL_FLUSH)
    body = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    checksum = zlib.adler32(content)
    for _ in range(size >> 24):
        checksum = zlib.adler32(block, checksum)
    return head + body * (size >> 24) + b"\x03\x00" + checksum.to_bytes(4, "big")


@pytest.fixture
def pdfium_texts(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What PDFium answered to the sensitive engine, each call."""
    answers: list[list[str]] = []

    def recorded(*args: Any) -> list[str]:
        answers.append(page_texts(*args))
        return answers[-1]

    monkeypatch.setattr(sensitive_pdf, "page_texts", recorded)
    return answers


def test_pdfium_reads_the_card(pdfium_texts: list[list[str]]) -> None:
    data = build(flate(text(f"card {VISA}")), filters=b" /Filter /FlateDecode")
    result = scan(data)
    assert [f.code.name for f in result.findings] == ["SENSITIVE_CARD"]
    assert pdfium_texts == [[f"card {VISA}"]]


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


def test_a_bomb_kills_pdfium_and_is_left_to_pypdf(pdfium_texts: list[list[str]]) -> None:
    # 1 GiB of page contents, past the process's 768 MiB: it dies, pypdf reads the page and
    # stops at the policy's byte limit; the next file gets a new process
    data = build(bomb(text(f"card {VISA}"), 1 << 30), filters=b" /Filter /FlateDecode")
    assert len(data) < 5_000_000
    result = scan(data, Limits(max_expanded_bytes=LIMIT))
    assert pdfium_texts == [[]]
    assert result.findings == []
    assert result.facts["sensitive"]["not_read"] == ["page 1 (its text could not be extracted)"]
    assert page_texts(build(text("next")), 1, time.monotonic() + 30, LIMIT) == ["next"]


def test_a_page_read_past_the_time_is_stopped_and_the_reader_replaced() -> None:
    # two million text operators on one page: seconds of PDFium, which cannot stop inside a
    # page; the process is killed at the deadline and the next file gets a new one
    content = b"BT /F1 11 Tf 72 700 Td " + b"(x) Tj " * 2_000_000 + b"ET"
    slow = build(flate(content), filters=b" /Filter /FlateDecode")
    assert page_texts(slow, 1, time.monotonic() + 0.2, LIMIT) == []
    data = samples.pdf([["Statement"], [f"card {VISA}"]])
    assert page_texts(data, 2, time.monotonic() + 30, LIMIT) == ["Statement", f"card {VISA}"]


def test_more_text_than_the_limit_ends_the_answer() -> None:
    # a few bytes of contents can draw megabytes of text; the answer stops at the byte limit
    data = samples.pdf([["Statement"], [f"card {VISA}"]])
    assert page_texts(data, 2, time.monotonic() + 30, len("Statement")) == ["Statement"]
    assert page_texts(data, 2, time.monotonic() + 30, 5) == []
    assert page_texts(data, 2, time.monotonic() + 30, LIMIT) == ["Statement", f"card {VISA}"]


def test_pages_past_the_cap_and_past_the_time_are_counted(pdfium_texts: list[list[str]]) -> None:
    data = samples.pdf([["Statement"], ["more"], [f"card {VISA}"]])
    assert page_texts(data, 2, time.monotonic() + 30, LIMIT) == ["Statement", "more"]
    assert page_texts(data, 3, time.monotonic() - 1, LIMIT) == []
    result = scan(data, max_pages=2)
    assert [f.code.name for f in result.findings] == ["SENSITIVE_LIMIT"]
    assert pdfium_texts == [["Statement", "more"]]


def test_the_reader_outlives_the_thread_that_started_it_and_dies_with_its_process() -> None:
    # started from a short-lived thread (a pipeline thread, a warm-up), kept after it ends;
    # gone when the process that uses it is killed (nothing left holding PDFium's memory)
    code = (
        "import sys, threading, time\n"
        "from attachguard import samples\n"
        "from attachguard.sensitive import pdfium_text\n"
        "data = samples.pdf([['Statement']])\n"
        "thread = threading.Thread(target=pdfium_text.page_texts,\n"
        "                          args=(data, 1, time.monotonic() + 30, 10**6))\n"
        "thread.start(); thread.join()\n"
        "pid = pdfium_text._READER._process.pid\n"
        "assert pdfium_text.page_texts(data, 1, time.monotonic() + 30, 10**6) == ['Statement']\n"
        "assert pdfium_text._READER._process.pid == pid\n"
        "print(pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    user = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert user.stdout is not None
        reader = int(user.stdout.readline())
        assert Path(f"/proc/{reader}").exists()
    finally:
        user.kill()
        user.wait()
    deadline = time.monotonic() + 30
    while _alive(reader) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(reader)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent to collect it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
