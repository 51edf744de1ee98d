"""Reading a zip's members within the limits, for the zip engine.

Each member is checked before it is inflated: encrypted (ENCRYPTED), or a large member whose
declared ratio is over ``limits.max_ratio`` (ARCHIVE_RATIO). Declared sizes can lie, so a member
is read in chunks and never past one byte over its declared size: larger is ARCHIVE_EXPANSION,
smaller or with a bad CRC is CORRUPT. Bytes left over after a member's compressed stream ends
(inside the size the directory gives it) are AMBIGUOUS: no writer leaves them, and a streaming
reader (Java's ZipInputStream) looks for the next entry right after the stream, where a hidden
local entry can wait; the member itself is still scanned. Past the depth limit nothing is
inflated: a member that would be a child is reported as ARCHIVE_DEPTH instead (only the first
bytes of a package's XML parts are read, to tell whether they are what their name says).

Children: every member of a plain zip; of an Office or OpenDocument package, every member but
its XML, .rels and ``mimetype`` parts that do begin as such (those are the office engine's).
Repeated findings are aggregated (`zip_layout.aggregate`).
"""

from __future__ import annotations

import copy
import lzma
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_DEPTH,
    ARCHIVE_EXPANSION,
    ARCHIVE_RATIO,
    CORRUPT,
    ENCRYPTED,
)
from attachguard.engines.base import Child, finding
from attachguard.engines.zip_layout import NAME, aggregate
from attachguard.errors import LimitExceeded
from attachguard.report import Finding

if TYPE_CHECKING:
    from attachguard.policy import Limits

_CHUNK = 1 << 16
_HEAD = 64  # bytes enough to tell XML, relationships and the ODF mimetype from anything else
# A member smaller than this cannot be a bomb (the byte budget bounds many small ones), while
# small, repetitive XML parts of honest documents easily pass 100:1, and so do Office's EMF
# pictures (a PDF's page printed for its icon: 1.45 MB stored in 2 KB, 667:1).
RATIO_FLOOR = 8 << 20
_BLANKS = b"\xef\xbb\xbf\xff\xfe \t\r\n"  # byte-order marks and blanks before a part begins
# What zipfile and its decompressors raise on damaged or unsupported members (deflate64 and
# implode are NotImplementedError, bzip2 damage is OSError).
DAMAGED = (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, zlib.error,
           lzma.LZMAError)  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """How to read members: as parts of a ``package`` (Office, OpenDocument) or of a plain
    zip; ``past_depth`` when children would be nested deeper than the limit (then nothing is
    inflated); which members to skip (``unreadable``: local header offsets)."""

    limits: Limits
    package: bool
    past_depth: bool = False
    unreadable: frozenset[int] = frozenset()


def readable(info: zipfile.ZipInfo, limits: Limits) -> bool:
    """Whether a member may be inflated at all: not encrypted, not a declared ratio bomb."""
    return not info.flag_bits & 0x1 and not _ratio_bomb(info, limits)


def unpack(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], reading: Reading
) -> tuple[list[Finding], list[Child]]:
    """Findings about the members (aggregated) and the children to scan."""
    findings: list[Finding] = []
    children: list[Child] = []
    for info in infos:
        if (info.is_dir() and not info.file_size) or info.header_offset in reading.unreadable:
            continue
        for outcome in _member(archive, info, reading):
            if isinstance(outcome, Child):
                children.append(outcome)
            else:
                findings.append(outcome)
    return aggregate(findings), children


def _ratio_bomb(info: zipfile.ZipInfo, limits: Limits) -> bool:
    return info.file_size >= RATIO_FLOOR and info.file_size > limits.max_ratio * info.compress_size


