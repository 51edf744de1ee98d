"""Word fields reassembled from WordprocessingML built here, and their classification."""

from __future__ import annotations

import time
from xml.etree import ElementTree

import pytest

from attachguard.formats import wordfields
from attachguard.formats.wordfields import (
    EXCERPT,
    MAX_DEPTH,
    MAX_FIELDS,
    MAX_INSTRUCTION,
    NESTED,
    FieldInstruction,
    FieldLimitError,
    FieldThreat,
    ThreatKind,
    classify_field,
    field_instructions,
)

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
WPS_NS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
BEGIN = '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
SEPARATE = '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
END = '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
CMD = r"c:\\windows\\system32\\cmd.exe"  # as Word writes it in a field: backslashes doubled
DDE_COMMAND = f'DDEAUTO {CMD} "/k calc.exe"'


def document(body: str, namespace: str = W_NS) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{namespace}" xmlns:mc="{MC_NS}" xmlns:wps="{WPS_NS}">'
        f"<w:body>{body}</w:body></w:document>"
    ).encode()


def instr(text: str, tag: str = "instrText") -> str:
    return f'<w:r><w:{tag} xml:space="preserve">{text}</w:{tag}></w:r>'


def text(words: str) -> str:
    return f"<w:r><w:t>{words}</w:t></w:r>"


def field(*pieces: str, result: str = "1") -> str:
    """A complex field whose instruction is written in the given instrText runs."""
    return BEGIN + "".join(map(instr, pieces)) + SEPARATE + text(result) + END


def paragraph(*content: str) -> str:
    return f"<w:p>{''.join(content)}</w:p>"


def texts(xml: bytes) -> list[str]:
    return [found.text for found in field_instructions(xml)]


def threats(xml: bytes) -> list[FieldThreat]:
    return [t for found in field_instructions(xml) if (t := classify_field(found.text))]


def only_threat(xml: bytes) -> FieldThreat:
    [threat] = threats(xml)
    return threat


# -- assembling fields as Word does -------------------------------------------------------------


def test_field_split_across_three_runs_is_one_dde_instruction() -> None:
    xml = document(paragraph(field("DD", "EAU", f'TO {CMD} "/k calc.exe"')))
    assert field_instructions(xml) == [FieldInstruction(DDE_COMMAND, number=1)]
    threat = only_threat(xml)
    assert (threat.kind, threat.field) == (ThreatKind.DDE, "DDEAUTO")
    assert threat.message.startswith("DDE field that can run a command (DDEAUTO c:")


def test_two_instruction_texts_and_all_field_characters_in_one_run() -> None:
    run = (
        '<w:r><w:fldChar w:fldCharType="begin"/><w:instrText>DDE</w:instrText>'
        "<w:instrText>AUTO cmd /c calc</w:instrText>"
        '<w:fldChar w:fldCharType="separate"/><w:t>x</w:t><w:fldChar w:fldCharType="end"/></w:r>'
    )
    assert texts(document(paragraph(run))) == ["DDEAUTO cmd /c calc"]
    assert only_threat(document(paragraph(run))).kind is ThreatKind.DDE


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        ('<w:ins w:id="1" w:author="a">', "</w:ins>"),
        ('<w:hyperlink w:anchor="x">', "</w:hyperlink>"),
        ('<w:smartTag w:uri="urn:x" w:element="place">', "</w:smartTag>"),
        ("<w:sdt><w:sdtPr/><w:sdtContent>", "</w:sdtContent></w:sdt>"),
        ('<w:customXml w:element="contact">', "</w:customXml>"),
    ],
    ids=["ins", "hyperlink", "smartTag", "sdt", "customXml"],
)
def test_instruction_pieces_inside_run_containers(opening: str, closing: str) -> None:
    body = paragraph(BEGIN, instr("DDE"), opening, instr("AUTO"), closing, instr(" cmd"), END)
    markup = [f for f in field_instructions(document(body)) if f.reading == "markup"]
    assert markup == [FieldInstruction("DDEAUTO cmd", number=1)]
    assert classify_field(markup[0].text) == FieldThreat(
        ThreatKind.DDE, "DDEAUTO", "DDE field that can run a command (DDEAUTO cmd)"
    )


