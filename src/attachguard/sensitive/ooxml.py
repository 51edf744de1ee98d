"""The text of an Office Open XML document (DOCX, XLSX, PPTX and their macro-enabled kinds).

Read as Office reads it: the package's relationships lead to every part it shows (`formats.opc`:
the document, headers and footers, footnotes, comments, slides, notes, charts, diagrams,
shared strings, worksheets, document properties...), and each XML part is parsed with expat
(namespaces, character references and CDATA decoded). Text boxes, tables and shapes are inside
those parts. Text runs are joined as the application shows them (Word splits "4111 1111" over
several runs at will); a new paragraph, table cell, tab, line break, sheet cell or value, the
parts of an equation's structures, or any element of a vocabulary this reader does not know,
starts a new line, so that two neighbouring cells never read as one number. An inline equation
(``m:oMath``) reads with its paragraph; of an ``mc:AlternateContent``, the branch Office shows
(the first ``mc:Choice`` whose vocabularies it knows, else the ``mc:Fallback``) reads inline,
the others on lines of their own. Numeric cells are read as Excel shows them: a 15-digit
number stored as ``3.78282246310005E+14`` is read as its digits, and a cell with a number
format of the workbook's through it (`numfmt`: ``"Card 4111 1111 1111 "0000`` shows 1111 as a
card number), and through its conditional formats' formats; a chart's values through its data
labels' and axes' formats (`applied`). A defined name's formula that joins text constants is
read with what it shows (a cell that names it shows that).

Read as shown, too: a field's result stays in its paragraph (its instruction is read on a line
of its own), as does the text around hidden text (``w:vanish`` in a run's current properties,
or set by its character or paragraph style, `wordstyles`, read on a line of its own, so that a
hidden digit cannot split a number; properties inside a tracked formatting change,
``w:rPrChange``, are history and hide nothing); tracked changes are read as Word shows them
accepted (``w:del``, ``w:moveFrom`` left out), then rejected (``w:ins``, ``w:moveTo`` left out),
so that a deleted digit cannot split the number Word shows (red team 114), and a paragraph
whose mark Word does not show (deleted, inserted, hidden) joins the next one; a numbered
paragraph starts with its list label (`lists`); the alternative text of pictures and shapes,
the text of WordArt and watermarks (VML's ``v:textpath``, in a header for a watermark),
the names of worksheets, data validation messages, hyperlink tooltips and the authors of
comments and changes are read; a print header's codes (``&C``, ``&P``...) are dropped; string
cells are read as their shared strings, each cell after its column's header (`tables`: a
column headed "Order ID" holds order numbers); Word's imported pieces (``w:altChunk``: HTML,
RTF, text or a web archive that Word lays out in the document) are read as shown.

The shared strings, styles and numbering that say how other parts show are the ones the main
part's (workbook's, document's) relationships of their type name, as Office takes them, not a
part of their content type reached otherwise (red team 114's decoys); a package that names two
is read with each (`_readings`).

Not read as text: parts nothing reaches (Office never shows them), styles (but a workbook's
number formats and what a document's hide), numbering (but its labels, before their
paragraphs), themes, fonts and settings; binary (.xlsb) sheets; lists a paragraph style
numbers (``w:pStyle``). Work is bounded: a part larger than what is left of
``limits.max_expanded_bytes``, encrypted or with a declared ratio over ``limits.max_ratio`` is
not read (the zip engine reports it); XML that does not parse is noted, not read.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from typing import TYPE_CHECKING, Any
from xml.parsers import expat

from attachguard.engines.text import decode
from attachguard.engines.zip_members import RATIO_FLOOR
from attachguard.formats.ooxml_xml import WORD_NS
from attachguard.formats.opc import READ_ERRORS, Package, Part, part_key, read_package
from attachguard.sensitive import (
    applied,
    computed,
    lists,
    mail,
    markup,
    numfmt,
    pagenumbers,
    rtf,
    tables,
    wordstyles,
)
from attachguard.sensitive.passages import RLM, Extract, Passage

if TYPE_CHECKING:
    from attachguard.policy import Limits

_SHEET_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_DRAWING_NS = (
    "http://schemas.openxmlformats.org/drawingml/2006/main",
    "http://purl.oclc.org/ooxml/drawingml/main",
)
# Per vocabulary: the elements that start a new line. Any other element of these vocabularies
# continues the line (runs, run properties, fields, tracked changes); elements of any other
# namespace start one.
# Field characters do not: a field's result shows inside its paragraph ("4111 1111 {QUOTE}
# 1111"), and its instruction is set aside (`_ASIDE`) so that it never splits the line.
_WORD_BREAKS = ("p", "tab", "ptab", "br", "cr", "tc", "tr", "footnote", "endnote", "comment",
                "txbxContent")  # fmt: skip
_DRAWING_BREAKS = ("p", "br", "tc", "tr")
_HEADERS = ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter")
_SHEET_BREAKS = ("c", "v", "f", "si", "is", "row", "comment", "text", "rPh", "definedName",
                 *_HEADERS)  # fmt: skip
# Office Math: an equation in a paragraph reads inline with it (Word draws it on the line);
# the parts of its structures (a fraction's numerator and denominator, a script, a matrix's
# rows and entries) each start a line, so that the entries of a matrix never join.
_MATH_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/math",
    "http://purl.oclc.org/ooxml/officeDocument/math",
)
_MATH_BREAKS = ("oMathPara", "num", "den", "sub", "sup", "deg", "lim", "e", "fName", "mr")
# Markup compatibility: of an mc:AlternateContent, Office shows the first mc:Choice whose
# Requires names vocabularies it knows, else the mc:Fallback; that branch reads inline, the
# others on lines of their own (still read: another Office version shows them).
_COMPATIBILITY = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_OFFICE_NAMESPACES = (
    "http://schemas.openxmlformats.org/",
    "http://purl.oclc.org/ooxml/",
    "http://schemas.microsoft.com/office/",
    "urn:schemas-microsoft-com:",
)
_KNOWN = frozenset(WORD_NS + _DRAWING_NS + _SHEET_NS + _MATH_NS)
_BREAKS = frozenset(
    f"{ns} {local}"
    for namespaces, locals_ in ((WORD_NS, _WORD_BREAKS), (_DRAWING_NS, _DRAWING_BREAKS),
                                (_SHEET_NS, _SHEET_BREAKS), (_MATH_NS, _MATH_BREAKS))
    for ns in namespaces
    for local in locals_
)  # fmt: skip
# What Word shows for these elements inside a run.
_SHOWN = {f"{ns} noBreakHyphen": "\u2011" for ns in WORD_NS}
_SHEET_VALUES = frozenset(f"{ns} v" for ns in _SHEET_NS)
# Fonts whose letters and digits are pictures (a "4" in Wingdings is a clock face)
_PICTURE_FONTS = ("wingdings", "webdings", "marlett", "mt extra", "zapf dingbats")
_SHEET_HEADERS = frozenset(f"{ns} {local}" for ns in _SHEET_NS for local in _HEADERS)
# A defined name's formula: a cell that names it shows its value (red team 114: a name of
# joined text constants, shown by "=CardNo")
_DEFINED_NAMES = frozenset(f"{ns} definedName" for ns in _SHEET_NS)
# Text read apart from the line it stands in: field instructions (Word shows their result).
_ASIDE = frozenset(f"{ns} {local}" for ns in WORD_NS for local in ("instrText", "delInstrText"))
# Attributes people are shown, keyed by element and attribute local names: a picture's or
# shape's alternative text (read aloud, shown in the Alt Text pane), a worksheet's name (its
# tab), a data validation's input and error messages (shown when the cell is selected or a
# value refused), a hyperlink's tooltip, the authors of comments and tracked changes, and the
# text WordArt and watermarks draw (VML's v:textpath: Design > Watermark writes one in a
# header, shown on every page).
_AUTHOR = ("author",)
_SHOWN_ATTRIBUTES = {
    "docPr": ("descr", "title"), "cNvPr": ("descr", "title"), "sheet": ("name",),
    "dataValidation": ("promptTitle", "prompt", "errorTitle", "error"),
    "hyperlink": ("tooltip", "display"), "hlinkClick": ("tooltip",), "hlinkHover": ("tooltip",),
    "comment": ("author", "initials"), "ins": _AUTHOR, "del": _AUTHOR, "moveFrom": _AUTHOR,
    "moveTo": _AUTHOR, "rPrChange": _AUTHOR, "pPrChange": _AUTHOR,
    "cmAuthor": ("name", "initials"), "author": ("name", "initials"), "textpath": ("string",),
}  # fmt: skip
# A print header's or footer's codes: "&L", "&C", "&R" start a section, the others set a font,
# a size, a colour or insert a field (page number, date...).
_HEADER_SECTION = re.compile(r"&[LCR]")
_HEADER_CODE = re.compile(r'&(?:"[^"]*"|K[0-9A-Fa-f]{6}|\d+|[A-Za-z])')
_PAGE_CODE = re.compile(r"&P(?:([+-])(\d{1,9})(?!\d))?")  # the page number, plus or less n
_SHARED_STRINGS = "spreadsheetml.sharedstrings+xml"  # content types compare lower-cased
_STYLES = "spreadsheetml.styles+xml"
_NUMBERING = "wordprocessingml.numbering+xml"
_SHEET = "spreadsheetml.worksheet+xml"
_CHART = "drawingml.chart+xml"
# Tracked changes: text deleted (0: left out once they are accepted) or inserted (1: left out
# once they are rejected); w:delText is deleted wherever it stands.
_REVISIONS = {"del": 0, "moveFrom": 0, "delText": 0, "ins": 1, "moveTo": 1}
_PARAGRAPHS = frozenset(f"{ns} p" for ns in WORD_NS)
_HIDING = frozenset(("p", "r", "pStyle", "rStyle", "vanish"))  # what decides hidden text
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")

# Parts whose content type says they hold no text a reader sees.
_SKIPPED = re.compile(
    r"\.(?:styles|theme|fonttable|settings|websettings|numbering|calcchain|stylesWithEffects|"
    r"fonttable|thememanager|tablestyles|presprops|viewprops)\+xml$",
    re.IGNORECASE,
)


def read(data: bytes, limits: Limits) -> Extract:
    """The text of every part of the package that holds some (see the module docstring)."""
    extract = Extract()
    try:
        package = read_package(data)
    except READ_ERRORS:
        extract.unread.append("the package could not be read")
        return extract
    budget = _Budget(limits.max_expanded_bytes)
    first, *others = readings = _readings(package, limits, budget)
    used = {part_key(name) for reading in readings for name in reading.names}
    parts = [p for p in _text_parts(package) if part_key(p.name) not in used]
    main = package.main  # page numbers read from it only within the limits its text keeps
    within = main is not None and _within(package, main, limits, budget)
    pages = pagenumbers.numbers(package) if within else {}
    _read_parts(package, parts, first, limits, budget, extract, pages)
    for reading in others:  # a package a reader can read otherwise: every reading is scanned
        again = [p for p in parts if _shown_otherwise(p, reading, first)]
        _read_parts(package, again, reading, limits, budget, extract, pages)
    _chunks(package, limits, budget, extract)
    return extract


def _read_parts(
    package: Package,
    parts: list[Part],
    reading: _Reading,
    limits: Limits,
    budget: _Budget,
    extract: Extract,
    pages: dict[str, int],
) -> None:
    """Each part's text, as ``reading`` shows it (a passage a part); ``pages``: the numbers
    page and slide number fields show, by part (`pagenumbers`)."""
    suffix = f" (with {', '.join(reading.names)})" if reading.alternative else ""
    sheets: dict[str, computed.SheetFormulas] = {}  # the cells formulas read
    for part in parts:
        if not _within(package, part, limits, budget):
            extract.unread.append(f"{part.name} (over a limit)")
            continue
        if part.content_type.endswith(_SHEET):
            sheets[part.name] = computed.SheetFormulas()
        text = _part_text(package, part, reading, sheets.get(part.name), pages.get(part.name))
        if text is None:
            extract.unread.append(f"{part.name} (damaged)")
        elif text.strip():
            extract.passages.append(Passage(text, part.name + suffix))
    texts, left = computed.computed_text(package, sheets)
    for name, text in texts.items():
        extract.passages.append(Passage(text, f"{name} (formulas computed){suffix}"))
    if left:
        extract.limited.append(f"{left:,} formula(s) not computed (step or formula limit)")


def _chunks(package: Package, limits: Limits, budget: _Budget, extract: Extract) -> None:
    """Word's imported pieces (``w:altChunk``): an HTML, RTF, text or web archive part that
    Word lays out in the document as if it were the document's own text."""
    for part in package.parts.values():
        reader = _CHUNK_READERS.get(part.content_type.lower().partition(";")[0].strip())
        if reader is None:
            continue
        if not _within(package, part, limits, budget):
            extract.unread.append(f"{part.name} (over a limit)")
            continue
        try:
            text = reader(package.read(part.name))
        except READ_ERRORS:
            extract.unread.append(f"{part.name} (damaged)")
            continue
        if text.strip():
            extract.passages.append(Passage(text, part.name))


