"""PdfEngine: objects pypdf reads apart from the viewers (red team 99). A hex string holding
more than hex digits (PDFium, pdf.js and MuPDF skip them; pypdf gives up on the dictionary),
a key written twice (pypdf takes the first value, the viewers the last), an object stream whose
/First is 0 and which holds a number twice, a dictionary that runs on past its ``endobj``
(pdf.js), offsets counted from the first byte with bytes before the header (pdf.js rebuilds the
cross-reference), and attachment names too long or cut by a NUL. Each hostile file has a
benign look-alike."""

from __future__ import annotations

import pytest
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from attachguard.engines.pdf_active import file_names
from attachguard.formats.pdfraw import hex_as_viewers_read, names_in, stream_header
from attachguard.policy import Policy
from test_pdf_hidden_links import LINK, SHARE_URI, WEB, linked
from test_pdf_readings import GOTO, JS, PAGES, Pdf, codes, content, scan, stream


# -- the lexer ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "hidden"),
    [(b"<< /NM <%> /OpenAction 5 0 R >>", "/OpenAction"),
     (b"<< /NM <(> /JS (x) /NM2 <)> >>", "/JS"),
     (b"<<<%> /AA 5 0 R >>", "/AA")],
    ids=["percent", "parenthesis", "after-a-dictionary"],
)  # fmt: skip
def test_a_hex_string_runs_to_its_closing_bracket(body: bytes, hidden: str) -> None:
    """Whatever it holds: a "%" or "(" there starts no comment and no string."""
    assert hidden in names_in(body)


def test_dictionaries_opening_are_no_hex_string() -> None:
    """A run of "<" is read "<<" by "<<": an even run opens dictionaries, hides nothing."""
    assert names_in(b"<<<< /A 1 >> /OpenAction 2 0 R >>") == {"/A", "/OpenAction"}


def test_hex_strings_read_as_viewers_read_them() -> None:
    assert hex_as_viewers_read(b"<< /NM <4a%z4b> /S (<zz>) >>") == b"<< /NM <4a4b> /S (<zz>) >>"
    plain = b"<< /ID [<0A1B> <2C3D>] >>"
    assert hex_as_viewers_read(plain) is plain


@pytest.mark.parametrize(
    ("data", "first", "pairs"),
    [(b"10 0 11 5 <<>> <<>>", 10, [(10, 10), (11, 15)]),
     (b"10 12 10 30 << /S /GoTo >> << /S /URI >>", 0, [(10, 12), (10, 30)]),
     (b"10 0 x 1", 4, [(10, 4)]),
     (b"4 0 2 42<</Contents 5 0 R>>", 8, [(4, 8), (2, 50)]),  # pdfcpu's (hunt 102)
     (b"4 0 2<<>>", 8, [(4, 8)])],
    ids=["as-written", "first-zero", "stops-at-a-non-integer", "delimiter-ends-a-number",
         "a-delimiter-is-no-integer"],
)  # fmt: skip
def test_object_stream_header_from_the_start_of_its_data(
    data: bytes, first: int, pairs: list[tuple[int, int]]
) -> None:
    assert stream_header(data, 2, first) == pairs


# -- the engine --------------------------------------------------------------------------------
def _catalog(extra: bytes) -> bytes:
    pdf = Pdf()
    pdf.add(1, b"<< /Type /Catalog /Pages 2 0 R " + extra + b" >>")
    for number, body in PAGES.items():
        pdf.add(number, body)
    pdf.add(4, content(b"Order 4711 has shipped."))
    return pdf.xref().bytes()


@pytest.mark.parametrize("trick", [b"/NM <%>", b"/NM <(> /X 1 /NM2 <)>", b"/NM <zz>"])
def test_an_open_action_behind_a_hex_string_pypdf_cannot_read(trick: bytes, policy: Policy) -> None:
    hostile = scan(_catalog(trick + b" /OpenAction " + JS), policy)
    assert {"PDF_JAVASCRIPT", "PDF_AUTO_ACTION"} <= codes(hostile)
    assert codes(scan(_catalog(trick + b" /OpenAction " + GOTO), policy)) == set()


@pytest.mark.parametrize("trick", [b"/NM <%>", b"/NM <zz>"])
def test_a_link_behind_a_hex_string_pypdf_cannot_read(trick: bytes, policy: Policy) -> None:
    """The link's target is judged as the viewers read the annotation."""
    pdf = linked(GOTO)
    pdf.add(6, LINK.replace(b"/A 7 0 R", trick + b" /A " + SHARE_URI))
    assert codes(scan(pdf.xref().bytes(), policy)) == {"EXTERNAL_LINK"}
    control = linked(GOTO)
    control.add(6, LINK.replace(b"/A 7 0 R", trick + b" /A " + WEB))
    assert codes(scan(control.xref().bytes(), policy)) == set()


