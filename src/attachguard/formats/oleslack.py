"""Where an OLE2 compound file (.doc, .xls, .ppt) has room that no reader looks at.

A compound file is a header and numbered sectors; the allocation table (FAT) says which sectors
belong to a stream, a storage directory or the tables themselves. Word, Excel and PowerPoint
read only what the table allocates: sectors marked free, and bytes after the last allocated
sector, are never read, so a program or an archive can ride along there unseen. `slack` lists
those regions, read from the header's FAT list and the DIFAT chain, with every loop bounded by
the file's size. A header that does not parse gives no regions (the office engine reports a
damaged file); a table that is cut short counts what it holds.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

__all__ = ["OleSlack", "slack"]

_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE
_MAX_REGULAR = 0xFFFFFFFA  # above it: special values (end of chain, FAT and DIFAT sectors, free)
_HEADER_FAT = 109  # FAT sector numbers the header itself holds


class OleSlack(NamedTuple):
    end: int  # just past the last allocated sector
    free: list[tuple[int, int]]  # [start, end) of runs of free sectors before it


def _fat_sectors(data: bytes, size: int, count: int, first_difat: int) -> list[int]:
    """The FAT's sector numbers: the header's 109, then the DIFAT chain's (each DIFAT sector
    holds ``size / 4 - 1`` numbers and the next DIFAT sector's)."""
    numbers = list(struct.unpack_from("<109I", data, 76))[: min(count, _HEADER_FAT)]
    per, sector, seen = size // 4 - 1, first_difat, set()
    while len(numbers) < count and sector <= _MAX_REGULAR and sector not in seen:
        seen.add(sector)
        at = (sector + 1) * size
        if at + size > len(data):
            break
        entries = struct.unpack_from(f"<{per + 1}I", data, at)
        numbers += entries[:per]
        sector = entries[per]
    return [n for n in numbers[:count] if n <= _MAX_REGULAR]


def _table(data: bytes, size: int, sectors: list[int]) -> list[int]:
    """The allocation table: one entry per sector, from the FAT sectors that lie in the file."""
    entries: list[int] = []
    for sector in sectors:
        at = (sector + 1) * size
        if at + size > len(data):
            break
        entries += struct.unpack_from(f"<{size // 4}I", data, at)
    return entries


def slack(data: bytes) -> OleSlack | None:
    """The end of the allocated sectors and the free runs before it; None when ``data`` is not
    a compound file whose header parses."""
    if len(data) < 512 or not data.startswith(_MAGIC):
        return None
    shift, fat_count, first_difat = (
        struct.unpack_from("<H", data, 30)[0],
        *struct.unpack_from("<I", data, 44),
        *struct.unpack_from("<I", data, 68),
    )
    if shift not in (9, 12):
        return None
    size = 1 << shift
    total = max(0, len(data) // size - 1)  # sectors the file can hold after its header
    table = _table(data, size, _fat_sectors(data, size, min(fat_count, total), first_difat))
    table = table[:total]
    used = [i for i, entry in enumerate(table) if entry != _FREE]
    if not used:
        return None
    last = used[-1]
    free: list[tuple[int, int]] = []
    for i in range(last):
        if table[i] == _FREE:
            start = (i + 1) * size
            if free and free[-1][1] == start:
                free[-1] = (free[-1][0], start + size)
            else:
                free.append((start, start + size))
    return OleSlack((last + 2) * size, free)
