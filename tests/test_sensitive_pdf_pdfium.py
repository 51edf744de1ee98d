"""The sensitive engine's PDF text by PDFium, in a process of its own: a file that takes it
past its memory cap or past the deadline costs that process (killed, replaced for the next
file), and its pages are left to pypdf, whose decoders are held to the policy's byte limit and
whose extraction to the time. Pages pypdf read because PDFium was busy or out of time make the
verdict one of the moment (SENSITIVE_LIMIT), which the verdict cache does not keep."""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from attachguard import samples
from attachguard.cache import CachedScanner, LruCache, storable
from attachguard.engines.base import Context, Item, Result
from attachguard.engines.sensitive import SensitiveEngine, SensitiveOptions
from attachguard.policy import Limits, parse_policy
from attachguard.report import FileType, Status
from attachguard.scanner import build_scanner
from attachguard.sensitive import pdf as sensitive_pdf
from attachguard.sensitive import pdfium_text
from attachguard.sensitive.ocr import OcrBackend, OcrPicture
from attachguard.sensitive.pdfium_text import Page, PageTexts, page_texts
from support import evasions

VISA = "4111111111111111"
LIMIT = 1_000_000
HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


# the card's last group drawn first, to the right: PDFium reads "4111 1111 1111 1111" in the
# order on the page, pypdf "11114111 1111 1111" in the order drawn, which is no card number
TAIL_FIRST = b"BT /F1 11 Tf 180 700 Td (1111) Tj ET BT /F1 11 Tf 72 700 Td (4111 1111 1111 ) Tj ET"


def build(
    content: bytes,
    *more: bytes,
    font: bytes = HELVETICA,
    filters: bytes = b"",
    resources: bytes = b"",
    page: bytes = b"",
) -> bytes:
    """A one-page PDF whose page draws ``content`` (its stream's ``filters`` as given), with
    more objects numbered from 6 (and more page ``resources``: its forms; more ``page``
    entries: its annotations)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        font,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R%s "
        b"/Resources << /Font << /F1 3 0 R >>%s >> >>" % (page, resources),
        b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(content), filters, content),
        *more,
    ]
    return evasions.pdf(list(enumerate(objects, 1)))


def form(content: bytes, resources: bytes = b"", flated: bool = False) -> bytes:
    """A form XObject that draws ``content`` (flate-compressed when ``flated``) with the
    page's font (and more ``resources``: the forms it draws)."""
    return (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >>%s >> /Length %d%s >>\nstream\n%s\nendstream"
        % (resources, len(content), b" /Filter /FlateDecode" if flated else b"", content)
    )


def text(line: str) -> bytes:
    return b"BT /F1 11 Tf 72 700 Td (%s) Tj ET" % line.encode()


def flate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def scan(
    data: bytes, limits: Limits | None = None, seconds: float = 30, **options: object
) -> Result:
    engine = SensitiveEngine(SensitiveOptions.model_validate(options), None)
    item = Item("file.pdf", data, FileType("pdf", "", "document", False))
    return engine.scan(item, Context(limits or Limits(), deadline=time.monotonic() + seconds))


def names(result: Result) -> list[str]:
    return [f.code.name for f in result.findings]


def bomb(content: bytes, size: int) -> bytes:
    """A zlib stream of ``content`` and then ``size`` spaces (whole 16 MiB blocks): the same
    deflate block repeated after a full flush, built in milliseconds."""
    block = b" " * (1 << 24)
    deflate = zlib.compressobj(1)
    head = deflate.compress(content) + deflate.flush(zlib.Z_FULL_FLUSH)
    body = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    spaces = (size >> 24) << 24
    return head + body * (size >> 24) + b"\x03\x00" + _adler32_spaces(content, spaces)


