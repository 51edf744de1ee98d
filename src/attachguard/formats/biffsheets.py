"""What the cells of an Excel 97-2003 or 5.0/95 workbook link to: the hyperlinks (HLINK
records) and formulas (FORMULA, SHRFMLA, ARRAY records; conditional formats' and data
validation's: `biffrules`) of its sheet substreams, which
`attachguard.formats.ole` walks and hands here as (record type, data) pairs.

A formula is stored parsed, in reverse Polish notation ([MS-XLS] 2.5.198 Rgce): it is turned
back into the text Excel shows (only as far as the judges need it: a cell reference reads
``A1``, a function Excel names by number ``_F<n>``), so that the judges of a .xlsx formula
judge it (`formulas.harmful_hyperlink`: a HYPERLINK to a share; `formulas.fetches`: WEBSERVICE,
IMAGE, RTD with a server). A function newer than the format is stored as a call of the name
``_xlfn.WEBSERVICE``, a defined or external name: the globals' NAME, SUPBOOK, EXTERNNAME and
EXTERNSHEET records give those names (`Names`). A hyperlink object ([MS-OSHARED] 2.3.7.1) is
read as Excel reads it: its URL moniker's address, its file moniker's path (the Unicode one
when there is one, the ANSI one too), an item moniker's item, a composite moniker's parts
joined as Office joins them, or its moniker saved as a string; a moniker of another class is
judged by the strings in it, and is a problem (`UNREAD_HYPERLINK`: Office may resolve it). A
defined name used in a formula is read as the formula it stands for; every name's own formula
is judged as a cell's. `unpointed` finds the substreams no sheet points at. A web page the
workbook publishes (a WebPub record, in a sheet or in the globals: `web_published`) that Excel
writes again to another machine (a share, a URL) whenever the workbook is saved is judged as a
.xlsx's ``webPublishItem`` with ``autoRepublish`` is.

Limits: a formula that cannot be read to its end (an unknown token) is judged as far as it
was read, and fails closed: a share among its text (the unread bytes' too) counts. Array
constants are not read. A name deeper than `_MAX_DEPTH` names reads as its name.
"""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from attachguard.formats.biffrules import RULE_RECORDS, rule_formulas
from attachguard.formats.formulas import MAX_FORMULA, fetches, harmful_hyperlink
from attachguard.formats.targets import clicked_harm, on_a_share, target_kind

_FORMULA, _SHRFMLA, _ARRAY, _HLINK = 0x0006, 0x04BC, 0x0221, 0x01B8
# A web query's address (MS-XLS 2.4.345 WQSTRING, after its query table's Qsi and DbQuery): a
# .xlsx's web query is EXTERNAL_LINK whatever it loads, and so is this one. A database query's
# connection (DbQuery, DConn) is not read here.
_WQSTRING = 0x00CD
_EXTERNAL_DATA = frozenset({_WQSTRING})
# A workbook, sheet or range published as a web page (MS-XLS 2.4.344 WebPub, a future record
# in the globals and in a sheet): its FrtRefHeaderU (12 bytes), tws and twd (a byte each),
# flags (B: fAutoRepublish, Excel writes the page again whenever the workbook is saved; D:
# fMhtml), 4 bytes, nStyleId, cb, then WebPubStrings: srcName (when tws is over 4),
# stFileDest (where the page is written), stDivId, stTitle
WEBPUB = 0x0801
_AUTO_REPUBLISH = 0x0002
_WEBPUB_STRINGS = 28
_NAME, _SUPBOOK, _EXTERNNAME, _EXTERNSHEET = 0x0018, 0x01AE, 0x0023, 0x0017
_BOFS, _EOF = frozenset({0x0809, 0x0409, 0x0209, 0x0009}), 0x000A
SHEET_RECORDS = (
    frozenset({_FORMULA, _SHRFMLA, _ARRAY, _HLINK, WEBPUB}) | _EXTERNAL_DATA | RULE_RECORDS
)
GLOBAL_RECORDS = frozenset({_NAME, _SUPBOOK, _EXTERNNAME, _EXTERNSHEET})
# Where each formula record's Rgce (its byte count first) starts, in BIFF8 and BIFF5 alike
_RGCE_AT = {_FORMULA: 20, _SHRFMLA: 8, _ARRAY: 12}
# Defined names read into the formulas that use them: how deep a name may use another, and the
# characters all of a workbook's names may take read so (a name past either reads as its name;
# every name's own formula is judged all the same)
_MAX_DEPTH, _MAX_EXPANDED = 32, 1_000_000


