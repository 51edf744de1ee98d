"""PolyglotEngine on a PDF whose ZIP lies in a stream it declares (review 104): an /EF names
an attached file as pypdf reads it (top-level references only: not in an array, a nested
dictionary, a string or a hex string); the ZIP as unzip reads it is handed on as a child
whatever the pdf engine extracts (pypdf may take a shorter /Length); a Hybrid PDF's source
passes as Office Open XML only when nothing in it is OpenDocument."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest

from attachguard import samples
from attachguard.codes import FindingCode
from attachguard.pipeline import Scanner
from attachguard.policy import Policy, parse_policy
from attachguard.report import Status
from attachguard.scanner import build_scanner
from test_polyglot import hits, scan
from test_polyglot_inside import archive
from test_polyglot_pdf_streams import _HYBRID, odf, pdf

HIDDEN = "ZIP archive hidden inside the PDF"
PROGRAM = archive()  # a program in a ZIP (zipfile stamps the time: built once)
OTHER = b"<< /Type /EmbeddedFile /Length 6 >>\nstream\nhello\n\nendstream"


@pytest.fixture(scope="module")
def scanner() -> Iterator[Scanner]:
    policy = parse_policy("allowed_extensions: [.pdf]\ndisabled_engines: [clamav]\n")
    with build_scanner(policy, None) as built:
        yield built


def attached(spec: bytes, *more: bytes, payload: bytes | None = None) -> bytes:
    """Object 4 holds the ZIP (raw), object 5 is the file specification."""
    return pdf(b"", odf() if payload is None else payload, b"", spec, *more)


@pytest.mark.parametrize(
    ("spec", "more"),
    [
        (b"<< /Type /Filespec /F (a.odt) /EF << /F [4 0 R] >> >>", ()),
        (b"<< /Type /Filespec /F (a.odt) /EF 6 0 R >>", (b"<< /F 7 0 R /X << /Y 4 0 R >> >>",)),
        (b"<< /Type /Filespec /F (a.odt) /EF 6 0 R >>", (b"<< /F 7 0 R /Desc (see 4 0 R) >>",)),
        (b"<< /Type /Filespec /F (a.odt) /EF 6 0 R >>", (b"<< /F 7 0 R /Desc < 4 0 R > >>",)),
        (b"<< /Type /Filespec /F (a.odt) /EF << /F 7 0 R /X << /Y 4 0 R >> >> >>", ()),
    ],
    ids=["in-an-array", "nested-by-reference", "in-a-string", "in-a-hex-string", "nested"],
)
def test_a_stream_no_ef_value_names_stays_hidden(
    spec: bytes, more: tuple[bytes, ...], policy: Policy
) -> None:
    """pypdf extracts only the top-level values of /EF that are references: the others name
    nothing the pdf engine scans (review 104)."""
    result = scan(policy, "pdf", attached(spec, *more, OTHER))
    assert [message for message, _ in hits(result)] == [HIDDEN]
    assert all(f.code is FindingCode.POLYGLOT for f in result.findings)


@pytest.mark.parametrize(
    ("spec", "more"),
    [
        (b"<< /Type /Filespec /F (a.odt) /E#46 << /F 4 0 R >> >>", ()),
        (b"<< /Type /Filespec /F (a.odt) /EF 6 0 R >>", (b"<< /F 4 0 R /UF 4 0 R >>",)),
        (b"<< /Type /Filespec /F (a.odt) /EF << /UF 4 0 R /F (x) >> >>", ()),
    ],
    ids=["escaped-name", "by-reference", "beside-a-string"],
)
def test_a_stream_an_ef_value_names_is_attached_and_handed_on(
    spec: bytes, more: tuple[bytes, ...], policy: Policy
) -> None:
    data = attached(spec, *more)
    result = scan(policy, "pdf", data)
    assert hits(result) == []
    [child] = result.children
    start = data.index(odf())
    assert child.where == f"ZIP archive at offset {start} of the PDF, as unzip reads it"
    assert child.data == odf()


def twice(length: bytes) -> bytes:
    """An attached file whose stream has the ZIP after a text and a false ``endstream``; its
    /Length is object 10, defined with ``length`` first and the full length second: pypdf
    takes the first (the cross-reference table's), the raw reader the stream up to the real
    ``endstream``."""
    text = b"hello, this is a plain text attachment\n"
    data = text + b"endstream\n" + PROGRAM
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(a.txt) 5 0 R] >>"
        b" >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Type /Filespec /F (a.txt) /UF (a.txt) /EF << /F 6 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length 10 0 R >>\nstream\n" + data + b"\nendstream",
    ]
    numbered = [(n, body) for n, body in zip((1, 2, 3, 5, 6), objects, strict=True)]
    numbered += [(10, length), (10, b"%d" % len(data))]
    out, offsets = bytearray(b"%PDF-1.7\n"), dict[int, int]()
    for number, body in numbered:
        offsets.setdefault(number, len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 11\n0000000000 65535 f \n"
    for number in range(1, 11):
        out += (
            b"%010d 00000 n \n" % offsets[number]
            if number in offsets
            else b"0" * 10 + (b" 65535 f \n")
        )
    out += b"trailer\n<< /Size 11 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_an_attachment_pypdf_cuts_short_hands_on_the_zip_unzip_reads(
    policy: Policy, scanner: Scanner
) -> None:
    """pypdf extracts 42 bytes of text; unzip reads the program after them (review 104)."""
    data = twice(b"42")
    result = scan(policy, "pdf", data)
    assert hits(result) == []
    [child] = result.children
    assert child.data == PROGRAM
    report = scanner.scan(data, "notes.pdf")
    assert report.status is Status.REJECTED
    where = f"ZIP archive at offset {data.index(PROGRAM)} of the PDF, as unzip reads it"
    assert (FindingCode.EXECUTABLE, f"{where}/invoice.exe") in {
        (f.code, f.location) for f in report.rejecting
    }


def test_an_attachment_read_whole_keeps_its_verdict(scanner: Scanner) -> None:
    """The same file with one /Length: the program is found in the attachment, as before."""
    report = scanner.scan(twice(b"%d" % (len(PROGRAM) + 49)), "notes.pdf")
    assert report.status is Status.REJECTED
    assert FindingCode.EXECUTABLE in {f.code for f in report.rejecting}
    assert FindingCode.POLYGLOT not in {f.code for f in report.findings}


def test_a_harmless_attached_zip_is_approved(scanner: Scanner) -> None:
    data = attached(b"<< /Type /Filespec /F (a.odt) /EF << /F 4 0 R >> >>")
    report = scanner.scan(data, "minutes.pdf")
    assert report.status is Status.APPROVED, report.rejecting


def package(source: bytes, members: dict[str, bytes], drop: str = "") -> bytes:
    """``source`` with more members (stored), and without the member ``drop``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as inside, zipfile.ZipFile(out, "w") as package:
        for info in inside.infolist():
            if info.filename != drop:
                package.writestr(info, inside.read(info))
        for name, data in members.items():
            package.writestr(name, data)
    return out.getvalue()


_MODULE = b'<script:module xmlns:script="http://openoffice.org/2000/script"/>'
_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)


