"""Office Open XML packages (OPC, ECMA-376 Part 2), read the way Office reads them.

Reading (`read_package`): ``[Content_Types].xml`` gives each part its content type (an Override
by part name, else a Default by extension); relationships are followed from the package root
(``_rels/.rels``) through each reached part's ``<folder>/_rels/<name>.rels``, transitively, so a
part counts because a relationship reaches it, never because of its path. Part names compare as
OPC compares them (percent-decoded, case-insensitive); targets resolve against their source part
(``../``, absolute ``/x``, percent-encoding, backslashes; fragments dropped).

Inspection (`inspect_package`, `analyse_package`) goes by content type or relationship type
(either suffices) and by the parsed XML of every reached part: VBA projects, Excel 4 macro
sheets, DDE (formulas; ddeLink/oleLink), relationships, Excel data connections and Power Query
queries (`formats.mashup`) that make Office fetch something from outside the file, a hyperlink
base on a network share (``docProps/app.xml``), VML drawings and SVG pictures that name a share,
PowerPoint actions that run a program, macro or object, ActiveX controls.
Embedded objects go back to the caller classified by their bytes (an OOXML package, an OLE
compound file, another file): an embedded package is content to scan, not a problem.

Ambiguous: two zip entries naming one part, interleaved pieces (``x.xml/[0].piece``: some OPC
readers join them, others ignore them), conflicting content types, XML with a DTD or an encoding
Office refuses. Damaged: no content types or root relationships, XML that does not parse, a part
the zip cannot give. Informational (`OpcKind.info`): relationships to parts that are not there,
parts without a content type, parts nothing reaches (Office never reads them).

Not read here: binary (.xlsb) sheets and links, Word fields (the caller runs its field analysis
on ``word_parts``), the zip layout itself. Sizes are bounded by the caller before this runs;
relationships are capped at `MAX_RELATIONSHIPS`.
"""

from __future__ import annotations

import base64
import binascii
import io
import lzma
import posixpath
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from html import escape
from urllib.parse import quote_from_bytes, unquote
from xml.etree import ElementTree

from attachguard.formats import htmlchunk, mashup
from attachguard.formats import ooxml_xml as xml
from attachguard.formats.ooxml_xml import PartXml, XmlRejected
from attachguard.formats.targets import (
    ASSEMBLY,
    ASSEMBLY_MESSAGE,
    CONTROLS,
    SCHEME,
    clicked_harm,
    climbs,
    database_server,
    local_program,
    on_a_share,
    target_kind,
)

__all__ = ["MAX_RELATIONSHIPS", "READ_ERRORS", "Embedded", "EmbeddedKind", "OpcKind",
           "OpcProblem", "Package", "PackageReport", "Part", "Relationship", "analyse_package",
           "inspect_package", "part_key", "read_package", "resolve", "target_kind"]  # fmt: skip


class OpcKind(StrEnum):
    """What a problem is. AMBIGUOUS: two readers could see different content; DAMAGED: Office
    would not open the package as it is; `info` kinds are facts, not threats."""

    VBA = "vba"
    XLM = "xlm"
    DDE = "dde"
    ACTIVEX = "activex"
    EXTERNAL_LINK = "external-link"
    ACTION = "action"
    AMBIGUOUS = "ambiguous"
    DAMAGED = "damaged"
    LIMIT = "limit"
    MISSING_PART = "missing-part"
    NO_CONTENT_TYPE = "no-content-type"
    UNREACHABLE = "unreachable"

    @property
    def info(self) -> bool:
        return self in _INFO


_INFO = frozenset({OpcKind.MISSING_PART, OpcKind.NO_CONTENT_TYPE, OpcKind.UNREACHABLE})


class EmbeddedKind(StrEnum):
    """What an embedded object's bytes are."""

    PACKAGE = "package"  # an OOXML package: scan it as a document of its own
    OLE = "ole"  # an OLE compound file: for the caller's OLE inspection
    FILE = "file"  # anything else: scan it as a file


MAX_RELATIONSHIPS = 100_000  # a large real document has a few thousand
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_CONTENT_TYPES = "[content_types].xml"
_PIECE = re.compile(r"/\[\d+\](?:\.last)?\.piece$")
# What reading a member can raise on a damaged or unsupported one (a package's parts, or any
# zip member): zipfile's, its decompressors' (zlib, lzma, bzip2 as OSError), an encrypted member
READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError,
               NotImplementedError, zlib.error, lzma.LZMAError)  # fmt: skip
_RELS = xml.RELATIONSHIPS_NS
_VML = "application/vnd.openxmlformats-officedocument.vmldrawing"
_SVG = "image/svg+xml"
_TYPES = xml.CONTENT_TYPES_NS


@dataclass(frozen=True)
class OpcProblem:
    """Something in the package, in words for a support lead: ``location`` is the part (its zip
    entry name; "" for the package), ``label`` a fixed word naming the cause, never content."""

    kind: OpcKind
    message: str
    location: str = ""
    label: str = ""


@dataclass(frozen=True)
class Relationship:
    """One relationship; ``part`` is the zip entry it reaches (None: outside, or missing)."""

    source: str  # the source part's zip entry name; "" for the package
    declared_in: str  # the .rels entry
    id: str
    type: str
    target: str
    external: bool
    part: str | None

    @property
    def short_type(self) -> str:
        return self.type.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Part:
    """A part that relationships reach, with its content type (lower case, no parameters)."""

    name: str
    content_type: str
    reached_by: tuple[str, ...]  # relationship types

    @property
    def short_types(self) -> frozenset[str]:
        return frozenset(t.rstrip("/").rsplit("/", 1)[-1].lower() for t in self.reached_by)


@dataclass(frozen=True)
class Embedded:
    """An embedded object for the caller to scan: ``kind`` is PACKAGE (an OOXML
    package), OLE (an OLE compound file) or FILE (see `EmbeddedKind`); ``imported`` when only
    an alternative format chunk (``altChunk``) reaches it: Word converts it into the document
    when it opens it, and never opens it as a file."""

    name: str
    content_type: str
    kind: EmbeddedKind
    data: bytes
    imported: bool = False


