"""formats.ole: what a compound file really is, and the sheets of the workbook inside, on files
built here (with the ole_file helper) and on the real samples oletools tests itself with."""

from __future__ import annotations

import struct
from pathlib import Path

import olefile  # type: ignore[import-untyped]
import pytest

from attachguard.formats import ole
from attachguard.formats.ole import LinkKind, OleKind, SheetType, Visibility, with_difat_ended
from support import oletools_data as testdata
from support.oletools_data import ole_file, read_sample

oletools_data = testdata.oletools_data  # the session fixture, used by name below

WORD_CLSID = "00020906-0000-0000-C000-000000000046"
EXCEL_CLSID = "00020820-0000-0000-C000-000000000046"
MSI_CLSID = "000C1084-0000-0000-C000-000000000046"
# Windows Installer packs table names into U+3800..U+4840; U+4840 starts a table's name.
MSI_STREAMS = {"\u4840\u3f3f\u4577\u446c\u3e6a": b"tables", "\x05SummaryInformation": b"\xfe\xff"}

# -- BIFF builders ------------------------------------------------------------------------------

BOF, EOF, BOUNDSHEET, CONTINUE = 0x0809, 0x000A, 0x0085, 0x003C
SUBSTREAM = {SheetType.WORKSHEET: 0x10, SheetType.MACRO: 0x40, SheetType.CHART: 0x20}


def record(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def bof(dt: int, biff: int = 8) -> bytes:
    if biff == 8:
        return record(BOF, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0xC1, 0x06))
    return record(BOF, struct.pack("<HHHH", 0x0500, dt, 0x0DBB, 0x07CC))


def boundsheet(position: int, name: str, sheet_type: int, state: int, biff: int = 8) -> bytes:
    head = struct.pack("<IBB", position, state, sheet_type)
    if biff == 8:
        return record(BOUNDSHEET, head + bytes([len(name), 0]) + name.encode("latin-1"))
    return record(BOUNDSHEET, head + bytes([len(name)]) + name.encode("cp1252"))


def workbook(
    sheets: list[tuple[str, SheetType, Visibility]],
    *,
    biff: int = 8,
    extra: bytes = b"",
    substreams: list[SheetType] | None = None,
) -> bytes:
    """A workbook stream: globals (BOF, ``extra``, one BOUNDSHEET per sheet, EOF), then one
    substream per sheet, of the type in ``substreams`` (default: the sheet's own)."""
    kinds = substreams or [kind for _, kind, _ in sheets]
    bodies = [bof(SUBSTREAM[kind], biff) + record(EOF, b"") for kind in kinds]
    size = len(bof(0x0005, biff) + extra + record(EOF, b""))
    size += sum(len(boundsheet(0, name, 0, 0, biff)) for name, _, _ in sheets)
    declared = b""
    for (name, kind, state), body in zip(sheets, bodies, strict=True):
        declared += boundsheet(size, name, kind, state, biff)
        size += len(body)
    return bof(0x0005, biff) + extra + declared + record(EOF, b"") + b"".join(bodies)


def xls(stream: bytes, clsid: str = EXCEL_CLSID, name: str = "Workbook") -> bytes:
    return ole_file({name: stream, "\x05SummaryInformation": b"\xfe\xff"}, clsid=clsid)


NORMAL = [
    ("Orders", SheetType.WORKSHEET, Visibility.VISIBLE),
    ("Totals", SheetType.WORKSHEET, Visibility.VISIBLE),
    ("Chart1", SheetType.CHART, Visibility.VISIBLE),
]

# -- What the container is -----------------------------------------------------------------------


def test_msi_named_doc_is_a_mismatch_named_right() -> None:
    container = ole.classify_ole(ole_file(MSI_STREAMS, clsid=MSI_CLSID))
    assert container.kind is OleKind.MSI
    assert container.name == "a Windows installer (MSI) package"
    assert container.clsid == MSI_CLSID
    check = ole.matches_extension(container, ".doc")
    assert not check.ok
    assert check.message == (
        "a Windows installer (MSI) package named .doc; Word expects a Word 97-2003 document"
    )
    assert ole.matches_extension(container, ".msi").ok


def test_msi_recognised_by_its_stream_names_without_the_class_id() -> None:
    container = ole.classify_ole(ole_file(MSI_STREAMS))
    assert container.kinds == (OleKind.MSI,)


