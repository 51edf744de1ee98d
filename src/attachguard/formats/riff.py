"""RIFF structure (WAV, and RF64/BW64 for recordings over 4 GiB): the chunks, whatever the
sizes in the headers claim.

`walk` reads the chunks one after the other from the ``WAVE`` form type. The RIFF header's size
is trusted only when it is plausible: streaming recorders write 0 or 0xFFFFFFFF there (and
in the ``data`` chunk's size) because they cannot seek back, and such a placeholder, or a size
past the end of the file, says nothing about where the file ends; the chunks are then read to
the end of the file. A chunk whose size is a placeholder or runs past the end is cut where the
walk stops and marked inexact: its payload is not known to be what it claims. RF64 takes the
``data`` size from its ``ds64`` chunk. Chunks are padded to an even length; a writer that
forgot the pad byte is followed as readers do. The walk ends at the first bytes that cannot be
a chunk (an identifier that is not printable ASCII). Linear in the number of chunks.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

__all__ = ["Chunk", "RiffLayout", "walk"]


class Chunk(NamedTuple):
    kind: bytes  # four bytes: b"fmt ", b"data", b"LIST"
    start: int  # the payload, after identifier and size
    end: int
    exact: bool  # False: the size was a placeholder or ran past the end (see module doc)


class RiffLayout(NamedTuple):
    chunks: list[Chunk]
    end: int  # where the last chunk (with its pad byte) ends


_FORMS = (b"RIFF", b"RF64", b"BW64")
_PLACEHOLDERS = frozenset({0, 0xFFFFFFFF})


def _is_chunk(data: bytes, pos: int, limit: int) -> bool:
    return pos + 8 <= limit and all(0x20 <= byte <= 0x7E for byte in data[pos : pos + 4])


def _data_size(data: bytes) -> int | None:
    """The 64-bit ``data`` size an RF64 file keeps in the ``ds64`` chunk that comes first."""
    if data[:4] == b"RIFF" or data[12:16] != b"ds64" or len(data) < 36:
        return None
    return int.from_bytes(data[28:36], "little")


def _limit(data: bytes) -> int:
    """Where the chunks end, as the RIFF header says if that is plausible (module doc)."""
    size = int.from_bytes(data[4:8], "little")
    declared = size + 8
    if size in _PLACEHOLDERS or data[:4] != b"RIFF" or declared > len(data):
        return len(data)
    return min(declared + (declared & 1), len(data))


def _chunk(data: bytes, pos: int, limit: int, data_size: int | None) -> Chunk:
    kind = data[pos : pos + 4]
    (size,) = struct.unpack_from("<I", data, pos + 4)
    if kind == b"data" and data_size is not None:
        size = data_size
    placeholder = size == 0xFFFFFFFF or (kind == b"data" and size == 0)
    if placeholder or pos + 8 + size > limit:
        return Chunk(kind, pos + 8, limit, False)
    return Chunk(kind, pos + 8, pos + 8 + size, True)


def walk(data: bytes) -> RiffLayout | None:
    """The chunks of the WAV in ``data``; None unless it is a RIFF WAVE file. A RIFF size
    short of chunks that account for every byte to the end of the file is a writer's stale
    value (36, the empty header's; Modplug's, short by a chunk): the chunks are the file."""
    if data[:4] not in _FORMS or data[8:12] != b"WAVE" or len(data) < 12:
        return None
    limit, data_size = _limit(data), _data_size(data)
    layout = _chunks(data, limit, data_size)
    if limit < len(data):
        whole = _chunks(data, len(data), data_size)
        if whole.end == len(data) and all(chunk.exact for chunk in whole.chunks):
            return whole
    return layout


def _chunks(data: bytes, limit: int, data_size: int | None) -> RiffLayout:
    chunks: list[Chunk] = []
    pos = 12
    while _is_chunk(data, pos, limit):
        chunk = _chunk(data, pos, limit, data_size)
        chunks.append(chunk)
        pos = chunk.end
        padded = pos + ((chunk.end - chunk.start) & 1)
        # the pad byte, unless the writer left it out: a chunk that fits right at the end,
        # and after the pad none that fits or none named as chunks are (letters, digits, a
        # space: "mpl$" is Modplug's "smpl" shifted by the pad byte it did not write)
        if padded != pos and _fits(data, pos, limit) and not _named(data, padded, limit):
            continue
        if padded <= limit and (padded == limit or _is_chunk(data, padded, limit)):
            pos = padded
        elif not _is_chunk(data, pos, limit):  # neither: stop just after the pad byte
            pos = min(padded, limit)
    return RiffLayout(chunks, pos)


def _named(data: bytes, pos: int, limit: int) -> bool:
    """Whether a chunk that fits starts at ``pos`` with an identifier of letters, digits and
    spaces, as every registered chunk's is."""
    return (
        _fits(data, pos, limit) and data[pos : pos + 4].decode("latin-1").replace(" ", "").isalnum()
    )


def _fits(data: bytes, pos: int, limit: int) -> bool:
    """Whether a chunk starts at ``pos`` whose declared size ends within ``limit``."""
    if not _is_chunk(data, pos, limit):
        return False
    size = int.from_bytes(data[pos + 4 : pos + 8], "little")
    return pos + 8 + size <= limit