def _member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, reading: Reading
) -> list[Finding | Child]:
    """The member as a child and findings about it (nothing for a package part that is what
    its name says)."""
    name, limits = info.filename, reading.limits
    if info.flag_bits & 0x1:
        return [finding(NAME, ENCRYPTED, "password-protected archive member", location=name)]
    if _ratio_bomb(info, limits):
        ratio = info.file_size / max(info.compress_size, 1)
        message = f"member unpacks {ratio:,.0f} times its packed size; not unpacked"
        return [finding(NAME, ARCHIVE_RATIO, message, location=name)]
    part = _part_start(name) if reading.package else None
    try:
        if reading.past_depth:
            return [found] if (found := _beyond_depth(archive, info, part, limits)) else []
        data, slack = _read(archive, info, part)
    except LimitExceeded:
        message = "archive member unpacks past its declared size"
        return [finding(NAME, ARCHIVE_EXPANSION, message, location=name)]
    except DAMAGED:
        message = "damaged archive member that could not be read"
        return [finding(NAME, CORRUPT, message, location=name)]
    outcomes: list[Finding | Child] = [] if data is None else [Child(where=name, data=data)]
    if slack:
        message = (
            f"{slack:,} bytes hidden after the end of the member's compressed data: a "
            f"streaming unzip tool reads them as the next entry"
        )
        outcomes.append(finding(NAME, AMBIGUOUS, message, location=name))
    return outcomes


def _part_start(name: str) -> bytes | None:
    """How an Office package's own structure begins (XML, relationships, the ODF mimetype
    marker); None for anything else, which is worth a scan of its own."""
    lower = name.lower()
    if lower.endswith((".xml", ".rels")):
        return b"<"
    return b"application/" if lower == "mimetype" else None


def _begins(head: bytes, part: bytes) -> bool:
    return head[:_HEAD].replace(b"\x00", b"").lstrip(_BLANKS).startswith(part)


def _beyond_depth(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, part: bytes | None, limits: Limits
) -> Finding | None:
    """ARCHIVE_DEPTH for a member that would be a child, known without inflating it (a part's
    first bytes at most)."""
    if part is not None:
        with archive.open(info) as member:
            if _begins(member.read(_HEAD), part):
                return None
    message = f"not unpacked: nested more than {limits.max_depth} levels deep"
    return finding(NAME, ARCHIVE_DEPTH, message, location=info.filename)


def _read(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, part: bytes | None
) -> tuple[bytes | None, int]:
    """The member's bytes (None for a ``part`` that begins as it should) and how many of its
    compressed bytes follow the end of its compressed stream; read in chunks and stopped one
    byte past the declared size (`LimitExceeded`; `BadZipFile` for other lies)."""
    probe = copy.copy(info)
    # zipfile silently stops at the declared size and checks the CRC of that prefix only; ask for
    # one byte more and check the CRC here, so a longer member shows itself.
    probe.file_size = info.file_size + 1
    probe.CRC = None  # type: ignore[assignment]  # zipfile skips its CRC check for None
    chunks: list[bytes] = []
    size = crc = 0
    keep = part is None
    with archive.open(probe) as member:
        while chunk := member.read(_CHUNK):
            if not size and part is not None:
                # A "part" that is not what its name says deserves a scan of its own.
                keep = not _begins(chunk, part)
            size += len(chunk)
            if size > info.file_size:
                raise LimitExceeded(ARCHIVE_EXPANSION, "member inflates past its declared size")
            crc = zlib.crc32(chunk, crc)
            if keep:
                chunks.append(chunk)
        slack = _slack(member)
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile("member does not match its directory entry")
    return (b"".join(chunks) if keep else None), slack


def _slack(member: IO[bytes]) -> int:
    """Compressed bytes of a fully read member that its decompressor never needed: what it
    was handed past the end of its stream, and what zipfile did not read. zipfile keeps both
    in private attributes (Python 3.11-3.13); a stream that stops early is otherwise silent."""
    decompressor = getattr(member, "_decompressor", None)
    if decompressor is None or not getattr(decompressor, "eof", False):
        return 0  # stored, or a stream that used everything (its end is checked by the CRC)
    unused = getattr(decompressor, "unused_data", b"")
    left = getattr(member, "_compress_left", 0)
    return len(unused) + left if isinstance(left, int) else len(unused)