def test_msi_with_a_word_stream_is_ambiguous_and_not_a_doc() -> None:
    data = ole_file({"WordDocument": b"\xec\xa5", **MSI_STREAMS}, clsid=MSI_CLSID)
    container = ole.classify_ole(data)
    assert container.kinds == (OleKind.WORD, OleKind.MSI)
    assert container.problems == (
        "streams of a Word 97-2003 document and of a Windows installer (MSI) package",
    )
    assert not ole.matches_extension(container, ".doc").ok


def test_doc_without_a_word_document_stream_is_a_mismatch() -> None:
    container = ole.classify_ole(ole_file({"1Table": b"x", "Data": b"y"}, clsid=WORD_CLSID))
    assert container.kind is OleKind.UNKNOWN  # the Word class id alone makes no Word document
    check = ole.matches_extension(container, "doc")
    assert (
        check.message == "an unknown compound file named .doc; Word expects a Word 97-2003 document"
    )


def test_real_word_document_matches_doc() -> None:
    data = ole_file({"WordDocument": b"\xec\xa5", "1Table": b"x"}, clsid=WORD_CLSID)
    container = ole.classify_ole(data)
    assert (container.kind, container.problems) == (OleKind.WORD, ())
    assert sorted(container.streams) == ["1Table", "WordDocument"]
    assert ole.matches_extension(container, ".DOC").ok


def test_a_package_protected_by_rights_management_is_an_encrypted_one() -> None:
    """A sensitivity label (Purview, RMS) encrypts the package with its DRMEncryptedTransform
    in the \\x06DataSpaces storage, and has no EncryptionInfo stream (hunt 98's deck: "an
    unknown compound file named .pptx", the customer told the type was wrong)."""
    from attachguard.formats.cfbwrite import Storage, compound_file

    spaces = Storage({"Version": b"\x3c\x00", "DataSpaceMap": b"\x08\x00"})
    data = compound_file(Storage({"EncryptedPackage": bytes(64), "\x06DataSpaces": spaces}))
    container = ole.classify_ole(data)
    assert container.name == "an encrypted Office document"
    assert ole.matches_extension(container, ".pptx").ok
    bare = compound_file(Storage({"EncryptedPackage": bytes(64)}))
    assert ole.classify_ole(bare).name == "an unknown compound file"


def test_encrypted_ooxml_matches_docx_but_not_doc() -> None:
    data = ole_file({"EncryptionInfo": b"\x04\x00", "EncryptedPackage": b"\0" * 16})
    container = ole.classify_ole(data)
    assert container.name == "an encrypted Office document"
    assert ole.matches_extension(container, ".docx").ok
    assert ole.matches_extension(container, ".xlsx").ok
    check = ole.matches_extension(container, ".doc")
    assert check.message == (
        "an encrypted Office document named .doc; Word expects a Word 97-2003 document"
    )


@pytest.mark.parametrize(
    ("streams", "kind"),
    [
        ({"__substg1.0_0037001F": b"Subject", "__properties_version1.0": b""}, OleKind.OUTLOOK),
        ({"VisioDocument": b"Visio"}, OleKind.VISIO),
        ({"PowerPoint Document": b"", "Current User": b""}, OleKind.POWERPOINT),
        ({"Book": bof(0x0005, 5)}, OleKind.EXCEL),
        ({"\x01Ole10Native": b"\0\0\0\0"}, OleKind.OLE_PACKAGE),
        ({"Equation Native": b"\x1c\0"}, OleKind.EQUATION),
        ({"MatOST": b"", "CONTENTS": b""}, OleKind.WORKS),
    ],
)
def test_other_kinds(streams: dict[str, bytes], kind: OleKind) -> None:
    assert ole.classify_ole(ole_file(streams)).kinds == (kind,)


def test_other_extensions_are_not_judged() -> None:
    container = ole.classify_ole(ole_file({"Data": b"x"}))
    assert ole.matches_extension(container, ".bin").ok
    assert ole.matches_extension(container, "").ok


def test_same_name_twice_is_ambiguous() -> None:
    # stream names compare case-insensitively: Windows and olefile may open either
    data = ole_file({"Workbook": workbook(NORMAL), "WORKBOOK": b"\0" * 8})
    problems = ole.classify_ole(data).problems
    assert problems[0].lower() == "two entries named 'workbook'"