class CellLink(StrEnum):
    SHARE_HYPERLINK = "share_hyperlink"  # an HLINK record to a network share or a program
    SHARE_FORMULA = "share_formula"  # =HYPERLINK("\\host\share\...")
    FETCHING_FORMULA = "fetching_formula"  # WEBSERVICE, IMAGE, RTD from a server
    EXTERNAL_DATA = "external_data"  # a query table's web query
    WEB_PUBLISHED = "web_published"  # a web page Excel writes to another machine on every save


@dataclass
class Names:
    """The names a formula calls by index: defined names (NAME, with the formula each one
    stands for) and each external link's names (EXTERNNAME, grouped under their SUPBOOK in
    BIFF8, their EXTERNSHEET in BIFF5), with BIFF8's EXTERNSHEET entries (the SUPBOOK each
    one points at)."""

    defined: list[str] = field(default_factory=list)
    external: list[list[str]] = field(default_factory=list)
    sheets: list[int] = field(default_factory=list)
    formulas: list[bytes] = field(default_factory=list)  # each defined name's Rgce
    functions: set[int] = field(default_factory=set)  # the (1-based) names of functions
    biff: int = 8
    _values: dict[int, str] = field(default_factory=dict, repr=False)
    _left: int = _MAX_EXPANDED  # characters the expansions may still take
    _judged: set[CellLink] | None = field(default=None, repr=False)

    @classmethod
    def read(cls, biff: int, records: Iterable[tuple[int, bytes]]) -> Names:
        names = cls(biff=biff)
        for rtype, data in records:
            if rtype == _NAME:
                name, rgce, function = _name(data, biff)
                names.defined.append(name)
                names.formulas.append(rgce)
                if function:
                    names.functions.add(len(names.defined))
            elif (rtype, biff) in ((_SUPBOOK, 8), (_EXTERNSHEET, 5)):
                names.external.append([])
            elif rtype == _EXTERNNAME and names.external:
                names.external[-1].append(_short(data, 6, biff))
            elif rtype == _EXTERNSHEET and len(data) >= 2:
                count = min(struct.unpack_from("<H", data)[0], (len(data) - 2) // 6)
                names.sheets += [struct.unpack_from("<H", data, 2 + 6 * i)[0] for i in range(count)]
        return names

    def extern(self, link: int, index: int) -> str:
        """External name ``index`` (1-based) of external link ``link`` (0-based)."""
        group = self.external[link] if 0 <= link < len(self.external) else []
        return group[index - 1] if 0 < index <= len(group) else "_NAMEX"

    def value(self, index: int, depth: int = 0) -> str:
        """Defined name ``index`` (1-based) as a formula reads it: the formula it stands for,
        in parentheses (=HYPERLINK(Target) opens what Target holds); a function's name, a
        name without a formula, one that uses itself, or one past `_MAX_DEPTH` names or
        `_MAX_EXPANDED` characters reads as its name."""
        if not 0 < index <= len(self.defined):
            return "_NAME"
        name = self.defined[index - 1]
        if index in self.functions or not self.formulas[index - 1] or depth > _MAX_DEPTH:
            return name
        if index not in self._values:
            self._values[index] = name  # while it is read: a name that uses itself
            text = _read(self.formulas[index - 1], self.biff, self, depth + 1).text
            text = f"({text[:MAX_FORMULA]})" if len(text) < self._left else name
            self._left -= len(text)
            self._values[index] = text
        return self._values[index]

    def judged(self) -> set[CellLink]:
        """What the defined names' formulas link to, each judged as a cell's formula."""
        if self._judged is None:
            self._judged = set()
            for rgce in self.formulas:
                self._judged |= _judge(rgce, self.biff, self)
        return self._judged


def links(
    records: Iterable[tuple[int, bytes]],
    biff: int,
    names: Names,
    problems: list[str] | None = None,
) -> set[CellLink]:
    """What the hyperlinks and formulas among a sheet's ``records``, and the defined names'
    formulas, link to. A hyperlink whose moniker is of a class this reader does not know adds
    to ``problems`` (Office may resolve it: readers take it differently)."""
    found = set(names.judged())
    for rtype, data in records:
        if rtype == _HLINK:
            targets, understood = _hyperlink(data[24:])
            if any(map(clicked_harm, targets)):
                found.add(CellLink.SHARE_HYPERLINK)
            if not understood and problems is not None:
                problems.append(UNREAD_HYPERLINK)
        elif rtype in _EXTERNAL_DATA:
            found.add(CellLink.EXTERNAL_DATA)
        elif rtype == WEBPUB:
            found |= web_published(data)
        else:
            for rgce in _formulas(rtype, data):
                found |= _judge(rgce, biff, names)
    return found


def _formulas(rtype: int, data: bytes) -> list[bytes]:
    """The parsed formulas of a cell's formula record, or of a conditional format's or data
    validation's (`biffrules`)."""
    if rtype in RULE_RECORDS:
        return rule_formulas(rtype, data)
    at = _RGCE_AT.get(rtype)
    if at is None or len(data) < at + 2:
        return []
    size = struct.unpack_from("<H", data, at)[0]
    return [data[at + 2 : at + 2 + size]]


def web_published(data: bytes) -> set[CellLink]:
    """`CellLink.WEB_PUBLISHED` for a WebPub record whose page Excel writes to another machine
    (a share, a URL) whenever the workbook is saved (fAutoRepublish), as a .xlsx's
    ``webPublishItem`` with ``autoRepublish``; a page on the author's own disk or beside the
    workbook, or one published once, passes."""
    places = republished_to(data)
    return {CellLink.WEB_PUBLISHED} if any(target_kind(p) == "remote" for p in places) else set()


def republished_to(data: bytes) -> list[str]:
    """Where a WebPub record has Excel write its page whenever the workbook is saved: empty
    unless fAutoRepublish is on. Its destination is the first WebPubString, or the second
    after a srcName; both are read, the second with and without the pad byte an odd-sized
    string is followed by (readers may take tws, and the pad, differently)."""
    if len(data) < _WEBPUB_STRINGS or not data[14] & _AUTO_REPUBLISH:
        return []
    first, end = _web_string(data, _WEBPUB_STRINGS)
    return [first, *(_web_string(data, end + pad)[0] for pad in (0, 1))]


def _web_string(data: bytes, pos: int) -> tuple[str, int]:
    """A WebPubString (MS-XLS 2.5.278): its character count, then an XLUnicodeStringNoCch (its
    fHighByte bit, then 8-bit or UTF-16 characters); the text and where it ends."""
    if pos + 3 > len(data):
        return "", len(data)
    count, wide = struct.unpack_from("<H", data, pos)[0], data[pos + 2] & 1
    end = pos + 3 + count * (2 if wide else 1)
    raw = data[pos + 3 : end]
    return raw.decode("utf-16-le" if wide else "latin-1", "replace"), min(end, len(data))


UNREAD_HYPERLINK = "a hyperlink of a kind this reader does not know, which readers take differently"


def unpointed(stream: bytes, pointed: Iterable[int], limit: int = 1_000_000) -> list[int]:
    """Where each substream (BOF ... EOF, after the globals) starts that no BOUNDSHEET points
    at (``pointed``): no sheet shows it, but a reader that walks the stream reads its cells.
    Record headers only, at most ``limit`` of them."""
    pos, depth, starts = 0, 0, []
    for _ in range(limit):
        if pos + 4 > len(stream):
            break
        rtype, size = struct.unpack_from("<HH", stream, pos)
        if rtype in _BOFS:
            if depth == 0 and pos:
                starts.append(pos)
            depth += 1
        elif rtype == _EOF:
            depth = max(depth - 1, 0)
        pos += 4 + size
    return sorted(set(starts) - set(pointed))


# -- hyperlink objects ([MS-OSHARED] 2.3.7) ------------------------------------------------------

_URL_MONIKER = uuid.UUID("79EAC9E0-BAF9-11CE-8C82-00AA004BA90B").bytes_le
_FILE_MONIKER = uuid.UUID("00000303-0000-0000-C000-000000000046").bytes_le
_ITEM_MONIKER = uuid.UUID("00000304-0000-0000-C000-000000000046").bytes_le
_ANTI_MONIKER = uuid.UUID("00000305-0000-0000-C000-000000000046").bytes_le
_COMPOSITE_MONIKER = uuid.UUID("00000309-0000-0000-C000-000000000046").bytes_le
_HAS_MONIKER, _HAS_DISPLAY, _HAS_FRAME, _AS_STRING = 0x01, 0x10, 0x80, 0x100
_MAX_PARTS = 64  # monikers a composite one joins (Office saves two or three)
# Strings in a moniker this reader does not know: UTF-16 (Latin to Hebrew: U+0020-U+05FF) or
# 8-bit runs of printable characters
_WIDE = re.compile(rb"(?:[\x20-\x7e\xa0-\xff]\x00|[\x00-\xff][\x01-\x05]){4,}")
_NARROW = re.compile(rb"[\x20-\x7e]{4,}")


@dataclass
class _Moniker:
    """What a moniker reads as: its display names (a file moniker's Unicode path first, its
    ANSI one last), where it ends, and whether this reader knows its class."""

    paths: list[str]
    end: int
    understood: bool = True
    climbs: int = 0  # an anti moniker: the levels it removes from what it is joined to


def hyperlink_targets(data: bytes) -> list[str]:
    """Where a hyperlink object leads: its moniker's address or path, as Excel follows it."""
    return _hyperlink(data)[0]


def _hyperlink(data: bytes) -> tuple[list[str], bool]:
    """A hyperlink object's targets, and whether its moniker is of a class this reader knows
    (one it does not, Office may still resolve: its strings are the targets then)."""
    if len(data) < 8:
        return [], True
    flags = struct.unpack_from("<I", data, 4)[0]
    pos = 8
    for bit in (_HAS_DISPLAY, _HAS_FRAME):  # a display name and a frame name come first
        if flags & bit:
            pos = _skip_string(data, pos)
    if not flags & _HAS_MONIKER:
        return [], True
    if flags & _AS_STRING:
        return [_string(data, pos)], True
    moniker = _moniker(data, pos, 0)
    return moniker.paths, moniker.understood


def _moniker(data: bytes, pos: int, depth: int) -> _Moniker:
    """The moniker at ``pos`` ([MS-OSHARED] 2.3.7.2): its class id, then its data."""
    clsid, at = data[pos : pos + 16], pos + 16
    if clsid == _URL_MONIKER and len(data) >= at + 4:
        size = struct.unpack_from("<I", data, at)[0]
        url = data[at + 4 : at + 4 + size].decode("utf-16-le", "replace").split("\0")[0]
        return _Moniker([url], at + 4 + size)
    if clsid == _FILE_MONIKER and len(data) >= at + 6:
        return _file_moniker(data, at)
    if clsid == _ITEM_MONIKER and len(data) >= at + 4:
        delimiter, at = _item_string(data, at)
        item, at = _item_string(data, at)
        return _Moniker([delimiter + item], at)
    if clsid == _ANTI_MONIKER and len(data) >= at + 4:
        return _Moniker([], at + 4, climbs=struct.unpack_from("<I", data, at)[0])
    if clsid == _COMPOSITE_MONIKER and depth < 4 and len(data) >= at + 4:
        return _composite(data, at, depth)
    body = data[pos + 16 :]
    wide = [m.group().decode("utf-16-le", "replace") for m in _WIDE.finditer(body)]
    narrow = [m.group().decode("latin-1") for m in _NARROW.finditer(body)]
    return _Moniker(wide + narrow, len(data), understood=False)


def _composite(data: bytes, pos: int, depth: int) -> _Moniker:
    """A composite moniker ([MS-OSHARED] 2.3.7.3): its monikers joined as Office joins them
    (File "\\\\" then File "host\\share\\x.xls" is \\\\host\\share\\x.xls), each read
    with its preferred and its ANSI path, and each one alone too."""
    count = struct.unpack_from("<I", data, pos)[0]
    parts, at = [], pos + 4
    for _ in range(min(count, _MAX_PARTS)):
        if at + 16 > len(data):
            break
        part = _moniker(data, at, depth + 1)
        parts.append(part)
        at = part.end
    joined = [_join(parts, 0), _join(parts, -1)]
    alone = [path for part in parts for path in part.paths]
    understood = count <= _MAX_PARTS and len(parts) == count and all(p.understood for p in parts)
    return _Moniker(joined + alone, at, understood)


def _join(parts: list[_Moniker], which: int) -> str:
    path = ""
    for part in parts:
        if part.climbs:
            path = "\\".join(path.replace("/", "\\").split("\\")[: -part.climbs or None])
        elif part.paths:
            piece = part.paths[which]
            glue = "" if not path or path.endswith(("\\", "/")) or piece[:1] in "\\/!#" else "\\"
            path += glue + piece
    return path


def _item_string(data: bytes, pos: int) -> tuple[str, int]:
    """An item moniker's delimiter or item: its byte count, ANSI characters up to a NUL, and
    after it, when the count says so, the same in UTF-16 (read in preference)."""
    size = struct.unpack_from("<I", data, pos)[0] if len(data) >= pos + 4 else 0
    raw = data[pos + 4 : pos + 4 + size]
    ansi, _, rest = raw.partition(b"\0")
    unicode = rest.decode("utf-16-le", "replace").split("\0")[0] if rest else ""
    return unicode or ansi.decode("cp1252", "replace"), pos + 4 + size


def _file_moniker(data: bytes, pos: int) -> _Moniker:
    """A file moniker's path ([MS-OSHARED] 2.3.7.8): its Unicode path when it has one, else
    its ANSI path (both are judged), after the "..\\" of each level it climbs (cAnti)."""
    anti: int
    anti, size = struct.unpack_from("<HI", data, pos)
    ansi = data[pos + 6 : pos + 6 + size].split(b"\0")[0].decode("cp1252", "replace")
    at = pos + 6 + size + 24  # endServer, versionNumber, 20 reserved bytes
    unicode, end = "", at + 4
    if len(data) >= at + 10 and struct.unpack_from("<I", data, at)[0]:
        end = at + 4 + struct.unpack_from("<I", data, at)[0]
        length = struct.unpack_from("<I", data, at + 4)[0]
        unicode = data[at + 10 : at + 10 + length].decode("utf-16-le", "replace")
    paths = [unicode, ansi] if unicode else [ansi]
    return _Moniker(["..\\" * anti + path for path in paths], end)


def _string(data: bytes, pos: int) -> str:
    """A HyperlinkString: its character count (the ending NUL too), then UTF-16."""
    if len(data) < pos + 4:
        return ""
    count = struct.unpack_from("<I", data, pos)[0]
    return data[pos + 4 : pos + 4 + 2 * count].decode("utf-16-le", "replace").split("\0")[0]


def _skip_string(data: bytes, pos: int) -> int:
    count = struct.unpack_from("<I", data, pos)[0] if len(data) >= pos + 4 else 0
    return pos + 4 + 2 * count


# -- formulas ([MS-XLS] 2.5.198) -------------------------------------------------------------

# The functions the judges know by name (the rest read as _F<n>, which none of them names)
_FUNCTIONS = {359: "HYPERLINK", 379: "RTD"}
_USER_DEFINED = 255  # the first argument names the function
# The argument count of each function stored as PtgFunc (a fixed count), by its number
_FIXED = {
    0: "10 19 34-35 63 74 221",
    1: "2-3 15-18 20-26 32-33 38 67-69 71-73 75-77 83 86 98-99 105 111-114 118 121 126-131"
    " 140-141 162-164 184 190 198 211 214-215 229-234 244 261 271 279 283-284 294 296 298"
    " 342-343 347 352 360 368-378",
    2: "27 30 39 48 97 117 165 212-213 252 274-276 285 288 299 303-308 310-315 325-328 331-332"
    " 337 346 353 358",
    3: "31 40-45 47 61 65-66 142 189 195-196 199 210 235 277-278 280-282 287 290-292 295 297"
    " 300-301 309 351",
    4: "92 119 143 207 273 286 289 293 302 316 350",
}
_ARITY = {
    number: count
    for count, spans in _FIXED.items()
    for span in spans.split()
    for number in range(int(span.split("-")[0]), int(span.split("-")[-1]) + 1)
}
_BINARY = {0x03: "+", 0x04: "-", 0x05: "*", 0x06: "/", 0x07: "^", 0x08: "&", 0x09: "<",
           0x0A: "<=", 0x0B: "=", 0x0C: ">=", 0x0D: ">", 0x0E: "<>", 0x0F: " ", 0x10: ",",
           0x11: ":"}  # fmt: skip
# Operand tokens by their base number ([MS-XLS] 2.5.198.25 PtgRef to 2.5.198.31 PtgAreaErr3d):
# their size in BIFF8 and BIFF5, and how they read. PtgArray (0x00), a function (0x01, 0x02)
# and a name (0x03, 0x19) are `_CALLS`.
_OPERANDS = {0x04: (4, 3, "A1"), 0x05: (8, 6, "A1"), 0x0A: (4, 3, "A1"),
             0x0B: (8, 6, "A1"), 0x0C: (4, 3, "A1"), 0x0D: (8, 6, "A1"), 0x1A: (6, 17, "A1"),
             0x1B: (10, 20, "A1"), 0x1C: (6, 17, "A1"), 0x1D: (10, 20, "A1")}  # fmt: skip
# Tokens that mark a reference's subexpression, which follows them: no value of their own
_MARKS = {0x06: 6, 0x07: 6, 0x08: 6, 0x09: 2, 0x0E: 2, 0x0F: 2}


class _Unread(ValueError):
    """A token this reader does not know, or one cut short."""


@dataclass
class _Reader:
    rgce: bytes
    biff: int
    names: Names
    depth: int = 0  # of the defined names being read into one another
    pos: int = 0
    stack: list[str] = field(default_factory=list)
    constants: list[str] = field(default_factory=list)  # every text constant read
    called: list[str] = field(default_factory=list)  # every name read
    stopped: bool = False  # at a token this reader does not know, or one cut short

    @property
    def text(self) -> str:
        return " ".join(self.stack)

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.rgce):
            raise _Unread
        chunk, self.pos = self.rgce[self.pos : self.pos + size], self.pos + size
        return chunk

    def pop(self, count: int) -> list[str]:
        if count > len(self.stack):
            raise _Unread
        taken = self.stack[len(self.stack) - count :]
        del self.stack[len(self.stack) - count :]
        return taken


