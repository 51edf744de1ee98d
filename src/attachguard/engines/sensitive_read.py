"""How the sensitive engine gets text out of an item: a reader per detected type, and OCR for
pictures (see `engines.sensitive`)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from attachguard.engines.text import decode, readings
from attachguard.moderation import ImageUnreadable
from attachguard.sensitive import legacy, mail, markup, ocr, ooxml, pdf, rtf, tables
from attachguard.sensitive.metadata import metadata
from attachguard.sensitive.passages import Extract, Passage

if TYPE_CHECKING:
    from attachguard.engines.base import Context, Item

IMAGES = ("jpeg", "png", "gif", "webp", "bmp", "tiff", "heif")
MEDIA = ("mp4", "qt", "3gp", "wav")  # read for the text in their metadata only
PACKAGES = ("docx", "xlsx", "pptx")
LEGACY = ("doc", "xls", "ppt")
TEXT = ("group:text", "group:code", "text:*")

# The picture Office renders of a document's first page (and of each chart's workbook) for file
# browsers: what it shows is the document's own text and pictures, which are read themselves.
# Reading it would only spend OCR time, and a deck with 25 charts carries 25 of them.
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}(?=\n|$)")  # "card 4111 ... 1111.txt"
_THUMBNAIL = re.compile(r"(^|/)docProps/thumbnail\.[A-Za-z]+$")
_FIRST = 0.5  # of an item's OCR time: an item with all of it left always starts a picture


class OcrClock:
    """How long one picture takes to read here, learnt from the pictures read in full so far
    (shared by the scans of one engine, safe across threads). A picture is read only when that
    much time, with a margin, is left before the engine's deadline: a picture that cannot be
    read in time is a `SENSITIVE_LIMIT` (allowed), never a timeout that rejects the file.

    What is needed is never more than ``most`` (`_Ocr.most`: half an item's OCR time), so an
    item always tries its first picture. Without that cap, one slow picture (a long screenshot,
    a loaded machine) taught the clock more than an item's whole OCR time, and no picture was
    read again for the engine's life: every card number in a photo was allowed."""

    MARGIN = 2.0  # times the usual cost: OCR time varies with the picture and the load
    FLOOR = 3.0  # seconds: before any picture is read, and never less

    def __init__(self) -> None:
        self._usual = 0.0
        self._lock = threading.Lock()

    def needed(self, most: float = float("inf")) -> float:
        with self._lock:
            return min(most, max(self.FLOOR, self.MARGIN * self._usual))

    def record(self, seconds: float) -> None:
        with self._lock:
            # a moving average that follows the machine's load within a few pictures
            self._usual = seconds if not self._usual else 0.7 * self._usual + 0.3 * seconds


@dataclass
class Reading:
    """What was read from one item: the extract, pages left unread over the cap, and OCR
    book-keeping for the report."""

    extract: Extract
    pages_over: int = 0
    pictures_over: int = 0
    pictures_late: int = 0  # not read: too little time left
    ocr_ms: float = 0.0
    pictures_read: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Budget:
    """The per-item limits a reader needs: PDF pages, pictures inside the item (a scanned
    PDF's pages, an RTF's pictures), and the seconds OCR may spend on the item's pictures."""

    max_pages: int
    max_pictures: int
    ocr_seconds: float = float("inf")


def read(
    item: Item,
    context: Context,
    budget: Budget,
    backend: ocr.OcrBackend | None,
    clock: OcrClock,
) -> Reading:
    """The text of ``item`` (by its detected type), its pictures read by ``backend``."""
    reading = _read(item, context, budget, backend, clock)
    name = _name(item.name)
    if name is not None:
        reading.extract.passages.append(name)
    return reading


def _name(name: str) -> Passage | None:
    """The file's name (its path inside a container, a folder a line): the agent sees it in
    the chat, and whoever opens the container sees its members' names."""
    if sum(c.isdigit() for c in name) < 13:
        return None
    return Passage(_EXTENSION.sub("", name.replace("/", "\n")), "file name")


def _read(
    item: Item,
    context: Context,
    budget: Budget,
    backend: ocr.OcrBackend | None,
    clock: OcrClock,
) -> Reading:
    label = item.type.label
    ocr_deadline = min(
        context.deadline, context.optional_until, time.monotonic() + budget.ocr_seconds
    )
    ocr_reader = _Ocr(backend, clock, context, ocr_deadline, _FIRST * budget.ocr_seconds)
    if label in MEDIA:
        return Reading(Extract(metadata(item.data)))
    if label in IMAGES:
        reading = Reading(Extract(metadata(item.data)))
        if _THUMBNAIL.search(item.name):
            reading.skipped.append("an Office thumbnail (a picture of the document's own text)")
        else:
            ocr_reader.read(reading, "", item.data, label)
        return reading
    if label == "pdf":
        # one picture more than is read, so that the cap is seen to be passed
        pictures = budget.max_pictures + 1 if backend else 0
        limits = pdf.PdfBudget(budget.max_pages, pictures, context.deadline)
        extract, over = pdf.read(item.data, context.limits, limits)
        reading = Reading(extract, pages_over=over)
    else:
        reader = _READERS.get(label) or (_plain if item.type.is_text else _nothing)
        reading = Reading(reader(item, context))
    for number, (where, data) in enumerate(reading.extract.pictures):
        if number >= budget.max_pictures:
            reading.pictures_over += 1
            continue
        ocr_reader.read(reading, where, data, "")
    return reading


def _plain(item: Item, context: Context) -> Extract:
    texts = readings(item.data)  # Excel's reading of a UTF-32 mark too
    return Extract([*(Passage(t, lines=True) for t in texts), *_wide_digits(item.data)])


def _table(item: Item, context: Context) -> Extract:
    """A CSV or TSV file, each cell read after its column's header (`tables`)."""
    text = decode(item.data)
    shown = tables.csv_text(text, tab=item.type.label == "tsv")
    passage = Passage(text if shown is None else shown, lines=True)
    others = [Passage(t, lines=True) for t in readings(item.data)[1:]]
    return Extract([passage, *others, *_wide_digits(item.data)])


# Code pages of a Windows set up for Chinese, Japanese or Korean, in which a note or an export
# may come: `decode` reads text that is not UTF-8 as Latin-1, where their full-width digits
# (U+FF10-FF19, which a reader sees as digits and `sensitive.normalise` folds) are not digits.
_EAST_ASIAN = ("gb18030", "big5", "shift_jis", "euc_kr")
_WIDE_DIGIT = re.compile("[\uff10-\uff19]")


def _wide_digits(data: bytes) -> list[Passage]:
    """The text as read in each East Asian code page it decodes in, when that reading holds
    full-width digits; none for UTF-8, UTF-16 or byte-order-marked text (`decode` reads it)."""
    if (
        data.isascii()
        or b"\x00" in data[:4096]
        or data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))
    ):
        return []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return []
    found = []
    for codec in _EAST_ASIAN:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _WIDE_DIGIT.search(text):
            found.append(Passage(text, f"read as {codec}", lines=True))
    return found


