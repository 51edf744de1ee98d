"""Objects embedded in legacy Office files (Word's ObjectPool, Excel's MBD storages) are judged
as the file Office activates them as: an embedded worksheet is written out as a workbook of its
own (`formats.cfbwrite`) and scanned as one, an OLE package stays OLE_OBJECT. Before, every
such object was OLE_OBJECT, and an honest letter with an Excel table in it was rejected."""

from __future__ import annotations

import io
import struct
import zipfile

import olefile  # type: ignore[import-untyped]
import pytest

from attachguard import samples
from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.formats.cfbwrite import Storage, compound_file, storage_file
from attachguard.formats.ole import OleKind, classify_ole
from attachguard.policy import Policy
from attachguard.report import FileType, Status
from support import ppt_build
from support.evasions import _macro_enabled, biff_workbook
from support.fake_clamd import EICAR, FakeClamd, scanner_for
from support.oletools_data import ole_native
from support.oletools_data import xlsx as oletools_xlsx
from support.ppt_build import presentation

WORD_CLSID = "00020906-0000-0000-C000-000000000046"
EXCEL_SHEET_8 = "00020820-0000-0000-C000-000000000046"
PACKAGE_CLSID = "0003000C-0000-0000-C000-000000000046"
# the bookkeeping streams LibreOffice 7 writes for a Calc object in a .doc (its \x01CompObj
# names "Microsoft Excel 97-Tabelle", Biff8), as Word does
COMPOBJ = (
    b"\x01\x00\xfe\xff\x03\n\x00\x00\xff\xff\xff\xff\x10\x08\x02\x00\x00\x00\x00\x00\xc0\x00"
    b"\x00\x00\x00\x00\x00F\x1b\x00\x00\x00Microsoft Excel 97-Tabelle\x00\x06\x00\x00\x00Biff8"
    b"\x00\x00\x00\x00\x00"
)
OLE_STREAM = b"\x01\x00\x00\x02" + bytes(16)
POLICY = "allowed_extensions: [.doc, .xls]\n"


def embedded(
    workbook: bytes, clsid: str = EXCEL_SHEET_8, extra: dict[str, bytes] | None = None
) -> Storage:
    streams = {"\x01CompObj": COMPOBJ, "\x01Ole": OLE_STREAM, "Workbook": workbook}
    return Storage({**streams, **(extra or {})}, clsid)


def letter(obj: Storage, pool: str = "ObjectPool") -> bytes:
    """A Word 97 document (its streams as far as the office engine reads them) with ``obj``
    as ``_1024`` in its object pool."""
    return compound_file(
        Storage(
            {"WordDocument": bytes(1024), "1Table": bytes(512), pool: Storage({"_1024": obj})},
            WORD_CLSID,
        )
    )


def entries(data: bytes) -> dict[str, bytes]:
    ole = olefile.OleFileIO(io.BytesIO(data))
    try:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
    finally:
        ole.close()


# -- the writer --------------------------------------------------------------------------------


def test_written_file_reads_back_as_written() -> None:
    big = bytes(range(256)) * 40  # 10,240 bytes: sectors of its own, past the mini stream
    tree = Storage(
        {
            "Small": b"abc",
            "Empty": b"",
            "Big": big,
            "Inner": Storage({"Deeper": Storage({"Leaf": b"leaf"}, WORD_CLSID)}, EXCEL_SHEET_8),
        },
        PACKAGE_CLSID,
    )
    data = compound_file(tree)
    assert entries(data) == {
        "Small": b"abc",
        "Empty": b"",
        "Big": big,
        "Inner/Deeper/Leaf": b"leaf",
    }
    ole = olefile.OleFileIO(io.BytesIO(data))
    assert ole.root.clsid == PACKAGE_CLSID
    assert ole.getclsid(["Inner"]) == EXCEL_SHEET_8
    assert ole.getclsid(["Inner", "Deeper"]) == WORD_CLSID
    assert not ole.parsing_issues


