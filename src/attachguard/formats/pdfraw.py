"""PDF raw structure: every indirect object in the bytes, the revisions, and the places where
two PDF readers would read different content.

What it reads: one lexical pass over the bytes, as a repairing reader does (mupdf's repair): it
finds each ``N G obj ... endobj``, steps over literal strings, comments and stream data (by
/Length when an ``endstream`` follows it, else up to the next ``endstream``), and notes the
``xref`` tables, trailers, ``startxref`` values and ``%%EOF`` marks between objects. It then
reads the file as Acrobat does, from the last ``startxref`` through every /Prev and /XRefStm,
and parses any object that reading reaches but the lexical pass did not (one hidden inside
another's data). Objects in object streams are unpacked too (not in encrypted files, whose
object streams only pypdf can decrypt). pypdf parses the few dictionaries whose values matter
here (stream lengths, object and cross-reference streams) and decodes cross-reference streams;
the scan itself is hand-written because pypdf's reader repairs silently, and the point here is
to see what needs repair.

Ambiguous (see `Problem`): an object defined twice differently where readers pick different
definitions (the rule is at `_Scan.duplicates`), a cross-reference that does not lead to the
objects, an object that exists only inside other data, junk between or after revisions or
between objects (a few bytes after %%EOF are tolerated), an object with no end, no ``%PDF-`` in
the first 1024 bytes, an object stream that cannot be read. Benign incremental updates (a
signature's appended revision) are not problems. Data before a ``%PDF-`` within the first 1024
bytes is not read (``header_offset`` says where the header is).

Limits: at most ``max_objects`` objects, ``max_expanded`` bytes decoded from object and
cross-reference streams, and bytes scanned at most `_WORK_FACTOR` times the file's size
(unclosed strings and overlapping objects cost re-scans); passing one is an OVER_LIMIT problem.
"""

from __future__ import annotations

import bisect
import itertools
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from io import BytesIO
from operator import itemgetter
from typing import Any, NamedTuple, cast

from pypdf import apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, read_object

from attachguard.formats.pdffilters import OverLimit, readings
from attachguard.formats.pypdf_limits import limited

MAX_OBJECTS = 500_000
MAX_EXPANDED = 64 * 1024 * 1024
HEADER_WINDOW = 1024  # Acrobat looks for %PDF- in the first 1024 bytes
TRAILING_TOLERANCE = 16  # stray bytes writers leave after %%EOF (a DOS end-of-file mark, a line)
_WORK_FACTOR = 8
_MAX_SECTIONS = 1_000  # cross-reference sections followed through /Prev
_EXAMPLES = 3  # offsets quoted in one problem's message

