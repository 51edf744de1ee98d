"""The XML inside Office Open XML packages, parsed the way Office parses it.

Parsing is namespace-aware: elements are matched on namespace URI and local name, never on a
prefix, in the transitional and the strict (ISO) namespaces alike. Character references, the
predefined entities and CDATA sections are decoded by the parser, so ``&#124;`` is a ``|`` here
as it is to Excel.

What `read_part` reports about one part: its root element, whether a SpreadsheetML or chart
formula starts a program through DDE (``cmd|'/c calc'!A1``) or opens a workbook on a share or
at a URL (``'\\\\host\\s\\[B.xlsx]Sheet1'!A1``, `formulas.other_workbook`) or fetches from the
web by itself (WEBSERVICE, IMAGE: `formulas.fetches`), the
``ddeLink``/``oleLink`` elements of an external-link part, every DrawingML ``hlinkClick``,
``hlinkHover`` and ``hlinkMouseOver`` (with its action and relationship id) for PowerPoint's
action settings, and the external data sources of a workbook's connections part (`Source`: a
web query's URL, a text file, an ODC file, a database's ``Data Source``, and whether Excel
refreshes it when the workbook opens), and whether a legacy VML drawing or an SVG picture names
a network share in an address attribute (``v:imagedata/@src``, ``o:href``, ``xlink:href``).

Ambiguous (`XmlRejected` with kind ``ambiguous``): a DOCTYPE (Office refuses DTDs, and entity
declarations are where readers disagree) and an encoding other than UTF-8/UTF-16 (ECMA-376
Part 2 allows only those, and Office refuses the rest). Damaged: anything expat cannot parse.

Work is bounded: nothing is kept but the few facts above (no tree is built, whatever the size),
a formula is examined up to `MAX_FORMULA` characters, and small structural parts (content types,
relationships) are read up to `MAX_ELEMENTS` elements. expat is used directly rather than through
ElementTree: ElementTree's builders call Python for every element (0.6 s for a 5 MB sheet here),
while expat can be told to call back only for what is examined; a byte search first decides
which callbacks a part needs at all (it can only skip work, never decide).
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import NoReturn
from xml.parsers import expat

from attachguard.formats import css
from attachguard.formats.formulas import fetches, harmful_hyperlink, other_workbook
from attachguard.formats.targets import connection_places, on_a_share, target_kind

__all__ = ["AMBIGUOUS", "CONTENT_TYPES_NS", "CUSTOM_PROPERTY", "DAMAGED", "HYPERLINK_BASE",
           "MACRO_SHEET_ROOTS", "MAX_ELEMENTS", "MAX_FORMULA", "RELATIONSHIPS_NS", "WORD_NS",
           "Action", "PartXml", "Source", "XmlRejected", "element_texts", "elements",
           "is_dde_formula", "lenient_vml",
           "looks_like_xml", "read_part"]  # fmt: skip

AMBIGUOUS = "ambiguous"
DAMAGED = "damaged"

MAX_FORMULA = 32_768  # Excel runs no formula longer than 8,192 characters
MAX_ELEMENTS = 200_000  # a content-types or relationships part of a real document has far fewer


def _names(namespaces: tuple[str, ...], *locals_: str) -> frozenset[str]:
    """Element names as expat reports them with a space separator: ``"uri local"``."""
    return frozenset(f"{ns} {local}" for ns in namespaces for local in locals_)


_SHEET_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "http://schemas.microsoft.com/office/excel/2006/main",  # xm: macro sheets, extension formulas
    "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main",  # x14:
)
_CHART_NS = (
    "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "http://purl.oclc.org/ooxml/drawingml/chart",
    "http://schemas.microsoft.com/office/drawing/2014/chartex",
    # Excel 2013 and later's chart extensions: data label ranges (c15:datalabelsRange/c15:f),
    # filtered series' references, and what later versions add
    "http://schemas.microsoft.com/office/drawing/2012/chart",
    "http://schemas.microsoft.com/office/drawing/2014/chart",
    "http://schemas.microsoft.com/office/drawing/2015/06/chart",
    "http://schemas.microsoft.com/office/drawing/2017/03/chart",
)
_DRAWING_NS = (
    "http://schemas.openxmlformats.org/drawingml/2006/main",
    "http://purl.oclc.org/ooxml/drawingml/main",
)
WORD_NS = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
)
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_R_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_R_ID = _names(_R_NS, "id")
# the namespaces of attributes that name a relationship: r:id, r:link, r:embed...; VML's o:relid
_RELATIONSHIP_ATTRIBUTE_NS = (*_R_NS, "urn:schemas-microsoft-com:office:office")

# Elements whose text Excel evaluates as a formula: cell formulas, conditional formatting and
# data validation, defined names, table column formulas, chart series references.
_FORMULAS = _names(
    _SHEET_NS, "f", "formula", "formula1", "formula2", "definedName", "calculatedColumnFormula",
    "totalsRowFormula",
) | _names(_CHART_NS, "f", "sqref")  # fmt: skip
_SHEET_DRAWING_NS = (
    "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing",
)
_CHART_DRAWING_NS = (  # a chart's user shapes
    "http://schemas.openxmlformats.org/drawingml/2006/chartDrawing",
    "http://purl.oclc.org/ooxml/drawingml/chartDrawing",
)
# Attributes Excel evaluates as formulas: a drawing's or a chart's user shape's macro and text
# link (a shape showing a cell), a form control's linked cell and input range (Excel 2010's
# control properties and the sheet's control element), Excel 2010's camera tool's range (a
# picture of it, kept up to date)
_FORMULA_ATTRIBUTES = {
    **{f"{ns} {local}": ("macro", "textlink")
       for ns in _SHEET_DRAWING_NS + _CHART_DRAWING_NS
       for local in ("sp", "pic", "graphicFrame", "cxnSp")},
    **{f"{ns} formControlPr": ("fmlaLink", "fmlaRange", "fmlaGroup", "fmlaTxbx", "fmlaMacro")
       for ns in _SHEET_NS},
    **{f"{ns} controlPr": ("macro", "linkedCell", "listFillRange") for ns in _SHEET_NS},
    "http://schemas.microsoft.com/office/drawing/2010/main cameraTool": ("cellRange",),
}  # fmt: skip
# A legacy VML drawing's form controls (x:ClientData): formulas as element text
_VML_EXCEL_NS = "urn:schemas-microsoft-com:office:excel"
_VML_FORMULAS = ("FmlaLink", "FmlaRange", "FmlaMacro", "FmlaTxbx", "FmlaGroup", "FmlaPict")
_FORMULAS |= _names((_VML_EXCEL_NS,), *_VML_FORMULAS)
# The parts whose formulas are read: sheets, charts, drawings, control properties and VML
# drawings (their root element, ``xml``, has no namespace)
_FORMULA_ROOT_NS = frozenset(_SHEET_NS + _CHART_NS + _SHEET_DRAWING_NS + _CHART_DRAWING_NS + ("",))
_NO_FORMULA_ROOTS = _names(_SHEET_NS, "sst")  # shared strings: text shown, never evaluated
# A shape's hover is hlinkHover; a text run's (a:rPr) is hlinkMouseOver: PowerPoint runs both.
_ACTIONS = {f"{ns} {local}": event for ns in _DRAWING_NS
            for local, event in (("hlinkClick", "click"), ("hlinkHover", "hover"),
                                 ("hlinkMouseOver", "hover"))}  # fmt: skip
# An animation's command that sends an embedded object a verb (OLE Action Verbs: open, edit)
# as the slide show reaches it, without a click; read as the action ppaction://ole is
_ANIMATION_COMMANDS = _names(
    ("http://schemas.openxmlformats.org/presentationml/2006/main",
     "http://purl.oclc.org/ooxml/presentationml/main"), "cmd",
)  # fmt: skip
_LINKS = {f"{ns} {local}": local for ns in _SHEET_NS[:2] for local in ("ddeLink", "oleLink")}
# A connection (xl/connections.xml) and the properties that name its source, with the
# attribute that holds it.
_CONNECTION = _names(_SHEET_NS[:2], "connection")
_SOURCES = {f"{ns} {local}": (kind, attr) for ns in _SHEET_NS[:2]
            for local, kind, attr in (("webPr", "web", "url"), ("textPr", "file", "sourceFile"),
                                      ("dbPr", "database", "connection"))}  # fmt: skip
# Excel 2013's data model connections, in an extension of the connection element
_X15 = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"
_SOURCES |= {f"{_X15} {local}": ("database", "connection") for local in ("oledbPr", "dataFeedPr")}
# A Word mail merge's connection strings (its own, and its ODSO's UDL) and its query, whose
# tables may name a share (SELECT * FROM `\\host\s\data.xlsx`): Word runs it as it opens
_CONNECT_STRING = _names(WORD_NS, "connectString", "udl")
_MERGE_QUERY = _names(WORD_NS, "query")
_SHARE_IN_TEXT = re.compile(r"(?:\\\\|//)[^\s'\"`\]\);,]+")
# A workbook or sheet published as a web page: Excel writes the page to destinationFile again
# whenever the workbook is saved, when autoRepublish is on
_PUBLISH = _names(_SHEET_NS[:2], "webPublishObject", "webPublishItem")
# What asks Excel to refresh data when the workbook opens besides a connection's own setting:
# every connection (workbookPr), a pivot table's cache, a query table
_REFRESHES = {
    **dict.fromkeys(_names(_SHEET_NS[:2], "workbookPr"), "refreshAllConnections"),
    **dict.fromkeys(_names(_SHEET_NS[:2], "pivotCacheDefinition", "queryTable"), "refreshOnLoad"),
}
# An Office add-in (a task pane shown when the document opens) and the catalog it is loaded from
_ADD_IN = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11 reference"
MACRO_SHEET_ROOTS = _names(_SHEET_NS, "macrosheet")
# Drawings that name a picture or link by its address rather than by a relationship: legacy VML
# (v:imagedata, v:fill, v:stroke: src, o:href, o:althref; a shape's click href) and SVG pictures
# (image, a, use: href, xlink:href). Their attributes are read for a network share.
_VML_NS = "urn:schemas-microsoft-com:vml"
_SVG_NS = "http://www.w3.org/2000/svg"
_DRAWING_KINDS = {_VML_NS: "vml", _SVG_NS: "svg"}
# local names, any namespace; XHTML's in an SVG's foreignObject too (an object's data, a video's
# poster, a table's background; srcset lists several)
_ADDRESS_ATTRIBUTES = frozenset({"src", "href", "althref", "base", "data", "poster", "background"})
_ANIMATIONS = frozenset({f"{_SVG_NS} {local}" for local in ("set", "animate")})
_ANIMATED_VALUES = ("to", "from", "by", "values")  # what an animation sets an attribute to
_SVG_ROOT = f"{_SVG_NS} svg"
_SVG_STYLE = f"{_SVG_NS} style"
# docProps/app.xml: the base Office resolves relative hyperlinks against
_EXTENDED_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
    "http://purl.oclc.org/ooxml/officeDocument/extendedProperties",
)
HYPERLINK_BASE = _names(_EXTENDED_NS, "HyperlinkBase")
_CUSTOM_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "http://purl.oclc.org/ooxml/officeDocument/customProperties",
)
CUSTOM_PROPERTY = _names(_CUSTOM_NS, "property")

# Fast path: a DDE formula needs a "|" in its decoded text, which needs the byte or a character
# reference; the other elements need their local name spelled out.
# Formulas are read when a part may hold a DDE pipe, a reference to another workbook (its "!"),
# a HYPERLINK to a share, or any of them spelt as character references (a CDATA section or a
# comment that splits one has a "!" too). A UTF-16 part is always read.
_FORMULA_NEEDLES = (b"|", b"&#", b"!", b"\\\\")
# Calls: HYPERLINK (to a share), WEBSERVICE, IMAGE and RTD (which fetch by themselves). Each is
# searched for on its own, in a lowercased copy: the expression engine skips to a literal
# quickly but tries every position for an alternation or without case (4 ms each on a 5 MB
# sheet, against 230 ms for one pattern of the three)
_CALLS = (
    *(re.compile(rb"%s\s*\(" % name) for name in (b"hyperlink", b"webservice", b"image", b"rtd")),
    # passed by name to another function, as Excel stores it: MAP(A1:A3,_xlfn.WEBSERVICE)
    re.compile(rb"_xlfn\.(?:webservice|image)\b"),
)
# An address attribute (src=, o:href=, xlink:href=): attribute names cannot be escaped
_ADDRESSES = (re.compile(rb"href\s*="), re.compile(rb"src\s*="))
# (a connection matters only with a source or a refresh on open: "connection" alone is a
# word that plain text holds, and would have a big part parsed to its end for nothing)
_ELEMENT_NEEDLES = ("hlinkClick", "hlinkHover", "hlinkMouseOver", ":cmd", "<cmd", "ddeLink",
                    "query", "udl",
                    "oleLink", "webPr", "dbPr", "textPr", "odcFile", "sourceFile", "refreshOnLoad",
                    "connectString", "dataFeedPr", "storeType", "autoRepublish",
                    "refreshAllConnections")  # fmt: skip
_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf-16le", "utf-16be"}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_NOT_BLANK = re.compile(rb"[^ \t\r\n]")

# What a formula quotes is not DDE: "string literals", 'quoted sheet names' and [bracketed]
# table or workbook references (innermost brackets; the outer ones are left with no "|" inside).
_QUOTED = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'|\[[^\[\]]*\]")


class XmlRejected(Exception):
    """A part Office would not read as this module does: ``kind`` is AMBIGUOUS or DAMAGED."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class Action:
    """A DrawingML hyperlink on a shape or text: ``event`` is ``click`` or ``hover``; or an
    animation's OLE verb (``show``: ``ppaction://ole``, no relationship)."""

    event: str
    action: str
    rel_id: str