def test_many_siblings_make_a_shallow_tree() -> None:
    # a chain of siblings is legal, but ClamAV stops walking a directory past 100 levels
    names = [f"Stream{i:03}" for i in range(300)]
    data = compound_file(Storage({n: n.encode() for n in names}))
    assert entries(data) == {n: n.encode() for n in names}
    ole = olefile.OleFileIO(io.BytesIO(data))

    def depth(sid: int) -> int:
        if sid == olefile.NOSTREAM:
            return 0
        entry = ole.direntries[sid] or ole._load_direntry(sid)
        return 1 + max(depth(entry.sid_left), depth(entry.sid_right))

    assert depth(ole.root.sid_child) <= 10


def test_a_stream_past_the_headers_table_list_is_read_through_difat_sectors() -> None:
    # 109 allocation table sectors map about 7 MB; past that, DIFAT sectors list the rest
    big = bytes(range(251)) * 33_000  # 8.3 MB
    data = compound_file(Storage({"Workbook": big}))
    assert struct.unpack_from("<I", data, 0x48)[0] >= 1  # DIFAT sectors used
    assert entries(data) == {"Workbook": big}


def test_a_storage_becomes_a_file_whose_root_is_that_storage() -> None:
    data = letter(embedded(biff_workbook([("Orders", 0, 0)])))
    ole = olefile.OleFileIO(io.BytesIO(data))
    own = storage_file(ole, ["ObjectPool", "_1024"])
    assert own is not None
    assert set(entries(own)) == {"\x01CompObj", "\x01Ole", "Workbook"}
    assert classify_ole(own).kinds == (OleKind.EXCEL,)
    assert classify_ole(own).clsid == EXCEL_SHEET_8


def test_entries_a_reader_cannot_tell_apart_are_not_rewritten() -> None:
    obj = embedded(biff_workbook([("Orders", 0, 0)]), extra={"WORKBOOK": b"another"})
    ole = olefile.OleFileIO(io.BytesIO(letter(obj)))
    assert storage_file(ole, ["ObjectPool", "_1024"]) is None
    assert storage_file(ole, ["ObjectPool", "_missing"]) is None


# -- the office engine and the whole scanner ---------------------------------------------------


def office(data: bytes, policy: Policy, name: str = "letter.doc") -> tuple[list[str], list[str]]:
    item = Item(name, data, FileType(name.rsplit(".", 1)[-1], "", "document"))
    result = OfficeEngine().scan(item, policy.context())
    return [f.code.name for f in result.findings], [c.where for c in result.children]


def test_an_embedded_worksheet_is_handed_over_as_a_workbook(policy: Policy) -> None:
    found, children = office(letter(embedded(biff_workbook([("Orders", 0, 0)]))), policy)
    assert (found, children) == ([], ["ObjectPool/_1024"])


def test_an_embedded_package_is_still_an_ole_object(policy: Policy) -> None:
    package = Storage(
        {"\x01Ole10Native": ole_native("invoice.exe", b"MZ" + bytes(200))}, PACKAGE_CLSID
    )
    found, children = office(letter(package), policy)
    assert found == ["OLE_OBJECT"]
    assert children == ["ObjectPool/_1024/invoice.exe"]


def test_an_embedded_worksheet_of_another_class_is_an_ole_object(policy: Policy) -> None:
    other = "8F1B2C3D-4E5F-4A6B-9C7D-0E1F2A3B4C5D"
    found, _ = office(letter(embedded(biff_workbook([("Orders", 0, 0)]), other)), policy)
    assert found == ["OLE_OBJECT"]


def test_an_excel_workbook_keeps_its_objects_in_mbd_storages(policy: Policy) -> None:
    book = compound_file(
        Storage(
            {
                "Workbook": biff_workbook([("Summary", 0, 0)]),
                "MBD0001A2B3": embedded(biff_workbook([("Orders", 0, 0)])),
            },
            EXCEL_SHEET_8,
        )
    )
    assert office(book, policy, "report.xls") == ([], ["MBD0001A2B3"])