_WS = b"\x00\t\n\f\r "
_NUL_AS_SPACE = bytes.maketrans(b"\x00", b" ")
_REGULAR = rb"[^\x00\t\n\f\r ()<>\[\]{}/%]"
_AFTER_TOKEN = rb"(?<![^\x00\t\n\f\r ()<>\[\]{}%])"  # at the start, or after a space/delimiter
# Whitespace and comments between tokens; possessive, so that a run of "%" cannot be split into
# comments in exponentially many ways when what follows does not match.
_SEP = rb"(?:[\x00\t\n\f\r ]|%[^\r\n]*+)+"
_BARE_HEAD = rb"(\d{1,10})" + _SEP + rb"(\d{1,5})" + _SEP + rb"obj(?!" + _REGULAR + rb")"
_HEAD = _AFTER_TOKEN + _BARE_HEAD
_HEADER = re.compile(_HEAD)
_HEADER_AT = re.compile(_BARE_HEAD)  # read at an offset, a reader does not look behind it
_LEADING_HEAD = re.compile(rb"[\x00\t\n\f\r ]*" + _HEAD)
_BEFORE_KEYWORD = frozenset(b"\x00\t\n\f\r ()<>[]{}%")  # what a keyword may follow
_AFTER_KEYWORD = _BEFORE_KEYWORD | {ord("/")}  # ... and be followed by
_SIMPLE_MAX = 1 << 20  # the longest body read by the fast path (qpdf writes 100 kB arrays)
_SKIP = re.compile(rb"(?:[\x00\t\n\f\r ]+|%(?!%EOF)[^\r\n]*)*")
_TOP = re.compile(
    _HEAD + rb"|(xref|trailer|startxref)(?!" + _REGULAR + rb")|(%%EOF)"
)  # groups: 1-2 object header, 3 keyword, 4 end of file
_RESYNC = re.compile(_HEAD + rb"|" + _AFTER_TOKEN + rb"(?:xref|trailer|startxref)|%%EOF")
# A hex string's "<": the last of a run of an odd number of them (a run is read "<<" by
# "<<", dictionaries opening); it runs to the next ">" whatever is inside, as PDFium, pdf.js and
# MuPDF read it (they skip what is not a hex digit): a "%" or "(" there starts nothing.
_HEX_OPENS = rb"(?<!<)(?:<<)*(?P<hex><)(?!<)"
_BODY = re.compile(
    rb"(\()|(%)|"
    + _AFTER_TOKEN
    + rb"(stream|endobj)(?!"
    + _REGULAR
    + rb")|(?="
    + _HEAD
    + rb"|"
    + _AFTER_TOKEN
    + rb"(?:xref|trailer|startxref)(?!"
    + _REGULAR
    + rb"))|"
    + _HEX_OPENS
)  # groups: 1 string, 2 comment, 3 keyword, "hex" a hex string, else what follows an
# object lacking its endobj
_PARENS = re.compile(rb"\\.|[()]", re.DOTALL)
_LINE = re.compile(rb"[^\r\n]*")
_STREAM_EOL = re.compile(rb" *(?:\r\n|\n|\r)?")
_ENDSTREAM = re.compile(rb"[\x00\t\n\f\r ]*endstream")
_STARTXREF = re.compile(_SEP + rb"(\d{1,20})")
_TABLE = re.compile(
    rb"(?:[\x00\t\n\f\r ]*\d+[\x00\t\n\f\r ]+\d+(?:[\x00\t\n\f\r ]+[nf](?!" + _REGULAR + rb"))?)*"
)
_INT_VALUE = re.compile(
    rb"obj[\x00\t\n\f\r ]*(\d{1,20})[\x00\t\n\f\r ]*endobj(?!" + _REGULAR + rb")"
)
_HEAD_BEFORE = re.compile(_AFTER_TOKEN + rb"(\d{1,10})" + _SEP + rb"(\d{1,5})" + _SEP + rb"\Z")
_SIMPLE_LENGTH = re.compile(
    rb"/Length[\x00\t\n\f\r ]+(\d{1,20}+)(?![\x00\t\n\f\r ]+\d+[\x00\t\n\f\r ]+R)"
)
_CROSSED = re.compile(rb"endobj|" + _HEAD)  # what a hex string may not run across
_NAME_LEX = re.compile(rb"(\()|%[^\r\n]*|" + _HEX_OPENS + rb"|(/" + _REGULAR + rb"*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class Problem(StrEnum):
    DUPLICATE_OBJECT = "duplicate_object"
    BROKEN_XREF = "broken_xref"
    OVERLAPPING_OBJECT = "overlapping_object"
    JUNK_BETWEEN_REVISIONS = "junk_between_revisions"
    JUNK_IN_REVISION = "junk_in_revision"
    TRAILING_JUNK = "trailing_junk"
    MISSING_HEADER = "missing_header"
    UNTERMINATED_OBJECT = "unterminated_object"
    UNREADABLE_OBJECT_STREAM = "unreadable_object_stream"
    OVER_LIMIT = "over_limit"


@dataclass(frozen=True)
class PdfProblem:
    kind: Problem
    message: str
    offset: int | None = None


class RawObject(NamedTuple):
    """One definition of an indirect object. ``body`` is its text between ``obj`` and
    ``stream``/``endobj`` (the dictionary, or the value); ``stream`` is the span of its raw
    stream data in the file. An object from an object stream has the stream's ``offset``, its
    number as ``container`` and its place in it as ``slot``."""

    number: int
    generation: int
    offset: int
    body: bytes
    stream: tuple[int, int] | None = None
    container: int | None = None
    slot: int = 0
    reading: int = 0  # in an object stream readers decode differently: 0 is pypdf's reading


@dataclass(frozen=True)
class Revision:
    """One revision: it ends just after its ``%%EOF`` at ``end``; ``startxref`` as written."""

    end: int
    startxref: int | None


@dataclass
class PdfLayout:
    """What `scan_pdf_objects` found. ``complete`` is False when a limit stopped it;
    ``encrypted`` files' object streams are not unpacked."""

    data: bytes = field(repr=False)
    header_offset: int | None
    objects: list[RawObject]
    revisions: list[Revision]
    problems: list[PdfProblem]
    encrypted: bool
    complete: bool

    def stream_data(self, obj: RawObject) -> bytes:
        """The raw (still encoded) stream data of ``obj``; b"" for an object without one."""
        return self.data[obj.stream[0] : obj.stream[1]] if obj.stream else b""

    def revision_of(self, obj: RawObject) -> int:
        """The index of the revision ``obj`` is in (len(revisions): after the last %%EOF)."""
        return bisect.bisect_right([r.end for r in self.revisions], obj.offset)


def names_in(body: bytes) -> set[str]:
    """The names in an object's text, ``#xx`` escapes decoded (``/J#61vaScript`` is
    ``/JavaScript``); names inside strings and comments are not names (`_lexemes`)."""
    return {_decode_name(body[start:end]) for kind, start, end in _lexemes(body) if kind == "name"}


def _lexemes(body: bytes) -> Iterator[tuple[str, int, int]]:
    """The literal strings, comments, hex strings (their text between "<" and ">": it runs to
    the ">" whatever it holds, `_HEX_OPENS`) and names of an object's text, in order, as
    (kind, start, end). After a string that is never closed the rest is read as names too (a
    reader may not treat it as a string): no later "(" is looked for, which keeps this
    linear."""
    pos, strings, last_close = 0, True, body.rfind(b">")
    while match := _NAME_LEX.search(body, pos):
        pos = match.end()
        if match[1]:
            end = _string_end(body, match.start()) if strings else None
            if end is not None:
                yield "string", match.start(), end
                pos = end
            strings = strings and end is not None
        elif match["hex"]:
            if pos <= last_close:
                close = body.index(b">", pos)
                yield "hex", pos, close
                pos = close + 1
        elif match[3]:
            yield "name", match.start(3), match.end(3)
        else:
            yield "comment", match.start(), pos


def _rewritten(body: bytes, spans: Iterable[tuple[int, int, bytes]]) -> bytes:
    """``body`` with each (start, end) span replaced (spans in order); itself when none is."""
    out, kept = [], 0
    for start, end, text in spans:
        out += [body[kept:start], text]
        kept = end
    return b"".join([*out, body[kept:]]) if out else body


def outside_strings(body: bytes) -> bytes:
    """``body`` with its literal strings and comments blanked, as `names_in` skips them (what
    a string holds is no syntax: a title may spell ``/EF << /F 7 0 R >>``)."""
    return _rewritten(
        body,
        ((s, e, b" " * (e - s)) for kind, s, e in _lexemes(body) if kind in ("string", "comment")),
    )


_BLANKS = b"\x00\t\n\f\r "
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]+")