def formula_text(rgce: bytes, biff: int, names: Names) -> str:
    """A parsed formula as text (see the module docstring); as far as it could be read."""
    return _read(rgce, biff, names).text


def _read(rgce: bytes, biff: int, names: Names, depth: int = 0) -> _Reader:
    reader = _Reader(rgce, biff, names, depth)
    start = 0
    try:
        while reader.pos < len(rgce):
            start = reader.pos
            _step(reader, reader.take(1)[0])
    except _Unread:
        reader.stopped = True
        rest = rgce[start:]  # what could not be read: its strings, as an unknown moniker's
        reader.constants += [m.group().decode("utf-16-le", "replace") for m in _WIDE.finditer(rest)]
        reader.constants += [m.group().decode("latin-1") for m in _NARROW.finditer(rest)]
    return reader


def _judge(rgce: bytes, biff: int, names: Names) -> set[CellLink]:
    """What one formula links to. One that cannot be read to its end fails closed: a share
    among its text constants, or a fetching function among its names, counts (Excel may read
    what this reader cannot)."""
    reader = _read(rgce, biff, names)
    found = set()
    if harmful_hyperlink(reader.text) or (
        reader.stopped and any(on_a_share(text) for text in reader.constants)
    ):
        found.add(CellLink.SHARE_FORMULA)
    if fetches(reader.text) or (
        reader.stopped and fetches("".join(f"{n}()" for n in reader.called))
    ):
        found.add(CellLink.FETCHING_FORMULA)
    return found


