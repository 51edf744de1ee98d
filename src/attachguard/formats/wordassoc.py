"""The files a Word 97-2003 document (.doc) names in its associated strings (``SttbfAssoc``,
MS-DOC 2.9.276), found as Word finds them: the FIB's ``fcSttbfAssoc``/``lcbSttbfAssoc`` pair
(the 33rd of ``FibRgFcLcb97``) points into the table stream its ``fWhichTblStm`` flag names
(``1Table`` or ``0Table``).

Word opens the attached template (string 1) with the document, as it does a .docx's
``attachedTemplate`` and an RTF's ``\\template``: from a share, Windows sends the reader's
credentials there, and the template brings its macros. A mail merge main document names its data
source (string 8) and header source (string 9), which Word opens with it too.

Written here because no maintained Python library reads the FIB's associated strings (oletools
reads fields and macros, olefile only the compound file). The FIB is read by its own counts
(``csw`` 14 words, ``cslw`` 22 longs: the Word 97 and later layout) whatever its ``nFib`` says;
Word 6.0/95 documents, whose FIB has another layout, are not read. A table that names the
strings but cannot hold them (an offset or a length past its end, a string cut short), or that
departs from what MS-DOC requires of this one (18 strings, no extra data after each), is
irregular: how Word reads it is unknown, so every run of text in it, read as UTF-16 and as
8-bit, that starts like a place on another machine (``\\host``, ``scheme://``) is kept as
``stray``.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Associated", "associated"]

_WORD_IDENT = 0xA5EC
_CSW, _CSLW = 14, 22  # the Word 97 and later FIB's counts of words and longs
_STRINGS = 18  # the strings MS-DOC gives the table, with no extra data
_ENCRYPTED, _TABLE_1 = 0x0100, 0x0200  # FibBase flags: fEncrypted, fWhichTblStm
_ASSOC_PAIR = 32  # fcSttbfAssoc/lcbSttbfAssoc: the 33rd pair of FibRgFcLcb97
_TEMPLATE, _MERGE_DATA, _MERGE_HEADER = 1, 8, 9
_MOST_STRINGS = 64  # read no further, whatever cData says (MS-DOC gives the table 18)


@dataclass
class Associated:
    """What a document's associated strings name: its ``template`` ("" for Normal), its mail
    merge's ``merge_sources`` (data and header source, when set) and, when they are damaged,
    the ``stray`` places found in them."""

    template: str = ""
    merge_sources: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)


def associated(ole: Any) -> Associated:
    """The associated strings of the Word document in ``ole`` (an olefile.OleFileIO): empty
    when it has none, is encrypted, or is a Word 6.0/95 document."""
    doc = ole.openstream("WordDocument").read()
    if len(doc) < 34 or _u16(doc, 0) != _WORD_IDENT:
        return Associated()
    flags = _u16(doc, 0x0A)
    if flags & _ENCRYPTED:
        return Associated()
    place = _assoc_place(doc)
    table_name = "1Table" if flags & _TABLE_1 else "0Table"
    if place is None or not place[1] or not ole.exists(table_name):
        return Associated()  # no strings named, or no table: Word would not open the file
    fc, lcb = place
    table = ole.openstream(table_name).read()
    chunk = table[fc : fc + lcb]
    strings, complete = _sttb(chunk)
    found = Associated(stray=[] if complete else _places_in(chunk))
    found.template = strings[_TEMPLATE] if len(strings) > _TEMPLATE else ""
    found.merge_sources = [strings[i] for i in (_MERGE_DATA, _MERGE_HEADER) if i < len(strings)]
    found.merge_sources = [source for source in found.merge_sources if source]
    return found


def _assoc_place(doc: bytes) -> tuple[int, int] | None:
    """The offset and length of the associated strings in the table stream, as the FIB gives
    them past its variable parts (csw words, cslw longs, cbRgFcLcb pairs); None when the FIB
    is too short to hold them."""
    try:
        csw = _u16(doc, 32)
        cslw = _u16(doc, 34 + csw * 2)
        pairs_at = 34 + csw * 2 + 2 + cslw * 4
        if (csw, cslw) != (_CSW, _CSLW) or _u16(doc, pairs_at) <= _ASSOC_PAIR:
            return None  # a Word 6.0/95 FIB, or one too short to name the strings
        fc, lcb = struct.unpack_from("<II", doc, pairs_at + 2 + _ASSOC_PAIR * 8)
    except struct.error:
        return None
    return fc, lcb


def _sttb(data: bytes) -> tuple[list[str], bool]:
    """The strings of an STTB (MS-DOC 2.2.4), as far as they can be read, each string's extra
    data skipped, and whether the table is as MS-DOC requires and was read whole: extended
    (``fExtend`` 0xFFFF) strings are UTF-16, others 8-bit."""
    if len(data) < 6:
        return [], False
    extended = _u16(data, 0) == 0xFFFF
    pos = 2 if extended else 0
    count, extra = _u16(data, pos), _u16(data, pos + 2)
    pos += 4
    strings: list[str] = []
    for _ in range(min(count, _MOST_STRINGS)):
        if extended:
            size = 2 * _u16(data, pos) if pos + 2 <= len(data) else -1
            pos += 2
        else:
            size = data[pos] if pos < len(data) else -1
            pos += 1
        if size < 0 or pos + size > len(data):
            return strings, False
        raw = data[pos : pos + size]
        strings.append(raw.decode("utf-16-le" if extended else "cp1252", "replace"))
        pos += size + extra
    return strings, count == _STRINGS and not extra


# The start of a place on another machine: a UNC path or a URL with a host
_AFAR = re.compile(r"(?:\\\\|//|[A-Za-z][\w+.\-]*://)[^\x00-\x1f]{2,}")


def _places_in(data: bytes) -> list[str]:
    """Every run of text in ``data``, read as UTF-16 and as 8-bit, that starts like a place
    on another machine."""
    texts = (data.decode("utf-16-le", "replace"), data[1:].decode("utf-16-le", "replace"),
             data.decode("cp1252", "replace"))  # fmt: skip
    return [match.group() for text in texts for match in _AFAR.finditer(text)]


def _u16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<H", data, pos)[0]
    return value
