"""ZipEngine: archives and Office packages are built here with zipfile, then bent by hand."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from attachguard.codes import FindingCode
from attachguard.engines import zip as zip_engine
from attachguard.engines.base import Item, Result
from attachguard.engines.zip import ZipEngine
from attachguard.policy import Limits, Policy
from attachguard.report import FileType

TESTFILES = Path("/usr/share/clamav-testfiles")
XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
TYPES = XML + b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
RELS = (
    XML + b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
)
DOCX = {
    "[Content_Types].xml": TYPES,
    "_rels/.rels": RELS,
    "word/document.xml": XML + b"<w:document><w:body><w:p/></w:body></w:document>",
    "word/_rels/document.xml.rels": RELS,
    "docProps/core.xml": XML + b"<cp:coreProperties/>",
}
XLSX = {
    "[Content_Types].xml": TYPES,
    "_rels/.rels": RELS,
    "xl/workbook.xml": XML + b"<workbook><sheets><sheet name='S' sheetId='1'/></sheets></workbook>",
    "xl/worksheets/sheet1.xml": XML + b"<worksheet><sheetData/></worksheet>",
}
ODT = {
    "mimetype": b"application/vnd.oasis.opendocument.text",
    "content.xml": XML + b"<office:document-content/>",
    "META-INF/manifest.xml": XML + b"<manifest:manifest/>",
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def kind(label: str) -> FileType:
    return FileType(label, "application/zip", "archive")


def scan(data: bytes, policy: Policy, label: str = "zip") -> Result:
    return ZipEngine().scan(Item(f"file.{label}", data, kind(label)), policy.context())


def codes(result: Result) -> set[FindingCode]:
    return {f.code for f in result.findings}


def with_limits(policy: Policy, **limits: int) -> Policy:
    return policy.model_copy(update={"limits": Limits(**limits)})


def build(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def patch_directory(data: bytes, name: bytes, **fields: int) -> bytes:
    """Rewrite fields of ``name``'s central directory entry: crc, compressed, size, flags."""
    offsets = {"flags": (8, 2), "crc": (16, 4), "compressed": (20, 4), "size": (24, 4)}
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    out = bytearray(data)
    for key, value in fields.items():
        offset, width = offsets[key]
        out[at + offset : at + offset + width] = value.to_bytes(width, "little")
    return bytes(out)


