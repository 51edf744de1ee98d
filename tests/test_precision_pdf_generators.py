"""PdfEngine precision for widely used generators: TCPDF's catalog with a key written twice,
Acrobat's formatting scripts on form fields (pdfkit, PyMuPDF, TCPDF), jsPDF's autoPrint. Each
honest structure has hostile look-alikes that must still be caught; fixtures are built here
byte by byte, as the generators write them."""

from __future__ import annotations

import zlib

import pytest

from attachguard.policy import Policy
from support import evasions
from test_pdf_precision import CATALOG, CONTENT, HELVETICA, PAGE, PAGES, pdf
from test_pdf_readings import codes, found, scan

PAGE_WITH = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R%s >>"
OUTLINES = b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>"
BOOKMARK = b"<< /Title (Invoice) /Parent 6 0 R /Dest [3 0 R /XYZ 0 200 null] >>"
ALERT = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
BOTH = {"PDF_JAVASCRIPT", "PDF_AUTO_ACTION"}


def catalog(more: bytes) -> bytes:
    return b"<< /Type /Catalog /Pages 2 0 R%s >>" % more


# -- a key written twice (TCPDF writes /PageMode twice when a document has bookmarks) ----------


def test_tcpdf_catalog_with_a_bookmark(policy: Policy) -> None:
    more = (
        b" /PageMode /UseNone /Outlines 6 0 R /PageMode /UseOutlines /OpenAction [3 0 R /FitH null]"
    )
    data = pdf({1: catalog(more), 6: OUTLINES, 7: BOOKMARK})
    assert found(scan(data, policy)) == set()


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (b"[3 0 R /FitH null] /OpenAction " + ALERT, BOTH),
        (ALERT + b" /OpenAction [3 0 R /FitH null]", BOTH),
        (b"[3 0 R /FitH null] /OpenAction << /S /URI /URI (https://evil.example/) >>",
         {"PDF_AUTO_ACTION"}),
        (b"[3 0 R /FitH null] /OpenAction 8 0 R", BOTH),  # 8: JavaScript by itself too
        (b"9 0 R /OpenAction << /S /Launch /F (calc.exe) >>", {"PDF_AUTO_ACTION", "PDF_LAUNCH"}),
    ],
    ids=["script-last", "script-first", "uri-last", "script-by-reference", "launch-last"],
)  # fmt: skip
def test_an_open_action_written_twice_is_judged_both_ways(
    actions: bytes, expected: set[str], policy: Policy
) -> None:
    more = b" /PageMode /UseNone /PageMode /UseOutlines /OpenAction " + actions
    objects = {1: catalog(more), 9: b"<< /S /GoTo /D [3 0 R /Fit] >>"}
    data = pdf(objects | ({8: ALERT} if b"8 0 R" in actions else {}))
    assert codes(scan(data, policy)) == expected


def test_an_action_type_written_twice_in_a_catalog_with_a_key_twice(policy: Policy) -> None:
    more = b" /PageMode /UseNone /PageMode /UseOutlines /OpenAction 8 0 R"
    action = b"<< /S /GoTo /D [3 0 R /Fit] /S /URI /URI (https://evil.example/) >>"
    assert codes(scan(pdf({1: catalog(more), 8: action}), policy)) == {"PDF_AUTO_ACTION"}


def test_an_additional_action_written_twice_on_a_page(policy: Policy) -> None:
    page = (
        PAGE_WITH % b" /Rotate 0 /Rotate 90 /AA << /O << /S /GoTo /D [3 0 R /Fit] >> >> /AA 8 0 R"
    )
    data = pdf({3: page, 8: b"<< /O << /S /URI /URI (https://evil.example/) >> >>"})
    assert codes(scan(data, policy)) == {"PDF_AUTO_ACTION"}


# -- jsPDF autoPrint: the reader's print dialog on opening --------------------------------------


def test_jspdf_auto_print(policy: Policy) -> None:
    # jsPDF 2.5 writes the destination, then autoPrint's action, both under /OpenAction
    more = b" /OpenAction [3 0 R /FitH null] /PageLayout /OneColumn /OpenAction 8 0 R"
    data = pdf({1: catalog(more), 8: b"<< /S /Named /Type /Action /N /Print >>"})
    assert found(scan(data, policy)) == set()