def _rtf_text(data: bytes) -> str:
    return "\n".join(passage.text for passage in rtf.read(data).passages)


def _archive_text(data: bytes) -> str:
    """A web archive's (MHT) pages as shown: Word imports it by its content type, whatever
    its bytes look like (`mail`: transfer encodings undone)."""
    return "\n".join(passage.text for passage in mail.read(data).passages)


_CHUNK_READERS: dict[str, Callable[[bytes], str]] = {
    "text/html": lambda data: markup.shown_text(decode(data)),
    "text/plain": decode,
    "application/rtf": _rtf_text,
    "text/rtf": _rtf_text,
    **dict.fromkeys(("message/rfc822", "multipart/related", "application/x-mimearchive"),
                    _archive_text),
}  # fmt: skip


@dataclass(frozen=True)
class _Reading:
    """One way to show the package's parts: the parts that say how others show, as a reader
    takes them (`_SUPPORTS`), and their names."""

    shared: list[str] | None = None
    formats: numfmt.Styles | None = None
    numbering: lists.Numbering | None = None
    styles: wordstyles.Styles | None = None
    names: tuple[str, ...] = ()
    alternative: bool = False  # not the first reading: its passages name its parts


# The parts that say how others show, by the relationship type the main part (workbook,
# document) names each with, the end of its content type, its reader and its `_Reading` field:
# the workbook's shared strings, so that each string cell reads as its text under its column's
# header (`tables`), its number formats (`numfmt`); a document's lists (`lists`), its styles
# (`wordstyles`: text a style hides).
_SUPPORTS: tuple[tuple[str, str, Callable[[bytes], object | None], str], ...] = (
    ("sharedstrings", _SHARED_STRINGS, tables.shared_strings, "shared"),
    ("styles", _STYLES, numfmt.number_formats, "formats"),
    ("numbering", _NUMBERING, lists.word_numbering, "numbering"),
    ("styles", "wordprocessingml.styles+xml", wordstyles.word_styles, "styles"),
)
_MOST_READINGS = 8  # past it, each part is still read, in fewer readings (`_readings`)


