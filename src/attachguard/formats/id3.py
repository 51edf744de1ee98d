"""ID3v2.3 and 2.4 tags, frame by frame, as players and taggers read them (mutagen, ExifTool):
each frame by its declared size, its content decoded by its text encoding, a frame compressed
with zlib inflated. Written here: the two readers that need it (the polyglot engine's check of
tags after a WAV, the sensitive engine's metadata) need a frame's bounds and flags, which no
maintained library gives without decoding every frame's meaning (mutagen drops what it cannot
parse)."""

from __future__ import annotations

import zlib
from typing import NamedTuple

__all__ = ["CODED", "Frame", "frames", "synchsafe", "texts"]

# Frame flags that make a frame's bytes other than its content: compressed, encrypted (2.3);
# grouped, compressed, encrypted, unsynchronised, a data length first (2.4)
CODED = {3: 0x00C0, 4: 0x000F}
_COMPRESSED = {3: 0x0080, 4: 0x0008}
_ENCRYPTED = {3: 0x0040, 4: 0x0004}
_LENGTH_FIRST = {3: 0x0080, 4: 0x0001}  # 2.3: a compressed frame's inflated size comes first
_ENCODINGS = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}
# Unsynchronisation (a 00 written after each FF), undone as taggers undo it (red team 113): the
# whole tag's in 2.3 (a header flag), a frame's in 2.4 (a frame flag)
_UNSYNCHRONISED_TAG = 0x80
_UNSYNCHRONISED_FRAME = 0x0002
_MOST_FRAMES = 4_096
_TEXTS = frozenset({b"COMM", b"USLT"})  # besides text (T...) and link (W...) frames


class Frame(NamedTuple):
    ident: bytes  # b"TIT2", b"COMM"
    flags: int
    body: bytes  # as stored


def synchsafe(raw: bytes) -> int:
    """An ID3v2 size: four bytes of seven bits each."""
    return sum(b << (7 * (3 - i)) for i, b in enumerate(raw))


def frames(tag: bytes) -> tuple[list[Frame], int]:
    """The frames of an ID3v2.3 or 2.4 tag (from its 10-byte header on), and where they end
    (padding follows); none for another version."""
    version = tag[3] if len(tag) > 3 else 0
    found: list[Frame] = []
    pos = 10
    if version not in CODED:
        return found, pos
    while pos + 10 <= len(tag) and tag[pos] != 0 and len(found) < _MOST_FRAMES:
        raw = tag[pos + 4 : pos + 8]
        size = synchsafe(raw) if version == 4 else int.from_bytes(raw, "big")
        flags = int.from_bytes(tag[pos + 8 : pos + 10], "big")
        found.append(Frame(tag[pos : pos + 4], flags, tag[pos + 10 : pos + 10 + size]))
        pos += 10 + size
    return found, pos


def texts(tag: bytes, budget: int) -> list[str]:
    """The text of each text, link, comment and lyrics frame of a tag, as a player shows it:
    its content after its encoding byte, decoded by it (NULs between a comment's language,
    description and text as line breaks), a
    compressed frame inflated (``budget`` bytes at most, all frames together), unsynchronised
    ones restored; encrypted frames and other versions give nothing."""
    version = tag[3] if len(tag) > 3 else 0
    if version == 3 and len(tag) > 5 and tag[5] & _UNSYNCHRONISED_TAG:
        tag = tag[:10] + tag[10:].replace(b"\xff\x00", b"\xff")  # 2.3: the whole tag's
    out: list[str] = []
    for frame in frames(tag)[0]:
        if frame.ident[:1] not in (b"T", b"W") and frame.ident not in _TEXTS:
            continue  # a picture, a counter, private data: nothing a player lists as text
        body = _content(frame, version, budget)
        if body is None:
            continue
        budget -= len(body)
        if frame.ident[:1] == b"W" and frame.ident != b"WXXX":
            out.append(body.decode("latin-1").replace("\0", "\n"))  # a URL, no encoding byte
        elif body[:1] and body[0] in _ENCODINGS:
            out.append(body[1:].decode(_ENCODINGS[body[0]], "replace").replace("\0", "\n"))
    return out


def _content(frame: Frame, version: int, budget: int) -> bytes | None:
    """A frame's content as written before it was coded; None when it cannot be had."""
    body = frame.body
    if frame.flags & _ENCRYPTED[version]:
        return None
    if version == 4 and frame.flags & _UNSYNCHRONISED_FRAME:
        body = body.replace(b"\xff\x00", b"\xff")
    if frame.flags & _LENGTH_FIRST[version]:
        body = body[4:]
    if frame.flags & _COMPRESSED[version]:
        try:
            return zlib.decompressobj().decompress(body, max(budget, 1))
        except zlib.error:
            return None
    return body