def test_a_key_written_twice_is_read_both_ways(policy: Policy) -> None:
    """pypdf takes the first /A (a jump), PDFium, pdf.js and MuPDF the last (a share)."""
    pdf = linked(GOTO)
    pdf.add(6, LINK.replace(b"/A 7 0 R", b"/A " + GOTO + b" /A " + SHARE_URI))
    assert codes(scan(pdf.xref().bytes(), policy)) == {"EXTERNAL_LINK"}
    control = linked(GOTO)
    control.add(6, LINK.replace(b"/A 7 0 R", b"/Border [0 0 0] /Border [0 0 1] /A 7 0 R"))
    assert codes(scan(control.xref().bytes(), policy)) == set()


def _first_zero(second: bytes) -> bytes:
    """Object 7 held twice in an object stream whose /First is 0 (the offsets count from the
    start of its data, header included): a jump, then ``second``."""
    bodies = [GOTO + b"\n", second + b"\n"]
    start = 20  # the header, padded to it
    header = b"7 %d 7 %d" % (start, start + len(bodies[0]))
    plain = header.ljust(start) + b"".join(bodies)
    return stream(b"/Type /ObjStm /N 2 /First 0", plain)


def test_an_object_stream_with_its_header_at_first_zero(policy: Policy) -> None:
    """PDFium and pdf.js take the copy at the index the cross-reference gives, pypdf the
    first: both copies are judged."""
    pdf = linked(GOTO)
    pdf.add(9, _first_zero(SHARE_URI))
    assert codes(scan(pdf.xref().bytes(), policy)) == {"EXTERNAL_LINK"}
    control = linked(GOTO)
    control.add(9, _first_zero(WEB))
    assert codes(scan(control.xref().bytes(), policy)) == set()


def test_a_dictionary_that_runs_on_past_its_endobj(policy: Policy) -> None:
    """pdf.js skips the key that is no name (``endobj``) and reads the open action on."""
    data = _catalog(b"").replace(
        b"/Pages 2 0 R  >>\nendobj\n", b"/Pages 2 0 R\nendobj\n/OpenAction " + JS + b" >>\n"
    )
    assert b"endobj\n/OpenAction" in data
    assert codes(scan(data, policy)) == {"AMBIGUOUS"}


def _catalog_in_metadata(prefix: bytes) -> bytes:
    """A PDF after ``prefix``, its offsets counted from the first byte, whose metadata stream
    holds, after its packet, a catalog with an open action."""
    hidden = b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction " + JS + b" >>\nendobj\n"
    pdf = Pdf()
    pdf.data[:0] = prefix
    pdf.add(1, b"<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>")
    for number, body in PAGES.items():
        pdf.add(number, body)
    pdf.add(4, content(b"Order 4711 has shipped."))
    pdf.add(5, stream(b"/Type /Metadata /Subtype /XML", b"<x:xmpmeta/>\n" + hidden))
    return pdf.xref().bytes()


def test_offsets_from_the_first_byte_with_bytes_before_the_header(policy: Policy) -> None:
    """pdf.js counts offsets from %PDF-, finds no cross-reference and rebuilds it from every
    "N G obj", a catalog inside a stream's data included (the last one wins); without the
    prefix every reader takes the listed catalog."""
    assert "PDF_JAVASCRIPT" in codes(scan(_catalog_in_metadata(b"\n"), policy))
    assert codes(scan(_catalog_in_metadata(b""), policy)) == set()


# -- attachment names --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "ending"),
    [("Statement_" * 12 + "A.scf", ".scf"), ("notes.scf\0.txt", ".scf")],
    ids=["long", "nul"],
)  # fmt: skip
def test_an_attachment_name_keeps_its_extension(name: str, ending: str) -> None:
    """The viewers list the whole name; a reader passing it to Windows as a C string cuts it
    at the NUL: the name each saves the file under is judged."""
    spec = DictionaryObject({NameObject("/UF"): TextStringObject(name)})
    assert any(found.endswith(ending) for found in file_names(spec))


def test_a_hex_string_left_open_does_not_swallow_the_next_object(policy: Policy) -> None:
    """A repairing reader finds ``5 0 obj`` wherever it lies: a ``<`` left open to run across
    an ``endobj`` and the next object's header hides nothing from the raw scan (review 102)."""
    pdf = Pdf()
    pdf.data[:0] = b"\n"  # one byte before the header: pdf.js repairs
    pdf.add(1, b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>")
    for number, body in PAGES.items():
        pdf.add(number, body)
    pdf.add(4, content(b"Order 4711 has shipped."))
    pdf.add(5, GOTO)
    pdf.add(6, b"<< /T (a) /NM <\nendobj\n5 0 obj\n" + JS + b">")
    assert {"PDF_JAVASCRIPT", "PDF_AUTO_ACTION"} <= codes(scan(pdf.xref().bytes(), policy))
