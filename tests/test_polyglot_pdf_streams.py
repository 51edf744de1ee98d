"""PolyglotEngine on a PDF whose ZIP lies in a stream the PDF declares (precision hunts 98 and
99): an attached file stored raw (pypdf's and fpdf2's attachments; the pdf engine scans it)
and LibreOffice's "Hybrid PDF" source (`/AdditionalStreams`: handed on as a child, and only
when it holds no code LibreOffice may run). A ZIP in any other stream, or filtered, is
hidden as before."""

from __future__ import annotations

import io
import zipfile

import pytest

from attachguard.engines.office_objects import odf_runs_nothing
from attachguard.policy import Policy
from support import evasions
from test_polyglot import hits, scan

_CONTENT = (
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink"><office:scripts/>{}</office:document-content>'
)


def odf(body: str = "", **members: bytes) -> bytes:
    """An OpenDocument text package (stored: a raw stream holds it as it is)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", _CONTENT.format(body))
        for name, data in members.items():
            archive.writestr(name.replace("__", "/").replace("_dot_", "."), data)
    return out.getvalue()


def pdf(stream_dict: bytes, data: bytes, trailer: bytes = b"", *more: bytes) -> bytes:
    """A one-page PDF whose object 4 is a stream of ``data`` (placed last, so that a ZIP's end
    record is in the PDF's last 64 KiB, as pypdf and LibreOffice write it)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< %s /Length %d >>\nstream\n%s\nendstream" % (stream_dict, len(data), data),
        *more,
    ]
    return evasions.pdf(list(enumerate(objects, 1)), trailer=trailer)


_HYBRID = b"/AdditionalStreams [/application#2Fvnd#2Eoasis#2Eopendocument#2Etext 4 0 R]"


def test_an_attachment_stored_raw_is_no_hidden_zip(policy: Policy) -> None:
    assert hits(scan(policy, "pdf", pdf(b"/Type /EmbeddedFile", odf()))) == []


@pytest.mark.parametrize(
    "spec",
    [b"<< /Type /Filespec /F (a.odt) /EF << /F 4 0 R >> >>",
     b"<< /Type /Filespec /F (a.odt) /EF 6 0 R >>"],
    ids=["direct", "by-reference"],
)  # fmt: skip
def test_a_stream_a_file_specification_attaches_is_declared(spec: bytes, policy: Policy) -> None:
    """An embedded file stream's /Type is optional: the /EF that names it is what a reader (and
    the pdf engine) extracts it by."""
    data = pdf(b"/Params << /Size 10 >>", odf(), b"", spec, b"<< /F 4 0 R >>")
    assert hits(scan(policy, "pdf", data)) == []


def test_an_onlyoffice_forms_source_is_handed_on(policy: Policy) -> None:
    result = scan(policy, "pdf", pdf(b"/Type /MetaOForm /ONLYOFFICEFORM [0 10]", odf()))
    assert hits(result) == []
    assert [child.where for child in result.children] == [
        "the PDF form's source (object 4, ONLYOFFICE's)"
    ]


def test_a_zip_in_a_stream_nothing_declares_is_hidden(policy: Policy) -> None:
    [(message, _)] = hits(scan(policy, "pdf", pdf(b"", odf())))
    assert message == "ZIP archive hidden inside the PDF"


def test_a_hybrid_pdfs_source_is_handed_on(policy: Policy) -> None:
    result = scan(policy, "pdf", pdf(b"", odf(), _HYBRID))
    assert hits(result) == []
    [child] = result.children
    assert child.where == "the PDF's additional stream (object 4, its editable source)"
    assert child.data == odf()


