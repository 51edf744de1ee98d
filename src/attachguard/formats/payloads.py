"""Payloads: what a run of metadata bytes hides that a program could run, unpack or render.

``find_payload`` searches anywhere in ``data[start:end]`` for a Windows program (an "MZ" header
whose ``e_lfanew`` points at a "PE" signature), a Linux program (ELF magic with a valid class,
byte order and version), a RAR, 7-Zip or cabinet archive, an OLE compound file (Office 97-2003
documents, installers), an RTF document (``{\\rtf``: Word opens one whatever follows), a PDF
document ("%PDF-" and a version), HTML or PHP markup (an opening ``<script``, ``<html``,
``<iframe``, ``<body``, ``<object``, ``<embed`` or ``<hta:application`` tag followed by a
space, "/" or ">"; any tag with an event handler attribute, ``<img src=x onerror=...>``, which
mshta runs as it parses a picture as a page; ``<!doctype html``; ``<?php``),
and, only at the very start, a ``#!/`` script. ``find_payloads`` does the same for many
regions of a file at once, ZIP archives included (zipscan's ``find_embedded_zip``).

Signatures are searched anywhere because metadata payloads begin with their own identifiers
("Exif", "ICC_PROFILE"), after which anything can follow. So each one is long or checked: on
random bytes the weakest (an opening tag with its delimiter) matches once in about 2**41
positions. Pictures are not payloads: EXIF, Photoshop and FlashPix metadata carry thumbnails,
and XMP's ``<x:xmpmeta>``/``<rdf:...>`` markup is XML, not HTML.

Cost: one pass per signature over the bytes searched (about 15 ms per MiB for all of them on
random bytes on a loaded two-core test machine; metadata is a few KiB). "MZ" candidates are
counted first in one pass, and checked one by one only when there are at most
``_MAX_CANDIDATES`` (random bytes hold one per 64 KiB): a run built of more fake headers than
that is reported as a possible program, unchecked, instead of costing a Python loop each.
"""

from __future__ import annotations

import re
import struct
import zlib
from bisect import bisect_right
from typing import NamedTuple

from attachguard.formats.zipscan import find_embedded_zip

__all__ = [
    "Payload",
    "Region",
    "archives_anywhere",
    "disc_image",
    "find_payload",
    "find_payloads",
    "script_at",
]


class Payload(NamedTuple):
    offset: int  # in ``data``
    what: str  # in words, as polyglot messages name it ("Windows program")


_LITERALS = (
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"MSCF\0\0\0\0", "cabinet archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE compound file (Office 97-2003 document)"),
    (b"{\\rtf", "RTF document"),
)
_ELF = re.compile(rb"\x7fELF[\x01\x02][\x01\x02]\x01")
_PDF = re.compile(rb"%PDF-[12]\.\d")
_MARKUP = re.compile(
    rb"<(?i:script|html|iframe|body|object|embed|hta:application)[\s/>]"
    rb"|<!(?i:doctype)\s+(?i:html)|<\?(?i:php)\s"
    # any element with an event handler (<img src=x onerror=...>, <svg/onload=...>): a tag
    # name, then within the tag (quoted values may hold a ">": alt=">") a blank, slash or
    # quote before "on" and a name, then "="; every try stops at the next "<", so the search
    # stays linear
    rb"|<[A-Za-z][\w:-]{0,127}[\s/]"
    rb"(?:(?:[^<>\"']|\"[^\"<]{0,4096}\"|'[^'<]{0,4096}'){0,4096}?[\s/\"'])?"
    rb"(?i:on[a-z]{3,31})\s*="
)
_ZIP_RECORD = re.compile(rb"PK(?:\x03\x04|\x05\x06)")
_MAX_CANDIDATES = 4096
_SHEBANGS = (b"#!/", b"#! /")
_PATTERNS = ((_ELF, "Linux program"), (_PDF, "PDF document"), (_MARKUP, "HTML or script markup"))


def _windows_program(data: bytes, start: int, end: int) -> Payload | None:
    first = data.find(b"MZ", start, end)
    if first >= 0 and data.count(b"MZ", first, end) > _MAX_CANDIDATES:  # one C pass, no loop
        return Payload(first, "possible Windows program (too many headers to check)")
    at = first
    while at >= 0:
        pe = int.from_bytes(data[at + 0x3C : at + 0x40], "little")
        if pe >= 0x40 and at + pe + 4 <= end and data[at + pe : at + pe + 4] == b"PE\0\0":
            return Payload(at, "Windows program")
        at = data.find(b"MZ", at + 2, end)
    return None


def script_at(data: bytes, at: int) -> Payload | None:
    """A ``#!/`` script starting at ``at``; only the start of a payload is checked, since "#!"
    anywhere else is too short to mean anything."""
    return Payload(at, "script") if data.startswith(_SHEBANGS, at) else None