@dataclass
class Package:
    """A read package: its reachable parts, relationships and what reading found."""

    archive: zipfile.ZipFile
    entries: dict[str, zipfile.ZipInfo]  # by part key
    parts: dict[str, Part]  # reached parts, by part key
    relationships: list[Relationship]
    problems: list[OpcProblem]
    _xml: dict[str, PartXml | OpcProblem | None] = field(default_factory=dict, repr=False)

    def part(self, name: str) -> Part | None:
        return self.parts.get(part_key(name))

    def read(self, name: str) -> bytes:
        return self.archive.read(self.entries[part_key(name)])

    def head(self, name: str, size: int = 64) -> bytes:
        with self.archive.open(self.entries[part_key(name)]) as member:
            return member.read(size)

    @property
    def main(self) -> Part | None:
        """The main part (document, workbook, presentation) the package root points to."""
        for rel in self.relationships:
            if not rel.source and rel.short_type == "officeDocument" and rel.part:
                return self.part(rel.part)
        return None

    def relationships_of(self, source: str) -> dict[str, list[Relationship]]:
        """A part's relationships by id; an id given twice keeps both (nothing says which one
        Office takes, so each is judged)."""
        found: dict[str, list[Relationship]] = {}
        for rel in self.relationships:
            if rel.source == source:
                found.setdefault(rel.id, []).append(rel)
        return found

    def parts_of_kind(self, *content_types: str) -> list[Part]:
        wanted = {t.lower() for t in content_types}
        return [p for p in self.parts.values() if p.content_type in wanted]

    def parsed(self, name: str) -> PartXml | OpcProblem | None:
        """A reached part's XML (`PartXml`), a problem if it cannot be read, None if the part
        is not XML. Each part is parsed once."""
        key = part_key(name)
        if key not in self._xml:
            self._xml[key] = _parse_part(self, name)
        return self._xml[key]


@dataclass(frozen=True)
class PackageReport:
    """Everything the office engine needs: problems, the VBA project parts to hand to olevba,
    the WordprocessingML parts for field analysis, embedded objects to scan."""

    package: Package
    problems: tuple[OpcProblem, ...]
    vba_parts: tuple[str, ...]
    word_parts: tuple[str, ...]
    embedded: tuple[Embedded, ...]


def part_key(name: str) -> str:
    """How OPC compares part names: percent-decoded, case-insensitive, no leading slash."""
    return unquote(name).lstrip("/").lower()


def resolve(source: str, target: str) -> str | None:
    """The part key a relationship target names, relative to ``source`` ("" for the package);
    None for a URI with a scheme, a network path or an empty target."""
    path = unquote(target.split("#", 1)[0]).strip(CONTROLS).replace("\\", "/")
    if not path or SCHEME.match(path.lower()) or path.startswith("//"):
        return None
    if not path.startswith("/"):
        path = posixpath.join("/" + posixpath.dirname(part_key(source)), path)
    return posixpath.normpath(path).lstrip("/").lower()


# -- reading ------------------------------------------------------------------------------------


def read_package(source: zipfile.ZipFile | bytes) -> Package:
    """The package in ``source`` (raises `zipfile.BadZipFile` for something that is not a
    zip); every other reading problem is in ``Package.problems``."""
    archive = source if isinstance(source, zipfile.ZipFile) else zipfile.ZipFile(io.BytesIO(source))
    package = Package(archive, {}, {}, [], [])
    _index(package)
    types = _ContentTypes(package)
    _Walk(package, types).run()
    _report_unreachable(package)
    return package


def _index(package: Package) -> None:
    pieces = False
    apart = [info for info in package.archive.infolist() if _decoded_apart(info)]
    named = _named_in_structure(package, apart)
    for info in package.archive.infolist():
        if info.is_dir():
            continue
        key = part_key(info.filename)
        if _PIECE.search("/" + key) and not pieces:
            pieces = True
            message = "a part stored as interleaved pieces, which some readers join and others skip"
            package.problems.append(OpcProblem(OpcKind.AMBIGUOUS, message, info.filename, "piece"))
        if info in named:
            message = "a part name readers decode differently (no UTF-8 flag: code page 437 to "
            message += "Office and unzip, UTF-8 to LibreOffice and Java)"
            package.problems.append(OpcProblem(OpcKind.AMBIGUOUS, message, key, "name-encoding"))
        if key in package.entries:
            message = "two zip entries name the same part (names differ only in case or encoding)"
            package.problems.append(
                OpcProblem(OpcKind.AMBIGUOUS, message, info.filename, "duplicate")
            )
        package.entries[key] = info


