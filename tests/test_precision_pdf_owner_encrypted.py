"""Precision: owner-password-only ("print only") encrypted PDFs are scanned decrypted, not
rejected as ENCRYPTED because clamd misreads their encryption dictionary.

clamd decrypts such PDFs itself, except when it cannot parse the /Encrypt dictionary: MuPDF
writes it directly in the trailer (clamd only follows ``/Encrypt N 0 R``), and TCPDF writes an
AES-256 dictionary's /Perms, /OE and /UE before /P, /O and /U (clamd takes the first key that
starts with "/P" or "/O": "invalid P"). It then answers ``Heuristics.Encrypted.PDF``. Even when
it does decrypt, it skips a stream without a filter: EICAR there went unseen. The PDF engine
opens both with the empty password and hands the content on decrypted (the ``decrypted``
fact), which every engine scans; the pipeline then drops ENCRYPTED about the file itself.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import DecodedStreamObject, NameObject

import attachguard.engines.pdf as pdf_engine
from attachguard.clamav.client import ClamdClient
from attachguard.clamav.signatures import EICAR
from attachguard.codes import DECRYPTED, FindingCode
from attachguard.engines.base import Item
from attachguard.engines.pdf import PdfEngine
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import UNKNOWN_TYPE, Report, Status
from attachguard.scanner import build_scanner

ENCRYPTED_PDF = "Heuristics.Encrypted.PDF"


def encrypted(
    algorithm: str, *, user: str = "", raw_eicar: bool = False, attached: bool = False
) -> bytes:
    """A one-page PDF encrypted by pypdf (owner password "owner"), /Encrypt an indirect
    object; EICAR in an unfiltered content stream, or attached as a file, on request."""
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    if raw_eicar:
        stream = DecodedStreamObject()
        stream.set_data(b"BT /F1 12 Tf 10 10 Td (" + EICAR + b") Tj ET")
        page[NameObject("/Contents")] = writer._add_object(stream)
    if attached:
        writer.add_attachment("note.txt", EICAR)
    writer.encrypt(user_password=user, owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _encrypt_object(data: bytes) -> re.Match[bytes]:
    ref = re.search(rb"/Encrypt (\d+) 0 R", data[data.rindex(b"trailer") :])
    assert ref is not None
    body = re.search(rb"\n" + ref[1] + rb" 0 obj\n(<<\n.*?\n>>)\nendobj", data, re.DOTALL)
    assert body is not None
    return body


def inline(data: bytes) -> bytes:
    """MuPDF's layout: the /Encrypt dictionary written directly in the trailer."""
    body = _encrypt_object(data)[1]
    trailer = data.rindex(b"trailer")
    tail = re.sub(rb"/Encrypt \d+ 0 R", lambda _: b"/Encrypt " + body, data[trailer:])
    return data[:trailer] + tail


def tcpdf_order(data: bytes) -> bytes:
    """TCPDF's AES-256 layout: /OE, /UE and /Perms before /P, /O and /U (same length, so every
    offset holds)."""
    match = _encrypt_object(data)
    lines = match[1].split(b"\n")
    late = [line for line in lines if line.split(b" ")[0] in (b"/OE", b"/UE", b"/Perms")]
    rest = [line for line in lines if line not in late]
    body = b"\n".join([rest[0], *late, *rest[1:]])
    assert len(body) == len(match[1])
    return data[: match.start(1)] + body + data[match.end(1) :]


@pytest.fixture(scope="module")
def scanner(clamd_client: ClamdClient, policy: Policy) -> Iterator[Scanner]:
    with build_scanner(policy, clamd_client) as built:
        yield built


def codes(report: Report) -> set[str]:
    return {f.code.name for f in report.findings}


# --- the PDF engine alone ---------------------------------------------------------------------


def test_owner_only_pdf_is_handed_on_decrypted(policy: Policy) -> None:
    data = inline(encrypted("AES-128", raw_eicar=True))
    result = PdfEngine().scan(Item("statement.pdf", data, UNKNOWN_TYPE), policy.context())
    [child] = result.children
    assert (result.findings, result.facts[DECRYPTED]) == ([], child.where)
    assert EICAR in child.data and EICAR not in data
    reader = PdfReader(io.BytesIO(child.data), strict=True)
    assert not reader.is_encrypted and len(reader.pages) == 1
    # the rewrite is a plain PDF: nothing for the PDF engine to say about it
    again = PdfEngine().scan(Item("decrypted.pdf", child.data, UNKNOWN_TYPE), policy.context())
    assert (again.findings, again.children) == ([], [])


