"""What the PDF engine makes of a PDF's raw structure (`formats.pdfraw`'s problems), and of a
page tree whose declared page counts differ from its pages (`page_counts_disagree`).

Readers that disagree about a PDF (a duplicate object, a cross-reference that needs repair, an
object inside another's data, an object with no end, a header past Acrobat's window) disagree
only about which bodies they take, and `pdf_bodies` checks every body any of them may take. So
such a file is not rejected for being built oddly when every reading is clean: scanners and old
tools write broken cross-references that every viewer repairs, and rejecting those would reject
real files. The problems are kept as the ``pdf_structure`` fact. A scan that stopped at a limit
did not check every body: that rejects (ARCHIVE_EXPANSION for decoding, else CORRUPT).

Bytes that are no PDF syntax, between objects or revisions (before the last ``%%EOF``, or
anywhere when there is none; after it, the polyglot engine looks), are read by no PDF reader.
They are a hiding place: a program, an archive, a picture or a script there is POLYGLOT, as is
more than `TOLERATED_JUNK` bytes of anything else. A few stray bytes (a duplicated keyword, a
line a broken writer left) are tolerated, as every viewer tolerates them.

A stream that is a program (its data, raw or inflated, begins with a Windows or Linux program
header) is POLYGLOT too, unless it is an attached file (those are extracted and scanned): no
page, font, picture or metadata stream is one, so the PDF only carries it for something else
to drop. Only the first `_PEEK` inflated bytes of each stream are looked at.
"""

from __future__ import annotations

import re
import zlib

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from attachguard.codes import AMBIGUOUS, ARCHIVE_EXPANSION, CORRUPT
from attachguard.engines.pdf_active import JUDGED, Seen, resolved
from attachguard.engines.polyglot import POLYGLOT, describe
from attachguard.formats.pdfraw import PdfLayout, Problem, RawObject, names_in

TOLERATED_JUNK = 1024  # bytes, in all: a few stray lines, never room for a program
_WS = b"\x00\t\n\f\r "
_BETWEEN = "between two revisions of the PDF"
_PLACES = {
    Problem.JUNK_IN_REVISION: "between the objects of the PDF",
    Problem.TRAILING_JUNK: "at the end of the PDF",
}
_JUNK = frozenset({*_PLACES, Problem.JUNK_BETWEEN_REVISIONS})
# Problems that are not readers disagreeing: a limit (reported), an object stream pdfraw cannot
# unpack whole (pypdf unpacks it, `pdf_bodies`, which reports one it cannot unpack whole either,
# or whose filters it does not read as viewers read them).
_NOT_READINGS = frozenset({Problem.OVER_LIMIT, Problem.UNREADABLE_OBJECT_STREAM})
_SKIP = re.compile(rb"(?:[\x00\t\n\f\r ]+|%(?!%EOF)[^\r\n]*)*")  # whitespace and comments
# Where junk ends: the next thing a reader takes for PDF syntax again.
_RESUME = re.compile(
    rb"(?<![0-9])[0-9]{1,10}[\x00\t\n\f\r ]+[0-9]{1,5}[\x00\t\n\f\r ]+obj|xref|trailer|startxref"
    rb"|%%EOF"
)


def check_layout(layout: PdfLayout, seen: Seen) -> list[str]:
    """Findings for junk and for a scan cut short; returns the problems that only made readers
    differ (the ``pdf_structure`` fact)."""
    for problem in layout.problems:
        if problem.kind is Problem.OVER_LIMIT:
            code = ARCHIVE_EXPANSION if "decode" in problem.message else CORRUPT
            seen.add(code, f"PDF not read to its end: {problem.message}")
    _check_junk(layout, seen)
    _check_streams(layout, seen)
    differ = {p.kind for p in layout.problems} - _JUNK - _NOT_READINGS
    return sorted(kind.value for kind in differ)