@dataclass(frozen=True)
class Source:
    """Where an Excel data connection reads from: ``kind`` is ``web``, ``file`` or
    ``database`` (``merge`` for a Word mail merge's database); ``target`` the URL, path or
    data source ("" when none is named); ``on_open``: Excel refreshes it when the workbook
    opens."""

    kind: str
    target: str
    on_open: bool


@dataclass
class PartXml:
    """What one XML part says (see the module docstring)."""

    root: str = ""  # "namespace-uri local-name"
    dde_formula: bool = False
    remote_formula: bool = False  # a formula that opens a workbook or a link elsewhere
    fetching_formula: bool = False  # one that fetches by itself (WEBSERVICE, IMAGE, RTD)
    shared_drawings: set[str] = field(default_factory=set)  # "vml", "svg": naming a share
    links: set[str] = field(default_factory=set)  # "ddeLink", "oleLink"
    actions: list[Action] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    add_in_stores: list[str] = field(default_factory=list)  # catalogs of add-ins it shows
    republished_to: list[str] = field(default_factory=list)  # where saving writes a web page
    refreshes: bool = False  # asks Excel to refresh data as the workbook opens (not a connection)

    @property
    def root_namespace(self) -> str:
        return self.root.rpartition(" ")[0]


def _true(value: str) -> bool:
    """An XML Schema boolean as a schema-validating reader takes it, blanks collapsed (and in
    any case: a lenient reader's "TRUE" counts too)."""
    return value.strip(" \t\r\n").lower() in ("1", "true")


