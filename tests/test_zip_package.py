"""ZipEngine: an OOXML label needs its main part, found through the root relationships as Office
finds it (zip_package), on packages built here and on oletools' real samples."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.zip import ZipEngine
from attachguard.policy import Policy
from attachguard.report import FileType
from support import oletools_data as testdata
from test_zip import DOCX, RELS, XML, root_rels, types

oletools_data = testdata.oletools_data  # the session fixture, used by name below
MISMATCH = FindingCode.TYPE_MISMATCH
_W = "wordprocessingml.document.main+xml"


def scan(data: bytes, policy: Policy, label: str = "docx") -> Result:
    context = replace(policy.context(), depth_left=3)
    item = Item(f"file.{label}", data, FileType(label, "application/zip", "document"))
    return ZipEngine().scan(item, context)


def build(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def findings(data: bytes, policy: Policy, label: str = "docx") -> list[tuple[str, str]]:
    return [(f.code.name, f.message) for f in scan(data, policy, label).findings]


def word(main: str, content_type: str = _W, rels: bytes | None = None) -> dict[str, bytes]:
    """A Word package whose main part is ``main``."""
    return {
        "[Content_Types].xml": types(main, content_type),
        "_rels/.rels": root_rels(main) if rels is None else rels,
        main: XML + b"<w:document><w:body><w:p/></w:body></w:document>",
    }


# -- the main part where the relationships put it ------------------------------------------------
@pytest.mark.parametrize("main", ["word/document2.xml", "main.xml", "Word/Document.xml"])
def test_main_part_anywhere_the_relationships_say(policy: Policy, main: str) -> None:
    assert scan(build(word(main)), policy).findings == []


def test_main_part_through_a_relative_or_absolute_target(policy: Policy) -> None:
    rels = root_rels("/word/../content/doc.xml")
    assert scan(build(word("content/doc.xml", rels=rels)), policy).findings == []


def test_main_part_typed_by_its_extension_default(policy: Policy) -> None:
    members = word("word/doc.body")
    members["[Content_Types].xml"] = XML + (
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="BODY" ContentType="application/vnd.openxmlformats-officedocument.'
        b'wordprocessingml.document.main+xml; charset=utf-8"/></Types>'
    )
    assert scan(build(members), policy).findings == []


# -- zips that are not the document their label says ---------------------------------------------
def test_plain_zip_posing_as_docx(policy: Policy) -> None:
    assert findings(build({"readme.txt": b"hi"}), policy) == [
        ("TYPE_MISMATCH", "zip archive posing as an Office document")
    ]


def test_literal_part_names_without_relationships_are_not_enough(policy: Policy) -> None:
    members = {k: v for k, v in DOCX.items() if k != "_rels/.rels"}
    assert [c for c, _ in findings(build(members), policy)] == ["TYPE_MISMATCH"]


@pytest.mark.parametrize(
    "rels",
    [
        RELS,  # no relationships at all
        root_rels("word/missing.xml"),  # to a part that is not in the file
        root_rels("https://attacker.example/document.xml").replace(
            b'"/>', b'" TargetMode="External"/>'
        ),
    ],
    ids=["none", "missing", "external"],
)
def test_no_main_part_in_the_file(policy: Policy, rels: bytes) -> None:
    members = {**word("word/document.xml", rels=rels), "readme.txt": b"hi"}
    assert findings(build(members), policy) == [
        ("TYPE_MISMATCH", "Office package whose root relationships name no main part in the file")
    ]


@pytest.mark.parametrize(
    ("label", "kind"),
    [("xlsx", "an Excel workbook"), ("xlsb", "an Excel workbook"),
     ("pptx", "a PowerPoint presentation")],
)  # fmt: skip
def test_main_part_of_another_kind(policy: Policy, label: str, kind: str) -> None:
    result = scan(build(DOCX), policy, label)
    assert [(f.code, f.message, f.location) for f in result.findings] == [
        (MISMATCH, f"Office package whose main part is not {kind}", "word/document.xml")
    ]


def test_main_part_without_a_content_type(policy: Policy) -> None:
    members = word("word/document.xml", content_type="")
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b'PartName="/word/document.xml"', b'PartName="/word/other.xml"'
    )
    assert [c for c, _ in findings(build(members), policy)] == ["TYPE_MISMATCH"]


def test_relationships_with_a_dtd_are_ambiguous(policy: Policy) -> None:
    rels = root_rels("word/document.xml").replace(XML, XML + b'<!DOCTYPE r [<!ENTITY x "y">]>')
    result = scan(build(word("word/document.xml", rels=rels)), policy)
    assert [(f.code, f.message, f.location) for f in result.findings] == [
        (
            FindingCode.AMBIGUOUS,
            "relationships with a DTD (document type declaration), which Office refuses",
            "_rels/.rels",
        )
    ]


def test_relationships_that_do_not_parse_are_corrupt(policy: Policy) -> None:
    members = word("word/document.xml", rels=b"<Relationships")
    assert [c for c, _ in findings(build(members), policy)] == ["CORRUPT"]


# -- real documents -------------------------------------------------------------------------------
SAMPLES = {
    "msodde/harmless-clean.docx": "docx",
    "msodde/harmless-clean.docm": "docx",
    "oleobj/embedded-simple-2007.dotx": "docx",
    "oleobj/embedded-simple-2007.dotm": "docx",
    "oleobj/embedded-simple-2007.xlsx": "xlsx",
    "oleobj/embedded-simple-2007.xltm": "xlsx",
    "oleobj/embedded-simple-2007.xlam": "xlsx",
    "oleobj/embedded-simple-2007.xlsb": "xlsb",
    "msodde/dde-test.xlsb": "xlsb",
    "oleobj/embedded-simple-2007.pptx": "pptx",
    "oleobj/embedded-simple-2007.ppsm": "pptx",
    "oleobj/embedded-simple-2007.potx": "pptx",
    "oleobj/embedded-simple-2007.odt": "odt",
    "oleobj/embedded-simple-2007.ods": "ods",
    "oleobj/embedded-simple-2007.odp": "odp",
}


@pytest.mark.parametrize("path", SAMPLES)
def test_real_documents_are_what_they_say(oletools_data: Path, policy: Policy, path: str) -> None:
    result = scan((oletools_data / path).read_bytes(), policy, SAMPLES[path])
    assert result.findings == []
