"""A PDF's text beyond its page's content stream (red team 111): what its annotations draw
(their appearances, flattened into the page as a viewer shows them), what a reader's comment
list shows of them (rich text, author), every kind of form field's shown texts, and the
viewer's panels around the pages (page labels, layers, attachments' descriptions, XMP)."""

from __future__ import annotations

import time
import zlib

import pytest

from attachguard.engines.base import Context, Item, Result
from attachguard.engines.sensitive import SensitiveEngine, SensitiveOptions
from attachguard.policy import Limits
from attachguard.report import FileType
from attachguard.sensitive.ocr import OcrPicture
from support import evasions

CARD = b"4111 1111 1111 1111"
HELLO = b"BT /F1 11 Tf 72 700 Td (Hello) Tj ET"


def document(
    *,
    page: bytes = b"",
    catalog: bytes = b"",
    more: tuple[bytes, ...] = (),
    content: bytes = HELLO,
    fonts: bytes = b"",
    resources: bytes = b"",
) -> bytes:
    """A one-page PDF drawing ``content`` ("Hello") in Helvetica (F1; more ``fonts``), with
    more page ``resources``, page and catalog entries and more objects (numbered from 6)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R%s >>" % catalog,
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 3 0 R%s >>%s >>%s >>" % (fonts, resources, page),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        *more,
    ]
    return evasions.pdf(list(enumerate(objects, 1)))


def appearance(content: bytes) -> bytes:
    return (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 300 40] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Length %d >>\nstream\n%s\nendstream"
        % (len(content), content)
    )


def annotated(subtype: bytes, content: bytes, flags: int = 4) -> bytes:
    """A page with one annotation of ``subtype`` whose appearance (object 7) draws
    ``content``."""
    annotation = b"<< /Type /Annot /Subtype /%s /Rect [72 500 372 540] /F %d /AP << /N 7 0 R >> >>"
    return document(
        page=b" /Annots [6 0 R]",
        more=(annotation % (subtype, flags), appearance(content)),
    )


class Seeing:
    """An OCR backend that sees a card number in every picture, and counts them."""

    name = "seeing"

    def __init__(self) -> None:
        self.calls = 0

    def version(self) -> str:
        return "seeing 1"

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        self.calls += 1
        return [f"Card {CARD.decode()}"]


def scan(data: bytes, ocr: Seeing | None = None) -> Result:
    engine = SensitiveEngine(SensitiveOptions(), ocr)
    item = Item("file.pdf", data, FileType("pdf", "", "document", False))
    return engine.scan(item, Context(Limits(), deadline=time.monotonic() + 30))


def found(data: bytes) -> list[tuple[str, str | None]]:
    return [(f.code.name, f.location) for f in scan(data).findings]


# -- what annotations draw -------------------------------------------------------------------


@pytest.mark.parametrize("subtype", [b"Square", b"Highlight", b"Ink", b"Circle", b"Link"])
def test_an_annotations_appearance_is_read_as_the_page_shows_it(subtype: bytes) -> None:
    drawn = annotated(subtype, b"BT /F1 11 Tf 2 10 Td (Card %s) Tj ET" % CARD)
    assert found(drawn) == [("SENSITIVE_CARD", "page 1")]


def test_an_appearance_on_a_later_page_is_read_on_that_page() -> None:
    # the flattened page is read again by its own number (the first version reloaded page 1:
    # page 2's text was lost and page 1's read twice)
    second = b"BT /F1 11 Tf 72 700 Td (Paid with 5500 0000 0000 0004) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R 7 0 R] /Count 2 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(HELLO), HELLO),
        b"<< /Type /Annot /Subtype /Square /Rect [72 500 372 540] /F 4 /AP << /N 9 0 R >> >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 8 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> /Annots [6 0 R] >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(second), second),
        appearance(b"BT /F1 11 Tf 2 10 Td (Card %s) Tj ET" % CARD),
    ]
    data = evasions.pdf(list(enumerate(objects, 1)))
    assert [(f.location, f.message) for f in scan(data).findings] == [
        ("page 2", "2 payment card numbers (Mastercard ending 0004, Visa ending 1111)")
    ]


def test_what_a_viewer_hides_or_draws_without_text_is_not_a_number() -> None:
    hidden = annotated(b"Square", b"BT /F1 11 Tf 2 10 Td (Card %s) Tj ET" % CARD, flags=2)
    assert found(hidden) == []  # the Hidden flag: no viewer draws it
    stroke = annotated(b"Ink", b"1 0 0 RG 2 2 m 100 30 l S")  # a signature's pen stroke
    amount = annotated(b"Square", b"BT /F1 11 Tf 2 10 Td (Total 1,111.11 EUR) Tj ET")
    assert found(stroke) == found(amount) == []


@pytest.mark.parametrize("subtype", [b"Square", b"Ink", b"Link"])
def test_an_appearance_flagged_invisible_is_read_as_viewers_draw_it(subtype: bytes) -> None:
    # red team 114: the Invisible flag hides only types a viewer does not know (PDF 32000
    # 12.5.3); PDFium's renderer and pdf.js draw these, PDFium's flattening left them out
    drawn = annotated(subtype, b"BT /F1 11 Tf 2 10 Td (Card %s) Tj ET" % CARD, flags=5)
    assert found(drawn) == [("SENSITIVE_CARD", "page 1")]


def test_an_invisible_annotation_of_a_type_no_viewer_knows_is_not_read() -> None:
    hidden = annotated(b"Sticker", b"BT /F1 11 Tf 2 10 Td (Card %s) Tj ET" % CARD, flags=1)
    assert found(hidden) == []
    amount = annotated(b"Square", b"BT /F1 11 Tf 2 10 Td (Total 1,111.11 EUR) Tj ET", flags=5)
    assert found(amount) == []


def popup(appearance_: bytes) -> bytes:
    """A note (object 6) whose open pop-up (object 8) has the appearance object 7 draws."""
    note = b"<< /Type /Annot /Subtype /Text /Rect [60 560 80 580] /Contents (See attached) "
    note += b"/Popup 8 0 R >>"
    window = b"<< /Type /Annot /Subtype /Popup /Parent 6 0 R /Rect [250 560 550 600] /Open true "
    window += b"/F 4 /AP << /N 7 0 R >> >>"
    return document(page=b" /Annots [6 0 R 8 0 R]", more=(note, appearance_, window))


def test_an_open_popups_own_appearance_is_read() -> None:
    # red team 114: pdf.js draws an open pop-up's appearance; PDFium's flattening skips them
    drawn = popup(appearance(b"BT /F1 11 Tf 2 10 Td (Card %s) Tj ET" % CARD))
    assert found(drawn) == [("SENSITIVE_CARD", "page 1")]
    assert found(popup(appearance(b"BT /F1 11 Tf 2 10 Td (See attached) Tj ET"))) == []


def test_a_picture_an_annotations_appearance_draws_is_read() -> None:
    # red team 114: a square drawing a picture on a page of text; the page's pictures are read
    # after what its annotations draw is flattened into it, those they draw of any size (as a
    # stamp's appearance is read)
    pixels = zlib.compress(bytes([128]) * (400 * 40))
    picture = (
        b"<< /Type /XObject /Subtype /Image /Width 400 /Height 40 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
        % (len(pixels), pixels)
    )
    look = (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 300 40] /Resources << /XObject "
        b"<< /Im0 8 0 R >> >> /Length 27 >>\nstream\nq 300 0 0 40 0 0 cm /Im0 Do Q\nendstream"
    )
    square = b"<< /Type /Annot /Subtype /Square /Rect [72 500 372 540] /F 4 /AP << /N 7 0 R >> >>"
    letter = b"BT /F1 11 Tf 72 700 Td (%s) Tj ET" % (b"Thank you for the order. " * 12)
    data = document(page=b" /Annots [6 0 R]", more=(square, look, picture), content=letter)
    ocr = Seeing()
    assert [(f.code.name, f.location) for f in scan(data, ocr).findings] == [
        ("SENSITIVE_CARD", "page 1")
    ]
    assert ocr.calls == 1
    box = document(page=b" /Annots [6 0 R]", more=(square, appearance(b"0 0 m 300 40 l S")))
    ocr = Seeing()
    assert scan(box, ocr).findings == [] and ocr.calls == 0  # an ordinary box: nothing to read


def test_form_fields_side_by_side_are_read_as_fields() -> None:
    # review 113: four amounts in four fields, flattened into the page, read as one Visa
    # number; fields are read by their values, where a run of them needs a card word
    widgets, looks = [], []
    for column, amount in enumerate((b"4500", b"3200", b"5100", b"2805")):
        at = 72 + 60 * column
        widgets.append(
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (Q%d) /V (%s) /Rect [%d 500 %d 520] "
            b"/AP << /N %d 0 R >> >>" % (column + 1, amount, at, at + 50, 10 + column)
        )
        looks.append(appearance(b"BT /F1 11 Tf 2 5 Td (%s) Tj ET" % amount))
    data = document(
        page=b" /Annots [6 0 R 7 0 R 8 0 R 9 0 R]",
        catalog=b" /AcroForm << /Fields [6 0 R 7 0 R 8 0 R 9 0 R] >>",
        more=(*widgets, *looks),
    )
    assert found(data) == []


def fields_drawing(*shown: tuple[bytes, int]) -> bytes:
    """A one-page PDF whose form has a field for each (text, flags) of ``shown``: an empty
    value, and an appearance that draws the text."""
    widgets, looks, refs = [], [], []
    for number, (text, flags) in enumerate(shown):
        at, look = 500 - 60 * number, 6 + len(shown) + number
        widgets.append(
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (f%d) /V () /F %d "
            b"/Rect [72 %d 372 %d] /AP << /N %d 0 R >> >>" % (number, flags, at, at + 40, look)
        )
        looks.append(appearance(b"BT /F1 11 Tf 2 10 Td (%s) Tj ET" % text))
        refs.append(b"%d 0 R" % (6 + number))
    listed = b" ".join(refs)
    return document(
        page=b" /Annots [%s]" % listed,
        catalog=b" /AcroForm << /Fields [%s] >>" % listed,
        more=(*widgets, *looks),
    )


def test_what_a_form_field_draws_is_read_apart_from_its_value() -> None:
    # red team 113: an empty value whose appearance draws a card number (Acrobat and PDFium
    # show the appearance); each field's drawing is read inside its own rectangle
    drawn = fields_drawing((b"Total 12.00 EUR", 4), (b"Card %s" % CARD, 4))
    assert found(drawn) == [("SENSITIVE_CARD", "page 1 (form fields as drawn)")]
    hidden = fields_drawing((b"Card %s" % CARD, 2))  # the Hidden flag: no viewer draws it
    assert found(hidden) == []
    amounts = fields_drawing((b"4500 3200", 4), (b"5100 2805", 4))  # two fields, apart
    assert found(amounts) == []
    flagged = fields_drawing((b"Card %s" % CARD, 1))  # Invisible: a known type, drawn
    assert found(flagged) == [("SENSITIVE_CARD", "page 1 (form fields as drawn)")]


def test_what_a_form_field_draws_on_a_later_page_is_read_on_that_page() -> None:
    # the fields are flattened in a second copy of the document, page by page: each page's
    # own fields, by its own number
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R 9 0 R] >> >>",
        b"<< /Type /Pages /Kids [4 0 R 8 0 R] /Count 2 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> /Annots [6 0 R] >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(HELLO), HELLO),
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (a) /V () /F 4 /Rect [72 500 372 540] "
        b"/AP << /N 7 0 R >> >>",
        appearance(b"BT /F1 11 Tf 2 10 Td (Total 12.00 EUR) Tj ET"),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> /Annots [9 0 R] >>",
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (b) /V () /F 4 /Rect [72 500 372 540] "
        b"/AP << /N 10 0 R >> >>",
        appearance(b"BT /F1 11 Tf 2 10 Td (Card %s) Tj ET" % CARD),
    ]
    data = evasions.pdf(list(enumerate(objects, 1)))
    assert found(data) == [("SENSITIVE_CARD", "page 2 (form fields as drawn)")]


# -- what a comment list shows -----------------------------------------------------------------


def test_a_notes_rich_text_and_author_are_read() -> None:
    rich = b"<body><p>Card <span>4111 1111</span> <b>1111 1111</b></p></body>"
    notes = {
        "rich text": b"<< /Type /Annot /Subtype /Text /Rect [72 600 90 620] /RC (%s) >>" % rich,
        "author": b"<< /Type /Annot /Subtype /Text /Rect [72 600 90 620] /T (Card %s) >>" % CARD,
    }
    for name, note in notes.items():
        data = document(page=b" /Annots [6 0 R]", more=(note,))
        assert found(data) == [("SENSITIVE_CARD", "page 1 (notes)")], name


def test_a_form_fields_name_is_not_shown() -> None:
    widget = b"<< /Type /Annot /Subtype /Widget /FT /Tx /Rect [72 600 300 620] /T (f%s) >>"
    data = document(
        page=b" /Annots [6 0 R]",
        catalog=b" /AcroForm << /Fields [6 0 R] >>",
        more=(widget % CARD.replace(b" ", b""),),
    )
    assert found(data) == []


# -- form fields -------------------------------------------------------------------------------


def field(entries: bytes, *more: bytes) -> bytes:
    """A PDF whose form's one field (object 6) has ``entries`` (more objects from 7)."""
    return document(
        catalog=b" /AcroForm << /Fields [6 0 R] >>",
        more=(b"<< /T (pay) %s >>" % entries, *more),
    )