def is_dde_formula(formula: str) -> bool:
    """Whether a stored formula (``cmd|'/c calc'!A1``, no ``=``) calls another program through
    DDE: a ``|`` outside string literals, quoted names and brackets, where Excel's formula
    grammar gives it no other meaning. An unterminated quote leaves its ``|`` counted."""
    text = formula[:MAX_FORMULA]
    return "|" in text and "|" in _QUOTED.sub(" ", text)


def looks_like_xml(head: bytes) -> bool | None:
    """Whether a part's first bytes start an XML document (UTF-8 or UTF-16); None when they
    are only blanks (XML may start with any number of them: look at more of the part)."""
    if head[:2] in (b"<\x00", b"\x00<"):
        return True
    if head[:2] in _UTF16_BOMS:  # the first character after the mark decides, as for UTF-8
        # (Power Pivot's data model, xl/model/item.data, is binary that starts with one)
        codec = "utf-16-le" if head[0] == 0xFF else "utf-16-be"
        text = head[2 : len(head) & ~1].decode(codec, "replace")
        first_char = text.lstrip(" \t\r\n")[:1]
        return None if not first_char else first_char == "<"
    first = _NOT_BLANK.search(head, 3 if head.startswith(b"\xef\xbb\xbf") else 0)
    return None if first is None else head[first.start()] == ord("<")