def _adler32_spaces(content: bytes, count: int) -> bytes:
    """The Adler-32 of ``content`` and then ``count`` spaces, by its sums' closed form (the
    checksum of each byte of hundreds of megabytes took 0.13 s of CPU)."""
    checksum = zlib.adler32(content)
    low, high = checksum & 0xFFFF, checksum >> 16
    # each space adds 32 to the low sum, and the high sum adds the low sum after each byte
    high = (high + count * low + 32 * count * (count + 1) // 2) % 65521
    low = (low + 32 * count) % 65521
    return (high << 16 | low).to_bytes(4, "big")


@pytest.fixture
def pdfium_texts(monkeypatch: pytest.MonkeyPatch) -> list[PageTexts]:
    """What PDFium answered to the sensitive engine, each call."""
    answers: list[PageTexts] = []

    def recorded(*args: Any) -> PageTexts:
        answers.append(page_texts(*args))
        return answers[-1]

    monkeypatch.setattr(sensitive_pdf, "page_texts", recorded)
    return answers


@contextlib.contextmanager
def every_reader_busy() -> Iterator[None]:
    """Every PDFium process taken, as files being read by other threads hold them."""
    pool = pdfium_text._POOL
    taken = [pool.free.get_nowait() for _ in range(pool.size)]
    try:
        yield
    finally:
        for reader in taken:
            pool.free.put(reader)


def test_files_read_at_once_each_have_a_process() -> None:
    # one process per core: two files at once are both read by PDFium, neither waits for
    # the other and falls back to pypdf
    data = samples.pdf([["Statement"], [f"card {VISA}"]])
    with concurrent.futures.ThreadPoolExecutor(pdfium_text._POOL.size) as pool:
        answers = list(
            pool.map(lambda _: page_texts(data, 2, time.monotonic() + 30, LIMIT), range(4))
        )
    assert all(a.texts == ["Statement", f"card {VISA}"] and not a.late for a in answers)


def test_pdfium_reads_the_card(pdfium_texts: list[PageTexts]) -> None:
    data = build(flate(text(f"card {VISA}")), filters=b" /Filter /FlateDecode")
    result = scan(data)
    assert names(result) == ["SENSITIVE_CARD"]
    assert [(answer.texts, answer.count) for answer in pdfium_texts] == [([f"card {VISA}"], 1)]


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
    assert page_texts(data, 1, time.monotonic() + 30, LIMIT).texts == [VISA]
    assert names(scan(data)) == ["SENSITIVE_CARD"]


@pytest.fixture
def small_reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """One PDFium process, allowed a quarter of `MEMORY` (the same cap, sooner reached),
    stopped afterwards; its cap in bytes."""
    memory = pdfium_text.MEMORY // 4
    pool = pdfium_text._Pool(1)
    monkeypatch.setattr(pdfium_text, "MEMORY", memory)
    monkeypatch.setattr(pdfium_text, "_POOL", pool)
    yield memory
    for reader in pool.free.queue:
        reader._stop()


def test_a_bomb_kills_pdfium_and_is_left_to_pypdf(
    pdfium_texts: list[PageTexts], small_reader: int
) -> None:
    # twice the process's memory in page contents: it dies, pypdf reads the page and stops at
    # the policy's byte limit; the next file gets a new process
    contents = bomb(text(f"card {VISA}"), 2 * small_reader)
    data = build(contents, filters=b" /Filter /FlateDecode")
    assert len(data) < 5_000_000
    result = scan(data, Limits(max_expanded_bytes=LIMIT))
    # past its memory: the file's doing, not the moment's
    assert [(answer.texts, answer.late) for answer in pdfium_texts] == [([], False)]
    assert result.findings == []
    assert result.facts["sensitive"]["not_read"] == ["page 1 (its text could not be extracted)"]
    assert page_texts(build(text("next")), 1, time.monotonic() + 30, LIMIT).texts == ["next"]


def test_a_page_read_past_the_time_is_stopped_and_the_reader_replaced() -> None:
    # two million text operators on one page: seconds of PDFium, which cannot stop inside a
    # page; the process is killed at the deadline and the next file gets a new one
    content = b"BT /F1 11 Tf 72 700 Td " + b"(x) Tj " * 2_000_000 + b"ET"
    slow = build(flate(content), filters=b" /Filter /FlateDecode")
    late = page_texts(slow, 1, time.monotonic() + 0.2, LIMIT)
    assert (late.texts, late.late) == ([], True)
    data = samples.pdf([["Statement"], [f"card {VISA}"]])
    assert page_texts(data, 2, time.monotonic() + 30, LIMIT) == PageTexts(
        [Page("Statement"), Page(f"card {VISA}")], count=2
    )


def test_more_text_than_the_limit_ends_the_answer() -> None:
    # a few bytes of contents can draw megabytes of text; the answer stops at the byte limit
    data = samples.pdf([["Statement"], [f"card {VISA}"]])
    # the page's text and its notes' (none): the answer ends within the limit
    short = page_texts(data, 2, time.monotonic() + 30, len("Statement"))
    assert (short.texts, short.late) == (["Statement"], False)
    assert page_texts(data, 2, time.monotonic() + 30, 5).texts == []
    assert page_texts(data, 2, time.monotonic() + 30, LIMIT).texts == ["Statement", f"card {VISA}"]


def test_pages_past_the_cap_and_past_the_time_are_counted(pdfium_texts: list[PageTexts]) -> None:
    data = samples.pdf([["Statement"], ["more"], [f"card {VISA}"]])
    assert page_texts(data, 2, time.monotonic() + 30, LIMIT).texts == ["Statement", "more"]
    assert page_texts(data, 3, time.monotonic() - 1, LIMIT) == PageTexts([], late=True)
    result = scan(data, max_pages=2)
    assert names(result) == ["SENSITIVE_LIMIT"]
    assert [(answer.texts, answer.count) for answer in pdfium_texts] == [(["Statement", "more"], 3)]


def test_a_page_pdfium_had_no_time_for_is_read_by_pypdf_and_not_cached() -> None:
    # while PDFium reads another file, pypdf reads this one in the order drawn, where the card
    # is no number: APPROVED, but not as an idle scan decides, so it is not kept
    data = build(TAIL_FIRST)
    policy = parse_policy("allowed_extensions: [.pdf]\ndisabled_engines: [clamav]\n")
    store = LruCache()
    with CachedScanner(build_scanner(policy, None), store) as scanner:
        with every_reader_busy():  # past the wait: other files hold every PDFium process
            report = scanner.scan(data, "statement.pdf")
        assert (report.status, [f.code.name for f in report.findings]) == (
            Status.APPROVED,
            ["SENSITIVE_LIMIT"],
        )
        assert report.findings[0].message == (
            "1 page(s) read without PDFium (out of time): text order may differ"
        )
        assert not storable(report)
        assert len(store) == 0
        # idle: PDFium reads the card, and the verdict is kept
        again = [scanner.scan(data, "statement.pdf") for _ in range(2)]
    assert [(r.status, [f.code.name for f in r.findings], r.cached) for r in again] == [
        (Status.REJECTED, ["SENSITIVE_CARD"], False),
        (Status.REJECTED, ["SENSITIVE_CARD"], True),
    ]


def test_a_page_pdfium_did_not_read_for_the_files_reason_is_read_by_pypdf_as_usual(
    pdfium_texts: list[PageTexts],
) -> None:
    # more text than the byte limit: PDFium's answer ends, whatever the load, and pypdf reads
    # the page (its stream has no filter for the limit to stop) as every scan would
    result = scan(build(text(f"card {VISA}")), Limits(max_expanded_bytes=10))
    assert [(answer.texts, answer.late) for answer in pdfium_texts] == [([], False)]
    assert names(result) == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("nested", [False, True], ids=["page draws it", "a form draws it"])
def test_a_form_drawn_thousands_of_times_is_given_up_at_the_deadline(nested: bool) -> None:
    # 41 KB: a 20,000-operator form drawn 5,000 times, by the page or by a form the page draws
    # once (pypdf then catches the stop inside that form and returns). PDFium is killed for
    # time; pypdf took 28 CPU-minutes on it, in an engine thread the pipeline abandons at its
    # deadline; it now stops at the text's time and leaves nothing running
    heavy = form(flate(b"BT /F1 11 Tf 72 700 Td " + b"(x) Tj " * 20_000 + b"ET"), flated=True)
    drawn = b"/Fm0 Do " * 5_000
    if nested:
        objects = [form(drawn, b" /XObject << /Fm0 7 0 R >>"), heavy]
        data = build(b"/Fm0 Do", *objects, resources=b" /XObject << /Fm0 6 0 R >>")
    else:
        data = build(drawn, heavy, resources=b" /XObject << /Fm0 6 0 R >>")
    assert len(data) < 50_000
    outcome: list[Result] = []
    # a daemon: a regression fails here instead of holding the test run at its exit. Half a
    # second: PDFium and then pypdf each burn a share of it (0.15 s) before they are stopped
    engine = threading.Thread(
        target=lambda: outcome.append(scan(data, seconds=0.5)), name="engine_0", daemon=True
    )
    started = time.monotonic()
    engine.start()
    engine.join(timeout=4)
    assert not engine.is_alive()
    assert time.monotonic() - started < 3  # the deadline, and then what a page costs to stop
    assert names(outcome[0]) == ["SENSITIVE_LIMIT"]
    assert outcome[0].facts["sensitive"]["not_read"] == ["pages from 1 on (out of time)"]
    cpu = time.process_time()
    time.sleep(0.5)
    assert time.process_time() - cpu < 0.1  # no thread still reading it


def test_the_reader_outlives_the_thread_that_started_it_and_dies_with_its_process(
    tmp_path: Path,
) -> None:
    # started from a short-lived thread (a pipeline thread, a warm-up), kept after it ends;
    # gone when the process that uses it is killed (nothing left holding PDFium's memory).
    # The PDF is built here: attachguard.samples would cost the process 0.15 s of imports
    statement = tmp_path / "statement.pdf"
    statement.write_bytes(samples.pdf([["Statement"]]))
    code = (
        "import sys, threading, time\n"
        "from pathlib import Path\n"
        "from attachguard.sensitive import pdfium_text\n"
        "data = Path(sys.argv[1]).read_bytes()\n"
        "thread = threading.Thread(target=pdfium_text.page_texts,\n"
        "                          args=(data, 1, time.monotonic() + 30, 10**6))\n"
        "thread.start(); thread.join()\n"
        "[reader] = [r for r in pdfium_text._POOL.free.queue if r._process]\n"
        "pid = reader._process.pid\n"
        "answer = pdfium_text.page_texts(data, 1, time.monotonic() + 30, 10**6)\n"
        "assert answer.texts == ['Statement']\n"
        "assert reader._process.pid == pid\n"
        "print(pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    user = subprocess.Popen(
        [sys.executable, "-c", code, str(statement)], stdout=subprocess.PIPE, text=True
    )
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


# -- a scan's pictures, as PDFium draws them (a reviewer's cases) ------------------------------


def card_picture() -> Image.Image:
    """Black digits on white, 400x40 pixels."""
    picture = Image.new("L", (400, 40), 255)
    ImageDraw.Draw(picture).text((5, 5), "4111 1111 1111 1111", fill=0)
    return picture


def image_stream(data: bytes, entries: bytes) -> bytes:
    return (
        b"<< /Type /XObject /Subtype /Image /ColorSpace /DeviceGray /BitsPerComponent 8 %s "
        b"/Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)
    )


def picture_page(*more: bytes, draws: bytes = b"q 400 0 0 40 72 600 cm /Im0 Do Q") -> bytes:
    """A page without text that draws image 6 (or what ``draws`` says), objects from 6 on."""
    resources = b" /XObject << /Im0 6 0 R /Fm0 7 0 R >>"
    return build(draws, *more, resources=resources)


def pictures(data: bytes) -> list[Image.Image]:
    extract, _ = sensitive_pdf.read(
        data, Limits(), sensitive_pdf.PdfBudget(500, 20, time.monotonic() + 30)
    )
    return [Image.open(io.BytesIO(picture)) for _, picture in extract.pictures]


def test_a_picture_drawn_through_its_soft_mask_keeps_its_ink() -> None:
    # the ink is in the /SMask, under it the picture is black: PDFium renders what a viewer
    # shows (the digits, transparent elsewhere), not a black rectangle
    ink = bytes(255 - v for v in card_picture().tobytes())
    black = image_stream(
        zlib.compress(bytes(400 * 40)), b"/Width 400 /Height 40 /Filter /FlateDecode /SMask 7 0 R"
    )
    mask = image_stream(zlib.compress(ink), b"/Width 400 /Height 40 /Filter /FlateDecode")
    [picture] = pictures(picture_page(black, mask))
    alpha = picture.convert("RGBA").getchannel("A").tobytes()
    assert min(alpha) == 0 and max(alpha) > 200  # the digits opaque, the rest see-through


def test_a_jpeg_is_judged_by_its_own_size_not_the_one_declared() -> None:
    # declared 40x4 ("too small to show a number"), the JPEG itself 400x40, drawn in full
    out = io.BytesIO()
    card_picture().save(out, "JPEG")
    jpeg = image_stream(out.getvalue(), b"/Width 40 /Height 4 /Filter /DCTDecode")
    [picture] = pictures(picture_page(jpeg))
    assert picture.size == (400, 40)


def test_a_picture_drawn_through_a_form_is_read() -> None:
    # the form has no resources of its own: it draws the page's picture
    image = image_stream(
        zlib.compress(card_picture().tobytes()), b"/Width 400 /Height 40 /Filter /FlateDecode"
    )
    drawing = form(b"q 400 0 0 40 72 600 cm /Im0 Do Q")
    [picture] = pictures(picture_page(image, drawing, draws=b"/Fm0 Do"))
    assert picture.size == (400, 40)


# -- what PDFium hands the OCR besides a scan's pictures (red team 96) -------------------------

LETTER = (
    b"BT /F1 11 Tf 72 720 Td ("
    + b"Dear support team, here is the card I paid with. " * 6
    + b") Tj ET"
)


def with_picture(width: int, height: int, content: bytes = LETTER) -> bytes:
    """A page of text that also draws a grey picture of ``width`` x ``height`` pixels."""
    pixels = flate(bytes([128]) * (width * height))
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
        % (width, height, len(pixels), pixels)
    )
    draw = content + b" q %d 0 0 %d 72 400 cm /Im1 Do Q" % (width // 2, height // 2)
    return build(draw, image, resources=b" /XObject << /Im1 6 0 R >>")


def worker_answer(data: bytes) -> list[tuple[int, int]]:
    """What the worker returns for the first page: (kind, size) of each entry."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    from attachguard.sensitive import pdfium_drawn as drawing
    from attachguard.sensitive import pdfium_worker as worker

    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        wants = worker._Wants(1, time.monotonic() + 30, 20, 50_000_000, 200, 80, 8)
        scan = len(text.strip()) < 200
        boxes = drawing.stamps(pdfium, worker._annotations(pdfium, page))
        drawn = drawing.survey(pdfium, document, page, scan, (80, 8))
        seen = worker._Seen(text, scan, boxes, None, drawn)
        return [
            (kind, len(entry))
            for kind, entry in worker._page_pictures(pdfium, page, seen, wants, worker._Left(20, 3))
        ]
    finally:
        document.close()


def test_a_photo_sized_picture_on_a_page_of_text_is_read() -> None:
    # a photo of a card pasted in a letter; a logo on the same page is not
    assert [kind for kind, _ in worker_answer(with_picture(900, 140))] == [0]
    assert worker_answer(with_picture(200, 60)) == []


def test_a_scan_like_page_drawing_only_paths_is_rendered() -> None:
    outlines = (
        b"BT /F1 11 Tf 72 720 Td (Card number:) Tj ET 0 0 1 rg 72 600 m 200 600 l 200 640 l h f"
    )
    [(kind, size)] = worker_answer(build(outlines))
    assert kind == 0 and size > 1000  # the page, rendered as a PNG
    assert worker_answer(build(text("Card number:"))) == []  # no paths: nothing to render


def test_text_mostly_of_unmapped_characters_is_not_what_the_page_shows() -> None:
    from attachguard.sensitive.pdfium_drawn import _unmapped

    assert _unmapped("\x08\x0e\n\x16\x01\x17\x19\x14\x14\x13\x16\x18\x01\x18")
    assert _unmapped("\ue001\ue002\ue003\ue004 \ue005\ue006\ue007\ue008")
    assert not _unmapped("Dear support team, card \x02 ending 4242")


def test_a_stamps_appearance_is_rendered_on_its_own() -> None:
    # a stamp reading "Approved" whose appearance draws a number: only its box is rendered
    appearance = b"BT /F1 12 Tf 4 10 Td (5555 5555 5555 4444) Tj ET"
    stamp = (
        b"<< /Type /Annot /Subtype /Stamp /Rect [150 590 400 620] /Contents (Approved) "
        b"/AP << /N 7 0 R >> >>"
    )
    form_ = (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 250 30] /Resources << /Font << /F1 3 0 R "
        b">> >> /Length %d >>\nstream\n%s\nendstream" % (len(appearance), appearance)
    )
    data = build(LETTER, stamp, form_, page=b" /Annots [6 0 R]")
    [(kind, size)] = worker_answer(data)
    assert kind == 0 and 0 < size < 20_000  # a strip, not the page
    assert worker_answer(build(LETTER)) == []


def test_pictures_on_pages_of_text_are_few_per_document() -> None:
    # a report's dozens of figures would cost the OCR's whole time: three at most
    import struct as struct_

    import pypdfium2 as pdfium

    from attachguard.sensitive import pdfium_worker as worker

    pixels = flate(bytes([128]) * (900 * 140))
    image = (
        b"<< /Type /XObject /Subtype /Image /Width 900 /Height 140 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
        % (len(pixels), pixels)
    )
    draw = LETTER + b" q 450 0 0 70 72 400 cm /Im1 Do Q"
    count = 5
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>"
               % (kids, count), HELVETICA]  # fmt: skip
    content, picture = 4 + count, 5 + count
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources "
        b"<< /Font << /F1 3 0 R >> /XObject << /Im1 %d 0 R >> >> >>" % (content, picture)
    ] * count
    objects += [b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw), image]
    data = evasions.pdf(list(enumerate(objects, 1)))
    wants = worker._Wants(count, time.monotonic() + 30, 20, 50_000_000, 200, 80, 8)
    read = 0
    for answer in list(worker._answers(pdfium, data, wants))[1:]:
        pos = 0
        for _ in range(4):  # the page's text, its visible text, notes, what its fields draw
            pos += 4 + struct_.unpack_from("<I", answer, pos)[0]
        (entries,) = struct_.unpack_from("<H", answer, pos)
        read += entries
    assert read == worker._TEXT_PAGE_PICTURES == 3


# -- text that draws no ink (red team 114) ----------------------------------------------------


class Reading:
    """An OCR backend that reads the same lines in every picture, and counts them."""

    name = "reading"

    def __init__(self, line: str) -> None:
        self.line, self.calls = line, 0

    def version(self) -> str:
        return "reading 1"

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        self.calls += 1
        return [self.line]


def read_by(data: bytes, ocr: OcrBackend) -> list[tuple[str, str | None]]:
    engine = SensitiveEngine(SensitiveOptions(), ocr)
    item = Item("file.pdf", data, FileType("pdf", "", "document", False))
    result = engine.scan(item, Context(Limits(), deadline=time.monotonic() + 30))
    return [(f.code.name, f.location) for f in result.findings]


def searchable_scan(mode: int) -> bytes:
    """A scanned letter that names no card: its picture (a grey page) under a layer of its
    text in render ``mode`` (3: invisible, as OCRmyPDF writes it)."""
    layer = b"BT %d Tr /F1 11 Tf 72 720 Td (%s) Tj ET" % (mode, b"Thank you for the order. " * 12)
    return with_picture(380, 500, layer)


def test_a_searchable_scans_picture_is_read_whatever_its_invisible_text() -> None:
    # its OCR layer lacked the number its picture shows: the layer is no page of text
    seeing = Reading(f"Card number: {VISA}")
    assert read_by(searchable_scan(3), seeing) == [("SENSITIVE_CARD", "page 1")]
    assert seeing.calls == 1
    letter = Reading("Dear support team, here is the receipt.")
    assert read_by(searchable_scan(3), letter) == []  # an ordinary scan, no number in it
    drawn = Reading(f"Card number: {VISA}")
    assert read_by(searchable_scan(0), drawn) == []  # a letter with a figure: not read
    assert drawn.calls == 0


def digits_between(junk: bytes, mode: int) -> bytes:
    """A page that says "Card number:" and draws the card's digits one by one, ``junk``
    drawn in render ``mode`` after each."""
    shown = b"BT /F1 11 Tf 72 720 Td (Card number:) Tj ET"
    for place, digit in enumerate(VISA.encode()):
        at = 160 + 14 * place
        shown += b" BT /F1 11 Tf %d 720 Td (%c) Tj ET" % (at, digit)
        shown += b" q BT %d Tr /F1 11 Tf %d 720 Td (%s) Tj ET Q" % (mode, at + 7, junk)
    return build(shown)


@pytest.mark.parametrize("mode", [3, 7])
def test_invisible_characters_between_visible_digits_are_left_out(mode: int) -> None:
    # red team 114: "4x1x1x..." in the text layer, each x invisible; a viewer shows the number
    assert names(scan(digits_between(b"x", mode))) == ["SENSITIVE_CARD"]
    extract, _ = sensitive_pdf.read(
        digits_between(b"7", mode), Limits(), sensitive_pdf.PdfBudget(5, 0, time.monotonic() + 30)
    )
    assert [p.where for p in extract.passages] == ["page 1", "page 1 (visible text)"]


def test_visible_text_beside_an_invisible_layer_is_read_as_it_is() -> None:
    # a page of visible text with an invisible text layer elsewhere: its visible text alone
    # holds no number either
    page = build(b"BT /F1 11 Tf 72 720 Td (Invoice 4111, total 1111.11) Tj ET "
                 b"BT 3 Tr /F1 11 Tf 72 600 Td (1111 1111) Tj ET")  # fmt: skip
    assert names(scan(page)) == []
    assert names(scan(digits_between(b"x", 0))) == []  # the x's shown: no number


# -- a JPEG as the page draws it (red team 114) ----------------------------------------------


class Ink:
    """An OCR backend that reads the card number in a picture of dark ink on a light ground
    (what `card_picture` draws), and nothing in a dark one."""

    name = "ink"

    def version(self) -> str:
        return "ink 1"

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        with Image.open(io.BytesIO(picture.data)) as image:
            pixels = image.convert("L").tobytes()
        return [f"Card {VISA}"] if sum(pixels) / len(pixels) > 128 else []


def jpeg_page(picture: Image.Image, entries: bytes = b"") -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95)
    return picture_page(image_stream(out.getvalue(), b"/Width 400 /Height 40 " + entries))


def test_a_jpeg_is_read_as_the_page_draws_it() -> None:
    # stored as white digits on black, drawn through /Decode [1 0] as black on white: read as
    # the page shows it, not as the file it stores (the faint digits red team 114 made black)
    negative = Image.eval(card_picture(), lambda value: 255 - value)
    drawn = jpeg_page(negative, b"/Filter /DCTDecode /Decode [1 0]")
    assert read_by(drawn, Ink()) == [("SENSITIVE_CARD", "page 1")]
    plain = jpeg_page(card_picture(), b"/Filter /DCTDecode")  # an ordinary JPEG: as stored
    assert read_by(plain, Ink()) == [("SENSITIVE_CARD", "page 1")]
    assert read_by(jpeg_page(negative, b"/Filter /DCTDecode"), Ink()) == []
    [picture] = pictures(plain)
    assert picture.mode == "L" and picture.size == (400, 40)  # opaque grey: no alpha written


def test_a_jpeg_pypdf_reads_is_read_as_the_page_draws_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # the page left to pypdf (PDFium could not open the file): the JPEG decoded through its
    # /Decode, not sent as stored; an ordinary one as stored
    monkeypatch.setattr(sensitive_pdf, "page_texts", lambda *args: PageTexts([]))
    negative = Image.eval(card_picture(), lambda value: 255 - value)
    drawn = jpeg_page(negative, b"/Filter /DCTDecode /Decode [1 0]")
    assert read_by(drawn, Ink()) == [("SENSITIVE_CARD", "page 1")]
    plain = jpeg_page(card_picture(), b"/Filter /DCTDecode")
    assert read_by(plain, Ink()) == [("SENSITIVE_CARD", "page 1")]
    [picture] = pictures(plain)
    assert picture.format == "JPEG"
