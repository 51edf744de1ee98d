"""formats.bmff: ISO media files (MP4, QuickTime, HEIC) built box by box."""

from __future__ import annotations

import struct

from attachguard.formats.bmff import Extent, bmff_end, walk


def box(kind: bytes, payload: bytes, size: int | None = None) -> bytes:
    return struct.pack(">I", 8 + len(payload) if size is None else size) + kind + payload


FTYP = box(b"ftyp", b"isom\0\0\2\0isomavc1mp41")
MOOV = box(b"moov", box(b"mvhd", bytes(100)) + box(b"udta", box(b"free", bytes(8))))


def kinds(data: bytes) -> list[tuple[bytes, Extent]]:
    layout = walk(data)
    assert layout is not None
    return [(b.kind, b.extent) for b in layout.boxes]


def test_top_level_boxes() -> None:
    data = FTYP + MOOV + box(b"free", bytes(16)) + box(b"mdat", b"\x11" * 1000)
    layout = walk(data)
    assert layout is not None and layout.end == len(data)
    assert kinds(data) == [(k, Extent.EXACT) for k in (b"ftyp", b"moov", b"free", b"mdat")]
    mdat = layout.boxes[-1]
    assert data[mdat.payload : mdat.end] == b"\x11" * 1000


def test_64_bit_size_and_size_zero() -> None:
    large = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + 500) + b"\x22" * 500
    data = FTYP + large + box(b"moov", b"")
    layout = walk(data)
    assert layout is not None and layout.end == len(data)
    assert layout.boxes[1].payload == len(FTYP) + 16
    to_end = FTYP + box(b"mdat", b"", size=0) + b"\x33" * 700
    assert kinds(to_end)[-1] == (b"mdat", Extent.TO_END)
    assert walk(to_end).end == len(to_end)  # type: ignore[union-attr]


def test_a_size_past_the_end_is_cut_there() -> None:
    data = FTYP + box(b"free", b"MZ" + bytes(40), size=10_000)
    assert kinds(data)[-1] == (b"free", Extent.CUT)
    assert walk(data).end == len(data)  # type: ignore[union-attr]
    # Inside another file, what follows a cut box is not accounted for.
    assert bmff_end(data, 0, len(data)) == len(FTYP)


def test_the_chain_ends_at_bytes_that_cannot_be_a_box() -> None:
    media = FTYP + MOOV
    for tail in (b"PK\x03\x04" + bytes(40), b"\x00\x00\x00\x04abcd", b"MZ\x90\x00" + bytes(60)):
        layout = walk(media + tail)
        assert layout is not None and layout.end == len(media), tail
    assert bmff_end(media + b"PK\x03\x04" + bytes(40), 0, len(media) + 44) == len(media)


def test_not_media() -> None:
    assert walk(b"\x00\x00\x00\x10moovxxxxxxxx") is None
    assert bmff_end(b"\x00\x00\x00\x04ftyp", 0, 8) is None  # a box smaller than its header
    assert bmff_end(FTYP + MOOV + FTYP, len(FTYP + MOOV), len(FTYP + MOOV + FTYP)) == len(
        FTYP + MOOV + FTYP
    )
