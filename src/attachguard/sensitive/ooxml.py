"""The text of an Office Open XML document (DOCX, XLSX, PPTX and their macro-enabled kinds).

Read as Office reads it: the package's relationships lead to every part it shows (`formats.opc`:
the document, headers and footers, footnotes, comments, slides, notes, charts, diagrams,
shared strings, worksheets, document properties...), and each XML part is parsed with expat
(namespaces, character references and CDATA decoded). Text boxes, tables and shapes are inside
those parts. Text runs are joined as the application shows them (Word splits "4111 1111" over
several runs at will); a new paragraph, table cell, tab, line break, sheet cell or value, or any
element of a vocabulary this reader does not know, starts a new line, so that two neighbouring
cells never read as one number. Numeric cells are read as Excel shows them: a 15-digit number
stored as ``3.78282246310005E+14`` is read as its digits.

Read as shown, too: a field's result stays in its paragraph (its instruction is read on a line
of its own), as does the text around hidden text (``w:vanish``, read on a line of its own, so
that a hidden digit cannot split a number); the alternative text of pictures and shapes and the
names of worksheets are read; a print header's codes (``&C``, ``&P``...) are dropped; string
cells are read as their shared strings, each cell after its column's header (`tables`: a
column headed "Order ID" holds order numbers); Word's imported pieces (``w:altChunk``: HTML,
RTF or text that Word lays out in the document) are read as shown.

Not read: parts nothing reaches (Office never shows them), styles, themes, fonts and settings;
binary (.xlsb) sheets. Work is bounded: a part larger than what is left of
``limits.max_expanded_bytes``, encrypted or with a declared ratio over ``limits.max_ratio`` is
not read (the zip engine reports it); XML that does not parse is noted, not read.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from xml.parsers import expat

from attachguard.engines.text import decode
from attachguard.engines.zip_members import RATIO_FLOOR
from attachguard.formats.ooxml_xml import WORD_NS
from attachguard.formats.opc import READ_ERRORS, Package, Part, part_key, read_package
from attachguard.sensitive import markup, rtf, tables
from attachguard.sensitive.passages import Extract, Passage

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
_SHEET_BREAKS = ("c", "v", "f", "si", "is", "row", "comment", "text", "rPh", *_HEADERS)
_KNOWN = frozenset(WORD_NS + _DRAWING_NS + _SHEET_NS)
_BREAKS = frozenset(
    f"{ns} {local}"
    for namespaces, locals_ in ((WORD_NS, _WORD_BREAKS), (_DRAWING_NS, _DRAWING_BREAKS),
                                (_SHEET_NS, _SHEET_BREAKS))
    for ns in namespaces
    for local in locals_
)  # fmt: skip
# What Word shows for these elements inside a run.
_SHOWN = {f"{ns} noBreakHyphen": "\u2011" for ns in WORD_NS}
_SHEET_VALUES = frozenset(f"{ns} v" for ns in _SHEET_NS)
# Fonts whose letters and digits are pictures (a "4" in Wingdings is a clock face)
_PICTURE_FONTS = ("wingdings", "webdings", "marlett", "mt extra", "zapf dingbats")
_SHEET_HEADERS = frozenset(f"{ns} {local}" for ns in _SHEET_NS for local in _HEADERS)
# Text read apart from the line it stands in: field instructions (Word shows their result).
_ASIDE = frozenset(f"{ns} {local}" for ns in WORD_NS for local in ("instrText", "delInstrText"))
# Attributes people are shown: a picture's or shape's alternative text (read aloud, shown in
# the Alt Text pane) and a worksheet's name (its tab). Keyed by element local name.
_SHOWN_ATTRIBUTES = {"docPr": ("descr", "title"), "cNvPr": ("descr", "title"),
                     "sheet": ("name",)}  # fmt: skip
# A print header's or footer's codes: "&L", "&C", "&R" start a section, the others set a font,
# a size, a colour or insert a field (page number, date...).
_HEADER_SECTION = re.compile(r"&[LCR]")
_HEADER_CODE = re.compile(r'&(?:"[^"]*"|K[0-9A-Fa-f]{6}|\d+|[A-Za-z])')
_SHARED_STRINGS = "spreadsheetml.sharedstrings+xml"  # content types compare lower-cased
_SHEET = "spreadsheetml.worksheet+xml"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")

# Parts whose content type says they hold no text a reader sees.
_SKIPPED = re.compile(
    r"\.(?:styles|theme|fonttable|settings|websettings|numbering|calcchain|stylesWithEffects|"
    r"fonttable|thememanager|tablestyles|presprops|viewprops|commentauthors)\+xml$",
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
    budget = [limits.max_expanded_bytes]
    shared = _shared_strings(package, limits, budget)
    for part in _text_parts(package):
        if shared is not None and part.content_type.lower().endswith(_SHARED_STRINGS):
            continue  # read in the cells that show them
        if not _within(package, part, limits, budget):
            extract.unread.append(f"{part.name} (over a limit)")
            continue
        cells = (
            tables.SheetCells(shared or []) if part.content_type.lower().endswith(_SHEET) else None
        )
        text = _part_text(package, part.name, cells)
        if text is None:
            extract.unread.append(f"{part.name} (damaged)")
        elif text.strip():
            extract.passages.append(Passage(text, part.name))
    _chunks(package, limits, budget, extract)
    return extract


def _chunks(package: Package, limits: Limits, budget: list[int], extract: Extract) -> None:
    """Word's imported pieces (``w:altChunk``): an HTML, RTF or text part that Word lays out
    in the document as if it were the document's own text."""
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


