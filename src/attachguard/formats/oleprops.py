"""The user-defined properties of a Word, Excel or PowerPoint 97-2003 file: the second section
of its ``\\x05DocumentSummaryInformation`` stream ([MS-OLEPS] 2.20-2.21), where Office keeps
the names it reserves ([MS-OSHARED] 2.3.3.2.3.2), among them ``_PID_LINKBASE``, the hyperlink
base every relative hyperlink resolves against.

Read here rather than with olefile's ``get_userdefined_properties``, which its own notes call
untested: it decodes every name as UTF-8 whatever the section's code page says and does not
skip the padding after a Unicode name, so in a set written by Office in Unicode it loses the
names after the first.

Which section is the user-defined one is not known for certain: [MS-OLEPS] puts it second and
gives it the user-defined format id, and whether Office looks by position or by id is not
verified. Both are read: every section with that id, and the second section whatever its id.
Where readers could differ, every reading counts: a property identifier listed twice gives
both values, and a section without a 16-bit code page has its names read both as Unicode and
as ANSI (Windows-1252). Code pages are decoded as Windows decodes them (10000 is Mac Roman,
28591 Latin-1, 65001 UTF-8); one Python has no codec for is read as Latin-1, which gives the
ASCII names Office reserves right.

Damage is read leniently, since writers other than Office (old tools, converters) leave
malformed property sets in honest files: what comes before it is kept, and only damage to
what could hold the name (a user-defined section's header, property table or dictionary, or
the value a wanted name points to) is reported; damage elsewhere (the first section, the
values of other properties) cannot hide a hyperlink base. Reading stops at `MOST_PROPERTIES`
properties or names per section, `MOST_SECTIONS` sections and four times `MOST_PROPERTIES`
entries in all: past any, ``limit`` says which. Only the first 4 KB of a name or value is
decoded (a longer name is not a name Office reserves; a base's start says where it points).

`all_texts` reads every text of a property set stream instead (the title, subject, author,
keywords, comments, category, company... of ``\\x05SummaryInformation`` and
``\\x05DocumentSummaryInformation``, every user-defined property and its name), for the
sensitive engine: Office and Explorer show them in the file's properties."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from attachguard.formats.codepages import codec

__all__ = [
    "MOST_PROPERTIES", "MOST_SECTIONS", "STREAMS", "UserDefined", "all_texts", "user_defined",
    "user_defined_texts",
]  # fmt: skip

STREAM = "\x05DocumentSummaryInformation"
STREAMS = ("\x05SummaryInformation", STREAM)  # the property sets Office writes
MOST_PROPERTIES = 10_000  # per section: Office writes a few dozen
MOST_SECTIONS = 16  # [MS-OLEPS] allows 2
# Entries (of property tables and dictionaries, values) read in all: a table may list one
# dictionary or value thousands of times, or point into it at thousands of places.
_MOST_ENTRIES = 4 * MOST_PROPERTIES
# Bytes of a name or value decoded: a name compared with a short one, a base whose start
# says where it points.
_MOST_TEXT = 4096
_USER_DEFINED = uuid.UUID("D5CDD505-2E9C-101B-9397-08002B2CF9AE").bytes_le
_DICTIONARY, _CODE_PAGE = 0, 1  # property identifiers
_UNICODE = 1200  # the code page of UTF-16LE names and strings
_ANSI = 1252  # Windows' ANSI code page in the West: the guess when none is declared
_VT_I2, _VT_BSTR, _VT_LPSTR, _VT_LPWSTR, _VT_BLOB = 0x02, 0x08, 0x1E, 0x1F, 0x41
# A BSTR is stored as a CodePageString, as an LPSTR is ([MS-OLEPS] 2.15); in a BLOB Office
# stores a UTF-16 string.
_CODE_PAGE_STRINGS = (_VT_BSTR, _VT_LPSTR)
_STRINGS = (*_CODE_PAGE_STRINGS, _VT_LPWSTR, _VT_BLOB)


@dataclass(frozen=True)
class UserDefined:
    """What `user_defined` read: the wanted texts, what could not be read (in words, for a
    finding) and the limit that stopped the reading, if one did."""

    texts: list[str]
    damage: list[str] = field(default_factory=list)
    limit: str | None = None


@dataclass
class _Reading:
    """What one call has read so far (never shared between calls)."""

    data: bytes
    name: str
    texts: list[str] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)
    limit: str | None = None
    left: int = _MOST_ENTRIES
    most_text: int = _MOST_TEXT  # bytes of a name or value decoded

    def damaged(self, what: str) -> None:
        if what not in self.damage:
            self.damage.append(what)

    def spent(self) -> bool:
        """Counts one entry read: True, with the limit said, past the stream's budget."""
        self.left -= 1
        if self.left < 0:
            self.limit = f"more than {_MOST_ENTRIES:,} properties, names and values in all"
        return self.left < 0