def hex_as_viewers_read(body: bytes) -> bytes:
    """``body`` with each hex string's text cut to its hex digits, as PDFium, pdf.js and MuPDF
    read one (pypdf fails on anything else, and gives up on the dictionary it is in); the body
    itself when nothing changes. Strings and comments are skipped as `names_in` skips them."""
    if b"<" not in body:
        return body
    return _rewritten(
        body,
        (
            (s, e, _NOT_HEX.sub(b"", body[s:e]))
            for kind, s, e in _lexemes(body)
            if kind == "hex" and _NOT_HEX.search(body, s, e) and body[s:e].strip(_BLANKS)
        ),
    )


def stream_header(plain: bytes, count: int, first: int) -> list[tuple[int, int]]:
    """An object stream's header as PDFium and pdf.js read it: up to ``count`` pairs of
    integers (object number, offset from /First) from the start of its data, whatever /First
    says (a /First of 0 puts the offsets' origin at the start, the header included); the pairs
    read before the first token that is not an integer. A token ends at a blank (a NUL is one)
    or a delimiter, as PDF's lexers end it (hunt 102: pdfcpu writes ``4 0 2 42<</Contents``,
    the first object right after the last offset)."""
    found = _HEADER_TOKEN.finditer(plain)
    tokens = [match[0] for match in itertools.islice(found, 2 * count)]
    pairs = []
    for i in range(0, len(tokens) - 1, 2):
        number, offset = tokens[i], tokens[i + 1]
        if not (number.isdigit() and offset.lstrip(b"+-").isdigit()):
            break
        pairs.append((int(number), first + abs(int(offset))))
    return pairs


_HEADER_TOKEN = re.compile(rb"[^\x00\t\n\f\r ()<>\[\]{}/%]+|[()<>\[\]{}/%]")


def _decode_name(raw: bytes) -> str:
    plain = _ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw)
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return plain.decode("latin-1")


def _string_end(data: bytes, start: int) -> int | None:
    """The end of the literal string opening at ``start`` (balanced parentheses, backslash
    escapes), None when it is never closed."""
    depth = 0
    for match in _PARENS.finditer(data, start):
        if match[0] == b"(":
            depth += 1
        elif match[0] == b")":
            depth -= 1
            if depth == 0:
                return match.end()
    return None


class _Detached:
    """What pypdf's parser needs of a reader to parse one object on its own: strictness, so
    that a damaged dictionary raises instead of coming back half read."""

    strict = True


_READER = cast(Any, _Detached())
_KEY = itemgetter(0, 1)  # an object's (number, generation)
_PARSE_ERRORS = (PyPdfError, ValueError, LookupError, TypeError, AttributeError, RecursionError,
                 ArithmeticError, NotImplementedError)  # fmt: skip


def _parse(text: bytes) -> Any:
    """One PDF object parsed by pypdf (references stay unresolved), None when it cannot be."""
    try:
        return read_object(BytesIO(text.strip(_WS)), _READER)
    except _PARSE_ERRORS:
        return None


class _OverBudget(Exception):
    """Decoding would pass the byte limit."""


def _decode(info: DictionaryObject, raw: bytes, budget: int) -> list[bytes]:
    """A stream's data within budget, as each reader decodes it (the distinct readings):
    unfiltered, or a lone FlateDecode without parameters (zlib, pypdf's tolerance where zlib
    fails), or any chain of the standard filters as pypdf, PDFium and pdf.js give it its
    parameters (`pdffilters.readings`)."""
    filters = info.get("/Filter")
    filters = list(filters) if isinstance(filters, ArrayObject) else [filters] if filters else []
    if not filters:
        return [raw]
    if filters == ["/FlateDecode"] and "/DecodeParms" not in info and "/DP" not in info:
        try:
            out = zlib.decompressobj().decompress(raw, budget + 1)
        except zlib.error:
            out = None  # pypdf's decoder is more tolerant, as viewers are
        if out is not None:
            if len(out) > budget:
                raise _OverBudget
            return [out]
    try:
        with apply_configuration(limited(max(budget, 1))):
            return readings(info, raw, budget)
    except (OverLimit, LimitReachedError) as exc:
        raise _OverBudget from exc


# A cross-reference entry (kind, first, second): "n" (offset, generation), "c" (object stream,
# slot), "f" (free). A plain tuple: a 100,000-entry table is built without a Python call each.
_Entry = tuple[str, int, int]
_FREE: _Entry = ("f", 0, 0)


@dataclass
class _Section:
    entries: dict[int, _Entry]
    trailer: DictionaryObject


@dataclass
class _Cursor:
    """Where the scan of one object's body stands."""

    pos: int
    body_end: int | None = None
    stream: tuple[int, int] | None = None
    resume: int | None = None  # set when the object is done: where the lexical pass goes on

    def finish(self, resume: int, body_end: int | None = None) -> None:
        self.resume = resume
        if self.body_end is None:
            self.body_end = resume if body_end is None else body_end