def _step(reader: _Reader, token: int) -> None:
    if token in _BINARY:
        left, right = reader.pop(2)
        reader.stack.append(f"{left}{_BINARY[token]}{right}")
    elif token in _SIMPLE:
        _SIMPLE[token](reader)
    elif token >= 0x20:
        _classified(reader, token & 0x1F)
    else:
        raise _Unread


def _classified(reader: _Reader, base: int) -> None:
    if base in _OPERANDS:
        size8, size5, text = _OPERANDS[base]
        reader.take(size8 if reader.biff == 8 else size5)
        reader.stack.append(text)
    elif base in _MARKS:
        reader.take(_MARKS[base])
    elif base in _CALLS:
        _CALLS[base](reader)
    else:
        raise _Unread


def _string_token(reader: _Reader) -> None:
    count = reader.take(1)[0]
    if reader.biff == 8:
        wide = reader.take(1)[0] & 1
        text = reader.take(count * (2 if wide else 1)).decode("utf-16-le" if wide else "latin-1")
    else:
        text = reader.take(count).decode("cp1252", "replace")
    reader.constants.append(text)
    reader.stack.append('"' + text.replace('"', '""') + '"')


def _call(reader: _Reader, number: int, count: int) -> None:
    args = reader.pop(count)
    if number == _USER_DEFINED and args:
        name, args = args[0], args[1:]
    else:
        name = _FUNCTIONS.get(number, f"_F{number}")
    reader.stack.append(f"{name}({','.join(args)})")


