"""What the cells of an Excel 97-2003 or 5.0/95 workbook link to: the hyperlinks (HLINK
records) and formulas (FORMULA, SHRFMLA, ARRAY records) of its sheet substreams, which
`attachguard.formats.ole` walks and hands here as (record type, data) pairs.

A formula is stored parsed, in reverse Polish notation ([MS-XLS] 2.5.198 Rgce): it is turned
back into the text Excel shows (only as far as the judges need it: a cell reference reads
``A1``, a function Excel names by number ``_F<n>``), so that the judges of a .xlsx formula
judge it (`formulas.links_to_a_share`: a HYPERLINK to a share; `formulas.fetches`: WEBSERVICE,
IMAGE, RTD with a server). A function newer than the format is stored as a call of the name
``_xlfn.WEBSERVICE``, a defined or external name: the globals' NAME, SUPBOOK, EXTERNNAME and
EXTERNSHEET records give those names (`Names`). A hyperlink object ([MS-OSHARED] 2.3.7.1) is
read as Excel reads it: its URL moniker's address, its file moniker's path (the Unicode one
when there is one), or its moniker saved as a string; a moniker of another class is judged by
the strings in it.

Limits: a formula that cannot be read to its end (an unknown token) is judged as far as it
was read, as Excel cannot compute the rest either. Array constants are not read.
"""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from attachguard.formats.formulas import fetches, links_to_a_share
from attachguard.formats.targets import on_a_share

_FORMULA, _SHRFMLA, _ARRAY, _HLINK = 0x0006, 0x04BC, 0x0221, 0x01B8
_NAME, _SUPBOOK, _EXTERNNAME, _EXTERNSHEET = 0x0018, 0x01AE, 0x0023, 0x0017
SHEET_RECORDS = frozenset({_FORMULA, _SHRFMLA, _ARRAY, _HLINK})
GLOBAL_RECORDS = frozenset({_NAME, _SUPBOOK, _EXTERNNAME, _EXTERNSHEET})
# Where each formula record's Rgce (its byte count first) starts, in BIFF8 and BIFF5 alike
_RGCE_AT = {_FORMULA: 20, _SHRFMLA: 8, _ARRAY: 12}


class CellLink(StrEnum):
    SHARE_HYPERLINK = "share_hyperlink"  # an HLINK record to a network share
    SHARE_FORMULA = "share_formula"  # =HYPERLINK("\\host\share\...")
    FETCHING_FORMULA = "fetching_formula"  # WEBSERVICE, IMAGE, RTD from a server


@dataclass
class Names:
    """The names a formula calls by index: defined names (NAME) and each external link's
    names (EXTERNNAME, grouped under their SUPBOOK in BIFF8, their EXTERNSHEET in BIFF5), with
    BIFF8's EXTERNSHEET entries (the SUPBOOK each one points at)."""

    defined: list[str] = field(default_factory=list)
    external: list[list[str]] = field(default_factory=list)
    sheets: list[int] = field(default_factory=list)

    @classmethod
    def read(cls, biff: int, records: Iterable[tuple[int, bytes]]) -> Names:
        names = cls()
        for rtype, data in records:
            if rtype == _NAME:
                names.defined.append(_name(data, biff))
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


def links(records: Iterable[tuple[int, bytes]], biff: int, names: Names) -> set[CellLink]:
    """What the hyperlinks and formulas among a sheet's ``records`` link to."""
    found: set[CellLink] = set()
    for rtype, data in records:
        if rtype == _HLINK:
            if any(on_a_share(target) for target in hyperlink_targets(data[24:])):
                found.add(CellLink.SHARE_HYPERLINK)
        elif rtype in _RGCE_AT and len(data) >= _RGCE_AT[rtype] + 2:
            at = _RGCE_AT[rtype]
            size = struct.unpack_from("<H", data, at)[0]
            text = formula_text(data[at + 2 : at + 2 + size], biff, names)
            if links_to_a_share(text):
                found.add(CellLink.SHARE_FORMULA)
            if fetches(text):
                found.add(CellLink.FETCHING_FORMULA)
    return found


# -- hyperlink objects ([MS-OSHARED] 2.3.7) ------------------------------------------------------

