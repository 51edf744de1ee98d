"""The user-defined properties of a Word, Excel or PowerPoint 97-2003 file: the second section
of its ``\\x05DocumentSummaryInformation`` stream ([MS-OLEPS] 2.20-2.21), where Office keeps
the names it reserves ([MS-OSHARED] 2.3.3.2.3.2), among them ``_PID_LINKBASE``, the hyperlink
base every relative hyperlink resolves against.

Read here rather than with olefile's ``get_userdefined_properties``, which its own notes call
untested: it decodes every name as UTF-8 whatever the section's code page says and does not
skip the padding after a Unicode name, so in a set written by Office in Unicode it loses the
names after the first. Every section with the user-defined format id is read (a second one is
no less Office's to read); a section that cannot be followed is left out, as Office leaves out
a damaged property set (not verified)."""

from __future__ import annotations

import struct
import uuid
from typing import Any

__all__ = ["user_defined_texts"]

STREAM = "\x05DocumentSummaryInformation"
_USER_DEFINED = uuid.UUID("D5CDD505-2E9C-101B-9397-08002B2CF9AE").bytes_le
_DICTIONARY, _CODE_PAGE = 0, 1  # property identifiers
_UNICODE = 1200  # the code page of UTF-16LE names and strings
_VT_LPSTR, _VT_LPWSTR, _VT_BLOB = 0x1E, 0x1F, 0x41
_MOST_PROPERTIES = 10_000  # per section: Office writes a few dozen


def user_defined_texts(ole: Any, name: str) -> list[str]:
    """The text of every user-defined property called ``name`` (names compared regardless of
    case, as Office compares them) in ``ole``'s (an olefile.OleFileIO) root; a BLOB is taken as
    the null-terminated UTF-16 string Office stores there."""
    if not ole.exists(STREAM):
        return []
    data = ole.openstream(STREAM).read()
    found = []
    try:
        count = min(_u32(data, 24), 16)
        offsets = [_u32(data, 28 + 20 * i + 16) for i in range(count)
                   if data[28 + 20 * i : 44 + 20 * i] == _USER_DEFINED]  # fmt: skip
    except struct.error:
        return []
    for offset in offsets:
        try:
            found += _section_texts(data, offset, name.lower())
        except (struct.error, UnicodeError, LookupError):
            continue
    return found


def _section_texts(data: bytes, start: int, name: str) -> list[str]:
    count = min(_u32(data, start + 4), _MOST_PROPERTIES)
    where = {_u32(data, start + 8 + 8 * i): start + _u32(data, start + 12 + 8 * i)
             for i in range(count)}  # fmt: skip
    code_page = _UNICODE
    if _CODE_PAGE in where and _u16(data, where[_CODE_PAGE]) == 2:  # VT_I2
        code_page = _u16(data, where[_CODE_PAGE] + 4)
    if _DICTIONARY not in where:
        return []
    wanted = [ident for ident, named in _dictionary(data, where[_DICTIONARY], code_page)
              if named.lower() == name and ident in where]  # fmt: skip
    return [text for ident in wanted if (text := _text(data, where[ident], code_page)) is not None]


def _dictionary(data: bytes, at: int, code_page: int) -> list[tuple[int, str]]:
    """The section's names: (property identifier, name), as [MS-OLEPS] 2.17 lays them out."""
    entries = []
    position = at + 4
    for _ in range(min(_u32(data, at), _MOST_PROPERTIES)):
        ident, length = _u32(data, position), _u32(data, position + 4)
        position += 8
        if code_page == _UNICODE:
            raw = data[position : position + 2 * length]
            position += 2 * length + (-2 * length) % 4  # padded to 4 bytes
        else:
            raw = data[position : position + length]
            position += length
        entries.append((ident, _decoded(raw, code_page)))
    return entries


def _text(data: bytes, at: int, code_page: int) -> str | None:
    kind, size = _u16(data, at), _u32(data, at + 4)
    raw = data[at + 8 : at + 8 + (2 * size if kind == _VT_LPWSTR else size)]
    if kind in (_VT_BLOB, _VT_LPWSTR):
        return _decoded(raw, _UNICODE)
    if kind == _VT_LPSTR:
        return _decoded(raw, code_page)
    return None


def _decoded(raw: bytes, code_page: int) -> str:
    codec = "utf-16-le" if code_page == _UNICODE else f"cp{code_page}"
    if code_page == 65001:
        codec = "utf-8"
    return raw.decode(codec, "replace").split("\0", 1)[0]


def _u16(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<H", data, at)[0])


def _u32(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<I", data, at)[0])
