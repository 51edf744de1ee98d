"""The office engine on compound files (doc, xls, ppt, encrypted OOXML): the container must be
what its name says, workbooks are read from their own records whatever the class id says."""

from __future__ import annotations

import struct
from pathlib import Path

import olefile  # type: ignore[import-untyped]
import pytest

from attachguard import samples
from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.office import OfficeEngine
from attachguard.formats.oleprops import user_defined_texts
from attachguard.policy import Policy
from attachguard.report import FileType
from support.evasions import CASES, PROGRAM, Case, biff_workbook, encrypted, ole_tree, word
from support.oletools_data import read_sample
from support.property_sets import STREAM, USER_DEFINED, user_section, with_user_properties

ENGINE = OfficeEngine()
WORD_CLSID = "00020906-0000-0000-C000-000000000046"
EXCEL_CLSID = "00020820-0000-0000-C000-000000000046"
MSI_CLSID = "000C1084-0000-0000-C000-000000000046"
MSI_STREAMS = {"\x05SummaryInformation": bytes(64), "\u4840\u3f3f\u4577\u446c\u3b6a": PROGRAM}


def scan(data: bytes, name: str, policy: Policy, label: str = "doc") -> Result:
    return ENGINE.scan(Item(name, data, FileType(label, "", "document")), policy.context())


def codes(result: Result) -> list[str]:
    return [f.code.name for f in result.findings]