def test_print_dialog_on_opening(policy: Policy) -> None:
    data = pdf({1: catalog(b" /OpenAction << /S /Named /N /Print >>")})
    assert found(scan(data, policy)) == set()


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        ({1: catalog(b" /OpenAction << /S /JavaScript /JS (print\\({}\\);) >>")}, BOTH),
        ({1: catalog(b" /Names << /JavaScript 8 0 R >>"),
          8: b"<< /Names [(print) << /S /JavaScript /JS (print\\({}\\);) >>] >>"},
         {"PDF_JAVASCRIPT"}),
        ({1: catalog(b" /OpenAction << /S /Named /N /Print /Next %s >>" % ALERT)}, BOTH),
        ({1: catalog(b" /OpenAction << /S /Named /N /Print /S /JavaScript /JS (x) >>")}, BOTH),
        ({1: catalog(b" /OpenAction << /S /Named /N /SaveAs >>")}, {"PDF_AUTO_ACTION"}),
        ({3: PAGE_WITH % b" /AA << /O << /S /Named /N /Print >> >>"}, {"PDF_AUTO_ACTION"}),
    ],
    ids=["script", "document-script", "then-script", "type-twice", "other-named", "on-a-page"],
)  # fmt: skip
def test_printing_otherwise_is_still_active(
    objects: dict[int, bytes], expected: set[str], policy: Policy
) -> None:
    assert codes(scan(pdf(objects), policy)) == expected


# -- Acrobat's formatting scripts on form fields -------------------------------------------------


def form(widget: bytes, **more: bytes) -> bytes:
    """A PDF with one form field (a widget merged with its field: object 6) on its page."""
    objects = {
        1: catalog(b" /AcroForm << /Fields [6 0 R] >>"),
        3: PAGE_WITH % b" /Annots [6 0 R]",
        6: widget,
    }
    objects.update({int(n[1:]): body for n, body in more.items()})
    return pdf(objects)


def field(triggers: bytes, **more: bytes) -> bytes:
    """A PDF with one text field whose /AA is ``triggers``."""
    return form(
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /Rect [20 20 120 40] /P 3 0 R"
        b" /F 4 /AA " + triggers + b" >>",
        **more,
    )


def js(script: bytes) -> bytes:
    """A JavaScript action with ``script`` as a literal string (parentheses escaped)."""
    return b"<< /S /JavaScript /JS (%s) >>" % script.replace(b"(", b"\\(").replace(b")", b"\\)")


def utf16(script: str) -> bytes:
    """A JavaScript action as pdfkit writes one: a hex string, UTF-16 after its mark."""
    return b"<< /S /JavaScript /JS <%s> >>" % ("\ufeff" + script).encode("utf-16-be").hex().encode()


def script_stream(script: bytes) -> bytes:
    data = zlib.compress(script)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data)


