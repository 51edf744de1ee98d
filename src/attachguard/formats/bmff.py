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

import zlib
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
    "chain",
    "children",
    "compressed_movies",
    "outside_references",
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
    layout = chain(data, pos, stop)
    return BmffLayout([*skipped, *layout.boxes], layout.end)


def chain(data: bytes, start: int, stop: int, named: bool = True) -> BmffLayout:
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
    top = walk(data) or chain(data, 0, len(data))  # a few unknown atoms first are stepped over
    search.boxes(data, top.boxes, "", 0)
    return Outside(search.refs, search.unread)


def compressed_movies(data: bytes) -> list[bytes]:
    """The compressed movie headers (``cmov``) of an ISO media file, inflated as players
    inflate them (up to ``CMOV_LIMIT`` bytes in all): their titles and comments are shown."""
    search = _Search()
    top = walk(data) or chain(data, 0, len(data))
    search.boxes(data, top.boxes, "", 0)
    return search.movies


# Track handlers whose samples are text a player shows: subtitles, captions, QuickTime chapters
def _inside(flags: int, location: bytes) -> bool:
    """Whether a data reference names this same file."""
    return bool(flags & _SELF) and not location.strip(b"\0")


def _dref(data: bytes, box: Box, where: str) -> list[DataRef]:
    """The entries of a data reference box (version and flags, a count, then one full box
    each) that do not name this same file; every entry present is read, whatever the count."""
    found = []
    for entry in chain(data, box.payload + 8, box.end, named=False).boxes:
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


def children(data: bytes, box: Box) -> list[Box]:
    """A container's boxes; an ISO 'meta' box has a version and flags before them, QuickTime's
    none (its first child, 'hdlr', starts at once)."""
    start = box.payload
    if box.kind == b"meta" and _box(data, start, box.end) is None:
        start += 4
    return chain(data, start, box.end, named=False).boxes


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
                self.boxes(data, children(data, box), where + "/", depth + 1)

    def _compressed(self, data: bytes, box: Box, where: str, depth: int) -> None:
        """A compressed movie header: its 'cmvd' box holds the inflated size, then the zlib
        stream of a movie, searched like the file's own."""
        cmvd = next((b for b in children(data, box) if b.kind == b"cmvd"), None)
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
        inner.boxes(movie, chain(movie, 0, len(movie), named=False).boxes, where + "/", depth + 1)
        self.refs += [ref._replace(start=box.start) for ref in inner.refs]
        self.unread += [box.start for _ in inner.unread]
        self.movies += inner.movies
        self.budget = inner.budget
