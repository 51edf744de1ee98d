"""JPEG structure: marker segments, entropy-coded scans, the end of the image, Samsung's trailer.

`walk` reads a JPEG the way libjpeg does: marker segments by their declared lengths (so a
marker inside an EXIF thumbnail is never taken for the image's own), entropy-coded data up to
the next marker that is not a restart marker, a stuffed zero or a fill byte, and stray bytes
between segments skipped up to the next 0xFF (libjpeg warns about "extraneous bytes" and goes
on). It returns every segment's payload, the stray bytes, and where the End Of Image marker
ends the image (None when it never does: a truncated or broken file). Linear in the file size:
entropy-coded data and fill bytes are skipped by regular-expression searches, not byte by byte
(14 ms for a 5 MB photo byte by byte in Python, under 1 ms this way).

`samsung_trailer` reads the "SEFT" trailer Samsung phones append after the image, as ExifTool
reads it.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple

__all__ = ["JpegLayout", "Segment", "jpeg_end", "samsung_trailer", "segment_name", "walk"]


class Segment(NamedTuple):
    marker: int  # the byte after 0xFF: 0xE1 for APP1, 0xFE for a comment
    start: int  # the payload, after the two length bytes
    end: int


class JpegLayout(NamedTuple):
    segments: list[Segment]
    stray: list[tuple[int, int]]  # [start, end) of bytes between segments that decoders skip
    end: int | None  # just past the End Of Image marker; None if the image never ends
    header_end: int  # where the first scan begins: the metadata (EXIF, XMP, MPF) lies before


_SOI, _EOI, _SOS = b"\xff\xd8", 0xD9, 0xDA
_STANDALONE = frozenset({0x00, 0x01, *range(0xD0, 0xD9)})  # markers without a length
_MARKER = re.compile(rb"\xff+([^\xff])")  # fill bytes, then the marker
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # not a stuffed zero, a restart, or fill
_NAMES = {
    0xFE: "comment",
    0xDB: "quantization table",
    0xC4: "Huffman table",
    0xDA: "scan header",
    0xDD: "restart interval",
    0xCC: "arithmetic coding",
}
_PADDING = b"\x00\xff \t\r\n\x0c"


def segment_name(marker: int) -> str:
    """A segment's name as JPEG tools print it ("APP1", "comment", "frame header")."""
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    if 0xC0 <= marker <= 0xCF and marker not in _NAMES:
        return "frame header"
    return _NAMES.get(marker, f"0x{marker:02X}")


def walk(data: bytes, start: int = 0, stop: int | None = None) -> JpegLayout | None:
    """The JPEG at ``start`` (looking no further than ``stop``), segment by segment; None if
    it does not begin with a Start Of Image marker."""
    n = len(data) if stop is None else stop
    if data[start : start + 2] != _SOI:
        return None
    segments: list[Segment] = []
    stray: list[tuple[int, int]] = []
    header_end: int | None = None
    pos = start + 2
    while found := _MARKER.search(data, pos, n):
        if found.start() > pos:
            stray.append((pos, found.start()))
        marker, pos = found[1][0], found.end()
        if marker == _EOI:
            header = found.start() if header_end is None else header_end
            return JpegLayout(segments, stray, pos, header)
        if marker in _STANDALONE or pos + 2 > n:
            continue
        length = int.from_bytes(data[pos : pos + 2], "big")
        segments.append(Segment(marker, pos + 2, min(pos + max(length, 2), n)))
        pos += length
        if marker == _SOS:
            header_end = found.start() if header_end is None else header_end
            scan_end = _SCAN_END.search(data, pos, n)
            pos = n if scan_end is None else scan_end.start()
    return JpegLayout(segments, stray, None, n if header_end is None else header_end)


def jpeg_end(data: bytes, start: int = 0, stop: int | None = None) -> int | None:
    """Offset just past the End Of Image marker of the JPEG at ``start`` (looking no further
    than ``stop``); None if it never ends."""
    layout = walk(data, start, stop)
    return None if layout is None else layout.end


def samsung_trailer(data: bytes) -> tuple[int, list[tuple[int, int]]] | None:
    """Start of a Samsung SEF trailer and its blocks (offset, size), as ExifTool reads it; None
    unless the blocks fill the trailer (nothing but padding between them)."""
    if not data.endswith(b"SEFT") or len(data) < 20:
        return None
    (length,) = struct.unpack_from("<I", data, len(data) - 8)
    directory = len(data) - 8 - length
    if length < 12 or directory < 0 or data[directory : directory + 4] != b"SEFH":
        return None
    (count,) = struct.unpack_from("<I", data, directory + 8)
    if 12 + 12 * count > length:
        return None
    blocks = []
    for i in range(count):
        back, size = struct.unpack_from("<II", data, directory + 16 + 12 * i)
        if back > directory or size > back or size < 8:
            return None
        blocks.append((directory - back, size))
    start = min((offset for offset, _ in blocks), default=directory)
    return (start, blocks) if _filled(data, start, directory, blocks) else None


def _filled(data: bytes, start: int, directory: int, blocks: list[tuple[int, int]]) -> bool:
    """Whether ``blocks`` fill [start, directory), leaving room for nothing but padding."""
    cursor = start
    for offset, size in sorted(blocks):
        if offset + size > directory or data[cursor:offset].strip(_PADDING):
            return False
        cursor = max(cursor, offset + size)
    return cursor <= directory and not data[cursor:directory].strip(_PADDING)
