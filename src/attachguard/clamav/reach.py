"""What clamd unpacks by itself: the children it already scanned inside their parent.

The pipeline streams every child an engine extracts to clamd so that a match names its
location. For a zip member that is wasted work when the parent was clean: clamd inflates a
zip's (or an Office package's) stored and deflated members itself, recursively, and applies
every signature, hash signatures included, to each of them as it would to a stream. Measured
on the real-world corpus (docs/benchmarks.md): a .pptx with chart workbooks was streamed
once whole and once more part by part.

Left out: what the clamav engine streamed apart (`members_clamd_skips`, below), and what clamd
provably reads the same way: a member of a file that begins with
a local file header (clamd's zip magic; a zip behind other bytes is streamed from where it
starts by the polyglot engine), named in the central directory, stored or deflated (clamd
skips methods it lacks, LZMA among them, without an alert), with the size and CRC-32 of the
directory entry (the zip engine checks those against what it inflated), whose local header
clamd reads as the directory does (`_local_agrees`), and no larger than its parent. That last
rule closes a gap: clamd cuts a deflated member larger than its
``MaxFileSize`` short and scans the start without an alert (ClamAV 1.4; Debian's system
clamd has 25M), while a parent larger than ``MaxFileSize`` is flagged — so a clean parent
proves its size is within the limit, and so is any member no larger. Everything else —
decoded, decrypted or repaired content, members read another way, members larger than their
zip, byte ranges clamd does not unpack — is streamed as before. The local header rule: ClamAV
takes a member's method, flags and sizes from its local header, and skips, answering OK without
an alert, a member marked there with flags it does not know (bit 13, "masked data") or sized
0xFFFFFFFF (a zip64 local header, even where the directory sizes it in 32 bits), while unzip,
7-Zip and Python inflate it (red team 115).

The other way round, `members_clamd_skips`: what of a zip clamd opens it does not read as unzip
does — a member behind such a local header, in a method clamd lacks, or larger than both its
parent and 25 MB (where a clamd's ``MaxFileSize`` may cut it short: Debian's is 25M, ClamAV's
default 100M, attachguard's 200M) — whether or not an engine extracts it: an Office package's
XML parts are read by the office engine, not handed on. The clamav engine streams each apart,
inflated as unzip does (stored and deflated members from their local header, up to a damaged
stream or a wrong CRC-32, which unzip extracts with a warning). A zip member that holds such
members itself (a .docx embedded in a .docx) is never taken as read inside its parent: the
clamav engine must run on it to stream them (review 116).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator

from attachguard.engines.base import Child, Item

_ZIP_MAGIC = b"PK\x03\x04"
_CLAMD_INFLATES = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # a local file header, before its name and extra field
_KNOWN_FLAGS = 0x080E  # deflate options (bits 1-2), a data descriptor (3), UTF-8 names (11)
_DESCRIPTOR = 0x0008
_ZIP64_FIELD = 0x0001
_UNSIZED = 0xFFFFFFFF
_CUT_ABOVE = 25 * 1000**2  # the smallest MaxFileSize assumed (Debian's clamd.conf: 25M)
_PIECE = 4096  # compressed bytes inflated at a time: what a damaged piece loses


def zip_members_clamd_reads(parent: Item, children: list[Child]) -> frozenset[Child]:
    """The ``children`` that are members clamd scanned with their clean ``parent``: inflated
    inside it (see the module docstring), or streamed apart by the clamav engine
    (`members_clamd_skips`); empty when ``parent`` is not a zip clamd recognises or cannot be
    read."""
    if not children or not parent.data.startswith(_ZIP_MAGIC):
        return frozenset()
    try:
        with zipfile.ZipFile(io.BytesIO(parent.data)) as archive:
            entries = {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return frozenset()
    data = parent.data
    return frozenset(
        child
        for child in children
        if _same(entries.get(child.where), child)
        and (
            _inflates(data, entries[child.where], len(data)) or _skipped(data, entries[child.where])
        )
        and not _holds_skipped(child.data)
    )


def _holds_skipped(data: bytes) -> bool:
    """Whether ``data`` is a zip with members clamd skips: reached inside its parent, the
    clamav engine would never run on it to stream them apart (a .docx embedded in a .docx,
    its parts behind bit-13 headers: review 116), so it is streamed as a child, and the
    engine runs on it."""
    if not data.startswith(_ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(_skipped(data, info) for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return True  # unreadable as a zip here: not provably read by clamd either


def _same(info: zipfile.ZipInfo | None, child: Child) -> bool:
    """Whether ``child`` is, byte for byte, the member ``info`` describes."""
    return (
        info is not None
        and not info.flag_bits & 0x1  # encrypted: clamd cannot read it (nor can anyone)
        and info.file_size == len(child.data)
        and zlib.crc32(child.data) == info.CRC
    )


def _inflates(data: bytes, info: zipfile.ZipInfo, most: int) -> bool:
    """Whether clamd inflates the member inside ``data`` in full: a method it has, a local
    header it reads as the directory does, no larger than ``most`` (see the module docstring:
    clamd's MaxFileSize)."""
    return (
        info.compress_type in _CLAMD_INFLATES
        and info.file_size <= most
        and _local_agrees(data, info)
    )


def _skipped(data: bytes, info: zipfile.ZipInfo) -> bool:
    """Whether the clamav engine streams the member apart (`members_clamd_skips`)."""
    return (
        not info.is_dir()
        and not info.flag_bits & 0x1
        and not _inflates(data, info, max(len(data), _CUT_ABOVE))
    )


def _local_agrees(data: bytes, info: zipfile.ZipInfo) -> bool:
    """Whether the member's local header leads clamd to the bytes the directory describes: the
    same method, no flag clamd does not know, no zip64 field in either header, and (without a
    data descriptor) the directory's sizes, inside the file."""
    start = info.header_offset
    if start < 0 or start + _LOCAL.size > len(data):
        return False
    magic, _, flags, method, _, _, _, packed, size, name, extra = _LOCAL.unpack_from(data, start)
    fields = start + _LOCAL.size + name
    return (
        magic == _ZIP_MAGIC
        and method == info.compress_type
        and not flags & ~_KNOWN_FLAGS
        and not _has_zip64(data[fields : fields + extra])
        and not _has_zip64(info.extra)
        and (
            bool(flags & _DESCRIPTOR)
            or ((packed, size) == (info.compress_size, info.file_size) and packed != _UNSIZED)
        )
        and fields + extra + info.compress_size <= len(data)
    )


def _has_zip64(extra: bytes) -> bool:
    """Whether an extra field holds a zip64 record (walked as its tag-length records)."""
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, at)
        if tag == _ZIP64_FIELD:
            return True
        at += 4 + length
    return False