def test_instruction_piece_inside_a_simple_field_is_its_result_not_the_instruction() -> None:
    """A w:fldSimple in an instruction is a nested field; what it holds is its result, and Word
    puts that result into the outer instruction: readers may disagree, so it is ambiguous."""
    simple = '<w:fldSimple w:instr="QUOTE x">' + instr("AUTO") + "</w:fldSimple>"
    body = paragraph(BEGIN, instr("DDE"), simple, instr(" cmd"), END)
    outer, nested, inside = field_instructions(document(body))
    assert (outer.text, outer.ambiguity) == (
        f"DDE{NESTED} cmd",
        "field whose type is computed by a nested field",
    )
    assert (nested.text, nested.depth, nested.ambiguity) == ("QUOTE x", 1, None)
    assert (inside.text, inside.ambiguity) == ("AUTO", "field instruction text outside any field")


def test_field_across_paragraphs_and_in_a_table_cell() -> None:
    cell = paragraph(BEGIN, instr("DDE")) + paragraph(instr("AUTO cmd"), SEPARATE, END)
    body = f"<w:tbl><w:tr><w:tc>{cell}</w:tc></w:tr></w:tbl>"
    assert texts(document(body)) == ["DDEAUTO cmd"]


def test_nested_field_records_outer_with_its_place_and_inner_instruction() -> None:
    inner = BEGIN + instr(DDE_COMMAND) + SEPARATE + END
    body = paragraph(BEGIN, instr("QUOTE "), inner, instr(' "x"'), SEPARATE, text("x"), END)
    outer, nested = field_instructions(document(body))
    assert (outer.text, outer.nested, outer.depth) == (f'QUOTE {NESTED} "x"', (6,), 0)
    assert (nested.text, nested.depth, nested.number) == (DDE_COMMAND, 1, 2)
    assert classify_field(outer.text) is None
    assert classify_field(nested.text) is not None


def test_field_type_computed_by_a_nested_field_is_ambiguous() -> None:
    inner = BEGIN + instr("QUOTE 68 68 69 65 85 84 79") + SEPARATE + text("DDEAUTO") + END
    body = paragraph(BEGIN, inner, instr(" cmd /c calc"), SEPARATE, END)
    outer, _ = field_instructions(document(body))
    assert outer.text == f"{NESTED} cmd /c calc"
    assert outer.ambiguity == "field whose type is computed by a nested field"


def test_nested_field_in_a_dde_command_keeps_the_dde() -> None:
    inner = BEGIN + instr("QUOTE 99 109 100") + SEPARATE + END
    body = paragraph(BEGIN, instr("DDEAUTO "), inner, instr(' "/c calc"'), SEPARATE, END)
    threat = only_threat(document(body))
    assert threat.message == 'DDE field that can run a command (DDEAUTO {...} "/c calc")'


def test_simple_field_and_nested_simple_fields() -> None:
    quoted = DDE_COMMAND.replace('"', "&quot;")
    body = paragraph(
        f'<w:fldSimple w:instr="{quoted}">{text("x")}</w:fldSimple>',
        '<w:fldSimple w:instr="QUOTE a"><w:fldSimple w:instr=" DDE cmd x"/></w:fldSimple>',
    )
    instructions = field_instructions(document(body))
    assert [(f.text, f.simple, f.depth) for f in instructions] == [
        (DDE_COMMAND, True, 0),
        ("QUOTE a", True, 0),
        (" DDE cmd x", True, 1),
    ]
    assert [t.field for t in threats(document(body))] == ["DDEAUTO", "DDE"]