_URL_MONIKER = uuid.UUID("79EAC9E0-BAF9-11CE-8C82-00AA004BA90B").bytes_le
_FILE_MONIKER = uuid.UUID("00000303-0000-0000-C000-000000000046").bytes_le
_HAS_MONIKER, _HAS_DISPLAY, _HAS_FRAME, _AS_STRING = 0x01, 0x10, 0x80, 0x100
# Strings in a moniker this reader does not know: UTF-16 or 8-bit runs of printable characters
_WIDE = re.compile(rb"(?:[\x20-\x7e]\x00){4,}")
_NARROW = re.compile(rb"[\x20-\x7e]{4,}")


def hyperlink_targets(data: bytes) -> list[str]:
    """Where a hyperlink object leads: its moniker's address or path, as Excel follows it."""
    if len(data) < 8:
        return []
    flags = struct.unpack_from("<I", data, 4)[0]
    pos = 8
    for bit in (_HAS_DISPLAY, _HAS_FRAME):  # a display name and a frame name come first
        if flags & bit:
            pos = _skip_string(data, pos)
    if not flags & _HAS_MONIKER:
        return []
    if flags & _AS_STRING:
        return [_string(data, pos)]
    return _moniker(data[pos : pos + 16], data[pos + 16 :])


def _moniker(clsid: bytes, body: bytes) -> list[str]:
    if clsid == _URL_MONIKER and len(body) >= 4:
        size = struct.unpack_from("<I", body)[0]
        return [body[4 : 4 + size].decode("utf-16-le", "replace").split("\0")[0]]
    if clsid == _FILE_MONIKER and len(body) >= 6:
        return [_file_path(body)]
    wide = [m.group().decode("utf-16-le") for m in _WIDE.finditer(body)]
    return wide + [m.group().decode("latin-1") for m in _NARROW.finditer(body)]


def _file_path(body: bytes) -> str:
    """A file moniker's path: its Unicode path when it has one, else its ANSI path, after
    the "..\\" of each level it climbs (cAnti)."""
    anti: int
    anti, size = struct.unpack_from("<HI", body)
    ansi = body[6 : 6 + size].split(b"\0")[0].decode("cp1252", "replace")
    pos = 6 + size + 24  # endServer, versionNumber, 20 reserved bytes
    unicode = ""
    if len(body) >= pos + 10 and struct.unpack_from("<I", body, pos)[0]:
        length = struct.unpack_from("<I", body, pos + 4)[0]
        unicode = body[pos + 10 : pos + 10 + length].decode("utf-16-le", "replace")
    return "..\\" * anti + (unicode or ansi)


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
# Operand tokens by their base number: their size in BIFF8 and BIFF5, and how they read
_OPERANDS = {0x00: (4, 4, "A1"), 0x04: (4, 3, "A1"), 0x05: (8, 6, "A1"), 0x0A: (4, 3, "A1"),
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
    pos: int = 0
    stack: list[str] = field(default_factory=list)

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
    reader = _Reader(rgce, biff, names)
    try:
        while reader.pos < len(rgce):
            token = reader.take(1)[0]
            _step(reader, token)
    except _Unread:
        pass
    return " ".join(reader.stack)


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
    defined = reader.names.defined
    reader.stack.append(defined[index - 1] if 0 < index <= len(defined) else "_NAME")


def _external_name(reader: _Reader) -> None:
    if reader.biff == 8:
        sheet, index = struct.unpack_from("<HH", reader.take(6))
        sheets = reader.names.sheets
        link = sheets[sheet] if sheet < len(sheets) else -1
    else:
        # the EXTERNSHEET's number, negative, and the name's, 8 bytes apart
        sheet, index = struct.unpack_from("<h8xH", reader.take(24))
        link = abs(sheet) - 1
    reader.stack.append(reader.names.extern(link, index))


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


def _name(data: bytes, biff: int) -> str:
    """A NAME record's name: a built-in name is one code byte (read as "_BUILTIN")."""
    if len(data) < 14:
        return ""
    options, count = struct.unpack_from("<HxB", data)
    if options & 0x20:
        return "_BUILTIN"
    if biff == 8:
        return _chars(data, 14, count)
    return data[14 : 14 + count].decode("cp1252", "replace")


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