def members_clamd_skips(data: bytes, most: int) -> Iterator[tuple[str, bytes | None]]:
    """The members of ``data`` clamd does not read as unzip does (module docstring), each as
    its name and its content as Python's zipfile inflates it — up to a damaged end, which unzip
    and 7-Zip extract too, with a warning — within ``most`` bytes in all (past them, the name
    and None, and no more). Nothing when ``data`` is no zip clamd opens or cannot be read;
    encrypted members (no one reads them without the password; the zip engine says so) and
    directories are left."""
    if not data.startswith(_ZIP_MAGIC):
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return
    with archive:
        for info in archive.infolist():
            if not _skipped(data, info):
                continue
            content = _inflated(data, archive, info, most)
            if content is None:
                yield info.filename, None
                return
            most -= len(content)
            yield info.filename, content


def _inflated(
    data: bytes, archive: zipfile.ZipFile, info: zipfile.ZipInfo, most: int
) -> bytes | None:
    """The member's content as far as it inflates (what inflated before a damaged stream or a
    wrong CRC-32 is kept: unzip and 7-Zip extract it, with a warning), or None past ``most``
    bytes. Stored and deflated members are read here from their local header, as unzip reads
    them (zipfile drops what a read inflated when its CRC-32 check fails); other methods
    through zipfile, a piece at a time."""
    if info.compress_type in _CLAMD_INFLATES:
        raw = _raw(data, info)
        if raw is not None:
            return (
                _deflated(raw, most)
                if info.compress_type == zipfile.ZIP_DEFLATED
                else (raw if len(raw) <= most else None)
            )
    out = bytearray()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(min(_PIECE, most + 1 - len(out))):
                out += chunk
                if len(out) > most:
                    return None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError):
        pass  # what inflated before the damage (at most one piece lost to a failed check)
    return bytes(out)


def _raw(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """The member's stored bytes: after its local header, the directory's compressed size
    (as zipfile and unzip take it); None when the local header lies outside ``data``."""
    start = info.header_offset
    if start < 0 or start + _LOCAL.size > len(data):
        return None
    *_, name, extra = _LOCAL.unpack_from(data, start)
    begin = start + _LOCAL.size + name + extra
    return data[begin : begin + info.compress_size] if begin <= len(data) else None


def _deflated(raw: bytes, most: int) -> bytes | None:
    """``raw`` inflated (raw deflate) up to a damaged stream, or None past ``most`` bytes."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = bytearray()
    for at in range(0, len(raw), _PIECE):
        try:
            out += inflater.decompress(raw[at : at + _PIECE], most + 1 - len(out))
        except zlib.error:
            break  # a damaged stream: what inflated before it
        if len(out) > most:
            return None
        if inflater.eof:
            break
    return bytes(out)
