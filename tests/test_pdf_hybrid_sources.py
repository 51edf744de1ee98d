"""The pdf engine hands on a LibreOffice "Hybrid PDF"'s source documents coded with a filter
(the trailer's ``/AdditionalStreams``): LibreOffice opens the source instead of the PDF,
inflated (review 104: a compressed OpenDocument source with a macro run on load was never
scanned). One stored raw is the polyglot engine's (`test_polyglot_pdf_streams`)."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Item
from attachguard.engines.pdf import PdfEngine
from attachguard.policy import Policy, parse_policy
from attachguard.report import FileType, Status
from attachguard.scanner import build_scanner
from test_polyglot_pdf_streams import pdf

_LISTENER = (
    '<office:event-listeners><script:event-listener script:event-name="dom:load" '
    'xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic"/>'
    "</office:event-listeners>"
)
_CONTENT = (
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink"><office:scripts/>{}</office:document-content>'
)
_HYBRID = b"/AdditionalStreams [/application#2Fvnd#2Eoasis#2Eopendocument#2Etext 4 0 R]"


def odf(body: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", _CONTENT.format(body))
    return out.getvalue()


def hybrid(source: bytes, filters: bytes, trailer: bytes = _HYBRID) -> bytes:
    return pdf(filters, source, trailer)  # the polyglot tests' one-page PDF, its stream last


def scan(data: bytes, policy: Policy) -> tuple[list[str], list[tuple[str, bytes]]]:
    result = PdfEngine().scan(
        Item("a.pdf", data, FileType("pdf", "", "document")), policy.context()
    )
    return sorted(f.code.name for f in result.findings), [
        (c.where, c.data) for c in result.children
    ]


@pytest.mark.parametrize("body", [_LISTENER, ""], ids=["macro", "plain"])
def test_a_compressed_source_is_handed_on_inflated(body: str, policy: Policy) -> None:
    source = odf(body)
    codes, children = scan(hybrid(zlib.compress(source), b"/Filter /FlateDecode"), policy)
    assert codes == []
    assert children == [("LibreOffice source document", source)]


def test_a_raw_source_is_left_to_the_polyglot_engine(policy: Policy) -> None:
    assert scan(hybrid(odf(_LISTENER), b""), policy) == ([], [])


def test_no_hybrid_trailer_no_source(policy: Policy) -> None:
    data = hybrid(zlib.compress(odf(_LISTENER)), b"/Filter /FlateDecode", b"")
    assert scan(data, policy)[1] == []


def test_a_source_coded_for_pictures_is_corrupt(policy: Policy) -> None:
    codes, children = scan(hybrid(odf(_LISTENER), b"/Filter /CCITTFaxDecode"), policy)
    assert (codes, children) == (["CORRUPT"], [])


def test_the_handed_on_source_with_a_macro_is_rejected() -> None:
    """Through the whole pipeline: the inflated source's macro is found by the zip engine."""
    data = hybrid(zlib.compress(odf(_LISTENER)), b"/Filter /FlateDecode")
    policy = parse_policy("allowed_extensions: [.pdf]\ndisabled_engines: [clamav]\n")
    with build_scanner(policy, None) as scanner:
        report = scanner.scan(data, "a.pdf")
    assert report.status is Status.REJECTED
    assert FindingCode.VBA_MACRO in {f.code for f in report.rejecting}