_VALUE_STREAM = b"<< /Length 24 >>\nstream\nCard 4111 1111 1111 1111\nendstream"


@pytest.mark.parametrize(
    "data",
    [field(b"/FT /Ch /Ff 131072 /V (Card %s) /Opt [(a) (Card %s)]" % (CARD, CARD)),
     field(b"/FT /Ch /Opt [[(1) (Card %s)] [(2) (Cash)]]" % CARD),  # a list box's options
     field(b"/FT /Tx /V 7 0 R", _VALUE_STREAM),  # a value kept as a stream
     field(b"/FT /Tx /DV (Card %s)" % CARD),  # a default value only
     field(b"/FT /Btn /Ff 65536 /MK << /CA (Card %s) >>" % CARD),  # a push button's caption
     field(b"/FT /Tx /Kids [7 0 R]", b"<< /Parent 6 0 R /V (Card %s) >>" % CARD)],
    ids=["combo box", "list box", "stream", "default", "caption", "on a kid"],
)  # fmt: skip
def test_every_kind_of_field_shows_its_texts(data: bytes) -> None:
    assert found(data) == [("SENSITIVE_CARD", "form fields")]


def test_a_field_that_cannot_be_read_hides_no_other() -> None:
    # review 113: a second field's value, an array holding itself, raised for the whole form
    data = document(
        catalog=b" /AcroForm << /Fields [6 0 R 7 0 R] >>",
        more=(b"<< /T (card) /FT /Tx /V (4111 1111 1111 1111) >>",
              b"<< /T (odd) /FT /Ch /V 8 0 R >>", b"[8 0 R (x)]"),
    )  # fmt: skip
    assert found(data) == [("SENSITIVE_CARD", "form fields")]


