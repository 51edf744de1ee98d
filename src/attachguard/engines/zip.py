"""Zip containers (plain zip, Office Open XML, OpenDocument): unpacked within the policy's
limits, with the members worth a scan of their own handed back to the pipeline.

Limits hold before anything is inflated past them: the member count (``limits.max_members``,
from the end record, then from the central directory), the declared unpacked sizes against
``limits.max_expanded_bytes`` and each large member's declared ratio against
``limits.max_ratio``. Declared sizes can lie, so every member is read in chunks and never past
one byte over its declared size; a member larger or smaller than declared, or with a bad CRC, is
reported. Encrypted members are ENCRYPTED. Nested archives are returned as children, not opened
here (the pipeline owns depth). Member names are labels only: nothing touches the filesystem.

Children: every member of a plain zip; of an Office package, every member except its XML and
.rels parts (that do look like XML). An OOXML label needs ``[Content_Types].xml`` and the main
part for its kind, else the file is a zip posing as an Office document (TYPE_MISMATCH).
"""

from __future__ import annotations

import copy
import lzma
import platform
import zipfile
import zlib
from io import BytesIO
from typing import TYPE_CHECKING

from attachguard.codes import (
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    ARCHIVE_RATIO,
    CORRUPT,
    ENCRYPTED,
    TYPE_MISMATCH,
)
from attachguard.engines.base import Child, Context, EngineSpec, Item, Options, Result, finding
from attachguard.errors import LimitExceeded
from attachguard.report import Finding

if TYPE_CHECKING:
    from attachguard.policy import Limits

NAME = "zip"
_CHUNK = 1 << 16
# A member smaller than this cannot be a bomb (the byte budget bounds many small ones), while
# small, repetitive XML parts of honest documents easily pass 100:1.
_RATIO_FLOOR = 1_000_000
_MAIN_PART = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
    "xlsb": "xl/workbook.bin",
}
_OFFICE = {*_MAIN_PART, "odt", "ods", "odp"}
_BLANKS = b"\xef\xbb\xbf\xff\xfe \t\r\n"  # byte-order marks and blanks before a part begins
# What zipfile and its decompressors raise on damaged or unsupported members (deflate64 and
# implode are NotImplementedError, bzip2 damage is OSError).
_DAMAGED = (
    zipfile.BadZipFile,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    zlib.error,
    lzma.LZMAError,
)


def _declared_count(data: bytes) -> int | None:
    """Entries the end-of-central-directory record announces (None for zip64 or no record)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or len(data) < at + 22:
        return None
    count = int.from_bytes(data[at + 10 : at + 12], "little")
    return None if count == 0xFFFF else count


def _too_many(count: int, limits: Limits) -> Result:
    message = f"archive holds {count:,} members, more than {limits.max_members:,}; not unpacked"
    return Result([finding(NAME, ARCHIVE_MEMBERS, message)], facts={"members": count})


def _part_start(name: str) -> bytes | None:
    """How an Office package's own structure begins (XML, relationships, the ODF mimetype
    marker); None for anything else, which is worth a scan of its own."""
    lower = name.lower()
    if lower.endswith((".xml", ".rels")):
        return b"<"
    return b"application/" if lower == "mimetype" else None


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, part: bytes | None) -> bytes | None:
    """The member's bytes, or None for a ``part`` that begins as it should; read in chunks and
    stopped one byte past the declared size (`LimitExceeded`; `BadZipFile` for other lies)."""
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
                keep = not chunk[:64].replace(b"\x00", b"").lstrip(_BLANKS).startswith(part)
            size += len(chunk)
            if size > info.file_size:
                raise LimitExceeded(ARCHIVE_EXPANSION, "member inflates past its declared size")
            crc = zlib.crc32(chunk, crc)
            if keep:
                chunks.append(chunk)
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile("member does not match its directory entry")
    return b"".join(chunks) if keep else None


def _unpack(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], office: bool, limits: Limits
) -> tuple[list[Finding], list[Child]]:
    findings: list[Finding] = []
    children: list[Child] = []
    for info in infos:
        name = info.filename
        if info.is_dir() and not info.file_size:
            continue
        if info.flag_bits & 0x1:
            message = "password-protected archive member"
            findings.append(finding(NAME, ENCRYPTED, message, location=name))
            continue
        if (
            info.file_size >= _RATIO_FLOOR
            and info.file_size > limits.max_ratio * info.compress_size
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            message = f"member unpacks {ratio:,.0f} times its packed size; not unpacked"
            findings.append(finding(NAME, ARCHIVE_RATIO, message, location=name))
            continue
        try:
            data = _read(archive, info, _part_start(name) if office else None)
        except LimitExceeded:
            message = "archive member unpacks past its declared size"
            findings.append(finding(NAME, ARCHIVE_EXPANSION, message, location=name))
            continue
        except _DAMAGED:
            message = "damaged archive member that could not be read"
            findings.append(finding(NAME, CORRUPT, message, location=name))
            continue
        if data is not None:
            children.append(Child(where=name, data=data))
    return findings, children


class ZipEngine:
    """Checks zip containers against the unpacking limits and extracts members for scanning
    (see the module docstring)."""

    name = NAME

    def __init__(self) -> None:
        pass

    def version(self) -> str:
        return f"zipfile (Python {platform.python_version()})"

    def scan(self, item: Item, context: Context) -> Result:
        limits = context.limits
        count = _declared_count(item.data)
        if count is not None and count > limits.max_members:
            return _too_many(count, limits)
        try:
            archive = zipfile.ZipFile(BytesIO(item.data))
        except _DAMAGED:
            message = "damaged zip archive that could not be read"
            return Result([finding(NAME, CORRUPT, message)])
        with archive:
            infos = archive.infolist()
            if len(infos) > limits.max_members:
                return _too_many(len(infos), limits)
            facts = {"members": len(infos)}
            findings: list[Finding] = []
            label = item.type.label
            names = {info.filename.lower() for info in infos}
            main = _MAIN_PART.get(label)
            if main and not {"[content_types].xml", main} <= names:
                message = "zip archive posing as an Office document"
                findings.append(finding(NAME, TYPE_MISMATCH, message))
            declared = sum(info.file_size for info in infos)
            if declared > limits.max_expanded_bytes:
                message = (
                    f"archive declares {declared:,} unpacked bytes, over the "
                    f"{limits.max_expanded_bytes:,} byte limit; not unpacked"
                )
                findings.append(finding(NAME, ARCHIVE_EXPANSION, message))
                return Result(findings, facts=facts)
            more, children = _unpack(archive, infos, label in _OFFICE, limits)
            return Result(findings + more, children, facts)


ENGINE = EngineSpec(
    name=NAME,
    summary="zip containers (plain, Office Open XML, OpenDocument) unpacked within the limits",
    types=("docx", "xlsx", "pptx", "xlsb", "odt", "ods", "odp", "zip"),
    codes=(
        ARCHIVE_MEMBERS,
        ARCHIVE_EXPANSION,
        ARCHIVE_RATIO,
        ENCRYPTED,
        CORRUPT,
        TYPE_MISMATCH,
    ),
    build=lambda options, resources: ZipEngine(),
    options=Options,
    order=35,
)