def _named_in_structure(package: Package, apart: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The entries of ``apart`` whose name, read as UTF-8, a relationship or the content types
    name (as UTF-8 or %-escaped): the readers that take it so reach a part the others do not.
    A part nothing names by that reading is read alike by all (a media file a tool re-zipped
    without the flag: an earlier evasion suite's benign case)."""
    if not apart:
        return []
    structure = b""
    for info in package.archive.infolist():
        name = info.filename.lower()
        if name.endswith(".rels") or name == "[content_types].xml":
            try:
                structure += package.archive.read(info)[: 1 << 20].lower()
            except READ_ERRORS:
                continue  # the damage is reported where the part is read
    found = []
    for info in apart:
        base = info.orig_filename.encode("cp437").rsplit(b"/", 1)[-1].lower()
        if base in structure or quote_from_bytes(base).encode().lower() in structure:
            found.append(info)
    return found


def _decoded_apart(info: zipfile.ZipInfo) -> bool:
    """Whether a zip entry's name reads as different text in code page 437 (the zip format's
    own, which Python and unzip take without the UTF-8 flag) and in UTF-8 (which LibreOffice
    and Java take always): the same relationship then reaches another part in each (red team
    104: a flagless ``word/dócument.xml`` was LibreOffice's main part, and unseen here). OPC
    writes a part name's other characters %-escaped, so no Office file has such a name."""
    if info.flag_bits & 0x800 or info.orig_filename.isascii():
        return False
    try:
        raw = info.orig_filename.encode("cp437")
        return raw.decode("utf-8") != info.orig_filename
    except UnicodeError:
        return False  # (not UTF-8: every reader takes the code page)


def _read_xml(
    package: Package, key: str, root: str, wanted: frozenset[str], what: str
) -> list[tuple[str, dict[str, str]]]:
    """Elements of a structural part; reading problems are recorded, and give no elements."""
    name = package.entries[key].filename
    try:
        return xml.elements(package.archive.read(package.entries[key]), root, wanted)
    except XmlRejected as exc:
        package.problems.append(OpcProblem(OpcKind(exc.kind), f"{what} with {exc.reason}", name))
    except READ_ERRORS:
        package.problems.append(OpcProblem(OpcKind.DAMAGED, f"{what} that cannot be read", name))
    return []


class _ContentTypes:
    """``[Content_Types].xml``: Overrides by part key, Defaults by extension."""

    def __init__(self, package: Package) -> None:
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        if _CONTENT_TYPES not in package.entries:
            package.problems.append(
                OpcProblem(OpcKind.DAMAGED, "no [Content_Types].xml: not an OPC package")
            )
            return
        wanted = frozenset({f"{_TYPES} Default", f"{_TYPES} Override"})
        found = _read_xml(package, _CONTENT_TYPES, f"{_TYPES} Types", wanted, "content types")
        for name, attrs in found:
            table, key = (
                (self.defaults, attrs.get("Extension", "").lower())
                if name.endswith(" Default")
                else (self.overrides, part_key(attrs.get("PartName", "")))
            )
            value = attrs.get("ContentType", "").split(";", 1)[0].strip().lower()
            if table.setdefault(key, value) != value:
                message = "content types that declare two types for one part or extension"
                package.problems.append(
                    OpcProblem(OpcKind.AMBIGUOUS, message, "[Content_Types].xml")
                )

    def of(self, key: str) -> str:
        if key in self.overrides:
            return self.overrides[key]
        base = key.rsplit("/", 1)[-1]
        return self.defaults.get(base.rsplit(".", 1)[-1], "") if "." in base else ""


def _rels_key(source_key: str) -> str:
    folder, _, base = source_key.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


class _Walk:
    """Breadth-first from the package root through every reached part's relationships."""

    _WANTED = frozenset({f"{_RELS} Relationship"})

    def __init__(self, package: Package, types: _ContentTypes) -> None:
        self.package = package
        self.types = types
        self.reached: dict[str, list[str]] = {}

    def run(self) -> None:
        package = self.package
        if _rels_key("") not in package.entries:
            package.problems.append(
                OpcProblem(OpcKind.DAMAGED, "no package relationships (_rels/.rels)")
            )
        queue = deque([""])
        while queue and len(package.relationships) <= MAX_RELATIONSHIPS:
            queue.extend(self._follow(queue.popleft()))
        if len(package.relationships) > MAX_RELATIONSHIPS:
            message = f"more than {MAX_RELATIONSHIPS:,} relationships; not all followed"
            package.problems.append(OpcProblem(OpcKind.LIMIT, message))
        for key, rel_types in self.reached.items():
            name = package.entries[key].filename
            content_type = self.types.of(key)
            package.parts[key] = Part(name, content_type, tuple(rel_types))
            if not content_type:
                message = "a part without a content type"
                package.problems.append(OpcProblem(OpcKind.NO_CONTENT_TYPE, message, name))

    def _follow(self, source_key: str) -> list[str]:
        """Record the relationships of one source; the part keys it reaches for the first time."""
        package = self.package
        rels_key = _rels_key(source_key)
        if rels_key not in package.entries:
            return []
        source = package.entries[source_key].filename if source_key else ""
        declared_in = package.entries[rels_key].filename
        root = f"{_RELS} Relationships"
        new: list[str] = []
        for _, attrs in _read_xml(package, rels_key, root, self._WANTED, "relationships"):
            external = attrs.get("TargetMode", "").strip().lower() == "external"
            target = attrs.get("Target", "")
            key = None if external else resolve(source, target)
            if key is not None and key not in package.entries:
                message = "a relationship to a part that is not in the file"
                package.problems.append(OpcProblem(OpcKind.MISSING_PART, message, declared_in))
                key = None
            rel_type = attrs.get("Type", "")
            name = package.entries[key].filename if key else None
            rel = Relationship(source, declared_in, attrs.get("Id", ""), rel_type, target,
                               external, name)  # fmt: skip
            package.relationships.append(rel)
            if key is not None:
                if key not in self.reached:
                    new.append(key)
                self.reached.setdefault(key, []).append(rel_type)
        return new


def _report_unreachable(package: Package) -> None:
    sources = ["", *package.parts]
    structural = {_CONTENT_TYPES, *map(_rels_key, sources)}
    for key, info in package.entries.items():
        if key not in package.parts and key not in structural:
            message = "a part that no relationship reaches (Office never reads it)"
            package.problems.append(OpcProblem(OpcKind.UNREACHABLE, message, info.filename))


def _parse_part(package: Package, name: str) -> PartXml | OpcProblem | None:
    part = package.part(name)
    if part is not None and _media_type(part) in htmlchunk.HTML_TYPES:
        return None  # a web page: read as HTML (`_html_problems`), never as XML
    if part is not None and _opaque(part):
        return None  # an add-in's or the printer's own data, a font: Office reads no XML there
    try:
        looks = xml.looks_like_xml(package.head(name))
        if looks is None:  # blanks so far: XML may begin after any number of them
            looks = xml.looks_like_xml(package.read(name))
        if not looks:
            return None
        return xml.read_part(package.read(name), picture=part is not None and _is_svg(part))
    except XmlRejected as exc:
        if exc.kind == xml.DAMAGED and _is_vml(package.part(name)):
            # Office reads VML leniently, and writes it with unclosed <br> tags: so is it read
            lenient = xml.lenient_vml(package.read(name))
            if lenient is not None:
                return lenient
        return OpcProblem(OpcKind(exc.kind), f"an XML part with {exc.reason}", name)
    except READ_ERRORS:
        return OpcProblem(OpcKind.DAMAGED, "a part that cannot be read from the zip", name)


# Binary data Excel keeps for others without reading it: an add-in's custom property of a
# sheet (Mac Excel's reporting add-ins store UTF-16 XML there that says it is UTF-8), a printer's
# settings. Such a part is not parsed as XML when it is typed so and reached as that alone.
_OPAQUE_TYPES = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.customproperty",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.printersettings",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.printersettings",
    "application/vnd.openxmlformats-officedocument.presentationml.printersettings",
})  # fmt: skip
_OPAQUE_RELATIONSHIPS = frozenset({"customproperty", "printersettings"})


