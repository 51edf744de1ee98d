"""Where data can hide in each format the polyglot engine walks, and what hides there.

A layout is what walking a format gives (formats/jpeg, png, gif, bmff, riff): where it ends,
and the parts a reader skips, named for messages ("the comment segment", "the 'free' box").
`hidden_inside` searches those parts for programs, archives, PDFs, scripts and HTML
(formats/payloads) and, for images, the whole picture for ZIP archives (zipscan's
``find_embedded_zip``; one regular-expression pass first, since most pictures hold no ZIP
record at all: 2 ms for a 3 MB PNG, 4 ms for a 5 MB JPEG, best of 30 runs). Media data (a
video's ``mdat``, a WAV's audio) and picture data (PNG IDAT, GIF LZW) are not searched:
compressed bytes would match some signature by chance, and nothing reads them but the decoder.
Media data whose size is a placeholder or runs past the end is searched (100-300 ms for 10 MB
on a loaded two-core machine): its size says nothing about what follows the media. A media
file's layout also notes EXTERNAL_LINK for data references that fetch its media from outside
the file (a QuickTime reference movie, a track's or a HEIF item's ``dref``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from attachguard.codes import ARCHIVE_EXPANSION, EXTERNAL_LINK, Code
from attachguard.formats import bmff, gif, jpeg, png, riff
from attachguard.formats.payloads import Region, archives_anywhere, find_payloads
from attachguard.formats.targets import target_kind
from attachguard.formats.zipscan import find_embedded_zip

__all__ = [
    "Layout",
    "Part",
    "bmff_layout",
    "gif_layout",
    "hidden_inside",
    "jpeg_layout",
    "png_layout",
    "riff_layout",
]

_GIF_BLOCKS = {0xFE: "comment", 0xFF: "application", 0x01: "plain text", 0xF9: "graphic control"}
_ZIP_RECORD = re.compile(rb"PK(?:\x03\x04|\x05\x06)")
TEXT_LIMIT = 8 << 20  # bytes of compressed PNG text inflated per file
MAX_INSIDE = 10  # findings inside one file: the first few say enough


class Part(NamedTuple):
    where: str  # "the comment segment", for messages
    region: Region


class Layout(NamedTuple):
    """Where a format ends, and the parts of it that can carry what no reader looks at."""

    end: int | None  # None: it never ends (a broken file: the image engine's business)
    parts: Sequence[Part] = ()
    notes: Sequence[tuple[Code, str, int]] = ()  # findings made while reading (code, text, at)
    whole: bool = False  # search the whole image for ZIPs (else: only the parts)


def _fourcc(kind: bytes) -> str:
    """A chunk or box type for a message, control bytes escaped."""
    return "'" + "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in kind) + "'"


def jpeg_layout(data: bytes) -> Layout:
    """Every segment's payload, and stray bytes between segments (decoders skip them)."""
    layout = jpeg.walk(data)
    if layout is None:
        return Layout(None)
    parts = [
        Part(f"the {jpeg.segment_name(s.marker)} segment", Region(s.start, s.end))
        for s in layout.segments
    ]
    parts += [Part("the bytes between two segments", Region(*span)) for span in layout.stray]
    return Layout(layout.end, parts, whole=True)


def png_layout(data: bytes) -> Layout:
    """Every chunk but the picture data, and the text compressed chunks hold, inflated up to
    ``TEXT_LIMIT`` bytes in all (a chunk that expands further is reported, not searched)."""
    layout = png.walk(data)
    parts, notes, budget = [], [], TEXT_LIMIT
    for chunk in layout.chunks:
        if chunk.kind in png.IMAGE_DATA:
            continue
        where = f"the {_fourcc(chunk.kind)} chunk"
        parts.append(Part(where, Region(chunk.start, chunk.end)))
        text = png.inflate(chunk.kind, data[chunk.start : chunk.end], budget)
        if text is None:
            continue
        parts.append(Part(where, Region(chunk.start, chunk.end, text[0])))
        budget -= len(text[0])
        if not text[1]:
            message = f"compressed text in {where} expands past {TEXT_LIMIT:,} bytes"
            notes.append((ARCHIVE_EXPANSION, message, chunk.start))
            break
    return Layout(layout.end, parts, notes, whole=True)


def gif_layout(data: bytes) -> Layout:
    """The data of every extension block (comments, application data), joined."""
    layout = gif.walk(data)
    parts = [
        Part(f"the {_GIF_BLOCKS.get(e.label, 'extension')} block", Region(e.start, e.start, e.data))
        for e in layout.extensions
    ]
    return Layout(layout.end, parts, whole=True)


def bmff_layout(data: bytes) -> Layout:
    """Every top-level box's payload but media data of a stated size: compressed video is not
    searched for signatures (it would match some by chance), but a box that runs "to the end"
    or past it may hold anything. Notes the data references that fetch media from outside
    the file (`_outside`), whether or not the file starts with ``ftyp``."""
    layout, notes = bmff.walk(data), _outside(data)
    if layout is None or not layout.boxes:
        return Layout(None, notes=notes)
    parts = [
        Part(f"the {_fourcc(box.kind)} box", Region(box.payload, box.end))
        for box in layout.boxes
        if box.kind != b"mdat" or box.extent is not bmff.Extent.EXACT
    ]
    return Layout(layout.end, parts, notes)


