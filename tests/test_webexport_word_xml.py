"""Word XML documents, which Word opens by their content (red team 107: attached to a PDF
under a Word name, their macros were unseen): a flat package is handed on as the package Word
reads it as; a Word 2003 XML document is judged for its macros, embedded objects and fields."""

from __future__ import annotations

import io
import zipfile

import pytest

from attachguard.engines.base import Item
from attachguard.engines.webexport import WebExportEngine
from attachguard.policy import Policy
from attachguard.report import FileType

W2003 = "http://schemas.microsoft.com/office/word/2003/wordml"
XML = FileType("xml", "text/xml", "code")


def word_2003(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Word.Document"?>\n'
        f'<w:wordDocument xmlns:w="{W2003}"><w:body>{body}</w:body></w:wordDocument>'
    ).encode()


def scan(
    data: bytes, policy: Policy, name: str = "attachment:letter.doc"
) -> tuple[list[str], list[str]]:
    result = WebExportEngine().scan(Item(name, data, XML, depth=1), policy.context())
    return sorted(f.code.name for f in result.findings), [c.where for c in result.children]


@pytest.mark.parametrize(
    ("body", "expected"),
    [('<w:docSuppData><w:binData w:name="editdata.mso">QWN0aXZlTWltZQ==</w:binData>'
      "</w:docSuppData>", ["VBA_MACRO"]),
     ('<w:binData w:name="oledata.mso">AAAA</w:binData>', ["OLE_OBJECT"]),
     ('<w:p><w:fldSimple w:instr=\'DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/c calc"\'/>'
      "</w:p>", ["DDE"]),
     ('<w:p><w:fldSimple w:instr=\'INCLUDEPICTURE "\\\\\\\\attacker.example\\\\s\\\\x.png"\'/>'
      "</w:p>", ["EXTERNAL_LINK"]),
     ('<w:p><w:binData w:name="wordml://02000001.jpg">AAAA</w:binData><w:r><w:t>Invoice'
      "</w:t></w:r></w:p>", [])],
    ids=["macros", "embedded-object", "dde-field", "linked-picture", "plain-with-picture"],
)  # fmt: skip
def test_a_word_2003_xml_document(body: str, expected: list[str], policy: Policy) -> None:
    assert scan(word_2003(body), policy) == (expected, [])


def flat(parts: dict[str, str]) -> bytes:
    items = "".join(
        f'<pkg:part pkg:name="/{name}" pkg:contentType="application/xml"><pkg:xmlData>{xml}'
        "</pkg:xmlData></pkg:part>"
        for name, xml in parts.items()
    )
    return (
        '<?xml version="1.0"?><pkg:package xmlns:pkg="http://schemas.microsoft.com/office/2006/'
        f'xmlPackage">{items}</pkg:package>'
    ).encode()


def test_a_flat_package_is_handed_on_as_a_package(policy: Policy) -> None:
    data = flat({"word/document.xml": "<document/>", "_rels/.rels": "<Relationships/>"})
    result = WebExportEngine().scan(Item("attachment:x.doc", data, XML, depth=1), policy.context())
    (child,) = result.children
    with zipfile.ZipFile(io.BytesIO(child.data)) as archive:
        assert "word/document.xml" in archive.namelist()
    assert result.findings == []


def test_other_xml_is_left_alone(policy: Policy) -> None:
    assert scan(b'<?xml version="1.0"?><invoice><total>12</total></invoice>', policy) == ([], [])


MACROS = '<w:binData w:name="editdata.mso">QWN0aXZlTWltZQ==</w:binData>'


@pytest.mark.parametrize(
    "data",
    [word_2003(MACROS).replace(b"?>\n<w:", b"?>\n<!--" + b"x" * 6000 + b"-->\n<w:", 1),
     b"\xff\xfe" + word_2003(MACROS).decode().replace('"UTF-8"', '"UTF-16"').encode("utf-16-le"),
     word_2003(MACROS).replace(b"<w:wordDocument ", b"<w:wordDocument "
                               + b" ".join(b'xmlns:n%d="urn:x%d"' % (i, i) for i in range(80))
                               + b" ")],
    ids=["after-a-long-comment", "utf-16", "many-declarations"],
)  # fmt: skip
def test_a_word_xml_document_is_found_wherever_its_root_is(data: bytes, policy: Policy) -> None:
    """Read as expat reads it, not by its first 4 KiB in UTF-8 (review 105)."""
    assert scan(data, policy) == (["VBA_MACRO"], [])


def test_a_flat_package_word_cannot_be_read_as_is_corrupt(policy: Policy) -> None:
    part = '<pkg:part pkg:name="/word/document.xml"><pkg:xmlData><d/></pkg:xmlData></pkg:part>'
    assert scan(flat({}).replace(b"</pkg:package>", (part * 2).encode() + b"</pkg:package>"),
                policy) == (["CORRUPT"], [])  # fmt: skip
