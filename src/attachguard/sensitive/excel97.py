"""The text of an Excel 97-2003 (BIFF8 ``Workbook``) or 5.0/95 (BIFF5 ``Book``) workbook
stream, for `sensitive.legacy`: the shared strings (SST, across its CONTINUE records), LABEL,
RSTRING and formula STRING results, numeric cells (NUMBER, RK, MULRK, formula results) as
Excel shows them (a 15-digit number as its digits), the text of cell comments and text boxes
(TXO and the CONTINUE records after it), the sheets' names (BOUNDSHEET, on their tabs), their
print headers and footers (HEADER, FOOTER, HeaderFooter: a line per section, codes dropped)
and what a cell's number format shows beside its value (FORMAT, XF: `numfmt`).

Each sheet is read where its BOUNDSHEET puts it, as Excel finds it, also when that lies
inside another record's data, where a walk of the records steps over it. A BIFF5 workbook's
text is read in its code page (its CODEPAGE record; Windows-1252 without one). Work is linear
in the stream's size, and the sheets read apart from the walk take `MAX_RECORDS` records at
most together.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import olefile  # type: ignore[import-untyped]

from attachguard.formats.codepages import codec
from attachguard.formats.ole import MAX_RECORDS, biff_of
from attachguard.sensitive import numfmt, tables
from attachguard.sensitive.ooxml import header_text

__all__ = ["Unreadable", "workbook_text"]

_DAMAGED = (OSError, ValueError, EOFError, LookupError, struct.error, RecursionError)


class Unreadable(ValueError):
    """A stream that is not what it should be; the message says which, in words."""


def _u16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<H", data, pos)[0]
    return value


def _u32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<I", data, pos)[0]
    return value


_SST, _CONTINUE, _LABEL, _NUMBER, _RK, _MULRK = 0x00FC, 0x003C, 0x0204, 0x0203, 0x027E, 0x00BD
_FORMULA, _STRING, _FILEPASS, _LABELSST, _BOF = 0x0006, 0x0207, 0x002F, 0x00FD, 0x0809
_RSTRING, _CODEPAGE, _EOF, _TXO = 0x00D6, 0x0042, 0x000A, 0x01B6
_BOUNDSHEET, _HEADER, _FOOTER, _HEADERFOOTER = 0x0085, 0x0014, 0x0015, 0x089C
_FORMAT, _XF = 0x041E, 0x00E0
Record = tuple[int, bytes]  # a record's type and data


def _records(stream: bytes, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """The records from ``start`` one after the other: (position, type, data)."""
    pos = start
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        yield pos, kind, stream[pos + 4 : pos + 4 + size]
        pos += 4 + size


def workbook_text(ole: olefile.OleFileIO, name: str) -> str:
    """The text of the workbook stream ``name`` (`_cells`), its strings read as its first
    BOF's version says Excel reads them (`formats.ole.biff_of`): BIFF8's (Unicode or
    compressed, with a flags byte), or BIFF5's (bytes in each code page its globals declare;
    Windows-1252 without one). A version readers take differently is read both ways."""
    records = _as_read(ole.openstream(name).read())
    version = _u16(records[0][1], 0) if records and records[0][0] == _BOF else 0
    biff = biff_of(version)
    texts = [_cells(records, None)] if biff in (8, None) else []
    if biff in (5, None):
        texts += [_cells(records, codec) for codec in _code_pages(records)]
    return "\n".join(texts)


def _as_read(stream: bytes) -> list[Record]:
    """The stream's records one after the other, then the substream of each sheet that this
    walk does not reach: Excel finds a sheet by its BOUNDSHEET's position, which may lie in
    another record's data (red team 110: a sheet inside an unknown record). Those substreams
    take `MAX_RECORDS` records at most together, as the office engine's walk of every sheet
    does (it reports a workbook past it)."""
    walked = list(_records(stream))
    starts = {pos for pos, _, _ in walked}
    records = [(kind, body) for _, kind, body in walked]
    left = MAX_RECORDS
    for position in _sheet_positions(records):
        if position not in starts and stream[position : position + 2] == b"\x09\x08":
            sheet = _substream(stream, position, left)
            left -= len(sheet)
            records += sheet
    return records


def _sheet_positions(records: list[Record]) -> list[int]:
    """Where the BOUNDSHEET records of the globals (before their EOF) put their sheets."""
    found = []
    for kind, body in records:
        if kind == _EOF:
            break
        if kind == _BOUNDSHEET and len(body) >= 4:
            found.append(_u32(body, 0))
    return list(dict.fromkeys(found))


def _substream(stream: bytes, start: int, most: int) -> list[Record]:
    """The records of the substream at ``start``, to its EOF (BOF and EOF pairs nest), at
    most ``most`` of them."""
    out, depth = [], 0
    for _, kind, body in islice(_records(stream, start), max(most, 0)):
        out.append((kind, body))
        depth += 1 if kind == _BOF else -1 if kind == _EOF else 0
        if depth <= 0:
            break
    return out


def _code_pages(records: list[Record]) -> list[str]:
    """The codecs of the CODEPAGE records in the globals (before their EOF), each once."""
    found: list[str] = []
    for kind, body in records[1:]:
        if kind == _EOF:
            break
        if kind == _CODEPAGE and len(body) >= 2:
            found.append(codec(_u16(body, 0)))
    return list(dict.fromkeys(found)) or ["cp1252"]


@dataclass
class _Book:
    """What one reading of a workbook's records (`_cells`) has found so far. ``codec``: a
    BIFF5 workbook's code page; None for BIFF8's strings."""

    records: list[Record]
    codec: str | None
    notes: list[str] = field(default_factory=list)  # comments, sheet names, print headers
    strings: list[str] = field(default_factory=list)  # the shared strings
    shown: set[int] = field(default_factory=set)  # the shared strings a cell shows
    sheets: list[dict[int, dict[int, str]]] = field(default_factory=lambda: [{}])
    formats: dict[int, str] = field(default_factory=dict)  # FORMAT: number → format code
    xfs: list[int] = field(default_factory=list)  # each XF's format number (cells name an XF)
    styled: list[tuple[int, str, bool]] = field(default_factory=list)  # XF, value, a number?
    place: tuple[int, int, int] = (0, 0, 0)  # the last formula's cell and XF (for STRING)

    def text(self, body: bytes, pos: int) -> str:
        """A cell's string at ``pos``: its length in 2 bytes."""
        if self.codec is None:
            return _unicode_string(body, pos)
        return _byte_string(body, pos, self.codec)

    def short(self, body: bytes, pos: int) -> str:
        """A string whose length is 1 byte (a sheet's name)."""
        count = body[pos]
        if self.codec is not None:
            return body[pos + 1 : pos + 1 + count].decode(self.codec, "replace")
        return _no_count(body, pos + 1, count)[0]

    def label(self, body: bytes, pos: int) -> str:
        """A print header's or a number format's string: a cell's in BIFF8, short in BIFF5."""
        return self.text(body, pos) if self.codec is None else self.short(body, pos)

    def put(self, row: int, column: int, values: list[str], xfs: list[int], number: bool) -> None:
        for offset, (value, xf) in enumerate(zip(values, xfs, strict=False)):
            self.sheets[-1].setdefault(row, {})[column + offset] = value
            self.styled.append((xf, value, number))