def _readings(package: Package, limits: Limits, budget: _Budget) -> list[_Reading]:
    """Every way a reader can show the package (red team 114): Office takes each supporting
    part that the main part's relationship of its type names, not the first part of its
    content type (a decoy reached otherwise is not it). A package that names two of a kind is
    read with each; past `_MOST_READINGS` combinations, with the first of each kind, then the
    second... A part that cannot be read supports nothing (shared strings are then read as
    text like any part)."""
    options = [_supporting(package, limits, budget, kind) for kind in _SUPPORTS]
    combinations = list(itertools.islice(itertools.product(*options), _MOST_READINGS + 1))
    if len(combinations) > _MOST_READINGS:
        most = max(map(len, options))
        combinations = [tuple(o[min(n, len(o) - 1)] for o in options) for n in range(most)]
    readings = []
    for number, combination in enumerate(combinations):
        pairs = zip(_SUPPORTS, combination, strict=True)
        fields: dict[str, Any] = {kind[3]: value for kind, (_, value) in pairs}
        names = tuple(name for name, _ in combination if name)
        reading = _Reading(names=names, alternative=number > 0)
        readings.append(dataclasses.replace(reading, **fields))
    return readings


def _supporting(
    package: Package,
    limits: Limits,
    budget: _Budget,
    kind: tuple[str, str, Callable[[bytes], object | None], str],
) -> list[tuple[str, object | None]]:
    """The parts of one kind (`_SUPPORTS`) a reader can take, each as its reader reads it;
    [("", None)] when none can be read."""
    found: list[tuple[str, object | None]] = []
    for part in _candidates(package, kind[0], kind[1]):
        if not _within(package, part, limits, budget):
            continue
        try:
            value = kind[2](package.read(part.name))
        except READ_ERRORS:
            continue
        if value is not None:
            found.append((part.name, value))
    return found or [("", None)]