def test_simple_field_inside_a_complex_instruction_is_nested() -> None:
    body = paragraph(BEGIN, instr("DDEAUTO "), '<w:fldSimple w:instr="QUOTE x"/>', instr(" y"), END)
    outer, inner = field_instructions(document(body))
    assert (outer.text, inner.text, inner.depth) == (f"DDEAUTO {NESTED} y", "QUOTE x", 1)


@pytest.mark.parametrize(
    "spelled",
    [
        "   ddeauto    cmd  /c calc",
        "\tDdE cmd x",
        "&#68;DEAUTO cmd",
        "<![CDATA[DDEAUTO cmd]]>",
        "DD<![CDATA[EA]]>&#x55;TO cmd",
    ],
    ids=["lowercase-spaces", "dde-tab", "entity", "cdata", "mixed"],
)
def test_dde_spellings_the_parser_decodes(spelled: str) -> None:
    assert only_threat(document(paragraph(field(spelled)))).kind is ThreatKind.DDE


@pytest.mark.parametrize(
    "instruction",
    [
        '"DDEAUTO" cmd',
        "\\* DDEAUTO cmd",
        "DDE\u200bAUTO cmd",
        "\uff24\uff24\uff25 cmd",  # fullwidth DDE
    ],
    ids=["quoted", "leading-switch", "zero-width-space", "fullwidth"],
)
def test_dde_type_after_switches_quotes_and_invisible_characters(instruction: str) -> None:
    threat = classify_field(instruction)
    assert threat is not None and threat.kind is ThreatKind.DDE


def test_includepicture_from_the_web() -> None:
    threat = only_threat(document(paragraph(field('INCLUDEPICTURE "http://x/y.png" \\d'))))
    assert threat == FieldThreat(
        ThreatKind.EXTERNAL_LINK,
        "INCLUDEPICTURE",
        "INCLUDEPICTURE field that loads a file from a web address (http://x/y.png)",
        "http://x/y.png",
    )


def test_includetext_from_a_network_share_with_word_escaping() -> None:
    threat = only_threat(document(paragraph(field(r'INCLUDETEXT "\\\\server\\share\\a.docx"'))))
    assert (threat.kind, threat.target) == (ThreatKind.EXTERNAL_LINK, r"\\server\share\a.docx")
    assert "from a network share" in threat.message


def test_link_to_a_local_workbook_names_the_file_not_the_class() -> None:
    threat = only_threat(document(paragraph(field(r'LINK Excel.Sheet.8 "C:\\x.xls" "" \a \f 0'))))
    assert (threat.kind, threat.field, threat.target) == (
        ThreatKind.EXTERNAL_LINK,
        "LINK",
        "C:\\x.xls",
    )
    assert threat.message == "LINK field that loads a file from the reader's computer (C:\\x.xls)"


@pytest.mark.parametrize(
    ("instruction", "where"),
    [
        ('INCLUDEPICTURE "file://server/share/a.png"', "a network share"),
        ('INCLUDEPICTURE "file:////server/share/a.png"', "a network share"),
        ('INCLUDETEXT "file:///C:/a.docx"', "the reader's computer"),
        ("INCLUDEPICTURE //server/share/a.png", "a network share"),
        (r"INCLUDETEXT \\server\share\a.docx", "a network share"),
        ("IMPORT ftp://x/y.wmf", "a web address"),
        ('INCLUDEPICTURE \\d "https://x/y.png"', "a web address"),
        ('include "https://x/y.docx"', "a web address"),
        ("INCLUDEPICTURE \u201chttps://x/y.png\u201d", "a web address"),
        (f'INCLUDEPICTURE "{NESTED}"', "a location another field computes"),
    ],
)
def test_fetching_field_targets(instruction: str, where: str) -> None:
    threat = classify_field(instruction)
    assert threat is not None and threat.kind is ThreatKind.EXTERNAL_LINK
    assert f"loads a file from {where} (" in threat.message