def test_not_a_compound_file() -> None:
    with pytest.raises(ole.OleUnreadable, match="not a compound file"):
        ole.classify_ole(b"PK\x03\x04" + bytes(2000))
    with pytest.raises(ole.OleUnreadable, match="damaged"):
        ole.classify_ole(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(100))  # too short


def test_directory_entries_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ole, "MAX_ENTRIES", 2)
    container = ole.classify_ole(ole_file({"A": b"", "B": b"", "WordDocument": b""}))
    assert container.over_limit
    assert container.streams == ("A", "B")
    assert container.problems == ("more than 2 directory entries; the rest not examined",)


# -- Workbook sheets ----------------------------------------------------------------------------


def test_benign_workbook_with_chart_sheet() -> None:
    [book] = ole.read_workbooks(xls(workbook(NORMAL)))
    assert (book.stream, book.biff, book.encrypted, book.problems) == ("Workbook", 8, False, ())
    assert [(s.name, s.type, s.visibility, s.substream) for s in book.sheets] == [
        ("Orders", SheetType.WORKSHEET, Visibility.VISIBLE, SheetType.WORKSHEET),
        ("Totals", SheetType.WORKSHEET, Visibility.VISIBLE, SheetType.WORKSHEET),
        ("Chart1", SheetType.CHART, Visibility.VISIBLE, SheetType.CHART),
    ]
    assert not any(s.is_macro_sheet for s in book.sheets)


def test_macro_sheet_found_whatever_the_root_class_id() -> None:
    sheets = [("Sheet1", SheetType.WORKSHEET, Visibility.VISIBLE),
              ("Auto_Open", SheetType.MACRO, Visibility.HIDDEN)]  # fmt: skip
    data = xls(workbook(sheets), clsid=WORD_CLSID)  # the red team's renamed class id
    assert ole.classify_ole(data).kind is OleKind.EXCEL
    macro = ole.excel_sheets(data)[1]
    assert (macro.name, macro.type, macro.visibility) == (
        "Auto_Open",
        SheetType.MACRO,
        Visibility.HIDDEN,
    )
    assert macro.is_macro_sheet


def test_very_hidden_macro_sheet() -> None:
    sheets = [("Sheet1", SheetType.WORKSHEET, Visibility.VISIBLE),
              ("x", SheetType.MACRO, Visibility.VERY_HIDDEN)]  # fmt: skip
    macro = ole.excel_sheets(xls(workbook(sheets)))[1]
    assert (macro.visibility, macro.is_macro_sheet) == (Visibility.VERY_HIDDEN, True)


def test_sheet_declared_a_worksheet_with_macro_content_is_ambiguous() -> None:
    sheets = [("Sheet1", SheetType.WORKSHEET, Visibility.VISIBLE)]
    [book] = ole.read_workbooks(xls(workbook(sheets, substreams=[SheetType.MACRO])))
    assert book.sheets[0].is_macro_sheet
    assert book.problems == ("sheet 'Sheet1': declared a worksheet, its content is a macro",)


def test_biff5_book_stream() -> None:
    sheets = [("Données", SheetType.WORKSHEET, Visibility.VISIBLE),
              ("Macro1", SheetType.MACRO, Visibility.VISIBLE)]  # fmt: skip
    [book] = ole.read_workbooks(xls(workbook(sheets, biff=5), name="Book"))
    assert (book.stream, book.biff, book.problems) == ("Book", 5, ())
    assert [(s.name, s.is_macro_sheet) for s in book.sheets] == [
        ("Données", False),
        ("Macro1", True),
    ]


def test_both_workbook_streams_are_read() -> None:
    # Excel's "97-2003 & 5.0/95" format: two workbooks, each read (the Excel versions that
    # take one or the other see different ones)
    macro = [("Macro1", SheetType.MACRO, Visibility.VISIBLE)]
    data = ole_file({"Workbook": workbook(NORMAL), "Book": workbook(macro, biff=5)})
    books = ole.read_workbooks(data)
    assert [(b.stream, b.problems) for b in books] == [("Workbook", ()), ("Book", ())]
    assert books[1].sheets[0].is_macro_sheet


def externsheet(name: bytes) -> bytes:
    """A BIFF5 EXTERNSHEET: the encoded name's length, then the name."""
    return record(0x0017, bytes([len(name)]) + name)