class _Scan:
    """One scan's state (made per call, never shared)."""

    def __init__(self, data: bytes, max_objects: int, max_expanded: int) -> None:
        self.data, self.size = data, len(data)
        self.last_close = data.rfind(b">")  # no hex string runs past it
        self.io = BytesIO(data)  # shares the bytes until written to, which it never is
        self.max_objects, self.max_expanded, self.expanded_left = (
            max_objects, max_expanded, max_expanded
        )  # fmt: skip
        self.work_left = _WORK_FACTOR * len(data) + 1024 * 1024
        self.objects: list[RawObject] = []
        self.at_offset: dict[int, RawObject] = {}
        self.in_stream: dict[tuple[int, int], RawObject] = {}
        self.revisions: list[Revision] = []
        self.problems: list[PdfProblem] = []
        self.junk: list[tuple[int, int, bool, int]] = []  # start, end, after %%EOF, tokens before
        self.tokens = 0
        self.after_eof = False
        self.startxref: int | None = None
        self.trailers: list[DictionaryObject] = []
        self.sections: dict[int, _Section | None] = {}
        self.header_offset = 0
        self.from_file_start = False  # an offset that holds only counted from the first byte
        self.stopped = False
        self.encrypted = False
        self.unread_streams: set[int] = set()  # object streams not unpacked
        self._ints: dict[tuple[int, int], set[int]] | None = None
        self._endstream = (self.size + 1, -1)  # (searched from, found at): no search yet

    # -- bookkeeping ------------------------------------------------------------------------
    def problem(self, kind: Problem, message: str, offset: int | None = None) -> None:
        self.problems.append(PdfProblem(kind, message, offset))

    def stop(self, message: str) -> None:
        if not self.stopped:
            self.problem(Problem.OVER_LIMIT, message)
        self.stopped = True

    def spend(self, amount: int) -> None:
        self.work_left -= amount
        if self.work_left < 0:
            self.stop(f"more than {_WORK_FACTOR} times the file's size scanned; the rest not read")

    def add(self, obj: RawObject) -> None:
        if len(self.objects) >= self.max_objects:
            self.stop(f"more than {self.max_objects:,} objects; the rest not read")
            return
        self.objects.append(obj)
        if obj.container is None:
            self.at_offset.setdefault(obj.offset, obj)
        else:
            self.in_stream.setdefault((obj.container, obj.slot), obj)

    # -- the lexical pass -------------------------------------------------------------------
    def lex(self, pos: int) -> None:
        data, size, skip = self.data, self.size, _SKIP.match
        while pos < size and not self.stopped:
            pos = skip(data, pos).end()  # type: ignore[union-attr]
            if pos >= size:
                break
            after = self.simple_objects(pos)
            if after != pos:
                pos = after
                continue
            match = _TOP.match(data, pos)
            if match is None:
                pos = self.skip_junk(pos)
                continue
            self.tokens += 1
            pos = self.token(match)

    def simple_objects(self, pos: int) -> int:
        """Read consecutive simple objects from ``pos`` (a short body with no string, comment or
        stream: most of a PDF's objects) in one tight loop, and return where they end; this loop
        keeps 100,000 objects under a second. Each try searches only up to the next "obj", which
        the careful path then reads past too, so that failed tries cost linear time."""
        data, objects, at_offset, find = self.data, self.objects, self.at_offset, self.data.find
        room, taken = self.max_objects - len(objects), 0
        while taken < room and (found := _LEADING_HEAD.match(data, pos)) is not None:
            body_start = found.end()
            stop = find(b"obj", body_start, body_start + _SIMPLE_MAX)  # "endobj", we hope
            end, after = stop - 3, stop + 3
            if stop < 0 or data[end:stop] != b"end" or data[end - 1] not in _BEFORE_KEYWORD:
                break
            if find(b"stream", body_start, end) >= 0:
                break  # a stream, found before its data is copied: the careful path reads it
            body = data[body_start:end]
            if b"(" in body or b"%" in body or b"xref" in body:
                break  # a string, a comment, a stream, or a table after an object with no end
            if b"trailer" in body or (after < self.size and data[after] not in _AFTER_KEYWORD):
                break
            obj = RawObject(int(found[1]), int(found[2]), found.start(1), body)
            objects.append(obj)
            at_offset.setdefault(obj.offset, obj)
            pos, taken = _SKIP.match(data, after).end(), taken + 1  # type: ignore[union-attr]
        if taken:
            self.tokens += taken
            self.after_eof = False
        return pos

    def token(self, match: re.Match[bytes]) -> int:
        self.after_eof = match[4] is not None
        if match[1] is not None:
            return self.parse_object(match)
        if match[4] is not None:
            self.revisions.append(Revision(match.end(), self.startxref))
            self.startxref = None
            return match.end()
        if match[3] == b"xref":
            return _TABLE.match(self.data, match.end()).end()  # type: ignore[union-attr]
        if match[3] == b"trailer":
            trailer, end = self.parse_at(match.end())
            if isinstance(trailer, DictionaryObject):
                self.trailers.append(trailer)
                return end
            return match.end()  # what follows is junk, and reported as such
        found = _STARTXREF.match(self.data, match.end())
        self.startxref = int(found[1]) if found else None
        return found.end() if found else match.end()

    def skip_junk(self, pos: int) -> int:
        found = _RESYNC.search(self.data, pos + 1)
        end = found.start() if found else self.size
        self.junk.append((pos, end, self.after_eof, self.tokens))
        self.spend(end - pos)
        return end

    def parse_at(self, pos: int) -> tuple[Any, int]:
        """The object pypdf reads at ``pos`` (None when it cannot) and where it ends."""
        self.io.seek(_SKIP.match(self.data, pos).end())  # type: ignore[union-attr]
        try:
            return read_object(self.io, _READER), self.io.tell()
        except _PARSE_ERRORS:
            return None, pos

    def parse_object(self, match: re.Match[bytes]) -> int:
        start, body_start = match.start(), match.end()
        cursor = _Cursor(body_start)
        while cursor.resume is None and not self.stopped:
            self.body_event(cursor, start, body_start)
        resume = self.size if cursor.resume is None else cursor.resume
        body = self.data[body_start : cursor.body_end or resume]
        self.add(RawObject(int(match[1]), int(match[2]), start, body, cursor.stream))
        self.spend(resume - start)
        return resume

    def body_event(self, cursor: _Cursor, start: int, body_start: int) -> None:
        event = _BODY.search(self.data, cursor.pos)
        if event is None:
            self.problem(Problem.UNTERMINATED_OBJECT, "object with no endobj", start)
            cursor.finish(self.size)
        elif event[1]:
            self.skip_string(cursor, event.start(), start)
        elif event[2]:
            cursor.pos = _LINE.match(self.data, event.end()).end()  # type: ignore[union-attr]
        elif event[3] == b"stream" and cursor.stream is None:
            self.skip_stream(cursor, event, start, body_start)
        elif event[3] == b"stream":  # a second stream keyword: part of no object
            cursor.pos = event.end()
        elif event[3] == b"endobj":
            cursor.finish(event.end(), event.start())
        elif event["hex"]:  # a hex string: nothing in it starts a string, a comment or a keyword
            closing = self.data.find(b">", event.end(), self.last_close + 1)
            # but no "endobj" or object header: a repairing reader finds those wherever they lie
            # (a hex string left open to swallow the next object hid it from this scan)
            crossed = closing >= 0 and _CROSSED.search(self.data, event.end(), closing)
            cursor.pos = closing + 1 if closing >= 0 and not crossed else event.end()
        else:  # the next object begins: this one lacks its endobj, as sloppy writers leave it
            cursor.finish(event.start())

    def skip_string(self, cursor: _Cursor, opening: int, start: int) -> None:
        end = _string_end(self.data, opening)
        if end is not None:
            cursor.pos = end
            return
        self.spend(self.size - opening)
        self.problem(Problem.UNTERMINATED_OBJECT, "string that is never closed", start)
        # The rest is not all one string to every reader: go on at the next object header.
        found = _HEADER.search(self.data, opening + 1)
        cursor.finish(found.start() if found else self.size)

    def skip_stream(
        self, cursor: _Cursor, event: re.Match[bytes], start: int, body_start: int
    ) -> None:
        cursor.body_end = event.start()
        data_start = _STREAM_EOL.match(self.data, event.end()).end()  # type: ignore[union-attr]
        for length in self.lengths(self.data[body_start : event.start()]):
            fits = 0 <= length <= self.size - data_start
            after = _ENDSTREAM.match(self.data, data_start + length) if fits else None
            if after is not None:
                cursor.stream, cursor.pos = (data_start, data_start + length), after.end()
                return
        found = self.find_endstream(data_start)
        if found < 0:
            self.problem(Problem.UNTERMINATED_OBJECT, "stream with no endstream", start)
            cursor.stream = (data_start, self.size)
            cursor.finish(self.size)
            return
        end = found - (2 if self.data[found - 2 : found] == b"\r\n" else 1)
        if self.data[end : end + 1] not in (b"\r", b"\n"):
            end = found
        cursor.stream, cursor.pos = (data_start, max(end, data_start)), found + len(b"endstream")

    def find_endstream(self, pos: int) -> int:
        """The next ``endstream`` from ``pos``; remembers its last answer, so that many
        streams without a usable /Length cost one pass over the file, not one each."""
        searched, found = self._endstream
        if searched <= pos and (found < 0 or pos <= found):
            return found
        found = self.data.find(b"endstream", pos)
        self._endstream = (pos, found)
        return found

    def lengths(self, text: bytes) -> list[int]:
        """The /Length a stream's dictionary gives: a direct number, or every value the object
        it refers to is given in the file (a reader takes one of them)."""
        # One plain /Length in the text: the stream's, or a nested dictionary's, which then
        # fails the endstream check below like any wrong length. pypdf's parse costs 0.3 ms.
        if b"#" not in text and b"(" not in text:
            simple = _SIMPLE_LENGTH.findall(text)
            if len(simple) == 1:
                return [int(simple[0])]
        info = _parse(text)
        value = info.get("/Length") if isinstance(info, DictionaryObject) else None
        if isinstance(value, int):
            return [value]
        if isinstance(value, IndirectObject):
            return sorted(self.int_objects().get((value.idnum, value.generation), ()))
        return []

    def int_objects(self) -> dict[tuple[int, int], set[int]]:
        """Every ``N G obj <integer> endobj`` in the file: the indirect stream lengths. Found
        from "obj" (a literal the regex engine searches fast), then the header checked behind
        it: a pattern starting with the header costs a regex attempt at every byte."""
        if self._ints is None:
            self._ints = {}
            for found in _INT_VALUE.finditer(self.data):
                window = self.data[max(0, found.start() - 64) : found.start()]
                head = _HEAD_BEFORE.search(window)
                if head is not None:
                    key = (int(head[1]), int(head[2]))
                    self._ints.setdefault(key, set()).add(int(found[1]))
        return self._ints

    # -- object streams ---------------------------------------------------------------------
    def unpack_object_streams(self) -> None:
        for obj in list(self.objects):
            if obj.stream is None or not (b"ObjStm" in obj.body or b"#" in obj.body):
                continue
            if "/ObjStm" in names_in(obj.body):
                if self.encrypted or self.stopped:
                    self.unread_streams.add(obj.number)
                else:
                    self.object_stream(obj)

    def object_stream(self, obj: RawObject) -> None:
        info = _parse(obj.body)
        if not isinstance(info, DictionaryObject):
            self.unreadable(obj, "its dictionary cannot be read")
            return
        count, first = info.get("/N"), info.get("/First")
        if not (isinstance(count, int) and isinstance(first, int) and count >= 0 <= first):
            self.unreadable(obj, "no usable /N and /First")
            return
        try:
            plains = _decode(
                self.parameters_followed(info), self.raw_stream(obj), self.expanded_left
            )
        except _OverBudget:
            self.stop(f"streams decode to more than {self.max_expanded:,} bytes")
            return
        except (*_PARSE_ERRORS, zlib.error) as exc:
            self.unreadable(obj, str(exc))
            return
        self.expanded_left -= sum(map(len, plains))
        for reading, plain in enumerate(plains):  # each reader sees its own objects
            if plain or not reading:
                self.contained(obj, plain, int(count), int(first), reading)

    def parameters_followed(self, info: DictionaryObject) -> DictionaryObject:
        """``info`` with its filter parameters (``/DecodeParms``, ``/DP``, an array's items)
        given by reference replaced by the object each names (its last definition outside an
        object stream); ValueError when one names nothing readable: which parameters a reader
        takes is then not known."""
        out = DictionaryObject(info)
        for key in ("/DecodeParms", "/DP"):
            if key in out:
                value = self.followed(out.raw_get(key))  # [] would follow it, by pypdf
                if isinstance(value, ArrayObject):
                    value = ArrayObject(self.followed(item) for item in list.__iter__(value))
                out[NameObject(key)] = value
        return out

    def followed(self, value: Any) -> Any:
        if not isinstance(value, IndirectObject):
            return value
        bodies = [o for o in self.objects if o.number == value.idnum and o.container is None]
        found = _parse(bodies[-1].body) if bodies else None
        if found is None or isinstance(found, IndirectObject):
            raise ValueError("filter parameters given by a reference that names nothing")
        return found

    def unreadable(self, obj: RawObject, why: str) -> None:
        self.unread_streams.add(obj.number)
        message = f"object stream {obj.number}: {why}"
        self.problem(Problem.UNREADABLE_OBJECT_STREAM, message, obj.offset)

    def contained(
        self, obj: RawObject, plain: bytes, count: int, first: int, reading: int = 0
    ) -> None:
        """The objects an object stream holds: its header pairs (`stream_header`), each
        object running to the next one's start."""
        pairs = stream_header(plain, count, first)
        if len(pairs) < count:
            message = f"object stream {obj.number}: its header lists {len(pairs)} of {count}"
            self.problem(Problem.UNREADABLE_OBJECT_STREAM, message, obj.offset)
        starts = sorted({start for _, start in pairs} | {len(plain)})
        for index, (number, start) in enumerate(pairs):
            end = starts[bisect.bisect_right(starts, start)] if start < len(plain) else start
            body = plain[start:end]
            self.add(RawObject(number, 0, obj.offset, body, None, obj.number, index, reading))

    # -- the cross-reference, as Acrobat reads it --------------------------------------------
    def follow_xref(self) -> dict[int, _Entry] | None:
        """Entries from the last ``startxref`` back through /Prev, newest first; None (and a
        BROKEN_XREF problem) when that chain does not hold."""
        at = self.data.rfind(b"startxref")
        found = _STARTXREF.match(self.data, at + len(b"startxref")) if at >= 0 else None
        if found is None:
            self.problem(Problem.BROKEN_XREF, "no startxref at the end of the file")
            return None
        entries: dict[int, _Entry] = {}
        offset: int | None = int(found[1])
        seen: set[int] = set()
        while offset is not None:
            section = self.section(offset) if offset not in seen else None
            if section is None or len(seen) >= _MAX_SECTIONS:
                why = "loops" if offset in seen else f"points at no cross-reference ({offset})"
                self.problem(Problem.BROKEN_XREF, f"the cross-reference chain {why}", offset)
                return None
            seen.add(offset)
            self.trailers.insert(len(seen) - 1, section.trailer)  # newest first, then lexed
            for number, entry in section.entries.items():
                entries.setdefault(number, entry)
            prev = section.trailer.get("/Prev")
            offset = int(prev) if isinstance(prev, int) else None
        return entries

    def section(self, offset: int) -> _Section | None:
        if offset not in self.sections:
            self.sections[offset] = None
            for pos in dict.fromkeys((offset + self.header_offset, offset)):
                found = self.read_section(pos) if 0 <= pos < self.size else None
                if found is not None:
                    self.sections[offset] = found
                    self.from_file_start |= pos != offset + self.header_offset
                    break
        return self.sections[offset]

    def read_section(self, pos: int) -> _Section | None:
        pos = _SKIP.match(self.data, pos).end()  # type: ignore[union-attr]
        if self.data.startswith(b"xref", pos):
            return self.table_section(pos + len(b"xref"))
        obj = self.object_at(pos)
        return self.stream_section(obj) if obj is not None else None

    def object_at(self, pos: int) -> RawObject | None:
        """The object whose header is at ``pos``; one the lexical pass did not see (inside
        another object's data) is parsed now, and reported."""
        if pos in self.at_offset or self.stopped:
            return self.at_offset.get(pos)
        header = _HEADER_AT.match(self.data, pos)
        if header is None:
            return None
        self.parse_object(header)
        found = self.at_offset.get(pos)
        if found is not None:
            message = f"object {found.number} is inside other data: only readers that follow "
            message += "the cross-reference see it, not those that read the file in order"
            self.problem(Problem.OVERLAPPING_OBJECT, message, pos)
        return found

    def table_section(self, pos: int) -> _Section | None:
        end = _TABLE.match(self.data, pos).end()  # type: ignore[union-attr]
        tokens = self.data[pos:end].split()
        entries: dict[int, _Entry] = {}
        index = 0
        try:
            while index < len(tokens):
                first, count = int(tokens[index]), int(tokens[index + 1])
                rows = tokens[index + 2 : index + 2 + 3 * count]
                kinds = rows[2::3]
                if len(rows) < 3 * count or not set(kinds) <= {b"n", b"f"}:
                    return None
                offsets, generations = map(int, rows[0::3]), map(int, rows[1::3])
                found = zip(map(bytes.decode, kinds), offsets, generations, strict=True)
                entries.update(zip(range(first, first + count), found, strict=True))
                index += 2 + 3 * count
        except ValueError:
            return None
        after = _SKIP.match(self.data, end).end()  # type: ignore[union-attr]
        trailer, _ = self.parse_at(after + len(b"trailer"))
        if not self.data.startswith(b"trailer", after) or not isinstance(trailer, DictionaryObject):
            return None
        hidden = trailer.get("/XRefStm")  # a hybrid file: entries only newer readers see
        extra = self.section(int(hidden)) if isinstance(hidden, int) else None
        for number, entry in extra.entries.items() if extra else ():
            if entries.get(number, _FREE)[0] == "f":
                entries[number] = entry
        return _Section(entries, trailer)

    def stream_section(self, obj: RawObject) -> _Section | None:
        info = _parse(obj.body)
        if not isinstance(info, DictionaryObject) or info.get("/Type") != "/XRef" or not obj.stream:
            return None
        widths, size = info.get("/W"), info.get("/Size")
        index = info.get("/Index", ArrayObject([0, size]))
        try:
            plains = _decode(info, self.raw_stream(obj), self.expanded_left)
            self.expanded_left -= sum(map(len, plains))
            if len(plains) > 1:
                return None  # readers decode the table differently: no one reading of it
            (plain,) = plains
            entries = _stream_entries(
                plain, [int(w) for w in widths or ()], [int(i) for i in index]
            )
        except _OverBudget:
            self.stop(f"streams decode to more than {self.max_expanded:,} bytes")
            return None
        except (*_PARSE_ERRORS, zlib.error):
            return None
        return _Section(entries, info)

    # -- checks -----------------------------------------------------------------------------
    def check_entries(self, entries: dict[int, _Entry]) -> None:
        """BROKEN_XREF for in-use entries that do not lead to their object."""
        at_offset, bad = self.at_offset, []
        for number, (kind, first, second) in entries.items():
            if kind == "n" and first in at_offset:  # most entries: the object is right there
                found = at_offset[first]
                if found.number == number and found.generation == second:
                    continue
            if kind == "f" or (kind, first) == ("n", 0):
                continue  # free; an in-use entry at offset 0 every reader takes for null
            if kind == "c" and first in self.unread_streams:
                continue  # already reported, or encrypted
            obj = self.entry_object((kind, first, second))
            if obj is None or (obj.number, obj.generation) != (number, second * (kind == "n")):
                bad.append(f"object {number} at {first}")
        if bad:
            examples = ", ".join(bad[:_EXAMPLES])
            message = f"{len(bad)} cross-reference entries lead to no such object ({examples})"
            self.problem(Problem.BROKEN_XREF, message)

    def entry_object(self, entry: _Entry) -> RawObject | None:
        """The definition a reader following the cross-reference takes for ``entry``."""
        kind, first, second = entry
        if kind == "c":
            return self.in_stream.get((first, second))
        if kind != "n":
            return None
        if first in self.at_offset:
            return self.at_offset[first]
        for pos in dict.fromkeys((first + self.header_offset, first)):
            if 0 <= pos < self.size:
                obj = self.object_at(_SKIP.match(self.data, pos).end())  # type: ignore[union-attr]
                if obj is not None:
                    self.from_file_start |= pos != first + self.header_offset
                    return obj
        return None

    def duplicates(self, entries: dict[int, _Entry] | None) -> None:
        """DUPLICATE_OBJECT for an object defined more than once with different content, when
        readers may take different definitions. The rule: a reader that follows the
        cross-reference takes the definition its entry points at; a reader that scans the file
        (the repair every viewer falls back to) takes the last one. So it is a problem when
        (a) the two differ, (b) two differ within one revision (no writer does that; readers
        that keep the first one exist), or (c) the cross-reference is broken, so that every
        reader repairs, each its own way. An incremental update redefines an object in a later
        revision and points the new cross-reference at it: the last one, in all readings."""
        counts = Counter(map(_KEY, self.objects))
        twice = {key for key, count in counts.items() if count > 1}
        groups: dict[tuple[int, int], list[RawObject]] = {}
        for obj in self.objects if twice else ():
            if (obj.number, obj.generation) in twice:
                groups.setdefault((obj.number, obj.generation), []).append(obj)
        ends = [r.end for r in self.revisions]
        for (number, generation), defs in groups.items():
            defs.sort(key=lambda d: (d.offset, d.slot))
            contents = [self.content(d) for d in defs]
            if len(set(contents)) < 2:
                continue
            entry = entries.get(number) if entries is not None else None
            picked = self.entry_object(entry) if entry else None
            if picked is not None and _KEY(picked) != (number, generation):
                picked = None
            why = _why_ambiguous(defs, contents, ends, entries is None, picked, self.content)
            if why:
                message = f"object {number} {generation} defined {len(defs)} times, differently: "
                self.problem(Problem.DUPLICATE_OBJECT, message + why, defs[-1].offset)

    def raw_stream(self, obj: RawObject) -> bytes:
        return self.data[obj.stream[0] : obj.stream[1]] if obj.stream else b""

    def content(self, obj: RawObject) -> bytes:
        return obj.body.strip(_WS) + b"\0stream\0" + self.raw_stream(obj)

    def classify_junk(self) -> None:
        """JUNK_* and TRAILING_JUNK for bytes that are no PDF syntax. After a %%EOF, a few
        (`TRAILING_TOLERANCE`) are what some writers leave and are not reported."""
        trailing, trailing_at = 0, None
        for start, end, after_eof, tokens_before in self.junk:
            size = len(self.data[start:end].translate(None, _WS))
            if tokens_before == self.tokens:  # nothing PDF follows it
                trailing += size
                trailing_at = start if trailing_at is None else trailing_at
            elif after_eof and size > TRAILING_TOLERANCE:
                message = f"{size} bytes that are not PDF syntax between two revisions"
                self.problem(Problem.JUNK_BETWEEN_REVISIONS, message, start)
            elif not after_eof:
                message = f"{size} bytes that are not PDF syntax between objects"
                self.problem(Problem.JUNK_IN_REVISION, message, start)
        if trailing > TRAILING_TOLERANCE:
            message = f"{trailing} bytes that are not PDF syntax after the end of the PDF"
            self.problem(Problem.TRAILING_JUNK, message, trailing_at)