def test_relative_includepicture_counts_as_external() -> None:
    """Decision: a relative name is read from the document's folder, and ..\\ reaches the whole
    drive, so it is an external file like a drive path (see wordfields._where)."""
    threat = only_threat(document(paragraph(field('INCLUDEPICTURE "logo.png" \\d'))))
    assert (threat.kind, threat.target) == (ThreatKind.EXTERNAL_LINK, "logo.png")
    assert classify_field(r'INCLUDETEXT "..\\..\\Documents\\notes.txt"') is not None


@pytest.mark.parametrize(
    "target",
    ["C:\\Users\\me\\logo.png", "file:///C:/Users/me/logo.png", "file:///tmp/assets/logo.png",
     "/Users/me/logo.png", "file:////V:/Bilder/logo.png"],
)  # fmt: skip
def test_a_picture_linked_from_a_whole_local_path_is_allowed(target: str) -> None:
    """Decision (as a .docx's picture relationship to a local path, `opc`): Word and LibreOffice
    record the author's own path of a linked picture; on the reader's machine it names a file of
    theirs or none, and no request leaves it. A relative name, a share, a URL, and the other
    fetching fields at any path are still flagged."""
    assert classify_field(f'INCLUDEPICTURE "{target}" \\d') is None
    assert classify_field(f'INCLUDETEXT "{target}"') is not None
    assert classify_field(f'INCLUDEPICTURE "{target}" "logo.png"') is not None


@pytest.mark.parametrize(
    "target",
    ["\\??\\UNC\\host\\s\\a.png", "\\??\\GLOBALROOT\\Device\\Mup\\host\\s\\a.png",
     "/??/UNC/host/s/a.png", "\\\\\\\\host\\\\s\\\\a.png"],  # the last as Word escapes it
)  # fmt: skip
def test_a_picture_at_a_path_that_reaches_a_share_is_flagged(target: str) -> None:
    # a red team's NT paths were ranked local (they start with a slash) and approved
    threat = classify_field(f'INCLUDEPICTURE "{target}" \\d')
    assert threat is not None and "a network share" in threat.message


def test_fetching_field_without_a_target_fetches_nothing() -> None:
    assert classify_field("INCLUDEPICTURE \\d") is None
    assert classify_field('INCLUDEPICTURE \\* "http://x/y.png"') is None  # a format, not a file


def test_message_excerpt_is_short_and_printable() -> None:
    threat = classify_field("DDEAUTO   " + "A" * 500 + "\u200b\r\n")
    assert threat is not None
    shown = threat.message.removeprefix("DDE field that can run a command (").removesuffix(")")
    assert len(shown) == EXCERPT and shown.endswith("...")
    assert shown.startswith("DDEAUTO AAAA")


# -- ambiguity ----------------------------------------------------------------------------------


def test_more_ends_than_begins_is_ambiguous_and_keeps_the_text() -> None:
    body = paragraph(BEGIN, instr("PAGE"), END, instr("DDEAUTO cmd"), END)
    page, orphan, stray = field_instructions(document(body))
    assert (page.text, page.ambiguity) == ("PAGE", None)
    assert (orphan.text, orphan.number) == ("DDEAUTO cmd", 0)
    assert orphan.ambiguity == "field instruction text outside any field"
    assert classify_field(orphan.text) is not None
    assert (stray.text, stray.ambiguity) == ("", "field end without a beginning")


def test_field_never_closed_is_ambiguous_and_keeps_the_text() -> None:
    [found] = field_instructions(document(paragraph(BEGIN, instr("DDEAUTO cmd"))))
    assert (found.text, found.ambiguity) == ("DDEAUTO cmd", "field that is never closed")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (paragraph(BEGIN, instr("PAGE"), SEPARATE, SEPARATE, END), "field with two separators"),
        (paragraph(SEPARATE), "field separator outside any field"),
        (paragraph(BEGIN, instr("PA"), text("x"), instr("GE"), END), "ordinary text inside a "),
        (
            paragraph(BEGIN, '<w:r><w:fldChar w:fldCharType="Begin"/></w:r>', instr("PAGE"), END),
            "field marker of unknown type",
        ),
        (paragraph('<w:fldSimple instr="PAGE"/>'), "simple field without an instruction"),
        (paragraph(BEGIN, '<w:fldSimple w:instr="PAGE">', END, "</w:fldSimple>"), "field end w"),
    ],
    ids=["two-separators", "stray-separator", "text-in-code", "odd-type", "no-instr", "cross"],
)
def test_unbalanced_or_odd_fields_are_ambiguous(body: str, why: str) -> None:
    assert any((f.ambiguity or "").startswith(why) for f in field_instructions(document(body)))