# Embedded fonts (PowerPoint's and Google Slides' .fntdata, Word's obfuscated fonts): binary,
# an EOT font's first bytes its size, so 1 in 256 starts with "<" (hunt 98: two decks CORRUPT)
_FONT_TYPES = frozenset({
    "application/x-fontdata",
    "application/x-font-ttf",
    "application/x-font-otf",
    "application/vnd.openxmlformats-officedocument.obfuscatedfont",
    "application/vnd.ms-fontobject",
})  # fmt: skip


def _opaque(part: Part) -> bool:
    kinds = {t.lower() for t in part.short_types}
    media = _media_type(part)
    if (media in _FONT_TYPES or media.startswith("font/")) and kinds <= {"font"}:
        return True
    return media in _OPAQUE_TYPES and kinds <= _OPAQUE_RELATIONSHIPS


def _is_svg(part: Part) -> bool:
    """An SVG picture (Office 365 keeps the file inserted, beside a PNG rendering of it):
    typed as one and reached as a picture only (not a main document retyped)."""
    return _media_type(part) == _SVG and part.short_types == {"image"}


def _media_type(part: Part) -> str:
    return part.content_type.split(";")[0].strip().lower()


def _is_vml(part: Part | None) -> bool:
    """Legacy VML drawings (comment boxes, form controls): no formulas, no DrawingML."""
    return part is not None and (part.content_type == _VML or part.short_types == {"vmldrawing"})


# -- inspection ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    kind: OpcKind
    content_types: frozenset[str]
    rel_types: frozenset[str]  # short, lower case
    message: str

    def matches(self, part: Part) -> bool:
        return part.content_type in self.content_types or bool(part.short_types & self.rel_types)


_VBA = _Rule(OpcKind.VBA, frozenset({"application/vnd.ms-office.vbaproject"}),
             frozenset({"vbaproject"}), "a VBA macro project")  # fmt: skip
_XLM = _Rule(
    OpcKind.XLM,
    frozenset({f"application/vnd.ms-excel.{kind}macrosheet{xml_}" for kind in ("", "intl")
               for xml_ in ("", "+xml")}),
    frozenset({"xlmacrosheet", "xlintlmacrosheet"}),
    "an Excel 4 (XLM) macro sheet",
)  # fmt: skip
_ACTIVEX = _Rule(OpcKind.ACTIVEX, frozenset({"application/vnd.ms-office.activex+xml"}),
                 frozenset({"control"}), "an ActiveX control")  # fmt: skip
# The control's persisted data: reported only when no control part was (one finding a control).
_ACTIVEX_DATA = _Rule(OpcKind.ACTIVEX, frozenset({"application/vnd.ms-office.activex"}),
                      frozenset({"activexcontrolbinary"}), "an ActiveX control")  # fmt: skip

# Relationships whose target is an embedded object, whatever its content type says.
_EMBEDDING_RELS = frozenset({"oleobject", "package", "afchunk", "subdocument"})
_EXTERNAL_WORDS = {
    "attachedtemplate": "a template loaded from outside the file",
    "frame": "a frame loaded from outside the file",
    "subdocument": "a sub-document loaded from outside the file",
    "oleobject": "an object linked to a file outside the document",
    "package": "a package linked outside the file",
    "externallinkpath": "a link to an external workbook",
    "image": "a picture loaded from outside the file",
}
_RUN_ACTIONS = {
    "ppaction://program": "starts a program",
    "ppaction://macro": "runs a macro",
    "ppaction://ole": "runs an embedded object",
}
_SAFE_ACTIONS = frozenset({
    "", "ppaction://hlinkshowjump", "ppaction://hlinksldjump", "ppaction://hlinkpres",
    "ppaction://hlinkfile", "ppaction://customshow", "ppaction://noaction", "ppaction://media",
})  # fmt: skip
_EVENTS = {
    "click": "on click",
    "hover": "when the pointer moves over it",
    "show": "by an animation, as the slide show reaches it",
}
_WORD_TYPES = ("application/vnd.openxmlformats-officedocument.wordprocessingml.",
               "application/vnd.ms-word.")  # fmt: skip


def inspect_package(package: Package) -> list[OpcProblem]:
    """Every problem in the package: reading problems, then by content or relationship type,
    external relationships, and what the XML of each reached part says."""
    problems = list(package.problems)
    problems += _by_type(package)
    problems += [p for rel in package.relationships if (p := _external(rel, package))]
    problems += _hyperlinks_used_otherwise(package)
    problems += _hyperlink_base(package)
    problems += _customisation(package)
    problems += _two_of_a_kind(package)
    for part in package.parts.values():
        problems += _xml_problems(package, part)
        if found := _unread_import(package, part):
            problems.append(found)
    return problems


def analyse_package(source: zipfile.ZipFile | bytes) -> PackageReport:
    """`read_package` and `inspect_package` in one, with the parts the caller analyses further
    (VBA projects, WordprocessingML parts) and the embedded objects to scan."""
    package = read_package(source)
    problems = inspect_package(package)
    parts = package.parts.values()
    vba = tuple(p.name for p in parts if _VBA.matches(p))
    skip = {*vba, *(p.name for p in parts if _ACTIVEX.matches(p) or _ACTIVEX_DATA.matches(p))}
    embedded = []
    for part in parts:
        if part.name not in skip:
            try:
                if found := _embedded(package, part):
                    embedded.append(found)
            except READ_ERRORS:
                message = "an embedded object that cannot be read from the zip"
                problems.append(OpcProblem(OpcKind.DAMAGED, message, part.name))
    word = tuple(p.name for p in parts if _is_word(package, p))
    return PackageReport(package, tuple(problems), vba, word, tuple(embedded))