def _cells(records: list[Record], codec: str | None) -> str:
    """Each sheet's cells, a row a line, each cell after its column's header (`tables`); the
    shared strings no cell shows, the text of the notes on cells (comments, text boxes: TXO
    records), the sheets' names (BOUNDSHEET), their print headers and footers (HEADER,
    FOOTER, HeaderFooter) and what number formats show beside a cell's value (`numfmt`:
    FORMAT, XF), on lines of their own. ``codec``: a BIFF5 workbook's code page; None for
    BIFF8's strings."""
    book = _Book(records, codec)
    globals_ = True  # before the globals' EOF: FILEPASS there means the rest is encrypted
    for index, (kind, body) in enumerate(records):
        if kind == _FILEPASS and globals_:
            raise Unreadable("encrypted")
        globals_ = globals_ and kind != _EOF
        try:
            _RECORDS.get(kind, _any_cell)(book, kind, body, index)
        except (struct.error, IndexError):
            continue  # a record cut short: the others are read
    lines = [line for sheet in book.sheets for line in tables.labelled_rows(_in_order(sheet))]
    unshown = [s for n, s in enumerate(book.strings) if n not in book.shown]
    return "\n".join(lines + unshown + book.notes + _formatted(book))


def _formatted(book: _Book) -> list[str]:
    """The cells whose number format shows digits of its own, as it lays their values out
    (`numfmt.shown`), and the text cells whose format shows other text (`numfmt.shown_text`):
    as the reader of Office Open XML workbooks reads them."""
    out: list[str] = []
    for xf, value, number in book.styled:
        code = book.formats.get(book.xfs[xf]) if xf < len(book.xfs) else None
        if not code:
            continue
        if number and numfmt.shows_digits(code):
            out.append(numfmt.shown(code, value))
        elif not number and (shown := numfmt.shown_text(code, value)) != value:
            out.append(shown)
    return list(dict.fromkeys(out))