@pytest.mark.parametrize(
    ("sheets", "expected"),
    [
        ([("Orders", 0, 0)], set()),
        ([("Orders", 0, 0), ("Macro1", 1, 1)], {"XLM_MACRO"}),
    ],
    ids=["worksheet", "worksheet with a hidden Excel 4 macro sheet"],
)
def test_what_is_inside_the_worksheet_decides(
    sheets: list[tuple[str, int, int]], expected: set[str]
) -> None:
    with scanner_for(FakeClamd(), POLICY) as scanner:
        report = scanner.scan(letter(embedded(biff_workbook(sheets))), "letter.doc")
    assert {f.code.name for f in report.findings} == expected
    assert report.status is (Status.REJECTED if expected else Status.APPROVED)


# -- LibreOffice's charts ----------------------------------------------------------------------

LIBREOFFICE_CHART = "0DD0A57F-CF3B-4FD2-BDA4-9442719B2A73"
CHART_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:'
    b'names:tc:opendocument:xmlns:office:1.0"><office:body><office:chart/></office:body>'
    b"</office:document-content>"
)


def chart_package(
    mimetype: bytes = b"application/vnd.oasis.opendocument.chart", **extra: bytes
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in {
            "content.xml": CHART_XML,
            "META-INF/manifest.xml": b"<m/>",
            **extra,
        }.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def chart(
    package: bytes,
    clsid: str = LIBREOFFICE_CHART,
    ole: bytes = OLE_STREAM,
    extra: dict[str, bytes] | None = None,
) -> Storage:
    """A chart as LibreOffice 7 writes it into a .doc or .ppt (the streams it writes)."""
    streams = {
        "\x01CompObj": b"\x01\x00\xfe\xff\x03\n" + bytes(60),
        "\x01Ole": ole,
        "\x02OlePres000": b"\x00\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00\xff\xff\xff\xff"
        + bytes(20),
        "package_stream": package,
        "properties_stream": bytes(16),
        **(extra or {}),
    }
    return Storage(streams, clsid)


def test_a_libreoffice_chart_is_scanned_as_its_chart(policy: Policy) -> None:
    assert office(letter(chart(chart_package())), policy) == ([], ["ObjectPool/_1024/chart"])


@pytest.mark.parametrize(
    "obj",
    [
        chart(chart_package(**{"Basic/Standard/Module1.xml": b"<module/>"})),
        chart(chart_package(**{"Scripts/python/run.py": b"import os"})),
        chart(chart_package(b"application/vnd.oasis.opendocument.text")),
        chart(b"PK\x03\x04 not a zip"),
        chart(chart_package(), "8F1B2C3D-4E5F-4A6B-9C7D-0E1F2A3B4C5D"),
        chart(chart_package(), ole=b"\x01\x00\x00\x02\x01\x00\x00\x00" + bytes(12)),  # linked
        chart(chart_package(), extra={"\x01Ole10Native": ole_native("run.exe", b"MZ" + bytes(64))}),
        chart(chart_package(), extra={"Contents": b"MZ" + bytes(64)}),
    ],
    ids=[
        "basic library",
        "python script",
        "text document",
        "no zip",
        "other class",
        "linked",
        "package beside",
        "stream beside",
    ],
)
def test_anything_else_in_a_chart_object_is_an_ole_object(obj: Storage, policy: Policy) -> None:
    found, _ = office(letter(obj), policy)
    assert found == ["OLE_OBJECT"]


LIBREOFFICE_FORMULA = "D2D59CD1-0A6A-4D36-AE20-47817077D57C"
FORMULA = b"application/vnd.oasis.opendocument.formula"


@pytest.mark.parametrize(
    ("package", "expected"),
    [(chart_package(FORMULA, **{"settings.xml": b"<s/>"}), []),
     (chart_package(FORMULA, **{"Basic/Standard/Module1.xml": b"<m/>"}), ["OLE_OBJECT"]),
     (chart_package(FORMULA, **{"Pictures/1.svg": b"<svg/>"}), ["OLE_OBJECT"]),
     (chart_package(), ["OLE_OBJECT"])],
    ids=["formula", "basic-library", "picture", "a-chart-under-the-formula-class"],
)  # fmt: skip
def test_a_libreoffice_math_formula_is_scanned_as_its_package(
    package: bytes, expected: list[str], policy: Policy
) -> None:
    """LibreOffice Math's object is written as its chart is (hunt 98: POI's equation.doc): a
    formula's parts only, no code, no picture, and it is content; anything else an object."""
    found, children = office(letter(chart(package, LIBREOFFICE_FORMULA)), policy)
    assert found == expected
    assert ("ObjectPool/_1024/chart" in children) is not bool(expected)


def test_malware_in_a_libreoffice_chart_is_found() -> None:
    package = chart_package(**{"Pictures/1.png": EICAR})
    with scanner_for(FakeClamd(), POLICY) as scanner:
        report = scanner.scan(letter(chart(package)), "letter.doc")
    assert report.status is Status.REJECTED
    assert {f.code.name for f in report.findings} == {"MALWARE"}


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        (chart_package(), []),
        (chart_package(**{"Basic/Standard/Module1.xml": b"<m/>"}), ["OLE_OBJECT"]),
    ],
    ids=["chart", "chart with a Basic library"],
)
def test_a_libreoffice_chart_in_a_presentation(
    package: bytes, expected: list[str], policy: Policy
) -> None:
    # LibreOffice writes a chart in a .ppt as an ExOleObjStg record holding the same storage
    deck = presentation(
        [ppt_build.slide(), ppt_build.storage(compound_file(chart(package)))], ppt_build.embedded(3)
    )
    found, children = office(deck, policy, "deck.ppt")
    assert found == expected
    assert ("object 1/chart" in children) is not bool(expected)  # else its streams, one by one
    assert ("object 1/package_stream" in children) is bool(expected)


