"""Things found inside files are routed by their structure as their consumer reads it, not by
Magika's guess alone (red team 107): a zip whose first members made the model say "txt", an RTF
that begins ``{\\rt1``, a PDF with a kilobyte of padding before its header, a SYLK sheet with
text after its end record. Each was approved inside a PDF or a Word document."""

from __future__ import annotations

import io
import zipfile

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Item
from attachguard.engines.filetype import FileTypeEngine
from attachguard.engines.filetype_structure import structure
from attachguard.engines.text import TextEngine
from attachguard.policy import Policy, parse_policy
from attachguard.report import FileType, Status
from attachguard.scanner import build_scanner
from support import evasions
from support.oletools_data import docx

JAVASCRIPT = b" /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"


def zipped(names: list[str], comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in names:
            archive.writestr(name, b"<x/>")
        archive.comment = comment
    return out.getvalue()


@pytest.mark.parametrize("label", ["txt", "xml", "unknown", "mp4"])
def test_a_zip_is_a_zip_whatever_the_model_says(label: str) -> None:
    assert structure(zipped(["notes.txt"]), label) == "zip"


@pytest.mark.parametrize("label", ["jar", "npz", "odt", "docx"])
def test_a_zip_based_label_is_kept(label: str) -> None:
    assert structure(zipped(["notes.txt"]), label) is None


def test_damaged_zip_bytes_keep_the_models_label() -> None:
    assert structure(b"PK\x03\x04 not a zip at all", "txt") is None


@pytest.mark.parametrize(
    ("data", "label", "expected"),
    [(b"{\\rt1 Dear customer", "txt", "rtf"), (b"{\\rtxa text", "unknown", "rtf"),
     (b"{\\rtf1\\ansi text", "txt", "rtf"), (b"{\"rtf\": 1}", "json", None),
     (b"{\\rt1 text", "rtf", None)],
    ids=["rt1", "rtxa", "rtf1", "json", "already-rtf"],
)  # fmt: skip
def test_word_opens_what_begins_with_its_rtf_bytes(
    data: bytes, label: str, expected: str | None
) -> None:
    assert structure(data, label) == expected


@pytest.mark.parametrize(
    ("before", "label", "expected"),
    [(b"\0" * 1000, "iso", "pdf"), (b"x" * 1000, "txt", "pdf"), (b"\0" * 1000, "unknown", "pdf"),
     (b"\0" * 1100, "unknown", None), (b"\xff\xd8\xff" + b"\0" * 900, "jpeg", None)],
    ids=["nuls-iso", "text", "unknown", "past-1024", "a-picture"],
)  # fmt: skip
def test_a_pdf_after_padding_is_a_pdf(before: bytes, label: str, expected: str | None) -> None:
    """Acrobat looks for the header in the first 1,024 bytes; a picture that holds one in its
    metadata keeps its label (the polyglot engine's)."""
    data = before + evasions.pdf(evasions.page_objects())
    assert structure(data, label) == expected


def test_text_quoting_a_pdf_header_is_no_pdf() -> None:
    assert structure(b"Log: the file began with %PDF-1.4 and failed.\n" * 3, "txt") is None


def test_a_pdf_padded_inside_a_pdf_is_scanned() -> None:
    inner = b"\0" * 1000 + evasions.pdf(evasions.page_objects(JAVASCRIPT)) + b"\0" * 1000
    policy = parse_policy("allowed_extensions: [.pdf]\ndisabled_engines: [clamav]\n")
    with build_scanner(policy, None) as scanner:
        report = scanner.scan(evasions.attached("statement.pdf", inner), "letter.pdf")
    assert report.status is Status.REJECTED
    assert FindingCode.PDF_JAVASCRIPT in {f.code for f in report.rejecting}


SYLK = b'ID;PWXL;N;E\r\nC;X1;Y1;K0;EEXEC("calc")\r\nE\r\nnotes after the end record\r\n'


@pytest.mark.parametrize(
    ("name", "expected"),
    [("attachment:book.xls", ["XLM_MACRO"]), ("attachment:book.csv", ["XLM_MACRO"]),
     ("attachment:book", ["XLM_MACRO"]), ("attachment:readme.txt", [])],
    ids=["xls", "csv", "no-extension", "text"],
)  # fmt: skip
def test_a_sylk_sheet_inside_a_file_is_one_whatever_its_label(
    name: str, expected: list[str], policy: Policy
) -> None:
    """Excel opens SYLK under any Excel name; only one named as text is Notepad's."""
    item = Item(name, SYLK, FileType("txt", "text/plain", "text"), depth=1)
    found = TextEngine().scan(item, policy.context())
    assert [f.code.name for f in found.findings] == expected


MATHML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<math xmlns="http://www.w3.org/1998/Math/MathML" '
    b'display="block"><mrow><mi>E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn>2</mn></msup>'
    b"</mrow></math>"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [(MATHML, []),
     (MATHML.replace(b"<mi>E</mi>", b'<mi onclick="alert(1)">E</mi>'), ["SCRIPT"]),
     (MATHML.replace(b"<mi>E</mi>", b'<mi href="javascript:alert(1)">E</mi>'), ["SCRIPT"]),
     (MATHML.replace(b"<mi>E</mi>", b'<script xmlns="http://www.w3.org/1999/xhtml">x()</script>'),
      ["SCRIPT"]),
     (MATHML.replace(b"?>\n", b'?>\n<?xml-stylesheet href="t.xsl" type="text/xsl"?>'), ["SCRIPT"]),
     (b"<html><body><p>E = mc2</p></body></html>", ["SCRIPT"])],
    ids=["formula", "handler", "script-address", "xhtml-script", "stylesheet", "html"],
)  # fmt: skip
def test_a_mathml_formula_inside_a_file_is_no_script(
    data: bytes, expected: list[str], policy: Policy
) -> None:
    """LaTeX's tagged PDFs attach each formula as MathML, which Magika calls HTML (hunt 98); a
    browser shows it and runs nothing. Anything else HTML-like inside a file stays SCRIPT."""
    item = Item("attachment:mathml-1.xml", data, FileType("html", "text/html", "code"), depth=1)
    found = FileTypeEngine().scan(item, policy.context())
    assert [f.code.name for f in found.findings] == expected


@pytest.mark.parametrize(
    ("label", "expected"), [("pptx", "docx"), ("xlsx", "docx"), ("docx", None)]
)
def test_an_office_package_is_what_its_main_part_says(label: str, expected: str | None) -> None:
    """Office opens a package by its main part (hunt 101: ONLYOFFICE's Word form source came
    out "pptx" at 0.52, and was a "PowerPoint presentation named .docx")."""
    assert structure(docx("<w:p/>"), label) == expected
