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

Not read: parts nothing reaches (Office never shows them), styles, themes, fonts and settings;
binary (.xlsb) sheets. Work is bounded: a part larger than what is left of
``limits.max_expanded_bytes``, encrypted or with a declared ratio over ``limits.max_ratio`` is
not read (the zip engine reports it); XML that does not parse is noted, not read.
"""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from xml.parsers import expat

from attachguard.formats.ooxml_xml import WORD_NS
from attachguard.formats.opc import Package, Part, part_key, read_package
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
_WORD_BREAKS = ("p", "tab", "ptab", "br", "cr", "tc", "tr", "instrText", "delInstrText",
                "fldChar", "footnote", "endnote", "comment", "txbxContent")  # fmt: skip
_DRAWING_BREAKS = ("p", "br", "tc", "tr")
_SHEET_BREAKS = ("c", "v", "f", "si", "is", "row", "comment", "text", "rPh")
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
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        extract.unread.append("the package could not be read")
        return extract
    budget = limits.max_expanded_bytes
    for part in _text_parts(package):
        info = package.entries.get(part_key(part.name))
        if info is None or not _inflatable(info, limits, budget):
            extract.unread.append(f"{part.name} (over a limit)")
            continue
        budget -= info.file_size
        text = _part_text(package, part.name)
        if text is None:
            extract.unread.append(f"{part.name} (damaged)")
        elif text.strip():
            extract.passages.append(Passage(text, part.name))
    return extract


def _text_parts(package: Package) -> list[Part]:
    return [
        p
        for p in package.parts.values()
        if p.content_type.endswith("xml") and not _SKIPPED.search(p.content_type)
    ]


def _inflatable(info: zipfile.ZipInfo, limits: Limits, budget: int) -> bool:
    if info.flag_bits & 0x1 or info.file_size > budget:
        return False
    return info.file_size < 1_000_000 or info.file_size <= limits.max_ratio * info.compress_size


def _part_text(package: Package, name: str) -> str | None:
    try:
        data = package.read(name)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return None
    return xml_text(data)


def xml_text(data: bytes) -> str | None:
    """The text of one XML part, a line per paragraph, cell or value (see the module
    docstring); None for XML that does not parse or declares a DTD."""
    out: list[str] = []
    in_value = False

    def start(name: str, _attrs: list[str]) -> None:
        nonlocal in_value
        in_value = name in _SHEET_VALUES
        shown = _SHOWN.get(name)
        if shown is not None:
            out.append(shown)
        elif name in _BREAKS or name.rpartition(" ")[0] not in _KNOWN:
            out.append("\n")

    def text(data: str) -> None:
        out.append(_as_shown(data) if in_value else data)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = _refuse
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, _Refused):
        return None
    return "".join(out)


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