_CHUNK_READERS: dict[str, Callable[[bytes], str]] = {
    "text/html": lambda data: markup.shown_text(decode(data)),
    "text/plain": decode,
    "application/rtf": _rtf_text,
    "text/rtf": _rtf_text,
}


def _shared_strings(package: Package, limits: Limits, budget: list[int]) -> list[str] | None:
    """The workbook's shared strings, so that each string cell reads as its text under its
    column's header (`tables`); None when there are none, or they cannot be read (then the
    part is read as text like any other)."""
    for part in _text_parts(package):
        if part.content_type.lower().endswith(_SHARED_STRINGS) and _within(
            package, part, limits, budget
        ):
            try:
                return tables.shared_strings(package.read(part.name))
            except READ_ERRORS:
                return None
    return None


def _within(package: Package, part: Part, limits: Limits, budget: list[int]) -> bool:
    """Whether the part may be inflated; if so, its size is taken from the ``budget``."""
    info = package.entries.get(part_key(part.name))
    if info is None or not _inflatable(info, limits, budget[0]):
        return False
    budget[0] -= info.file_size
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


def _part_text(package: Package, name: str, cells: tables.SheetCells | None) -> str | None:
    try:
        data = package.read(name)
    except READ_ERRORS:
        return None
    return xml_text(data, cells)


def xml_text(data: bytes, cells: tables.SheetCells | None = None) -> str | None:
    """The text of one XML part, a line per paragraph, cell or value (see the module
    docstring); None for XML that does not parse or declares a DTD. ``cells``: a worksheet's,
    read with its column headers (`tables`)."""
    collector = _Collector(cells)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.text
    parser.StartDoctypeDeclHandler = _refuse
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, _Refused):
        return None
    return "".join(collector.out) + "".join(f"\n{line}" for line in collector.aside)


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
    line (field instructions, attributes people are shown) kept in ``aside``."""

    def __init__(self, cells: tables.SheetCells | None) -> None:
        self.out: list[str] = []
        self.aside: list[str] = []
        self.mode = ""  # "value", "header", "aside" or "": how character data is read
        self.cells = cells
        self.hidden = False  # in a Word run formatted as hidden text

    def start(self, name: str, attrs: list[str]) -> None:
        self.mode = _mode(name)
        if self.mode == "aside":
            self.aside.append("")  # each instruction piece on its own line
        shown = _SHOWN.get(name)
        namespace, _, local = name.rpartition(" ")
        pairs = dict(zip(attrs[::2], attrs[1::2], strict=False)) if attrs else {}
        if local == "sym" and namespace in WORD_NS:
            shown = _symbol(pairs)
        if shown is not None:
            self.out.append(shown)
        elif name in _BREAKS or namespace not in _KNOWN:
            self.out.append("\n")
        wanted = _SHOWN_ATTRIBUTES.get(local)
        self.aside += [pairs[key] for key in wanted or () if pairs.get(key)]
        if self.cells is not None and namespace in _SHEET_NS:
            self.out.append(self.cells.start(local, pairs))
        if namespace in WORD_NS:
            self._hidden_text(local, pairs)

    def _hidden_text(self, local: str, pairs: dict[str, str]) -> None:
        """Hidden text (``w:vanish``) is read apart from its line: still read, but it cannot
        break up a number the reader sees around it ("4111 1111 1111 {hidden 9}1111")."""
        if local in ("r", "p"):
            self.hidden = False
        elif local == "vanish":
            values = [v for k, v in pairs.items() if k.endswith("val")]
            self.hidden = not values or values[0].lower() not in ("0", "false", "off")
        elif local == "t" and self.hidden:
            self.mode = "aside"
            self.aside.append("")

    def end(self, name: str) -> None:
        self.mode = ""
        namespace, _, local = name.rpartition(" ")
        if self.cells is not None and namespace in _SHEET_NS:
            self.cells.end(local)

    def text(self, data: str) -> None:
        if self.mode == "aside":
            self.aside[-1] += data
            return
        if self.mode == "value":
            data = _as_shown(data)
        elif self.mode == "header":
            data = header_text(data)
        if self.cells is not None:
            data = self.cells.text(data, self.mode == "value")
        self.out.append(data)


def _mode(name: str) -> str:
    if name in _SHEET_VALUES:
        return "value"
    if name in _SHEET_HEADERS:
        return "header"
    return "aside" if name in _ASIDE else ""


def header_text(value: str) -> str:
    """A print header's text as printed: a line per section, codes dropped."""
    return _HEADER_CODE.sub("", _HEADER_SECTION.sub("\n", value.replace("&&", "\x00"))).replace(
        "\x00", "&"
    )


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
    except InvalidOperation:
        return value
    if number != number.to_integral_value() or abs(number) >= Decimal(10) ** 20:
        return value
    return str(int(number))
