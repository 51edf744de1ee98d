"""ZipEngine: the zip's structure, read before zipfile parses it (zip_layout over zipscan).

Hostile zips are written record by record here; benign ones by zipfile as real writers do
(streamed with data descriptors, zip64, comments, folders, Unicode names)."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.zip import ZipEngine
from attachguard.formats import zipscan
from attachguard.policy import Limits, Policy
from attachguard.report import FileType
from test_zip import DOCX, PNG

AMBIGUOUS = FindingCode.AMBIGUOUS


def scan(data: bytes, policy: Policy, label: str = "zip", **limits: int) -> Result:
    if limits:
        policy = policy.model_copy(update={"limits": Limits(**limits)})
    context = replace(policy.context(), depth_left=3)
    item = Item(f"file.{label}", data, FileType(label, "application/zip", "archive"))
    return ZipEngine().scan(item, context)


def found(result: Result) -> list[tuple[str, str | None]]:
    return [(f.code.name, f.label) for f in result.findings]


def build(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


# -- records written by hand -------------------------------------------------------------------
def local(name: bytes, data: bytes) -> bytes:
    fixed = (b"PK\x03\x04", 20, 0, 0, 0, 0x21, zlib.crc32(data), len(data), len(data), len(name), 0)
    return struct.pack("<4s5H3L2H", *fixed) + name + data


def central(name: bytes, data: bytes, offset: int) -> bytes:
    fixed = (b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, zlib.crc32(data), len(data), len(data),
             len(name), 0, 0, 0, 0, 0, offset)  # fmt: skip
    return struct.pack("<4s6H3L5H2L", *fixed) + name


def end(count: int, size: int, offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, offset, 0)


def assemble(*pieces: bytes | tuple[bytes, bytes], hide: bytes = b"", extra: int = -1) -> bytes:
    """Stored members (name, data) and raw bytes in file order; the directory lists every member
    but ``hide``, and when ``extra`` >= 0 one more entry "hidden.exe" at that offset."""
    body, directory, count = b"", b"", 0
    for piece in pieces:
        if isinstance(piece, bytes):
            body += piece
            continue
        name, data = piece
        if name != hide:
            directory += central(name, data, len(body))
            count += 1
        body += local(name, data)
    if extra >= 0:
        directory += central(b"hidden.exe", b"MZ", extra)
        count += 1
    return body + directory + end(count, len(directory), len(body))


PLAIN = build([("a.txt", b"alpha " * 50), ("b.txt", b"beta " * 50)])
A, B = (b"a.txt", b"alpha"), (b"b.txt", b"beta")
# The overlap: hidden.exe's entry points into a.txt's data, where its local record sits.
_INNER = local(b"hidden.exe", b"MZ")
HOSTILE: dict[str, Callable[[], bytes]] = {
    "duplicate-name": lambda: build([("invoice.pdf", b"%PDF-1.7"), ("invoice.pdf", b"MZ")]),
    "unsafe-name": lambda: build([("../../Startup/run.bat", b"echo")]),
    "orphan-local": lambda: assemble(A, (b"hidden.exe", b"MZ"), B, hide=b"hidden.exe"),
    "gap-data": lambda: assemble(A, b"MZ\x90\x00 program between members", B),
    "overlap": lambda: assemble((b"a.txt", _INNER), B, extra=30 + len(b"a.txt")),
    "header-mismatch": lambda: bytes(assemble(A, B)[:14]) + b"\0\0\0\0" + assemble(A, B)[18:],
    "multiple-end-records": lambda: build([("a.txt", b"first")]) + PLAIN,
    "prepended-data": lambda: b"MZ\x90\x00 self-extractor" + PLAIN,
    "trailing-data": lambda: PLAIN + b"appended",
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_what_unzip_tools_could_read_differently_is_ambiguous(policy: Policy, kind: str) -> None:
    result = scan(HOSTILE[kind](), policy)
    assert (AMBIGUOUS.name, kind) in found(result)
    assert {f.code for f in result.findings} <= {AMBIGUOUS, FindingCode.CORRUPT}
    ambiguous = next(f for f in result.findings if f.label == kind)
    assert ambiguous.location  # a member name or "offset N"


def test_orphan_and_overlap_name_where(policy: Policy) -> None:
    findings = scan(HOSTILE["orphan-local"](), policy).findings
    orphan = next(f for f in findings if f.label == "orphan-local")
    assert orphan.message.startswith("a member named hidden.exe at offset 40 is missing")
    assert orphan.location == "offset 40"
    overlap = next(f for f in scan(HOSTILE["overlap"](), policy).findings if f.label == "overlap")
    assert overlap.location == "hidden.exe"


def test_repeated_problems_are_one_finding_with_a_count(policy: Policy) -> None:
    data = build([("same.txt", str(n).encode()) for n in range(30)])
    [duplicate] = scan(data, policy).findings
    assert (duplicate.code, duplicate.label) == (AMBIGUOUS, "duplicate-name")
    assert duplicate.count == 11  # zipscan keeps ten, and says there were more
    assert duplicate.more == ()  # one name, one location


# -- backslashes ---------------------------------------------------------------------------------
POWERSHELL = [(f"Reports\\2024\\month{n}.csv", b"date,total\n") for n in range(15)]


def test_backslashes_in_a_plain_zip_are_left_alone(policy: Policy) -> None:
    # Windows PowerShell's Compress-Archive writes them; every tool finds the same bytes.
    result = scan(build(POWERSHELL), policy)
    assert result.findings == []
    assert len(result.children) == 15


@pytest.mark.parametrize("name", ["..\\Startup\\run.bat", "\\Windows\\x.exe", "C:\\x", "a\\b\x01"])
def test_backslash_names_that_are_unsafe_anyway(policy: Policy, name: str) -> None:
    assert (AMBIGUOUS.name, "unsafe-name") in found(scan(build([(name, b"x")]), policy))


def test_unsafe_name_among_many_backslash_names(policy: Policy) -> None:
    # zipscan keeps ten names of a kind: the eleventh, unsafe anyway, is behind "more like these".
    result = scan(build([*POWERSHELL, ("../run.bat", b"echo")]), policy)
    assert found(result) == [(AMBIGUOUS.name, "unsafe-name")]


def test_backslashes_in_an_office_package_are_ambiguous(policy: Policy) -> None:
    # Office finds parts by name; the OPC reader behind the office engine does not read "\" as "/".
    data = build([*DOCX.items(), ("word\\media\\image1.png", PNG)])
    assert found(scan(data, policy, "docx")) == [(AMBIGUOUS.name, "unsafe-name")]


# -- limits: checked before zipfile parses anything ----------------------------------------------
@pytest.fixture
def no_zipfile(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile should not parse this archive")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)


def to_zip64_end(data: bytes) -> bytes:
    """The archive with zip64 end records and a saturated classic one, as writers do past
    65,535 members: the classic count says nothing."""
    at = data.rindex(b"PK\x05\x06")
    _, _, _, _, count, size, offset, _ = struct.unpack_from("<4s4H2LH", data, at)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, offset + size, 1)
    classic = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, size, 0xFFFFFFFF, 0)
    return data[:at] + record + locator + classic


MANY = build([(f"m{n}.txt", b"x") for n in range(12)], zipfile.ZIP_STORED)


@pytest.mark.usefixtures("no_zipfile")
@pytest.mark.parametrize("data", [MANY, to_zip64_end(MANY)], ids=["classic", "zip64"])
def test_too_many_members(policy: Policy, data: bytes) -> None:
    [members] = scan(data, policy, max_members=10).findings
    assert members.code == FindingCode.ARCHIVE_MEMBERS
    assert members.message == "archive holds 12 members, more than 10; not unpacked"


@pytest.mark.usefixtures("no_zipfile")
def test_huge_directory_behind_an_end_record_that_claims_one(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = local(b"x", b"")
    directory = central(b"x", b"", 0) * 200_000
    data = entry + directory + end(1, len(directory), len(entry))
    read: list[int] = []
    one_entry = zipscan._entry

    def counted(*args: Any) -> Any:
        read.append(1)
        return one_entry(*args)

    monkeypatch.setattr(zipscan, "_entry", counted)
    result = scan(data, policy)
    assert len(read) <= 1001  # the directory is read up to the limit only, not 200,000 entries
    assert [f.code for f in result.findings] == [FindingCode.ARCHIVE_MEMBERS]
    assert result.findings[0].message == "archive holds more than 1,000 members; not unpacked"


THREE_PARTS = build([(f"part{n}.txt", b"x" * 400) for n in range(3)])


@pytest.mark.usefixtures("no_zipfile")
def test_expansion_of_the_whole_archive(policy: Policy) -> None:
    # each member is under the limit, the archive is not
    [expansion] = scan(THREE_PARTS, policy, max_expanded_bytes=1000).findings
    assert expansion.code == FindingCode.ARCHIVE_EXPANSION
    assert expansion.message == (
        "archive declares 1,200 unpacked bytes, over the 1,000 byte limit; not unpacked"
    )


@pytest.mark.usefixtures("no_zipfile")
def test_archive_without_a_directory_is_corrupt(policy: Policy) -> None:
    result = scan(PLAIN[: PLAIN.index(b"PK\x05\x06")], policy)
    assert [(f.code, f.message) for f in result.findings] == [
        (FindingCode.CORRUPT, "no end-of-archive record: not a readable zip")
    ]
    assert result.facts == {}


def test_member_without_a_local_header_is_corrupt_once(policy: Policy) -> None:
    data = assemble(A, B)
    at = data.rindex(b"PK\x01\x02")
    data = data[: at + 42] + struct.pack("<L", 7) + data[at + 46 :]  # b.txt points at junk
    result = scan(data, policy)
    corrupt = [f for f in result.findings if f.code == FindingCode.CORRUPT]
    assert [(f.location, f.message) for f in corrupt] == [
        ("b.txt", "b.txt has no local header at offset 7")
    ]
    assert [c.where for c in result.children] == ["a.txt"]


# -- benign shapes from real writers ------------------------------------------------------------
class Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then streams, with a data descriptor after each member (as
    LibreOffice, Java and most streaming writers do)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.buffer += data
        return len(data)

    def tell(self) -> int:
        return len(self.buffer)

    def seekable(self) -> bool:
        return False


def streamed(members: dict[str, bytes], force_zip64: bool = False) -> bytes:
    out = Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            with archive.open(name, "w", force_zip64=force_zip64) as member:
                member.write(data)
    return bytes(out.buffer)


def commented(data: bytes) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.comment = b"Created by the contact center export"
    return out.getvalue()


BENIGN: dict[str, tuple[str, Callable[[], bytes]]] = {
    "streamed": ("docx", lambda: streamed(DOCX)),
    "streamed-zip64": ("docx", lambda: streamed(DOCX, force_zip64=True)),
    "zip64-end-record": ("zip", lambda: to_zip64_end(PLAIN)),
    "comment": ("docx", lambda: commented(build(list(DOCX.items())))),
    "folders": ("zip", lambda: build([("docs/", b""), ("docs/a.txt", b"a"), ("empty/", b"")])),
    "unicode": ("docx", lambda: build([*DOCX.items(), ("word/media/Bild \u00e4\u00df.png", PNG)])),
    "same-name-other-folders": ("zip", lambda: build([("a/i.xml", b"<a/>"), ("b/i.xml", b"<b/>")])),
}  # fmt: skip


@pytest.mark.parametrize("shape", BENIGN)
def test_benign_shapes_are_clean(policy: Policy, shape: str) -> None:
    label, make = BENIGN[shape]
    result = scan(make(), policy, label)
    assert result.findings == []
