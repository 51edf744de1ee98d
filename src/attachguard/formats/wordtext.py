"""The text of a Word 97-2003 document (.doc) as Word assembles it: from its piece table.

The FIB names the table stream (``0Table`` or ``1Table``) and, in it, the ``Clx``: formatting
(``Prc``, skipped), then the piece table, character positions and one descriptor a piece, each
piece 8-bit (Windows-1252, at half its offset) or UTF-16LE in the ``WordDocument`` stream
([MS-DOC] 2.8.35, 2.9.38, 2.9.177): the body, footnotes, headers, comments and text boxes, in
order. Field characters (0x13, 0x14, 0x15) are characters of this text, not bytes: a UTF-16
character such as U+AC13 holds a byte 0x13 that is no field mark (a red team hid a field so
from a byte-by-byte reading). Written here from the specification: oletools and olefile read
no piece table, and the sensitive engine and the field reader both need this one.

`document_readings` also reads the text as Word can show it with tracked changes, as the .docx
reader reads fields: marked up, deletions accepted (runs whose character properties, the CHPX
of the ``PlcBteChpx``'s FKP pages, [MS-DOC] 2.8.6, 2.9.43, hold ``sprmCFRMarkDel``, dropped) and
insertions rejected (``sprmCFRMarkIns`` runs dropped): ``[X]DDEAUTO``, the X a tracked
deletion, is a DDEAUTO field once the change is accepted.
"""

from __future__ import annotations

import bisect
import itertools
import struct
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Unreadable", "document_readings", "document_text"]

_MAGIC = 0xA5EC
_ENCRYPTED, _TABLE_1 = 0x0100, 0x0200
_CLX = 33  # the Clx's place among the FIB's offset and size pairs
_BTE_CHPX = 12  # the PlcBteChpx's: where each page of character properties is
_PAGE = 512
_REVISIONS = {0x0800: 2, 0x0801: 1}  # sprmCFRMarkDel, sprmCFRMarkIns: _DELETED, _INSERTED
_DELETED, _INSERTED = 2, 1
# a sprm's operand size by its spra (the top three bits); None: its first byte says
_OPERAND = (1, 1, 2, 4, 2, 2, None, 3)
_COMPRESSED = 0x40000000
_OFFSET = 0x3FFFFFFF


class Unreadable(ValueError):
    """A stream that is not what it should be; the message says which, in words."""


def document_text(ole: Any) -> str:
    """The document's text, piece by piece (see the module docstring); `Unreadable` when the
    streams are not a readable Word document, struct.error or ValueError when damaged."""
    doc, table, fclcb = _streams(ole)
    return "".join(text for text, _, _ in _pieces(doc, _clx(doc, table, fclcb)))


def document_readings(ole: Any) -> list[str]:
    """The document's text marked up, then with deletions accepted and with insertions
    rejected when it has such revisions (see the module docstring); raises as
    `document_text`."""
    doc, table, fclcb = _streams(ole)
    pieces = list(_pieces(doc, _clx(doc, table, fclcb)))
    runs = _revision_runs(doc, table, fclcb)
    readings = ["".join(text for text, _, _ in pieces)]
    for drop in (_DELETED, _INSERTED):
        marked = _merged((start, end) for start, end, flags in runs if flags & drop)
        if marked:
            readings.append("".join(_kept(piece, marked) for piece in pieces))
    return list(dict.fromkeys(readings))


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Stream ranges sorted and joined where they touch or overlap: each piece then looks only
    at those that reach it (`_kept`), however many runs and pieces a file claims."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(r for r in ranges if r[1] > r[0]):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _streams(ole: Any) -> tuple[bytes, bytes, int]:
    """The WordDocument and table streams, and where the FIB's offset and size pairs start."""
    doc = ole.openstream("WordDocument").read()
    if len(doc) < 34 or _u16(doc, 0) != _MAGIC:
        raise Unreadable("not a Word 97-2003 document stream")
    flags = _u16(doc, 0x0A)
    if flags & _ENCRYPTED:
        raise Unreadable("encrypted")
    table_name = "1Table" if flags & _TABLE_1 else "0Table"
    if not ole.exists(table_name):
        raise Unreadable("no table stream")
    table = ole.openstream(table_name).read()
    csw = _u16(doc, 32)
    cslw = _u16(doc, 34 + csw * 2)
    return doc, table, 34 + csw * 2 + 2 + cslw * 4 + 2


