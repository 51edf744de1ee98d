"""GIF structure: blocks to the trailer, and what the extension blocks carry.

`walk` follows the logical screen, colour tables, image descriptors and the sub-blocks of every
block as a decoder does, and returns the data of each extension block (comments, application
data such as XMP or a loop count, plain text) joined from its sub-blocks, as a reader sees it.
Image data (LZW) is skipped. Linear: one step per sub-block of at most 255 bytes.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Extension", "GifLayout", "walk"]


class Extension(NamedTuple):
    label: int  # 0xFE comment, 0xFF application, 0x01 plain text, 0xF9 graphic control
    start: int  # where the block begins in the file
    data: bytes  # its sub-blocks, joined


class GifLayout(NamedTuple):
    extensions: list[Extension]
    end: int | None  # just past the trailer (0x3B); None if the file ends before


def _sub_blocks(data: bytes, pos: int) -> tuple[list[tuple[int, int]], int]:
    """The [start, end) of each sub-block from ``pos`` and where the terminator ends."""
    n, spans = len(data), []
    while pos < n and data[pos]:
        spans.append((pos + 1, pos + 1 + data[pos]))
        pos += data[pos] + 1
    return spans, pos + 1


def _image(data: bytes, pos: int) -> int | None:
    """Where the image block at ``pos`` ends (descriptor, local colour table, LZW data)."""
    if pos + 10 > len(data):
        return None
    local = data[pos + 9]
    _, after = _sub_blocks(data, pos + 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1)
    return after


def walk(data: bytes) -> GifLayout:
    """The blocks of the GIF in ``data`` up to its trailer."""
    n, extensions = len(data), list[Extension]()
    if n < 13:
        return GifLayout([], None)
    flags = data[10]
    pos: int | None = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos is not None and pos < n:
        kind = data[pos]
        if kind == 0x3B:
            return GifLayout(extensions, pos + 1)
        if kind == 0x21 and pos + 1 < n:
            spans, after = _sub_blocks(data, pos + 2)
            joined = b"".join(data[start:end] for start, end in spans)
            extensions.append(Extension(data[pos + 1], pos, joined))
            pos = after
        elif kind == 0x2C:
            pos = _image(data, pos)
        else:
            break
    return GifLayout(extensions, None)
