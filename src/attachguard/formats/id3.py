"""ID3v2.2, 2.3 and 2.4 tags, frame by frame, as players and taggers read them (mutagen,
FFmpeg): after the extended header, each frame by its declared size, its content decoded by its
text encoding, a frame compressed with zlib inflated, unsynchronisation undone. Written here:
the two readers that need it (the polyglot engine's check of tags after a WAV, the sensitive
engine's metadata) need a frame's bounds and flags, which no maintained library gives without
decoding every frame's meaning (mutagen drops what it cannot parse)."""

from __future__ import annotations

import zlib
from typing import NamedTuple

__all__ = ["CODED", "Frame", "frames", "synchsafe", "texts"]

# Frame flags that make a frame's bytes other than its content: compressed, encrypted (2.3);
# grouped, compressed, encrypted, unsynchronised, a data length first (2.4). 2.2's frames
# have no flags.
CODED = {3: 0x00C0, 4: 0x000F}
_COMPRESSED = {2: 0, 3: 0x0080, 4: 0x0008}
_ENCRYPTED = {2: 0, 3: 0x0040, 4: 0x0004}
_LENGTH_FIRST = {2: 0, 3: 0x0080, 4: 0x0001}  # 2.3: a compressed frame's inflated size first
# A frame's header: its identifier's, size's and flags' bytes (2.2: "TT2", three size bytes)
_HEADS = {2: (3, 3, 0), 3: (4, 4, 2), 4: (4, 4, 2)}
_ENCODINGS = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}
# Unsynchronisation (a 00 written after each FF), undone as mutagen and FFmpeg undo it (red
# teams 113, 114): the whole tag's in 2.2 and 2.3 (a header flag); in 2.4 each frame's content,
# when the header's flag or the frame's own says so (a 2.4 frame's size is of its bytes stored)
_UNSYNCHRONISED_TAG = 0x80
_UNSYNCHRONISED_FRAME = 0x0002
_EXTENDED = 0x40  # a header flag (2.3, 2.4): an extended header comes before the frames
_MOST_FRAMES = 4_096
# besides text (T...) and link (W...) frames: comments and lyrics, 2.2's names too
_TEXTS = frozenset({b"COMM", b"USLT", b"COM", b"ULT"})
_LINKS_WITH_ENCODING = frozenset({b"WXXX", b"WXX"})


class Frame(NamedTuple):
    ident: bytes  # b"TIT2", b"COMM"
    flags: int
    body: bytes  # as stored


def synchsafe(raw: bytes) -> int:
    """An ID3v2 size: four bytes of seven bits each."""
    return sum(b << (7 * (3 - i)) for i, b in enumerate(raw))


def frames(tag: bytes) -> tuple[list[Frame], int]:
    """The frames of an ID3v2.2, 2.3 or 2.4 tag (from its 10-byte header on), and where they
    end (padding follows); none for another version."""
    version = tag[3] if len(tag) > 3 else 0
    found: list[Frame] = []
    pos = _first_frame(tag)
    if version not in _HEADS:
        return found, pos
    ident, sized, flagged = _HEADS[version]
    head = ident + sized + flagged
    while pos + head <= len(tag) and tag[pos] != 0 and len(found) < _MOST_FRAMES:
        raw = tag[pos + ident : pos + ident + sized]
        size = synchsafe(raw) if version == 4 else int.from_bytes(raw, "big")
        flags = int.from_bytes(tag[pos + ident + sized : pos + head], "big")
        found.append(Frame(tag[pos : pos + ident], flags, tag[pos + head : pos + head + size]))
        pos += head + size
    return found, pos


def _first_frame(tag: bytes) -> int:
    """Where a tag's frames start: after its header, and after its extended header when the
    header's flag says there is one, skipped by its size as mutagen skips it (2.3: a size
    that leaves out its own four bytes; 2.4: a synchsafe one that counts them), unless a
    frame's identifier stands there (a tagger set the flag and wrote none; mutagen's check)."""
    version = tag[3] if len(tag) > 3 else 0
    raw = tag[10:14]
    if version not in CODED or len(tag) < 14 or not tag[5] & _EXTENDED or raw.isalnum():
        return 10
    if version == 3:
        return 14 + int.from_bytes(raw, "big")
    return max(10 + synchsafe(raw), 14)


def texts(tag: bytes, budget: int) -> list[str]:
    """The text of each text, link, comment and lyrics frame of a tag, as a player shows it:
    its content after its encoding byte, decoded by it (NULs between a comment's language,
    description and text as line breaks), a
    compressed frame inflated (``budget`` bytes at most, all frames together), unsynchronised
    ones restored; encrypted frames and other versions give nothing."""
    version = tag[3] if len(tag) > 3 else 0
    unsynchronised = len(tag) > 5 and bool(tag[5] & _UNSYNCHRONISED_TAG)
    if version in (2, 3) and unsynchronised:  # the whole tag's, after its extended header
        start = _first_frame(tag)
        tag = tag[:start] + tag[start:].replace(b"\xff\x00", b"\xff")
    out: list[str] = []
    for frame in frames(tag)[0]:
        if frame.ident[:1] not in (b"T", b"W") and frame.ident not in _TEXTS:
            continue  # a picture, a counter, private data: nothing a player lists as text
        body = _content(frame, version, version == 4 and unsynchronised, budget)
        if body is None:
            continue
        budget -= len(body)
        if frame.ident[:1] == b"W" and frame.ident not in _LINKS_WITH_ENCODING:
            out.append(body.decode("latin-1").replace("\0", "\n"))  # a URL, no encoding byte
        elif body[:1] and body[0] in _ENCODINGS:
            out.append(body[1:].decode(_ENCODINGS[body[0]], "replace").replace("\0", "\n"))
    return out


def _content(frame: Frame, version: int, unsynchronised: bool, budget: int) -> bytes | None:
    """A frame's content as written before it was coded (``unsynchronised``: a 2.4 tag's
    header says all its frames are); None when it cannot be had."""
    body = frame.body
    if frame.flags & _ENCRYPTED[version]:
        return None
    if version == 4 and (unsynchronised or frame.flags & _UNSYNCHRONISED_FRAME):
        body = body.replace(b"\xff\x00", b"\xff")
    if frame.flags & _LENGTH_FIRST[version]:
        body = body[4:]
    if frame.flags & _COMPRESSED[version]:
        try:
            return zlib.decompressobj().decompress(body, max(budget, 1))
        except zlib.error:
            return None
    return body