def _contains(data: bytes, needles: tuple[str, ...]) -> bool:
    utf16 = data[:2] in _UTF16_BOMS or b"\x00" in data[:4]
    codecs = ("utf-16-le", "utf-16-be") if utf16 else ("ascii",)
    return any(needle.encode(codec) in data for needle in needles for codec in codecs)


def _refuse_dtd(*_: object) -> NoReturn:
    raise XmlRejected(AMBIGUOUS, "a DTD (document type declaration), which Office refuses")


def _check_encoding(_version: str | None, encoding: str | None, _standalone: int) -> None:
    if encoding is not None and encoding.lower() not in _ENCODINGS:
        raise XmlRejected(AMBIGUOUS, "an XML encoding other than UTF-8 or UTF-16")


def _parser(picture: bool = False) -> expat.XMLParserType:
    """An expat parser for a part; for an SVG ``picture``, one that takes the DTD an SVG tool
    writes (`_picture_doctype`)."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _picture_doctype if picture else _refuse_dtd
    parser.XmlDeclHandler = _check_encoding
    if picture:
        parser.EntityDeclHandler = _internal_entity
        parser.SkippedEntityHandler = _undeclared_entity
        parser.AttlistDeclHandler = _attribute_defaults
    return parser


# SVG pictures are not Office's XML but a picture's: Illustrator writes a DOCTYPE that names
# the SVG 1.1 DTD by its URL and declares its namespaces as entities (<!ENTITY ns_svg "...">).
# Such a DTD is read here as every reader reads it: entities declared with their text, expanded
# by expat (which bounds their amplification); the external DTD is read by no one. What readers
# could take differently stays ambiguous: an entity whose text is in another file, a parameter
# entity, an entity the file uses but does not declare, attribute defaults, a DTD named by
# another address. Every element of a picture is looked at (an entity may hold markup), and a
# part that turns out not to be an SVG document is read as an Office part, DTD refused.


def _picture_doctype(_name: str, system_id: str | None, *_: object) -> None:
    if system_id is not None and not _W3C.match(system_id):
        raise XmlRejected(AMBIGUOUS, "a DTD other than the W3C's, which readers may fetch or not")


_W3C = re.compile(r"https?://www\.w3\.org/", re.IGNORECASE)  # the SVG DTDs' home


def _internal_entity(name: str, parameter: int, value: str | None, *rest: object) -> None:
    if parameter or value is None:
        raise XmlRejected(AMBIGUOUS, f"an external or parameter entity ({name[:40]})")


def _undeclared_entity(name: str, _parameter: int) -> NoReturn:
    raise XmlRejected(AMBIGUOUS, f"an entity it does not declare ({name[:40]})")


def _attribute_defaults(element: str, *_: object) -> NoReturn:
    # attributes a DTD adds to elements (an address, a namespace): readers apply them or not
    raise XmlRejected(AMBIGUOUS, f"attribute defaults declared in its DTD ({element[:40]})")


def _parse(parser: expat.XMLParserType, data: bytes) -> None:
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XmlRejected(DAMAGED, f"XML that does not parse (line {exc.lineno})") from None


def elements(data: bytes, root: str, wanted: frozenset[str]) -> list[tuple[str, dict[str, str]]]:
    """The name and attributes of every ``wanted`` element (``"uri local"``) in a small
    structural part whose root element must be ``root``; DAMAGED when the root differs or the
    part holds more than `MAX_ELEMENTS` elements."""
    found: list[tuple[str, dict[str, str]]] = []
    roots: list[str] = []
    count = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise XmlRejected(DAMAGED, f"more than {MAX_ELEMENTS:,} elements")
        if not roots:
            roots.append(name)
        if name in wanted:
            found.append((name, attrs))

    parser = _parser()
    parser.StartElementHandler = start
    _parse(parser, data)
    if roots != [root]:
        raise XmlRejected(DAMAGED, "an unexpected root element")
    return found


_Handler = Callable[[str, dict[str, str]], None]


class _Reader:
    """Collects a `PartXml`, asking expat only for the callbacks the part needs: after the root
    element, element callbacks stay on only if the byte search found something to examine, and
    character data is taken only inside a formula."""

    def __init__(
        self,
        parser: expat.XMLParserType,
        formulas: bool,
        elements: bool,
        skim: bool,
        picture: bool = False,
    ) -> None:
        self.info = PartXml()
        self._parser = parser
        self._picture = picture  # an SVG picture: every element's addresses are looked at
        self._formulas = formulas
        self._elements = elements
        self._depth = 0  # inside a formula element: its nesting depth
        self._text: list[str] = []
        self._size = 0
        self._skim = skim  # a big part: stop at the root when nothing needs a look
        self._on_open = False  # the current connection refreshes when the workbook opens
        self._style = _Style(depth=0)  # inside an SVG picture's style element when true
        # what an element of each examined name says, by its name
        self._handlers: dict[str, _Handler] = {
            **dict.fromkeys(_ACTIONS, self._action),
            **dict.fromkeys(_ANIMATION_COMMANDS, self._command),
            **dict.fromkeys(_FORMULA_ATTRIBUTES, self._formula_attributes),
            **dict.fromkeys(_LINKS, self._link),
            **dict.fromkeys(_CONNECTION, self._source_of),
            **dict.fromkeys(_SOURCES, self._source),
            **dict.fromkeys(_CONNECT_STRING, self._connect_string),
            **dict.fromkeys(_MERGE_QUERY, self._merge_query),
            _ADD_IN: self._add_in,
            **dict.fromkeys(_PUBLISH, self._publish),
            **dict.fromkeys(_REFRESHES, self._refresh),
        }

    def root(self, name: str, attrs: dict[str, str]) -> None:
        self.info.root = name
        self._formulas = self._formulas and (
            self.info.root_namespace in _FORMULA_ROOT_NS and name not in _NO_FORMULA_ROOTS
        )
        if self._formulas or self._elements:
            self._parser.StartElementHandler = self.start
            self.start(name, attrs)
        elif self._skim:
            # nothing in a big part to examine (the byte search found no formula pipe, action
            # or link): stop here rather than parse a 3.8 MB sheet to its end (70 ms of expat);
            # a DTD would have come before the root and been refused already. Small parts are
            # still parsed to the end, so damage in them is reported.
            raise _Enough
        else:
            self._parser.StartElementHandler = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self._style:
            self._style.depth += 1
        if self._depth:
            self._depth += 1
        elif name in _FORMULAS and self._formulas:
            self._depth, self._text, self._size = 1, [], 0
            self._parser.CharacterDataHandler = self.text
            self._parser.EndElementHandler = self.end
        elif (handler := self._handlers.get(name)) is not None:
            handler(name, attrs)
        elif not self._style and self._a_style_sheet(name):
            self._drawing("svg", attrs)
            self._style = _Style()  # SVG's, or XHTML's in a foreignObject: a style sheet
            self._parser.CharacterDataHandler = self._style.text
            self._parser.EndElementHandler = self._style_end
        elif (kind := _DRAWING_KINDS.get(name.rpartition(" ")[0])) is not None:
            self._drawing(kind, attrs)
            if name in _ANIMATIONS:
                self._animation(attrs)
        elif self._picture:  # XHTML in a foreignObject, an element of another vocabulary
            self._drawing("svg", attrs)
        elif attrs and any(_names_an_address_on_a_share(k, v) for k, v in attrs.items()):
            # a drawing under another namespace (VML's "v" prefix bound elsewhere, which a
            # reader that goes by prefixes takes for VML): its address attributes alone
            self.info.shared_drawings.add("element")

    def _action(self, name: str, attrs: dict[str, str]) -> None:
        rel_id = next((v for k, v in attrs.items() if k in _R_ID), "")
        self.info.actions.append(Action(_ACTIONS[name], attrs.get("action", ""), rel_id))

    def _formula_attributes(self, name: str, attrs: dict[str, str]) -> None:
        if self._formulas:
            for key in _FORMULA_ATTRIBUTES[name]:
                if key in attrs:
                    self._weigh(attrs[key][:MAX_FORMULA])

    def _command(self, _name: str, attrs: dict[str, str]) -> None:
        if attrs.get("type", "").strip().lower() == "verb":
            self.info.actions.append(Action("show", "ppaction://ole", ""))

    def _link(self, name: str, _attrs: dict[str, str]) -> None:
        self.info.links.add(_LINKS[name])

    def _connect_string(self, _name: str, attrs: dict[str, str]) -> None:
        value = next((v for k, v in attrs.items() if k.rpartition(" ")[2] == "val"), "")
        if target := _database(value):  # a Word mail merge's: its query runs as it opens
            self.info.sources.append(Source("merge", target, False))

    def _merge_query(self, _name: str, attrs: dict[str, str]) -> None:
        value = next((v for k, v in attrs.items() if k.rpartition(" ")[2] == "val"), "")
        for place in _SHARE_IN_TEXT.findall(value):
            if on_a_share(place):  # a table read from another machine (red team 103)
                self.info.sources.append(Source("merge", place, False))

    def _add_in(self, _name: str, attrs: dict[str, str]) -> None:
        self.info.add_in_stores.append(attrs.get("store", "").strip())

    def _refresh(self, name: str, attrs: dict[str, str]) -> None:
        if _true(attrs.get(_REFRESHES[name], "")):
            self.info.refreshes = True

    def _publish(self, _name: str, attrs: dict[str, str]) -> None:
        if _true(attrs.get("autoRepublish", "")):
            self.info.republished_to.append(attrs.get("destinationFile", "").strip())

    def _drawing(self, kind: str, attrs: dict[str, str]) -> None:
        """A VML or SVG element that names a picture or link on a network share by its
        address (``src``, ``o:href``, ``xlink:href``...)."""
        if any(_names_a_share(key, value) for key, value in attrs.items()):
            self.info.shared_drawings.add(kind)

    def _animation(self, attrs: dict[str, str]) -> None:
        """An SVG animation that sets an element's address (``<set attributeName="href"
        to="...">``): the values it sets, read as the address attribute they become."""
        if attrs.get("attributeName", "").rpartition(":")[2].strip() in _ADDRESS_ATTRIBUTES:
            values = [v for key in _ANIMATED_VALUES for v in attrs.get(key, "").split(";")]
            if any(on_a_share(value) for value in values):
                self.info.shared_drawings.add("svg")

    def _a_style_sheet(self, name: str) -> bool:
        """SVG's style element; in a picture, XHTML's too (in a foreignObject)."""
        return name == _SVG_STYLE or (self._picture and name.endswith(" style"))

    def _style_end(self, _name: str) -> None:
        style = self._style
        style.depth -= 1
        if style.depth:
            return
        self._style = _Style(depth=0)
        self._parser.CharacterDataHandler = None
        self._parser.EndElementHandler = None
        # (url(#gradient): a reference inside the picture, thousands of them in a chart)
        if any(on_a_share(t) for t in style.targets() if not t.startswith("#")):
            self.info.shared_drawings.add("svg")

    def instruction(self, target: str, data: str) -> None:
        """An SVG picture's style sheet (``<?xml-stylesheet href="..."?>``): its pseudo
        attributes are not XML attributes, so they are read here."""
        if target == "xml-stylesheet" and any(
            on_a_share(html.unescape(m.group(2))) for m in _PSEUDO_HREF.finditer(data)
        ):
            self.info.shared_drawings.add("svg")

    def _source_of(self, _name: str, attrs: dict[str, str]) -> None:
        """A connection element: an ODC or source file it reads, and its refresh setting (kept
        for the source element that follows)."""
        # refreshed as the workbook opens, or every few minutes from then on by itself
        interval = attrs.get("interval", "").strip()
        self._on_open = _true(attrs.get("refreshOnLoad", "")) or interval not in ("", "0")
        for attr in ("odcFile", "sourceFile"):
            if target := attrs.get(attr, "").strip():
                self.info.sources.append(Source("file", target, self._on_open))

    def _source(self, name: str, attrs: dict[str, str]) -> None:
        kind, attr = _SOURCES[name]
        target = attrs.get(attr, "").strip()
        if kind == "database":
            target = _database(target)
        self.info.sources.append(Source(kind, target, self._on_open))

    def text(self, data: str) -> None:
        if self._size < MAX_FORMULA:
            self._text.append(data)
            self._size += len(data)

    def end(self, _name: str) -> None:
        self._depth -= 1
        if self._depth:
            return
        self._parser.CharacterDataHandler = None
        self._parser.EndElementHandler = None
        self._weigh("".join(self._text))

    def _weigh(self, formula: str) -> None:
        info = self.info
        weigh_formula(info, formula)
        if info.dde_formula and info.remote_formula and info.fetching_formula:
            self._formulas = False  # one of each is enough to report the part
            if not self._elements:
                self._parser.StartElementHandler = None


# a pseudo attribute: across lines, its character references decoded as XML attributes' are
_PSEUDO_HREF = re.compile(r"\bhref\s*=\s*(['\"])(.*?)\1", re.DOTALL)


@dataclass
class _Style:
    """A style element's text as it comes: its own (the sheet a browser reads: the element's
    text children) and all of it (an element inside counted as text, as a lenient reader
    may); true while the element is open."""

    depth: int = 1
    own: list[str] = field(default_factory=list)
    every: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.depth > 0

    def text(self, data: str) -> None:
        self.every.append(data)
        if self.depth == 1:
            self.own.append(data)

    def targets(self) -> list[str]:
        """The addresses the sheet loads, read both ways."""
        sheets = dict.fromkeys(("".join(self.own), "".join(self.every)))
        return [target for sheet in sheets for target in css.style_sheet_targets(sheet)]


def _names_an_address_on_a_share(key: str, value: str) -> bool:
    """Whether an address attribute (``src``, ``o:href``, ``xlink:href``, ``xml:base``, XHTML's
    ``data``, ``poster``, ``background``, each candidate of a ``srcset``) names a share."""
    local = key.rpartition(" ")[2]
    if local == "srcset":
        return any(on_a_share(each.split()[0]) for each in value.split(",") if each.split())
    return local in _ADDRESS_ATTRIBUTES and on_a_share(value)


def _names_a_share(key: str, value: str) -> bool:
    """Whether an attribute of a drawing names a share: an address attribute (``src``,
    ``o:href``, ``xlink:href``, ``xml:base``...) or a ``url(...)`` in any (a style, a fill),
    read as CSS (escapes decoded, comments dropped)."""
    if _names_an_address_on_a_share(key, value):
        return True
    return css.may_load(value) and any(
        on_a_share(target) for target in css.style_attribute_targets(value)
    )


def _database(connection: str) -> str:
    """Where a connection string's data is: the first of its places that is on another machine
    (``DBQ=;DefaultDir=\\\\host\\share``), else the first one named. A string that names no
    place we know (a DSN, a driver's own key for its server) is itself the target: where it
    leads is unknown, so it is not taken as inside the file; "" only for an empty string."""
    places = connection_places(connection)
    remote = [place for place in places if target_kind(place) == "remote"]
    return (remote or places or [connection.strip()])[0]


_SKIM_FROM = 256 * 1024  # parts at least this big are read only as far as they need


class _Enough(Exception):
    """Raised by `_Reader` once the root element shows the rest of the part needs no look."""


def _formulas_to_read(data: bytes) -> bool:
    """Whether a part's formulas need a look (`_FORMULA_NEEDLES`)."""
    if data[:2] in _UTF16_BOMS or b"\x00" in data[:4]:
        return True
    if any(n in data for n in _FORMULA_NEEDLES):
        return True
    lowered = data.lower()
    return b"_xleta." in lowered or any(call.search(lowered) for call in _CALLS)


def _elements_to_read(data: bytes) -> bool:
    """Whether a part's elements need a look: one of `_ELEMENT_NEEDLES`, an address
    attribute a drawing may hold, or SVG (a UTF-16 part is always read)."""
    if data[:2] in _UTF16_BOMS or b"\x00" in data[:4]:
        return True
    return (
        _contains(data, _ELEMENT_NEEDLES)
        or any(a.search(data) for a in _ADDRESSES)
        or _SVG_NS.encode() in data  # SVG's style sheets and style attributes
    )


def weigh_formula(info: PartXml, formula: str) -> None:
    """Record in ``info`` whether a formula starts a program through DDE, opens a workbook or
    a link elsewhere, or fetches by itself."""
    info.dde_formula = info.dde_formula or is_dde_formula(formula)
    info.remote_formula = info.remote_formula or (
        other_workbook(formula) == "a network path" or harmful_hyperlink(formula)
    )
    info.fetching_formula = info.fetching_formula or fetches(formula)


_LENIENT_FORMULAS = frozenset(name.lower() for name in _VML_FORMULAS)


class _LenientVml(HTMLParser):
    """The attributes of a VML drawing's elements read as Office reads VML, leniently (an
    unclosed ``<br>``, as Excel writes its comment boxes): `html.parser`, which closes nothing
    and takes every tag as it comes, with character references decoded in attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.info = PartXml(root=f"{_VML_NS} (read leniently)")
        self._formula: list[str] | None = None  # the text of a form control's formula

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if any(_names_a_share(key.rpartition(":")[2], value or "") for key, value in attrs):
            self.info.shared_drawings.add("vml")
        if tag.rpartition(":")[2] in _LENIENT_FORMULAS:
            self._formula = []  # a form control's formula (x:FmlaLink...)

    def handle_data(self, data: str) -> None:
        if self._formula is not None and sum(map(len, self._formula)) < MAX_FORMULA:
            self._formula.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._formula is not None and tag.rpartition(":")[2] in _LENIENT_FORMULAS:
            weigh_formula(self.info, "".join(self._formula)[:MAX_FORMULA])
            self._formula = None


_LENIENT_MOST = 16 * 1024 * 1024  # bytes of VML read leniently (Excel's are kilobytes)


def lenient_vml(data: bytes) -> PartXml | None:
    """What a VML drawing that is not well-formed XML says: whether an element names a share
    by its address (`_LenientVml`). Its text is decoded as UTF-8 (VML parts are). None when
    it cannot be read even so: past `_LENIENT_MOST`, or markup `html.parser` gives up on."""
    if len(data) > _LENIENT_MOST:
        return None
    reader = _LenientVml()
    try:
        reader.feed(data.decode("utf-8", "replace"))
        reader.close()
    except AssertionError:  # html.parser's refusal ("unknown status keyword" in <![...[)
        return None
    return reader.info


def element_texts(data: bytes, wanted: frozenset[str], named: str | None = None) -> list[str]:
    """The text of every ``wanted`` element (``"uri local"``) of a small part, up to
    `MAX_FORMULA` characters each, only those whose ``name`` attribute is ``named`` (regardless
    of case, as Office compares property names) when one is given; raises `XmlRejected` as
    `read_part` does."""
    found: list[str] = []
    inside: list[list[str]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if inside or (
            name in wanted
            and (named is None or attrs.get("name", "").casefold() == named.casefold())
        ):
            inside.append([] if not inside else inside[-1])

    def end(_name: str) -> None:
        if inside:
            text = inside.pop()
            if not inside:
                found.append("".join(text)[:MAX_FORMULA])

    def data_(text: str) -> None:
        if inside:
            inside[-1].append(text)

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data_
    _parse(parser, data)
    return found


def relationship_users(data: bytes, ids: frozenset[str]) -> dict[str, set[str]]:
    """The local names of the elements that name each of ``ids`` in a relationship attribute
    (``r:id``, ``r:link``, ``r:embed``...) of one part; raises `XmlRejected` as `read_part`
    does."""
    users: dict[str, set[str]] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        for key, value in attrs.items():
            if value in ids and key.rpartition(" ")[0] in _RELATIONSHIP_ATTRIBUTE_NS:
                users.setdefault(value, set()).add(name.rpartition(" ")[2])

    parser = _parser()
    parser.StartElementHandler = start
    _parse(parser, data)
    return users


def read_part(data: bytes, picture: bool = False) -> PartXml:
    """What one XML part says; raises `XmlRejected` for an ambiguous or damaged part. A part
    with nothing to examine past its root element is read only that far. An SVG ``picture``
    may have the DTD an SVG tool writes (`_parser`)."""
    parser = _parser(picture)
    formulas = _formulas_to_read(data)
    elements = picture or _elements_to_read(data)
    reader = _Reader(parser, formulas, elements, skim=len(data) > _SKIM_FROM, picture=picture)
    parser.StartElementHandler = reader.root
    if picture:
        parser.ProcessingInstructionHandler = reader.instruction
    with contextlib.suppress(_Enough):
        _parse(parser, data)
    if not reader.info.root:
        raise XmlRejected(DAMAGED, "XML without a root element")
    if picture and reader.info.root != _SVG_ROOT:
        return read_part(data)  # not a picture after all: read as Office reads its parts
    if not picture and reader.info.root == _SVG_ROOT:
        return read_part(data, picture=True)  # an SVG picture typed as something else
    return reader.info
