"""The text of a Word 97-2003 document (.doc) as Word assembles it: from its piece table.

The FIB names the table stream (``0Table`` or ``1Table``) and, in it, the ``Clx``: formatting
(``Prc``, skipped), then the piece table, character positions and one descriptor a piece, each
piece 8-bit (Windows-1252, at half its offset) or UTF-16LE in the ``WordDocument`` stream
([MS-DOC] 2.8.35, 2.9.38, 2.9.177): the body, footnotes, headers, comments and text boxes, in
order. Field characters (0x13, 0x14, 0x15) are characters of this text, not bytes: a UTF-16
character such as U+AC13 holds a byte 0x13 that is no field mark (a red team hid a field so
from a byte-by-byte reading). Written here from the specification: oletools and olefile read
no piece table, and the sensitive engine and the field reader both need this one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

__all__ = ["Unreadable", "document_text"]

_MAGIC = 0xA5EC
_ENCRYPTED, _TABLE_1 = 0x0100, 0x0200
_CLX = 33  # the Clx's place among the FIB's offset and size pairs
_COMPRESSED = 0x40000000
_OFFSET = 0x3FFFFFFF


class Unreadable(ValueError):
    """A stream that is not what it should be; the message says which, in words."""


def document_text(ole: Any) -> str:
    """The document's text, piece by piece (see the module docstring); `Unreadable` when the
    streams are not a readable Word document, struct.error or ValueError when damaged."""
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
    fclcb = 34 + csw * 2 + 2 + cslw * 4 + 2
    fc_clx, lcb_clx = _u32(doc, fclcb + _CLX * 8), _u32(doc, fclcb + _CLX * 8 + 4)
    return "".join(_pieces(doc, table[fc_clx : fc_clx + lcb_clx]))


def _pieces(doc: bytes, clx: bytes) -> Iterator[str]:
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
            yield doc[offset : offset + chars].decode("cp1252", "replace")
        else:
            yield doc[fc : fc + 2 * chars].decode("utf-16-le", "replace")


def _u16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<H", data, pos)[0]
    return value


def _u32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<I", data, pos)[0]
    return value
