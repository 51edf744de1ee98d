"""PdfEngine: every fixture is built here, with pypdf's writer or byte by byte."""

from __future__ import annotations

import functools
import logging
import tracemalloc
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from attachguard.codes import Code, FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.pdf import PdfEngine
from attachguard.policy import Limits, Policy
from attachguard.report import FileType

PDF = FileType("pdf", "application/pdf", "document")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CLAM_PDF = Path("/usr/share/clamav-testfiles/clam.pdf")


def scan(data: bytes, policy: Policy) -> Result:
    return PdfEngine().scan(Item("file.pdf", data, PDF), policy.context())


def codes(result: Result) -> set[Code]:
    return {f.code for f in result.findings}


def where(result: Result, code: Code) -> set[str | None]:
    return {f.location for f in result.findings if f.code is code}


def with_limits(policy: Policy, **limits: int) -> Policy:
    return policy.model_copy(update={"limits": Limits(**limits)})


def name(value: str) -> NameObject:
    return NameObject(value)


def action(**entries: object) -> DictionaryObject:
    """An action dictionary: action(S="/JavaScript", JS="app.alert(1)")."""
    out = DictionaryObject()
    for key, value in entries.items():
        if isinstance(value, str):
            value = name(value) if value.startswith("/") else TextStringObject(value)
        out[name(f"/{key}")] = value
    return out


def writer_with_page() -> PdfWriter:
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject({name("/Type"): name("/Font"), name("/Subtype"): name("/Type1")})
    font[name("/BaseFont")] = name("/Helvetica")
    fonts = DictionaryObject({name("/F1"): writer._add_object(font)})
    page[name("/Resources")] = DictionaryObject({name("/Font"): fonts})
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 14 Tf 72 770 Td (Receipt 4711: 1 kettle, 39.90 EUR) Tj ET")
    page[name("/Contents")] = writer._add_object(content)
    return writer


def build(writer: PdfWriter) -> bytes:
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def add_annot(writer: PdfWriter, annot: DictionaryObject) -> None:
    annot.update({name("/Type"): name("/Annot"), name("/Rect"): rect()})
    writer.pages[0][name("/Annots")] = ArrayObject([writer._add_object(annot)])


def rect() -> ArrayObject:
    return ArrayObject([FloatObject(0), FloatObject(0), FloatObject(50), FloatObject(50)])


BASE = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
]


def raw_pdf(objects: list[bytes], hidden: bytes = b"") -> bytes:
    """A PDF written byte by byte: objects[i] is object i+1; ``hidden`` sits in the body but
    not in the cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    out += hidden
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def objstm_pdf(packed: bytes) -> bytes:
    """A PDF whose object 5 (``packed``, referenced by nothing) sits compressed in object
    stream 4, listed only by a cross-reference stream."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for num, body in enumerate(BASE, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    header = b"5 0 "
    stm = zlib.compress(header + packed)
    offsets.append(len(out))
    out += b"4 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\n" % (
        len(header),
        len(stm),
    )
    out += b"stream\n" + stm + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = b"\x00" + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")
    rows += b"".join(b"\x01" + o.to_bytes(4, "big") + b"\x00\x00" for o in offsets)
    rows += b"\x02" + (4).to_bytes(4, "big") + b"\x00\x00"  # object 5: in stream 4, index 0
    rows += b"\x01" + xref_at.to_bytes(4, "big") + b"\x00\x00"
    out += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\n" % len(rows)
    out += b"stream\n" + rows + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def attach_raw(writer: PdfWriter, filename: str, raw: bytes, filters: list[str]) -> None:
    """Attach a file whose stream bytes are given already encoded (a bomb, say)."""
    stream = DecodedStreamObject()
    stream._data = raw  # written as is; /Filter says how to decode it
    stream[name("/Type")] = name("/EmbeddedFile")
    stream[name("/Filter")] = ArrayObject([name(f) for f in filters])
    spec = DictionaryObject(
        {name("/Type"): name("/Filespec"), name("/F"): TextStringObject(filename)}
    )
    spec[name("/EF")] = DictionaryObject({name("/F"): writer._add_object(stream)})
    tree = DictionaryObject(
        {name("/Names"): ArrayObject([TextStringObject(filename), writer._add_object(spec)])}
    )
    writer.root_object[name("/Names")] = DictionaryObject({name("/EmbeddedFiles"): tree})


