"""Streams the PDF engine reads as data (object streams, cross-reference streams, attached files)
whose filters it does not read as viewers read them (red team 105): a fax-coded (CCITTFaxDecode)
object stream reached only by repairing the cross-reference, or attachment, which pdf.js and
MuPDF decode and pypdf hands back as a TIFF picture; a /Crypt filter of a stream's own in an
encrypted file (MuPDF applies an Identity one and reads the stream plain, pypdf decrypts it
with the document's default); an object stream whose header lists fewer objects than its /N.
Each hostile file has a benign look-alike; pictures so coded stay allowed."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from io import BytesIO

import pytest
from PIL import Image, TiffImagePlugin
from pypdf._crypt_providers import rc4_encrypt
from pypdf._encryption import AlgV4
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, NullObject

from attachguard.engines.base import Item, Result
from attachguard.engines.pdf import PdfEngine
from attachguard.formats.pdffilters import foreign_filter
from attachguard.policy import Policy
from attachguard.report import FileType
from support import evasions

PDF = FileType("pdf", "application/pdf", "document")
ID = bytes.fromhex("00112233445566778899aabbccddeeff")
P = -4
CONTENT = b"BT /F1 12 Tf 72 720 Td (Your order has shipped.) Tj ET"
PAGE = {
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R%s >>",
    4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(CONTENT), CONTENT),
}
HIDDEN = {  # a script on open, through the name tree, and a Launch link on the page
    8: b"<< /JavaScript << /Names [(a) 9 0 R] >> >>",
    9: b"<< /S /JavaScript /JS (app.alert\\('opened'\\);) >>",
    10: b"[11 0 R]",
    11: b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch /F (cmd.exe) >> >>",
}
INNER_PDF = (
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert\\(1\\))"
    b" >> >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def fax(data: bytes, row: int = 64) -> tuple[bytes, bytes]:
    """``data`` coded as a one-bit picture in CCITT group 4 (Pillow's libtiff): the filter
    and its parameters, and the coded bytes."""
    data += b" " * (-len(data) % row)
    width, height = row * 8, len(data) // row
    out = BytesIO()
    Image.frombytes("1", (width, height), data).save(out, "TIFF", compression="group4")
    out.seek(0)
    tiff = Image.open(out)
    assert isinstance(tiff, TiffImagePlugin.TiffImageFile)
    tags = tiff.tag_v2
    start, size = tags[273][0], tags[279][0]
    info = b"/Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns %d /Rows %d /BlackIs1 true >>"
    return info % (width, height), out.getvalue()[start : start + size]


def stream(info: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (info, len(data), data)


def flate(data: bytes) -> tuple[bytes, bytes]:
    return b"/Filter /FlateDecode", zlib.compress(data)


def as_is(data: bytes) -> tuple[bytes, bytes]:
    return b"", data


def crypt_identity(data: bytes) -> tuple[bytes, bytes]:
    return b"/Filter [/Crypt]", data


Coding = Callable[[bytes], tuple[bytes, bytes]]  # data → its filters, the coded data


def objstm(objects: dict[int, bytes], code: Coding, declared: int | None = None) -> bytes:
    """Object stream 6 holding ``objects`` (its /N ``declared``, by default their number), its
    data coded by ``code`` (data → filters, coded data)."""
    bodies, pairs = b"", []
    for number, body in objects.items():
        pairs.append(b"%d %d" % (number, len(bodies)))
        bodies += body + b"\n"
    header = b" ".join(pairs) + b"\n"
    info, data = code(header + bodies)
    count = len(objects) if declared is None else declared
    return stream(b"/Type /ObjStm /N %d /First %d %s" % (count, len(header), info), data)


def build(
    objects: dict[int, bytes], packed: dict[int, bytes] | None = None, trailer: bytes = b""
) -> bytes:
    """A PDF of ``objects``, those in ``packed`` in object stream 6 (one of ``objects``),
    listed by a cross-reference stream when there is one, else a table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    slots = {number: slot for slot, number in enumerate(packed or ())}
    size = max([*offsets, *slots]) + 2
    if not packed:
        table = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for n in range(1, size):
            out += b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 00000 f \n"
        out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (size, trailer)
        return bytes(out + b"startxref\n%d\n%%%%EOF\n" % table)
    offsets[size - 1] = len(out)
    rows = evasions.xref_stream_rows(size, offsets, slots)
    xref = stream(b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R %s" % (size, trailer), rows)
    out += b"%d 0 obj\n%s\nendobj\n" % (size - 1, xref)
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % offsets[size - 1])


def broken(pdf: bytes, trailer: bytes = b"") -> bytes:
    """``pdf`` with a ``startxref`` that points nowhere: every reader rebuilds the
    cross-reference from the objects it finds."""
    end = pdf.rindex(b"startxref")
    tail = b"trailer\n<< /Size 20 /Root 1 0 R %s>>\nstartxref\n999999\n%%%%EOF\n" % trailer
    return pdf[:end] + tail


def hidden(code: Coding, repair: bool = True) -> bytes:
    """A one-page PDF whose catalog and page name objects only object stream 6 holds."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names 8 0 R >>",
        **PAGE,
        3: PAGE[3] % b" /Annots 10 0 R",
        6: objstm(HIDDEN, code),
    }
    pdf = build(objects, HIDDEN)
    return broken(pdf) if repair else pdf


def scan(data: bytes, policy: Policy) -> Result:
    return PdfEngine().scan(Item("statement.pdf", data, PDF), policy.context())


def codes(result: Result) -> dict[str, str]:
    return {f.code.name: f.message for f in result.findings}


# -- object streams ------------------------------------------------------------------------------


def test_a_fax_coded_object_stream_is_not_taken_for_empty(policy: Policy) -> None:
    # reached only by repair: pypdf's reading never looks inside it
    assert "/CCITTFaxDecode" in codes(scan(hidden(fax), policy))["CORRUPT"]
    # listed: pypdf's reading cannot read the page's links
    assert "CORRUPT" in codes(scan(hidden(fax, repair=False), policy))


def test_the_same_object_stream_flate_coded_is_read(policy: Policy) -> None:
    found = codes(scan(hidden(flate), policy))
    assert {"PDF_JAVASCRIPT", "PDF_LAUNCH"} <= found.keys()
    assert "CORRUPT" not in found


def test_an_object_stream_whose_header_lists_fewer_objects_than_its_count(policy: Policy) -> None:
    def orphan(declared: int) -> bytes:
        """Object stream 6 listed by no cross-reference: a repairing viewer unpacks it."""
        objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", **PAGE, 3: PAGE[3] % b""}
        return broken(build({**objects, 6: objstm(HIDDEN, flate, declared)}))

    # a reader may find a fifth object where the others find none
    found = codes(scan(orphan(5), policy))
    assert "lists 4 of its 5 objects" in found["CORRUPT"]
    assert {"PDF_JAVASCRIPT", "PDF_LAUNCH"} <= found.keys()  # the four are judged
    assert "CORRUPT" not in codes(scan(orphan(4), policy))


def test_a_picture_coded_for_fax_is_allowed(policy: Policy) -> None:
    info, data = fax(bytes(range(256)) * 8)
    picture = b"/Type /XObject /Subtype /Image /Width 512 /Height 32 /ImageMask true " + info
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        **PAGE,
        3: PAGE[3] % b" /Resources << /XObject << /Im1 6 0 R >> >>",
        4: stream(b"", b"q 512 0 0 32 50 600 cm /Im1 Do Q"),
        6: stream(picture, data),
    }
    assert scan(build(objects), policy).findings == []
    assert scan(broken(build(objects)), policy).findings == []


def test_a_cross_reference_stream_with_a_crypt_filter_is_ambiguous(policy: Policy) -> None:
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", **PAGE, 3: PAGE[3] % b""}
    objects[6] = objstm({7: b"<< /Producer (a) >>"}, flate)
    pdf = build(objects, {7: b""}, trailer=b"/Filter /Crypt ")  # pypdf and pdf.js read it raw
    assert "cross-reference stream" in codes(scan(pdf, policy))["AMBIGUOUS"]
    assert "AMBIGUOUS" not in codes(scan(build(objects, {7: b""}), policy))


# -- attached files ------------------------------------------------------------------------------


def attached(info: bytes, data: bytes, more: dict[int, bytes] | None = None) -> dict[int, bytes]:
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 5 0 R >> >>",
        **PAGE,
        3: PAGE[3] % b"",
        5: b"<< /Names [(statement.pdf) 6 0 R] >>",
        6: b"<< /Type /Filespec /F (statement.pdf) /UF (statement.pdf) /EF << /F 7 0 R >> >>",
        7: stream(b"/Type /EmbeddedFile " + info, data),
        **(more or {}),
    }


def test_a_fax_coded_attachment_is_not_scanned_as_a_picture(policy: Policy) -> None:
    result = scan(build(attached(*fax(INNER_PDF))), policy)
    assert "/CCITTFaxDecode" in codes(result)["CORRUPT"]
    assert result.children == []
    plain = scan(build(attached(b"", INNER_PDF)), policy)
    assert codes(plain).keys() == {"PDF_EMBEDDED_FILE"}
    assert [child.data for child in plain.children] == [INNER_PDF]


@pytest.mark.parametrize(
    "filters",
    [b"/DCTDecode", b"/JBIG2Decode", b"/JPXDecode", b"[/FlateDecode /CCF]", b"/Unheard#44ecode"],
)
def test_an_attachment_coded_with_a_filter_not_read_as_data(policy: Policy, filters: bytes) -> None:
    data = zlib.compress(INNER_PDF) if b"Flate" in filters else INNER_PDF
    assert "CORRUPT" in codes(scan(build(attached(b"/Filter " + filters, data)), policy))


def hexs(data: bytes) -> bytes:
    return b"<" + data.hex().encode() + b">"


def encryption() -> tuple[bytes, bytes]:
    """An /Encrypt dictionary (RC4, 128 bits, revision 3) with an empty user password, and
    its file key."""
    owner = AlgV4.compute_O_value(AlgV4.compute_O_value_key(b"owner", 3, 128), b"", 3)
    key = AlgV4.compute_key(b"", 3, 128, owner, P & 0xFFFFFFFF, ID, True)
    user = AlgV4.compute_U_value(key, 3, ID)
    info = b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P %d /O %s /U %s >>"
    return info % (P, hexs(owner), hexs(user)), key


def encrypted(key: bytes, number: int, data: bytes) -> bytes:
    """``data`` encrypted for object ``number`` (generation 0), as algorithm 1 says."""
    digest = hashlib.md5(key + number.to_bytes(3, "little") + b"\0\0").digest()  # noqa: S324
    return rc4_encrypt(digest[: len(key) + 5], data)


TRAILER = b"/Encrypt 12 0 R /ID [%s %s] " % (hexs(ID), hexs(ID))


@pytest.mark.parametrize("crypt", [True, False], ids=["own crypt filter", "document's"])
def test_an_attachment_with_a_crypt_filter_of_its_own(policy: Policy, crypt: bool) -> None:
    info, key = encryption()
    text = b"Order 4711 shipped."
    data = text if crypt else encrypted(key, 7, text)
    pdf = build(attached(b"/Filter [/Crypt]" if crypt else b"", data, {12: info}), trailer=TRAILER)
    found = codes(scan(pdf, policy))
    assert ("crypt filter" in found.get("AMBIGUOUS", "")) is crypt


@pytest.mark.parametrize("crypt", [True, False], ids=["own crypt filter", "document's"])
def test_an_object_stream_with_a_crypt_filter_of_its_own(policy: Policy, crypt: bool) -> None:
    info, key = encryption()

    def code(plain: bytes) -> tuple[bytes, bytes]:
        return crypt_identity(plain) if crypt else (b"", encrypted(key, 6, plain))

    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names 8 0 R >>",
        **PAGE,
        3: PAGE[3] % b"",  # pypdf's reading needs no object of the stream
        4: stream(b"", encrypted(key, 4, CONTENT)),
        6: objstm(HIDDEN, code),
        12: info,
    }
    found = codes(scan(broken(build(objects, HIDDEN, TRAILER), TRAILER), policy))
    if crypt:
        assert "crypt filter" in found["AMBIGUOUS"]
    else:  # decrypted as every reader decrypts it: its objects are judged
        assert {"PDF_JAVASCRIPT", "PDF_LAUNCH"} <= found.keys()
        assert "AMBIGUOUS" not in found


# -- which filters are read as data --------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "foreign"),
    [
        (None, None),
        (NullObject(), None),
        (NameObject("/FlateDecode"), None),
        (ArrayObject([NameObject("/ASCII85Decode"), NameObject("/LZWDecode")]), None),
        (ArrayObject([NameObject("/AHx"), NameObject("/Fl"), NameObject("/RL")]), None),
        (NameObject("/CCITTFaxDecode"), "/CCITTFaxDecode"),
        (ArrayObject([NameObject("/FlateDecode"), NameObject("/DCTDecode")]), "/DCTDecode"),
        (ArrayObject([NameObject("/Crypt")]), "/Crypt"),
        (NameObject("/Unknown"), "/Unknown"),
        (IndirectObject(5, 0, None), "a filter given by reference"),
    ],
)
def test_foreign_filter(filters: object, foreign: str | None) -> None:
    info = DictionaryObject()
    if filters is not None:
        info[NameObject("/Filter")] = filters
    assert foreign_filter(info) == foreign