def find_payload(data: bytes, start: int = 0, end: int | None = None) -> Payload | None:
    """The first payload (see the module docstring) in ``data[start:end]``, else None: a script
    only at ``start``, anything else anywhere."""
    end = len(data) if end is None else min(end, len(data))
    found: list[Payload] = []
    if (script := script_at(data, start)) and start + 3 <= end:
        found.append(script)
    for magic, what in _LITERALS:
        at = data.find(magic, start, end)
        if at >= 0:
            found.append(Payload(at, what))
    for pattern, what in _PATTERNS:
        if match := pattern.search(data, start, end):
            found.append(Payload(match.start(), what))
    if program := _windows_program(data, start, end):
        found.append(program)
    return min(found, default=None)


# -- many regions at once ------------------------------------------------------------------------
class Region(NamedTuple):
    """Part of a file to search: ``data[start:end]``, or ``content`` when the part must be
    decoded first (joined GIF sub-blocks, inflated PNG text); ``start`` then locates it."""

    start: int
    end: int
    content: bytes | None = None


_JOIN_GAP = 16  # raw regions this close are searched as one run (a JPEG marker is 4 bytes)
_MAX_RUNS = 1024  # more runs than this (a file of a million tiny chunks): searched as one


def _runs(regions: list[Region]) -> list[tuple[int, int]]:
    """[start, end) runs covering the raw regions (sorted by start), merged when close."""
    runs: list[tuple[int, int]] = []
    for region in regions:
        if runs and region.start - runs[-1][1] <= _JOIN_GAP:
            runs[-1] = (runs[-1][0], max(runs[-1][1], region.end))
        else:
            runs.append((region.start, region.end))
    return [(runs[0][0], runs[-1][1])] if len(runs) > _MAX_RUNS else runs


def _zip(data: bytes, start: int, end: int) -> Payload | None:
    if not _ZIP_RECORD.search(data, start, end):  # one pass; zipscan's search costs two and a copy
        return None
    spans = find_embedded_zip(data[start:end])
    return Payload(start + spans[0][0], "ZIP archive") if spans else None


def _first(data: bytes, start: int, end: int, zips: bool) -> Payload | None:
    found = [find_payload(data, start, end), _zip(data, start, end) if zips else None]
    return min((hit for hit in found if hit is not None), default=None)


def _search(
    data: bytes, regions: list[Region], order: list[int], zips: bool, limit: int
) -> dict[int, Payload]:
    """The first payload of each raw region (``order``: their indices sorted by start), by
    index, searched run by run."""
    starts = [regions[i].start for i in order]
    hits: dict[int, Payload] = {}
    for i in order:
        if len(hits) < limit and (script := script_at(data, regions[i].start)):
            hits[i] = script
    for start, end in _runs([regions[i] for i in order]):
        pos = start
        while len(hits) < limit and pos < end and (hit := _first(data, pos, end, zips)):
            i = order[max(0, bisect_right(starts, hit.offset) - 1)]
            hits.setdefault(i, hit)
            pos = max(regions[i].end, hit.offset + 1)
    return hits


def _joined(regions: list[Region]) -> tuple[bytes, list[Region]]:
    """The decoded contents in one buffer, kept apart by 0xFF bytes (which complete no
    signature), and where each one lies in it."""
    placed, at = [], 0
    for region in regions:
        size = len(region.content or b"")
        placed.append(Region(at, at + size))
        at += size + _JOIN_GAP
    return (b"\xff" * _JOIN_GAP).join(region.content or b"" for region in regions), placed


def find_payloads(
    data: bytes, regions: list[Region], *, zips: bool = False, limit: int = 10
) -> dict[int, Payload]:
    """The first payload in each region that holds one, by the region's index (``limit`` in
    all); ``zips``: ZIP archives too (zipscan's ``find_embedded_zip``). Regions close together
    are searched as one run, and decoded contents as one buffer, so that a file of a million
    tiny chunks costs one search, not a million. The offset of a payload found in decoded
    content is its region's ``start``."""
    raw = sorted(
        (i for i, r in enumerate(regions) if r.content is None), key=lambda i: regions[i].start
    )
    hits = _search(data, regions, raw, zips, limit)
    decoded = [i for i, r in enumerate(regions) if r.content is not None]
    if decoded and len(hits) < limit:
        joined, placed = _joined([regions[i] for i in decoded])
        found = _search(joined, placed, list(range(len(placed))), zips, limit - len(hits))
        for k, hit in found.items():
            hits[decoded[k]] = Payload(regions[decoded[k]].start, hit.what)
    return hits


# -- archives 7-Zip opens wherever they start: their headers checked by their own CRCs ----------

_SEVEN_ZIP, _RAR, _CABINET = b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"MSCF\0\0\0\0"


def archives_anywhere(data: bytes) -> list[Payload]:
    """Every 7-Zip, RAR, cabinet archive or NSIS installer whose header is whole anywhere in
    ``data``, media
    data included: 7-Zip opens such an archive inside a picture or a video (a red team put
    them in an MP4's mdat, a PNG's image data and a JPEG's scan), and these headers carry a
    checksum or a version that random bytes do not match (7-Zip's start header CRC, RAR's
    header CRC, a cabinet's version 1 and sizes and counts that fit)."""
    found: list[Payload] = []
    for signature, check, what in _CHECKED:
        at = data.find(signature)
        while at >= 0:  # every candidate: a header check costs a microsecond
            if check(data, at):
                found.append(Payload(at, what))
                break
            at = data.find(signature, at + 1)
    return found


