"""Web-export engine: the "Export to Word/Excel" files web applications write, read as Word and
Excel read them.

Web applications (PHP, Java and JavaScript exporters, SheetJS) write an HTML page or an MHT web
archive named .doc or .xls, or an Excel 2003 XML workbook (SpreadsheetML) named .xls; Word and
Excel open them by their extension (Excel after warning that the format and the extension
differ) and run no page script. The file-type engine accepts them under those extensions; this
engine judges what they hold and load. Routed with the text engines (``group:code``: HTML, MHT
and XML are code to Magika), it reads only those labels under those extensions.

A page (HTML, and every part of an MHT archive, by `attachguard.formats.htmlchunk`, in every
encoding a reader could take, conditional comments included):

- SCRIPT: a ``<script>`` element, an event-handler attribute (``onload``), a ``javascript:`` or
  ``vbscript:`` address. Office runs none of them, but nothing an exporter writes holds one and
  the same file opened by a browser (a saved attachment, a preview) would run it.
- OLE_OBJECT: ``<object>``, ``<embed>``, ``<applet>``, an ActiveX ``classid`` (Word creates the
  control), Word's ``o:OLEObject``, ``<link rel=OLE-Object-Data>``, an archive's Office data
  part (``application/x-mso``, a ``.mso`` location, ActiveMime bytes) other than editdata.mso.
- VBA_MACRO: ``<link rel=Edit-Time-Data>`` or an ``editdata.mso`` part (where Word keeps a web
  document's macros). XLM_MACRO: an Excel 4 macro sheet element.
- EXTERNAL_LINK: a picture, style sheet, frame or object loaded from another machine (VML's
  ``v:imagedata`` and ``o:href`` too), a link to a network share (a click sends the reader's
  Windows credentials there). A form posting elsewhere is not flagged: Word shows its fields as
  static controls and submits nothing; an address to a share in it is a link like any other.

A web archive's parts in base64 or quoted-printable are handed on decoded, as children Word
imports (`Child.imported`: no script in them runs), so that the antivirus and the other engines
read what Word shows, not its encoding: clamd decodes the parts of an archive it takes for a
mail, but not behind a byte order mark, which Word reads past (red team 115).

A Word XML document is read whatever its name, as Word opens it by its content (`_word_xml`):
a flat package (``pkg:package``) is handed on as the package Word reads it as; a Word 2003 XML
document's macros (``editdata.mso``) are VBA_MACRO, its embedded objects (``oledata.mso``)
OLE_OBJECT, and its fields are judged as a .docx's.

An Excel XML workbook is read as one whatever its name: Excel opens a .csv by its content
(after its warning), and Windows opens a .xml by the program it names (``mso-application``),
as it does an attachment a PDF carries under that name.

Under .xls, formulas too: ``x:fmla`` on a cell, a defined name's ``x:Formula``, a cell whose
text starts with ``=``, ``+``, ``-`` or ``@`` (Excel takes it as typed) and, in SpreadsheetML,
``ss:Formula``, ``ss:RefersTo`` and the text of Excel's own elements (conditional formats, data
validation). As an .xlsx's formulas are judged (`attachguard.formats.formulas`): DDE for one
that starts a program; EXTERNAL_LINK for one that opens a workbook on a share or at a URL, a
HYPERLINK to a share, WEBSERVICE, IMAGE, RTD with a server. SpreadsheetML also: a hyperlink
(``ss:HRef``) to a share and a web or database query (``x:QueryTable``) are EXTERNAL_LINK; an
Excel 4 macro sheet or an ``Auto_Open``-style name XLM_MACRO; a DTD AMBIGUOUS (XML readers
differ on what it declares); XML that does not parse CORRUPT.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.etree import ElementTree
from xml.parsers import expat

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_MEMBERS,
    CORRUPT,
    DDE,
    EXTERNAL_LINK,
    OLE_OBJECT,
    SCRIPT,
    VBA_MACRO,
    XLM_MACRO,
    Code,
)
from attachguard.engines.base import Child, Context, EngineSpec, Item, Options, Result, finding
from attachguard.engines.filetype_structure import spreadsheetml
from attachguard.formats import htmlchunk
from attachguard.formats.formulas import (
    MAX_FORMULA,
    fetches,
    harmful_hyperlink,
    other_workbook,
    runs_command,
)
from attachguard.formats.ooxml_xml import is_dde_formula
from attachguard.formats.opc import FLAT_NS, flat_package
from attachguard.formats.targets import clicked_harm, on_a_share
from attachguard.formats.wordfields import ThreatKind, classify_field, field_instructions
from attachguard.report import Finding

NAME = "webexport"
# (extension, Magika label) → how the application that opens it reads it
READINGS = {
    (".doc", "html"): "page",
    (".doc", "mht"): "page",
    (".xls", "html"): "sheet page",
    (".xls", "mht"): "sheet page",
    (".xls", "xml"): "workbook",
}
_ACTIVE = {"script": SCRIPT, "object": OLE_OBJECT, "macros": VBA_MACRO, "xlm": XLM_MACRO}
# A web archive starts with its headers (MIME-Version, Content-Type, From, Subject...): a byte
# order mark or blanks, then a header line
_MIME_HEADERS = re.compile(rb"(?:\xef\xbb\xbf)?\s*[A-Za-z][\w-]{0,60}[ \t]*:")

_SS = "urn:schemas-microsoft-com:office:spreadsheet"
_X = "urn:schemas-microsoft-com:office:excel"
_WORKBOOK = f"{_SS} Workbook"
_FORMULA_ATTRIBUTES = frozenset({"Formula", "RefersTo"})  # by local name, any namespace
_QUERIES = frozenset({f"{_X} {local}" for local in
                      ("QueryTable", "QuerySource", "ConnectionString", "URLString")})  # fmt: skip
# Names Excel runs an Excel 4 macro at (on opening, closing, switching to the workbook)
_AUTO_NAMES = re.compile(r"(?:_xlnm\.)?auto_(?:open|close|activate|deactivate)\w*", re.I)


def judge_formula(formula: str, stored: bool = True) -> list[tuple[Code, str]]:
    """What a formula (with or without its ``=``) does, as the .xlsx reading judges it:
    ``stored`` formulas (written by the exporter as formulas) also count any ``|`` outside
    quotes as DDE, as Excel's grammar gives it no other meaning there."""
    body = formula.strip()[:MAX_FORMULA]
    body = body[1:] if body[:1] in "=+-@" else body
    found = []
    if runs_command(body) or (stored and is_dde_formula(body)):
        found.append((DDE, "a formula that starts another program through DDE"))
    if other_workbook(body) == "a network path" or harmful_hyperlink(body):
        found.append((EXTERNAL_LINK, "a formula that opens a workbook or link on another machine"))
    if fetches(body):
        found.append((EXTERNAL_LINK, "a formula that fetches from another machine when Excel "
                                     "calculates it (WEBSERVICE, IMAGE, RTD)"))  # fmt: skip
    return found