def _by_type(package: Package) -> list[OpcProblem]:
    problems = [
        OpcProblem(rule.kind, rule.message, part.name)
        for rule in (_VBA, _XLM, _ACTIVEX)
        for part in package.parts.values()
        if rule.matches(part)
    ]
    if not any(p.kind == OpcKind.ACTIVEX for p in problems):
        rule = _ACTIVEX_DATA
        problems += [OpcProblem(OpcKind.ACTIVEX, rule.message, p.name)
                     for p in package.parts.values() if rule.matches(p)]  # fmt: skip
    return problems


# Relationships to a file on the reader's own machine that stay allowed (see `_external`).
_LOCAL_ALLOWED = frozenset({
    "attachedtemplate", "image", "externallinkpath",
    "mailmergesource", "mailmergeheadersource", "audio", "video", "media",
})  # fmt: skip
_CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
# a linked sound or video is allowed only as a sound or video file
_MEDIA = frozenset({"audio", "video", "media"})
_MEDIA_FILES = (
    ".mp3",
    ".wav",
    ".wma",
    ".m4a",
    ".aac",
    ".aif",
    ".aiff",
    ".au",
    ".mid",
    ".midi",
    ".mp4",
    ".m4v",
    ".mov",
    ".avi",
    ".wmv",
    ".asf",
    ".mpg",
    ".mpeg",
    ".3gp",
)
# ... but only by an absolute path: a relative one that climbs (..\..\Book2.xlsx) is read
# from wherever the reader saved the attachment, among the reader's own files.
_ABSOLUTE_ONLY = frozenset({"externallinkpath"})


def _external(rel: Relationship, package: Package) -> OpcProblem | None:
    """EXTERNAL_LINK for a relationship that makes Office fetch something from outside the
    file. Hyperlinks need a click and stay allowed (but one to a network share, as in a PDF:
    the click alone sends the reader's credentials), as do mailto: and links beside the
    document; so do a template, a picture, a mail merge's data source or a linked workbook on
    a local drive: Word records a template for every document made from a personal one, "Insert
    picture > Link to file" records the picture's path on the author's disk, a mail merge its
    data file, and Excel the path of each workbook a formula reads (real python-docx, xlrd,
    Open XML SDK and ClosedXML samples); a local file is not the sender's and no request leaves
    the reader's machine (the RTF and Word 97-2003 readings flag a mail merge only from another
    machine, the formula reading only a workbook on one). So do linked sounds and videos
    (PowerPoint 2007 linked an inserted .mp3 by its path), a chart's data linked to a workbook
    by its path ("paste chart, link data": an OLE link from a chart part) and a range of a
    workbook pasted as a linked object (an OLE link to a workbook, `_workbook`); an OLE link to
    any other local file is flagged (Office starts that file's program to update it). Network
    paths and URLs are flagged."""
    # an internal target is inside the package even when its part is missing (reported as a
    # missing part, not as a fetch); one with a scheme or a network path leads out of it
    outside = rel.external or resolve(rel.source, rel.target) is None
    short = rel.short_type.lower()
    if short == "hyperlink":
        if (harm := clicked_harm(rel.target)) is None:
            return None
        what = f"a hyperlink to {harm}"
        return OpcProblem(OpcKind.EXTERNAL_LINK, what, rel.declared_in, rel.short_type)
    if not outside:
        return None
    where = target_kind(rel.target)
    if short == "oleobject" and (_is_chart(package.parts.get(rel.source)) or _workbook(rel)):
        short = "externallinkpath"  # the chart's data or the pasted range, read from that workbook
    if where in ("mail", "relative") or (where == "local" and _local_allowed(short, rel.target)):
        return None
    what = _EXTERNAL_WORDS.get(short, "a relationship to content outside the file")
    place = "a network address" if where == "remote" else "a local path"
    return OpcProblem(OpcKind.EXTERNAL_LINK, f"{what} ({place})", rel.declared_in, rel.short_type)


def _is_chart(part: Part | None) -> bool:
    return part is not None and part.content_type == _CHART_TYPE


# Excel's workbooks, which Office opens in Excel to update a linked object (Excel.Sheet.12,
# Excel.Sheet.8 and the macro-enabled and binary ones)
_WORKBOOKS = (".xlsx", ".xlsm", ".xlsb", ".xls")


def _workbook(rel: Relationship) -> bool:
    """Whether an OLE link names an Excel workbook by its extension: "Paste Special > Paste
    link" of a range puts a worksheet object in a slide or a document, linked to the workbook's
    path on the author's disk (Apache POI's bug54570.pptx, PowerPoint 2010), and Office asks
    before it updates the object from there. A name Windows would run, read as a link's is
    (`targets.local_program`: up to a NUL, an NTFS stream), is no workbook."""
    named = rel.target.lower().rstrip(CONTROLS + ". ").endswith(_WORKBOOKS)
    return named and local_program(rel.target) is None


def _local_allowed(short: str, target: str) -> bool:
    if short in _MEDIA and not target.lower().rstrip(CONTROLS + ". ").endswith(_MEDIA_FILES):
        return False  # a "video" that is a program or a page (clip.hta) is no video
    return short in _LOCAL_ALLOWED and not (short in _ABSOLUTE_ONLY and climbs(target))


# The elements that follow a hyperlink relationship when it is clicked or pointed at
_HYPERLINK_USERS = frozenset({"hyperlink", "hlinkClick", "hlinkHover", "hlinkMouseOver"})