@pytest.mark.parametrize(
    ("name", "links"),
    [
        (b"\x01\x01Cprices.xls", [(LinkKind.ELSEWHERE, "Cprices.xls")]),  # another workbook
        (b"\x01cmd\x03/c calc", [(LinkKind.ELSEWHERE, "cmd|/c calc")]),  # DDE, encoded alike
        (b"\x03Totals", []),  # a sheet of this workbook
        (b"\x02", []),
        (b"\x04", []),  # this workbook
        (b":", []),  # add-in functions
        # no code, or more after one: a reader takes it for a plain path
        (b"[x.xls]Sheet1", [(LinkKind.ELSEWHERE, "[x.xls]Sheet1")]),
        (b"\\\\evil\\s\\[x.xls]S", [(LinkKind.ELSEWHERE, "\\\\evil\\s\\[x.xls]S")]),
        (b"cmd\x03/c calc", [(LinkKind.ELSEWHERE, "cmd|/c calc")]),
        (b"\x04\\\\evil\\s\\x.xls", [(LinkKind.ELSEWHERE, "\\\\evil\\s\\x.xls")]),
        (b"\x03[x.xls]Sheet1", [(LinkKind.ELSEWHERE, "[x.xls]Sheet1")]),
    ],
)
def test_excel_95_links_are_read_from_externsheet(
    name: bytes, links: list[tuple[LinkKind, str]]
) -> None:
    stream = workbook(NORMAL, biff=5, extra=externsheet(name))
    [book] = ole.read_workbooks(xls(stream, name="Book"))
    assert [(link.kind, link.target) for link in book.links] == links
    # the record means nothing in BIFF8, where SUPBOOK lists the links
    [book8] = ole.read_workbooks(xls(workbook(NORMAL, extra=externsheet(name))))
    assert book8.links == ()


def test_name_split_by_continue_record() -> None:
    """A BIFF8 string cut by CONTINUE restarts with its own option byte (here: two-byte
    characters after the cut), as Excel reads it."""

    def globals_(position: int) -> bytes:
        head = struct.pack("<IBB", position, 0, 1) + bytes([6, 0]) + b"Mac"
        tail = bytes([1]) + "ro1".encode("utf-16-le")
        return bof(5) + record(BOUNDSHEET, head) + record(CONTINUE, tail) + record(EOF, b"")

    stream = globals_(len(globals_(0))) + bof(0x40) + record(EOF, b"")
    [book] = ole.read_workbooks(xls(stream))
    assert book.problems == ()
    assert [(s.name, s.type, s.substream) for s in book.sheets] == [
        ("Macro1", SheetType.MACRO, SheetType.MACRO)
    ]


def test_globals_without_end() -> None:
    # ole_file pads the stream with zeros: empty records up to its end, and no EOF
    [book] = ole.read_workbooks(ole_file({"Workbook": bof(5)}))
    assert book.problems == ("the workbook stream ends before its globals end",)


def test_record_longer_than_the_stream() -> None:
    stream = bof(5) + struct.pack("<HH", BOUNDSHEET, 0xFFFF)
    [book] = ole.read_workbooks(ole_file({"Workbook": stream.ljust(8000, b"\0")}))
    assert book.problems == (f"truncated record 0x0085 at offset {len(bof(5))}",)


def test_record_walk_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ole, "MAX_RECORDS", 10)
    filler = record(0x0042, b"\xe4\x04") * 20  # CODEPAGE, again and again
    [book] = ole.read_workbooks(xls(workbook(NORMAL, extra=filler)))
    assert book.problems == ("more than 10 records; the rest not read",)


def test_short_boundsheet_and_missing_substream() -> None:
    stream = (
        bof(5) + record(BOUNDSHEET, b"\0\0") + boundsheet(9999, "Gone", 0, 0) + record(EOF, b"")
    )
    [book] = ole.read_workbooks(xls(stream))
    assert book.problems == (
        f"short BOUNDSHEET record at offset {len(bof(5))}",
        "sheet 'Gone': no sheet starts at its position 9999",
    )
    assert [s.substream for s in book.sheets] == [None]


def test_stream_without_bof() -> None:
    [book] = ole.read_workbooks(xls(record(0x0042, b"\xe4\x04") + record(EOF, b"")))
    assert book.problems == ("the workbook stream does not start with a BOF record",)


def test_encrypted_workbook_lists_no_sheets() -> None:
    filepass = record(0x002F, struct.pack("<HHH", 0, 0x1234, 0x5678))  # XOR obfuscation
    [book] = ole.read_workbooks(xls(workbook(NORMAL, extra=filepass)))
    assert book.encrypted
    assert book.sheets == ()