# -- an Office 2007+ document embedded by its Package stream -----------------------------------

EXCEL_SHEET_12 = "00020830-0000-0000-C000-000000000046"


def ooxml_object(
    package: bytes, clsid: str = EXCEL_SHEET_12, extra: dict[str, bytes] | None = None
) -> Storage:
    """An embedded .xlsx as Office writes it (in a .ppt, a .doc, or an OOXML oleObject*.bin):
    the workbook is the Package stream (Tika's testPPT_oleWorkbook.ppt)."""
    streams = {
        "\x01CompObj": b"\x01\x00\xfe\xff\x03\n" + bytes(60),
        "\x01Ole": OLE_STREAM,
        "\x02OlePres000": bytes(64),
        "Package": package,
        **(extra or {}),
    }
    return Storage(streams, clsid)


def test_an_embedded_xlsx_is_handed_over_as_its_package(policy: Policy) -> None:
    book = oletools_xlsx()
    deck = presentation(
        [ppt_build.slide(), ppt_build.storage(compound_file(ooxml_object(book)))],
        ppt_build.embedded(3),
    )
    assert office(deck, policy, "deck.ppt") == ([], ["object 1/Package"])
    found, children = office(letter(ooxml_object(book)), policy)
    assert (found, children) == ([], ["ObjectPool/_1024/Package"])


@pytest.mark.parametrize(
    "obj",
    [
        ooxml_object(b"MZ" + bytes(200)),  # not a package
        ooxml_object(oletools_xlsx(), "8F1B2C3D-4E5F-4A6B-9C7D-0E1F2A3B4C5D"),
        ooxml_object(oletools_xlsx(), extra={"\x01Ole10Native": ole_native("a.exe", b"MZ")}),
        ooxml_object(oletools_xlsx(), extra={"Contents": b"MZ" + bytes(64)}),
    ],
    ids=["not a package", "another class", "package beside", "stream beside"],
)
def test_anything_else_beside_a_package_is_an_ole_object(obj: Storage, policy: Policy) -> None:
    assert office(letter(obj), policy)[0] == ["OLE_OBJECT"]


def test_a_linked_package_is_an_ole_object(policy: Policy) -> None:
    linked_ole = b"\x01\x00\x00\x02\x01\x00\x00\x00" + bytes(12)  # flags: linked
    linked = Storage(
        {**ooxml_object(oletools_xlsx()).entries, "\x01Ole": linked_ole}, EXCEL_SHEET_12
    )
    assert office(letter(linked), policy)[0] == ["OLE_OBJECT"]


