"""ISO base media file structure (MP4, QuickTime, 3GP, HEIC): the chain of top-level boxes.

`walk` follows box sizes from the ``ftyp`` box as players do: a 32-bit size, a 64-bit one when
the size is 1, "to the end of the file" when it is 0. A box whose size runs past the end of the
file is cut there (a truncated recording, or a size that lies). The chain ends at the end of the
file or at the first bytes that cannot be a box (a type that is not four letters, digits or
spaces, or a size too small for its own header): whatever follows is not part of the media.
Nested boxes are not walked; callers treat a top-level box's payload as a whole. Linear in the
number of boxes.

`outside_references` walks into the boxes that hold data references, as players read them, and
returns the ones that send the player outside the file (see its docstring).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

__all__ = [
    "CMOV_LIMIT",
    "HEIF_BRANDS",
    "BmffLayout",
    "Box",
    "DataRef",
    "Extent",
    "Outside",
    "bmff_end",
    "compressed_movies",
    "outside_references",
    "text_samples",
    "user_strings",
    "walk",
]


# Major brands of HEIF pictures and picture sequences (libheif's): items, EXIF and XMP among
# them, lie in 'mdat'
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})


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


def _box(data: bytes, pos: int, n: int, named: bool = True) -> Box | None:
    """The box at ``pos``, None if the bytes there cannot be one (``named``: nor if its type is
    not four letters, digits or spaces, as at the top level)."""
    kind = data[pos + 4 : pos + 8]
    if named and (not _TYPE.issuperset(kind) or kind == b"    "):
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


# The boxes a media file may begin with: ``ftyp``, or the top-level atoms QuickTime plays a
# movie without one from (a red team's movie starting with ``moov``, an archive in a ``skip``
# atom and after the last one, was never walked: FFmpeg played it, 7-Zip opened it)
_FIRST = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"})


def walk(data: bytes, start: int = 0, stop: int | None = None) -> BmffLayout | None:
    """The top-level boxes of the media file at ``start`` (up to ``stop``); None unless one of
    the boxes a media file begins with (`_FIRST`) comes first, or after boxes of any type
    (FFmpeg and QuickTime step over an atom they do not know: a red team put one of type
    "\xa9xyz" before a reference movie)."""
    stop = len(data) if stop is None else stop
    skipped: list[Box] = []
    pos = start
    while data[pos + 4 : pos + 8] not in _FIRST:
        box = _box(data, pos, stop, named=False)
        if box is None or box.extent is not Extent.EXACT:
            return None
        skipped.append(box)
        pos = box.end
    layout = _chain(data, pos, stop)
    return BmffLayout([*skipped, *layout.boxes], layout.end)


def _chain(data: bytes, start: int, stop: int, named: bool = True) -> BmffLayout:
    """The boxes one after the other from ``start`` to ``stop`` (or to bytes that cannot be one)."""
    boxes: list[Box] = []
    pos = start
    while pos + 8 <= stop and (box := _box(data, pos, stop, named)) is not None:
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


# Data references: where a track's media data, an image item's or a whole movie is read from.

CMOV_LIMIT = 8 << 20  # bytes of compressed movie headers ('cmov') inflated per file
_MAX_DEPTH = 16  # boxes followed inside boxes; a track's data reference lies 6 deep
# Boxes that hold boxes on the way to a data reference: a track's (moov/trak/mdia/minf/dinf/
# dref), an image item's (meta/dinf/dref in HEIF), a reference movie's (moov/rmra/rmda/rdrf).
# FFmpeg and VLC read a box by its type in any container they read, so every path counts.
_CONTAINERS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"udta", b"edts", b"mvex", b"moof",
     b"traf", b"meta", b"meco", b"rmra", b"rmda"}
)  # fmt: skip
_IN_FILE = frozenset({b"imdt", b"snim"})  # ISO entries naming an 'imda' box of this same file
_SELF = 0x000001  # a data reference's flag: the data is in the same file


class DataRef(NamedTuple):
    """A data reference that sends the reader outside the file."""

    where: str  # the boxes it lies in: "moov/trak/mdia/minf/dinf/dref", "moov/rmra/rmda/rdrf"
    kind: bytes  # its type: b"url ", b"urn ", b"alis" (a Mac alias record), b"rsrc"
    location: bytes  # what it names, as stored (NUL-terminated URLs, an alias record); may be empty
    start: int  # its offset (for one inside a compressed movie header, the 'cmov' box's)


class Outside(NamedTuple):
    refs: list[DataRef]
    unread: list[int]  # compressed movie headers that inflate past CMOV_LIMIT: their offsets


def outside_references(data: bytes) -> Outside:
    """The data references that make a player fetch media from outside the file: a QuickTime
    reference movie (``rmra``: the player plays the movie each ``rdrf`` names) and a track's or
    an image item's data reference entry (``dref``) other than "this same file" (flag 0x000001
    and no location: what every recorded file has). Any location counts, a URL, a share, a
    path or a name beside the file: a chat attachment has no folder. A flagged entry that still
    carries a location counts too: FFmpeg reads an alias record, and VLC a reference movie's
    URL, whatever the flag says. Compressed movie headers (``cmov``, which QuickTime, FFmpeg and
    VLC inflate) are searched too, up to ``CMOV_LIMIT`` bytes in all. The search starts at the
    first box, ``ftyp`` or not: QuickTime plays movies that begin with ``moov`` or ``wide``."""
    search = _Search()
    top = walk(data) or _chain(data, 0, len(data))  # a few unknown atoms first are stepped over
    search.boxes(data, top.boxes, "", 0)
    return Outside(search.refs, search.unread)


def compressed_movies(data: bytes) -> list[bytes]:
    """The compressed movie headers (``cmov``) of an ISO media file, inflated as players
    inflate them (up to ``CMOV_LIMIT`` bytes in all): their titles and comments are shown."""
    search = _Search()
    top = walk(data) or _chain(data, 0, len(data))
    search.boxes(data, top.boxes, "", 0)
    return search.movies


# Track handlers whose samples are text a player shows: subtitles, captions, QuickTime chapters
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
    for source, boxes in [(data, layout.boxes), *((m, _chain(m, 0, len(m)).boxes) for m in movies)]:
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
    children = _children(data, moov)
    defaults = {
        _u32(data, trex.payload + 4): _u32(data, trex.payload + 16)
        for mvex in _kind(data, children, b"mvex")
        for trex in _kind(data, _children(data, mvex), b"trex")
    }
    tracks: dict[int, int] = {}
    for trak in _kind(data, children, b"trak"):
        boxes = _children(data, trak)
        for mdia in _kind(data, boxes, b"mdia"):
            handlers = _kind(data, _children(data, mdia), b"hdlr")
            if any(data[h.payload + 8 : h.payload + 12] in _TEXT_HANDLERS for h in handlers):
                _samples(data, mdia, located)
                tracks |= {ident: defaults.get(ident, 0) for ident in _track_ids(data, boxes)}
    return tracks


def _track_ids(data: bytes, boxes: list[Box]) -> list[int]:
    """A track's ID, from its header (tkhd: after version, flags and two times of 4 bytes,
    of 8 in version 1)."""
    return [
        _u32(data, tkhd.payload + (20 if data[tkhd.payload] == 1 else 12))
        for tkhd in _kind(data, boxes, b"tkhd")
    ]


def _samples(data: bytes, mdia: Box, located: _Located) -> None:
    """Locate the samples of one track (its mdia box): each chunk's (stco, co64) samples
    (stsc) one after another, each of its size (stsz, stz2)."""
    tables: dict[bytes, Box] = {}
    for minf in _kind(data, _children(data, mdia), b"minf"):
        for stbl in _kind(data, _children(data, minf), b"stbl"):
            tables.update((box.kind, box) for box in _children(data, stbl))
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
    for traf in _kind(data, _children(data, moof), b"traf"):
        boxes = _children(data, traf)
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
        children = _children(data, moov)
        holders = [moov, *_kind(data, children, b"trak")]
        for udta in (u for box in holders for u in _kind(data, _children(data, box), b"udta")):
            for item in _children(data, udta):
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


def _inside(flags: int, location: bytes) -> bool:
    """Whether a data reference names this same file."""
    return bool(flags & _SELF) and not location.strip(b"\0")


def _dref(data: bytes, box: Box, where: str) -> list[DataRef]:
    """The entries of a data reference box (version and flags, a count, then one full box
    each) that do not name this same file; every entry present is read, whatever the count."""
    found = []
    for entry in _chain(data, box.payload + 8, box.end, named=False).boxes:
        flags = int.from_bytes(data[entry.payload + 1 : entry.payload + 4], "big")
        location = data[entry.payload + 4 : entry.end]
        if entry.kind not in _IN_FILE and not _inside(flags, location):
            found.append(DataRef(where, entry.kind, location, entry.start))
    return found


def _rdrf(data: bytes, box: Box, where: str) -> list[DataRef]:
    """A reference movie's alternative (version and flags, the reference's type and size, the
    reference), unless it is the movie in this same file. The reference is taken up to the
    box's end, whatever its size says: a reader that ignores the size finds the rest there."""
    at = box.payload
    flags = int.from_bytes(data[at + 1 : at + 4], "big")
    location = data[at + 12 : box.end]
    if _inside(flags, location):
        return []
    return [DataRef(where, data[at + 4 : at + 8], location, box.start)]