def _outside(data: bytes) -> list[tuple[Code, str, int]]:
    """EXTERNAL_LINK for each data reference that makes a player fetch media from outside the
    file, on open or in a preview (formats/bmff ``outside_references``: a QuickTime reference
    movie, a track or an image item whose data lies elsewhere); ARCHIVE_EXPANSION for a
    compressed movie header too large to search."""
    outside = bmff.outside_references(data)
    notes = [(EXTERNAL_LINK, _fetched(ref), ref.start) for ref in outside.refs[:MAX_INSIDE]]
    limit = f"{bmff.CMOV_LIMIT:,}"
    return notes + [
        (ARCHIVE_EXPANSION, f"compressed movie header expands past {limit} bytes", at)
        for at in outside.unread
    ]


def _fetched(ref: bmff.DataRef) -> str:
    """What a data reference fetches, from where, and the box that says so."""
    boxes = ref.where.split("/")
    if "rmra" in boxes:
        return f"a video whose data is fetched from {_place(ref)} (QuickTime reference movie)"
    if "trak" in boxes:
        what = "a track whose media data is"
    elif boxes[0] == "meta":
        what = "an image whose data is"
    else:
        what = "media data"
    return f"{what} fetched from {_place(ref)} (data reference {_fourcc(ref.kind)} in {ref.where})"


def _place(ref: bmff.DataRef) -> str:
    """Where a data reference leads, in words (never the location itself)."""
    if ref.kind in (b"alis", b"rsrc"):
        return "another file (a Mac alias)"
    # 'url ' holds one NUL-terminated location; 'urn ' a name, then a location
    names = [name for name in ref.location.split(b"\0") if name.strip()]
    if not names:
        return "a location outside the file"
    kind = target_kind(names[-1].decode("utf-8", "replace"))
    if kind == "remote":
        return "a network address"
    return "a path on the reader's computer" if kind == "local" else "a file outside the attachment"


def riff_layout(data: bytes) -> Layout:
    """Every chunk but the audio of a stated size (an audio size that is a placeholder or runs
    past the end says nothing about what follows the sound: then it is searched too). Only the
    first ``data`` chunk is the audio a player plays: a second one is searched as any chunk (a
    red team hid a page in one, read as a chunk only where the first one's pad byte is left
    out)."""
    layout = riff.walk(data)
    if layout is None:
        return Layout(None)
    audio = next((c for c in layout.chunks if c.kind == b"data" and c.exact), None)
    parts = [
        Part(f"the {_fourcc(chunk.kind)} chunk", Region(chunk.start, chunk.end))
        for chunk in layout.chunks
        if chunk is not audio
    ]
    return Layout(layout.end, parts)


def _zips(data: bytes, parts: Sequence[Part], stop: int, taken: set[int]) -> list[tuple[int, int]]:
    """(part index or -1, offset) of ZIP archives anywhere before ``stop`` in parts ``taken``
    has no finding for yet (one finding per part)."""
    if not _ZIP_RECORD.search(data, 0, stop):  # one pass instead of zipscan's two, usually all
        return []
    spans = find_embedded_zip(data[:stop] if stop < len(data) else data)
    raw = [(i, p.region) for i, p in enumerate(parts) if p.region.content is None]
    found = []
    for start, _ in spans[:MAX_INSIDE]:
        i = next((i for i, r in raw if r.start <= start < r.end), -1)
        if i not in taken:
            taken.add(i)
            found.append((i, start))
    return found


def _part_of(parts: Sequence[Part], offset: int) -> int:
    """The index of the part that holds ``offset``, -1 for none (media data, a scan)."""
    return next(
        (
            i
            for i, p in enumerate(parts)
            if p.region.content is None and p.region.start <= offset < p.region.end
        ),
        -1,
    )


def hidden_inside(data: bytes, layout: Layout, what: str, stop: int) -> list[tuple[str, int]]:
    """Payloads in the layout's parts and, for images, ZIP archives anywhere before ``stop``
    (what lies after it is reported whole), named by the part they are in."""
    parts = layout.parts
    hits = find_payloads(data, [p.region for p in parts], zips=not layout.whole, limit=MAX_INSIDE)
    found = [(hit.offset, hit.what, i) for i, hit in hits.items()]
    # ZIP archives anywhere, media data included (each found by a directory or entries that
    # check out), and 7-Zip, RAR and cabinet archives by their checksummed headers: 7-Zip opens
    # them inside a picture's or a video's data, which is not searched for other signatures
    found += [(start, "ZIP archive", i) for i, start in _zips(data, parts, stop, set(hits))]
    reported = {offset for offset, _, _ in found}
    found += [
        (hit.offset, hit.what, _part_of(parts, hit.offset))
        for hit in archives_anywhere(data[:stop])
        if hit.offset not in reported
    ]
    return [
        (
            f"{thing} hidden in {parts[i].where} of the {what}"
            if i >= 0
            else f"{thing} hidden inside the {what}",
            offset,
        )
        for offset, thing, i in sorted(found)[:MAX_INSIDE]
    ]