def test_macros_in_an_embedded_package_are_found() -> None:
    book = _macro_enabled()
    with scanner_for(FakeClamd(), POLICY) as scanner:
        report = scanner.scan(letter(ooxml_object(book)), "letter.doc")
    assert "VBA_MACRO" in {f.code.name for f in report.findings}


# -- Microsoft Graph's chart (every Word and PowerPoint 97-2003 chart) ---------------------------

GRAPH = "00020803-0000-0000-C000-000000000046"


def graph_workbook(sheet_bof: int = 0x8000, macro_sheet: bool = False) -> bytes:
    """A chart's data as Microsoft Graph 97 writes it: a workbook whose chart substream starts
    with Graph's own BOF type (0x8000); with ``macro_sheet``, an Excel 4 macro sheet after it."""
    sheets = [("", 2, 0)] + ([("Macro1", 1, 1)] if macro_sheet else [])
    stream = bytearray(biff_workbook(sheets))
    first_sheet = struct.unpack_from("<I", stream, stream.index(b"\x85\x00") + 4)[0]
    struct.pack_into("<H", stream, first_sheet + 6, sheet_bof)
    return bytes(stream)


def test_a_graph_chart_is_read_as_the_workbook_it_holds(policy: Policy) -> None:
    assert office(letter(embedded(graph_workbook(), GRAPH)), policy) == ([], ["ObjectPool/_1024"])
    with scanner_for(FakeClamd(), POLICY) as scanner:
        clean = scanner.scan(letter(embedded(graph_workbook(), GRAPH)), "letter.doc")
        macro = scanner.scan(letter(embedded(graph_workbook(macro_sheet=True), GRAPH)), "l.doc")
    assert clean.status is Status.APPROVED
    assert "XLM_MACRO" in {f.code.name for f in macro.findings}


def test_a_chart_declared_over_a_macro_sheet_is_still_two_readings(policy: Policy) -> None:
    # Graph's 0x8000 is a chart either way; a macro sheet's BOF (0x0040) under a chart is not
    found, _ = office(letter(embedded(graph_workbook(sheet_bof=0x0040), GRAPH)), policy)
    assert found == []  # the object is handed over; the workbook reading says the rest
    with scanner_for(FakeClamd(), POLICY) as scanner:
        report = scanner.scan(letter(embedded(graph_workbook(sheet_bof=0x0040), GRAPH)), "l.doc")
    assert report.status is Status.REJECTED


def test_a_chart_whose_streams_readers_could_take_differently_is_an_ole_object(
    policy: Policy,
) -> None:
    # two package streams (a review's .ppt): olefile opens one, a reader searching the
    # directory tree may take the other, with a Basic library in it
    hostile = chart_package(**{"Basic/Standard/Module1.xml": b"<m/>"})
    obj = chart(chart_package(), extra={"PACKAGE_STREAM": hostile})
    deck = presentation(
        [ppt_build.slide(), ppt_build.storage(compound_file(obj))], ppt_build.embedded(3)
    )
    assert office(deck, policy, "deck.ppt")[0] == ["OLE_OBJECT"]


def test_an_embedded_storage_without_a_class_is_an_ole_object(policy: Policy) -> None:
    # Word writes the object's class on its storage; one without is not judged by its streams
    obj = embedded(biff_workbook([("Orders", 0, 0)]), clsid="")
    assert office(letter(obj), policy)[0] == ["OLE_OBJECT"]


# -- an embedded Acrobat document ---------------------------------------------------------------

ACROBAT = "B801CA65-A1FC-11D0-85AD-444553540000"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def acrobat_object(
    pdf: bytes = PDF, clsid: str = ACROBAT, extra: dict[str, bytes] | None = None
) -> Storage:
    """A PDF inserted as an object (Insert > Object > Adobe Acrobat Document), as Word writes it
    (Tika's testWORD_embedded_pdf.doc)."""
    streams = {"\x01CompObj": bytes(93), "\x01Ole": OLE_STREAM, "\x03ObjInfo": bytes(6),
               "\x03EPRINT": bytes(512), "CONTENTS": pdf, **(extra or {})}  # fmt: skip
    return Storage(streams, clsid)