@functools.cache  # 0.2 CPU seconds for 64 MiB: both bombs below share one
def zeros_deflated(size: int) -> bytes:
    packer = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(size >> 20)) + packer.flush()


# -- clean files -------------------------------------------------------------------------------


def test_clean_receipt_has_no_findings(policy: Policy) -> None:
    result = scan(build(writer_with_page()), policy)
    assert result.findings == []
    assert result.children == []
    assert result.facts == {"pages": 1}


def test_open_action_that_only_shows_a_page_is_harmless(policy: Policy) -> None:
    writer = writer_with_page()
    page = writer.pages[0].indirect_reference
    writer.root_object[name("/OpenAction")] = ArrayObject([page, name("/Fit")])
    assert scan(build(writer), policy).findings == []
    writer.root_object[name("/OpenAction")] = action(S="/GoTo", D=ArrayObject([page, name("/Fit")]))
    assert scan(build(writer), policy).findings == []


def test_clamav_test_pdf_attachment_is_extracted(policy: Policy) -> None:
    if not CLAM_PDF.exists():
        pytest.skip("clamav-testfiles not installed")
    result = scan(CLAM_PDF.read_bytes(), policy)
    # attached as clam.exe: a name Windows runs, whatever the bytes
    assert codes(result) == {FindingCode.PDF_EMBEDDED_FILE, FindingCode.EXECUTABLE}
    assert [c.where for c in result.children] == ["attachment:clam.exe"]
    assert result.children[0].data.startswith(b"MZ")
    assert result.facts["pages"] >= 1


# -- active content -------------------------------------------------------------------------------


def test_document_javascript_name_tree(policy: Policy) -> None:
    writer = writer_with_page()
    writer.add_open_action(JavaScript("app.alert('hi')"))
    result = scan(build(writer), policy)
    assert FindingCode.PDF_JAVASCRIPT in codes(result)
    assert "catalog" in where(result, FindingCode.PDF_JAVASCRIPT)
    assert result.findings[0].message == "JavaScript in the PDF"
    assert all("alert" not in f.message for f in result.findings)


def test_javascript_link_annotation_is_placed_on_its_page(policy: Policy) -> None:
    writer = writer_with_page()
    add_annot(writer, action(Subtype="/Link", A=action(S="/JavaScript", JS="app.alert(1)")))
    result = scan(build(writer), policy)
    assert codes(result) == {FindingCode.PDF_JAVASCRIPT}
    assert where(result, FindingCode.PDF_JAVASCRIPT) == {"page 1"}


@pytest.mark.parametrize(
    ("open_action", "expected"),
    [
        (action(S="/JavaScript", JS="app.alert(1)"), {"PDF_AUTO_ACTION", "PDF_JAVASCRIPT"}),
        (action(S="/Launch", F="calc.exe"), {"PDF_AUTO_ACTION", "PDF_LAUNCH"}),
        (action(S="/URI", URI="https://evil.example/"), {"PDF_AUTO_ACTION"}),
        (action(S="/SubmitForm", F="https://evil.example/"), {"PDF_AUTO_ACTION"}),
        (action(S="/GoTo", D="/p1", Next=action(S="/URI", URI="x")), {"PDF_AUTO_ACTION"}),
    ],
)
def test_open_action_that_does_something(
    policy: Policy, open_action: DictionaryObject, expected: set[str]
) -> None:
    writer = writer_with_page()
    writer.root_object[name("/OpenAction")] = open_action
    result = scan(build(writer), policy)
    assert {c.name for c in codes(result)} == expected
    assert where(result, FindingCode.PDF_AUTO_ACTION) == {"catalog"}


def test_additional_actions_on_a_page(policy: Policy) -> None:
    writer = writer_with_page()
    writer.pages[0][name("/AA")] = DictionaryObject({name("/O"): action(S="/URI", URI="x")})
    result = scan(build(writer), policy)
    assert codes(result) == {FindingCode.PDF_AUTO_ACTION}
    assert where(result, FindingCode.PDF_AUTO_ACTION) == {"page 1"}