def _hyperlinks_used_otherwise(package: Package) -> list[OpcProblem]:
    """EXTERNAL_LINK for a relationship typed as a hyperlink (allowed: it needs a click) to a
    URL that another element names: a template (``w:attachedTemplate``), a picture's
    ``r:link``, a linked workbook. Whether Office checks a relationship's type before loading
    what it names is not known here; read either way, such a file is one of two things, and
    one of them loads content from outside it. Parts are parsed for this only when they have
    such a relationship."""
    wanted: dict[str, dict[str, Relationship]] = {}
    for rel in package.relationships:
        hyperlink = rel.source and rel.short_type.lower() == "hyperlink"
        # (one to a share is flagged whoever uses it)
        if hyperlink and target_kind(rel.target) == "remote" and not on_a_share(rel.target):
            wanted.setdefault(rel.source, {})[rel.id] = rel
    problems = []
    for source, rels in wanted.items():
        try:
            users = xml.relationship_users(package.read(source), frozenset(rels))
        except (*READ_ERRORS, KeyError):
            continue  # a part missing or unreadable from the zip: reported as such
        except XmlRejected:
            # which element names them cannot be told (a VML part Office reads leniently, a
            # big part read only to its root elsewhere): count them as used
            users = {rel_id: {"part that does not parse"} for rel_id in rels}
        for rel_id, elements in sorted(users.items()):
            if other := sorted(elements - _HYPERLINK_USERS):
                what = f"a hyperlink relationship that {_an(other[0])} loads from a URL"
                rel = rels[rel_id]
                problems.append(
                    OpcProblem(OpcKind.EXTERNAL_LINK, what, rel.declared_in, rel.short_type)
                )
    return problems


# The document's properties: extended (``docProps/app.xml``) and custom (``custom.xml``), each
# by its content type and its relationship's types, transitional and strict
_PROPERTIES = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
_PROPERTIES_RELS = frozenset({"extended-properties", "extendedproperties"})
_CUSTOM = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_RELS = frozenset({"custom-properties", "customproperties"})


def _property_texts(
    package: Package,
    kind: tuple[str, frozenset[str]],
    wanted: frozenset[str],
    named: str | None = None,
) -> Iterator[tuple[Part, list[str]]]:
    """Each properties part of a ``kind`` (its content type, its relationships' types) with
    the texts of its ``wanted`` elements (`ooxml_xml.element_texts`); a damaged part is left
    (its damage is reported where its XML is read)."""
    content_type, rel_types = kind
    for part in package.parts.values():
        if part.content_type != content_type and not part.short_types & rel_types:
            continue
        try:
            yield part, xml.element_texts(package.read(part.name), wanted, named)
        except (XmlRejected, *READ_ERRORS):
            continue


def _hyperlink_base(package: Package) -> list[OpcProblem]:
    """EXTERNAL_LINK for a hyperlink base (``docProps/app.xml``) on a network share: Office
    resolves every relative hyperlink against it, so a click on one sends the reader's Windows
    credentials there, as a hyperlink to a share does. A base URL stays allowed, as a link to
    one does."""
    problems = []
    extended = (_PROPERTIES, _PROPERTIES_RELS)
    for part, bases in _property_texts(package, extended, xml.HYPERLINK_BASE):
        if any(on_a_share(base) for base in bases):
            message = "a hyperlink base on a network share (following a link sends the reader's "
            message += "Windows credentials)"
            problems.append(OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, "hyperlinkBase"))
    return problems


# The parts of which Office takes one from the main part (workbook, document): how its cells'
# strings read, how its numbers and text are formatted and hidden, its lists' labels
_ONE_OF_A_KIND = {"sharedstrings": "shared strings", "styles": "styles", "numbering": "numbering"}


def _two_of_a_kind(package: Package) -> list[OpcProblem]:
    """AMBIGUOUS for a main part that names two parts of a kind Office takes one of: readers
    could take either, and see other text (review 114: a card number shown through one shared
    strings part and one styles part of three each). No Office, LibreOffice or library file
    among 1,149 real packages names two."""
    mains = {r.part for r in package.relationships
             if not r.source and r.short_type == "officeDocument" and r.part}  # fmt: skip
    named: dict[tuple[str, str], set[str]] = {}
    for rel in package.relationships:
        kind = rel.short_type.lower()
        if rel.source in mains and kind in _ONE_OF_A_KIND and rel.part:
            named.setdefault((rel.source, kind), set()).add(rel.part)
    return [
        OpcProblem(OpcKind.AMBIGUOUS,
                   f"two {_ONE_OF_A_KIND[kind]} parts named: readers could take either",
                   source, kind)
        for (source, kind), parts in named.items() if len(parts) > 1
    ]  # fmt: skip


def _customisation(package: Package) -> list[OpcProblem]:
    """EXTERNAL_LINK for a VSTO customisation: the custom property ``_AssemblyLocation`` names
    the deployment manifest of an add-in that Word and Excel fetch (from a share, with the
    reader's Windows credentials; from a URL; from beside the file) and offer to install and
    run when the document opens (red team 114; used in attacks since 2022)."""
    custom = (_CUSTOM, _CUSTOM_RELS)
    return [
        OpcProblem(OpcKind.EXTERNAL_LINK, ASSEMBLY_MESSAGE, part.name, ASSEMBLY)
        for part, places in _property_texts(package, custom, xml.CUSTOM_PROPERTY, ASSEMBLY)
        if any(place.strip() for place in places)
    ]


def _an(user: str) -> str:
    return f"a {user}" if " " in user else f"a {user} element"


_DRAWINGS = {"vml": "a legacy VML drawing", "svg": "an SVG picture", "element": "an element"}


def _what_it_runs_or_loads(part: Part, info: PartXml) -> list[OpcProblem]:
    """A part's formulas that start a program, open a workbook elsewhere or fetch from the web,
    its drawings that name a share, and the add-ins it loads from a share."""
    problems = []
    if info.dde_formula:
        message = "a formula that starts another program through DDE"
        problems.append(OpcProblem(OpcKind.DDE, message, part.name, "formula"))
    if info.remote_formula:
        message = "a formula that opens a workbook or a link on another machine (a share or a URL)"
        problems.append(OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, "formula"))
    if info.fetching_formula:
        message = (
            "a formula that fetches from another machine when Excel calculates it (WEBSERVICE,"
            " IMAGE, RTD from a server)"
        )
        problems.append(OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, "formula"))
    for kind in sorted(info.shared_drawings):
        message = f"{_DRAWINGS[kind]} that names a picture or link on a network share"
        problems.append(OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, kind))
    if any(on_a_share(store) for store in info.add_in_stores):
        message = "an add-in loaded from a network share when the document opens"
        problems.append(OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, "add-in"))
    if any(target_kind(place) == "remote" for place in info.republished_to):
        message = "a web page Excel writes to another machine whenever the workbook is saved"
        problems.append(OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, "web publishing"))
    return problems


