"""Whether a zip labelled as an Office Open XML document is one: its main part, found the way
Office finds it.

Office opens a package at its root relationships (``_rels/.rels``): the ``officeDocument``
relationship names the main part, by convention ``word/document.xml`` but anywhere in fact, and
``[Content_Types].xml`` says what that part is (an Override for its name, else the Default for
its extension). A .docx label needs a Word main part, a .xlsx or .xlsb an Excel one, a .pptx a
PowerPoint one (templates, macro-enabled and add-in kinds included). Without content types or
root relationships the file is a zip posing as a document; without a main part of its kind, it
is not the document its label says. Both are TYPE_MISMATCH.

Only those two small parts are read (0.1-0.2 ms on real documents; the whole relationship
graph through `formats.opc.read_package` took 0.5-3 ms, and the office engine walks it anyway),
and only when the limits let them be (not encrypted, not a ratio bomb: `zip_members.readable`).
Part names and targets resolve as `formats.opc` resolves them, and the main part is the one
`formats.opc.Package.main` picks; XML is parsed by `formats.ooxml_xml` (a DTD is AMBIGUOUS, XML
that does not parse is CORRUPT). Not checked: OpenDocument packages (no main-part rule here).
"""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

from attachguard.codes import AMBIGUOUS, CORRUPT, TYPE_MISMATCH, Code
from attachguard.engines.base import finding
from attachguard.engines.zip_layout import NAME
from attachguard.engines.zip_members import DAMAGED, readable
from attachguard.formats import ooxml_xml as xml
from attachguard.formats.opc import part_key, resolve
from attachguard.report import Finding

if TYPE_CHECKING:
    from attachguard.policy import Limits

_OOXML = "application/vnd.openxmlformats-officedocument."
_BINARY_WORKBOOK = "application/vnd.ms-excel.sheet.binary.macroenabled.main"
_WORD = frozenset({
    f"{_OOXML}wordprocessingml.document.main+xml",
    f"{_OOXML}wordprocessingml.template.main+xml",
    "application/vnd.ms-word.document.macroenabled.main+xml",
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml",
})  # fmt: skip
_EXCEL = frozenset({
    f"{_OOXML}spreadsheetml.sheet.main+xml",
    f"{_OOXML}spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroenabled.main+xml",
    "application/vnd.ms-excel.template.macroenabled.main+xml",
    "application/vnd.ms-excel.addin.macroenabled.main+xml",
    _BINARY_WORKBOOK,
})  # fmt: skip
_POWERPOINT = frozenset({
    f"{_OOXML}presentationml.{kind}.main+xml" for kind in ("presentation", "slideshow", "template")
} | {
    f"application/vnd.ms-powerpoint.{kind}.macroenabled.main+xml"
    for kind in ("presentation", "slideshow", "template", "addin")
})  # fmt: skip
# Magika label -> what its main part must be, in words and as content types (lower case).
MAIN_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    "docx": ("a Word document", _WORD),
    "xlsx": ("an Excel workbook", _EXCEL),
    "xlsb": ("an Excel workbook", _EXCEL),
    "pptx": ("a PowerPoint presentation", _POWERPOINT),
}
_TYPES, _ROOT_RELS = "[content_types].xml", "_rels/.rels"
_RELS_NS, _TYPES_NS = xml.RELATIONSHIPS_NS, xml.CONTENT_TYPES_NS
_XML_CODES: dict[str, Code] = {xml.AMBIGUOUS: AMBIGUOUS, xml.DAMAGED: CORRUPT}
_POSING = "zip archive posing as an Office document"
_Elements = list[tuple[str, dict[str, str]]]


class _Stop(Exception):
    """The package cannot be judged further: ``found`` says why, or None when a structural
    part is not read (the member checks report why: encrypted, a ratio bomb, damaged)."""

    def __init__(self, found: Finding | None = None) -> None:
        super().__init__()
        self.found = found