def _clx(doc: bytes, table: bytes, fclcb: int) -> bytes:
    fc_clx, lcb_clx = _u32(doc, fclcb + _CLX * 8), _u32(doc, fclcb + _CLX * 8 + 4)
    return table[fc_clx : fc_clx + lcb_clx]


def _pieces(doc: bytes, clx: bytes) -> Iterator[tuple[str, int, int]]:
    """Each piece's text, the stream offset of its first character and the bytes of one."""
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc: formatting, skipped
        pos += 3 + _u16(clx, pos + 1)
    if pos >= len(clx) or clx[pos] != 0x02:
        raise Unreadable("no piece table")
    size = _u32(clx, pos + 1)
    plc = clx[pos + 5 : pos + 5 + size]
    count = (len(plc) - 4) // 12
    left = 2 * len(doc)  # characters in all: pieces claiming the stream many times are damage
    for i in range(count):
        start, end = _u32(plc, 4 * i), _u32(plc, 4 * i + 4)
        fc = _u32(plc, 4 * (count + 1) + 8 * i + 2)
        chars = max(0, end - start)
        left -= chars
        if left < 0:
            raise Unreadable("pieces that claim more text than the document stream holds")
        if fc & _COMPRESSED:  # 8-bit text at half the offset
            offset = (fc & _OFFSET) // 2  # bits 30 and 31 are flags, not offset
            yield doc[offset : offset + chars].decode("cp1252", "replace"), offset, 1
        else:
            yield doc[fc : fc + 2 * chars].decode("utf-16-le", "replace"), fc, 2


def _kept(piece: tuple[str, int, int], marked: list[tuple[int, int]]) -> str:
    """A piece's text without its characters in the ``marked`` stream ranges (`_merged`:
    sorted and disjoint, so that only those overlapping the piece are looked at)."""
    text, start, width = piece
    stop = start + width * len(text)
    first_range = max(0, bisect.bisect_right(marked, (start, start)) - 1)
    dropped = bytearray(len(text))
    for low, high in itertools.takewhile(lambda r: r[0] < stop, marked[first_range:]):
        first = max(0, -(-(low - start) // width))
        last = min(len(text), -(-(high - start) // width))
        dropped[first:last] = b"\x01" * max(0, last - first)
    return "".join(char for char, gone in zip(text, dropped, strict=True) if not gone)


def _revision_runs(doc: bytes, table: bytes, fclcb: int) -> list[tuple[int, int, int]]:
    """The stream ranges of the runs marked deleted or inserted (`_REVISIONS`), from the
    character property pages the PlcBteChpx points at."""
    fc, lcb = _u32(doc, fclcb + _BTE_CHPX * 8), _u32(doc, fclcb + _BTE_CHPX * 8 + 4)
    plc = table[fc : fc + lcb]
    count = (len(plc) - 4) // 8
    pages = {_u32(plc, 4 * (count + 1) + 4 * i) & 0x3FFFFF for i in range(max(count, 0))}
    runs: list[tuple[int, int, int]] = []
    for page in sorted(pages):  # each page once, however many entries name it
        runs += _page_runs(doc[page * _PAGE : (page + 1) * _PAGE])
    return runs


def _page_runs(page: bytes) -> list[tuple[int, int, int]]:
    """A ChpxFkp's runs (stream range, revision flags) that are marked."""
    if len(page) < _PAGE:
        return []
    crun = min(page[_PAGE - 1], (_PAGE - 1 - 4) // 5)
    runs = []
    for i in range(crun):
        at = page[4 * (crun + 1) + i] * 2
        if at and (flags := _revision_flags(page[at + 1 : at + 1 + page[at]])):
            runs.append((_u32(page, 4 * i), _u32(page, 4 * i + 4), flags))
    return runs


def _revision_flags(grpprl: bytes) -> int:
    """Which of `_REVISIONS` a run's properties turn on (any value but 0: 0x80 and 0x81 say
    "as the style", "the style's opposite", which may be on)."""
    flags, pos = 0, 0
    while pos + 2 <= len(grpprl):
        sprm = _u16(grpprl, pos)
        pos += 2
        size = _OPERAND[sprm >> 13]
        if size is None:
            size = 1 + (grpprl[pos] if pos < len(grpprl) else 0)
        if sprm in _REVISIONS and pos < len(grpprl) and grpprl[pos]:
            flags |= _REVISIONS[sprm]
        pos += size
    return flags


def _u16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<H", data, pos)[0]
    return value


def _u32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<I", data, pos)[0]
    return value
