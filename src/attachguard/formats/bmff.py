"""ISO base media file structure (MP4, QuickTime, 3GP, HEIC): the chain of top-level boxes.

`walk` follows box sizes from the ``ftyp`` box as players do: a 32-bit size, a 64-bit one when
the size is 1, "to the end of the file" when it is 0. A box whose size runs past the end of the
file is cut there (a truncated recording, or a size that lies). The chain ends at the end of the
file or at the first bytes that cannot be a box (a type that is not four letters, digits or
spaces, or a size too small for its own header): whatever follows is not part of the media.
Nested boxes are not walked; callers treat a top-level box's payload as a whole. Linear in the
number of boxes.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

__all__ = ["BmffLayout", "Box", "Extent", "bmff_end", "walk"]


class Extent(Enum):
    """How a box's size was given."""

    EXACT = "exact"
    TO_END = "to-end"  # size 0: the box runs to the end of the file
    CUT = "cut"  # the size runs past the end of the file


class Box(NamedTuple):
    kind: bytes  # four bytes: b"moov", b"free"
    start: int  # the box header
    payload: int  # after the header (8 bytes, 16 with a 64-bit size)
    end: int
    extent: Extent


class BmffLayout(NamedTuple):
    boxes: list[Box]
    end: int  # where the chain of boxes ends


_TYPE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")


def _box(data: bytes, pos: int, n: int) -> Box | None:
    """The box at ``pos``, None if the bytes there cannot be one."""
    kind = data[pos + 4 : pos + 8]
    if not _TYPE.issuperset(kind) or kind == b"    ":
        return None
    size, header = int.from_bytes(data[pos : pos + 4], "big"), 8
    if size == 1:
        if pos + 16 > n:
            return None
        size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
    if size == 0:
        return Box(kind, pos, pos + header, n, Extent.TO_END)
    if size < header:
        return None
    if pos + size > n:
        return Box(kind, pos, pos + header, n, Extent.CUT)
    return Box(kind, pos, pos + header, pos + size, Extent.EXACT)


def walk(data: bytes, start: int = 0, stop: int | None = None) -> BmffLayout | None:
    """The top-level boxes of the media file at ``start`` (up to ``stop``); None unless it
    begins with an ``ftyp`` box."""
    n = len(data) if stop is None else stop
    if data[start + 4 : start + 8] != b"ftyp":
        return None
    boxes: list[Box] = []
    pos = start
    while pos + 8 <= n and (box := _box(data, pos, n)) is not None:
        boxes.append(box)
        pos = box.end
    return BmffLayout(boxes, pos)


def bmff_end(data: bytes, start: int, stop: int) -> int | None:
    """Where the media file at ``start`` ends, for a file inside another one: the end of its
    chain of boxes, or the start of a box that claims to run past ``stop`` (what follows it is
    not accounted for). None if it is not a media file."""
    layout = walk(data, start, stop)
    if layout is None or not layout.boxes:
        return None
    cut = next((box.start for box in layout.boxes if box.extent is Extent.CUT), None)
    if cut is not None:
        return cut if cut > start else None
    return layout.end