def test_an_embedded_acrobat_document_is_scanned_as_its_pdf(policy: Policy) -> None:
    assert office(letter(acrobat_object()), policy) == ([], ["ObjectPool/_1024/CONTENTS"])


@pytest.mark.parametrize(
    "obj",
    [
        acrobat_object(b"MZ" + bytes(64)),
        acrobat_object(clsid="8F1B2C3D-4E5F-4A6B-9C7D-0E1F2A3B4C5D"),
        acrobat_object(extra={"\x01Ole10Native": ole_native("a.exe", b"MZ")}),
        acrobat_object(extra={"Payload": b"MZ" + bytes(64)}),
    ],
    ids=["no pdf", "another class", "package beside", "stream beside"],
)
def test_anything_else_in_an_acrobat_object_is_an_ole_object(obj: Storage, policy: Policy) -> None:
    assert office(letter(obj), policy)[0] == ["OLE_OBJECT"]


def test_javascript_in_an_embedded_pdf_is_found() -> None:
    script = samples.pdf([["Your receipt"]], js="app.alert(1)")
    with scanner_for(FakeClamd(), POLICY) as scanner:
        clean = scanner.scan(letter(acrobat_object(samples.pdf([["Your receipt"]]))), "l.doc")
        report = scanner.scan(letter(acrobat_object(script)), "letter.doc")
    assert clean.status is Status.APPROVED
    assert "PDF_JAVASCRIPT" in {f.code.name for f in report.findings}


# -- review and red-team mends: what LibreOffice writes, and names in any case --------------------


def test_libreoffices_empty_control_and_contents_streams_are_no_control(policy: Policy) -> None:
    # LibreOffice adds an empty \x03OCXNAME and contents stream to every object it carries over
    obj = embedded(biff_workbook([("Orders", 0, 0)]), extra={"\x03OCXNAME": b"", "contents": b""})
    assert office(letter(obj), policy) == ([], ["ObjectPool/_1024"])
    named = embedded(biff_workbook([("Orders", 0, 0)]), extra={"\x03OCXNAME": b"C\x00t\x00l\x00"})
    assert office(letter(named), policy)[0] == ["OLE_OBJECT"]


def test_a_storage_without_a_class_is_judged_by_the_office_class_its_compobj_names(
    policy: Policy,
) -> None:
    # LibreOffice leaves the class out of ObjectPool/_2147483647 and names Excel.Sheet.8 in
    # \x01CompObj (COMPOBJ, copied from such a file); another ProgID there is no document
    assert COMPOBJ.count(b"Biff8") == 1
    progid = COMPOBJ[:-4] + b"\x0e\x00\x00\x00Excel.Sheet.8\x00" + bytes(4)
    for compobj, found in (
        (progid, []),
        (progid.replace(b"Excel.Sheet.8", b"Package\x00\x00\x00\x00\x00\x00"), ["OLE_OBJECT"]),
    ):
        obj = Storage(
            {**embedded(biff_workbook([("Orders", 0, 0)])).entries, "\x01CompObj": compobj}, ""
        )
        assert office(letter(obj), policy)[0] == found


def test_an_empty_storage_without_a_class_is_nothing(policy: Policy) -> None:
    assert office(letter(Storage({})), policy) == ([], [])


# the 36-byte presentation stream LibreOffice writes, with no picture, in the class-less
# storage it leaves for an object it dropped (POI's pp_ole_xlsx.ppt, Tika's testPPT_embeded.ppt)
EMPTY_PICTURE = bytes.fromhex("000000000400000001000000ffffffff") + bytes(20)


@pytest.mark.parametrize("where", ["doc", "ppt"])
def test_a_storage_without_a_class_holding_only_its_picture_is_no_object(
    where: str, policy: Policy
) -> None:
    obj = Storage({"\x02OlePres000": EMPTY_PICTURE})
    if where == "doc":
        assert office(letter(obj), policy) == ([], [])  # an empty picture: nothing to hand on
        return
    deck = presentation(
        [ppt_build.slide(), ppt_build.storage(compound_file(obj))], ppt_build.embedded(3)
    )
    assert office(deck, policy, "deck.ppt") == ([], [])