def test_launch_on_a_link_is_not_automatic(policy: Policy) -> None:
    writer = writer_with_page()
    add_annot(writer, action(Subtype="/Link", A=action(S="/Launch", F="cmd.exe")))
    assert codes(scan(build(writer), policy)) == {FindingCode.PDF_LAUNCH}


def test_xfa_form(policy: Policy) -> None:
    writer = writer_with_page()
    xfa = DecodedStreamObject()
    xfa.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")
    form = DictionaryObject({name("/Fields"): ArrayObject(), name("/XFA"): writer._add_object(xfa)})
    writer.root_object[name("/AcroForm")] = form
    assert codes(scan(build(writer), policy)) == {FindingCode.PDF_XFA}


def test_richmedia_annotation(policy: Policy) -> None:
    writer = writer_with_page()
    add_annot(writer, action(Subtype="/RichMedia"))
    result = scan(build(writer), policy)
    assert codes(result) == {FindingCode.PDF_RICHMEDIA}
    assert where(result, FindingCode.PDF_RICHMEDIA) == {"page 1"}


def test_hex_escaped_names_are_decoded(policy: Policy) -> None:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Open#41ction << /S /J#61vaScript /J#53 (x) >> >>"
    result = scan(raw_pdf([catalog, *BASE[1:]]), policy)
    assert codes(result) == {FindingCode.PDF_JAVASCRIPT, FindingCode.PDF_AUTO_ACTION}


def test_javascript_in_an_object_nothing_references(policy: Policy) -> None:
    result = scan(raw_pdf([*BASE, b"<< /S /JavaScript /JS (app.alert(1)) >>"]), policy)
    assert where(result, FindingCode.PDF_JAVASCRIPT) == {"object 4"}


def test_javascript_in_an_object_missing_from_the_xref_table(policy: Policy) -> None:
    hidden = b"9 0 obj\n<< /S /Launch /F (cmd.exe) >>\nendobj\n"
    result = scan(raw_pdf(BASE, hidden=hidden), policy)
    assert where(result, FindingCode.PDF_LAUNCH) == {"hidden object 9"}


def test_javascript_in_an_object_stream(policy: Policy) -> None:
    data = objstm_pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    assert b"/JS" not in data  # compressed: invisible to a byte search
    result = scan(data, policy)
    assert where(result, FindingCode.PDF_JAVASCRIPT) == {"object 5"}
    assert FindingCode.CORRUPT not in codes(result)


# -- encryption and damage -----------------------------------------------------------------------


def test_password_protected_pdf_is_not_scannable(policy: Policy) -> None:
    writer = writer_with_page()
    writer.encrypt("secret", algorithm="AES-128")
    result = scan(build(writer), policy)
    assert codes(result) == {FindingCode.ENCRYPTED}
    assert result.findings[0].message == "password-protected PDF (cannot be scanned)"


def test_pdf_with_empty_user_password_is_scanned(policy: Policy) -> None:
    writer = writer_with_page()
    writer.add_open_action(JavaScript("app.alert('hi')"))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    data = build(writer)
    assert PdfReader(BytesIO(data)).is_encrypted
    assert codes(scan(data, policy)) == {FindingCode.PDF_JAVASCRIPT}


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9])
def test_truncated_pdf_is_corrupt(policy: Policy, cut: float) -> None:
    data = build(writer_with_page())
    result = scan(data[: int(len(data) * cut)], policy)
    assert codes(result) == {FindingCode.CORRUPT}
    assert result.findings[0].message == "damaged PDF that could not be read"


def test_garbage_is_corrupt(policy: Policy) -> None:
    assert codes(scan(b"%PDF-1.7\n" + bytes(range(256)) * 8, policy)) == {FindingCode.CORRUPT}


def test_pypdf_warnings_do_not_log_file_contents(
    policy: Policy, caplog: pytest.LogCaptureFixture
) -> None:
    packed = zlib.compress(b"payload")
    body = b"<< /Type /EmbeddedFile /Filter /FlateDecode /DecodeParms (customer-7731) /Length %d >>"
    data = raw_pdf([*BASE, body % len(packed) + b"\nstream\n" + packed + b"\nendstream"])
    pypdf_logger = logging.getLogger("pypdf")
    saved = pypdf_logger.level
    pypdf_logger.setLevel(logging.NOTSET)
    try:
        with caplog.at_level(logging.DEBUG):
            PdfReader(BytesIO(data)).get_object(4).get_data()  # type: ignore[union-attr]
        assert "customer-7731" in caplog.text  # what pypdf would log, left alone
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            result = scan(data, policy)
        assert [c.data for c in result.children] == [b"payload"]
        assert "customer-7731" not in caplog.text
    finally:
        pypdf_logger.setLevel(saved)


