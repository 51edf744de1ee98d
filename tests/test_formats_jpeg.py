"""formats.jpeg: JPEGs written by Pillow (libjpeg), then bent by hand."""

from __future__ import annotations

import io
import struct
import time

import pytest
from PIL import Image

from attachguard import samples
from attachguard.formats.jpeg import jpeg_end, samsung_trailer, segment_name, walk


def photo(**options: object) -> bytes:
    out = io.BytesIO()
    samples.photo(160, 120, seed=3).save(out, "JPEG", **options)
    return out.getvalue()


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def markers(data: bytes) -> list[str]:
    layout = walk(data)
    assert layout is not None
    return [segment_name(s.marker) for s in layout.segments]


@pytest.mark.parametrize(
    "options",
    [{}, {"progressive": True}, {"restart_marker_blocks": 2}, {"quality": 5, "optimize": True}],
)
def test_pillow_jpegs_end_at_their_end_with_nothing_stray(options: dict[str, object]) -> None:
    data = photo(**options)
    layout = walk(data)
    assert layout is not None
    assert layout.end == len(data) and layout.stray == []
    assert data[layout.header_end : layout.header_end + 2] == b"\xff\xda"  # the first scan


def test_segments_are_named_and_their_payloads_located() -> None:
    data = photo()
    data = data[:2] + segment(0xFE, b"Created with GIMP") + segment(0xE9, b"x" * 10) + data[2:]
    assert markers(data)[:4] == ["comment", "APP9", "APP0", "quantization table"]
    assert "frame header" in markers(data)
    layout = walk(data)
    assert layout is not None
    first = layout.segments[0]
    assert data[first.start : first.end] == b"Created with GIMP"
    assert "Huffman table" in markers(data) and "scan header" in markers(data)


def test_a_thumbnail_inside_a_segment_does_not_end_the_image() -> None:
    thumbnail = photo(quality=20)
    data = photo()
    data = data[:2] + segment(0xE1, b"Exif\0\0" + thumbnail) + data[2:]
    assert data.find(b"\xff\xd9") < len(data) - 2
    assert jpeg_end(data) == len(data)


def test_stray_bytes_between_segments_are_reported_and_skipped() -> None:
    data = photo()
    data = data[:2] + segment(0xFE, b"note") + b"hidden words" + data[2:]
    layout = walk(data)
    assert layout is not None
    assert [data[a:b] for a, b in layout.stray] == [b"hidden words"]
    assert layout.end == len(data)


def test_fill_bytes_before_a_marker() -> None:
    data = photo()
    filled = data[:-2] + b"\xff" * 5000 + data[-2:]
    assert jpeg_end(filled) == len(filled)


def test_truncated_or_not_a_jpeg() -> None:
    data = photo()
    assert jpeg_end(data[: len(data) // 2]) is None
    assert jpeg_end(data[:-1]) is None
    assert walk(b"\x89PNG\r\n\x1a\n") is None
    assert jpeg_end(data + data, 0, len(data)) == len(data)  # ``stop`` bounds the walk
    assert jpeg_end(data + data, len(data)) == 2 * len(data)


def test_hostile_structures_stay_linear() -> None:
    # Many four-byte comment segments, then a megabyte of fill bytes (skipped by one regular
    # expression search, not byte by byte): a smoke test against blow-ups, bound loosely.
    many = segment(0xFE, b"") * 20_000
    data = photo()
    data = data[:2] + many + data[2:-2] + b"\xff" * 1_000_000 + data[-2:]
    started = time.perf_counter()
    layout = walk(data)
    assert layout is not None and layout.end == len(data)
    assert len(layout.segments) > 20_000
    assert time.perf_counter() - started < 10


def test_segment_names() -> None:
    assert [segment_name(m) for m in (0xE0, 0xEF, 0xFE, 0xC0, 0xC2, 0xC4, 0xDB, 0xDA, 0xF0)] == [
        "APP0",
        "APP15",
        "comment",
        "frame header",
        "frame header",
        "Huffman table",
        "quantization table",
        "scan header",
        "0xF0",
    ]


def _trailer(blocks: list[tuple[bytes, bytes]], gap: bytes = b"") -> bytes:
    body, offsets = b"", []
    for name, payload in blocks:
        offsets.append(len(body))
        body += struct.pack("<HHI", 0, 0x0A01, len(name)) + name + payload + gap
    directory = b"SEFH" + struct.pack("<II", 101, len(blocks))
    for (name, payload), offset in zip(blocks, offsets, strict=True):
        directory += struct.pack(
            "<HHII", 0, 0x0A01, len(body) - offset, 8 + len(name) + len(payload)
        )
    return body + directory + struct.pack("<I", len(directory)) + b"SEFT"


def test_samsung_trailer() -> None:
    image = photo()
    data = image + _trailer([(b"Image_UTC_Data", b"1700000000000")])
    found = samsung_trailer(data)
    assert found is not None and found[0] == len(image)
    assert samsung_trailer(image + _trailer([(b"Image_UTC_Data", b"1")], b"\0\0")) is not None
    assert samsung_trailer(image + _trailer([(b"Image_UTC_Data", b"1")], b"room to hide")) is None
    assert samsung_trailer(image) is None


def test_pillow_reads_what_walk_reads() -> None:
    # The bent files above are still pictures to a decoder: the walk follows the decoder.
    data = photo()
    bent = data[:2] + segment(0xFE, b"note") + b"stray" + data[2:-2] + b"\xff" * 7 + data[-2:]
    Image.open(io.BytesIO(bent)).load()
    assert jpeg_end(bent) == len(bent)