@pytest.mark.parametrize(
    "obj",
    [
        Storage({"\x02OlePres000": EMPTY_PICTURE}, PACKAGE_CLSID),  # a class: a server to start
        Storage({"\x02OlePres000": EMPTY_PICTURE, "Contents": b"MZ" + bytes(64)}),
        Storage({"\x02OlePres000": EMPTY_PICTURE, "\x01Ole10Native": ole_native("a.exe", b"MZ")}),
        Storage({"\x02OlePres000": Storage({"Contents": b"MZ" + bytes(64)})}),  # a storage
    ],
    ids=["a class", "a data stream", "a package", "a storage named as a picture"],
)
def test_a_storage_with_more_than_its_picture_is_an_object(obj: Storage, policy: Policy) -> None:
    assert office(letter(obj), policy)[0] == ["OLE_OBJECT"]
    deck = presentation(
        [ppt_build.slide(), ppt_build.storage(compound_file(obj))], ppt_build.embedded(3)
    )
    assert office(deck, policy, "deck.ppt")[0] == ["OLE_OBJECT"]


def picture_stream(data: bytes) -> bytes:
    """A presentation stream (MS-OLEDS 2.3.4) holding ``data`` as its picture."""
    return EMPTY_PICTURE[:32] + struct.pack("<I", len(data)) + data


def test_a_program_as_the_picture_of_a_storage_without_a_class_is_found() -> None:
    # the pictures are handed over as content: every engine sees them
    obj = Storage({"\x02OlePres000": picture_stream(EICAR)})
    with scanner_for(FakeClamd(), POLICY) as scanner:
        report = scanner.scan(letter(obj), "letter.doc")
    assert [f.code.name for f in report.findings] == ["MALWARE"]


@pytest.mark.parametrize(
    "stream",
    [
        EMPTY_PICTURE + b"MZ" + bytes(100),  # bytes after an empty picture (the review's)
        picture_stream(b"x" * 10) + bytes(40),  # more than a trailer after the picture
        picture_stream(b"x" * 10)[:-4],  # a picture cut short
    ],
    ids=["after an empty picture", "after a picture", "cut short"],
)
def test_a_picture_stream_whose_fields_do_not_account_for_its_bytes_is_an_object(
    stream: bytes, policy: Policy
) -> None:
    assert office(letter(Storage({"\x02OlePres000": stream})), policy)[0] == ["OLE_OBJECT"]


def test_an_ole_stream_too_short_to_read_is_taken_as_linked(policy: Policy) -> None:
    obj = embedded(
        biff_workbook([("Orders", 0, 0)]), extra={"\x01Ole": b"\x01\x00\x00\x02\x01\x00\x00"}
    )
    assert office(letter(obj), policy)[0] == ["OLE_OBJECT"]


@pytest.mark.parametrize("pool", ["objectpool", "OBJECTPOOL"])
def test_object_pools_are_found_in_any_case(pool: str, policy: Policy) -> None:
    # storage names compare without case (MS-CFB 2.6.4): a red team's lower-case pool hid a
    # package holding a program
    package = Storage(
        {"\x01Ole10Native": ole_native("invoice.exe", b"MZ" + bytes(200))}, PACKAGE_CLSID
    )
    assert office(letter(package, pool=pool), policy)[0] == ["OLE_OBJECT"]


def test_excel_object_storages_are_found_in_any_case(policy: Policy) -> None:
    package = Storage(
        {"\x01Ole10Native": ole_native("invoice.exe", b"MZ" + bytes(200))}, PACKAGE_CLSID
    )
    book = compound_file(
        Storage({"Workbook": biff_workbook([("S", 0, 0)]), "mbd0001": package}, EXCEL_SHEET_8)
    )
    assert office(book, policy, "report.xls")[0] == ["OLE_OBJECT"]


def test_a_package_that_is_no_office_document_is_an_ole_object(policy: Policy) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("invoice.lnk", b"L\x00\x00\x00" + bytes(72))
    assert office(letter(ooxml_object(out.getvalue())), policy)[0] == ["OLE_OBJECT"]