def _fixed_call(reader: _Reader) -> None:
    number = struct.unpack("<H", reader.take(2))[0] & 0x7FFF
    if number not in _ARITY:
        raise _Unread
    _call(reader, number, _ARITY[number])


def _variable_call(reader: _Reader) -> None:
    count, number = struct.unpack("<BH", reader.take(3))
    _call(reader, number & 0x7FFF, count & 0x7F)


def _defined_name(reader: _Reader) -> None:
    index = struct.unpack_from("<H", reader.take(4 if reader.biff == 8 else 14))[0]
    if 0 < index <= len(reader.names.defined):
        reader.called.append(reader.names.defined[index - 1])
    reader.stack.append(reader.names.value(index, reader.depth))


def _external_name(reader: _Reader) -> None:
    if reader.biff == 8:
        sheet, index = struct.unpack_from("<HH", reader.take(6))
        sheets = reader.names.sheets
        link = sheets[sheet] if sheet < len(sheets) else -1
    else:
        # the EXTERNSHEET's number, negative, and the name's, 8 bytes apart
        sheet, index = struct.unpack_from("<h8xH", reader.take(24))
        link = abs(sheet) - 1
    reader.called.append(reader.names.extern(link, index))
    reader.stack.append(reader.called[-1])


def _attribute(reader: _Reader) -> None:
    kind = reader.take(1)[0]
    jumps = struct.unpack("<H", reader.take(2))[0]
    if kind & 0x04:  # CHOOSE's jump table
        reader.take(2 * (jumps + 1))
    elif kind & 0x10:  # SUM of one argument
        reader.stack.append(f"SUM({reader.pop(1)[0]})")