def user_defined_texts(ole: Any, name: str) -> list[str]:
    """The texts of `user_defined`, without what it could not read."""
    return user_defined(ole, name).texts


def user_defined(ole: Any, name: str) -> UserDefined:
    """The text of every user-defined property called ``name`` (names compared regardless of
    case, as Office compares them) in ``ole``'s (an olefile.OleFileIO) root, a BLOB taken as
    the null-terminated UTF-16 string Office stores there; with the damage met and whether a
    limit stopped it (see the module docstring)."""
    if not ole.exists(STREAM):
        return UserDefined([])
    reading = _Reading(ole.openstream(STREAM).read(), name)
    for start in _sections(reading):
        _section(reading, start)
    return UserDefined(reading.texts, reading.damage, reading.limit)


def all_texts(ole: Any, stream: str) -> list[str]:
    """Every text of the property set stream ``stream`` (one of `STREAMS`) in ``ole``'s root:
    each section's string values and the names of user-defined properties; what cannot be
    read is left out (the office engine reports damage)."""
    if not ole.exists(stream):
        return []
    data = ole.openstream(stream).read()
    reading = _Reading(data, "", most_text=len(data))
    for start in _sections(reading, every=True):
        table = _property_table(reading, start)
        code_pages = _code_pages(reading, table)
        for at in table.get(_DICTIONARY, []):
            for code_page in code_pages:
                reading.texts += [name for _, name in _dictionary(reading, at, code_page)[0]]
        for ident, offsets in table.items():
            for at in offsets if ident not in (_DICTIONARY, _CODE_PAGE) else []:
                _value(reading, at, code_pages)
    return list(dict.fromkeys(reading.texts))


