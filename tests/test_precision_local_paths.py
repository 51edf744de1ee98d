"""Links to files on the reader's own machine that send nothing off it: a template on a mapped
drive written ``file:////V:\\...`` (Word 2016, docxcompose's samples), a mail merge's data
source on a local drive (the Open XML SDK's mailmerge.docx), a link to a workbook on a local
drive (ClosedXML's samples). Each beside its hostile twin on a share or at a URL."""

from __future__ import annotations

import pytest

from attachguard.engines.base import Item, Result
from attachguard.engines.office import OfficeEngine
from attachguard.formats.targets import climbs, on_a_share, target_kind
from attachguard.formats.wordfields import classify_field, place_afar
from attachguard.policy import Policy
from attachguard.report import FileType
from support.oletools_data import docx, rels_xml, xlsx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
ENGINE = OfficeEngine()
MAPPED_TEMPLATE = "file:////V:\\Protokollverwaltung\\AIB\\Vorlagen\\PK_GR.dot"


def scan_codes(data: bytes, name: str, policy: Policy) -> list[str]:
    label = name.rsplit(".", 1)[-1]
    result: Result = ENGINE.scan(
        Item(name, data, FileType(label, "", "document")), policy.context()
    )
    return sorted(f.code.name for f in result.findings)


# -- file:////V:/x is a drive path ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "shared"),
    [
        (MAPPED_TEMPLATE, False),
        ("file:////V:/Vorlagen/PK_GR.dot", False),
        ("file:////c|/Vorlagen/PK_GR.dot", False),
        ("file:////fileserver/share/PK_GR.dot", True),
        ("file:////fileserver\\share\\PK_GR.dot", True),
        ("file://///V:/Vorlagen/PK_GR.dot", True),  # five slashes: not a form Word writes
        ("file://fileserver/share/PK_GR.dot", True),
    ],
)
def test_four_slashes_then_a_drive_is_the_drive(target: str, shared: bool) -> None:
    assert on_a_share(target) is shared
    assert target_kind(target) == ("remote" if shared else "local")


def test_template_on_a_mapped_drive_is_allowed_and_one_on_a_share_is_not(policy: Policy) -> None:
    def with_template(target: str) -> bytes:
        parts = {
            "word/settings.xml": f'<w:settings xmlns:w="{W}"/>'.encode(),
            "word/_rels/settings.xml.rels": rels_xml([("attachedTemplate", target, True)]),
        }
        return docx(rels=[("settings", "settings.xml", False)], parts=parts)

    assert scan_codes(with_template(MAPPED_TEMPLATE), "a.docx", policy) == []
    shared = "file:////fileserver\\Vorlagen\\PK_GR.dot"
    assert scan_codes(with_template(shared), "a.docx", policy) == ["EXTERNAL_LINK"]


def test_fields_read_four_slashes_then_a_drive_as_the_drive() -> None:
    assert place_afar(["file:////V:/Daten/Kunden.mdb"]) is None
    assert place_afar(["file:////fileserver/Daten/Kunden.mdb"]) == (
        "a network share",
        "file:////fileserver/Daten/Kunden.mdb",
    )
    local = classify_field('INCLUDETEXT "file:////V:/Texte/brief.docx"')
    assert local is not None and "from the reader's computer" in local.message


# -- a mail merge's data source -----------------------------------------------------------------


def merge_document(kind: str, target: str) -> bytes:
    settings = (
        f'<w:settings xmlns:w="{W}" xmlns:r="{R}"><w:mailMerge>'
        '<w:mainDocumentType w:val="formLetters"/><w:dataSource r:id="rId1"/>'
        "</w:mailMerge></w:settings>"
    )
    parts = {
        "word/settings.xml": settings.encode(),
        "word/_rels/settings.xml.rels": rels_xml([(kind, target, True)]),
    }
    return docx(rels=[("settings", "settings.xml", False)], parts=parts)


@pytest.mark.parametrize(
    ("kind", "target", "expected"),
    [
        ("mailMergeSource", "file:///C:\\Users\\me\\Documents\\Kunden.xlsx", []),
        ("mailMergeSource", "C:\\Users\\me\\Documents\\Kunden.xlsx", []),
        ("mailMergeSource", "..\\Daten\\Kunden.xlsx", []),
        ("mailMergeHeaderSource", "file:///D:\\Serienbrief\\Kopf.docx", []),
        ("mailMergeSource", "\\\\fileserver\\merge\\Kunden.xlsx", ["EXTERNAL_LINK"]),
        ("mailMergeSource", "file:////fileserver/merge/Kunden.xlsx", ["EXTERNAL_LINK"]),
        ("mailMergeSource", "https://attacker.example/Kunden.xlsx", ["EXTERNAL_LINK"]),
        ("mailMergeHeaderSource", "\\\\attacker.example\\s\\Kopf.docx", ["EXTERNAL_LINK"]),
    ],
)
def test_mail_merge_source_counts_only_on_another_machine(
    kind: str, target: str, expected: list[str], policy: Policy
) -> None:
    """As the RTF and Word 97-2003 readings take a mail merge's source (`place_afar`)."""
    assert scan_codes(merge_document(kind, target), "letter.docx", policy) == expected
    assert (place_afar([target]) is None) is (expected == [])


# -- a link to another workbook -----------------------------------------------------------------


def linked_workbook(target: str) -> bytes:
    link = (
        f'<?xml version="1.0"?><externalLink xmlns="{S}"><externalBook xmlns:r="{R}" '
        'r:id="rId1"/></externalLink>'
    )
    parts = {
        "xl/externalLinks/externalLink1.xml": link.encode(),
        "xl/externalLinks/_rels/externalLink1.xml.rels": rels_xml(
            [("externalLinkPath", target, True)]
        ),
    }
    return xlsx(rels=[("externalLink", "externalLinks/externalLink1.xml", False)], parts=parts)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("file:///D:\\G-VC\\Daten\\Ver%C3%B6ffentlichungen\\Grafik.xls", []),
        ("D:\\Finanzen\\Budget.xlsx", []),
        ("/Users/me/Documents/Budget.xlsx", []),
        ("file:////D:/Finanzen/Budget.xlsx", []),
        ("Budget.xlsx", []),
        ("..\\..\\Finanzen\\Budget.xlsx", ["EXTERNAL_LINK"]),
        ("../Budget.xlsx", ["EXTERNAL_LINK"]),
        ("\\\\fileserver\\Finanzen\\Budget.xlsx", ["EXTERNAL_LINK"]),
        ("file:////fileserver/Finanzen/Budget.xlsx", ["EXTERNAL_LINK"]),
        ("https://attacker.example/Budget.xlsx", ["EXTERNAL_LINK"]),
    ],
)
def test_link_to_a_workbook_on_a_local_drive_is_allowed(
    target: str, expected: list[str], policy: Policy
) -> None:
    """As the formula reading takes a reference to another workbook: only one on another
    machine counts; a relative path that climbs out of the folder stays flagged."""
    assert scan_codes(linked_workbook(target), "book.xlsx", policy) == expected


@pytest.mark.parametrize(
    ("target", "climbing"),
    [
        ("..\\Budget.xlsx", True),
        ("a/../../Budget.xlsx", True),
        ("C:\\a\\..\\Budget.xlsx", False),
        ("/a/../Budget.xlsx", False),
        ("file:///C:/a/../Budget.xlsx", False),
        ("Budget.xlsx", False),
        ("https://example.com/../x", False),
    ],
)
def test_climbs(target: str, climbing: bool) -> None:
    assert climbs(target) is climbing
