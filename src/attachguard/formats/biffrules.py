"""The formulas of an Excel 97-2003 sheet's conditional formats and data validation.

Excel calculates a conditional format's formula to draw the cell, and a validation's to check
an entry (a list's source too), so they are judged as a cell's formula is (`biffsheets`): a
WEBSERVICE or RTD to a server there fetches as one in a cell does; the .xlsx reader judges
their ``<formula>`` and ``formula1``/``formula2`` the same way. Records ([MS-XLS]):

- CF (2.4.42): ct, cp, cce1, cce2, a DXFN (the format: its size from its flags, 2.5.89), then
  rgce1 and rgce2. They also end the record, so they are read from there too when the two
  places differ (bytes a writer left between them and the end);
- CF12 (2.4.43): a future record header, ct, cp, cce1, cce2, a DXFN12 (its own byte count),
  rgce1, rgce2, then fmlaActive (cce and rgce: when the rule applies);
- DV (2.4.118): flags, four strings (prompt and error titles and texts), then formula1 and
  formula2 (cce, two unused bytes, rgce).

A record too short for what it declares gives what it holds.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

__all__ = ["RULE_RECORDS", "rule_formulas"]

_CF, _CF12, _DV = 0x01B1, 0x087A, 0x01BE
# DXFN's optional blocks in order, by the bit of its first 32 saying each is there: number
# format (sized apart), font (DXFFntD), alignment, border, pattern, protection
_BLOCKS = ((26, 118), (27, 8), (28, 8), (29, 4), (30, 2))
_NUMBER, _USER_FORMAT = 25, 0x0001  # ibitAtrNum; fIfmtUser, in the 16 bits after


def _u16(data: bytes, pos: int) -> int:
    return struct.unpack_from("<H", data, pos)[0] if len(data) >= pos + 2 else 0


def _dxfn_end(data: bytes, pos: int) -> int:
    """Where a DXFN starting at ``pos`` ends."""
    if len(data) < pos + 6:
        return len(data)
    flags, more = struct.unpack_from("<IH", data, pos)
    pos += 6
    if flags >> _NUMBER & 1:
        pos += max(_u16(data, pos), 2) if more & _USER_FORMAT else 2
    for bit, size in _BLOCKS:
        if flags >> bit & 1:
            pos += size
    return pos


def _pair(data: bytes, at: int, sizes: tuple[int, int]) -> list[bytes]:
    first, second = sizes
    return [data[at : at + first], data[at + first : at + first + second]]


def _cf(data: bytes) -> list[bytes]:
    if len(data) < 6:
        return []
    sizes = struct.unpack_from("<HH", data, 2)
    front = _pair(data, _dxfn_end(data, 6), sizes)
    tail = _pair(data, max(len(data) - sum(sizes), 6), sizes)
    return front if tail == front else front + tail


def _cf12(data: bytes) -> list[bytes]:
    if len(data) < 22:
        return []
    sizes = struct.unpack_from("<HH", data, 14)
    dxf = struct.unpack_from("<I", data, 18)[0]
    at = 22 + (dxf or 2)
    active = at + sum(sizes)
    return [*_pair(data, at, sizes), data[active + 2 : active + 2 + _u16(data, active)]]


def _dv(data: bytes) -> list[bytes]:
    pos = 4
    for _ in range(4):  # XLUnicodeString: cch, fHighByte, the characters
        wide = data[pos + 2] & 1 if len(data) > pos + 2 else 0
        pos += 3 + _u16(data, pos) * (2 if wide else 1)
    formulas = []
    for _ in range(2):
        size = _u16(data, pos)
        formulas.append(data[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return formulas


_READERS: dict[int, Callable[[bytes], list[bytes]]] = {_CF: _cf, _CF12: _cf12, _DV: _dv}
RULE_RECORDS = frozenset(_READERS)


def rule_formulas(rtype: int, data: bytes) -> list[bytes]:
    """The parsed formulas (Rgce) of a CF, CF12 or DV record, empty ones left out."""
    return [rgce for rgce in _READERS[rtype](data) if rgce]