def _candidates(package: Package, relationship: str, content_type: str) -> list[Part]:
    """The parts of a kind the main part's relationships of ``relationship`` type name (a
    package with two main parts: either's); when none does, every part of the kind that
    anything reaches (a reader could take any)."""
    mains = {r.part for r in package.relationships
             if not r.source and r.short_type == "officeDocument" and r.part}  # fmt: skip
    named = [package.part(r.part) for r in package.relationships
             if r.source in mains and r.part and r.short_type.lower() == relationship]  # fmt: skip
    of_kind = [p for p in named if p is not None and p.content_type.lower().endswith(content_type)]
    if not of_kind:
        of_kind = [p for p in package.parts.values() if p.content_type.endswith(content_type)]
    return list(dict.fromkeys(of_kind))


def _shown_otherwise(part: Part, reading: _Reading, first: _Reading) -> bool:
    """Whether ``reading`` shows the part otherwise than the first one does."""
    if part.content_type.endswith(_SHEET):
        return reading.shared is not first.shared or reading.formats is not first.formats
    if ".wordprocessingml." in part.content_type:
        return reading.numbering is not first.numbering or reading.styles is not first.styles
    return False


def _applied(
    data: bytes, part: Part, cells: tables.SheetCells | None, styles: numfmt.Styles | None
) -> str:
    """What number formats outside the cell styles show (`applied`): a chart's data labels and
    axes; a worksheet's conditional formats, when one of the workbook's differential formats
    or a format the sheet writes in a rule shows a digit (else they show nothing more)."""
    if part.content_type.lower().endswith(_CHART):
        return applied.chart_text(data)
    dxfs = styles.conditional if styles else []
    shown = cells is not None and cells.rule_formats
    if cells is None or not (shown or any(map(numfmt.shows_digits, filter(None, dxfs)))):
        return ""
    return applied.conditional_text(data, dxfs, cells.shared)


@dataclass
class _Budget:
    """The bytes of parts still to inflate, each part charged once however many readings read
    it (review 114: a second reading of 25 large sheets found the budget spent by the first,
    and read none of them)."""

    left: int
    charged: set[str] = field(default_factory=set)


def _within(package: Package, part: Part, limits: Limits, budget: _Budget) -> bool:
    """Whether the part may be inflated; if so, its size is taken from the ``budget`` (once)."""
    key = part_key(part.name)
    info = package.entries.get(key)
    if info is None:
        return False
    if key in budget.charged:
        return True
    if not _inflatable(info, limits, budget.left):
        return False
    budget.left -= info.file_size
    budget.charged.add(key)
    return True


def _text_parts(package: Package) -> list[Part]:
    return [
        p
        for p in package.parts.values()
        if p.content_type.endswith("xml") and not _SKIPPED.search(p.content_type)
    ]


def _inflatable(info: zipfile.ZipInfo, limits: Limits, budget: int) -> bool:
    if info.flag_bits & 0x1 or info.file_size > budget:
        return False
    return info.file_size < RATIO_FLOOR or info.file_size <= limits.max_ratio * info.compress_size


def _part_text(
    package: Package,
    part: Part,
    reading: _Reading,
    formulas: computed.SheetFormulas | None,
    page: int | None = None,
) -> str | None:
    try:
        data = package.read(part.name)
    except READ_ERRORS:
        return None
    sheet = part.content_type.endswith(_SHEET)
    formats = reading.formats.cells if reading.formats else None
    cells = tables.SheetCells(reading.shared or [], formats, formulas) if sheet else None
    text = xml_text(data, cells, reading.numbering, reading.styles, page)
    return None if text is None else text + _applied(data, part, cells, reading.formats)


def xml_text(
    data: bytes,
    cells: tables.SheetCells | None = None,
    numbering: lists.Numbering | None = None,
    styles: wordstyles.Styles | None = None,
    page: int | None = None,
) -> str | None:
    """The text of one XML part, a line per paragraph, cell or value (see the module
    docstring); None for XML that does not parse or declares a DTD. ``cells``: a worksheet's,
    read with its column headers (`tables`); ``numbering``: the document's lists, whose labels
    start their paragraphs; ``styles``: the document's, which can hide text (`wordstyles`);
    ``page``: the number its page or slide number fields show (`pagenumbers`).
    A part with tracked changes reads as Word shows it with them accepted, then, on lines of
    its own, as it showed before them."""
    collector = _Collector(cells, numbering, styles, page)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.text
    parser.StartNamespaceDeclHandler = collector.declare
    parser.EndNamespaceDeclHandler = collector.undeclare
    parser.StartDoctypeDeclHandler = _refuse
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, _Refused):
        return None
    final = "".join(collector.out)
    others = ("".join(collector.original), "".join(collector.marked)) if collector.revised else ()
    return final + rtf.readings(final, others) + "".join(f"\n{line}" for line in collector.aside)