def test_instruction_split_across_alternate_content_is_ambiguous() -> None:
    choice = f'<mc:AlternateContent><mc:Choice Requires="wps">{instr("")}</mc:Choice>'
    fallback = f"<mc:Fallback>{instr('PAGE ')}</mc:Fallback></mc:AlternateContent>"
    body = paragraph(BEGIN, choice, fallback, instr("DDEAUTO cmd"), END)
    [found] = field_instructions(document(body))
    assert found.ambiguity == "field split across a text box or markup that some readers skip"


def test_tracked_changes_are_read_accepted_and_rejected() -> None:
    deleted = '<w:del w:id="1" w:author="a">' + instr("PAGE ", "delInstrText") + "</w:del>"
    body = paragraph(BEGIN, deleted, instr("DDEAUTO cmd"), END)
    found = field_instructions(document(body))
    assert [(f.reading, f.text) for f in found] == [
        ("markup", "PAGE DDEAUTO cmd"),
        ("final", "DDEAUTO cmd"),
    ]
    assert [t.field for t in threats(document(body))] == ["DDEAUTO"]


def test_inserted_keyword_is_read_with_changes_rejected() -> None:
    inserted = '<w:ins w:id="1" w:author="a">' + instr("PAGE ") + "</w:ins>"
    body = paragraph(BEGIN, inserted, instr("DDEAUTO cmd"), END)
    assert [t.field for t in threats(document(body))] == ["DDEAUTO"]


def test_deleted_field_end_changes_the_final_reading() -> None:
    deleted_end = f'<w:del w:id="1" w:author="a">{END}</w:del>'
    body = paragraph(BEGIN, instr("PAGE"), deleted_end, instr(" x"), END)
    found = field_instructions(document(body))
    assert ("final", "PAGE x", None) in [(f.reading, f.text, f.ambiguity) for f in found]


# -- XML as XML ---------------------------------------------------------------------------------


def test_strict_namespace_and_any_prefix_are_read() -> None:
    assert texts(document(paragraph(field("DDE cmd x")), STRICT_NS)) == ["DDE cmd x"]
    xml = (
        f'<x:document xmlns:x="{W_NS}"><x:body><x:p><x:fldSimple x:instr="DDE a b"/>'
        "</x:p></x:body></x:document>"
    ).encode()
    assert texts(xml) == ["DDE a b"]


def test_w_prefix_bound_to_another_namespace_is_not_word() -> None:
    assert texts(document(paragraph(field("DDEAUTO cmd")), "urn:not-word")) == []


def test_dtd_and_malformed_xml_are_parse_errors() -> None:
    dtd = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY k "DDEAUTO">]><d>&k;</d>'
    with pytest.raises(ElementTree.ParseError):
        field_instructions(dtd)
    with pytest.raises(ElementTree.ParseError):
        field_instructions(document(paragraph(field("DDE x")))[:-20])


# -- limits -------------------------------------------------------------------------------------


def test_too_many_fields_fails_closed() -> None:
    body = paragraph('<w:fldSimple w:instr="PAGE"/>' * (MAX_FIELDS + 1))
    with pytest.raises(FieldLimitError, match=f"more than {MAX_FIELDS} fields"):
        field_instructions(document(body))
    assert issubclass(FieldLimitError, ValueError)  # callers treating damage as ValueError