@pytest.mark.parametrize(
    "source",
    [
        package(
            odf(Basic__Standard__Module1_dot_xba=_MODULE, META_INF__manifest_dot_xml=b"<m/>"),
            {"[Content_Types].xml": _TYPES},
            drop="mimetype",
        ),
        package(samples.docx(["Minutes"]), {"Basic/Standard/Module1.xba": _MODULE}),
    ],
    ids=["odf-without-mimetype", "docx-with-basic"],
)
def test_a_hybrid_source_that_is_opendocument_too_is_judged_as_one(
    source: bytes, policy: Policy
) -> None:
    """[Content_Types].xml made an OpenDocument text with a Basic library pass as Office Open
    XML, handed on unjudged (review 104): LibreOffice opens it by its manifest."""
    result = scan(policy, "pdf", pdf(b"", source, _HYBRID))
    assert [message for message, _ in hits(result)] == [HIDDEN]
    assert result.children == []


@pytest.mark.parametrize(
    "source",
    [
        samples.docx(["Minutes"]),
        package(odf(), {"[Content_Types].xml": _TYPES}, drop="mimetype"),
    ],
    ids=["docx", "odf-without-mimetype"],
)
def test_a_hybrid_source_that_runs_nothing_is_handed_on(source: bytes, policy: Policy) -> None:
    result = scan(policy, "pdf", pdf(b"", source, _HYBRID))
    assert hits(result) == []
    [child] = result.children
    assert child.data == source