def _symbol(pairs: dict[str, str]) -> str | None:
    """The character a Word symbol (``w:sym``) shows: its code (0xF0xx, a symbol font's private
    use for its character xx), unless its font draws pictures (red team 96 wrote a card number
    as symbols of a text font: Word shows digits)."""
    code = next((v for k, v in pairs.items() if k.endswith("char")), "")
    font = next((v for k, v in pairs.items() if k.endswith("font")), "").lower()
    try:
        value = int(code, 16)
    except ValueError:
        return None
    if font.startswith(_PICTURE_FONTS) or not 0 < value < 0x110000:
        return None
    return chr(value - 0xF000 if 0xF000 <= value <= 0xF0FF else value)


class _Collector:
    """Expat's handlers for `xml_text`: the text as shown, with what is read apart from its
    line (field instructions, hidden text, attributes people are shown, the branches of
    alternate content Office does not show) kept in ``aside``. Tracked changes: ``out`` is the
    text with them accepted (deletions and text moved away left out), ``original`` with them
    rejected (insertions and text moved here left out), ``marked`` with every change shown."""

    def __init__(
        self,
        cells: tables.SheetCells | None,
        numbering: lists.Numbering | None,
        styles: wordstyles.Styles | None = None,
        page: int | None = None,
    ) -> None:
        self.aside: list[str] = []
        self.fields = _Fields(page, self.aside.append)
        self.out: list[str] = []
        self.original: list[str] = []
        self.marked: list[str] = []  # every change's text shown (Word's "All Markup")
        self.revisions = [0, 0]  # open deletions (w:del, w:moveFrom), insertions (w:ins...)
        self.revised = False  # some text is inserted or deleted
        self.mode = ""  # "value", "header", "aside" or "": how character data is read
        self.first_page = 1  # the sheet's first page number, for its print headers' "&P"
        self.cells = cells
        self.hiding = _Hiding(styles)
        self.history = 0  # inside tracked formatting's former properties (w:rPrChange...)
        self.ruby = 0  # inside a ruby's annotation (w:rt): read apart from the line it is over
        self.paragraph = _Paragraph(numbering, styles)
        self.numbers = _AutoNumbers()
        self.prefixes: dict[str, list[str]] = {}  # namespace declarations in scope
        self.branches: list[bool] = []  # per open mc:AlternateContent: a branch was shown
        self.shown: list[bool] = []  # per open mc:Choice or mc:Fallback: whether it is shown
        self.seen: set[str] = set()  # attribute values read (an author signs every change)

    def declare(self, prefix: str | None, uri: str) -> None:
        self.prefixes.setdefault(prefix or "", []).append(uri)

    def undeclare(self, prefix: str | None) -> None:
        if self.prefixes.get(prefix or ""):
            self.prefixes[prefix or ""].pop()

    def _put(self, text: str) -> None:
        """Text to the line (with changes accepted, rejected, or both), or aside in a branch
        Office does not show."""
        if False in self.shown:
            self.aside[-1] += text
            return
        deleted, inserted = self.revisions
        if not deleted:
            self.out.append(text)
        if not inserted:
            self.original.append(text)
        self.marked.append(text)  # text inserted, then deleted, is in neither (review 114)
        self.revised = self.revised or bool(deleted or inserted)

    def _line(self, final: bool = True, original: bool = True) -> None:
        """A new line; none in a reading where the paragraph mark before it is not shown
        (`_Paragraph.breaks`)."""
        if False in self.shown:
            self.aside.append("")
            return
        if final:
            self.out.append("\n")
        if original:
            self.original.append("\n")
        if final or original:
            self.marked.append("\n")
        self.revised = self.revised or final != original

    def start(self, name: str, attrs: list[str]) -> None:
        self.mode = _mode(name)
        if self.mode == "aside":
            self.aside.append("")  # each instruction piece on its own line
        namespace, _, local = name.rpartition(" ")
        pairs = {k.rpartition(" ")[2]: v for k, v in zip(attrs[::2], attrs[1::2], strict=False)}
        if namespace == _COMPATIBILITY:
            self._branch(local, pairs)
            return
        shown = _SHOWN.get(name)
        if local == "sym" and namespace in WORD_NS:
            shown = _symbol(pairs)
        if shown is not None:
            self._put(shown)
        elif name in _BREAKS or namespace not in _KNOWN:
            self._line(*self.paragraph.breaks(name in _PARAGRAPHS))
        self._attributes(local, pairs)
        if self.cells is not None and namespace in _SHEET_NS:
            self._put(self.cells.start(local, pairs))
        if local == "pageSetup" and namespace in _SHEET_NS:
            self.first_page = first_page(pairs)  # before the headers, in a sheet's order
        if namespace in WORD_NS:
            self.fields.word(local, pairs)
            self._word(local, pairs)
        elif namespace in _DRAWING_NS:
            self.fields.drawing(local, pairs)
            self._put(self.numbers.start(local, pairs))

    def _attributes(self, local: str, pairs: dict[str, str]) -> None:
        for key in _SHOWN_ATTRIBUTES.get(local, ()):
            value = pairs.get(key, "")
            if value and value not in self.seen:
                self.seen.add(value)
                self.aside.append(value)

    def _branch(self, local: str, pairs: dict[str, str]) -> None:
        """An mc:AlternateContent's branch: shown if it is the first Office takes."""
        if local == "AlternateContent":
            self.branches.append(False)
        elif local in ("Choice", "Fallback"):
            free = bool(self.branches) and not self.branches[-1]
            taken = free and (local == "Fallback" or self._understood(pairs.get("Requires", "")))
            if self.branches and taken:
                self.branches[-1] = True
            elif not taken and False not in self.shown:
                self.aside.append("")
            self.shown.append(taken)

    def _understood(self, requires: str) -> bool:
        """Whether Office knows every vocabulary an mc:Choice requires (its prefixes)."""
        uris = [(self.prefixes.get(prefix) or [""])[-1] for prefix in requires.split()]
        return bool(uris) and all(u in _KNOWN or u.startswith(_OFFICE_NAMESPACES) for u in uris)

    def _word(self, local: str, pairs: dict[str, str]) -> None:
        """Word's own elements: tracked changes, formatting that hides text, a paragraph's
        list. Properties inside a tracked formatting change (w:rPrChange, w:pPrChange...) are
        what it was before the change: they decide nothing Word shows now."""
        if local in _REVISIONS:
            self.revisions[_REVISIONS[local]] += 1
        if local.endswith("Change"):
            self.history += 1
        if self.history:
            return
        if local == "p":
            self.paragraph.start()
        elif local == "framePr":  # a drop cap: Word draws the next paragraph beside it
            self.paragraph.drop_cap = pairs.get("dropCap", "none").strip() not in ("", "none")
        elif local == "rt":
            self.ruby += 1
        self.paragraph.property(local, pairs.get("val", ""))
        self._hidden_text(local, pairs)

    def _hidden_text(self, local: str, pairs: dict[str, str]) -> None:
        """Hidden text (``w:vanish``, the run's own or its styles', `_Hiding`) is read apart
        from its line: still read, but it cannot break up a number the reader sees around it
        ("4111 1111 1111 {hidden 9}1111")."""
        if local in _HIDING:
            self.hiding.note(local, pairs.get("val"))
        elif local in ("t", "delText") and (self.hiding.hidden or self.ruby):
            self.mode = "aside"  # hidden, or a ruby's annotation drawn small above its base
            self.aside.append("")

    def end(self, name: str) -> None:
        self.mode = ""
        namespace, _, local = name.rpartition(" ")
        if namespace in WORD_NS or namespace in _DRAWING_NS:
            self.fields.end(local)
        if namespace == _COMPATIBILITY:
            if local == "AlternateContent" and self.branches:
                self.branches.pop()
            elif local in ("Choice", "Fallback") and self.shown:
                self.shown.pop()
        elif self.cells is not None and namespace in _SHEET_NS:
            self._put(self.cells.end(local))
        elif namespace in WORD_NS:
            self._word_end(local)
        elif namespace in _DRAWING_NS and local == "pPr":
            self.numbers.properties = False

    def _word_end(self, local: str) -> None:
        if local in _REVISIONS:
            self.revisions[_REVISIONS[local]] = max(0, self.revisions[_REVISIONS[local]] - 1)
        elif local.endswith("Change"):
            self.history = max(0, self.history - 1)
        elif local == "rt":
            self.ruby = max(0, self.ruby - 1)
        elif local == "pPr" and not self.history:
            self._put(self.paragraph.opening())
            self.paragraph.marked(self.hiding.hidden)

    def text(self, data: str) -> None:
        if self.mode == "aside":
            self.fields.instruction_text(data)
            self.aside[-1] += data
            return
        if not self.mode:
            data = self.fields.shown_text(data)
        elif self.mode == "value":
            data = _as_shown(data)
        elif self.mode == "header":
            data = header_text(data, self.first_page)
        elif self.mode == "formula" and (joined := tables.joined_constants(data)) is not None:
            data = f"{data}\n{joined}"
        if self.cells is not None:
            data = self.cells.text(data, self.mode == "value")
        self._put(data)