# -- attached files -----------------------------------------------------------------------------


def test_attached_eicar_is_returned_for_scanning(policy: Policy) -> None:
    writer = writer_with_page()
    writer.add_attachment("invoice.com", EICAR)
    result = scan(build(writer), policy)
    assert codes(result) == {FindingCode.PDF_EMBEDDED_FILE, FindingCode.EXECUTABLE}
    assert [(c.where, c.data) for c in result.children] == [("attachment:invoice.com", EICAR)]


@pytest.mark.parametrize(
    ("filename", "code"),
    [
        ("fix.reg", FindingCode.EXECUTABLE),
        ("share.library-ms", FindingCode.EXECUTABLE),
        ("disk.vhd. ", FindingCode.EXECUTABLE),
        ("logo.svg", FindingCode.SCRIPT),
        ("page.HTML", FindingCode.SCRIPT),
        # red team 90: a Remote Desktop connection to the sender, Excel queries and SYLK, App
        # Installer, a saved search of a share, a theme pack
        ("invoice.rdp", FindingCode.EXECUTABLE),
        ("invoice.iqy", FindingCode.EXECUTABLE),
        ("report.slk", FindingCode.EXECUTABLE),
        ("app.appinstaller", FindingCode.EXECUTABLE),
        ("files.search-ms", FindingCode.EXECUTABLE),
        ("look.themepack", FindingCode.EXECUTABLE),
        ("build.pl", FindingCode.SCRIPT),
        ("factur-x.xml", None),
        ("photo.png", None),
        ("notes", None),
    ],
)
def test_an_attachment_named_to_run_is_reported(
    filename: str, code: Code | None, policy: Policy
) -> None:
    writer = writer_with_page()
    writer.add_attachment(filename, b"plain text")
    found = codes(scan(build(writer), policy)) - {FindingCode.PDF_EMBEDDED_FILE}
    assert found == ({code} if code else set())


@pytest.mark.parametrize(
    ("target", "external"),
    [
        ("\\\\attacker.example\\s\\x.pdf", True),
        ("file://attacker.example/s/x.pdf", True),
        ("/attacker.example/s/x.pdf", True),  # PDF's own path form: a server, then its share
        ("/C/Docs/terms.pdf", False),  # ... and a drive
        ("search-ms:query=x&crumb=location:\\\\attacker.example\\s", True),
        ("other.pdf", False),
        ("https://forms.example/x.pdf", False),
    ],
)
def test_a_link_to_a_file_on_another_machine_is_an_external_link(
    target: str, external: bool, policy: Policy
) -> None:
    writer = writer_with_page()
    link = action(S="/GoToR", F=target, D=ArrayObject([NumberObject(0)]))
    annotation = DictionaryObject({name("/Subtype"): name("/Link"), name("/A"): link})
    writer.pages[0][name("/Annots")] = ArrayObject([writer._add_object(annotation)])
    assert (FindingCode.EXTERNAL_LINK in codes(scan(build(writer), policy))) is external


SHARE = "\\\\attacker.example\\s\\x.mp4"
FIRST_PAGE = ArrayObject([NumberObject(0)])


def _thread(writer: PdfWriter) -> None:
    add_annot(writer, action(Subtype="/Link", A=action(S="/Thread", F=SHARE, D=NumberObject(0))))


def _movie(writer: PdfWriter) -> None:
    add_annot(writer, action(Subtype="/Movie", Movie=action(F=SHARE)))


def _rendition(writer: PdfWriter) -> None:
    clip = action(S="/MR", C=action(S="/MCD", D=SHARE))
    add_annot(
        writer, action(Subtype="/Screen", A=action(S="/Rendition", OP=NumberObject(0), R=clip))
    )


def _reference_xobject(writer: PdfWriter) -> None:
    spec = action(Type="/Filespec", F=SHARE)
    add_annot(
        writer, action(Subtype="/Link", A=action(S="/GoTo", D=FIRST_PAGE), Ref=action(F=spec))
    )