def _children(data: bytes, box: Box) -> list[Box]:
    """A container's boxes; an ISO 'meta' box has a version and flags before them, QuickTime's
    none (its first child, 'hdlr', starts at once)."""
    start = box.payload
    if box.kind == b"meta" and _box(data, start, box.end) is None:
        start += 4
    return _chain(data, start, box.end, named=False).boxes


@dataclass
class _Search:
    """One search for data references (see `outside_references`)."""

    refs: list[DataRef] = field(default_factory=list)
    unread: list[int] = field(default_factory=list)
    budget: int = CMOV_LIMIT  # bytes of compressed movie headers still to inflate
    movies: list[bytes] = field(default_factory=list)  # the compressed movie headers, inflated

    def boxes(self, data: bytes, boxes: list[Box], path: str, depth: int) -> None:
        for box in boxes:
            where = path + box.kind.decode("latin-1")
            if box.kind == b"dref":
                self.refs += _dref(data, box, where)
            elif box.kind == b"rdrf":
                self.refs += _rdrf(data, box, where)
            elif depth >= _MAX_DEPTH:
                continue
            elif box.kind == b"cmov":
                self._compressed(data, box, where, depth)
            elif box.kind in _CONTAINERS:
                self.boxes(data, _children(data, box), where + "/", depth + 1)

    def _compressed(self, data: bytes, box: Box, where: str, depth: int) -> None:
        """A compressed movie header: its 'cmvd' box holds the inflated size, then the zlib
        stream of a movie, searched like the file's own."""
        cmvd = next((b for b in _children(data, box) if b.kind == b"cmvd"), None)
        if cmvd is None:
            return
        try:
            movie = zlib.decompressobj().decompress(
                data[cmvd.payload + 4 : cmvd.end], self.budget + 1
            )
        except zlib.error:
            return  # no player can read the movie either
        if len(movie) > self.budget:
            self.unread.append(box.start)
            return
        self.budget -= len(movie)
        self.movies.append(movie)
        inner = _Search(budget=self.budget)
        inner.boxes(movie, _chain(movie, 0, len(movie), named=False).boxes, where + "/", depth + 1)
        self.refs += [ref._replace(start=box.start) for ref in inner.refs]
        self.unread += [box.start for _ in inner.unread]
        self.movies += inner.movies
        self.budget = inner.budget