def _push(text: str, size: int = 0) -> Callable[[_Reader], None]:
    def push(reader: _Reader) -> None:
        reader.take(size)
        reader.stack.append(text)

    return push


def _wrap(before: str, after: str) -> Callable[[_Reader], None]:
    def wrap(reader: _Reader) -> None:
        reader.stack.append(f"{before}{reader.pop(1)[0]}{after}")

    return wrap


_SIMPLE: dict[int, Callable[[_Reader], None]] = {
    0x01: _push("A1", 4),  # PtgExp: the shared or array formula, read from its own record
    0x02: _push("A1", 4),  # PtgTbl: a data table
    0x12: _wrap("+", ""),
    0x13: _wrap("-", ""),
    0x14: _wrap("", "%"),
    0x15: _wrap("(", ")"),
    0x16: _push(""),  # a missing argument
    0x17: _string_token,
    0x19: _attribute,
    0x1C: _push("#N/A", 1),
    0x1D: _push("TRUE", 1),
    0x1E: _push("0", 2),
    0x1F: _push("0", 8),
}
_CALLS: dict[int, Callable[[_Reader], None]] = {
    0x00: _push("{}", 7),  # PtgArray: its values follow the formula, not read
    0x01: _fixed_call,
    0x02: _variable_call,
    0x03: _defined_name,
    0x19: _external_name,
}