def _html_problems(package: Package, part: Part) -> list[OpcProblem]:
    """EXTERNAL_LINK for a web page Word imports (an HTML or MHT alternative format chunk,
    `htmlchunk`) that loads a picture, style sheet, frame or object from outside the file, as
    a picture relationship to one does, or links to a network share."""
    try:
        found = htmlchunk.addresses(package.read(part.name), part.content_type)
    except READ_ERRORS:
        return [OpcProblem(OpcKind.DAMAGED, "a web page that cannot be read", part.name)]
    problems = []
    if htmlchunk.loads_from_afar(found.fetched):
        message = "a web page Word imports that loads a picture or page from outside the file"
        problems.append(OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, "html"))
    if harms := [harm for address in found.clicked if (harm := clicked_harm(address))]:
        message = f"a web page Word imports with a link to {harms[0]}"
        problems.append(OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, "html"))
    # what Word instantiates from the page it imports (an ActiveX control, an embedded object,
    # its macros or Excel 4 macros); its scripts Word does not run
    for kind, what in dict.fromkeys(found.active):
        if kind in _IMPORTED_ACTIVE:
            message = f"a web page Word imports with {what}"
            problems.append(OpcProblem(_IMPORTED_ACTIVE[kind], message, part.name, "html"))
    return problems


_IMPORTED_ACTIVE = {"object": OpcKind.ACTIVEX, "macros": OpcKind.VBA, "xlm": OpcKind.XLM}


# What Word imports as an altChunk, by content type, and reads here: a web page or web archive
# (`htmlchunk`), text, RTF and Word documents (scanned as children); an XML chunk only as a
# flat package (`flat_package`)
_IMPORTS_READ = htmlchunk.HTML_TYPES | {"text/plain", "application/rtf", "text/rtf"}
_XML_TYPES = frozenset({"application/xml", "text/xml"})


def _unread_import(package: Package, part: Part) -> OpcProblem | None:
    """DAMAGED for a part Word imports into the document (an altChunk) in a format not read
    here: an XML chunk other than a flat package (a Word 2003 XML document), or a content
    type that is neither a web page, text, RTF nor a Word document."""
    if "afchunk" not in part.short_types:
        return None
    media = _media_type(part)
    if media in _IMPORTS_READ or media.startswith(_WORD_TYPES):
        return None
    if media in _XML_TYPES and flat_package(package.read(part.name)) is not None:
        return None
    message = "a part Word imports into the document in a format that is not inspected"
    return OpcProblem(OpcKind.DAMAGED, message, part.name, "altChunk")


def flat_package(data: bytes) -> bytes | None:
    """A flat package (Word's "XML document": ``pkg:package``, each part a ``pkg:part`` with
    its XML or its bytes in base64) written as the zip package Word reads it as; None for
    any other XML, XML in another encoding than UTF-8, XML with a DTD, or a part that cannot
    be read."""
    text = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"<") or b"<!DOCTYPE" in data or FLAT_NS.encode() not in data:
        return None
    try:
        # expat, and no DTD (refused above): no entity to expand
        parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder())  # noqa: S314
        parser.feed(text)
        root = parser.close()
    except (ElementTree.ParseError, ValueError, LookupError):
        return None
    if root.tag != _FLAT_ROOT:
        return None
    out = io.BytesIO()
    types: dict[str, str] = {}
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in root.findall(_FLAT_PART):
                name = part.get(_FLAT_NAME, "").lstrip("/")
                xml_data, binary = part.find(_FLAT_XML), part.find(_FLAT_BINARY)
                if not name or name in types:
                    return None
                if xml_data is not None and len(xml_data):
                    content = ElementTree.tostring(xml_data[0], encoding="utf-8")
                elif binary is not None:
                    content = base64.b64decode("".join((binary.text or "").split()), validate=True)
                else:
                    return None
                archive.writestr(name, content)
                types[name] = part.get(_FLAT_TYPE, "")
            overrides = "".join(
                f'<Override PartName="/{escape(n)}" ContentType="{escape(t)}"/>'
                for n, t in types.items()
            )
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                f'openxmlformats.org/package/2006/content-types">{overrides}</Types>',
            )
    except (ValueError, binascii.Error):
        return None
    return out.getvalue()


FLAT_NS = "http://schemas.microsoft.com/office/2006/xmlPackage"
_FLAT_ROOT = f"{{{FLAT_NS}}}package"
_FLAT_PART = f"{{{FLAT_NS}}}part"
_FLAT_NAME = f"{{{FLAT_NS}}}name"
_FLAT_TYPE = f"{{{FLAT_NS}}}contentType"
_FLAT_XML = f"{{{FLAT_NS}}}xmlData"
_FLAT_BINARY = f"{{{FLAT_NS}}}binaryData"


def _xml_problems(package: Package, part: Part) -> list[OpcProblem]:
    if _media_type(part) in htmlchunk.HTML_TYPES:
        return _html_problems(package, part)
    info = package.parsed(part.name)
    if info is None:
        return []
    if isinstance(info, OpcProblem):
        return [info]
    problems = _what_it_runs_or_loads(part, info)
    for link in sorted(info.links):
        message = f"{'a DDE' if link == 'ddeLink' else 'an OLE'} link to another program"
        problems.append(OpcProblem(OpcKind.DDE, message, part.name, link))
    if info.root in xml.MACRO_SHEET_ROOTS and not _XLM.matches(part):
        problems.append(OpcProblem(OpcKind.XLM, _XLM.message, part.name))
    if info.sources:
        refreshing = _refreshes(package)
        problems += [p for s in info.sources if (p := _connection(part, s, refreshing))]
    if info.root == mashup.MASHUP_ROOT:
        problems += _power_query(package, part)
    if info.actions:
        problems += _actions(package, part, info.actions)
    return problems