class _Fields:
    """The page and slide number fields open around the text (Word's ``PAGE``, a simple field
    or one between field characters; DrawingML's ``slidenum``), whose stored result the viewer
    replaces with the page's or slide's own number (`pagenumbers`): read as that number."""

    def __init__(self, number: int | None, aside: Callable[[str], None]) -> None:
        self.number = number
        self.aside = aside  # where a replaced result's stored text goes, read apart
        self.open: list[list[Any]] = []  # Word's open fields: [instruction, in its result]
        self.instruction = self.slide = False  # inside a w:instrText; inside a slidenum a:fld
        self.shown = False  # the number is read for the field's result
        self.stored: list[str] = []  # the stored result it replaced

    def word(self, local: str, pairs: dict[str, str]) -> None:
        if local == "fldSimple":
            self.open.append([pairs.get("instr", "")[:_INSTRUCTION], True])
            self.shown = False
        elif local == "fldChar":
            kind = pairs.get("fldCharType", "")
            if kind == "begin":
                self.open.append(["", False])
            elif kind == "separate" and self.open:
                self.open[-1][1], self.shown = True, False
            elif kind == "end" and self.open:
                self.open.pop()
                self._closed()
        elif local == "instrText":
            self.instruction = True

    def drawing(self, local: str, pairs: dict[str, str]) -> None:
        if local == "fld":
            self.slide, self.shown = pairs.get("type", "").strip() == "slidenum", False

    def end(self, local: str) -> None:
        if local == "fldSimple" and self.open:
            self.open.pop()
            self._closed()
        elif local == "instrText":
            self.instruction = False
        elif local == "fld":
            self.slide = False
            self._closed()

    def _closed(self) -> None:
        """A field ends: the stored result its number replaced is read apart, whole (a previewer
        that shows stored results shows it; review 117)."""
        if self.stored:
            self.aside("".join(self.stored))
            self.stored = []

    def instruction_text(self, data: str) -> None:
        if self.instruction and self.open and not self.open[-1][1]:
            self.open[-1][0] = (self.open[-1][0] + data)[:_INSTRUCTION]

    def shown_text(self, data: str) -> str:
        """``data``, or inside a page or slide number field's result, its number (once)."""
        if self.number is None:
            return data
        field = self.open[-1] if self.open else None
        if not (self.slide or (field and field[1] and _page_in_digits(field[0]))):
            return data
        self.stored.append(data)
        shown, self.shown = self.shown, True
        return "" if shown else str(self.number)