@pytest.mark.parametrize(
    "source",
    [
        odf(Basic__Standard__Module1_dot_xba=b"<script:module/>"),
        odf('<office:event-listeners><script:event-listener script:event-name="dom:load" '
            'xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic"/>'
            "</office:event-listeners>"),
        odf('<presentation:event-listener presentation:action="execute" '
            'xlink:href="calc.exe"/>'),
    ],
    ids=["basic-library", "macro-on-load", "click-starts-a-program"],
)  # fmt: skip
def test_a_hybrid_source_with_code_stays_hidden(source: bytes, policy: Policy) -> None:
    """LibreOffice opens the source instead of the PDF: code in it is not passed over."""
    assert not odf_runs_nothing(source)
    [(message, _)] = hits(scan(policy, "pdf", pdf(b"", source, _HYBRID)))
    assert message == "ZIP archive hidden inside the PDF"


def test_a_presentations_click_to_a_web_page_is_no_code() -> None:
    link = (
        '<presentation:event-listener presentation:action="show" '
        'xlink:href="https://www.example.org/"/>'
    )
    assert odf_runs_nothing(odf(link))


def test_a_filtered_stream_is_no_declared_zip(policy: Policy) -> None:
    """Filtered, the stream's bytes are not its content: the ZIP unzip sees is another."""
    data = pdf(b"/Type /EmbeddedFile /Filter /ASCIIHexDecode", odf())
    [(message, _)] = hits(scan(policy, "pdf", data))
    assert message == "ZIP archive hidden inside the PDF"


def test_an_ef_spelt_in_a_string_declares_nothing(policy: Policy) -> None:
    """A title may spell ``/EF << /F 4 0 R >>``: it names no attached file (review 102)."""
    spec = b"<< /Title (/EF << /F 4 0 R >>) >>"
    [(message, _)] = hits(scan(policy, "pdf", pdf(b"", odf(), b"", spec)))
    assert message == "ZIP archive hidden inside the PDF"


def test_in_an_encrypted_pdf_an_attachments_bytes_are_not_its_content(policy: Policy) -> None:
    """The pdf engine scans the decrypted attachment; unzip reads the bytes as they lie."""
    data = pdf(b"/Type /EmbeddedFile", odf(), b"/Encrypt << /Filter /Standard /V 1 /R 2 >>")
    [(message, _)] = hits(scan(policy, "pdf", data))
    assert message == "ZIP archive hidden inside the PDF"


def test_the_end_record_unzip_reads_must_be_declared_too(policy: Policy) -> None:
    """A second end record outside any stream (here in a comment before ``%%EOF``) is the one
    unzip reads: its archive is not the attached one (review 102 pointed one back into the
    attachment)."""
    data = pdf(b"/Type /EmbeddedFile", odf())
    eocd = odf()[odf().rindex(b"PK\x05\x06") :]
    at = data.index(b"%%EOF")
    crafted = data[:at] + b"%" + eocd + b"\n" + data[at:]
    assert hits(scan(policy, "pdf", data)) == []
    [(message, _)] = hits(scan(policy, "pdf", crafted))
    assert message == "ZIP archive hidden inside the PDF"


@pytest.mark.parametrize(
    ("body", "inert"),
    [('<draw:image xlink:href=""/>', True),  # LibreOffice's empty template address
     ('<chart:chart xlink:href=".."/>', True),  # an embedded chart's reference to its document
     ('<draw:image xlink:href="Pictures/1.png"/>', True),
     ('<text:a xlink:href="https://shop.example/order/1">order</text:a>', True),
     ('<draw:image xlink:href="https://attacker.example/p.png"/>', False),
     ('<text:a xlink:href="\\\\attacker.example\\s\\x">x</text:a>', False),
     ('<office:dde-source office:dde-application="cmd" office:dde-topic="/c calc"/>', False)],
    ids=["empty", "parent-document", "inside", "web-link", "remote-picture", "share-link",
         "dde-source"],
)  # fmt: skip
def test_what_a_hybrid_source_may_load(body: str, inert: bool) -> None:
    from attachguard.engines.office_objects import odf_inert

    spaces = (
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:chart="urn:oasis:names:tc:opendocument:xmlns:chart:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    assert odf_inert(odf(f"<office:text {spaces}>{body}</office:text>")) is inert