def _actions(package: Package, part: Part, actions: list[xml.Action]) -> list[OpcProblem]:
    """The part's PowerPoint actions judged with their relationship (each, if an id is
    given twice)."""
    rels = package.relationships_of(part.name)
    problems = []
    for action in actions:
        named: list[Relationship | None] = [*rels.get(action.rel_id, [])]
        for rel in named or [None]:
            if found := _action(part, action, rel):
                problems.append(found)
    return problems


# What a connection reads from the workbook itself: its Power Query queries, its data model
# (Excel 2013's "Data Model Connection", Power Pivot's "$Embedded$" in Excel 2010).
_INSIDE_WORKBOOK = frozenset({"$workbook$", "$embedded$", "data model connection"})


def _refreshes(package: Package) -> bool:
    """Whether any part asks Excel to refresh data as the workbook opens, besides the
    connections' own settings: the workbook (every connection), a pivot table's cache or a
    query table (the connection they use: which one is not followed, so any counts)."""
    for name in package.parts:
        info = package.parsed(name)
        if isinstance(info, xml.PartXml) and info.refreshes:
            return True
    return False


def _connection(part: Part, source: xml.Source, refreshing: bool) -> OpcProblem | None:
    """EXTERNAL_LINK for an Excel data connection that loads content from outside the file: a
    web query of a URL or share (one of a path, as an XML map's file is, is judged as a file),
    a text, ODC or database file on another machine, or any outside source Excel
    refreshes as soon as the workbook opens (``refreshing``: another part asks for it). A
    database named by server (``SQL01``), a local file and the workbook's own queries are not
    flagged unless refreshed on open."""
    target = source.target
    if target.lower() in _INSIDE_WORKBOOK:
        return None
    where = target_kind(target) if target else "relative"
    # a web query's address without a scheme may be a host ("www.example.com/q"); a local path
    # (an XML map's file) or a bare name is judged as a file is
    hostlike = where == "relative" and "." in target.replace("\\", "/").split("/", 1)[0]
    if source.kind == "web" and (where == "remote" or hostlike):
        what = "a web query that loads data from outside the file"
    elif where == "remote":
        what = "a data connection to a file or database outside the file"
    elif (source.on_open or refreshing) and target:
        what = "a data connection refreshed from outside the file when it opens"
    elif source.kind == "merge" and database_server(target):
        what = "a mail merge whose data source is a database server"
    else:
        return None
    place = "a network address" if where == "remote" else "a local path or server"
    if source.kind == "merge" and database_server(target):
        place = "another machine"
    return OpcProblem(OpcKind.EXTERNAL_LINK, f"{what} ({place})", part.name, "connection")


def _power_query(package: Package, part: Part) -> list[OpcProblem]:
    """EXTERNAL_LINK for Power Query queries (a DataMashup part) that fetch from the web, a
    SharePoint or OData service, or a file on another machine."""
    try:
        formulas = mashup.queries(package.read(part.name))
    except mashup.TooLarge as exc:
        message = f"{exc}, too large to check for sources outside the file"
        return [OpcProblem(OpcKind.LIMIT, message, part.name, "power-query")]
    calls = mashup.remote_calls(formulas) if formulas else []
    if not calls:
        return []
    message = f"a Power Query query that loads data from outside the file ({', '.join(calls)})"
    return [OpcProblem(OpcKind.EXTERNAL_LINK, message, part.name, "power-query")]


def _action(part: Part, action: xml.Action, rel: Relationship | None) -> OpcProblem | None:
    """ACTION for a PowerPoint action setting that runs something (or is of an unknown kind),
    and for one that opens a link outside the file on mouse-over, without a click: any target
    that is no part of the package but a mail address, a relative one included (PowerPoint
    resolves it against the document's hyperlink base, or opens the file beside the deck)."""
    verb = re.sub(r"\s+", "", action.action).lower().split("?", 1)[0]
    when = _EVENTS[action.event]
    if verb in _RUN_ACTIONS:
        message, label = f"a PowerPoint action that {_RUN_ACTIONS[verb]} {when}", verb
    elif verb not in _SAFE_ACTIONS:
        message, label = f"a PowerPoint action of an unknown kind {when}", "unknown"
    elif action.event == "hover" and rel and rel.part is None and target_kind(rel.target) != "mail":
        message, label = f"a link outside the file that opens {when}", "hover"  # Word too
    else:
        return None
    return OpcProblem(OpcKind.ACTION, message, part.name, label)


def _embedded(package: Package, part: Part) -> Embedded | None:
    """The part as an embedded object, classified by its bytes; None if it is not one."""
    head = package.head(part.name, 8)
    by_rel = bool(part.short_types & _EMBEDDING_RELS)
    if head != OLE_MAGIC and head[:2] != b"PK" and not by_rel:
        return None
    data = package.read(part.name)
    imported = part.short_types == {"afchunk"}
    if imported and _media_type(part) in _XML_TYPES and (flat := flat_package(data)):
        return Embedded(part.name, part.content_type, EmbeddedKind.PACKAGE, flat, imported)
    if head == OLE_MAGIC:
        kind = EmbeddedKind.OLE
    elif _is_package(data):
        kind = EmbeddedKind.PACKAGE
    elif by_rel:
        kind = EmbeddedKind.FILE
    else:
        return None  # some other zip: the zip engine hands it over as it does any member
    return Embedded(part.name, part.content_type, kind, data, imported)


def _is_package(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(part_key(n) == _CONTENT_TYPES for n in archive.namelist())
    except READ_ERRORS:
        return False


def _is_word(package: Package, part: Part) -> bool:
    info = package.parsed(part.name)
    if not isinstance(info, PartXml):
        return False
    return info.root_namespace in xml.WORD_NS or part.content_type.startswith(_WORD_TYPES)