def record(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def book(*extra: bytes, sheets: tuple[tuple[str, int, int], ...] = (("Orders", 0, 0),)) -> bytes:
    """An Excel 97 workbook stream whose globals hold ``extra`` records after the sheets (each
    BOUNDSHEET still points at its sheet)."""
    stream = bytearray(biff_workbook(list(sheets)))
    added = sum(len(r) for r in extra)
    pos = 0
    while stream[pos : pos + 2] != b"\x0a\x00":  # up to the globals' EOF
        rtype, size = struct.unpack_from("<HH", stream, pos)
        if rtype == 0x0085:  # BOUNDSHEET: the sheet's position comes first
            struct.pack_into(
                "<I", stream, pos + 4, struct.unpack_from("<I", stream, pos + 4)[0] + added
            )
        pos += 4 + size
    return bytes(stream[:pos]) + b"".join(extra) + bytes(stream[pos:])


def xls(stream: bytes, clsid: str = EXCEL_CLSID) -> bytes:
    return ole_tree({"Workbook": stream, "\x05SummaryInformation": bytes(64)}, clsid)


# -- the red team's cases, through this engine alone -------------------------------------------

LEGACY = [c for c in CASES if c.cls == "legacy-ole"]


@pytest.mark.parametrize("case", LEGACY, ids=[c.id for c in LEGACY])
def test_red_team_cases(case: Case, policy: Policy) -> None:
    result = scan(case.build(), case.name, policy, case.name.rsplit(".", 1)[-1])
    if case.hostile:
        assert case.expect_code in codes(result)
    else:
        assert result.findings == [] and result.children == []


# -- what the container is ----------------------------------------------------------------------


def test_installer_named_doc_is_a_program(policy: Policy) -> None:
    result = scan(ole_tree(MSI_STREAMS, MSI_CLSID), "form.doc", policy)
    assert [(f.code, f.message) for f in result.findings] == [
        (FindingCode.EXECUTABLE, "Windows installer (MSI) package")
    ]


def test_installer_with_word_streams_is_ambiguous_and_a_program(policy: Policy) -> None:
    data = ole_tree({**MSI_STREAMS, "WordDocument": bytes(600)}, MSI_CLSID)
    assert codes(scan(data, "form.doc", policy)) == ["AMBIGUOUS", "EXECUTABLE"]


def test_mismatch_names_both_sides(policy: Policy) -> None:
    data = ole_tree({"Contents": PROGRAM, "\x01CompObj": bytes(64)}, WORD_CLSID)
    [found] = scan(data, "form.doc", policy).findings
    assert (found.code, found.message) == (
        FindingCode.TYPE_MISMATCH,
        "an unknown compound file named .doc; Word expects a Word 97-2003 document",
    )


def test_other_extensions_are_not_judged(policy: Policy) -> None:
    """A compound file inside an archive, named .bin or .db, is what it is (the pipeline
    scans its content); only Office's extensions promise a kind."""
    data = ole_tree({"Contents": b"thumbnail", "\x01CompObj": bytes(64)})
    assert scan(data, "pictures/Thumbs.db", policy, "compound").findings == []


def test_workbook_named_doc(policy: Policy) -> None:
    assert codes(scan(xls(book()), "report.doc", policy)) == ["TYPE_MISMATCH"]
    assert scan(xls(book()), "report.xls", policy, "xls").findings == []


# -- workbooks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("clsid", [EXCEL_CLSID, WORD_CLSID, ""], ids=["excel", "word", "none"])
@pytest.mark.parametrize("hidden", [0, 1, 2], ids=["visible", "hidden", "very-hidden"])
def test_macro_sheet_whatever_the_class_id(clsid: str, hidden: int, policy: Policy) -> None:
    stream = book(sheets=(("Orders", 0, 0), ("Macro1", 1, hidden)))
    [found] = scan(xls(stream, clsid), "orders.xls", policy, "xls").findings
    assert (found.code, found.message) == (
        FindingCode.XLM_MACRO,
        "Excel 4 (XLM) macros in the Excel workbook",
    )


def test_filepass_is_encrypted(policy: Policy) -> None:
    filepass = record(0x002F, struct.pack("<HHH", 0, 0x1234, 0x5678))  # XOR obfuscation
    stream = biff_workbook([("Orders", 0, 0)])
    stream = stream[:20] + filepass + stream[20:]  # right after the BOF, as Excel writes it
    assert codes(scan(xls(stream), "orders.xls", policy, "xls")) == ["ENCRYPTED"]


def test_a_link_to_a_workbook_on_the_readers_drive_passes(policy: Policy) -> None:
    name = b"\x01\x01C\x03Data\x03prices"
    supbook = struct.pack("<HH", 1, len(name)) + b"\0" + name
    assert scan(xls(book(record(0x01AE, supbook))), "a.xls", policy, "xls").findings == []


@pytest.mark.parametrize(
    ("supbook", "code", "message"),
    [
        (struct.pack("<HH", 0, 11) + b"\0cmd\x03/c calc", "DDE", "DDE link"),
        (struct.pack("<HH", 1, 19) + b"\0\x01\x01@srv\x03share\x03prices", "EXTERNAL_LINK",
         "link to an external workbook"),
    ],
    ids=["dde", "external-workbook-on-a-share"],
)  # fmt: skip
def test_workbook_links(supbook: bytes, code: str, message: str, policy: Policy) -> None:
    [found] = scan(xls(book(record(0x01AE, supbook))), "a.xls", policy, "xls").findings
    assert (found.code.name, found.message) == (code, f"{message} in the Excel workbook")
    assert "calc" not in found.message and "prices" not in found.message


@pytest.mark.parametrize("beside", [False, True], ids=["alone", "beside-a-workbook-stream"])
def test_an_excel_95_link_to_another_document(beside: bool, policy: Policy) -> None:
    bof = record(0x0809, struct.pack("<HHHH", 0x0500, 0x0005, 0, 0))
    link = bytes([11]) + b"\x01cmd\x03/c calc"
    stream = bof + record(0x0017, link) + record(0x000A, b"")
    streams = {"Book": stream, "\x05SummaryInformation": bytes(64)}
    if beside:
        streams["Workbook"] = book()
    [found] = scan(ole_tree(streams, EXCEL_CLSID), "a.xls", policy, "xls").findings
    assert (found.code, found.message) == (
        FindingCode.EXTERNAL_LINK,
        "link to an external workbook or DDE program in the Excel workbook",
    )


def test_links_are_read_as_the_bof_version_says(policy: Policy) -> None:
    # a BIFF8 SUPBOOK in a Book stream whose BOF says 0x0601: read as BIFF8, whatever the name
    stream = bytearray(book(record(0x01AE, struct.pack("<HH", 0, 11) + b"\0cmd\x03/c calc")))
    struct.pack_into("<H", stream, 4, 0x0601)
    data = ole_tree({"Book": bytes(stream), "Workbook": book()}, EXCEL_CLSID)
    assert codes(scan(data, "a.xls", policy, "xls")) == ["DDE"]
    # a version readers take differently: two readings
    struct.pack_into("<H", stream, 4, 0x0000)
    assert "AMBIGUOUS" in codes(scan(xls(bytes(stream)), "a.xls", policy, "xls"))


def test_sheet_declared_a_worksheet_holding_macros(policy: Policy) -> None:
    """BOUNDSHEET says worksheet, the substream's BOF says macro sheet: both are reported."""
    stream = bytearray(book())
    at = len(stream) - 24  # the sheet's BOF: its document type follows version and size
    struct.pack_into("<H", stream, at + 6, 0x0040)
    assert codes(scan(xls(bytes(stream)), "a.xls", policy, "xls")) == ["XLM_MACRO", "AMBIGUOUS"]


def test_workbook_and_book_streams_are_both_read(policy: Policy) -> None:
    # Excel's "97-2003 & 5.0/95" format: each stream is checked, a clean pair passes
    data = ole_tree({"Workbook": book(), "Book": book()}, EXCEL_CLSID)
    assert codes(scan(data, "a.xls", policy, "xls")) == []
    macro = book(sheets=(("Orders", 0, 0), ("Macro1", 1, 0)))
    data = ole_tree({"Workbook": book(), "Book": macro}, EXCEL_CLSID)
    assert codes(scan(data, "a.xls", policy, "xls")) == ["XLM_MACRO"]


def test_sheet_list_that_cannot_be_read_fails_closed(policy: Policy) -> None:
    stream = bytearray(book())
    struct.pack_into("<I", stream, 24, 9999)  # the BOUNDSHEET's position: no sheet there
    [found] = scan(xls(bytes(stream)), "a.xls", policy, "xls").findings
    assert (found.code, found.message) == (
        FindingCode.CORRUPT,
        "Excel workbook whose sheets could not all be read",
    )
    assert "Orders" not in found.message  # sheet names are content


def test_damaged_workbook(policy: Policy) -> None:
    [found] = scan(xls(book()[:40]), "a.xls", policy, "xls").findings
    assert (found.code, found.message) == (FindingCode.CORRUPT, "damaged Excel workbook")


def test_streams_of_two_applications_are_ambiguous(policy: Policy) -> None:
    data = ole_tree({"WordDocument": bytes(600), "Workbook": book()}, WORD_CLSID)
    assert "AMBIGUOUS" in codes(scan(data, "a.doc", policy))


# -- encrypted OOXML -----------------------------------------------------------------------------


def test_encrypted_document_under_another_office_name(policy: Policy) -> None:
    data = encrypted(word(""), "s3cret")
    assert codes(scan(data, "orders.xlsx", policy, "encrypted_office")) == ["ENCRYPTED"]
    assert codes(scan(data, "orders.doc", policy, "encrypted_office")) == [
        "TYPE_MISMATCH",
        "ENCRYPTED",
    ]


def test_excel_default_password_is_opened(policy: Policy) -> None:
    # big enough that the encrypted package leaves the compound file's mini stream, which
    # msoffcrypto's writer does not lay out as Office reads it
    plain = samples.xlsx(samples.order_rows(200))
    data = encrypted(plain, "VelvetSweatshop")
    result = scan(data, "orders.xlsx", policy, "encrypted_office")
    assert result.findings == []
    [child] = result.children
    assert child.where == "content decrypted with Excel's default password"
    assert child.data[:2] == b"PK"


# -- the hyperlink base in the user-defined properties ------------------------------------------

SHARE_BASE = "\\\\attacker.example\\docs\\"


@pytest.mark.parametrize(
    ("properties", "code_page", "found"),
    [
        ({"_PID_LINKBASE": SHARE_BASE}, 1252, True),
        ({"_PID_LINKBASE": "file://attacker.example/docs/"}, 1252, True),
        # Unicode names, padded to 4 bytes, after a name of odd length; any case of the name
        ({"Checked by": "Ana", "_pid_LinkBase": SHARE_BASE}, 1200, True),
        ({"_PID_LINKBASE": "https://intranet.example/docs/"}, 1252, False),
        ({"_PID_LINKBASE": "C:\\Users\\me\\Documents\\"}, 1252, False),
        ({"Client": SHARE_BASE}, 1252, False),  # a property of the author's: no base
    ],
    ids=["share", "file-host", "unicode-names", "url", "local-folder", "other-name"],
)
@pytest.mark.parametrize(
    ("sample", "label"),
    [("msodde/harmless-clean.doc", "doc"), ("oleobj/embedded-simple-2007.ppt", "ppt")],
)
def test_a_hyperlink_base_on_a_share(
    oletools_data: Path,
    sample: str,
    label: str,
    properties: dict[str, str],
    code_page: int,
    found: bool,
    policy: Policy,
) -> None:
    # a real Office 2007 file with a user-defined section added, as Office writes one: Office
    # resolves relative hyperlinks against the base, as in a .docx
    original = read_sample(oletools_data, sample)
    before = codes(scan(original, f"letter.{label}", policy, label))
    data = with_user_properties(original, properties, code_page)
    with olefile.OleFileIO(data) as ole:
        assert user_defined_texts(ole, "_PID_LINKBASE") == [
            v for k, v in properties.items() if k.lower() == "_pid_linkbase"
        ]
    result = scan(data, f"letter.{label}", policy, label)
    expected = [*before, "EXTERNAL_LINK"] if found else before
    assert sorted(codes(result)) == sorted(expected)
    if found:
        [link] = [f for f in result.findings if f.code is FindingCode.EXTERNAL_LINK]
        assert link.label == "hyperlinkBase" and "attacker" not in repr(link)


@pytest.mark.parametrize(
    ("sample", "label"),
    [("msodde/harmless-clean.doc", "doc"), ("oleobj/embedded-simple-2007.ppt", "ppt")],
)
def test_a_vsto_customisation_in_the_user_defined_properties(
    oletools_data: Path, sample: str, label: str, policy: Policy
) -> None:
    # Word and Excel fetch the manifest _AssemblyLocation names and offer to install and run
    # its add-in when the document opens (red team 114); an author's own property does not
    original = read_sample(oletools_data, sample)
    before = codes(scan(original, f"letter.{label}", policy, label))
    customised = {
        "_AssemblyName": "4E3C66D5-58D4-491E-A7D4-64AF99AF6E8B",
        "_AssemblyLocation": SHARE_BASE + "Invoice.vsto|4b5a1d3c-2f6e-4a7b-9c8d-0e1f2a3b4c5d",
    }
    result = scan(with_user_properties(original, customised, 1200), f"a.{label}", policy, label)
    assert sorted(codes(result)) == sorted([*before, "EXTERNAL_LINK"])
    [link] = [f for f in result.findings if f.code is FindingCode.EXTERNAL_LINK]
    assert link.label == "_AssemblyLocation" and "attacker" not in repr(link)
    honest = with_user_properties(original, {"Client": SHARE_BASE, "Assembly": "Hall B"}, 1252)
    assert codes(scan(honest, f"letter.{label}", policy, label)) == before


def test_a_damaged_property_set_is_left_out() -> None:
    # a section whose offsets run past the stream: Office ignores such a set (not verified)
    section = user_section({"_PID_LINKBASE": SHARE_BASE}, 1252)
    damaged = section[:8] + struct.pack("<II", 0, 0xFFFFFF00) + section[16:]
    stream = b"\xfe\xff\x00\x00" + bytes(20) + struct.pack("<I", 1) + USER_DEFINED
    stream += struct.pack("<I", 48) + damaged
    data = ole_tree({"WordDocument": bytes(1024), STREAM: stream}, WORD_CLSID)
    with olefile.OleFileIO(data) as ole:
        assert user_defined_texts(ole, "_PID_LINKBASE") == []
    good = stream[:48] + section
    with olefile.OleFileIO(ole_tree({"WordDocument": bytes(1024), STREAM: good})) as ole:
        assert user_defined_texts(ole, "_PID_LINKBASE") == [SHARE_BASE]