@pytest.mark.parametrize(
    "body",
    [
        paragraph(field("A" * (MAX_INSTRUCTION + 1))),
        paragraph(field(*["A" * 1024] * (MAX_INSTRUCTION // 1024 + 1))),
        paragraph(f'<w:fldSimple w:instr="{"A" * (MAX_INSTRUCTION + 1)}"/>'),
    ],
    ids=["one-piece", "many-pieces", "simple"],
)
def test_too_long_instruction_fails_closed(body: str) -> None:
    with pytest.raises(FieldLimitError, match="longer than"):
        field_instructions(document(body))


def test_too_deep_nesting_fails_closed() -> None:
    with pytest.raises(FieldLimitError, match="nested more than"):
        field_instructions(document(paragraph(BEGIN * (MAX_DEPTH + 1))))


def test_too_many_field_parts_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordfields, "_MAX_TOKENS", 100)
    with pytest.raises(FieldLimitError, match="field parts"):
        field_instructions(document(paragraph(field(*["A"] * 200))))


# -- benign look-alikes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "instruction",
    [
        'HYPERLINK "https://example.com"',
        'HYPERLINK \\l "_Toc1"',
        "MERGEFIELD DDE_Contact \\* MERGEFORMAT",
        "DDE_Contact",  # a bookmark reference, not a DDE field
        "PAGE \\* MERGEFORMAT",
        'DATE \\@ "d MMMM yyyy"',
        'TOC \\o "1-3" \\h \\z \\u',
        "REF _Ref12345 \\h",
        'QUOTE "DDEAUTO cmd"',
        "",
    ],
)
def test_ordinary_fields_are_not_threats(instruction: str) -> None:
    [found] = field_instructions(document(paragraph(field(instruction))))
    assert (found.text, found.ambiguity) == (instruction, None)
    assert classify_field(found.text) is None


def test_a_hyperlink_field_to_a_network_share() -> None:
    # a click sends the reader's Windows credentials to the share, as a hyperlink relationship
    # to one does (a reviewer's fldSimple and RTF HYPERLINK fields were approved)
    instruction = r'HYPERLINK "\\\\server\\share\\doc.docx"'
    threat = only_threat(document(paragraph(field(instruction))))
    assert (threat.kind, threat.target) == (ThreatKind.EXTERNAL_LINK, r"\\server\share\doc.docx")
    assert "network share" in threat.message


@pytest.mark.parametrize(
    ("instruction", "target"),
    [(r'HYPERLINK "C:\\Windows\\System32\\cmd.exe"', r"C:\Windows\System32\cmd.exe"),
     (r'HYPERLINK "file:///C:/Windows/System32/mshta.exe"', "file:///C:/Windows/System32/mshta.exe"),
     (r"HYPERLINK setup.hta \o tip", "setup.hta")],
    ids=["drive-path", "file-url", "beside-the-document"],
)  # fmt: skip
def test_a_hyperlink_field_to_a_local_program(instruction: str, target: str) -> None:
    """A click starts the program after Word's notice (red team 106), as a PDF's link to one
    is PDF_LAUNCH; a document at such a path is a link like any (`test_ordinary_fields_...`)."""
    threat = only_threat(document(paragraph(field(instruction))))
    assert (threat.kind, threat.target) == (ThreatKind.EXTERNAL_LINK, target)
    assert "a program on the reader's own computer" in threat.message
    assert classify_field(r'HYPERLINK "C:\\Users\\me\\notes.pdf"') is None


@pytest.mark.parametrize(
    "inner", ['QUOTE "\\\\attacker.example\\s\\x.docx"', "MERGEFIELD Url"], ids=["quote", "merge"]
)
def test_a_hyperlink_field_whose_address_a_nested_field_computes(inner: str) -> None:
    """Word follows what the nested field gives (red team 108: a share or calc.exe in a QUOTE's
    cached result); the address cannot be judged, so the field counts."""
    nested = BEGIN + instr(inner) + SEPARATE + text("x") + END
    threat = only_threat(document(paragraph(BEGIN, instr("HYPERLINK "), nested, SEPARATE, END)))
    assert threat.kind == ThreatKind.EXTERNAL_LINK
    assert "address another field computes" in threat.message


def test_dde_word_in_ordinary_text_is_no_field() -> None:
    xml = document(paragraph(text("DDEAUTO c:\\windows\\system32\\cmd.exe")))
    assert field_instructions(xml) == []


def test_table_of_contents_with_links_in_its_result_is_clear() -> None:
    entry = paragraph(
        BEGIN, instr(" HYPERLINK \\l &quot;_Toc1&quot; "), SEPARATE, text("Intro"),
        field(" PAGEREF _Toc1 \\h ", result="3"), END,
    )  # fmt: skip
    body = paragraph(BEGIN, instr(' TOC \\o "1-3" \\h '), SEPARATE) + entry + paragraph(END)
    found = field_instructions(document(body))
    assert [(f.text.split()[0], f.depth, f.ambiguity) for f in found] == [
        ("TOC", 0, None),
        ("HYPERLINK", 1, None),
        ("PAGEREF", 2, None),
    ]
    assert threats(document(body)) == []


def test_whole_field_inserted_with_tracked_changes_is_clear() -> None:
    body = paragraph('<w:ins w:id="1" w:author="a">', field("PAGE"), "</w:ins>")
    assert field_instructions(document(body)) == [FieldInstruction("PAGE", number=1)]


def test_page_number_in_a_text_box_with_fallback_is_clear() -> None:
    box = paragraph(field("PAGE"))
    choice = f"<wps:txbx><w:txbxContent>{box}</w:txbxContent></wps:txbx>"
    body = paragraph(
        "<w:r><mc:AlternateContent>",
        f'<mc:Choice Requires="wps">{choice}</mc:Choice>',
        f"<mc:Fallback><w:pict><w:txbxContent>{box}</w:txbxContent></w:pict></mc:Fallback>",
        "</mc:AlternateContent></w:r>",
    )
    found = field_instructions(document(body))
    assert [(f.text, f.ambiguity) for f in found] == [("PAGE", None), ("PAGE", None)]


def test_large_document_is_read_fast() -> None:
    row = paragraph(
        '<w:pPr><w:pStyle w:val="BodyText"/></w:pPr>',
        '<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">Section text that refers to </w:t>'
        "</w:r>",
        field(" REF _Ref48151623 \\h ", result="Table 3"),
        text(", on page "),
        field(" PAGE "),
        text(" of the returns policy, with ordinary words around the fields."),
    )
    xml = document(row * 3000)
    assert len(xml) > 2_000_000
    seconds, found = _timed(xml)
    assert seconds < 5  # a guard against blow-ups (0.2 s here)
    assert len(found) == 6000


def _timed(xml: bytes) -> tuple[float, list[FieldInstruction]]:
    """CPU seconds (other test runs share the machine, and wall time measures them too) and
    what was read."""
    start = time.process_time()
    found = field_instructions(xml)
    return time.process_time() - start, found


@pytest.mark.parametrize(
    ("instr", "computed"),
    [
        (f"{NESTED}AUTO cmd", True),
        (f"DDE{NESTED}UTO cmd", True),
        (f'"{NESTED}" cmd', True),  # quoted: red team 100
        (f"\\* {NESTED} cmd", True),  # after a switch
        (f"\\* MERGEFORMAT {NESTED} cmd", True),  # the switch's argument read both ways
        (f"\u00a0{NESTED} cmd", True),  # a no-break space is a blank
        (f'IF "{NESTED}" = "1" "one" "many"', False),  # an argument
        (f"HYPERLINK {NESTED}", False),
        ("DDEAUTO cmd", False),
    ],
)
def test_a_type_a_nested_field_computes(instr: str, computed: bool) -> None:
    assert wordfields.computed_type(instr) is computed