def package_problem(archive: zipfile.ZipFile, label: str, limits: Limits) -> Finding | None:
    """What is wrong with ``archive`` as the OOXML document ``label`` says it is; None when
    its main part is of that kind, when ``label`` is not an OOXML label, or when a structural
    part may not be inflated within ``limits`` or is damaged (the member checks report it)."""
    if label not in MAIN_TYPES:
        return None
    kind, wanted = MAIN_TYPES[label]
    package = _Package(archive, limits)
    if not {_TYPES, _ROOT_RELS} <= package.entries.keys():
        return finding(NAME, TYPE_MISMATCH, _POSING)
    try:
        main, content_type = package.main_and_type()
    except _Stop as stop:
        return stop.found
    if main is None:
        message = "Office package whose root relationships name no main part in the file"
        return finding(NAME, TYPE_MISMATCH, message)
    if content_type not in wanted:
        message = f"Office package whose main part is not {kind}"
        return finding(NAME, TYPE_MISMATCH, message, location=package.entries[main].filename)
    return None


def main_label(archive: zipfile.ZipFile, limits: Limits) -> str | None:
    """The OOXML label ("docx", "xlsx", "xlsb", "pptx") that the package's main part declares
    by its content type, found as Office finds it; None for a package without one of those
    kinds, or whose structural parts cannot be read within ``limits``."""
    package = _Package(archive, limits)
    if not {_TYPES, _ROOT_RELS} <= package.entries.keys():
        return None
    try:
        _, content_type = package.main_and_type()
    except _Stop:
        return None
    if content_type == _BINARY_WORKBOOK:
        return "xlsb"
    return next((label for label, (_, types) in MAIN_TYPES.items() if content_type in types), None)


class _Package:
    """The two parts Office reads first, by part key."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits) -> None:
        self.archive = archive
        self.limits = limits
        self.entries = {part_key(i.filename): i for i in archive.infolist() if not i.is_dir()}

    def _elements(self, key: str, root: str, wanted: frozenset[str], what: str) -> _Elements:
        info = self.entries[key]
        if not readable(info, self.limits):
            raise _Stop
        try:
            return xml.elements(self.archive.read(info), root, wanted)
        except DAMAGED as exc:
            raise _Stop from exc
        except xml.XmlRejected as exc:
            message = f"{what} with {exc.reason}"
            found = finding(NAME, _XML_CODES[exc.kind], message, location=info.filename)
            raise _Stop(found) from exc

    def main_part(self) -> str | None:
        """The part key of the first officeDocument relationship from the package root that
        reaches a part in the file (as `formats.opc.Package.main` picks it)."""
        wanted = frozenset({f"{_RELS_NS} Relationship"})
        found = self._elements(_ROOT_RELS, f"{_RELS_NS} Relationships", wanted, "relationships")
        for _, attrs in found:
            short = attrs.get("Type", "").rstrip("/").rsplit("/", 1)[-1]
            external = attrs.get("TargetMode", "").strip().lower() == "external"
            key = None if external else resolve("", attrs.get("Target", ""))
            if short == "officeDocument" and key in self.entries:
                return key
        return None

    def main_and_type(self) -> tuple[str | None, str]:
        """The main part's key (`main_part`) and its content type ("" without one)."""
        main = self.main_part()
        return main, self.content_type(main) if main else ""

    def content_type(self, key: str) -> str:
        """The content type of the part ``key`` (lower case, no parameters): its Override,
        else the Default for its extension; the first declaration counts."""
        wanted = frozenset({f"{_TYPES_NS} Default", f"{_TYPES_NS} Override"})
        found = self._elements(_TYPES, f"{_TYPES_NS} Types", wanted, "content types")
        base = key.rsplit("/", 1)[-1]
        extension = base.rsplit(".", 1)[-1] if "." in base else None
        types: dict[str, str] = {}
        for name, attrs in found:
            value = attrs.get("ContentType", "").split(";", 1)[0].strip().lower()
            if name.endswith(" Override") and part_key(attrs.get("PartName", "")) == key:
                types.setdefault("override", value)
            elif name.endswith(" Default") and attrs.get("Extension", "").lower() == extension:
                types.setdefault("default", value)
        return types.get("override", types.get("default", ""))