class _Workbook:
    """One SpreadsheetML document's facts, gathered as expat reads it (no tree is built)."""

    def __init__(self) -> None:
        self.root = ""
        self.found: list[tuple[Code, str]] = []
        self._texts: list[list[str] | None] = []  # per open element: its text, if judged

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.root = self.root or name
        local = name.rsplit(" ", 1)[-1]
        for key, value in attrs.items():
            self._attribute(local, key.rsplit(" ", 1)[-1], value)
        if name in _QUERIES:
            self.found.append((EXTERNAL_LINK, "a web or database query Excel refreshes"))
        if "macrosheet" in local.lower():
            self.found.append((XLM_MACRO, "an Excel 4 macro sheet"))
        self._texts.append([] if name.startswith(_X + " ") else None)

    def _attribute(self, element: str, key: str, value: str) -> None:
        if key in _FORMULA_ATTRIBUTES:
            self.found += judge_formula(value)
        elif key == "HRef" and on_a_share(value):
            self.found.append((EXTERNAL_LINK, "a hyperlink to a network share"))
        elif key == "Name" and element == "NamedRange" and _AUTO_NAMES.fullmatch(value.strip()):
            self.found.append((XLM_MACRO, f"a name Excel runs a macro at ({value.strip()[:40]})"))

    def text(self, data: str) -> None:
        own = self._texts[-1] if self._texts else None
        if own is not None and sum(map(len, own)) < MAX_FORMULA:
            own.append(data)

    def end(self, _name: str) -> None:
        own = self._texts.pop()
        if own:
            self.found += judge_formula("".join(own))


def _refuse_dtd(*_: object) -> None:
    raise _Refused


class _Refused(Exception):
    """A DTD in an XML workbook."""