def _base_uri(writer: PdfWriter) -> None:
    # relative links resolve against the document's base URI
    writer._root_object[name("/URI")] = action(Base="file://attacker.example/s/")


@pytest.mark.parametrize("where", [_thread, _movie, _rendition, _reference_xobject, _base_uri])
def test_a_file_on_another_machine_named_anywhere(
    where: Callable[[PdfWriter], None], policy: Policy
) -> None:
    # each names its file in a file specification (or a base URI), and a reader may fetch it:
    # a red team's files passed
    writer = writer_with_page()
    where(writer)
    assert FindingCode.EXTERNAL_LINK in codes(scan(build(writer), policy))


def attachment_annotation(writer: PdfWriter, filename: str, data: bytes) -> None:
    """A file attachment annotation on the first page, its file embedded under ``filename``."""
    stream = DecodedStreamObject()
    stream.set_data(data)
    stream[name("/Type")] = name("/EmbeddedFile")
    spec = action(Type="/Filespec", F=filename)
    spec[name("/EF")] = DictionaryObject({name("/F"): writer._add_object(stream)})
    add_annot(writer, action(Subtype="/FileAttachment", FS=spec))


def test_an_attached_file_named_like_a_share_is_opened_from_its_copy(policy: Policy) -> None:
    writer = writer_with_page()
    attachment_annotation(writer, "\\\\fileserver\\orders\\4711.txt", b"order 4711")
    assert codes(scan(build(writer), policy)) == {FindingCode.PDF_EMBEDDED_FILE}


def test_file_attachment_annotation_with_a_hostile_name(policy: Policy) -> None:
    writer = writer_with_page()
    attachment_annotation(writer, "../../etc/\npasswd", b"payload")
    result = scan(build(writer), policy)
    assert [(c.where, c.data) for c in result.children] == [
        ("attachment:.._.._etc__passwd", b"payload")
    ]
    assert codes(result) == {FindingCode.PDF_EMBEDDED_FILE}


def test_orphan_embedded_file_stream_is_extracted(policy: Policy) -> None:
    body = b"<< /Type /EmbeddedFile /Length 7 >>\nstream\npayload\nendstream"
    result = scan(raw_pdf([*BASE, body]), policy)
    assert [(c.where, c.data) for c in result.children] == [("attachment:object 4", b"payload")]


def test_too_many_attachments(policy: Policy) -> None:
    writer = writer_with_page()
    for n in range(3):
        writer.add_attachment(f"f{n}.txt", b"x")
    result = scan(build(writer), with_limits(policy, max_members=2))
    assert len(result.children) == 2
    assert FindingCode.ARCHIVE_MEMBERS in codes(result)


def test_attachments_past_the_byte_budget(policy: Policy) -> None:
    writer = writer_with_page()
    writer.add_attachment("a.bin", bytes(600))
    writer.add_attachment("b.bin", bytes(600))
    result = scan(build(writer), with_limits(policy, max_expanded_bytes=1000))
    assert [c.where for c in result.children] == ["attachment:a.bin"]
    assert where(result, FindingCode.ARCHIVE_EXPANSION) == {"attachment:b.bin"}