# -- names ---------------------------------------------------------------------------------------


def _name(data: bytes, biff: int) -> tuple[str, bytes, bool]:
    """A NAME record's name (a built-in name is one code byte, read as "_BUILTIN"), the
    formula it stands for (its Rgce), and whether it names a function or a macro (fFunc)."""
    if len(data) < 14:
        return "", b"", False
    options, count, size = struct.unpack_from("<HxBH", data)
    if biff == 8:
        wide = data[14] & 1 if len(data) > 14 else 0
        name, end = _chars(data, 14, count), 15 + count * (2 if wide else 1)
    else:
        name, end = data[14 : 14 + count].decode("cp1252", "replace"), 14 + count
    return "_BUILTIN" if options & 0x20 else name, data[end : end + size], bool(options & 0x02)


def _short(data: bytes, pos: int, biff: int) -> str:
    """A count byte and the string after it (BIFF8: an option byte first)."""
    if len(data) <= pos:
        return ""
    if biff == 8:
        return _chars(data, pos + 1, data[pos])
    return data[pos + 1 : pos + 1 + data[pos]].decode("cp1252", "replace")


def _chars(data: bytes, pos: int, count: int) -> str:
    wide = data[pos] & 1 if pos < len(data) else 0
    raw = data[pos + 1 : pos + 1 + count * (2 if wide else 1)]
    return raw.decode("utf-16-le" if wide else "latin-1", "replace")