def test_arrays_sharing_arrays_are_read_once() -> None:
    # review 113: 40-wide arrays 8 deep through shared references (1.6e11 strings) in a
    # field's value and in the layers' order held an engine thread for good
    shared = [b"[" + b" ".join(b"%d 0 R" % (n + 1) for _ in range(40)) + b"]" for n in range(7, 14)]
    more = (*shared, b"[(leaf)]")
    value = document(catalog=b" /AcroForm << /Fields [6 0 R] >>",
                     more=(b"<< /T (f) /FT /Ch /V 7 0 R >>", *more))  # fmt: skip
    order = document(catalog=b" /OCProperties << /OCGs [] /D << /Order 7 0 R >> >>",
                     more=(b"<< /Type /OCG /Name (x) >>", *more))  # fmt: skip
    started = time.monotonic()
    assert found(value) == found(order) == []
    assert time.monotonic() - started < 10


def test_ordinary_fields_pass() -> None:
    countries = b"/FT /Ch /Ff 131072 /V (France) /Opt [[(FR) (France)] [(DE) (Germany)]]"
    assert found(field(countries)) == []
    assert found(field(b"/FT /Btn /V /Yes /MK << /CA (4) >>")) == []  # a check box's tick


# -- the viewer's panels -----------------------------------------------------------------------


