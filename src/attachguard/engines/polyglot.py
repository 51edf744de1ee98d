"""Polyglot engine: data hidden after the end of an image, a PDF, a video or a WAV, or a ZIP
inside one.

A file that is two things at once (a picture that is also a ZIP, a PDF with a program after its
end) passes a check that only looks at the front. This engine finds where the format really ends
by walking its structure (JPEG segments and entropy-coded scans, so an EXIF thumbnail's own end
marker is skipped; PNG chunks to IEND; GIF blocks to the trailer; the last ``%%EOF`` of a PDF;
the chain of top-level boxes of MP4, QuickTime and HEIC; the size a WAV's RIFF header declares),
and reports POLYGLOT for anything after it, naming what it looks like ("ZIP archive hidden after
the end of the JPEG image"), with its offset. It also finds a ZIP whose central directory sits
inside the file (the classic "ZIP in an image comment" trick), "%PDF-" inside an image's header,
and anything before "%PDF-" in a PDF.

Not reported: padding (NUL, 0xFF, whitespace) of any length, which carries no file; and what
phone cameras legitimately append to a JPEG: extra JPEG images (Ultra HDR gain maps, multi-picture
files) and a motion-photo MP4, when the main image's metadata declares them (MPF or the XMP
container), and a well-formed Samsung "SEFT" trailer. Those parts are handed back as children,
so the other engines still scan them. A structure too broken to walk is the image engine's
business (CORRUPT); this engine then only runs the ZIP check.
"""

from __future__ import annotations

import struct

from attachguard.codes import Action, declare
from attachguard.engines.base import (
    Child,
    Context,
    EngineSpec,
    Item,
    Options,
    Result,
    finding,
)

POLYGLOT = declare(
    "POLYGLOT",
    "threat",
    Action.REJECT,
    "data hidden inside or after an image, a PDF or a media file",
    "This file has hidden data attached to it, so it wasn't shared.",
)

_PADDING = b"\x00\xff \t\r\n\x0c"
_DECLARES_MORE = (b"MPF\x00", b"Container:Directory", b"GContainer", b"MotionPhoto",
                  b"MicroVideo", b"hdrgm:")  # fmt: skip