@pytest.mark.parametrize(
    "triggers",
    [
        # TCPDF: a currency field
        b"<< /F %s /K %s >>"
        % (js(b'AFNumber_Format(2, 0, 0, 0, "EUR", false);'),
           js(b'AFNumber_Keystroke(2, 0, 0, 0, "EUR", false);')),
        # pdfkit: UTF-16 text, a null argument, a currency sign
        b"<< /K %s /F %s >>"
        % (utf16('AFNumber_Keystroke(2,1,"MinusBlack",null,"\u20ac",false);'),
           utf16('AFNumber_Format(2,1,"MinusBlack",null,"\u20ac",false);')),
        b"<< /K %s /F %s >>" % (js(b"AFPercent_Keystroke(1,1);"), js(b"AFPercent_Format(1,1);")),
        b"<< /K %s /F %s >>" % (js(b"AFSpecial_Keystroke(0);"), js(b"AFSpecial_Format(0);")),
        b"<< /K %s /F %s >>"
        % (js(b'AFDate_KeystrokeEx("dd.mm.yyyy");'), js(b"AFDate_FormatEx('dd.mm.yyyy')")),
        b"<< /V %s >>" % js(b"AFRange_Validate(true, 0, true, 100);"),
        b'<< /C %s >>' % js(b'AFSimple_Calculate("SUM", ["qty", "price"]);'),
        b"<< /K 8 0 R /F 9 0 R /C 10 0 R >>",  # PyMuPDF: actions and scripts as objects
    ],
    ids=["tcpdf", "pdfkit-utf16", "percent", "zip", "date", "range", "sum", "pymupdf-streams"],
)  # fmt: skip
def test_formatting_calls_on_a_field(triggers: bytes, policy: Policy) -> None:
    scripts = {
        "o8": b"<< /S /JavaScript /JS 11 0 R >>",
        "o9": b"<< /S /JavaScript /JS 12 0 R >>",
        "o10": b"<< /S /JavaScript /JS 13 0 R >>",
        "o11": script_stream(b'AFNumber_Keystroke(2, 0, 0, 0, "\xe2\x82\xac", false);'),
        "o12": script_stream(b'AFNumber_Format(2, 0, 0, 0, "\xe2\x82\xac", false);'),
        "o13": script_stream(b'AFSimple_Calculate("PRD", new Array ("qty", "price"));'),
    }
    assert found(scan(field(triggers, **scripts), policy)) == set()


@pytest.mark.parametrize(
    "script",
    [
        b"AFNumber_Format(app.alert(1))",  # not a literal
        b'AFNumber_Format(2, 0, 0, 0, "", true); app.alert(1)',  # another statement
        b'AFNumber_Format(2, 0, 0, 0, "", true);;',
        b"AFNumber_Evil(2)",  # shaped like one, not Acrobat's
        b"AFExecute_Format(2)",
        b"AFNumber_Format(2)(app.alert(1))",
        b'AFNumber_Format("a" + "b")',  # an expression
        b"AFNumber_Format(-app)",
        b"AFDate_KeystrokeEx(yyyy-mm-dd)",  # pdfkit's unquoted date: identifiers, not literals
        b'AFDate_FormatEx("\\x61")',  # an escape beyond the simple ones
        b'AFSimple_Calculate("SUM", new Array (this.getField("a")))',
        b'AFSimple_Calculate("SUM", [1, app])',
        b"AFNumber_Format(2) // comment",
        b"app.alert(1)",
    ],
)
def test_scripts_that_are_not_one_formatting_call(script: bytes, policy: Policy) -> None:
    data = field(b"<< /F %s >>" % js(script))
    assert codes(scan(data, policy)) == BOTH


FORMAT = js(b'AFNumber_Format(2, 0, 0, 0, "", true);')


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        # on opening the document, directly or by reference
        ({1: catalog(b" /OpenAction " + FORMAT)}, BOTH),
        ({1: catalog(b" /OpenAction 8 0 R"), 8: FORMAT}, {"PDF_AUTO_ACTION"}),
        # a page's /AA: /C is its closing, not a field's calculation
        ({3: PAGE_WITH % b" /AA << /C %s >>" % FORMAT}, BOTH),
        ({3: PAGE_WITH % b" /AA << /O 8 0 R >>", 8: FORMAT}, {"PDF_AUTO_ACTION"}),
        # a document-level script
        ({1: catalog(b" /Names << /JavaScript 8 0 R >>"), 8: b"<< /Names [(f) %s] >>" % FORMAT},
         {"PDF_JAVASCRIPT"}),
        # the document's own events
        ({1: catalog(b" /AA << /WC %s >>" % FORMAT)}, BOTH),
    ],
    ids=["open", "open-by-reference", "page-close", "page-open", "names", "document-events"],
)  # fmt: skip
def test_a_formatting_call_anywhere_but_a_fields_events(
    objects: dict[int, bytes], expected: set[str], policy: Policy
) -> None:
    assert codes(scan(pdf(objects), policy)) == expected