def test_the_viewers_panels_are_read() -> None:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description rdf:about="">'
        b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Card %s</rdf:li></rdf:Alt>'
        b"</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>" % CARD
    )
    spec = b"<< /Type /Filespec /F (a.txt) /Desc (Card %s) /EF << /F 7 0 R >> >>" % CARD
    cases = {
        "page labels": document(catalog=b" /PageLabels << /Nums [0 << /P (Card %s ) >>] >>" % CARD),
        "layers": document(
            catalog=b" /OCProperties << /OCGs [6 0 R] /D << /Order [6 0 R] >> >>",
            more=(b"<< /Type /OCG /Name (Card %s) >>" % CARD,),
        ),
        "attachments' descriptions": document(
            catalog=b" /Names << /EmbeddedFiles << /Names [(a.txt) 6 0 R] >> >>",
            more=(spec, b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nhi\nendstream"),
        ),
        "XMP metadata": document(
            catalog=b" /Metadata 6 0 R",
            more=(
                b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream"
                % (len(xmp), xmp),
            ),
        ),
    }
    for where, data in cases.items():
        assert found(data) == [("SENSITIVE_CARD", where)], where


def test_ordinary_panels_pass() -> None:
    labels = document(catalog=b" /PageLabels << /Nums [0 << /S /r >> 1 << /P (A-) /S /D >>] >>")
    layers = document(
        catalog=b" /OCProperties << /OCGs [6 0 R] /D << /Order [(Plan 2024) 6 0 R] >> >>",
        more=(b"<< /Type /OCG /Name (Background) >>",),
    )
    assert found(labels) == found(layers) == []
    dtd = b'<!DOCTYPE x [<!ENTITY a "Card %s">]><x>&a;</x>' % CARD
    assert found(xmp(dtd)) == []  # read leniently, no entity it declares expanded
    dates = b"<x:xmpmeta><xmp:CreateDate>2016-03-01T10:00:00</xmp:CreateDate><xmp:ModifyDate>"
    dates += b"2016-03-01T10:00:00&nbsp;</xmp:ModifyDate></x:xmpmeta>"  # apart, not one number
    assert found(xmp(dates)) == []


def xmp(data: bytes) -> bytes:
    return document(
        catalog=b" /Metadata 6 0 R",
        more=(b"<< /Type /Metadata /Length %d >>\nstream\n%s\nendstream" % (len(data), data),),
    )


@pytest.mark.parametrize(
    "data",
    [b"<!DOCTYPE x><x:xmpmeta><dc:title>%s</dc:title></x:xmpmeta>" % CARD,
     b"<x:xmpmeta><dc:title>Card &nbsp; %s</dc:title></x:xmpmeta>" % CARD,
     b"<x:xmpmeta><dc:title>Card & %s</dc:title></x:xmpmeta>" % CARD],
    ids=["DOCTYPE", "HTML entity", "bare ampersand"],
)  # fmt: skip
def test_xmp_expat_refuses_is_read_as_pdfjs_reads_it(data: bytes) -> None:
    # red team 114: pdf.js's parser gives the dc:title (the tab's title) of all three
    assert found(xmp(data)) == [("SENSITIVE_CARD", "XMP metadata")]


# -- glyphs the text layer need not name -------------------------------------------------------

TYPE3 = (  # one glyph, "A", drawn as a triangle
    b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 600 700] /FontMatrix [0.001 0 0 0.001 0 0] "
    b"/FirstChar 65 /LastChar 65 /Widths [600] /Encoding << /Differences [65 /A] >> "
    b"/CharProcs << /A 7 0 R >> >>"
)
GLYPH = b"600 0 0 0 600 700 d1 0 0 m 600 700 l 600 0 l f"