def read_workbook(data: bytes) -> list[tuple[Code, str]]:
    """What an Excel 2003 XML workbook holds (see the module docstring); nothing when its root
    is not a SpreadsheetML workbook (the file-type engine says what it is then)."""
    book = _Workbook()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.StartElementHandler = book.start
    parser.EndElementHandler = book.end
    parser.CharacterDataHandler = book.text
    try:
        parser.Parse(data, True)
    except _Refused:
        return [(AMBIGUOUS, "an XML workbook with a DTD, which XML readers take differently")]
    except expat.ExpatError as exc:
        return [(CORRUPT, f"XML that does not parse (line {exc.lineno})")]
    return book.found if book.root == _WORKBOOK else []


def read_page(data: bytes, sheet: bool, mime: bool = False) -> list[tuple[Code, str]]:
    """What a web page or web archive holds and loads (see the module docstring), read as a
    page and, when it is one (``mime``: Magika says so; or it starts with mail headers), as a
    web archive; ``sheet``: Excel opens it, so its formulas count."""
    return _read_page(data, sheet, mime)[0]


def _read_page(data: bytes, sheet: bool, mime: bool) -> tuple[list[tuple[Code, str]], list[Child]]:
    """`read_page`, and the web archive's encoded parts decoded, as children Word imports."""
    found = htmlchunk.addresses(data, "text/html")
    archive = htmlchunk.Addresses()
    if mime or _MIME_HEADERS.match(data):  # what Word and Excel read as a web archive
        archive = htmlchunk.addresses(data, "multipart/related")
    parts = [Child(where, part, imported=True) for where, part in archive.encoded]
    judged = [(_ACTIVE[kind], what) for kind, what in found.active + archive.active]
    judged += [(ARCHIVE_MEMBERS, why) for why in archive.unread]
    fetched, clicked = found.fetched + archive.fetched, found.clicked + archive.clicked
    judged += _addresses(fetched, clicked)
    if sheet:
        if found.queries or archive.queries:
            judged.append((EXTERNAL_LINK, "a web or database query Excel refreshes"))
        for formula in found.formulas + archive.formulas:
            judged += judge_formula(formula)
        for cell in found.cells + archive.cells:
            judged += judge_formula(cell, stored=False)
    return judged, parts


def _addresses(fetched: list[str], clicked: list[str]) -> list[tuple[Code, str]]:
    found = []
    if any(htmlchunk.normal(a).startswith(htmlchunk.SCRIPT_SCHEMES) for a in fetched + clicked):
        found.append((SCRIPT, "a script address (javascript:)"))
    if htmlchunk.loads_from_afar(fetched):
        found.append((EXTERNAL_LINK, "a picture, style sheet or frame loaded from another machine"))
    if any(on_a_share(address) for address in fetched):
        found.append((EXTERNAL_LINK, "a link to a network share"))
    if harms := [harm for address in clicked if (harm := clicked_harm(address))]:
        found.append((EXTERNAL_LINK, f"a link to {harms[0].partition(' (')[0]}"))
    return found


def _findings(judged: Iterable[tuple[Code, str]], what: str) -> list[Finding]:
    """One finding per code, its first reason in words, and how many places say so."""
    by_code: dict[str, list[str]] = {}
    codes: dict[str, Code] = {}
    for code, reason in judged:
        by_code.setdefault(code.name, []).append(reason)
        codes[code.name] = code
    return [
        finding(NAME, codes[name], f"{reasons[0]} in {what}", count=len(reasons))
        for name, reasons in by_code.items()
    ]


_WHAT = {"page": "a web page named .doc", "sheet page": "a web page named .xls",
         "workbook": "an Excel XML workbook"}  # fmt: skip


class WebExportEngine:
    """Word and Excel web exports (HTML, MHT, SpreadsheetML); see the module docstring."""

    name = NAME

    def version(self) -> str:
        return "attachguard webexport 1"

    def scan(self, item: Item, context: Context) -> Result:
        reading = READINGS.get((item.extension, item.type.label))
        if reading is None and item.type.label == "xml" and spreadsheetml(item.data):
            reading = "workbook"  # Windows opens it in Excel by its content (a .xml, a .csv)
        if reading is None and item.type.label == "xml":
            return _word_xml(item.data)
        if reading is None or not item.data:
            return Result()
        if reading == "workbook":
            return Result(_findings(read_workbook(item.data), _WHAT[reading]))
        mime = item.type.label == "mht"
        judged, parts = _read_page(item.data, sheet=reading == "sheet page", mime=mime)
        return Result(_findings(judged, _WHAT[reading]), parts)