def _sections(reading: _Reading, every: bool = False) -> list[int]:
    """Where the sections to read start: the user-defined ones and the second (``every``:
    all of them). A header that cannot be read hides nothing: no reader finds a section
    through it."""
    data = reading.data
    if len(data) < 28:
        return []
    count = _u32(data, 24)
    held = min(count, MOST_SECTIONS, (len(data) - 28) // 20)
    if count > MOST_SECTIONS and _USER_DEFINED in data[28 + 20 * MOST_SECTIONS : 28 + 20 * count]:
        reading.limit = f"more than {MOST_SECTIONS} property sets"
    starts = [_u32(data, 44 + 20 * i) for i in range(held)
              if every or i == 1 or data[28 + 20 * i : 44 + 20 * i] == _USER_DEFINED]  # fmt: skip
    return list(dict.fromkeys(starts))


def _section(reading: _Reading, start: int) -> None:
    table = _property_table(reading, start)
    code_pages = _code_pages(reading, table)
    wanted = {ident for at in table.get(_DICTIONARY, [])
              for ident in _names(reading, at, code_pages)}  # fmt: skip
    for ident in sorted(wanted):
        for at in table.get(ident, []):
            _value(reading, at, code_pages)


def _code_pages(reading: _Reading, table: dict[int, list[int]]) -> list[int]:
    """The code pages a section's CodePage properties declare; Unicode and ANSI without one."""
    code_pages = [cp for at in table.get(_CODE_PAGE, []) if (cp := _code_page(reading.data, at))]
    return code_pages or [_UNICODE, _ANSI]


def _property_table(reading: _Reading, start: int) -> dict[int, list[int]]:
    """Where each property's value starts, by identifier (all of them for one listed twice)."""
    data = reading.data
    if start + 8 > len(data):
        reading.damaged("a section past the end of the stream")
        return {}
    count = _u32(data, start + 4)
    if count > MOST_PROPERTIES:
        reading.limit = f"more than {MOST_PROPERTIES:,} properties in a section"
    held = min(count, MOST_PROPERTIES, (len(data) - start - 8) // 8)
    if held < min(count, MOST_PROPERTIES):
        reading.damaged("a property table that runs past the end of the stream")
    table: dict[int, list[int]] = {}
    for i in range(held):
        if reading.spent():
            break
        ident, offset = struct.unpack_from("<II", data, start + 8 + 8 * i)
        table.setdefault(ident, []).append(start + offset)
    return {ident: list(dict.fromkeys(offsets)) for ident, offsets in table.items()}


def _code_page(data: bytes, at: int) -> int | None:
    """The code page a CodePage property declares, None unless it is a 16-bit integer."""
    if at + 6 > len(data) or _u16(data, at) != _VT_I2:
        return None
    return _u16(data, at + 4) or None


def _names(reading: _Reading, at: int, code_pages: list[int]) -> set[int]:
    """The identifiers the dictionary at ``at`` names ``reading.name``, in any of the code
    pages; damaged only when no reading could follow it to its end."""
    found: set[int] = set()
    complete = False
    for code_page in code_pages:
        entries, whole = _dictionary(reading, at, code_page)
        found |= {ident for ident, named in entries if named.lower() == reading.name.lower()}
        complete = complete or whole
    if not complete:
        reading.damaged("a dictionary of property names that runs past the end of the stream")
    return found


def _dictionary(reading: _Reading, at: int, code_page: int) -> tuple[list[tuple[int, str]], bool]:
    """The names of the dictionary at ``at`` ([MS-OLEPS] 2.17) as (identifier, name), and
    whether every entry it counts could be read."""
    data = reading.data
    if at + 4 > len(data):
        return [], False
    count = _u32(data, at)
    if count > MOST_PROPERTIES:
        reading.limit = f"more than {MOST_PROPERTIES:,} names in a dictionary"
    entries: list[tuple[int, str]] = []
    position = at + 4
    for _ in range(min(count, MOST_PROPERTIES)):
        if reading.spent():
            return entries, True  # the limit says what was not read
        if position + 8 > len(data):
            return entries, False
        ident, length = struct.unpack_from("<II", data, position)
        size = 2 * length if code_page == _UNICODE else length
        if position + 8 + size > len(data):
            return entries, False
        name = data[position + 8 : position + 8 + min(size, reading.most_text)]
        entries.append((ident, _decoded(name, code_page)))
        position += 8 + size + (-size % 4 if code_page == _UNICODE else 0)  # padded to 4 bytes
    return entries, True


def _value(reading: _Reading, at: int, code_pages: list[int]) -> None:
    """The text of the value at ``at`` (in each code page for a BSTR or an ANSI string); a
    value of another type is no text."""
    data = reading.data
    if reading.spent():
        return
    if at + 8 > len(data):
        reading.damaged(f"a value of {reading.name} past the end of the stream")
        return
    kind, size = _u16(data, at), _u32(data, at + 4)
    if kind not in _STRINGS:
        return
    size *= 2 if kind == _VT_LPWSTR else 1
    raw = data[at + 8 : at + 8 + min(size, reading.most_text)]
    if at + 8 + size > len(data):
        reading.damaged(f"a value of {reading.name} that runs past the end of the stream")
    pages = code_pages if kind in _CODE_PAGE_STRINGS else [_UNICODE]
    reading.texts += dict.fromkeys(_decoded(raw, code_page) for code_page in pages)


def _decoded(raw: bytes, code_page: int) -> str:
    # a code page Python does not know: Latin-1 keeps the ASCII names Office reserves
    return raw.decode(codec(code_page, "latin_1"), "replace").split("\0", 1)[0]


def _u16(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<H", data, at)[0])


def _u32(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<I", data, at)[0])