def _page_in_digits(instruction: str) -> bool:
    """Whether a field shows the page number in digits: PAGE (not PAGEREF, NUMPAGES), without
    a format that spells it (``\\* roman``, ``\\* CardText``...: review 117)."""
    return _PAGE_FIELD.match(instruction) is not None and _SPELT.search(instruction) is None


_INSTRUCTION = 200  # characters of a field's instruction kept: its name comes first
_PAGE_FIELD = re.compile(r"\s*PAGE\b", re.IGNORECASE)
_SPELT = re.compile(
    r"\\\*\s*(?:roman|alphabetic|cardtext|ordtext|ordinal|hex|dollartext)\b", re.IGNORECASE
)


class _AutoNumbers:
    """The numbers PowerPoint draws before auto-numbered paragraphs (``a:buAutoNum`` in a
    paragraph's ``a:pPr``): from ``startAt``, one more for each next paragraph of the same
    scheme, in its style ("4111.", "(d)", "iv)"). Red team 117: a list starting at 4111 draws
    "4111" before a paragraph of "1111 1111 1111". A paragraph without a number is taken to
    end the count (not checked against PowerPoint); a list style's levels (``a:lvl1pPr``...)
    are not followed."""

    def __init__(self) -> None:
        self.key: tuple[str, int] | None = None  # the scheme and start of the last number
        self.value = 0
        self.numbered = self.properties = False  # this paragraph; inside its a:pPr

    def start(self, local: str, pairs: dict[str, str]) -> str:
        if local == "txBody":
            self.key = None
        elif local == "p":
            self.key = self.key if self.numbered else None  # a paragraph without one ends it
            self.numbered = False
        elif local == "pPr":
            self.properties = True
            # a right-to-left paragraph: marked so, it is also read as displayed (`sensitive`'s
            # bidi reading: its digit groups drawn from the right; red team 117)
            return RLM if pairs.get("rtl", "").strip().lower() in ("1", "true") else ""
        elif local == "buAutoNum" and self.properties:
            scheme = pairs.get("type", "").strip()
            key = (scheme, min(max(lists.integer(pairs.get("startAt", ""), 1), 1), 32767))
            self.value = self.value + 1 if key == self.key else key[1]
            self.key, self.numbered = key, True
            return _autonumber(scheme, self.value) + " "
        return ""


# DrawingML's numbering schemes by the start of their names (ST_TextAutonumberScheme), as
# Word's number styles (`lists.number`); any other (double-byte, Hindi, Thai...) as digits
_SCHEMES = (("alphaLc", "lowerLetter"), ("alphaUc", "upperLetter"), ("romanLc", "lowerRoman"),
            ("romanUc", "upperRoman"))  # fmt: skip


def _autonumber(scheme: str, value: int) -> str:
    style = next((style for head, style in _SCHEMES if scheme.startswith(head)), "decimal")
    shown = lists.number(value, style)
    if scheme.endswith("ParenBoth"):
        return f"({shown})"
    if scheme.endswith("ParenR"):
        return f"{shown})"
    return f"{shown}." if scheme.endswith("Period") else shown


class _Hiding:
    """Whether a Word run's text is hidden: by its own ``w:vanish`` if it has one, else by its
    paragraph's style and its own (`wordstyles`)."""

    def __init__(self, styles: wordstyles.Styles | None) -> None:
        self.styles = styles
        self.paragraph_style = ""
        self.run_style = ""
        self.direct: bool | None = None  # the run's own w:vanish

    def note(self, local: str, value: str | None) -> None:
        if local in ("p", "r"):
            self.paragraph_style = "" if local == "p" else self.paragraph_style
            self.run_style, self.direct = "", None
        elif local in ("pStyle", "rStyle"):
            setattr(self, "paragraph_style" if local == "pStyle" else "run_style", value or "")
        elif local == "vanish":
            self.direct = wordstyles.vanish(value)

    @property
    def hidden(self) -> bool:
        if self.direct is not None:
            return self.direct
        return self.styles is not None and self.styles.hidden(self.paragraph_style, self.run_style)