def _any_cell(book: _Book, kind: int, body: bytes, index: int) -> None:
    if len(body) < 6:
        return
    row, column, xf = (
        book.place if kind == _STRING else (_u16(body, 0), _u16(body, 2), _u16(body, 4))
    )
    book.place = (row, column, xf) if kind == _FORMULA else book.place
    values = _cell(kind, body, book.text)
    xfs = (
        [_u16(body, 4 + 6 * i) for i in range(len(values))]
        if kind == _MULRK
        else [xf] * len(values)
    )
    book.put(row, column, values, xfs, kind in _NUMBERS)


def _shared_string_cell(book: _Book, kind: int, body: bytes, index: int) -> None:
    if len(body) >= 10:
        number = _u32(body, 6)
        book.shown.add(number)
        text = book.strings[number] if number < len(book.strings) else ""
        book.put(_u16(body, 0), _u16(body, 2), [text], [_u16(body, 4)], False)


def _sst(book: _Book, kind: int, body: bytes, index: int) -> None:
    book.strings = _shared_strings(body, book.records, index + 1)


def _txo(book: _Book, kind: int, body: bytes, index: int) -> None:
    if len(body) >= 12:
        book.notes.append(_note(book.records, index + 1, _u16(body, 10), book.codec))


def _bof(book: _Book, kind: int, body: bytes, index: int) -> None:
    book.sheets.append({})


def _sheet_name(book: _Book, kind: int, body: bytes, index: int) -> None:
    book.notes.append(book.short(body, 6))  # after its position, visibility and type


def _header(book: _Book, kind: int, body: bytes, index: int) -> None:
    if body:  # empty: no header
        book.notes.append(header_text(book.label(body, 0)))


def _headers(book: _Book, kind: int, body: bytes, index: int) -> None:
    """A HeaderFooter record (Excel 2007's even and first page headers and footers): after its
    12-byte FrtHeader, a view's GUID and flags, four lengths, then the strings (no length of
    their own) whose length is not 0."""
    pos = 38
    for count in struct.unpack_from("<4H", body, 30):
        if count:
            text, pos = _no_count(body, pos, count)
            book.notes.append(header_text(text))


def _format(book: _Book, kind: int, body: bytes, index: int) -> None:
    book.formats[_u16(body, 0)] = book.label(body, 2)


def _xf(book: _Book, kind: int, body: bytes, index: int) -> None:
    book.xfs.append(_u16(body, 2))  # after its font


_RECORDS: dict[int, Callable[[_Book, int, bytes, int], None]] = {
    _SST: _sst, _TXO: _txo, _BOF: _bof, _LABELSST: _shared_string_cell,
    _BOUNDSHEET: _sheet_name, _HEADER: _header, _FOOTER: _header, _HEADERFOOTER: _headers,
    _FORMAT: _format, _XF: _xf,
}  # fmt: skip


def _note(records: list[tuple[int, bytes]], after: int, count: int, codec: str | None) -> str:
    """A TXO's text: ``count`` characters in the CONTINUE records after it, each starting with
    a flags byte in BIFF8 (its characters 8-bit or UTF-16), bytes in the code page in BIFF5;
    the formatting runs after the text are not read."""
    out: list[str] = []
    for index in range(after, len(records)):
        kind, body = records[index]
        if kind != _CONTINUE or count <= 0:
            break
        if codec is not None:
            piece = body[:count].decode(codec, "replace")
        elif body[:1] and body[0] & 0x01:
            piece = body[1 : 1 + 2 * count].decode("utf-16-le", "replace")
        else:
            piece = body[1 : 1 + count].decode("latin-1")
        out.append(piece)
        count -= len(piece)
    return "".join(out)


def _in_order(sheet: dict[int, dict[int, str]]) -> list[dict[int, str]]:
    return [sheet[row] for row in sorted(sheet)]


def _cell(kind: int, body: bytes, text: _Text) -> list[str]:
    """A cell record's values (a MULRK holds several), as Excel shows them."""
    try:
        if kind in _TEXTS:
            return [text(body, _TEXTS[kind])]
        reader = _NUMBERS.get(kind)
        return reader(body) if reader else []
    except (struct.error, IndexError, UnicodeDecodeError):
        return []