def _markup(item: Item, context: Context) -> Extract:
    """The page as written (attributes, comments) and as a browser shows it (tags dropped,
    character references decoded): either may hold a number the other splits."""
    text = decode(item.data)
    return Extract([Passage(text, lines=True), Passage(markup.shown_text(text), "as shown")])


def _message(item: Item, context: Context) -> Extract:
    """An e-mail message or a web archive (MHT: a .doc or .xls Word or Excel saved as a
    single-file web page, or an altChunk) as written and as its reader shows it (`mail`:
    decoded parts; Word wraps a quoted-printable page at 76 characters, inside numbers too)."""
    extract = mail.read(item.data)
    extract.passages.insert(0, Passage(decode(item.data), lines=True))
    return extract


def _nothing(item: Item, context: Context) -> Extract:
    return Extract()


_READERS: dict[str, Callable[[Item, Context], Extract]] = {
    **{label: lambda item, context: ooxml.read(item.data, context.limits) for label in PACKAGES},
    **{label: lambda item, context: legacy.read(item.data) for label in LEGACY},
    "rtf": lambda item, context: rtf.read(item.data),
    "html": _markup,
    "eml": _message,
    "mht": _message,
    "csv": _table,
    "tsv": _table,
    "svg": _markup,
}


@dataclass(frozen=True)
class _Ocr:
    """Reads pictures into a `Reading` with ``backend``, within ``context``'s deadline."""

    backend: ocr.OcrBackend | None
    clock: OcrClock
    context: Context
    deadline: float  # for OCR: the engine's, or sooner (`Budget.ocr_seconds`, the scan's share)
    most: float  # the most time `OcrClock` may ask to be left before a picture is started

    def read(self, reading: Reading, where: str, data: bytes, label: str) -> None:
        """Read one picture into ``reading`` (a passage at ``where``), unless it cannot show
        a number, no backend is configured, or too little time is left to read it."""
        if self.backend is None:
            reading.skipped.append("pictures are not read (no OCR backend)")
            return
        if not ocr.readable(data):
            reading.skipped.append("a picture too small to show a number")
            return
        if self.deadline - time.monotonic() < self.clock.needed(self.most):
            reading.pictures_late += 1
            return
        picture = ocr.OcrPicture(data, label, self.context.limits.max_image_pixels)
        start = time.perf_counter()
        try:
            lines = self.backend.read(picture, self.deadline)
        except ImageUnreadable as exc:  # the image engine reports it (CORRUPT, IMAGE_BOMB)
            reading.extract.unread.append(f"a picture ({exc})")
            return
        except ocr.OcrLate as late:  # what was read in time is still searched
            lines = late.lines
            reading.pictures_late += 1
        else:
            reading.pictures_read += 1
            self.clock.record(time.perf_counter() - start)  # what a picture read in full costs
        finally:
            reading.ocr_ms += (time.perf_counter() - start) * 1000
        text = ocr.as_text(lines)
        if text.strip():
            reading.extract.passages.append(Passage(text, where or None, lenient=True))