def _seven_zip(data: bytes, at: int) -> bool:
    header = data[at : at + 32]
    return (
        len(header) == 32
        and header[6] == 0
        and zlib.crc32(header[12:32]) == int.from_bytes(header[8:12], "little")
    )


def _rar(data: bytes, at: int) -> bool:
    if data[at + 6 : at + 8] == b"\x01\x00":  # RAR 5: CRC32, then the header's size (a vint)
        crc, pos = int.from_bytes(data[at + 8 : at + 12], "little"), at + 12
        size = shift = 0
        for _ in range(3):
            if pos >= len(data):
                return False
            byte = data[pos]
            size, shift, pos = size | (byte & 0x7F) << shift, shift + 7, pos + 1
            if not byte & 0x80:
                break
        return 0 < size <= 1 << 16 and zlib.crc32(data[at + 12 : pos + size]) == crc
    if data[at + 6 : at + 7] != b"\x00":  # RAR 1.5-4: the main header (type 0x73), its CRC16
        return False
    head = data[at + 7 : at + 20]
    return (
        len(head) == 13
        and head[2] == 0x73
        and zlib.crc32(head[2:13]) & 0xFFFF == int.from_bytes(head[:2], "little")
    )


def _cabinet(data: bytes, at: int) -> bool:
    """A cabinet header: version 1 (7-Zip opens any minor version), a size that fits, its
    file list inside it, at least one folder and one file."""
    header = data[at : at + 36]
    if len(header) < 36 or header[25] != 1:
        return False
    size, files_at = int.from_bytes(header[8:12], "little"), int.from_bytes(header[16:20], "little")
    folders, files = (
        int.from_bytes(header[26:28], "little"),
        int.from_bytes(header[28:30], "little"),
    )
    return 36 <= size <= len(data) - at and 36 <= files_at < size and folders > 0 and files > 0


def _nsis(data: bytes, at: int) -> bool:
    """An NSIS installer's first header (red team 109: 7-Zip lists and extracts the program an
    installer block holds inside a picture or a recording, no "MZ" in sight): its flags before
    the 16-byte signature, small; its (inflated) header's and its data's sizes after it, not
    nothing."""
    if at < 4 or at + 24 > len(data):
        return False
    flags = int.from_bytes(data[at - 4 : at], "little")
    header, archive = struct.unpack_from("<II", data, at + 16)
    return flags <= 0xF and header > 0 and archive > 0


_NSIS = b"\xef\xbe\xad\xdeNullsoftInst"
_CHECKED = (
    (_SEVEN_ZIP, _seven_zip, "7-Zip archive"),
    (_RAR, _rar, "RAR archive"),
    (_CABINET, _cabinet, "cabinet archive"),
    (_NSIS, _nsis, "NSIS installer"),
)


# -- disc images 7-Zip opens by what sits at a fixed offset -------------------------------------

_SECTOR = 2048  # a CD or DVD sector: ISO 9660 and UDF place their descriptors in whole sectors
_VOLUME_DESCRIPTORS = 0x8000  # sector 16: the system area before it is the writer's own
_VOLUME_IDS = {b"CD001": "ISO 9660 disc image", b"BEA01": "UDF disc image",
               b"NSR02": "UDF disc image", b"NSR03": "UDF disc image"}  # fmt: skip
_ANCHORS = (256 << 11, 256 << 9)  # UDF's anchor: sector 256 of 2,048- or 512-byte sectors


def disc_image(data: bytes) -> Payload | None:
    """A disc image laid over ``data``: an ISO 9660 or UDF volume descriptor ("CD001",
    "BEA01", "NSR02", "NSR03" after its type byte) in one of the sectors from 16 on, or a UDF
    anchor volume descriptor pointer at sector 256 (its tag's checksum right and its location
    256), as 7-Zip's Iso and Udf handlers find them (the signature "CD001" at 0x8001;
    ``IsArc_Udf``): 7-Zip opens a picture so built as a disc and lists its files, whatever the
    extension. Fixed offsets only: one comparison each."""
    for sector in range(16):
        at = _VOLUME_DESCRIPTORS + sector * _SECTOR
        what = _VOLUME_IDS.get(data[at + 1 : at + 6])
        if what is not None:
            return Payload(at, what)
    return next((Payload(at, "UDF disc image") for at in _ANCHORS if _udf_anchor(data, at)), None)


def _udf_anchor(data: bytes, at: int) -> bool:
    """A UDF descriptor tag at ``at`` (ECMA-167 3/7.2): identifier 2 (anchor volume descriptor
    pointer), its checksum (the sum of the tag's other bytes) right, its location 256."""
    tag = data[at : at + 16]
    return (
        len(tag) == 16
        and tag[:2] == b"\x02\x00"
        and (sum(tag) - tag[4]) & 0xFF == tag[4]
        and int.from_bytes(tag[12:16], "little") == 256
    )
