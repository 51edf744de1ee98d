"""Zip structure: the archive as every unzip tool could see it, and where two tools would disagree.

Reads the end record (zip64 too), the central directory, and each member's local header, the way
Python's zipfile picks them (the last end record in the final 64 KiB; offsets re-based when
something is prepended), then walks the file from front to back as a streaming reader would.
Nothing is decompressed: this is structure only, linear in the file size plus a sort of the
members. Hand-written with ``struct`` because zipfile hides what is needed here: it re-bases
prepended archives silently, parses the whole directory before a count can be checked, reads
local headers only on extraction, and truncates names at NUL.

Ambiguous (two readers could extract different content): duplicate names (exact, or equal for
Windows and Office: ignoring case, slash direction, %-escapes, Unicode normalisation and the
dots and blanks Windows drops from the end of a name; a member's Unicode path field, which
7-Zip, Info-ZIP and WinRAR extract under, counts as a name too); overlapping members; local
entries the directory leaves out; unexplained bytes between members, before the archive or after
it; a local header that disagrees with the directory; a second end record; a Unicode path field
that renames a plain ASCII name (writers add one only to spell a name the legacy code page
cannot, so it never names another file). Also reported: unsafe names (``..``, absolute paths,
backslashes, control characters), declared expansion and member count over the caller's limits,
and damage (CORRUPT).

Not problems: data descriptors (with or without their signature, 32- or 64-bit sizes; the
local header's sizes are compared whenever its own flag does not announce one, as a streaming
reader then takes them, even if the directory's flag does), a declared archive comment,
directory entries, zip64 records, empty archives. Limits: one disk only; a member's
compressed bytes are never checked against their CRC (that needs inflating); stored members'
contents are not searched (they may legitimately hold other zips).

``find_embedded_zip`` finds zips inside other files (polyglots) by their end records and by
runs of plausible local entries; ``zip_at_end`` the one unzip opens, by an end record in the
last 64 KiB. An end record counts when its directory's size and offset lead to a directory
entry that points at a local header, whatever its member counts and disk numbers say (zipfile
reads neither, 7-Zip reads the directory by its size, Info-ZIP takes counts that disagree and
disks that are not 0: red team 104), and a local entry whatever version it claims, with or
without a name (no reader checks either). The signatures the directory check asks for keep
random bytes out.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import unquote

__all__ = ["ProblemKind", "ZipLayout", "ZipMember", "ZipProblem", "find_embedded_zip",
           "inspect_zip", "zip_at_end"]  # fmt: skip


class ProblemKind(StrEnum):
    """What is wrong. All but UNSAFE_NAME, EXPANSION, MEMBERS and CORRUPT mean that two unzip
    tools could see different content."""

    DUPLICATE_NAME = "duplicate-name"
    OVERLAP = "overlap"
    ORPHAN_LOCAL = "orphan-local"
    GAP_DATA = "gap-data"
    UNSAFE_NAME = "unsafe-name"
    HEADER_MISMATCH = "header-mismatch"
    PREPENDED_DATA = "prepended-data"
    TRAILING_DATA = "trailing-data"
    MULTIPLE_END_RECORDS = "multiple-end-records"
    EXPANSION = "expansion"
    MEMBERS = "members"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class ZipProblem:
    kind: ProblemKind
    message: str  # for a support lead: what is wrong, in words
    location: str  # a member name, or "offset N"


@dataclass(frozen=True)
class ZipMember:
    """One central directory entry; offsets are positions in the bytes given."""

    name: str  # as decoded (UTF-8 when flagged, else cp437), NUL and all
    header_offset: int
    data: tuple[int, int] | None  # [start, end) of the stored bytes; None: no local header
    compressed_size: int
    uncompressed_size: int
    method: int
    flags: int
    crc: int
    # the name in the Unicode path extra field (0x7075), when it is valid for this entry
    unicode_name: str | None = None


@dataclass(frozen=True)
class ZipLayout:
    members: list[ZipMember]
    problems: list[ZipProblem]


_K = ProblemKind
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_LOCATOR_SIG, _END64_SIG, _DESCRIPTOR_SIG = b"PK\x06\x07", b"PK\x06\x06", b"PK\x07\x08"
_END = struct.Struct("<4s4H2LH")
_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_COMMENT_MAX = 0xFFFF
_ENCRYPTED, _DESCRIPTOR, _UTF8 = 0x1, 0x8, 0x800
_FULL32 = 0xFFFFFFFF
_PER_KIND = 10
# The methods a plausible local header names; zipfile refuses directory entries that need a
# version above 6.3.
_METHODS = frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 18, 19, 20, 93, 94, 95, 96, 97,
                      98, 99})  # fmt: skip
_MAX_VERSION, _MAX_NAME = 63, 4096
_EXTRA_PEEK = 256
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_NEXT_RECORD = re.compile(rb"PK(?:\x03\x04|\x01\x02|\x05\x06|\x07\x08)")
_UNSAFE = (
    (re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)"), "climbs out of the folder it is unpacked into"),
    (re.compile(r"^(?:[/\\]|[A-Za-z]:)"), "is an absolute path"),
    (re.compile(r"\\"), "uses backslashes, which Windows tools read as folders"),
    (re.compile(r"[\x00-\x1f\x7f]"), "contains a control character"),
    (re.compile(r"^$"), "is empty"),
)


_Regions = list[tuple[int, int, str]]  # [start, end) and a name or a description


class _LocalHeader(NamedTuple):
    signature: bytes
    version: int
    flags: int
    method: int
    time: int
    date: int
    crc: int
    compressed: int
    size: int
    name_length: int
    extra_length: int


class _CentralHeader(NamedTuple):
    signature: bytes
    made_by: int
    version: int
    flags: int
    method: int
    time: int
    date: int
    crc: int
    compressed: int
    size: int
    name_length: int
    extra_length: int
    comment_length: int
    disk: int
    internal: int
    external: int
    offset: int


class _EndFields(NamedTuple):
    at: int  # the classic end record
    comment_end: int  # just past its comment, as declared
    stop: int  # where the end structures begin: the zip64 record, else the end record
    entries: int
    size: int
    offset: int
    locator: int | None  # where the zip64 locator puts the zip64 record, archive-relative


class _Stop(Exception):
    """Analysis cannot go on; the problem says why."""

    def __init__(self, kind: ProblemKind, message: str, location: str) -> None:
        super().__init__(message)
        self.problem = ZipProblem(kind, message, location)


class _Problems:
    """Problems in the order found, at most ``_PER_KIND`` of each kind: a hostile file can repeat
    one trick a million times, and the first few say enough (scans stop once a kind is full)."""

    def __init__(self) -> None:
        self._found: list[ZipProblem] = []
        self._seen: Counter[ProblemKind] = Counter()

    def full(self, kind: ProblemKind) -> bool:
        return self._seen[kind] >= _PER_KIND

    def add(self, kind: ProblemKind, message: str, location: str) -> None:
        self._seen[kind] += 1
        if self._seen[kind] <= _PER_KIND:
            self._found.append(ZipProblem(kind, message, location))

    def overflow(self, kind: ProblemKind) -> None:
        """Note that more of ``kind`` were found than are kept."""
        self._seen[kind] = max(self._seen[kind], _PER_KIND + 1)

    def result(self) -> list[ZipProblem]:
        more = [
            ZipProblem(kind, "more problems like these were left out", "offset 0")
            for kind, count in self._seen.items()
            if count > _PER_KIND
        ]
        return self._found + more


def _at(offset: int) -> str:
    return f"offset {offset}"


def _show(name: str) -> str:
    return name if name.isprintable() and name else repr(name)


# -- the end record ----------------------------------------------------------------------------
def _one_disk(disks: tuple[int, int], here: int, entries: int, at: int) -> None:
    if any(disks):
        raise _Stop(_K.CORRUPT, "archive split across several disks", _at(at))
    if here != entries:  # they are equal on one disk; readers take one or the other
        raise _Stop(_K.CORRUPT, "the end record's two member counts disagree", _at(at))


def _end_fields(data: bytes, at: int) -> _EndFields:
    """The end record at ``at``, completed by the zip64 end record when a locator precedes it."""
    if at + _END.size > len(data):
        raise _Stop(_K.CORRUPT, "the end-of-archive record is cut short", _at(at))
    _, disk, first_disk, here, entries, size, offset, comment = _END.unpack_from(data, at)
    _one_disk((disk, first_disk), here, entries, at)
    fields = _EndFields(at, at + _END.size + comment, at, entries, size, offset, None)
    locator = at - _LOCATOR.size
    if locator >= 0 and data[locator : locator + 4] == _LOCATOR_SIG:
        return _zip64_fields(data, fields)
    return fields


def _zip64_fields(data: bytes, classic: _EndFields) -> _EndFields:
    _, disk, where, disks = _LOCATOR.unpack_from(data, classic.at - _LOCATOR.size)
    # zipfile expects the zip64 record right before its locator (no "extensible data").
    record = classic.at - _LOCATOR.size - _END64.size
    if disk or disks > 1:
        raise _Stop(_K.CORRUPT, "archive split across several disks", _at(classic.at))
    if record < 0 or data[record : record + 4] != _END64_SIG:
        message = "the zip64 end record is missing or not where its locator says"
        raise _Stop(_K.CORRUPT, message, _at(classic.at))
    *_, disk, first_disk, here, entries, size, offset = _END64.unpack_from(data, record)
    _one_disk((disk, first_disk), here, entries, record)
    # Tools that ignore zip64 read the classic fields: they must be saturated or agree.
    for old, new, full in ((classic.entries, entries, 0xFFFF), (classic.size, size, _FULL32),
                           (classic.offset, offset, _FULL32)):  # fmt: skip
        if old not in (new, full):
            message = "the zip64 and the classic end records describe different directories"
            raise _Stop(_K.MULTIPLE_END_RECORDS, message, _at(record))
    return classic._replace(stop=record, entries=entries, size=size, offset=offset, locator=where)


def _last_end(data: bytes) -> _EndFields:
    """The end record zipfile reads: the last signature in the final 64 KiB (comment space)."""
    at = data.rfind(_END_SIG, max(0, len(data) - _END.size - _COMMENT_MAX))
    if at < 0:
        raise _Stop(_K.CORRUPT, "no end-of-archive record: not a readable zip", _at(0))
    fields = _end_fields(data, at)
    if fields.comment_end > len(data):
        message = "the archive comment runs past the end of the file"
        raise _Stop(_K.CORRUPT, message, _at(at))
    return fields


# -- the central directory ---------------------------------------------------------------------
def _decode(raw: bytes, flags: int, errors: str = "strict") -> str:
    """A name as zipfile decodes it: UTF-8 when flagged, else cp437."""
    return raw.decode("utf-8", errors) if flags & _UTF8 else raw.decode("cp437")


def _extra_field(extra: bytes, tag: int) -> bytes | None:
    """The payload of the first extra field with ``tag``; ValueError if the fields don't chain."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + length > len(extra):
            raise ValueError("extra field runs past its end")
        if kind == tag:
            return extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
    return None