def test_dde_and_external_links() -> None:
    dde = record(0x01AE, struct.pack("<HH", 0, 11) + b"\0cmd\x03/c calc")
    name = record(0x0023, struct.pack("<HI", 0, 0) + bytes([2, 0]) + b"A0")
    external = record(0x01AE, struct.pack("<HH", 1, 9) + b"\0\x01\x01Cprices")
    this_book = record(0x01AE, struct.pack("<HH", 3, 0x0401))
    [book] = ole.read_workbooks(xls(workbook(NORMAL, extra=dde + name + external + this_book)))
    assert book.links == (
        ole.Link(LinkKind.DDE_OR_OLE, "cmd|/c calc", ("A0",), path="cmd\x03/c calc"),
        ole.Link(LinkKind.EXTERNAL, "Cprices", path="\x01\x01Cprices"),
    )


@pytest.mark.parametrize(
    ("encoded", "path", "local"),
    [
        ("\x01\x01C\x03Data\x03prices.xls", "C:\\Data\\prices.xls", True),
        ("\x01\x02Users\x03me\x03b.xls", "\\Users\\me\\b.xls", True),
        ("\x01prices.xls", "prices.xls", True),  # beside the workbook
        ("prices.xls", "prices.xls", True),
        ("\x01\x04\x04prices.xls", "..\\..\\prices.xls", True),
        ("\x01\x06PERSONAL.XLS", "C:\\Program Files\\Microsoft Office\\PERSONAL.XLS", True),
        ("\x01\x01@srv\x03share\x03b.xls", "\\\\srv\\share\\b.xls", False),
        ("\x01\x05\x1ahttps://evil.example/b.xls", "https://evil.example/b.xls", False),
        ("\x01\x05\x1chttps://evil.example/b.xls", None, False),  # shorter than its length
        # red team 93: the text a URL part's length leaves, read on; brackets; a share after a
        # startup folder; a drive that is no letter
        ("\x01\x05\x01\\\x03srv\x03share\x03b.xls", "\\\\srv\\share\\b.xls", False),
        ("[\\\\srv\\share\\b.xls]Sheet1", "[\\\\srv\\share\\b.xls]Sheet1", False),
        ("\x01[http://evil.example/b.xls]Sheet1", "[http://evil.example/b.xls]Sheet1", False),
        ("\x01\x06\x01@srv\x03b.xls", "C:\\Program Files\\Microsoft Office\\\\\\srv\\b.xls", False),
        ("\x01\x01\x03\x03srv\x03b.xls", None, False),
        ("\x01\x01", None, False),  # a drive part cut short
        ("\x01a\x09b.xls", None, False),  # a control character not read here
        ("", "", False),  # a name cut short in the record
    ],
)  # fmt: skip
def test_an_external_workbooks_encoded_name_is_read_as_excel_reads_it(
    encoded: str, path: str | None, local: bool
) -> None:
    """Precision 90: a .xls linked to a workbook on the author's own drive or beside it is
    judged as the same link in a .xlsx (allowed); a share or a URL is not."""
    assert ole.opened_path(encoded) == path
    assert ole.Link(LinkKind.EXTERNAL, "", path=encoded).local is local


def test_no_workbook_stream() -> None:
    assert ole.read_workbooks(ole_file({"WordDocument": b""})) == []
    assert ole.excel_sheets(ole_file({"WordDocument": b""})) == []


def test_oversized_workbook_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ole, "MAX_STREAM", 100)
    [book] = ole.read_workbooks(xls(workbook(NORMAL)))  # padded to 4096 bytes: over 100
    assert book.problems == ("the Workbook stream is not a stream or is over 100 bytes",)


# -- Real samples (oletools' test data) --------------------------------------------------------

# What each extension's application opens; every compound file among the samples is checked.
EXPECTED = {
    **dict.fromkeys(("doc", "dot"), OleKind.WORD),
    **dict.fromkeys(("xls", "xla", "xlt"), OleKind.EXCEL),
    **dict.fromkeys(("ppt", "pps", "pot"), OleKind.POWERPOINT),
    **dict.fromkeys(
        ("docx", "docm", "xlsx", "xlsm", "xlsb", "pptx", "pptm"), OleKind.ENCRYPTED_PACKAGE
    ),
}