def _why_ambiguous(
    defs: list[RawObject],
    contents: list[bytes],
    ends: list[int],
    broken: bool,
    picked: RawObject | None,
    content: Callable[[RawObject], bytes],
) -> str | None:
    """Why readers may take different ones of ``defs`` (in file order), None when they agree;
    ``picked`` is the one the cross-reference leads to."""
    if broken:
        return "the cross-reference is broken, and readers repair it differently"
    seen: dict[int, bytes] = {}
    for obj, text in zip(defs, contents, strict=True):
        revision = bisect.bisect_right(ends, obj.offset)
        if seen.setdefault(revision, text) != text:
            return "twice in one revision"
    if picked is not None and content(picked) != contents[-1]:
        where = f"object stream {picked.container}" if picked.container else f"{picked.offset}"
        return f"the cross-reference picks the one at {where}, a repairing reader the last"
    return None


def _stream_entries(plain: bytes, widths: list[int], index: list[int]) -> dict[int, _Entry]:
    """The entries of a cross-reference stream: rows of /W field widths, numbered by /Index."""
    row = sum(widths)
    if len(widths) != 3 or min(widths) < 0 or row == 0 or len(index) % 2:
        raise ValueError("unusable /W or /Index")
    kinds = {0: "f", 1: "n", 2: "c"}  # other types are null references: free
    a, b = widths[0], widths[0] + widths[1]
    entries: dict[int, _Entry] = {}
    pos = 0
    for first, count in zip(index[0::2], index[1::2], strict=True):
        for number in range(first, first + max(0, min(count, (len(plain) - pos) // row))):
            raw = plain[pos : pos + row]
            pos += row
            kind = kinds.get(int.from_bytes(raw[:a], "big") if a else 1, "f")
            field = (kind, int.from_bytes(raw[a:b], "big"), int.from_bytes(raw[b:], "big"))
            entries.setdefault(number, field)
    return entries


def scan_pdf_objects(
    data: bytes, *, max_objects: int = MAX_OBJECTS, max_expanded: int = MAX_EXPANDED
) -> PdfLayout:
    """Every indirect object in ``data`` (see the module docstring), the revisions, and the
    problems that make readers disagree. Never raises on damaged input: damage is a problem."""
    scan = _Scan(data, max_objects, max_expanded)
    header = data.find(b"%PDF-")
    if not 0 <= header <= HEADER_WINDOW:
        where = f"at offset {header}" if header >= 0 else "anywhere"
        scan.problem(
            Problem.MISSING_HEADER, f"no %PDF- in the first {HEADER_WINDOW} bytes; {where}"
        )
    scan.header_offset = max(header, 0)
    scan.lex(scan.header_offset)
    entries = scan.follow_xref()
    # Readers take /Encrypt from the newest trailer; a broken chain leaves the ones lexed.
    scan.encrypted = any(
        "/Encrypt" in t for t in scan.trailers[: 1 if entries is not None else None]
    )
    scan.unpack_object_streams()
    if entries is not None:
        scan.check_entries(entries)
    if 0 < header <= HEADER_WINDOW and scan.from_file_start:
        # pdf.js counts offsets from the header only: the cross-reference fails it, and it
        # rebuilds it from every "N G obj" in the file, stream data included
        message = f"{header} bytes before the header, offsets counted from the file's first byte"
        scan.problem(Problem.BROKEN_XREF, message)
    scan.duplicates(entries)
    scan.classify_junk()
    return PdfLayout(
        data=data,
        header_offset=header if header >= 0 else None,
        objects=scan.objects,
        revisions=scan.revisions,
        problems=scan.problems,
        encrypted=scan.encrypted,
        complete=not scan.stopped,
    )