def _unicode_name(extra: bytes, raw: bytes) -> str | None:
    """The name in an Info-ZIP Unicode path field (0x7075), as the tools that honour it read
    it: version 1, the CRC-32 of the raw name matching (else the field is stale and ignored),
    valid UTF-8; None otherwise."""
    try:
        payload = _extra_field(extra, 0x7075)
    except ValueError:
        return None
    if payload is None or len(payload) < 5 or payload[0] != 1:
        return None
    if int.from_bytes(payload[1:5], "little") != zlib.crc32(raw):
        return None
    try:
        return payload[5:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _zip64(extra: bytes, values: tuple[int, ...]) -> tuple[int, ...]:
    """``values`` with each one saturated at 0xFFFFFFFF taken, in order, from the zip64 extra
    field (zipfile's rule); ValueError when the field is damaged or too short."""
    payload, pos, out = _extra_field(extra, 0x0001) or b"", 0, []
    for value in values:
        if value == _FULL32:
            if pos + 8 > len(payload):
                raise ValueError("zip64 field too short")
            value = int.from_bytes(payload[pos : pos + 8], "little")
            pos += 8
        out.append(value)
    return tuple(out)


def _entry(data: bytes, pos: int, stop: int, base: int) -> tuple[ZipMember, int]:
    """The directory entry at ``pos`` and where the next one begins."""
    if pos + _CENTRAL.size > stop or data[pos : pos + 4] != _CENTRAL_SIG:
        raise _Stop(_K.CORRUPT, "damaged central directory", _at(pos))
    head = _CentralHeader._make(_CENTRAL.unpack_from(data, pos))
    name_end = pos + _CENTRAL.size + head.name_length
    after = name_end + head.extra_length + head.comment_length
    if after > stop:
        raise _Stop(_K.CORRUPT, "damaged central directory", _at(pos))
    if head.version & 0xFF > _MAX_VERSION:  # zipfile refuses the archive; other tools may not
        version = f"{(head.version & 0xFF) / 10:.1f}"
        raise _Stop(
            _K.CORRUPT, f"a member needs zip version {version}, unknown to readers", _at(pos)
        )
    try:
        name = _decode(data[pos + _CENTRAL.size : name_end], head.flags)
    except UnicodeDecodeError:  # zipfile cannot open the archive at all
        raise _Stop(_K.CORRUPT, "a member name is not valid UTF-8", _at(pos)) from None
    try:
        size, packed, offset = _zip64(
            data[name_end : name_end + head.extra_length],
            (head.size, head.compressed, head.offset),
        )
    except ValueError:
        raise _Stop(_K.CORRUPT, f"damaged extra field of {_show(name)}", name) from None
    raw, extra = data[pos + _CENTRAL.size : name_end], data[name_end : name_end + head.extra_length]
    member = ZipMember(
        name, base + offset, None, packed, size, head.method, head.flags, head.crc,
        _unicode_name(extra, raw),
    )  # fmt: skip
    return member, after


def _directory(data: bytes, fields: _EndFields, base: int, limit: int) -> list[ZipMember]:
    """Every entry, read as zipfile does (until the declared size is used up)."""
    pos, stop = fields.stop - fields.size, fields.stop
    members: list[ZipMember] = []
    while pos < stop:
        if len(members) >= limit:
            message = f"archive holds more than {limit:,} members"
            raise _Stop(_K.MEMBERS, message, _at(fields.stop - fields.size))
        member, pos = _entry(data, pos, stop, base)
        members.append(member)
    # Info-ZIP trusts the count, zipfile the size; writers wrap the 16-bit count past 65,535.
    if fields.entries not in (len(members), len(members) & 0xFFFF) and not (
        fields.entries == 0xFFFF and len(members) > 0xFFFF
    ):
        message = (
            f"the end record announces {fields.entries:,} members but the central directory "
            f"lists {len(members):,}: unzip tools may list different members"
        )
        raise _Stop(_K.CORRUPT, message, _at(fields.at))
    return members


# -- local headers -----------------------------------------------------------------------------
def _local_header(data: bytes, at: int) -> _LocalHeader | None:
    if at < 0 or at + _LOCAL.size > len(data) or data[at : at + 4] != _LOCAL_SIG:
        return None
    return _LocalHeader._make(_LOCAL.unpack_from(data, at))


def _disagreements(data: bytes, member: ZipMember, local: _LocalHeader) -> list[str]:
    at = member.header_offset + _LOCAL.size
    raw = data[at : at + local.name_length]
    name = _decode(raw, local.flags, "replace")
    extra = data[at + local.name_length : at + local.name_length + local.extra_length]
    found = [
        what
        for what, differs in (
            ("name", name != member.name),
            ("Unicode name", _unicode_name(extra, raw) not in (None, member.unicode_name)),
            ("compression method", local.method != member.method),
            ("encryption", bool((local.flags ^ member.flags) & _ENCRYPTED)),
        )
        if differs
    ]
    if local.flags & _DESCRIPTOR:
        return found  # sizes and CRC follow the data; the local header holds zeros
    # Without the flag in its local header, a member's sizes there are what a streaming reader
    # goes by (Java's ZipInputStream), whatever the directory's flag says: they must agree.
    try:
        size, packed = _zip64(extra, (local.size, local.compressed))
    except ValueError:
        size, packed = local.size, local.compressed
    for what, mine, theirs in (("CRC", local.crc, member.crc),
                               ("packed size", packed, member.compressed_size),
                               ("size", size, member.uncompressed_size)):  # fmt: skip
        if mine != theirs:
            found.append(what)
    return found


def _descriptor(data: bytes, at: int, member: ZipMember) -> int:
    """Length of the data descriptor at ``at`` repeating the member's CRC and sizes (signature
    optional; 64-bit sizes first, as they are the longer match), else 0."""
    expected = (member.crc, member.compressed_size, member.uncompressed_size)
    for signature in (_DESCRIPTOR_SIG, b""):
        if data[at : at + len(signature)] != signature:
            continue
        start = at + len(signature)
        for layout in ("<LQQ", "<LLL"):
            length = struct.calcsize(layout)
            if start + length <= len(data) and struct.unpack_from(layout, data, start) == expected:
                return len(signature) + length
    return 0


def _place(
    data: bytes, member: ZipMember, problems: _Problems
) -> tuple[ZipMember, tuple[int, int, str] | None]:
    """The member with its data placed by its local header, and the span it covers (header to
    data descriptor); no span when the local header cannot be read."""
    name, at = member.name, member.header_offset
    local = _local_header(data, at)
    if local is None:
        problems.add(_K.CORRUPT, f"{_show(name)} has no local header at offset {at}", name)
        return member, None
    start = at + _LOCAL.size + local.name_length + local.extra_length
    end = start + member.compressed_size
    if end > len(data):
        problems.add(_K.CORRUPT, f"{_show(name)} runs past the end of the file", name)
        return member, None
    if wrong := _disagreements(data, member, local):
        message = (
            f"the local header of {_show(name)} disagrees with the central directory about its "
            f"{', '.join(wrong)}: unzip tools may extract different content"
        )
        problems.add(_K.HEADER_MISMATCH, message, name)
    return replace(member, data=(start, end)), (at, end + _descriptor(data, end, member), name)


# -- names and totals --------------------------------------------------------------------------
_TRAILING = re.compile(r"[. ]+(?=/|$)")


def _same_file(name: str) -> str:
    """The key under which Windows and Office (OPC part names) see one file: Windows also
    drops the dots and blanks that end a name or a folder ("document.xml." is document.xml)."""
    folded = unicodedata.normalize("NFC", unquote(name).replace("\\", "/")).casefold()
    return _TRAILING.sub("", folded)


def _names(member: ZipMember) -> list[str]:
    """The names unzip tools extract ``member`` under: its own, and its Unicode path name."""
    other = member.unicode_name
    return [member.name] if other is None or other == member.name else [member.name, other]


def _check_renamed(member: ZipMember, problems: _Problems) -> None:
    """A Unicode path field that names another file than a plain ASCII name."""
    other = member.unicode_name
    if other is None or not member.name.isascii():
        return
    if _same_file(other) != _same_file(member.name):
        message = (
            f"member {_show(member.name)} carries a second name, {_show(other)}, that 7-Zip "
            f"and unzip extract it under: tools see different files"
        )
        problems.add(_K.HEADER_MISMATCH, message, member.name)


def _check_names(members: list[ZipMember], problems: _Problems) -> None:
    exact: set[str] = set()
    loose: dict[str, str] = {}
    for member in members:
        _check_renamed(member, problems)
        for name in _names(member):
            _check_name(name, exact, loose, problems)


def _check_name(name: str, exact: set[str], loose: dict[str, str], problems: _Problems) -> None:
    for pattern, why in _UNSAFE:
        if pattern.search(name):
            problems.add(_K.UNSAFE_NAME, f"member name {name!r} {why}", name)
    if name in exact:
        problems.add(_K.DUPLICATE_NAME, f"two members are both named {_show(name)}", name)
        return
    exact.add(name)
    other = loose.setdefault(_same_file(name), name)
    if other != name:
        message = (
            f"members {_show(other)} and {_show(name)} are one file to Windows and Office "
            f"(they differ only in letter case, slashes, escapes or trailing dots)"
        )
        problems.add(_K.DUPLICATE_NAME, message, name)


def _check_totals(members: list[ZipMember], limit: int, where: int, problems: _Problems) -> None:
    declared = sum(member.uncompressed_size for member in members)
    if declared > limit:
        message = f"archive declares {declared:,} unpacked bytes, over the {limit:,} byte limit"
        problems.add(_K.EXPANSION, message, _at(where))


# -- the walk from front to back ---------------------------------------------------------------
def _plausible_local(data: bytes, at: int) -> _LocalHeader | None:
    """A local header at ``at`` that a reader going front to back takes: a known method, and
    a name of printable bytes (none at all included: 7-Zip then extracts the entry under the
    archive's own name) that fits. The version it claims is not looked at: no reader checks
    it there (7-Zip lists entries that claim 25.5, red team 104), and the method and name
    already keep random bytes out. The name scan stops at the first control byte, and every
    signature holds two (\\x03\\x04), so scans from many candidates stay linear in total."""
    local = _local_header(data, at)
    if (
        local is None
        or local.method not in _METHODS
        or local.name_length > _MAX_NAME
        or at + _LOCAL.size + local.name_length + local.extra_length > len(data)
    ):
        return None
    name_at = at + _LOCAL.size
    if _CONTROL.search(data, name_at, name_at + local.name_length):
        return None
    return local


def _check_region(data: bytes, start: int, end: int, problems: _Problems) -> None:
    """Look for hidden local entries in bytes no listed member covers."""
    pos = start
    while (at := data.find(_LOCAL_SIG, pos, end)) >= 0:
        pos = at + 4
        if (local := _plausible_local(data, at)) is None:
            continue
        if problems.full(_K.ORPHAN_LOCAL):
            problems.overflow(_K.ORPHAN_LOCAL)
            return
        raw = data[at + _LOCAL.size : at + _LOCAL.size + local.name_length]
        name = _decode(raw, local.flags, "replace")
        message = (
            f"a member named {_show(name)} at offset {at} is missing from the central "
            f"directory: tools that read the file front to back see it, others do not"
        )
        problems.add(_K.ORPHAN_LOCAL, message, _at(at))


def _check_ends(data: bytes, start: int, end: int, problems: _Problems) -> None:
    """Other end records in bytes that are neither member data nor the chosen end record."""
    pos = start
    while (at := data.find(_END_SIG, pos, end)) >= 0:
        pos = at + 4
        if at + _END.size > len(data):
            continue
        if problems.full(_K.MULTIPLE_END_RECORDS):
            problems.overflow(_K.MULTIPLE_END_RECORDS)
            return
        message = (
            f"a second end-of-archive record at offset {at}: unzip tools may read different "
            f"central directories"
        )
        problems.add(_K.MULTIPLE_END_RECORDS, message, _at(at))


def _gaps(spans: _Regions, directory: int, problems: _Problems) -> _Regions:
    """Overlaps between members (sorted spans before the directory), and the unexplained
    regions (start, end, where) between them and up to the central directory."""
    regions: _Regions = []
    cursor, owner = spans[0][0] if spans else directory, ""
    for start, end, name in spans:
        if start < cursor:
            message = (
                f"members {_show(owner)} and {_show(name)} share bytes at offset {start}: "
                f"one member's data hides another"
            )
            problems.add(_K.OVERLAP, message, name)
        elif start > cursor:
            regions.append((cursor, start, f"between {_show(owner)} and {_show(name)}"))
        if end > cursor:
            cursor, owner = end, name
    if cursor < directory:
        regions.append((cursor, directory, "between the last member and the central directory"))
    return regions


_BLANK_TAIL = 16  # blank bytes after the end record tolerated


def _check_edges(data: bytes, first: int, fields: _EndFields, problems: _Problems) -> None:
    if first > 0:
        message = (
            f"{first:,} bytes before the archive begins (a self-extracting program, or a zip "
            f"appended to another file)"
        )
        problems.add(_K.PREPENDED_DATA, message, _at(0))
    tail = data[fields.comment_end :]
    # a line break or two after the end record (a file that went through a text transfer) is
    # read alike by every reader, which finds the end record searching back: blanks hide nothing
    if tail and not (len(tail) <= _BLANK_TAIL and not tail.strip(b"\r\n\t \0")):
        message = f"{len(tail):,} bytes after the end of the archive"
        problems.add(_K.TRAILING_DATA, message, _at(fields.comment_end))


def _check_layout(data: bytes, fields: _EndFields, spans: _Regions, problems: _Problems) -> None:
    """Overlaps, gaps, prepended and trailing data; hidden entries and end records in every
    byte that no listed member covers."""
    directory = fields.stop - fields.size
    inside = sorted(span for span in spans if span[1] <= directory)
    for start, _, name in (span for span in spans if span[1] > directory):
        where = "lies in or after" if start >= directory else "runs into"
        problems.add(_K.OVERLAP, f"{_show(name)} {where} the central directory", name)
    first = inside[0][0] if inside else directory
    _check_edges(data, first, fields, problems)
    gaps = _gaps(inside, directory, problems)
    for start, end, where in gaps:
        problems.add(_K.GAP_DATA, f"{end - start:,} bytes of unexplained data {where}", _at(start))
    # The comment and anything after it are searched too; the directory only for end records.
    uncovered = [(0, first), *((start, end) for start, end, _ in gaps)]
    for start, end in [*uncovered, (fields.at + _END.size, len(data))]:
        _check_region(data, start, end, problems)
        _check_ends(data, start, end, problems)
    _check_ends(data, directory, fields.stop, problems)


def _open(data: bytes, max_members: int) -> tuple[_EndFields, list[ZipMember]]:
    """The end record and the directory it points to, the count checked before reading it."""
    fields = _last_end(data)
    if fields.entries > max_members:
        message = f"archive holds {fields.entries:,} members, more than {max_members:,}"
        raise _Stop(_K.MEMBERS, message, _at(fields.at))
    base = fields.stop - fields.size - fields.offset
    if base < 0:
        message = "the central directory is not where the end record says"
        raise _Stop(_K.CORRUPT, message, _at(fields.at))
    if fields.locator is not None and fields.locator + base != fields.stop:
        message = "the zip64 end record is missing or not where its locator says"
        raise _Stop(_K.CORRUPT, message, _at(fields.at))
    return fields, _directory(data, fields, base, max_members)


def inspect_zip(data: bytes, *, max_members: int, max_expanded: int) -> ZipLayout:
    """The zip in ``data`` as its central directory lists it, with every place where unzip tools
    could disagree (see the module docstring). The member count announced by the end record is
    checked against ``max_members`` before the directory is read; declared unpacked sizes are
    summed against ``max_expanded``. Never decompresses anything."""
    problems = _Problems()
    try:
        fields, listed = _open(data, max_members)
    except _Stop as stop:
        return ZipLayout([], [stop.problem])
    members: list[ZipMember] = []
    spans: _Regions = []
    for member in listed:
        placed, span = _place(data, member, problems)
        members.append(placed)
        spans += [span] if span else []
    _check_names(members, problems)
    _check_totals(members, max_expanded, fields.stop - fields.size, problems)
    _check_layout(data, fields, spans, problems)
    return ZipLayout(members, problems.result())


# -- zips inside other files -------------------------------------------------------------------
def _first_local(data: bytes, directory: int, stop: int, base: int) -> int | None:
    """Where the first directory entry at ``directory`` puts its local header. Only the first
    ``_EXTRA_PEEK`` bytes of its extra field are read: many end records may point at one
    entry, and each must cost little."""
    if directory + _CENTRAL.size > stop or data[directory : directory + 4] != _CENTRAL_SIG:
        return None
    head = _CentralHeader._make(_CENTRAL.unpack_from(data, directory))
    at = directory + _CENTRAL.size + head.name_length
    extra = data[at : at + min(head.extra_length, _EXTRA_PEEK)]
    try:
        _, _, offset = _zip64(extra, (head.size, head.compressed, head.offset))
    except ValueError:
        return None
    return base + offset


def _embedded_classic(data: bytes, at: int) -> _EndFields | None:
    """The classic end record at ``at``, whatever its disk numbers and member counts say
    (zipfile reads the directory by its size and offset and never looks at them; 7-Zip reads
    it by its size; Info-ZIP takes two counts that disagree and disks that are not 0), else
    None when it is cut short."""
    if at + _END.size > len(data):
        return None
    *_, entries, size, offset, comment = _END.unpack_from(data, at)
    return _EndFields(at, at + _END.size + comment, at, entries, size, offset, None)


def _zip64_records(data: bytes) -> dict[int, int]:
    """Every zip64 end record in ``data`` by where it ends (its start plus 12 plus its declared
    size: the record may carry extensible data, APPNOTE 4.3.14), mapped to where it starts. One
    pass, so that each locator then costs one look-up however many records a file holds."""
    found: dict[int, int] = {}
    pos = 0
    while (at := data.find(_END64_SIG, pos)) >= 0:
        pos = at + 4
        if at + _END64.size <= len(data):
            found.setdefault(at + 12 + int.from_bytes(data[at + 4 : at + 12], "little"), at)
    return found


def _embedded_zip64(
    data: bytes, classic: _EndFields, records: dict[int, int]
) -> list[tuple[_EndFields, int]]:
    """The zip64 end records the locator before the end record at ``classic.at`` leads to, as
    7-Zip and Info-ZIP find them: the record that ends at the locator (whatever extensible
    data it carries), or the one at the locator's offset from the start of ``data``; each with
    the archive base that offset gives (the record's position minus it)."""
    locator = classic.at - _LOCATOR.size
    if locator < 0 or data[locator : locator + 4] != _LOCATOR_SIG:
        return []
    _, _, where, _ = _LOCATOR.unpack_from(data, locator)
    candidates = {records.get(locator), where if data[where : where + 4] == _END64_SIG else None}
    found = []
    for record in sorted(r for r in candidates if r is not None and r + _END64.size <= locator):
        *_, entries, size, offset = _END64.unpack_from(data, record)  # counts as classic ones
        fields = classic._replace(stop=record, entries=entries, size=size, offset=offset)
        found.append((fields, record - where))
    return found


def _span_from(data: bytes, fields: _EndFields, bases: tuple[int, ...]) -> tuple[int, int] | None:
    """The archive the end fields describe, its offsets counted from one of ``bases``: where
    its directory begins with an entry that puts a local header where it says. The count is
    not looked at: a directory of some size lists members whatever the count (zipfile and
    7-Zip read it by its size), and one of no size (an empty archive) fails the test."""
    for base in bases:
        directory = base + fields.offset
        if base < 0 or directory + fields.size > fields.stop:
            continue
        first = _first_local(data, directory, fields.stop, base)
        if first is not None and data[first : first + 4] == _LOCAL_SIG:
            # Offsets from the file's start (base 0): the archive begins at its first entry.
            return base or first, min(fields.comment_end, len(data))
    return None


def _archive_span(data: bytes, at: int, records: dict[int, int]) -> tuple[int, int] | None:
    """The archive whose end record is at ``at``, found as unzip and 7-Zip find it: through the
    zip64 end record its locator leads to (`_embedded_zip64`), else through the classic record;
    its offsets counted from the archive's own start (the directory just before the end
    structures, or the base a zip64 locator gives), else from the start of ``data``. Only
    the directory is checked, up to its first entry's local header: a version, a name or a
    method no zip tool wrote, counts that disagree or disks that are not 0 are no reason to
    miss an archive the tools open (red team 104). An empty archive carries nothing and is
    left out."""
    if not _may_lead(data, at):
        return None
    classic = _embedded_classic(data, at)
    if classic is None:
        return None
    for fields, base in _embedded_zip64(data, classic, records):
        if span := _span_from(data, fields, (base, fields.stop - fields.size - fields.offset, 0)):
            return span
    return _span_from(data, classic, (classic.stop - classic.size - classic.offset, 0))


def _may_lead(data: bytes, at: int) -> bool:
    """The cheap test first (floods of end records are common): whether the end record at
    ``at`` has a zip64 locator before it, or a directory entry where its size or its offset
    (from the start of ``data``) put its directory."""
    if at + _END.size > len(data):
        return False
    if at >= _LOCATOR.size and data.startswith(_LOCATOR_SIG, at - _LOCATOR.size):
        return True
    size, offset = struct.unpack_from("<2L", data, at + 12)
    directory = at - size
    return (directory >= 0 and data.startswith(_CENTRAL_SIG, directory)) or data.startswith(
        _CENTRAL_SIG, offset
    )


def _entry_end(data: bytes, at: int, local: _LocalHeader) -> int:
    """Where a local entry's data ends: its declared size, else (sizes in a data descriptor)
    the next zip record."""
    start = at + _LOCAL.size + local.name_length + local.extra_length
    if not local.flags & _DESCRIPTOR and local.compressed != _FULL32:
        return min(start + local.compressed, len(data))
    found = _NEXT_RECORD.search(data, start)
    if found is None:
        return len(data)
    if found.group() != _DESCRIPTOR_SIG:
        return found.start()
    wide = data[found.start() + 24 : found.start() + 28] == _LOCAL_SIG  # 64-bit sizes
    return min(found.start() + (24 if wide else 16), len(data))


def _local_run(data: bytes, at: int) -> int | None:
    """End of the chain of plausible local entries starting at ``at`` (None: not one)."""
    end = None
    while at < len(data) and (local := _plausible_local(data, at)) is not None:
        at = end = max(_entry_end(data, at, local), at + _LOCAL.size)
    return end


def find_embedded_zip(data: bytes) -> list[tuple[int, int]]:
    """[start, end) of every zip archive inside ``data`` (appended to an image, inside a PDF,
    nested in a stored member), found as unzip and 7-Zip find them: by end records whose
    directory checks out (a zip64 record through its locator, whatever extensible data it
    carries; offsets from the archive's start or from the file's; `_archive_span`), and of
    runs of plausible local entries outside those, with or without an end record. Linear in
    the size of ``data``."""
    found: set[tuple[int, int]] = set()
    records = _zip64_records(data) if _LOCATOR_SIG in data else {}
    pos = 0
    while (at := data.find(_END_SIG, pos)) >= 0:
        pos = at + 4
        if span := _archive_span(data, at, records):
            found.add(span)
    covered = [*sorted(found), (len(data), len(data))]
    pos = 0
    for start, end in covered:
        while (at := data.find(_LOCAL_SIG, pos, start)) >= 0:
            run = _local_run(data, at)
            pos = at + 4 if run is None else run
            if run is not None:
                found.add((at, run))
        pos = max(pos, end)
    return sorted(found)


def zip_at_end(data: bytes) -> tuple[int, int] | None:
    """[start, end) of the archive unzip opens in ``data``: the one whose end record lies in
    the final 64 KiB (where readers search for it, comment room), the last there that checks
    out as in `find_embedded_zip` (a zip64 record through its locator included). Only the end
    records are tried, so compressed media before them cannot match by chance."""
    floor = max(0, len(data) - _END.size - _COMMENT_MAX)
    zip64 = _LOCATOR_SIG in data[max(0, floor - _LOCATOR.size) :]
    records = _zip64_records(data) if zip64 else {}
    end = len(data)
    while (at := data.rfind(_END_SIG, floor, end)) >= 0:
        if span := _archive_span(data, at, records):
            return span
        end = at + len(_END_SIG) - 1
    return None