def zeros_member(size: int) -> bytes:
    """A zip holding ``size`` bytes of zeros, written without ever holding them in memory."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w", force_zip64=False) as member,
    ):
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            member.write(chunk)
    return out.getvalue()


# -- clean files -------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "members"), [("docx", DOCX), ("xlsx", XLSX), ("odt", ODT)])
def test_clean_office_package(policy: Policy, label: str, members: dict[str, bytes]) -> None:
    result = scan(build(members), policy, label)
    assert result.findings == []
    assert result.children == []
    assert result.facts == {"members": len(members)}


def test_office_media_and_embeddings_are_children(policy: Policy) -> None:
    inner = build({"a.txt": b"hello"})
    members = {**DOCX, "word/media/image1.png": PNG, "word/embeddings/package.zip": inner}
    result = scan(build(members), policy, "docx")
    assert result.findings == []
    assert {c.where: c.data for c in result.children} == {
        "word/media/image1.png": PNG,
        "word/embeddings/package.zip": inner,
    }


def test_xml_part_that_is_not_xml_is_a_child(policy: Policy) -> None:
    payload = b"MZ\x90\x00" + bytes(100)
    result = scan(build({**DOCX, "word/settings.xml": payload}), policy, "docx")
    assert [(c.where, c.data) for c in result.children] == [("word/settings.xml", payload)]


def test_compressible_small_part_is_not_a_bomb(policy: Policy) -> None:
    sheet = XML + b"<worksheet><sheetData>" + b"<row/>" * 100_000 + b"</sheetData></worksheet>"
    data = build({**XLSX, "xl/worksheets/sheet1.xml": sheet})
    assert len(sheet) > 100 * len(data)  # packed well past the 100:1 ratio
    assert scan(data, policy, "xlsx").findings == []


# -- plain zips and names ------------------------------------------------------------------------


def test_every_member_of_a_plain_zip_is_a_child(policy: Policy) -> None:
    inner = build({"deeper.txt": b"x"})
    result = scan(build({"notes.txt": b"hello", "inner.zip": inner, "empty/": b""}), policy)
    assert result.findings == []
    assert {c.where: c.data for c in result.children} == {"notes.txt": b"hello", "inner.zip": inner}


def test_hostile_member_names_are_only_labels(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    names = ["../../etc/passwd", "/abs/evil.sh", "C:\\Windows\\x.exe", "a/../../b"]
    result = scan(build(dict.fromkeys(names, b"data")), policy)
    assert [c.where for c in result.children] == names
    assert list(tmp_path.iterdir()) == []


def test_clamav_test_zip_member_is_returned(policy: Policy) -> None:
    if not (TESTFILES / "clam.zip").exists():
        pytest.skip("clamav-testfiles not installed")
    result = scan((TESTFILES / "clam.zip").read_bytes(), policy)
    assert result.findings == []
    assert [c.where for c in result.children] == ["clam.exe"]
    assert result.children[0].data.startswith(b"MZ")


def test_unsupported_compression_is_corrupt(policy: Policy) -> None:
    if not (TESTFILES / "clam.impl.zip").exists():
        pytest.skip("clamav-testfiles not installed")
    result = scan((TESTFILES / "clam.impl.zip").read_bytes(), policy)
    assert codes(result) == {FindingCode.CORRUPT}
    assert result.children == []


# -- posing as Office ----------------------------------------------------------------------------


def test_plain_zip_posing_as_docx(policy: Policy) -> None:
    result = scan(build({"readme.txt": b"hi"}), policy, "docx")
    assert codes(result) == {FindingCode.TYPE_MISMATCH}
    assert result.findings[0].message == "zip archive posing as an Office document"


def test_package_without_its_main_part(policy: Policy) -> None:
    members = {k: v for k, v in DOCX.items() if k != "word/document.xml"}
    assert codes(scan(build(members), policy, "docx")) == {FindingCode.TYPE_MISMATCH}
    assert codes(scan(build(DOCX), policy, "xlsx")) == {FindingCode.TYPE_MISMATCH}


# -- limits --------------------------------------------------------------------------------------


def test_zip_bomb_is_flagged_without_inflating_it(policy: Policy) -> None:
    data = zeros_member(50 << 20)
    assert len(data) < 200_000
    tracemalloc.start()
    try:
        result = scan(data, policy)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert codes(result) == {FindingCode.ARCHIVE_RATIO}
    assert result.findings[0].location == "zeros.bin"
    assert result.children == []
    assert peak < 2_000_000


def test_declared_sizes_over_the_byte_budget(policy: Policy) -> None:
    data = build({"a.txt": b"a" * 600, "b.txt": b"b" * 600})
    result = scan(data, with_limits(policy, max_expanded_bytes=1000))
    assert codes(result) == {FindingCode.ARCHIVE_EXPANSION}
    assert result.children == []


def test_too_many_members_stops_before_parsing(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build({f"m{n}.txt": b"x" for n in range(6)})

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the central directory should not be parsed")

    monkeypatch.setattr(zip_engine.zipfile, "ZipFile", no_parsing)
    result = scan(data, with_limits(policy, max_members=5))
    assert codes(result) == {FindingCode.ARCHIVE_MEMBERS}


def test_too_many_members_behind_a_lying_end_record(policy: Policy) -> None:
    data = bytearray(build({f"m{n}.txt": b"x" for n in range(6)}))
    end = data.rindex(b"PK\x05\x06")
    data[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2  # "1 entry"
    result = scan(bytes(data), with_limits(policy, max_members=5))
    assert codes(result) == {FindingCode.ARCHIVE_MEMBERS}
    assert result.children == []


def test_member_larger_than_declared_is_caught_even_with_a_matching_crc(policy: Policy) -> None:
    # A bomb whose directory claims 1,000 bytes (ratio 0.02, well under the budget), with the
    # CRC of those first 1,000 bytes: zipfile alone would stop there and call it fine.
    data = zeros_member(8 << 20)
    data = patch_directory(data, b"zeros.bin", size=1000, crc=zlib.crc32(bytes(1000)))
    tracemalloc.start()
    try:
        result = scan(data, policy)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert codes(result) == {FindingCode.ARCHIVE_EXPANSION}
    assert result.findings[0].location == "zeros.bin"
    assert result.children == []
    assert peak < 2_000_000


@pytest.mark.parametrize(
    ("lie", "expected"),
    [
        ({"size": 5}, FindingCode.ARCHIVE_EXPANSION),
        ({"size": 5000}, FindingCode.CORRUPT),
        ({"crc": 1234}, FindingCode.CORRUPT),
    ],
)
def test_directory_entry_that_lies(
    policy: Policy, lie: dict[str, int], expected: FindingCode
) -> None:
    data = patch_directory(build({"a.txt": b"hello world" * 100}), b"a.txt", **lie)
    result = scan(data, policy)
    assert [(f.code, f.location) for f in result.findings] == [(expected, "a.txt")]
    assert result.children == []


def test_damaged_member_data_is_corrupt(policy: Policy) -> None:
    data = bytearray(build({"a.txt": b"hello world", "b.txt": b"fine"}, zipfile.ZIP_STORED))
    data[data.index(b"hello")] = ord("J")
    result = scan(bytes(data), policy)
    assert [(f.code, f.location) for f in result.findings] == [(FindingCode.CORRUPT, "a.txt")]
    assert [c.where for c in result.children] == ["b.txt"]


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_or_garbage_zip_is_corrupt(policy: Policy, cut: float) -> None:
    data = build(DOCX)
    assert codes(scan(data[: int(len(data) * cut)], policy, "docx")) == {FindingCode.CORRUPT}
    assert codes(scan(b"PK\x03\x04" + bytes(200), policy)) == {FindingCode.CORRUPT}


def test_encrypted_member(policy: Policy) -> None:
    data = build({"secret.txt": b"top secret", "open.txt": b"hello"}, zipfile.ZIP_STORED)
    data = patch_directory(data, b"secret.txt", flags=0x1)
    result = scan(data, policy)
    assert [(f.code, f.message, f.location) for f in result.findings] == [
        (FindingCode.ENCRYPTED, "password-protected archive member", "secret.txt")
    ]
    assert [c.where for c in result.children] == ["open.txt"]