@pytest.mark.parametrize("filters", [["/FlateDecode"], ["/ASCIIHexDecode", "/FlateDecode"]])
def test_flate_bomb_is_not_inflated(policy: Policy, filters: list[str]) -> None:
    raw = zeros_deflated(64 << 20)
    if filters[0] == "/ASCIIHexDecode":
        raw = raw.hex().encode() + b">"
    writer = writer_with_page()
    attach_raw(writer, "bomb.bin", raw, filters)
    data = build(writer)
    tracemalloc.start()
    try:
        result = scan(data, with_limits(policy, max_expanded_bytes=4_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert where(result, FindingCode.ARCHIVE_EXPANSION) == {"attachment:bomb.bin"}
    assert result.children == []
    assert peak < 24_000_000  # a few times the 4 MB budget, far from the bomb's 64 MiB


# -- red team 90: a font matrix pdf.js compiles into glyph code (CVE-2024-4367) ------------------

_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FontMatrix %s >>"
_PAGE_WITH_FONT = (
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] "
    b"/Resources << /Font << /F1 4 0 R >> >> >>"
)


@pytest.mark.parametrize(
    "matrix",
    [
        b"[1 0 0 1 0 (\\); console.log\\('x'\\)//)]",  # the public proof of concept's shape
        b"[0.001 0 0 0.001 0 <29293b>]",
        b"[1 0 0 1 0 /x]",
        b"5 0 R",  # through a reference, to an array holding a string
    ],
)
def test_a_font_matrix_of_more_than_numbers_is_javascript(matrix: bytes, policy: Policy) -> None:
    objects = [*BASE[:2], _PAGE_WITH_FONT, _FONT % matrix, b"[1 0 0 1 0 (\\);x\\()]"]
    result = scan(raw_pdf(objects), policy)
    assert FindingCode.PDF_JAVASCRIPT in codes(result)
    assert any("font matrix" in f.message for f in result.findings)


def test_a_font_matrix_of_numbers_is_a_font(policy: Policy) -> None:
    objects = [*BASE[:2], _PAGE_WITH_FONT, _FONT % b"5 0 R", b"[0.001 0 0 0.001 0 -2.5]"]
    assert codes(scan(raw_pdf(objects), policy)) == set()
    type3 = [*BASE[:2], _PAGE_WITH_FONT, _FONT % b"[0.001 0 0 0.001 0 0]"]
    assert codes(scan(raw_pdf(type3), policy)) == set()


@pytest.mark.parametrize(
    ("uri", "launches"),
    [
        ("file:///C:/Windows/System32/calc.exe", True),
        ("FILE:///C:/Tools/run%2Ebat", True),  # escaped: the system unescapes it
        ("file:///C:/Users/Public/setup.msi#page=1", True),
        ("file:///C:/Docs/terms.pdf", False),
        ("https://downloads.example/setup.exe", False),  # a download, as any web link
    ],
)
def test_a_link_to_a_program_on_the_readers_computer_launches_it(
    uri: str, launches: bool, policy: Policy
) -> None:
    writer = writer_with_page()
    add_annot(writer, action(Subtype="/Link", A=action(S="/URI", URI=uri)))
    assert (FindingCode.PDF_LAUNCH in codes(scan(build(writer), policy))) is launches


@pytest.mark.parametrize(
    ("tree", "script"),
    [
        (b"<< >>", False),  # Elsevier's generator writes one for a document without scripts
        (b"<< /Names [] >>", False),
        (b"<< /Names [(a) 6 0 R] >>", True),
        (b"<< /Kids [6 0 R] >>", True),
    ],
)
def test_an_empty_javascript_name_tree_is_no_script(
    tree: bytes, script: bool, policy: Policy
) -> None:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 5 0 R >> >>",
        *BASE[1:],
        b"<< >>",
        tree,
        *([b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"] if script else []),
    ]
    assert (FindingCode.PDF_JAVASCRIPT in codes(scan(raw_pdf(objects), policy))) is script


def test_a_javascript_action_whose_kind_is_a_reference_is_javascript(policy: Policy) -> None:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        *BASE[1:],
        b"<< /S 5 0 R /JS (app.alert\\(1\\)) >>",
        b"/JavaScript",
    ]
    assert FindingCode.PDF_JAVASCRIPT in codes(scan(raw_pdf(objects), policy))


def test_a_link_to_a_local_page_is_no_program(policy: Policy) -> None:
    # wkhtmltopdf links a page's anchors to the page's own file
    writer = writer_with_page()
    page = "file:///tmp/invoice/wk.html#terms"
    add_annot(writer, action(Subtype="/Link", A=action(S="/URI", URI=page)))
    assert FindingCode.PDF_LAUNCH not in codes(scan(build(writer), policy))


def test_an_additional_actions_dictionary_holding_only_its_type_is_inert(policy: Policy) -> None:
    # iText's PDF/A-4 tests write /AA << /Type ... >> on a widget: a type is no event
    writer = writer_with_page()
    writer.pages[0][name("/AA")] = DictionaryObject({name("/Type"): name("/Action")})
    assert codes(scan(build(writer), policy)) == set()
    writer.pages[0][name("/AA")] = DictionaryObject(
        {name("/Type"): name("/Action"), name("/O"): action(S="/JavaScript", JS="app.alert(1)")}
    )
    assert FindingCode.PDF_AUTO_ACTION in codes(scan(build(writer), policy))