class _Paragraph:
    """A Word paragraph's list (``w:numPr``: ``w:numId``, ``w:ilvl``), and its label as Word
    draws it before the paragraph's text, counted through the part (`lists`)."""

    def __init__(
        self, numbering: lists.Numbering | None, styles: wordstyles.Styles | None = None
    ) -> None:
        self.numbering = numbering
        self.styles = styles
        self.counters = lists.Counters()
        self.list = ""
        self.level: int | None = None  # None: not set by the paragraph
        self.style = ""  # its w:pStyle
        self.properties = self.mark = False  # in the paragraph's properties, its mark's
        self.changed: set[int] = set()  # its mark deleted (0), inserted (1)
        self.joined = (False, False)  # the next paragraph joins it: accepted, rejected
        self.drop_cap = False  # a drop cap's frame (w:framePr w:dropCap)
        self.rtl = False  # a right-to-left paragraph (w:bidi)

    def marked(self, hidden: bool) -> None:
        """The paragraph's properties are read: a paragraph mark Word does not show (hidden,
        or a tracked change's) joins the next paragraph to this one's line, as Word draws
        them ("4111 1111 {hidden or deleted mark}1111 1111" reads as one number), and so does
        a drop cap's (its letter drawn large before the next paragraph: red team 117)."""
        joined = hidden or self.drop_cap  # (a drop cap's letter stands before the next line)
        self.joined = (joined or 0 in self.changed, joined or 1 in self.changed)
        self.properties = self.mark = self.drop_cap = False
        self.changed = set()

    def breaks(self, paragraph: bool) -> tuple[bool, bool]:
        """Whether a break starts a new line with tracked changes accepted, and rejected; a
        tab or a line break inside the paragraph leaves its mark's join for the paragraph's end
        (review 114: "Note:<tab>" undid it)."""
        if not paragraph:
            return True, True
        joined, self.joined = self.joined, (False, False)
        return not joined[0], not joined[1]

    def start(self) -> None:
        self.list, self.level, self.style = "", None, ""
        self.properties = self.mark = self.drop_cap = self.rtl = False

    def property(self, local: str, value: str) -> None:
        if local == "pPr":
            self.properties = True
        elif local == "rPr" and self.properties:
            self.mark = True  # the paragraph mark's properties
        elif self.mark and local in _REVISIONS:
            self.changed.add(_REVISIONS[local])
        elif local == "numId":
            self.list = value.strip()
        elif local == "ilvl":
            self.level = min(max(lists.integer(value, 0), 0), lists.LEVELS - 1)
        elif local == "pStyle":
            self.style = value.strip()
        elif local == "bidi" and not self.mark:
            self.rtl = value.strip().lower() not in ("0", "false", "off")

    def opening(self) -> str:
        """What starts the paragraph's line: a right-to-left mark for a right-to-left paragraph
        (read also as displayed, `sensitive`'s bidi reading: red team 117), its list label."""
        return (RLM if self.rtl else "") + self.label()

    def label(self) -> str:
        level = self.level
        if not self.list and self.numbering and self.styles:  # its style's list, if any
            self.list, styled = self.styles.list_of(self.style) or ("", None)
            level = styled if level is None else level
        levels = self.numbering.levels(self.list) if self.numbering and self.list else None
        if levels is None:
            return ""
        key, self.list = self.list, ""  # one label a paragraph
        return lists.label(levels, self.counters.advance(key, level or 0, levels))


def _mode(name: str) -> str:
    if name in _SHEET_VALUES:
        return "value"
    if name in _SHEET_HEADERS:
        return "header"
    if name in _DEFINED_NAMES:
        return "formula"
    return "aside" if name in _ASIDE else ""


def header_text(value: str, first_page: int = 1) -> str:
    """A print header's text as printed on the first page: a line per section, the page number
    (``&P``, ``&P+n``, ``&P-n``) as that page's, the other codes dropped. (Red team 117: "Card
    4111 1111 1111 111&P" prints a card number; so does "&P 1111 1111 1111" on a sheet whose
    first page is numbered 4111.)"""
    value = _PAGE_CODE.sub("\x01\\1\\2\x02", value.replace("&&", "\x00"))  # "&12&P": a size
    value = _HEADER_CODE.sub("", _HEADER_SECTION.sub("\n", value)).replace("\x00", "&")
    return _PAGE_MARK.sub(lambda m: _page(first_page, m), value)


def _page(first_page: int, code: re.Match[str]) -> str:
    sign, offset = code.group(1), int(code.group(2) or 0)
    return str(first_page - offset if sign == "-" else first_page + offset)


_PAGE_MARK = re.compile("\x01([+-]?)(\\d*)\x02")  # a page code, marked until the others go


def first_page(pairs: dict[str, str]) -> int:
    """The first page's number a sheet's ``pageSetup`` sets (``firstPageNumber``, which Excel
    uses when ``useFirstPageNumber`` is on), else 1."""
    used = pairs.get("useFirstPageNumber", "").strip().lower() in ("1", "true")
    return lists.integer(pairs.get("firstPageNumber", ""), 1) if used else 1


class _Refused(Exception):
    pass


def _refuse(*_: object) -> None:
    raise _Refused  # a DTD: Office refuses the part (and entities could expand without bound)


def _as_shown(value: str) -> str:
    """A numeric cell's value as Excel shows it: integral values as plain digits."""
    value = value.strip()
    if ("E" not in value.upper() and "." not in value) or not _NUMBER.fullmatch(value):
        return value
    try:
        number = Decimal(value)
        # (the size first: 1E+1000000 overflows the context's exponent when rounded; review 113)
        if abs(number) >= Decimal(10) ** 20 or number != number.to_integral_value():
            return value
    except DecimalException:
        return value
    return str(int(number))