def _shown(value: float) -> str:
    """A number as Excel shows it in a General cell: integral values as their digits."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e20:
        return str(int(value))
    return repr(value)


def _rk(value: int) -> float:
    """An RK number: a 30-bit integer or the top of a double, divided by 100 when flagged."""
    if value & 2:
        number = float((value >> 2) - (1 << 30 if value & 0x80000000 else 0))
    else:
        number = struct.unpack("<d", struct.pack("<Q", (value & 0xFFFFFFFC) << 32))[0]
    return number / 100 if value & 1 else number


def _number(body: bytes) -> list[str]:
    return [_shown(struct.unpack_from("<d", body, 6)[0])]


def _rk_cell(body: bytes) -> list[str]:
    return [_shown(_rk(_u32(body, 6)))]


def _mulrk(body: bytes) -> list[str]:
    count = (len(body) - 6) // 6
    return [_shown(_rk(_u32(body, 4 + 6 * i + 2))) for i in range(count)]


def _formula(body: bytes) -> list[str]:
    if body[12:14] == b"\xff\xff":
        return []  # not a number: a STRING record follows when it is text
    return [_shown(struct.unpack_from("<d", body, 6)[0])]


_NUMBERS: dict[int, Callable[[bytes], list[str]]] = {
    _NUMBER: _number, _RK: _rk_cell, _MULRK: _mulrk, _FORMULA: _formula,
}  # fmt: skip
_TEXTS = {_LABEL: 6, _RSTRING: 6, _STRING: 0}  # where a text cell's string starts
_Text = Callable[[bytes, int], str]  # reads the string at a position of a record


def _byte_string(body: bytes, pos: int, codec: str) -> str:
    """A BIFF5 string: its length (2 bytes), then its bytes in the workbook's code page."""
    count = _u16(body, pos)
    return body[pos + 2 : pos + 2 + count].decode(codec, "replace")


def _unicode_string(body: bytes, pos: int) -> str:
    return _no_count(body, pos + 2, _u16(body, pos))[0]


def _no_count(body: bytes, pos: int, count: int) -> tuple[str, int]:
    """``count`` characters after a flags byte at ``pos`` (8-bit or UTF-16), and their end."""
    if body[pos] & 0x01:
        end = pos + 1 + 2 * count
        return body[pos + 1 : end].decode("utf-16-le", "replace"), end
    end = pos + 1 + count
    return body[pos + 1 : end].decode("latin-1"), end


class _Continued:
    """Bytes spread over a record and its CONTINUE records; a string's characters that cross a
    boundary restart with a new flags byte there (BIFF8's rule)."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts, self.part, self.pos = parts, 0, 0

    def _left(self) -> int:
        return len(self.parts[self.part]) - self.pos

    def _next(self) -> None:
        if self.part + 1 >= len(self.parts):
            raise Unreadable("shared strings end early")
        self.part, self.pos = self.part + 1, 0

    def take(self, size: int) -> bytes:
        out = bytearray()
        while size > 0:
            if self._left() <= 0:
                self._next()
                continue
            chunk = self.parts[self.part][self.pos : self.pos + size]
            out += chunk
            size, self.pos = size - len(chunk), self.pos + len(chunk)
        return bytes(out)

    def chars(self, count: int, wide: bool) -> str:
        out = []
        while count > 0:
            left = self._left()
            if left < (2 if wide else 1):
                self._next()
                wide = bool(self.take(1)[0] & 0x01)  # the flags byte after a boundary
                continue
            step = min(count, left // 2 if wide else left)
            raw = self.take(step * (2 if wide else 1))
            out.append(raw.decode("utf-16-le" if wide else "latin-1", "replace"))
            count -= step
        return "".join(out)


def _shared_strings(body: bytes, records: list[tuple[int, bytes]], after: int) -> list[str]:
    """The shared strings, as many as can be read: one that cannot be (cut short, or a record
    that only looks like the table) ends the list, and the cells are read all the same."""
    parts = [body]
    for kind, more in records[after:]:
        if kind != _CONTINUE:
            break
        parts.append(more)
    data = _Continued(parts)
    out: list[str] = []
    try:
        total = _u32(data.take(8), 4)
        for _ in range(total):
            count, flags = struct.unpack("<HB", data.take(3))
            runs = _u16(data.take(2), 0) if flags & 0x08 else 0
            extra = _u32(data.take(4), 0) if flags & 0x04 else 0
            out.append(data.chars(count, bool(flags & 0x01)))
            data.take(4 * runs + extra)
    except (Unreadable, *_DAMAGED):
        pass
    return out