_SIGNATURES = (
    (b"PK\x03\x04", "ZIP archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"MZ", "Windows program"),
    (b"\x7fELF", "Linux program"),
    (b"%PDF-", "PDF document"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"#!", "script"),
    (b"<?php", "PHP script"),
)
_MARKUP = (b"<html", b"<script", b"<svg", b"<!doctype", b"<?xml", b"<body", b"<iframe")
_WHAT = {
    "jpeg": "JPEG image",
    "png": "PNG image",
    "gif": "GIF image",
    "pdf": "PDF",
    "heif": "HEIC image",
    "mp4": "MP4 video",
    "qt": "QuickTime video",
    "3gp": "3GP video",
    "wav": "WAV audio",
}


def jpeg_end(  # noqa: C901  (rewritten with segment checks, issue 8)
    data: bytes, start: int = 0, stop: int | None = None
) -> int | None:
    """Offset just past the End Of Image marker of the JPEG at ``start`` (looking no further than
    ``stop``), walking segments, so markers inside EXIF thumbnails and other metadata are
    skipped; None if it never ends."""
    n, pos = len(data) if stop is None else stop, start + 2
    if data[start : start + 2] != b"\xff\xd8":
        return None
    while pos < n:
        if data[pos] != 0xFF:  # stray bytes between segments: resynchronise as decoders do
            pos = data.find(b"\xff", pos, n)
            if pos < 0:
                return None
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            return None
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return pos
        if marker in (0x00, 0x01) or 0xD0 <= marker <= 0xD8:
            continue
        if pos + 2 > n:
            return None
        pos += int.from_bytes(data[pos : pos + 2], "big")
        if marker == 0xDA:  # scan data runs to the next marker that is not a restart or 0xFF00
            while True:
                pos = data.find(b"\xff", pos, n)
                if pos < 0 or pos + 1 >= n:
                    return None
                following = data[pos + 1]
                if following == 0 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1
                    continue
                break
    return None


def jpeg_metadata(data: bytes) -> bytes:
    """The JPEG's segments before its first scan (EXIF, XMP, MPF...), walked by length so that
    a scan marker inside an EXIF thumbnail does not cut them short."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] not in (0xDA, 0xD9):
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return data[:pos]


def png_end(data: bytes) -> int | None:
    """Offset just past the IEND chunk, following chunk lengths; None if truncated."""
    pos, n = 8, len(data)
    while pos + 8 <= n:
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= n else None
    return None


def gif_end(data: bytes) -> int | None:
    """Offset just past the GIF trailer (0x3B), walking blocks and sub-blocks; None if broken."""
    n = len(data)
    if n < 13:
        return None
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < n:
        kind = data[pos]
        if kind == 0x3B:
            return pos + 1
        if kind == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif kind == 0x2C:  # image: descriptor, local colour table, LZW code size, sub-blocks
            if pos + 10 > n:
                return None
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            return None
        while pos < n and data[pos]:
            pos += data[pos] + 1
        pos += 1
    return None


def pdf_end(data: bytes) -> int | None:
    """Offset just past the last ``%%EOF`` (None when there is none)."""
    at = data.rfind(b"%%EOF")
    return None if at < 0 else at + 5


def bmff_end(data: bytes, start: int, stop: int) -> int | None:
    """End of the ISO media file (MP4) at ``start``: where its chain of top-level boxes ends."""
    n, pos = stop, start
    if data[start + 4 : start + 8] != b"ftyp":
        return None
    while pos + 8 <= n:
        size = int.from_bytes(data[pos : pos + 4], "big")
        if not data[pos + 4 : pos + 8].isalnum():  # not a box type: the media ended before
            return pos if pos > start else None
        if size == 1 and pos + 16 <= n:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            return n
        if size < 8 or pos + size > n or not data[pos + 4 : pos + 8].isalnum():
            return pos if pos > start else None
        pos += size
    return pos


def samsung_trailer(data: bytes) -> tuple[int, list[tuple[int, int]]] | None:
    """Start of a Samsung SEF trailer and its blocks (offset, size), as ExifTool reads it."""
    if not data.endswith(b"SEFT") or len(data) < 20:
        return None
    (length,) = struct.unpack_from("<I", data, len(data) - 8)
    directory = len(data) - 8 - length
    if length < 12 or directory < 0 or data[directory : directory + 4] != b"SEFH":
        return None
    (count,) = struct.unpack_from("<I", data, directory + 8)
    if 12 + 12 * count > length:
        return None
    blocks = []
    for i in range(count):
        back, size = struct.unpack_from("<II", data, directory + 16 + 12 * i)
        if back > directory or size > back or size < 8:
            return None
        blocks.append((directory - back, size))
    start = min((offset for offset, _ in blocks), default=directory)
    cursor = start
    for offset, size in sorted(blocks):  # the blocks must fill the trailer: no room to hide
        if offset + size > directory or data[cursor:offset].strip(_PADDING):
            return None
        cursor = max(cursor, offset + size)
    if cursor > directory or data[cursor:directory].strip(_PADDING):
        return None
    return start, blocks


def describe(blob: bytes) -> str:
    """What a run of bytes looks like, in words (never its content)."""
    for magic, what in _SIGNATURES:
        if blob.startswith(magic):
            return what
    if blob[4:8] == b"ftyp":
        return "video"
    if blob[:64].lstrip().lower().startswith(_MARKUP):
        return "HTML or script markup"
    for magic, what in _SIGNATURES[:3]:
        if magic in blob[: 1 << 20]:
            return what
    return f"{len(blob):,} bytes of data"


def zip_inside(data: bytes) -> int | None:
    """Where a ZIP archive starts, when its end record and central directory lie in ``data``."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None
    size: int
    offset: int
    size, offset = struct.unpack_from("<II", data, at + 12)
    directory = at - size
    if size == 0 or directory < 0 or data[directory : directory + 4] != b"PK\x01\x02":
        return None
    return max(0, directory - offset)


def _skip_padding(data: bytes, pos: int) -> int:
    rest = data[pos:]
    after = pos + len(rest) - len(rest.lstrip(_PADDING))
    # Padding bytes also begin real structures: give back the 0xFF of a JPEG's FF D8, or the
    # zero high bytes of an MP4 box size.
    if after > pos and data[after - 1 : after + 1] == b"\xff\xd8":
        return after - 1
    for back in range(1, min(4, after - pos + 1)):
        if data[after - back + 4 : after - back + 8] == b"ftyp":
            return after - back
    return after


def riff_end(data: bytes) -> int | None:
    """End of a RIFF file (WAV): the size its header declares (chunks are padded to even)."""
    if data[:4] != b"RIFF" or len(data) < 12:
        return None
    size = int.from_bytes(data[4:8], "little") + 8
    return min(size + (size & 1), len(data)) if size > 12 else None


def _media_end(data: bytes) -> int | None:
    return bmff_end(data, 0, len(data))


_ENDS = {
    "jpeg": jpeg_end,
    "png": png_end,
    "gif": gif_end,
    "pdf": pdf_end,
    "heif": _media_end,
    "mp4": _media_end,
    "qt": _media_end,
    "3gp": _media_end,
    "wav": riff_end,
}


class PolyglotEngine:
    """Finds data hidden after (or inside) images, PDFs, videos and WAVs; see the module doc."""

    name = "polyglot"

    def __init__(self) -> None:
        pass

    def version(self) -> str:
        return "attachguard polyglot 1"

    def scan(self, item: Item, context: Context) -> Result:
        data, label = item.data, item.type.label
        what = _WHAT.get(label)
        if what is None:
            return Result()
        found: list[tuple[str, int]] = []  # (message, offset)
        children: list[Child] = []
        if label == "pdf":
            begin = data.find(b"%PDF-")
            if begin > 0 and data[:begin].strip(_PADDING + b"\xef\xbb\xbf"):
                found.append((f"{describe(data[:begin])} hidden before the start of the PDF", 0))
        elif (at := data.find(b"%PDF-", 0, 1024)) >= 0:
            found.append((f"PDF document hidden inside the {what}", at))
        end = _ENDS[label](data)
        pos = len(data) if end is None else _skip_padding(data, end)
        if label == "jpeg" and end is not None and pos < len(data):
            pos = self._camera_extras(data, end, pos, children)
        if pos < len(data):
            found.append((f"{describe(data[pos:])} hidden after the end of the {what}", pos))
        elif (zip_at := zip_inside(data)) is not None:
            found.append((f"ZIP archive hidden inside the {what}", zip_at))
        findings = [
            finding(self.name, POLYGLOT, message, location=f"offset {offset}")
            for message, offset in found
        ]
        return Result(findings, children)

    def _camera_extras(self, data: bytes, end: int, pos: int, children: list[Child]) -> int:
        """Past what cameras append after the main image (see module doc); returns where the
        unexplained data starts (``len(data)`` when everything is accounted for)."""
        n = len(data)
        header = jpeg_metadata(data)
        declared = any(tag in header for tag in _DECLARES_MORE)
        samsung = samsung_trailer(data)
        if samsung and samsung[0] < end:  # a trailer reaching back into the image is forged
            samsung = None
        while pos < n:
            if samsung and pos >= samsung[0]:
                for i, (offset, size) in enumerate(samsung[1], 1):
                    # A block is a name, then the payload: depth maps and videos are worth a scan.
                    (name_length,) = struct.unpack_from("<I", data, offset + 4)
                    payload = data[offset + 8 + name_length : offset + size]
                    if len(payload) >= 4096:
                        children.append(Child(f"camera trailer part {i}", payload))
                return n
            stop = samsung[0] if samsung else n
            part_end = None
            if declared and data[pos : pos + 3] == b"\xff\xd8\xff":
                part_end, kind = jpeg_end(data, pos, stop), "extra image"
            elif declared and data[pos + 4 : pos + 8] == b"ftyp":
                part_end, kind = bmff_end(data, pos, stop), "motion-photo video"
            if part_end is None:
                return pos
            children.append(Child(f"{kind} at offset {pos}", data[pos:part_end]))
            pos = _skip_padding(data, part_end)
        return pos


ENGINE = EngineSpec(
    name="polyglot",
    summary="data hidden after the end of an image, a PDF or a media file",
    types=("pdf", "jpeg", "png", "gif", "heif", "mp4", "qt", "3gp", "wav"),
    codes=(POLYGLOT,),
    build=lambda options, resources: PolyglotEngine(),
    options=Options,
    order=40,
)
