"""PNG structure: chunks from the signature to IEND, and the text a compressed chunk holds.

`walk` follows chunk lengths as libpng does (CRCs are not checked here: the image engine's
decoder does). `inflate` decompresses the text of a zTXt, compressed iTXt or iCCP chunk, up to
a caller's byte limit (Pillow refuses text chunks over 1 MiB; a limit bounds the work on a
chunk built to expand without end). IDAT and APNG's fdAT hold the compressed picture:
`IMAGE_DATA` names them, so that callers leave them alone.
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

__all__ = ["IMAGE_DATA", "Chunk", "PngLayout", "inflate", "walk"]

IMAGE_DATA = frozenset({b"IDAT", b"fdAT"})


class Chunk(NamedTuple):
    kind: bytes  # four bytes: b"tEXt", b"prVt"
    start: int  # the payload, after length and type
    end: int


class PngLayout(NamedTuple):
    chunks: list[Chunk]
    end: int | None  # just past the IEND chunk's CRC; None if the file ends before


_COMPRESSED_AFTER_KEYWORD = {b"zTXt": 1, b"iCCP": 1}  # method byte, then the zlib stream


def walk(data: bytes) -> PngLayout:
    """Every chunk of the PNG in ``data``, in order, up to IEND."""
    pos, n = 8, len(data)
    chunks: list[Chunk] = []
    while pos + 8 <= n:
        (length,) = struct.unpack_from(">I", data, pos)
        kind, start = data[pos + 4 : pos + 8], pos + 8
        chunks.append(Chunk(kind, start, min(start + length, n)))
        pos = start + length + 4
        if kind == b"IEND":
            return PngLayout(chunks, pos if pos <= n else None)
    return PngLayout(chunks, None)


def _stream(kind: bytes, payload: bytes) -> bytes | None:
    """The zlib stream inside a compressed chunk's payload, None if it has none."""
    keyword_end = payload.find(b"\0")
    if keyword_end < 0:
        return None
    if kind in _COMPRESSED_AFTER_KEYWORD:
        return payload[keyword_end + 2 :]
    if kind == b"iTXt" and payload[keyword_end + 1 : keyword_end + 2] == b"\x01":
        # flag, method, language tag, NUL, translated keyword, NUL, then the text
        language_end = payload.find(b"\0", keyword_end + 3)
        translated_end = payload.find(b"\0", language_end + 1) if language_end >= 0 else -1
        return None if translated_end < 0 else payload[translated_end + 1 :]
    return None


def inflate(kind: bytes, payload: bytes, limit: int) -> tuple[bytes, bool] | None:
    """The decompressed content of a zTXt, compressed iTXt or iCCP chunk: at most ``limit``
    bytes (at least one), and whether that is all of it; None for other chunks and for damaged
    streams."""
    stream = _stream(kind, payload)
    if stream is None:
        return None
    inflater = zlib.decompressobj()
    try:  # zlib reads a limit of 0 as "no limit": at least one byte, so that 0 stops at once
        text = inflater.decompress(stream, max(limit, 1))
    except zlib.error:
        return None
    return text, not inflater.unconsumed_tail
