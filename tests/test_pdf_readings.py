"""PdfEngine: every object body any reader may take (`pdf_bodies`), and what lies between the
parts of a PDF (`pdf_layout`). Each hostile file has a benign look-alike; fixtures are built
here byte by byte."""

from __future__ import annotations

import struct
import zipfile
import zlib
from io import BytesIO

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject, NumberObject

from attachguard.engines.base import Item, Result
from attachguard.engines.pdf import PdfEngine
from attachguard.policy import Limits, Policy
from attachguard.report import FileType

PDF = FileType("pdf", "application/pdf", "document")
HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
CATALOG = b"<< /Type /Catalog /Pages 2 0 R%s >>"
PAGES = {
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
}
JS = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
GOTO = b"<< /S /GoTo /D [3 0 R /Fit] >>"
# A DOS header pointing at a PE signature: mostly NULs, which PDF counts as whitespace.
PROGRAM = b"MZ" + bytes(58) + b"\x40\x00\x00\x00" + b"PE\x00\x00\x4c\x01" + bytes(18)


def content(text: bytes) -> bytes:
    """A page's content stream (uncompressed) showing ``text``."""
    ops = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops)


def stream(info: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (info, len(data), data)


def packed(objects: dict[int, bytes], info: bytes = b"/Filter /FlateDecode") -> bytes:
    """An object stream holding ``objects``."""
    bodies, offsets = b"", []
    for body in objects.values():
        offsets.append(len(bodies))
        bodies += body + b"\n"
    header = b"".join(b"%d %d " % (n, at) for n, at in zip(objects, offsets, strict=True))
    plain = header + bodies
    data = zlib.compress(plain) if b"Flate" in info else plain.hex().encode() + b">"
    return stream(b"/Type /ObjStm /N %d /First %d %s" % (len(objects), len(header), info), data)


class Pdf:
    """A PDF written object by object and revision by revision; ``xref`` lists the offsets
    it is given (by default, each number's last definition)."""

    def __init__(self) -> None:
        self.data = bytearray(HEADER)
        self.offsets: dict[int, int] = {}
        self.last_xref: int | None = None

    def add(self, number: int, body: bytes) -> int:
        self.offsets[number] = len(self.data)
        self.data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        return self.offsets[number]

    def page(self, catalog: bytes = b"", text: bytes = b"Order 4711 has shipped.") -> Pdf:
        self.add(1, CATALOG % catalog)
        for number, body in PAGES.items():
            self.add(number, body)
        self.add(4, content(text))
        return self

    def xref(self, offsets: dict[int, int] | None = None, shift: int = 0) -> Pdf:
        listed = self.offsets if offsets is None else offsets
        start = len(self.data)
        rows = b"".join(
            b"%d 1\n%010d 00000 n \n" % (n, at + shift) for n, at in sorted(listed.items())
        )
        size = max(listed) + 1
        prev = b"" if self.last_xref is None else b" /Prev %d" % self.last_xref
        self.data += b"xref\n0 1\n0000000000 65535 f \n" + rows
        self.data += b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (size, prev)
        self.data += b"startxref\n%d\n%%%%EOF\n" % (start + shift)
        self.last_xref, self.offsets = start, {}
        return self

    def bytes(self) -> bytes:
        return bytes(self.data)


def scan(data: bytes, policy: Policy) -> Result:
    return PdfEngine().scan(Item("file.pdf", data, PDF), policy.context())


def found(result: Result) -> set[tuple[str, str | None]]:
    return {(f.code.name, f.location) for f in result.findings}


def codes(result: Result) -> set[str]:
    return {f.code.name for f in result.findings}


# -- both definitions of a duplicate --------------------------------------------------------------


@pytest.mark.parametrize("xref_takes", ["first", "last"])
def test_script_in_the_definition_the_xref_does_not_take(policy: Policy, xref_takes: str) -> None:
    pdf = Pdf().page(b" /OpenAction 6 0 R")
    first = pdf.add(6, GOTO if xref_takes == "first" else JS)
    last = pdf.add(6, JS if xref_takes == "first" else GOTO)
    pdf.xref({**pdf.offsets, 6: first if xref_takes == "first" else last})
    hidden_at = last if xref_takes == "first" else first
    result = scan(pdf.bytes(), policy)
    where = f"object 6 (another definition, at offset {hidden_at})"
    assert ("PDF_JAVASCRIPT", where) in found(result)
    assert ("PDF_AUTO_ACTION", "catalog") in found(result)  # it opens with 6, either of them


def test_duplicate_definitions_that_are_both_clean_are_approved(policy: Policy) -> None:
    pdf = Pdf().page(b" /OpenAction 6 0 R")
    pdf.add(6, GOTO)
    pdf.add(6, b"<< /S /GoTo /D [3 0 R /FitH 700] >>")
    result = scan(pdf.xref().bytes(), policy)
    assert result.findings == []
    assert result.facts["pdf_structure"] == ["duplicate_object"]


def test_open_action_runs_if_any_definition_of_its_target_does(policy: Policy) -> None:
    """pypdf resolves the action to the definition the xref lists (a GoTo); a repairing
    reader takes the other (a URI, which no name gives away)."""
    pdf = Pdf().page(b" /OpenAction 6 0 R")
    listed = pdf.add(6, GOTO)
    pdf.add(6, b"<< /S /URI /URI (https://evil.example/) >>")
    result = scan(pdf.xref({**pdf.offsets, 6: listed}).bytes(), policy)
    assert found(result) == {("PDF_AUTO_ACTION", "catalog")}


def test_script_in_an_older_revision_is_reported(policy: Policy) -> None:
    """Acrobat shows a signed revision on request, with its scripts."""
    pdf = Pdf().page(b" /OpenAction 6 0 R")
    pdf.add(6, JS)
    pdf.xref()
    pdf.add(6, GOTO)
    result = scan(pdf.xref().bytes(), policy)
    assert "PDF_JAVASCRIPT" in codes(result)


def test_clean_incremental_update_is_approved(policy: Policy) -> None:
    pdf = Pdf().page(b" /OpenAction 6 0 R")
    pdf.add(6, GOTO)
    pdf.xref()
    pdf.add(4, content(b"Order 4711 was delivered."))
    result = scan(pdf.xref().bytes(), policy)
    assert (result.findings, "pdf_structure" in result.facts) == ([], False)


# -- objects the cross-reference leaves out -------------------------------------------------------


def test_escaped_script_in_an_unlisted_object(policy: Policy) -> None:
    pdf = Pdf().page()
    listed = dict(pdf.offsets)
    pdf.add(9, b"<< /S /J#61vaScript /J#53 (x) >>")
    assert found(scan(pdf.xref(listed).bytes(), policy)) == {("PDF_JAVASCRIPT", "hidden object 9")}


@pytest.mark.parametrize(
    ("inside", "expected"),
    [(JS, {("PDF_JAVASCRIPT", "hidden object 7")}), (GOTO, set())],
)
def test_unlisted_object_stream_is_unpacked(
    policy: Policy, inside: bytes, expected: set[tuple[str, str]]
) -> None:
    pdf = Pdf().page()
    listed = dict(pdf.offsets)
    pdf.add(6, packed({7: inside}))
    assert found(scan(pdf.xref(listed).bytes(), policy)) == expected


def test_object_stream_pdfraw_cannot_decode_is_unpacked_by_pypdf(policy: Policy) -> None:
    pdf = Pdf().page()
    listed = dict(pdf.offsets)
    pdf.add(6, packed({7: JS}, b"/Filter /ASCIIHexDecode"))
    assert found(scan(pdf.xref(listed).bytes(), policy)) == {("PDF_JAVASCRIPT", "hidden object 7")}


def encrypted_with_hidden_object_stream(inside: bytes) -> bytes:
    """An encrypted PDF (empty user password) holding object stream 8 (encrypted like any
    stream), which its cross-reference table then marks free."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    objstm = DecodedStreamObject()
    objstm.set_data(b"9 0 " + inside)
    objstm.update(
        {
            NameObject("/Type"): NameObject("/ObjStm"),
            NameObject("/N"): NumberObject(1),
            NameObject("/First"): NumberObject(4),
        }
    )
    number = writer._add_object(objstm).idnum
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = BytesIO()
    writer.write(out)
    data = out.getvalue()
    entry = b"%010d 00000 n \n" % PdfReader(BytesIO(data)).xref[0][number]
    assert data.count(entry) == 1
    return data.replace(entry, b"0000000000 65535 f \n")


@pytest.mark.parametrize(("inside", "expected"), [(JS, {"PDF_JAVASCRIPT"}), (GOTO, set())])
def test_encrypted_files_hidden_object_stream_is_decrypted(
    policy: Policy, inside: bytes, expected: set[str]
) -> None:
    data = encrypted_with_hidden_object_stream(inside)
    assert b"JavaScript" not in data
    assert codes(scan(data, policy)) == expected


# -- text inside stream data ----------------------------------------------------------------------

QUOTE = b"Never trust 6 0 obj << /S /JavaScript /JS \\(x\\) >> endobj in a mail."


def test_pdf_syntax_quoted_in_a_valid_file_is_text(policy: Policy) -> None:
    result = scan(Pdf().page(text=QUOTE).xref().bytes(), policy)
    assert (result.findings, result.facts) == ([], {"pages": 1})


def test_pdf_syntax_in_stream_data_counts_when_readers_rebuild_the_xref(policy: Policy) -> None:
    """A broken cross-reference: pypdf and pdf.js rebuild it from every "N G obj" in the
    file, stream data included."""
    result = scan(Pdf().page(text=QUOTE).xref(shift=7).bytes(), policy)
    assert ("PDF_JAVASCRIPT", "object 6 inside the data of object 4") in found(result)


def test_broken_xref_without_active_content_is_approved(policy: Policy) -> None:
    result = scan(Pdf().page().xref(shift=7).bytes(), policy)
    assert result.findings == []
    assert result.facts["pdf_structure"] == ["broken_xref"]


def test_reference_to_an_object_only_quoted_in_stream_data(policy: Policy) -> None:
    """Nothing defines object 6 but the catalog refers to it: pypdf searches the file's text
    for "6 0 obj" and takes what it finds there."""
    result = scan(Pdf().page(b" /OpenAction 6 0 R", text=QUOTE).xref().bytes(), policy)
    assert ("PDF_JAVASCRIPT", "object 6 inside the data of object 4") in found(result)


# -- attached files in other definitions ----------------------------------------------------------


def filespec(target: int, name: bytes = b"notes.txt") -> bytes:
    return b"<< /Type /Filespec /F (%s) /EF << /F %d 0 R >> >>" % (name, target)


def test_other_definition_of_an_attached_file_is_extracted(policy: Policy) -> None:
    pdf = Pdf().page(b" /Names << /EmbeddedFiles << /Names [(notes.txt) 7 0 R] >> >>")
    pdf.add(7, filespec(8))
    listed = pdf.add(8, stream(b"/Type /EmbeddedFile", b"meeting at noon"))
    hidden = pdf.add(8, stream(b"/Type /EmbeddedFile", b"#!/bin/sh\nrm -rf ~\n"))
    result = scan(pdf.xref({**pdf.offsets, 8: listed}).bytes(), policy)
    assert [(c.where, c.data) for c in result.children] == [
        ("attachment:notes.txt", b"meeting at noon"),
        (
            f"attachment:notes.txt (another definition, at offset {hidden})",
            b"#!/bin/sh\nrm -rf ~\n",
        ),
    ]


def test_identical_definitions_of_an_attached_file_are_extracted_once(policy: Policy) -> None:
    pdf = Pdf().page(b" /Names << /EmbeddedFiles << /Names [(notes.txt) 7 0 R] >> >>")
    pdf.add(7, filespec(8))
    pdf.add(8, stream(b"/Type /EmbeddedFile", b"meeting at noon"))
    pdf.add(8, stream(b"/Type /EmbeddedFile /Params << >>", b"meeting at noon"))
    result = scan(pdf.xref().bytes(), policy)
    assert [c.data for c in result.children] == [b"meeting at noon"]


def test_hidden_file_specification_names_a_listed_stream(policy: Policy) -> None:
    """The stream is listed but says nothing of being a file; only an unlisted filespec's /EF
    (given by reference) attaches it."""
    pdf = Pdf().page()
    pdf.add(8, stream(b"", b"payload"))
    listed = dict(pdf.offsets)
    pdf.add(9, b"<< /F 8 0 R >>")
    pdf.add(7, b"<< /Type /Filespec /F (a.exe) /EF 9 0 R >>")
    result = scan(pdf.xref(listed).bytes(), policy)
    assert [c.data for c in result.children] == [b"payload"]
    assert "PDF_EMBEDDED_FILE" in codes(result)


def test_usage_rights_signature_naming_ef_rights_is_no_attachment(policy: Policy) -> None:
    """Reader-extended forms carry a UR3 signature whose /EF is a list of rights."""
    sig = (
        b"<< /Type /Sig /Filter /Adobe.PPKLite /Reference [<< /Type /SigRef /TransformMethod /UR3"
        b" /TransformParams << /V /2.2 /EF [/Create /Delete /Modify /Import] >> >>]"
        b" /Contents <" + b"0" * 8000 + b"> >>"
    )
    pdf = Pdf().page(b" /Perms << /UR3 6 0 R >>")
    pdf.add(6, sig)
    result = scan(pdf.xref().bytes(), policy)
    assert (result.findings, result.children) == ([], [])


# -- what lies between the parts of the PDF -------------------------------------------------------


def two_revisions(between: bytes) -> bytes:
    pdf = Pdf().page()
    pdf.xref()
    pdf.data += between
    pdf.add(4, content(b"Order 4711 was delivered."))
    return pdf.xref().bytes()


def zipped(name: str, data: bytes) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("between", "what"),
    [
        (PROGRAM, "Windows program"),
        (zipped("invoice.exe", PROGRAM), "ZIP archive"),
        (b"<script>alert(1)</script>", "HTML or script markup"),
    ],
)
def test_file_hidden_between_revisions(policy: Policy, between: bytes, what: str) -> None:
    data = two_revisions(b"\n" + between)
    result = scan(data, policy)
    offset = data.index(between)
    assert [(f.code.name, f.message, f.location) for f in result.findings] == [
        ("POLYGLOT", f"{what} hidden between two revisions of the PDF", f"offset {offset}")
    ]


@pytest.mark.parametrize("between", [b"", b"\r\n", b"\x00" * 64, b"% a comment\n", b"garbage\n"])
def test_stray_bytes_between_revisions_are_tolerated(policy: Policy, between: bytes) -> None:
    assert scan(two_revisions(between), policy).findings == []


def test_much_unknown_data_between_revisions(policy: Policy) -> None:
    blob = bytes(range(33, 127)) * 20  # 1,880 bytes that are no file type
    result = scan(two_revisions(b"\n" + blob + b"\n"), policy)
    assert [(f.code.name, f.message) for f in result.findings] == [
        ("POLYGLOT", "1,880 bytes of data hidden between the parts of the PDF")
    ]


def test_program_between_objects(policy: Policy) -> None:
    pdf = Pdf()
    pdf.add(1, CATALOG % b"")
    pdf.data += PROGRAM + b"\n"
    for number, body in PAGES.items():
        pdf.add(number, body)
    pdf.add(4, content(b"text"))
    result = scan(pdf.xref().bytes(), policy)
    assert [f.message for f in result.findings] == [
        "Windows program hidden between the objects of the PDF"
    ]


def test_pdf_with_no_eof_is_damaged(policy: Policy) -> None:
    """No %%EOF: the polyglot engine cannot tell where the PDF ends, but pypdf refuses it."""
    data = Pdf().page().xref().bytes().replace(b"%%EOF\n", b"")
    assert codes(scan(data + PROGRAM + b"\x90" * 64, policy)) == {"CORRUPT"}


def test_data_after_the_last_eof_is_left_to_the_polyglot_engine(policy: Policy) -> None:
    assert scan(Pdf().page().xref().bytes() + PROGRAM, policy).findings == []


def test_entry_into_an_object_stream_that_is_none_is_damage(policy: Policy) -> None:
    """The cross-reference stream puts object 5 in "object stream" 3, a page: pypdf asserts."""
    pdf = Pdf().page()
    rows = {n: (1, at) for n, at in pdf.offsets.items()} | {5: (2, 3), 6: (1, len(pdf.data))}
    table = b"".join(
        struct.pack(">BIH", kind, field, 0) for _, (kind, field) in sorted(rows.items())
    )
    pdf.add(6, stream(b"/Type /XRef /Size 7 /W [1 4 2] /Index [1 6] /Root 1 0 R", table))
    data = pdf.bytes() + b"startxref\n%d\n%%%%EOF\n" % rows[6][1]
    assert found(scan(data, policy)) == {("CORRUPT", "object 5")}


# -- limits --------------------------------------------------------------------------------------


def small_budget(policy: Policy) -> Policy:
    return policy.model_copy(update={"limits": Limits(max_expanded_bytes=1_000_000)})


def test_raw_scan_stopped_by_the_byte_limit_rejects(policy: Policy) -> None:
    pdf = Pdf().page()
    listed = dict(pdf.offsets)
    pdf.add(6, stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode",
                      zlib.compress(b"7 0 " + bytes(3_000_000))))  # fmt: skip
    result = scan(pdf.xref(listed).bytes(), small_budget(policy))
    assert "ARCHIVE_EXPANSION" in codes(result)
    assert result.children == []


def test_object_stream_bomb_unpacked_by_pypdf_is_bounded(policy: Policy) -> None:
    bomb = zlib.compress(b"7 0 " + bytes(3_000_000)).hex().encode() + b">"
    info = b"/Type /ObjStm /N 1 /First 4 /Filter [/ASCIIHexDecode /FlateDecode]"
    pdf = Pdf().page()
    listed = dict(pdf.offsets)
    pdf.add(6, stream(info, bomb))
    result = scan(pdf.xref(listed).bytes(), small_budget(policy))
    assert found(result) == {("ARCHIVE_EXPANSION", None)}


@pytest.mark.parametrize(("copies", "expected"), [(10_000, set()), (10_001, {"CORRUPT"})])
def test_objects_inside_stream_data_are_bounded(
    policy: Policy, copies: int, expected: set[str]
) -> None:
    """A file that needs repair, with text that a repairing reader takes for objects."""
    pdf = Pdf().page()
    pdf.add(5, stream(b"/Type /EmbeddedFile", b"9 0 obj << >> endobj\n" * copies))
    result = scan(pdf.xref(shift=7).bytes(), policy)
    assert codes(result) - {"PDF_EMBEDDED_FILE"} == expected
