"""PDFs that readers decrypt or decode differently from pypdf (red team 95): /Encrypt in an
older trailer only (pypdf merges every revision's trailer, pdf.js and MuPDF read the newest),
attached files encrypted with a filter of their own (/EFF, which pypdf does not apply), and
ASCII85 data holding bytes that pdf.js takes for digits and pypdf skips."""

from __future__ import annotations

import base64
import zlib

import pytest
from pypdf._encryption import AlgV4

from attachguard.formats.pdffilters import ascii85
from support.fake_clamd import EICAR, FakeClamd, scanner_for

ID = bytes.fromhex("00112233445566778899aabbccddeeff")
P = -4


def hexs(data: bytes) -> bytes:
    return b"<" + data.hex().encode() + b">"


def owner_only(revision: int, extra: bytes = b"") -> bytes:
    """An /Encrypt dictionary of the standard handler with an empty user password."""
    key_rc4 = AlgV4.compute_O_value_key(b"owner", revision, 128)
    owner = AlgV4.compute_O_value(key_rc4, b"", revision)
    key = AlgV4.compute_key(b"", revision, 128, owner, P & 0xFFFFFFFF, ID, revision < 4)
    user = AlgV4.compute_U_value(key, revision, ID)
    version = 4 if revision == 4 else 2
    extra += b"/EncryptMetadata false " if revision >= 4 else b""  # as the key was computed
    return b"<< /Filter /Standard /V %d /R %d /Length 128 /P %d /O %s /U %s %s>>" % (
        version, revision, P, hexs(owner), hexs(user), extra,
    )  # fmt: skip


def stream(info: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (info, len(data), data)


def revisions(objects: dict[int, bytes], trailers: list[bytes]) -> bytes:
    """A PDF of ``objects`` written once per trailer: each revision rewrites object 3 (the
    page), then a cross-reference table and the trailer given, /Prev added."""
    out = bytearray(b"%PDF-1.7\n")
    previous = None
    for index, extra in enumerate(trailers):
        offsets = {}
        for number, body in sorted(objects.items()) if index == 0 else [(3, objects[3])]:
            offsets[number] = len(out)
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        table = len(out)
        out += b"xref\n0 1\n0000000000 65535 f \n"
        for number in sorted(offsets):
            out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
        prev = b"" if previous is None else b"/Prev %d " % previous
        size = max(objects) + 1
        out += b"trailer\n<< /Size %d /Root 1 0 R /ID [%s %s] %s%s>>\nstartxref\n%d\n%%%%EOF\n" % (
            size, hexs(ID), hexs(ID), prev, extra, table,
        )  # fmt: skip
        previous = table
    return bytes(out)


def attached(file_stream: bytes, encrypt: bytes | None = None) -> dict[int, bytes]:
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 5 0 R >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        5: b"<< /Names [(notes.txt) 6 0 R] >>",
        6: b"<< /Type /Filespec /F (notes.txt) /UF (notes.txt) /EF << /F 7 0 R >> >>",
        7: file_stream,
    }
    return objects | ({8: encrypt} if encrypt else {})


def codes(pdf: bytes) -> dict[str, str]:
    with scanner_for(FakeClamd(), "allowed_extensions: [.pdf]\n") as scanner:
        report = scanner.scan(pdf, "statement.pdf")
    return {f.code.name: f.message for f in report.findings}


def test_encrypt_in_an_older_trailer_only_is_ambiguous() -> None:
    objects = attached(stream(b"/Type /EmbeddedFile", b"notes"), owner_only(3))
    found = codes(revisions(objects, [b"/Encrypt 8 0 R ", b""]))
    assert found.keys() == {"AMBIGUOUS"}
    assert "older trailer" in found["AMBIGUOUS"]
    # in every trailer (as ISO 32000 asks of an update): readers agree
    assert "AMBIGUOUS" not in codes(revisions(objects, [b"/Encrypt 8 0 R "] * 2))


@pytest.mark.parametrize(
    ("filters", "apart"),
    [
        (b"/StmF /Identity /StrF /Identity /EFF /StdCF ", True),  # attachments only
        (b"/StmF /StdCF /StrF /StdCF /EFF /StdCF ", False),  # the same filter everywhere
        (b"/StmF /StdCF /StrF /StdCF ", False),
    ],
)
def test_attachments_encrypted_apart_from_the_document_are_encrypted(
    filters: bytes, apart: bool
) -> None:
    crypt = b"/CF << /StdCF << /Type /CryptFilter /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >> "
    objects = attached(stream(b"/Type /EmbeddedFile", b"x" * 32), owner_only(4, filters + crypt))
    found = codes(revisions(objects, [b"/Encrypt 8 0 R "]))
    assert ("apart from the document" in found.get("ENCRYPTED", "")) is apart


def test_ascii85_with_bytes_readers_read_differently_is_not_read() -> None:
    encoded = base64.a85encode(zlib.compress(b"notes " + EICAR)) + b"~>"
    plain = stream(b"/Type /EmbeddedFile /Filter [/ASCII85Decode /FlateDecode]", encoded)
    assert "MALWARE" in codes(revisions(attached(plain), [b""]))
    spiked = stream(
        b"/Type /EmbeddedFile /Filter [/ASCII85Decode /FlateDecode]",
        encoded[:5] + b"\x00" + encoded[5:],
    )
    found = codes(revisions(attached(spiked), [b""]))
    assert "MALWARE" not in found and "CORRUPT" in found


@pytest.mark.parametrize(
    ("data", "readable"),
    [
        (b'<~87cURD]i,"Ebo7~>', True),
        (b'  87cURD]i,"Ebo7~>\n', True),
        (b'87cURD]i,\r\n"Ebo7~>', True),
        (b'87c\x00URD]i,"Ebo7~>', False),  # pdf.js: a digit; pypdf: a blank
        (b'87c\x0cURD]i,"Ebo7~>', False),  # a form feed, the same
        (b'87cURD]i,"Ebo7~>\x00\x00', True),  # after the end: nobody reads it
    ],
)
def test_ascii85_bytes_every_reader_takes_alike(data: bytes, readable: bool) -> None:
    if readable:
        assert ascii85(data) == b"Hello World"
    else:
        with pytest.raises(ValueError, match="readers read differently"):
            ascii85(data)


def test_a_pdf_encrypted_for_certificates_is_encrypted_not_damaged() -> None:
    # public-key security (Acrobat's "encrypt with certificates"; pyhanko's files): a viewer
    # asks for the recipient's certificate; pypdf cannot open it (hunt 104: called damaged)
    pubsec = (
        b"<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 /Length 128 "
        b"/CF << /DefaultCryptFilter << /CFM /AESV2 /Recipients [<3082>] >> >> "
        b"/StmF /DefaultCryptFilter /StrF /DefaultCryptFilter >>"
    )
    objects = attached(stream(b"/Type /EmbeddedFile", b"x" * 32), pubsec)
    found = codes(revisions(objects, [b"/Encrypt 8 0 R "]))
    assert found.keys() == {"ENCRYPTED"} and "certificates" in found["ENCRYPTED"]
