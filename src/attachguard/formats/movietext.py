"""The text a movie shows besides its pictures and sound: its text tracks' samples
(subtitles, captions, chapters), located as players locate them, and classic QuickTime user
data strings in a Macintosh language. Box by box over `bmff`'s walk; every table and run read
within one budget per movie, linearly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from attachguard.formats.bmff import BmffLayout, Box, chain, children

__all__ = ["text_samples", "user_strings"]

_TEXT_HANDLERS = frozenset({b"text", b"sbtl", b"subt", b"clcp"})
_MOST_SAMPLES = 100_000  # text samples located in one movie
_SAMPLE_BYTES = 8 << 20  # bytes of text samples located in one movie, in all


@dataclass
class _Located:
    """A movie's text samples located so far, within one budget for all its tracks and
    fragments (`_MOST_SAMPLES` samples, `_SAMPLE_BYTES` bytes)."""

    spans: list[tuple[int, int]] = field(default_factory=list)
    left: int = _SAMPLE_BYTES

    def add(self, start: int, size: int) -> bool:
        """Keep the sample at ``start``; False, keeping none, once the budget is spent."""
        if size > self.left or len(self.spans) >= _MOST_SAMPLES:
            return False
        self.spans.append((start, start + size))
        self.left -= size
        return True

    def run(self, start: int, sizes: Iterable[int]) -> bool:
        """Keep samples of ``sizes`` one after the other from ``start``; False once the budget
        is spent (each sample kept, or the end: linear)."""
        for size in sizes:
            if not self.add(start, size):
                return False
            start += size
        return True


def text_samples(
    data: bytes, layout: BmffLayout, movies: Sequence[bytes] = ()
) -> list[tuple[int, int]]:
    """Where a movie's text tracks' samples lie (start, end): the tracks whose media handler
    (moov/trak/mdia/hdlr) is timed text, subtitles, captions or chapters, whose samples a
    player shows, located as FFmpeg locates them: by their sample tables (chunk offsets,
    samples per chunk, sizes in ``stsz`` or ``stz2``), by the track fragments of a fragmented
    movie (moof/traf: ``trun`` runs, sizes defaulting to ``tfhd``'s and ``trex``'s), and in
    the compressed movie headers (``movies``, inflated: their tables point into ``data``)."""
    located = _Located()
    fragmented: dict[int, int] = {}  # the text tracks' IDs, and their default sample sizes
    for source, boxes in [(data, layout.boxes), *((m, chain(m, 0, len(m)).boxes) for m in movies)]:
        for moov in _kind(source, boxes, b"moov"):
            fragmented |= _text_tracks(source, moov, located)
    for moof in _kind(data, layout.boxes, b"moof"):
        _fragment(data, moof, fragmented, located)
    return located.spans


def _kind(data: bytes, boxes: list[Box], kind: bytes) -> list[Box]:
    return [box for box in boxes if box.kind == kind]


def _text_tracks(data: bytes, moov: Box, located: _Located) -> dict[int, int]:
    """Locate the samples of a movie's text tracks by their sample tables; their IDs, with
    their default sample sizes for fragments (moov/mvex/trex)."""
    inside = children(data, moov)
    defaults = {
        _u32(data, trex.payload + 4): _u32(data, trex.payload + 16)
        for mvex in _kind(data, inside, b"mvex")
        for trex in _kind(data, children(data, mvex), b"trex")
    }
    tracks: dict[int, int] = {}
    for trak in _kind(data, inside, b"trak"):
        boxes = children(data, trak)
        for mdia in _kind(data, boxes, b"mdia"):
            handlers = _kind(data, children(data, mdia), b"hdlr")
            if any(data[h.payload + 8 : h.payload + 12] in _TEXT_HANDLERS for h in handlers):
                _samples(data, mdia, located)
                tracks |= {ident: defaults.get(ident, 0) for ident in _track_ids(data, boxes)}
    return tracks


def _track_ids(data: bytes, boxes: list[Box]) -> list[int]:
    """A track's ID, from its header (tkhd: after version, flags and two times of 4 bytes,
    of 8 in version 1)."""
    return [
        _u32(data, tkhd.payload + (20 if data[tkhd.payload : tkhd.payload + 1] == b"\x01" else 12))
        for tkhd in _kind(data, boxes, b"tkhd")
    ]


def _samples(data: bytes, mdia: Box, located: _Located) -> None:
    """Locate the samples of one track (its mdia box): each chunk's (stco, co64) samples
    (stsc) one after another, each of its size (stsz, stz2)."""
    tables: dict[bytes, Box] = {}
    for minf in _kind(data, children(data, mdia), b"minf"):
        for stbl in _kind(data, children(data, minf), b"stbl"):
            tables.update((box.kind, box) for box in children(data, stbl))
    sizes, offsets, runs = (
        tables.get(b"stsz") or tables.get(b"stz2"),
        tables.get(b"stco") or tables.get(b"co64"),
        tables.get(b"stsc"),
    )
    if sizes is None or offsets is None or runs is None:
        return
    starts = _entries(data, offsets, 8 if offsets.kind == b"co64" else 4)
    first = [(_u32(data, at), _u32(data, at + 4)) for at in _table(data, runs, 12)]
    fixed, each = _sizes(data, sizes)
    count = min(_u32(data, sizes.payload + 8), _MOST_SAMPLES) if fixed else len(each)
    sample, run, per_chunk = 0, 0, 0
    for number, start in enumerate(starts, 1):
        while run < len(first) and first[run][0] <= number:  # the runs in order: linear
            per_chunk = first[run][1]
            run += 1
        chunk = range(sample, min(sample + per_chunk, count))
        if not located.run(start, (fixed or each[index] for index in chunk)):
            return
        sample += per_chunk


def _sizes(data: bytes, box: Box) -> tuple[int, list[int]]:
    """A track's sample sizes: ``stsz``'s one size for all (and no table), or its table of 4
    bytes each, or ``stz2``'s of 4, 8 or 16 bits each (its field size in the byte before the
    count)."""
    if box.kind == b"stsz":
        fixed = _u32(data, box.payload + 4)
        return fixed, [] if fixed else _entries(data, box, 4, at=12)
    field = data[box.payload + 7] if box.payload + 7 < box.end else 0
    if field in (8, 16):
        return 0, _entries(data, box, field // 8, at=12)
    if field != 4:
        return 0, []
    count = min(_u32(data, box.payload + 8), _MOST_SAMPLES)
    packed = data[box.payload + 12 : min(box.end, box.payload + 12 + (count + 1) // 2)]
    return 0, [size for byte in packed for size in (byte >> 4, byte & 0x0F)][:count]


# Track fragment header (tfhd) and run (trun) flags, as FFmpeg reads them
_BASE_OFFSET, _DESCRIPTION, _DURATION, _SIZE = 0x000001, 0x000002, 0x000008, 0x000010
_BASE_IS_MOOF = 0x020000
_DATA_OFFSET, _FIRST_FLAGS = 0x000001, 0x000004
_SAMPLE_FIELDS = (0x000100, 0x000200, 0x000400, 0x000800)  # duration, size, flags, time offset


def _fragment(data: bytes, moof: Box, tracks: dict[int, int], located: _Located) -> None:
    """Locate the text tracks' samples in one movie fragment: each track fragment's runs, from
    its base (tfhd's offset, the moof box, or where the last track fragment's data ended)."""
    end = moof.start
    for traf in _kind(data, children(data, moof), b"traf"):
        boxes = children(data, traf)
        tfhd = next(iter(_kind(data, boxes, b"tfhd")), None)
        if tfhd is None:
            continue
        flags, track = _u32(data, tfhd.payload) & 0xFFFFFF, _u32(data, tfhd.payload + 4)
        base = moof.start if flags & _BASE_IS_MOOF else end
        at = tfhd.payload + 8
        if flags & _BASE_OFFSET:
            base, at = int.from_bytes(data[at : at + 8], "big"), at + 8
        at += 4 * bool(flags & _DESCRIPTION) + 4 * bool(flags & _DURATION)
        default = _u32(data, at) if flags & _SIZE else tracks.get(track, 0)
        end = base
        for trun in _kind(data, boxes, b"trun"):
            end = _run(data, trun, base, end, default, located if track in tracks else None)


def _run(
    data: bytes, trun: Box, base: int, start: int, default: int, located: _Located | None
) -> int:
    """Locate one run's samples (``located``: None for a track that is not text) from its data
    offset, or from where the last run ended (``start``); where its data ends."""
    flags, count = _u32(data, trun.payload) & 0xFFFFFF, _u32(data, trun.payload + 4)
    at = trun.payload + 8
    if flags & _DATA_OFFSET:
        start, at = base + int.from_bytes(data[at : at + 4], "big", signed=True), at + 4
    at += 4 * bool(flags & _FIRST_FLAGS)
    width = 4 * sum(bool(flags & bit) for bit in _SAMPLE_FIELDS)
    sizes: Iterable[int]
    if flags & _SAMPLE_FIELDS[1]:
        size_at = at + 4 * bool(flags & _SAMPLE_FIELDS[0])  # after the duration
        sizes = [_u32(data, entry) for entry in range(size_at, trun.end - width + 1, width)]
        sizes = sizes[:count]
        end = start + sum(sizes)
    else:  # each of the default size
        sizes, end = itertools.repeat(default, min(count, _MOST_SAMPLES)), start + default * count
    if located is not None:
        located.run(start, sizes)
    return end


def user_strings(data: bytes, layout: BmffLayout) -> list[bytes]:
    """The classic QuickTime user data strings whose language is a Macintosh one: the
    entries (a size, a language, the text) of the movie's and its tracks' ``udta`` items named
    "\xa9..." whose language code is below 0x400 (or 0x7FFF), which FFmpeg and ExifTool show
    decoded as Mac Roman (red team 114: 0xCA, a no-break space there, between the groups)."""
    found: list[bytes] = []
    for moov in _kind(data, layout.boxes, b"moov"):
        holders = [moov, *_kind(data, children(data, moov), b"trak")]
        for udta in (u for box in holders for u in _kind(data, children(data, box), b"udta")):
            for item in children(data, udta):
                if item.kind[:1] == b"\xa9":
                    found += _mac_entries(data, item)
    return found


def _mac_entries(data: bytes, item: Box) -> list[bytes]:
    found, at = [], item.payload
    while at + 4 <= item.end:
        size, language = int.from_bytes(data[at : at + 2]), int.from_bytes(data[at + 2 : at + 4])
        text = data[at + 4 : min(at + 4 + size, item.end)]
        if (language < 0x400 or language == 0x7FFF) and not text.startswith(b"\xfe\xff"):
            found.append(text)
        at += 4 + size
    return found


def _table(data: bytes, box: Box, width: int, at: int = 8) -> range:
    """Where a full box's table entries of ``width`` bytes start (a count at ``at - 4``)."""
    count = min(
        _u32(data, box.payload + at - 4), _MOST_SAMPLES, (box.end - box.payload - at) // width
    )
    return range(box.payload + at, box.payload + at + width * max(count, 0), width)


def _entries(data: bytes, box: Box, width: int, at: int = 8) -> list[int]:
    return [int.from_bytes(data[p : p + width], "big") for p in _table(data, box, width, at)]


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")