def page(content: bytes, *more: bytes, fonts: bytes = b"") -> bytes:
    return document(content=content, more=more, fonts=fonts)


LABEL = b"BT /F1 11 Tf 72 700 Td (Card number:) Tj ET "


@pytest.mark.parametrize(
    "data",
    [page(LABEL + b"/Span << /ActualText (hello world) >> BDC "
          b"BT /F1 11 Tf 160 700 Td (%s) Tj ET EMC" % CARD),
     page(LABEL + b"BT /F2 11 Tf 160 700 Td (AAAA) Tj ET",
          TYPE3, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(GLYPH), GLYPH),
          fonts=b" /F2 6 0 R")],
    ids=["ActualText", "Type 3"],
)  # fmt: skip
def test_a_page_whose_glyphs_its_text_need_not_name_is_read_as_drawn(data: bytes) -> None:
    ocr = Seeing()
    assert found(data) == []  # its text layer: "hello world", "AAAA"
    assert [(f.code.name, f.location) for f in scan(data, ocr).findings] == [
        ("SENSITIVE_CARD", "page 1")
    ]
    assert ocr.calls == 1


def test_a_page_drawn_as_its_text_says_is_not_rendered() -> None:
    ocr = Seeing()
    assert scan(page(LABEL + b"BT /F1 11 Tf 160 700 Td (on file) Tj ET"), ocr).findings == []
    assert ocr.calls == 0
