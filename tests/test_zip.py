"""ZipEngine: archives and Office packages are built here with zipfile, then bent by hand.

The structure checks (AMBIGUOUS and the limits read from the directory) are in
tests/test_zip_layout.py, the OOXML main-part check in tests/test_zip_package.py."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from attachguard.codes import Code, FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.zip import ZipEngine
from attachguard.policy import Limits, Policy
from attachguard.report import FileType

TESTFILES = Path("/usr/share/clamav-testfiles")
XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CT = "application/vnd.openxmlformats-officedocument."
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def types(main: str, content_type: str) -> bytes:
    return (
        XML
        + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{main}" ContentType="{_CT}{content_type}"/></Types>'
        ).encode()
    )


def root_rels(main: str) -> bytes:
    return (
        XML
        + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}" Target="{main}"/></Relationships>'
        ).encode()
    )


RELS = (
    XML + b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
)
DOCX = {
    "[Content_Types].xml": types("word/document.xml", "wordprocessingml.document.main+xml"),
    "_rels/.rels": root_rels("word/document.xml"),
    "word/document.xml": XML + b"<w:document><w:body><w:p/></w:body></w:document>",
    "word/_rels/document.xml.rels": RELS,
    "docProps/core.xml": XML + b"<cp:coreProperties/>",
}
XLSX = {
    "[Content_Types].xml": types("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "_rels/.rels": root_rels("xl/workbook.xml"),
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


def scan(data: bytes, policy: Policy, label: str = "zip", depth_left: int = 3) -> Result:
    context = replace(policy.context(), depth_left=depth_left)
    return ZipEngine().scan(Item(f"file.{label}", data, kind(label)), context)


def codes(result: Result) -> set[Code]:
    return {f.code for f in result.findings}


def with_limits(policy: Policy, **limits: int) -> Policy:
    return policy.model_copy(update={"limits": Limits(**limits)})


def build(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def patch_entry(data: bytes, name: bytes, **fields: int) -> bytes:
    """Rewrite fields of ``name``'s central directory entry and of its local header alike (a
    lie both records tell, so that no unzip tool reads it differently): crc, compressed,
    size, flags."""
    offsets = {"flags": 8, "crc": 16, "compressed": 20, "size": 24}  # local header: 2 less
    widths = {"flags": 2, "crc": 4, "compressed": 4, "size": 4}
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    local = int.from_bytes(data[at + 42 : at + 46], "little")
    out = bytearray(data)
    for key, value in fields.items():
        width = widths[key]
        for start in (at + offsets[key], local + offsets[key] - 2):
            out[start : start + width] = value.to_bytes(width, "little")
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


def test_hostile_member_names_are_ambiguous_and_only_labels(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    names = ["../../etc/passwd", "/abs/evil.sh", "C:\\Windows\\x.exe", "a/../../b"]
    result = scan(build(dict.fromkeys(names, b"data")), policy)
    assert codes(result) == {FindingCode.AMBIGUOUS}
    assert result.findings[0].count == 5  # one name is absolute and uses backslashes
    # Still unpacked: a policy that allows AMBIGUOUS gets the members scanned, not skipped.
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
    data = zeros_member(16 << 20)  # twice the 8 MiB a ratio counts from (RATIO_FLOOR)
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

    monkeypatch.setattr(zipfile, "ZipFile", no_parsing)
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
    data = patch_entry(data, b"zeros.bin", size=1000, crc=zlib.crc32(bytes(1000)))
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
def test_directory_entry_that_lies(policy: Policy, lie: dict[str, int], expected: Code) -> None:
    data = patch_entry(build({"a.txt": b"hello world" * 100}), b"a.txt", **lie)
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
    data = patch_entry(data, b"secret.txt", flags=0x1)
    result = scan(data, policy)
    assert [(f.code, f.message, f.location) for f in result.findings] == [
        (FindingCode.ENCRYPTED, "password-protected archive member", "secret.txt")
    ]
    assert [c.where for c in result.children] == ["open.txt"]


# -- depth and repeated findings -----------------------------------------------------------------


def test_nothing_is_inflated_past_the_depth_limit(policy: Policy) -> None:
    data = build({"a.zip": build({"x": b"x"}), "b.txt": b"hello" * 100, "c.txt": b"c", "d/": b""})
    data = patch_entry(data, b"b.txt", crc=1234)  # inflating it would show as CORRUPT
    result = scan(data, policy, depth_left=0)
    assert result.children == []
    [depth] = result.findings
    assert depth.code == FindingCode.ARCHIVE_DEPTH
    assert depth.message == "not unpacked: nested more than 3 levels deep"
    assert (depth.location, depth.more, depth.count) == ("a.zip", ("b.txt", "c.txt"), 3)
    assert scan(data, policy, depth_left=1).children != []


def test_package_past_the_depth_limit_reports_only_what_would_be_children(policy: Policy) -> None:
    assert scan(build(DOCX), policy, "docx", depth_left=0).findings == []
    program = b"MZ\x90\x00" + bytes(100)
    members = {**DOCX, "word/media/image1.png": PNG, "word/settings.xml": program}
    result = scan(build(members), policy, "docx", depth_left=0)
    assert [(f.code, f.location, f.more) for f in result.findings] == [
        (FindingCode.ARCHIVE_DEPTH, "word/media/image1.png", ("word/settings.xml",))
    ]
    assert result.children == []


def test_repeated_member_findings_are_one_with_a_count(policy: Policy) -> None:
    names = [f"secret{n}.txt" for n in range(5)]
    data = build({**dict.fromkeys(names, b"top secret"), "open.txt": b"hello"}, zipfile.ZIP_STORED)
    for name in names:
        data = patch_entry(data, name.encode(), flags=0x1)
    result = scan(data, policy)
    [encrypted] = result.findings
    assert (encrypted.code, encrypted.count) == (FindingCode.ENCRYPTED, 5)
    assert (encrypted.location, encrypted.more) == ("secret0.txt", ("secret1.txt", "secret2.txt"))
    assert [c.where for c in result.children] == ["open.txt"]


def test_ambiguous_zip_is_still_unpacked(policy: Policy) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("invoice.txt", b"first")
        with pytest.warns(UserWarning, match="Duplicate"):
            archive.writestr("invoice.txt", b"second")
    result = scan(out.getvalue(), policy)
    assert [(f.code, f.label) for f in result.findings] == [
        (FindingCode.AMBIGUOUS, "duplicate-name")
    ]
    assert [c.data for c in result.children] == [b"first", b"second"]


def test_zips_inside_declaring_too_much_together(policy: Policy) -> None:
    inner = build({"records.bin": b"r" * 600})  # each under every limit
    data = build({f"data{n}.zip": inner for n in range(3)} | {"notes.txt": b"n"})
    limited = with_limits(policy, max_expanded_bytes=1500)
    result = scan(data, limited)
    [over] = result.findings
    assert over.code == FindingCode.ARCHIVE_EXPANSION
    total = 3 * (len(inner) + 600) + 1
    assert over.message == (
        f"archive and the archives inside it declare {total:,} unpacked bytes, over the 1,500 "
        "byte limit; not unpacked"
    )
    assert result.children == []
    # At the last level the depth allows, the inner zips are not unpacked: nothing to add up.
    assert len(scan(data, limited, depth_left=1).children) == 4
    assert scan(data, with_limits(policy, max_expanded_bytes=3000)).findings == []


def test_an_honest_emf_picture_is_no_bomb(policy: Policy) -> None:
    # Office's EMF print pictures compress past 100:1 (1.45 MB in 2 KB in Tika's test decks):
    # under the floor, a member's ratio is not judged (the byte budget bounds them all)
    emf = b"\x01\x00\x00\x00" + bytes(1_450_000)
    assert scan(build({"word/media/image1.emf": emf}), policy).findings == []


def test_bombs_of_different_ratios_are_one_finding(policy: Policy) -> None:
    data = build({"a.bin": bytes(9 << 20), "b.bin": bytes(10 << 20), "c.txt": b"c"})
    result = scan(data, policy)
    [ratio] = result.findings
    assert (ratio.code, ratio.count, ratio.location, ratio.more) == (
        FindingCode.ARCHIVE_RATIO,
        2,
        "a.bin",
        ("b.bin",),
    )
    assert [c.where for c in result.children] == ["c.txt"]


_OFFICE_NS = (
    b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    b'xmlns:xlink="http://www.w3.org/1999/xlink"'
)
_ON_LOAD = (
    XML + b"<office:document-content " + _OFFICE_NS + b"><office:scripts/><office:event-listeners>"
    b'<script:event-listener script:event-name="dom:load" '
    b'xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic"/>'
    b"</office:event-listeners></office:document-content>"
)


_SXW_ON_LOAD = (
    XML + b'<office:document xmlns:office="http://openoffice.org/2000/office" '
    b'xmlns:script="http://openoffice.org/2000/script"><office:events><script:event '
    b'script:language="StarBasic" script:event-name="office:load" '
    b'script:macro-name="Standard.Module1.Main"/></office:events></office:document>'
)


@pytest.mark.parametrize(
    ("members", "expected"),
    [({**ODT, "Basic/Standard/Module1.xba": XML + b"<script:module/>"}, ["VBA_MACRO"]),
     ({**ODT, "content.xml": _ON_LOAD}, ["VBA_MACRO"]),
     ({**ODT, "content.xml": _ON_LOAD.split(b"<office:event-listeners>")[0]
       + b"</office:document-content>"}, []),
     (ODT, []),  # its XML does not parse (a prefix never declared): no code is found
     # a listener after damage LibreOffice may repair, in UTF-8 and UTF-16
     ({**ODT, "content.xml": _ON_LOAD.replace(b"<office:scripts/>", b"&undefined;")},
      ["VBA_MACRO"]),
     ({**ODT, "content.xml": _ON_LOAD.replace(b"<office:scripts/>", b"<x:y/>").decode()
       .encode("utf-16")}, ["VBA_MACRO"]),
     # LibreOffice opens a package by its manifest when it has no mimetype (review 104), and
     # OpenOffice.org 1.x's (.sxw), whose events bind a macro with script:event
     ({k: v for k, v in ODT.items() if k != "mimetype"} | {"content.xml": _ON_LOAD},
      ["VBA_MACRO"]),
     ({**ODT, "mimetype": b"application/vnd.sun.xml.writer", "content.xml": _SXW_ON_LOAD},
      ["VBA_MACRO"]),
     ({**ODT, "mimetype": b"application/vnd.sun.xml.writer"}, []),
     ({"scripts/build.txt": b"make all", "readme.txt": b"notes"}, [])],
    ids=["basic-library", "macro-on-load", "no-listener", "unreadable-xml",
         "listener-after-damage", "listener-after-damage-utf16", "no-mimetype", "sxw-macro",
         "sxw-plain", "zip-with-scripts-folder"],
)  # fmt: skip
def test_opendocument_code_is_a_macro(
    policy: Policy, members: dict[str, bytes], expected: list[str]
) -> None:
    """LibreOffice runs a document's Basic and the macros bound to its events; no other engine
    reads an OpenDocument package for them (red team 102: an .odt attached to a PDF)."""
    codes = [f.code.name for f in scan(build(members), policy, "odt").findings]
    assert codes == expected