# PDF syntax naming an action or a link between objects: pdf.js reads a dictionary on past an
# "endobj" (it skips a key that is no name), so the text after it may be part of the object
_LINK_NAMES = frozenset({"/URI", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData", "/A", "/Names"})
_ACTION_BETWEEN = (
    "PDF syntax naming an action between the objects of the PDF (a reader that reads an object "
    "on past its end takes it as part of the object)"
)


def _junk_starts(layout: PdfLayout) -> list[tuple[int, str]]:
    """Where bytes that may be no PDF syntax start, before the last ``%%EOF``: after every
    other ``%%EOF`` (pdfraw tolerates a few bytes there, and a program padded with NULs, which
    PDF counts as whitespace, is only a few bytes to it), and where pdfraw found junk."""
    starts = [(revision.end, _BETWEEN) for revision in layout.revisions[:-1]]
    last = layout.revisions[-1].end if layout.revisions else len(layout.data) + 1
    for problem in layout.problems:
        if problem.kind in _PLACES and problem.offset is not None and problem.offset < last:
            starts.append((problem.offset, _PLACES[problem.kind]))
    return starts


def _check_junk(layout: PdfLayout, seen: Seen) -> None:
    data = layout.data
    unknown, first = 0, None
    for start, place in _junk_starts(layout):
        pos = _SKIP.match(data, start).end()  # type: ignore[union-attr]
        if pos >= len(data) or _RESUME.match(data, pos):
            continue  # PDF syntax goes on: an incremental update, not junk
        found = _RESUME.search(data, pos + 1)
        blob = data[pos : found.start() if found else len(data)]
        what = describe(blob)
        if what != f"{len(blob):,} bytes of data":  # describe()'s answer when it knows nothing
            seen.add(POLYGLOT, f"{what} hidden {place}", f"offset {pos}")
            continue
        if names_in(blob) & (JUDGED | _LINK_NAMES):
            seen.add(AMBIGUOUS, _ACTION_BETWEEN, f"offset {pos}")
            continue
        unknown += len(blob.translate(None, _WS))
        first = pos if first is None else first
    if unknown > TOLERATED_JUNK:
        message = f"{unknown:,} bytes of data hidden between the parts of the PDF"
        seen.add(POLYGLOT, message, f"offset {first}")


_PEEK = 4096  # inflated bytes of a stream looked at: a program's headers are in its first page
_MAX_PEEK = 1 << 20  # how far a DOS header may point to its PE header and still be followed
_EMBEDDED = re.compile(rb"/Type[\x00\t\n\f\r ]*/EmbeddedFile(?![^\x00\t\n\f\r ()<>\[\]{}/%])")
_FLATE_ONLY = re.compile(
    rb"/Filter[\x00\t\n\f\r ]*\[?[\x00\t\n\f\r ]*/FlateDecode[\x00\t\n\f\r ]*\]?"
)


def _program(head: bytes) -> str | None:
    """What program ``head`` starts, if any: a DOS header pointing at a PE signature, or ELF."""
    if head[:2] == b"MZ" and len(head) >= 64:
        pe = int.from_bytes(head[0x3C:0x40], "little")
        if head[pe : pe + 4] == b"PE\0\0":
            return "Windows program"
    if head[:4] == b"\x7fELF" and head[4:5] in (b"\x01", b"\x02"):
        return "Linux program"
    return None


def _stream_head(
    layout: PdfLayout, obj: RawObject, span: tuple[int, int], size: int = _PEEK
) -> bytes:
    """The first ``size`` bytes of a stream as a reader decodes it: raw, or inflated when its
    only filter is FlateDecode (damage leaves what inflated before it). A DOS header that
    points past them is followed to its PE header (a linker can put it anywhere)."""
    raw = memoryview(layout.data)[span[0] : span[1]]
    if not _FLATE_ONLY.search(obj.body) or b"/DecodeParms" in obj.body:
        head = bytes(raw[:size])
    else:
        try:
            head = zlib.decompressobj().decompress(raw, size)
        except zlib.error:
            return b""
    if head[:2] == b"MZ" and len(head) >= 64 and size == _PEEK:
        pe = int.from_bytes(head[0x3C:0x40], "little")
        if _PEEK - 4 < pe <= _MAX_PEEK:
            return _stream_head(layout, obj, span, pe + 4)
    return head


def _check_streams(layout: PdfLayout, seen: Seen) -> None:
    for obj in layout.objects:
        if obj.stream is None or _EMBEDDED.search(obj.body):
            continue
        if what := _program(_stream_head(layout, obj, obj.stream)):
            seen.add(POLYGLOT, f"{what} hidden in a stream of the PDF", f"object {obj.number}")


_MAX_TREE = 64  # levels of a page tree (a real one has a handful)


def page_counts_disagree(reader: PdfReader) -> bool:
    """Whether a node of the page tree declares another page count (/Count) than the pages
    below it: PDFium, pdf.js and Acrobat go by the counts, pypdf and others by the pages, so
    they show different pages (a card on a page only some of them show). A tree that loops or
    runs deeper than `_MAX_TREE` levels disagrees too."""
    root = resolved(reader.root_object.get("/Pages"))

    def leaves(node: DictionaryObject, seen: frozenset[int], depth: int) -> int | None:
        kids = resolved(node.get("/Kids"))
        if depth > _MAX_TREE or not isinstance(kids, ArrayObject):
            return None
        total = 0
        for kid in kids:
            number = kid.idnum if isinstance(kid, IndirectObject) else None
            child = resolved(kid)
            if number in seen or not isinstance(child, DictionaryObject):
                return None
            if "/Kids" not in child:
                total += 1
                continue
            below = leaves(child, seen | {number} if number is not None else seen, depth + 1)
            if below is None or resolved(child.get("/Count")) != below:
                return None
            total += below
        return total

    if not isinstance(root, DictionaryObject):
        return False  # no tree: pypdf's reading fails, and says so
    return bool(leaves(root, frozenset(), 0) != resolved(root.get("/Count")))
