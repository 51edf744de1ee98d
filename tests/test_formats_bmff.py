"""formats.bmff: ISO media files (MP4, QuickTime, HEIC) built box by box: their chain of boxes,
and data references that fetch their media from outside the file."""

from __future__ import annotations

import struct
import zlib

import pytest

from attachguard.engines.base import Item
from attachguard.engines.polyglot import PolyglotEngine
from attachguard.formats.bmff import CMOV_LIMIT, Extent, bmff_end, outside_references, walk
from attachguard.policy import load_policy
from attachguard.report import FileType


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
    assert walk(b"\x00\x00\x00\x10abcdxxxxxxxx") is None  # no box a media file begins with
    assert walk(b"\x00\x00\x00\x10abcd" + bytes(8) + b"\x00\x00\x00\x08") is None
    assert bmff_end(b"\x00\x00\x00\x04ftyp", 0, 8) is None  # a box smaller than its header
    assert bmff_end(FTYP + MOOV + FTYP, len(FTYP + MOOV), len(FTYP + MOOV + FTYP)) == len(
        FTYP + MOOV + FTYP
    )


# --- data references: media fetched from outside the file ----------------------------------


def full(kind: bytes, flags: int, payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", flags) + payload)


SELF = full(b"url ", 1, b"")  # what every recorded file has: the data is in this file


def dref(*entries: bytes) -> bytes:
    return full(b"dref", 0, struct.pack(">I", len(entries)) + b"".join(entries))


def movie(entry: bytes, ftyp: bytes = FTYP) -> bytes:
    minf = box(b"minf", box(b"vmhd", bytes(12)) + box(b"dinf", dref(entry)) + box(b"stbl", b""))
    trak = box(b"trak", box(b"tkhd", bytes(84)) + box(b"mdia", box(b"mdhd", bytes(24)) + minf))
    return ftyp + box(b"moov", box(b"mvhd", bytes(100)) + trak) + box(b"mdat", bytes(16))


def reference_movie(flags: int, kind: bytes, reference: bytes) -> bytes:
    rdrf = full(b"rdrf", flags, kind + struct.pack(">I", len(reference)) + reference)
    rmda = box(b"rmda", rdrf + full(b"rmdr", 0, bytes(4)))
    return box(b"ftyp", b"qt  \0\0\2\0qt  ") + box(b"moov", box(b"rmra", rmda))


def heif(entry: bytes) -> bytes:
    hdlr = full(b"hdlr", 0, bytes(4) + b"pict" + bytes(13))
    iloc = full(b"iloc", 0, b"\x44\x00" + struct.pack(">HHHIII", 1, 1, 1, 0, 0, 100))
    meta = full(b"meta", 0, hdlr + box(b"dinf", dref(entry)) + iloc)
    return box(b"ftyp", b"heic\0\0\0\0mif1heic") + meta + box(b"mdat", bytes(100))


def refs(data: bytes) -> list[tuple[str, bytes, bytes]]:
    found = outside_references(data)
    assert not found.unread
    return [(r.where, r.kind, r.location) for r in found.refs]


def polyglot_codes(data: bytes, label: str) -> list[tuple[str, str]]:
    kind = {"mp4": "video/mp4", "qt": "video/quicktime", "heif": "image/heic"}[label]
    item = Item(f"file.{label}", data, FileType(label, kind, label))
    result = PolyglotEngine().scan(item, load_policy().context())
    return [(f.code.name, f.message) for f in result.findings]


def test_a_track_whose_data_is_on_a_server_or_a_share() -> None:
    track = "moov/trak/mdia/minf/dinf/dref"
    for location in (b"http://198.51.100.7/v.mp4\0", b"file://host/share/v.mp4\0"):
        data = movie(full(b"url ", 0, location))
        assert refs(data) == [(track, b"url ", location)]
        assert polyglot_codes(data, "mp4") == [
            ("EXTERNAL_LINK", "a track whose media data is fetched from a network address "
             f"(data reference 'url ' in {track})")
        ]  # fmt: skip
    assert refs(movie(SELF)) == [] and polyglot_codes(movie(SELF), "mp4") == []


def test_every_kind_of_outside_location_counts() -> None:
    # A name beside the file still leads out of it: a chat attachment has no folder.
    for entry, place in (
        (full(b"url ", 0, b"clip.mov\0"), "a file outside the attachment"),
        (full(b"url ", 0, b"/Users/me/clip.mov\0"), "a path on the reader's computer"),
        (full(b"urn ", 0, b"urn:x\0http://host/v\0"), "a network address"),
        (full(b"alis", 0, bytes(160)), "another file (a Mac alias)"),
        (full(b"rsrc", 0, b""), "another file (a Mac alias)"),
        (full(b"url ", 0, b""), "a location outside the file"),  # no self flag, no location
        (full(b"url ", 1, b"http://host/v.mp4\0"), "a network address"),  # flagged, yet named
    ):
        [(code, message)] = polyglot_codes(movie(entry), "qt")
        assert code == "EXTERNAL_LINK" and f"fetched from {place} " in message, entry
    # QuickTime's self reference, as QuickTime writes it, and the ISO entries for 'imda' boxes
    for entry in (full(b"alis", 1, b""), full(b"url ", 1, b"\0"), full(b"imdt", 0, bytes(4))):
        assert refs(movie(entry)) == [], entry


def test_every_entry_present_is_read() -> None:
    hostile = full(b"url ", 0, b"http://host/v\0")
    minf_dinf = box(b"dinf", full(b"dref", 0, struct.pack(">I", 1) + SELF + hostile))
    data = FTYP + box(b"moov", box(b"trak", box(b"mdia", box(b"minf", minf_dinf))))
    assert [kind for _, kind, _ in refs(data)] == [b"url "]


def test_a_quicktime_reference_movie() -> None:
    for reference in (b"http://198.51.100.7/v.mov\0", b"file://host/share/v.mov\0"):
        data = reference_movie(0, b"url ", reference)
        assert refs(data) == [("moov/rmra/rmda/rdrf", b"url ", reference)]
        assert polyglot_codes(data, "qt") == [
            ("EXTERNAL_LINK", "a video whose data is fetched from a network address "
             "(QuickTime reference movie)")
        ]  # fmt: skip
    assert refs(reference_movie(0, b"alis", bytes(150)))[0][1] == b"alis"
    # VLC plays the URL whatever the self-contained flag says
    assert refs(reference_movie(1, b"url ", b"http://host/v.mov\0")) != []
    assert refs(reference_movie(1, b"url ", b"")) == []  # the movie in this same file


def test_without_ftyp_and_inside_a_compressed_header() -> None:
    # QuickTime plays a movie that starts with its 'moov' box (no 'ftyp')
    outside = reference_movie(0, b"url ", b"http://host/v.mov\0")
    moov = outside[outside.index(b"moov") - 4 :]
    assert refs(box(b"wide", b"") + moov) == [
        ("moov/rmra/rmda/rdrf", b"url ", b"http://host/v.mov\0")
    ]
    assert polyglot_codes(moov, "qt")[0][0] == "EXTERNAL_LINK"
    # 'cmov': a zlib-compressed movie header, which QuickTime, FFmpeg and VLC inflate
    cmvd = box(b"cmvd", struct.pack(">I", len(moov)) + zlib.compress(moov))
    compressed = FTYP + box(b"moov", box(b"cmov", box(b"dcom", b"zlib") + cmvd))
    found = outside_references(compressed).refs
    assert [(r.where, r.start) for r in found] == [
        ("moov/cmov/moov/rmra/rmda/rdrf", compressed.index(b"cmov") - 4)
    ]
    inner = movie(SELF)[len(FTYP) :]
    clean = box(b"cmov", box(b"dcom", b"zlib") + box(b"cmvd", bytes(4) + zlib.compress(inner)))
    assert refs(FTYP + box(b"moov", clean)) == []


def test_a_compressed_header_too_large_to_search() -> None:
    big = box(b"moov", box(b"free", bytes(CMOV_LIMIT)))
    cmov = box(b"cmov", box(b"dcom", b"zlib") + box(b"cmvd", bytes(4) + zlib.compress(big)))
    data = FTYP + box(b"moov", cmov)
    assert outside_references(data).unread == [len(FTYP) + 8]
    assert [code for code, _ in polyglot_codes(data, "mp4")] == ["ARCHIVE_EXPANSION"]


def test_heif_items() -> None:
    # HEIF keeps its items' data references in the top-level (full box) 'meta'
    assert refs(heif(SELF)) == [] and polyglot_codes(heif(SELF), "heif") == []
    hostile = heif(full(b"url ", 0, b"\\\\host\\share\\a.hvc\0"))
    assert polyglot_codes(hostile, "heif") == [
        ("EXTERNAL_LINK", "an image whose data is fetched from a network address "
         "(data reference 'url ' in meta/dinf/dref)")
    ]  # fmt: skip
    # QuickTime's 'meta' has no version and flags: its 'hdlr' starts at once
    qt_meta = box(
        b"meta", full(b"hdlr", 0, bytes(20)) + box(b"dinf", dref(full(b"url ", 0, b"x\0")))
    )
    data = FTYP + box(b"moov", box(b"udta", box(b"\xa9nam", b"\0\3abc") + qt_meta))
    assert refs(data) == [("moov/udta/meta/dinf/dref", b"url ", b"x\0")]


@pytest.mark.parametrize(
    "head",
    [b"", b"\x00\x00\x00\x10\xa9xyz" + bytes(8)],
    ids=["moov first", "an unknown atom, then moov"],
)
def test_a_movie_without_ftyp_is_walked(head: bytes) -> None:
    # QuickTime and FFmpeg play a movie that starts with moov, stepping over atoms they do not
    # know (red team 95: neither was walked, so nothing after its end was looked at)
    movie = head + MOOV + b"\x00\x00\x00\x10mdat" + bytes(8)
    layout = walk(movie)
    assert layout is not None and layout.end == len(movie)
    assert [box.kind for box in layout.boxes][-2:] == [b"moov", b"mdat"]


def test_after_a_movie_without_ftyp_is_looked_at() -> None:
    movie = MOOV + box(b"mdat", bytes(64))
    appended = movie + b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(40)
    assert polyglot_codes(movie, "qt") == []
    assert [code for code, _ in polyglot_codes(appended, "qt")] == ["POLYGLOT"]


def test_a_reference_movie_after_an_unknown_atom_is_found() -> None:
    odd = box(b"\xa9xyz", bytes(8))
    movie = reference_movie(0, b"url ", b"http://attacker.example/m.mov\0")
    without_ftyp = odd + movie[movie.index(b"moov") - 4 :]
    assert [code for code, _ in polyglot_codes(without_ftyp, "qt")] == ["EXTERNAL_LINK"]


def test_many_unknown_atoms_before_the_movie_are_stepped_over() -> None:
    movie = box(b"\xa9xyz", bytes(8)) * 9 + MOOV + box(b"mdat", bytes(8))
    layout = walk(movie)
    assert layout is not None and layout.end == len(movie)