@pytest.mark.parametrize(
    "extra",
    [
        {
            "styles.xml": b'<s xmlns:draw="urn:d" xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<draw:fill-image xlink:href="\\\\host\\s\\bg.png"/></s>'
        },
        {
            "styles.xml": b'<s xmlns:xlink="http://www.w3.org/1999/xlink"><i xlink:href="https://h/b.png"/></s>'
        },
        {
            "content.xml": CHART_XML.replace(
                b"<office:chart/>", b"<office:chart><office:event-listeners/></office:chart>"
            )
        },
        {"Pictures/1.svg": b"<svg onload='x()'/>"},
        {"content.xml": b"<unclosed"},
    ],
    ids=[
        "fill from a share",
        "picture from the web",
        "event listeners",
        "svg picture",
        "damaged xml",
    ],
)
def test_a_chart_that_loads_or_runs_anything_is_an_ole_object(
    extra: dict[str, bytes], policy: Policy
) -> None:
    assert office(letter(chart(chart_package(**extra))), policy)[0] == ["OLE_OBJECT"]


def test_a_chart_with_its_own_pictures_is_a_chart(policy: Policy) -> None:
    styles = b'<s xmlns:xlink="http://www.w3.org/1999/xlink"><i xlink:href="Pictures/1.png"/></s>'
    package = chart_package(**{"styles.xml": styles, "Pictures/1.png": b"\x89PNG\r\n\x1a\n"})
    assert office(letter(chart(package)), policy)[0] == []


def test_a_zip_the_model_cannot_place_is_read_as_a_zip() -> None:
    # the model called a LibreOffice chart package "unknown", "odt" or "ods" by its members'
    # times: as "unknown" no engine unpacked it, and a program in it went unseen by the zip
    # engine (the test above failed one run in three)
    from attachguard.engines.filetype_structure import structure

    assert structure(chart_package(), "unknown") == "zip"
    assert structure(chart_package(), "zip") == "zip"
    assert structure(b"PK\x03\x04 not a zip at all", "unknown") is None


def test_activex_controls_in_a_workbooks_ctls_stream_are_found(policy: Policy) -> None:
    # Excel keeps ActiveX controls' data in the Ctls stream ([MS-XLS] 2.1.7.4): a class id,
    # then the control's persisted data (red team 95: MSCOMCTL's ListView, CVE-2012-0158)
    listview = bytes.fromhex("4BE29D BF1C CE11 9A6E 00AA00 4B4D6E".replace(" ", "")) + bytes(64)
    workbook = biff_workbook([("Orders", 0, 0)])
    with_control = compound_file(Storage({"Workbook": workbook, "Ctls": listview}, EXCEL_SHEET_8))
    found, _ = office(with_control, policy, "report.xls")
    assert found == ["OLE_OBJECT"]
    empty = compound_file(Storage({"Workbook": workbook, "Ctls": b""}, EXCEL_SHEET_8))
    assert office(empty, policy, "report.xls")[0] == []
    # the same workbook embedded in a letter is scanned as the workbook it is
    with scanner_for(FakeClamd(), POLICY) as scanner:
        report = scanner.scan(letter(embedded(workbook, extra={"Ctls": listview})), "l.doc")
    assert [f.code.name for f in report.findings] == ["OLE_OBJECT"]


@pytest.mark.parametrize(
    "stream",
    [
        # a clipboard format's name holding a program (its length says 300 bytes)
        struct.pack("<I", 300) + b"MZ" + bytes(298) + EMPTY_PICTURE[4:],
        # a target device holding one
        EMPTY_PICTURE[:4]
        + struct.pack("<I", 4 + 300)
        + b"MZ\x90\x00"
        + bytes(60)
        + struct.pack("<I", 64)
        + bytes(232)
        + b"PE\x00\x00"
        + bytes(4)
        + EMPTY_PICTURE[8:],
    ],
    ids=["format name", "target device"],
)
def test_a_presentation_streams_other_fields_hold_no_program(stream: bytes, policy: Policy) -> None:
    assert office(letter(Storage({"\\x02OlePres000": stream})), policy)[0] == ["OLE_OBJECT"]