_WORD_2003 = b"http://schemas.microsoft.com/office/word/2003/wordml"
_WORD_2006 = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# Where a Word 2003 XML document keeps what it cannot write as XML: its macros (editdata.mso, an
# ActiveMime of the VBA project) and its embedded objects (oledata.mso)
_BIN_DATA = {"editdata.mso": (VBA_MACRO, "macros"), "oledata.mso": (OLE_OBJECT, "embedded objects")}


def _word_xml(data: bytes) -> Result:
    """A Word XML document, which Word opens by its content (``mso-application``; under .doc,
    or attached to a PDF under any Word name; red team 107: the macros of both were unseen): a
    flat package (``pkg:package``) is handed on as the package Word reads it as
    (`opc.flat_package`), which the Office engines judge whole; a Word 2003 XML document
    (``w:wordDocument``) is judged here: its macros and embedded objects, kept as binary data
    (`_BIN_DATA`: VBA_MACRO, OLE_OBJECT), and its fields, read as a .docx's are (the 2003
    vocabulary names them alike)."""
    root = _root(data)
    if root == (FLAT_NS, "package"):
        if (flat := flat_package(_as_utf8(data))) is None:
            message = "a Word XML package that cannot be read as Word reads it"
            return Result([finding(NAME, CORRUPT, message)])
        return Result([], [Child("the XML document as Word reads it (a package)", flat)])
    if root != (_WORD_2003.decode(), "wordDocument"):
        return Result()
    data = _as_utf8(data)
    judged = [found for name in _bin_data_names(data) if (found := _BIN_DATA.get(name))]
    try:
        fields = field_instructions(data.replace(_WORD_2003, _WORD_2006))
    except (ValueError, ElementTree.ParseError):
        judged.append((CORRUPT, "Word fields that cannot be read"))
        fields = []
    for field in fields:
        if field.ambiguity:
            judged.append((AMBIGUOUS, field.ambiguity))
        if threat := classify_field(field.text):
            judged.append((DDE if threat.kind == ThreatKind.DDE else EXTERNAL_LINK, threat.message))
    return Result(_findings(judged, "a Word XML document"))


class _Root(Exception):
    pass


def _root(data: bytes) -> tuple[str, str] | None:
    """An XML document's root element (namespace, local name), read by expat in whatever
    encoding it declares, wherever it starts (review 105: after a long comment, in UTF-16);
    None for what does not parse that far or holds a DTD."""

    def start(name: str, _attrs: object) -> None:
        namespace, _, local = name.rpartition(" ")
        raise _Root(namespace, local)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = _refuse_dtd
    try:
        parser.Parse(data[: 1 << 24], False)
    except _Root as found:
        return found.args[0], found.args[1]
    except (expat.ExpatError, _Refused, ValueError):
        return None
    return None


_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"\xef\xbb\xbf", "utf-8"))
_DECLARED = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*""")


def _as_utf8(data: bytes) -> bytes:
    """The document in UTF-8, its declaration saying so: as read by its byte-order mark, or
    as UTF-16 when its first characters hold NULs, else as it is."""
    codec = next((c for bom, c in _BOMS if data.startswith(bom)), None)
    start = next((len(bom) for bom, c in _BOMS if data.startswith(bom)), 0)
    if codec is None and data[:1] == b"\x00":
        codec = "utf-16-be"
    elif codec is None and data[1:2] == b"\x00":
        codec = "utf-16-le"
    if codec is None:
        return data
    text = data[start:].decode(codec, "replace")
    return _DECLARED.sub(r"\g<1>UTF-8", text, count=1).encode()


_BIN_NAME = re.compile(rb"<(?:[\w.-]+:)?binData\b[^>]*?\bname\s*=\s*[\"']([^\"']{1,200})[\"']")


def _bin_data_names(data: bytes) -> list[str]:
    """The names of a Word 2003 XML document's binary data elements (``w:binData w:name``),
    lower-cased, whatever the prefix."""
    return [m.group(1).decode("latin-1").strip().lower() for m in _BIN_NAME.finditer(data)]


ENGINE = EngineSpec(
    name=NAME,
    summary="web pages and XML workbooks named .doc/.xls (Export to Word/Excel): scripts, "
    "objects, macros, external links and formulas, as Word and Excel read them",
    types=("group:code",),
    codes=(
        SCRIPT,
        OLE_OBJECT,
        VBA_MACRO,
        XLM_MACRO,
        DDE,
        EXTERNAL_LINK,
        AMBIGUOUS,
        CORRUPT,
        ARCHIVE_MEMBERS,
    ),
    build=lambda options, resources: WebExportEngine(),
    options=Options,
    order=55,
)