@pytest.mark.parametrize(
    "triggers",
    [
        b"<< /Fo %s >>" % FORMAT,  # on focus: no formatting event
        b"<< /F << /S /JavaScript /JS (AFNumber_Format\\(2\\)) /Next %s >> >>" % ALERT,
        b"<< /F << /S /JavaScript /JS (AFNumber_Format\\(2\\)) /S /JavaScript /JS (x) >> >>",
        b"<< /F << /S /JavaScript /JS (AFNumber_Format\\(2\\)) >> /F %s >>" % ALERT,
        b"<< /F 8 0 R >>",  # 8 is a script that is no formatting call
        b"<< /F << /S /JavaScript /JS 9 0 R >> >>",  # 9: a stream of one
    ],
    ids=["focus", "then-script", "script-twice", "event-twice", "by-reference", "stream"],
)
def test_a_fields_event_that_does_more_than_format(triggers: bytes, policy: Policy) -> None:
    data = field(triggers, o8=ALERT, o9=script_stream(b"AFNumber_Format(2); app.alert(1)"))
    assert codes(scan(data, policy)) == BOTH


def test_a_formatting_call_defined_twice_is_judged_in_both(policy: Policy) -> None:
    """The definition pypdf's reading takes formats; the other one runs a script."""
    widget = (
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (a) /Rect [0 0 9 9] /AA << /F 8 0 R >> >>"
    )
    objects = [(1, CATALOG), (2, PAGES), (3, PAGE_WITH % b" /Annots [6 0 R]"), (4, CONTENT)]
    objects += [(5, HELVETICA), (6, widget), (8, FORMAT), (8, ALERT)]
    assert codes(scan(evasions.pdf(objects), policy)) == BOTH


def image_button(action: bytes) -> bytes:
    """A PDF with one push button whose click is ``action`` (Acrobat's "Add an image" field)."""
    return form(
        b"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (image_1) /Rect [20 20 120 40]"
        b" /P 3 0 R /F 4 /A " + action + b" >>"
    )


@pytest.mark.parametrize(
    ("script", "expected"),
    [(b"event.target.buttonImportIcon();", set()),
     (b"event.target.buttonImportIcon()", set()),
     (b"event.target.buttonImportIcon(); app.alert(1)", {"PDF_JAVASCRIPT"}),
     (b"app.launchURL('https://attacker.example')", {"PDF_JAVASCRIPT"}),
     # InDesign's, after a comment line (hunt 102); a comment ends at a line break
     (b"// Prompt user to select file to display in this button\r\revent.target."
      b"buttonImportIcon();", set()),
     (b"// note\rapp.alert(1);\revent.target.buttonImportIcon();", {"PDF_JAVASCRIPT"})],
    ids=["acrobat", "no-semicolon", "then-more", "other-script", "indesign-comment",
         "code-after-a-comment"],
)  # fmt: skip
def test_acrobats_image_field_asks_for_a_picture(
    script: bytes, expected: set[str], policy: Policy
) -> None:
    """Acrobat's "Add an image" field runs one call on a click, which asks the reader for a
    picture to show in the button (hunt 100: PyPDFForm's samples were PDF_JAVASCRIPT); any
    other script stays JavaScript."""
    assert codes(scan(image_button(js(script)), policy)) == expected


# -- an object that is a reference (macOS Preview's incremental saves; hunt 103) ---------------


def test_an_object_that_is_a_reference_is_the_object_it_leads_to(policy: Policy) -> None:
    # Quartz PDFContext "AppendMode" writes "47 0 obj 46 0 R endobj": pypdf raised on it
    chained = pdf({3: (PAGE % b"").replace(b"4 0 R", b"6 0 R"), 6: b"7 0 R", 7: b"4 0 R"})
    assert found(scan(chained, policy)) == set()
    scripted = pdf({1: catalog(b" /OpenAction 6 0 R"), 6: b"7 0 R", 7: ALERT})
    assert codes(scan(scripted, policy)) == BOTH  # what the chain leads to is judged
    looped = pdf({1: catalog(b" /Lang 6 0 R"), 6: b"6 0 R"})
    assert found(scan(looped, policy)) == set()  # a reference to itself: null