def test_no_rewrite_where_children_are_too_deep(policy: Policy) -> None:
    context = replace(policy.context(), depth_left=0)
    result = PdfEngine().scan(Item("a.pdf", encrypted("AES-128"), UNKNOWN_TYPE), context)
    assert (result.children, DECRYPTED in result.facts) == ([], False)


def test_password_pdf_is_not_handed_on(policy: Policy) -> None:
    data = inline(encrypted("AES-128", user="customer"))
    result = PdfEngine().scan(Item("statement.pdf", data, UNKNOWN_TYPE), policy.context())
    assert [f.code for f in result.findings] == [FindingCode.ENCRYPTED]
    assert (result.children, DECRYPTED in result.facts) == ([], False)


# --- the whole scanner, with a real clamd -----------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RC4-40", "RC4-128", "AES-128", "AES-256"])
def test_trailer_encrypt_dictionary_is_approved(
    scanner: Scanner, clamd_client: ClamdClient, algorithm: str
) -> None:
    data = inline(encrypted(algorithm))
    assert clamd_client.instream(data).signature == ENCRYPTED_PDF  # clamd alone misreads it
    report = scanner.scan(data, "statement.pdf")
    assert (report.status, report.findings) == (Status.APPROVED, [])
    assert report.facts[DECRYPTED] == "decrypted content"


def test_tcpdf_aes256_key_order_is_approved(scanner: Scanner, clamd_client: ClamdClient) -> None:
    data = tcpdf_order(encrypted("AES-256"))
    assert clamd_client.instream(data).signature == ENCRYPTED_PDF
    assert scanner.scan(data, "invoice.pdf").status is Status.APPROVED


@pytest.mark.parametrize("layout", [lambda data: data, inline], ids=["indirect", "trailer"])
def test_user_password_stays_encrypted(scanner: Scanner, layout: object) -> None:
    assert callable(layout)
    report = scanner.scan(layout(encrypted("AES-128", user="customer")), "statement.pdf")
    assert report.status is Status.REJECTED
    assert "ENCRYPTED" in codes(report)


@pytest.mark.parametrize("layout", [lambda data: data, inline], ids=["indirect", "trailer"])
def test_eicar_in_an_unfiltered_stream_is_malware(
    scanner: Scanner, clamd_client: ClamdClient, layout: object
) -> None:
    # clamd decrypts the indirect layout itself, but skips a stream without a filter
    assert callable(layout)
    data = layout(encrypted("AES-128", raw_eicar=True))
    assert clamd_client.instream(data).signature in (None, ENCRYPTED_PDF)
    report = scanner.scan(data, "statement.pdf")
    assert report.status is Status.REJECTED
    [malware] = [f for f in report.findings if f.code is FindingCode.MALWARE]
    assert malware.location == "decrypted content"
    assert "ENCRYPTED" not in codes(report)


def test_eicar_attached_to_a_trailer_encrypted_pdf_is_malware(scanner: Scanner) -> None:
    report = scanner.scan(inline(encrypted("AES-256", attached=True)), "statement.pdf")
    assert report.status is Status.REJECTED
    assert "MALWARE" in codes(report) and "ENCRYPTED" not in codes(report)


def test_a_rewrite_that_fails_stays_encrypted(
    scanner: Scanner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*args: object) -> bytes:
        raise PdfReadError("cannot write")

    monkeypatch.setattr(pdf_engine, "_decrypted", fails)
    report = scanner.scan(inline(encrypted("AES-128")), "statement.pdf")
    assert report.status is Status.REJECTED
    assert [(f.code.name, f.label) for f in report.findings] == [("ENCRYPTED", ENCRYPTED_PDF)]


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_an_empty_owner_password_does_not_open_a_user_password(
    algorithm: str, policy: Policy
) -> None:
    # pypdf tries the owner password first, and opens this file with ""; a reader tries ""
    # as the user password only, and asks (pypdf's r5-user-password.pdf is one such file)
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="user", owner_password="", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    item = Item("letter.pdf", out.getvalue(), UNKNOWN_TYPE)
    found = PdfEngine().scan(item, policy.context())
    assert [f.code for f in found.findings] == [FindingCode.ENCRYPTED]
    assert not found.children