def test_every_real_compound_file_is_classified_and_matches_its_extension(
    oletools_data: Path,
) -> None:
    seen: dict[str, OleKind] = {}
    for path in sorted(oletools_data.rglob("*")):
        relative = str(path.relative_to(oletools_data))
        data = read_sample(oletools_data, relative) if path.is_file() else b""
        if data[:8] != olefile.MAGIC:
            continue
        ext = relative.removesuffix(".zip").rsplit(".", 1)[-1]
        container = ole.classify_ole(data)
        assert (container.kinds, container.problems) == ((EXPECTED[ext],), ()), relative
        assert ole.matches_extension(container, ext).ok, relative
        seen[relative] = container.kind
    legacy = [kind for kind in seen.values() if kind is not OleKind.ENCRYPTED_PACKAGE]
    assert {OleKind.WORD, OleKind.EXCEL, OleKind.POWERPOINT} <= set(legacy)
    assert len(legacy) >= 25


@pytest.mark.parametrize(
    "path",
    ["excel4-macros/excel4_sample_macro.xls", "excel4-macros/excel4_sample_macro.xlt",
     "excel4-macros/excel4_sample_macro_excel5_format.xls"],
)  # fmt: skip
def test_real_xlm_samples_have_a_macro_sheet(path: str, oletools_data: Path) -> None:
    [book] = ole.read_workbooks(read_sample(oletools_data, path))
    assert book.problems == ()
    assert [(s.name, s.is_macro_sheet) for s in book.sheets] == [
        ("Macro1", True),
        ("Sheet1", False),
    ]


def test_real_workbook_without_macros(oletools_data: Path) -> None:
    [book] = ole.read_workbooks(read_sample(oletools_data, "oleobj/embedded-simple-2007.xls"))
    assert (book.problems, book.links) == ((), ())
    assert [s.name for s in book.sheets] == ["Tabelle1", "Tabelle2", "Tabelle3"]
    assert not any(s.is_macro_sheet or s.visibility for s in book.sheets)


def test_real_encrypted_workbook(oletools_data: Path) -> None:
    [book] = ole.read_workbooks(read_sample(oletools_data, "encrypted/encrypted.xls"))
    assert (book.encrypted, book.sheets, book.problems) == (True, (), ())


@pytest.mark.parametrize(
    ("version", "biff", "problem"), [(0x0500, 5, False), (0x0501, 5, False), (0x0601, 8, False),
                                     (0x0000, 8, True), (0x0700, 8, True)]
)  # fmt: skip
def test_the_bof_version_is_read_by_its_high_byte(version: int, biff: int, problem: bool) -> None:
    # as Excel and LibreOffice take it; one they take differently is a problem of two readings
    stream = bytearray(workbook(NORMAL))
    struct.pack_into("<H", stream, 4, version)
    [book] = ole.read_workbooks(xls(bytes(stream)))
    assert book.biff == biff
    assert any("which readers take differently" in p for p in book.problems) is problem


# -- the DIFAT's end, read as Excel reads it (hunt 103) ---------------------------------------


def _with_difat(last: int, count: int = 1) -> bytes:
    """A compound file's header counting ``count`` DIFAT sectors from sector 0, whose last
    pointer is ``last``."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[30] = 9  # 512-byte sectors
    header[68:76] = (0).to_bytes(4, "little") + count.to_bytes(4, "little")
    sector = bytearray(b"\xff" * 508) + last.to_bytes(4, "little")
    return bytes(header + sector)


def test_a_difat_ended_by_anything_but_endofchain_is_read_by_its_count() -> None:
    # SAP's exports end the DIFAT with DIFSECT (xlrd's issue85.xls); olefile refused the file
    # (CORRUPT), Excel reads as many DIFAT sectors as the header counts
    sap = _with_difat(0xFFFFFFFC)
    mended = with_difat_ended(sap)
    assert mended[-4:] == b"\xfe\xff\xff\xff" and mended[:-4] == sap[:-4]
    for ended in (_with_difat(0xFFFFFFFE), _with_difat(0xFFFFFFFF), _with_difat(7, count=0)):
        assert with_difat_ended(ended) == ended
    assert with_difat_ended(b"PK\x03\x04" + bytes(600)) == b"PK\x03\x04" + bytes(600)
    assert with_difat_ended(sap[:600]) == sap[:600]  # a sector cut short: left as it is
