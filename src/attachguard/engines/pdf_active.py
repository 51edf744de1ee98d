"""What the PDF engine calls active content, and the findings it makes of it.

Two ways of looking at an object share these rules. `inspect` walks an object pypdf has read
(a dictionary, its direct dictionaries and arrays) and checks each dictionary's keys and action
type. `check_names` judges an object's raw text by the names in it (``#xx`` decoded, strings
and comments left out): a body naming /JS or /Launch is active wherever the name stands, which
is what a reader that repairs the file, or one that takes another definition, would run. A
glyph table's names are not judged (`pdf_glyphs`). /OpenAction and /AA need more than their
name: actions that only change what is shown (`inert_actions`) are harmless.

Anything that names a file on another machine (a UNC path or a ``file://host`` target) where a
reader may open it is EXTERNAL_LINK: an action (GoToR, GoToE, ImportData, SubmitForm, Thread, a
URI action), a stream's external data, a movie, a media clip, a reference XObject, any file
specification, and a document's base URI; opening the path makes Windows send the reader's
credentials to that host. A web address in them is a plain link.

The codes are declared here, where their meaning is, and listed by the engine (`pdf.py`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pypdf import apply_configuration
from pypdf.errors import DependencyError, DeprecationError, PyPdfError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from attachguard.codes import EXTERNAL_LINK, Action, Code, declare
from attachguard.engines.base import finding
from attachguard.engines.pdf_glyphs import Census, glyph_table, shaped_like_one
from attachguard.formats.pypdf_limits import limited
from attachguard.formats.targets import local_program, on_a_share
from attachguard.report import Finding

NAME = "pdf"
_ACTIVE = (
    "This PDF contains active content, such as scripts or automatic actions, and can't be shared."
)

PDF_JAVASCRIPT = declare("PDF_JAVASCRIPT", "threat", Action.REJECT, "PDF with JavaScript", _ACTIVE)
PDF_AUTO_ACTION = declare(
    "PDF_AUTO_ACTION",
    "threat",
    Action.REJECT,
    "PDF action that runs on open or on events",
    _ACTIVE,
)
PDF_LAUNCH = declare(
    "PDF_LAUNCH", "threat", Action.REJECT, "PDF Launch action (starts a program)", _ACTIVE
)
PDF_EMBEDDED_FILE = declare(
    "PDF_EMBEDDED_FILE",
    "info",
    Action.ALLOW,
    "PDF carries an attached file (scanned too)",
    "This PDF has another file attached to it, which can't be shared in chat.",
)
PDF_XFA = declare("PDF_XFA", "threat", Action.REJECT, "PDF with an XFA form", _ACTIVE)
PDF_RICHMEDIA = declare(
    "PDF_RICHMEDIA", "threat", Action.REJECT, "PDF with RichMedia (Flash/3D) content", _ACTIVE
)

# Besides its own errors, pypdf raises these on malformed structure (an integer where a
# dictionary belongs, an index past the end of an array, nesting without end): a damaged file.
DAMAGED = (
    PyPdfError,
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    ArithmeticError,
    RecursionError,
    zlib.error,
    AssertionError,  # pypdf asserts some structure (an object stream that is not one)
    NotImplementedError,  # a filter or an encryption method pypdf does not know
    DependencyError,  # ... or cannot use here
    DeprecationError,  # a deprecated filter abbreviation (/Fl): a plain Exception in pypdf
)

_MAX_PER_CODE = 10  # enough to explain a verdict; a PDF with 5,000 scripts needs no 5,000 lines
_RICH_SUBTYPES = ("/RichMedia", "/3D")
_JAVASCRIPT = "JavaScript in the PDF"
_LOCAL_BASE = "base address on the reader's computer: the PDF's relative links open its files"
# pdf.js before 4.2 wrote a font's /FontMatrix into the glyph code it compiles and runs
# (CVE-2024-4367): anything but numbers there is script to Firefox and to web viewers
FONT_MATRIX = "font matrix holding more than numbers, which pdf.js runs as script"
_LAUNCH = "PDF action that starts a program"
ON_EVENTS = "PDF action that runs on page or form events"
ON_OPEN = "PDF action that runs when it is opened"
_XFA = "XFA form in the PDF (can hold scripts)"
_RICHMEDIA = "RichMedia or 3D content in the PDF"
_NETWORK_FILE = "PDF link, action or media that opens or sends to a file on another machine"
# Actions that only change what the reader shows of this document: going to one of its pages,
# turning a page, showing or hiding a layer (SetOCGState) or an annotation (Hide), a page
# transition. Any other runs, opens, fetches, sends, prints or plays something.
_INERT = frozenset({"/GoTo", "/SetOCGState", "/Hide", "/Trans"})
_PAGE_TURNS = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
# On opening, a document may also ask to be printed (jsPDF's autoPrint, for labels and
# receipts): every reader shows its own print dialog, as its menu does, and runs nothing. On a
# page or a mouse event no honest generator asks for one, so there it is not inert.
_ON_OPENING = _PAGE_TURNS | {"/Print"}
# A form field's keystroke, format, validate and calculate events (PDF 32000-1, table 196).
_FIELD_EVENTS = ("/K", "/F", "/V", "/C")
# Acrobat's own formatting functions (AForm.js, which Acrobat, PDFium and pdf.js carry), as
# Acrobat writes them for a number, date, percent, time or special field: one call with
# literal arguments (`_FORMATTING`) formats or checks the field's value and nothing else.
_FORMATTERS = frozenset({
    "AFNumber_Format", "AFNumber_Keystroke", "AFPercent_Format", "AFPercent_Keystroke",
    "AFDate_FormatEx", "AFDate_KeystrokeEx", "AFDate_Format", "AFDate_Keystroke",
    "AFTime_Format", "AFTime_Keystroke", "AFTime_FormatEx", "AFTime_KeystrokeEx",
    "AFSpecial_Format", "AFSpecial_Keystroke", "AFSpecial_KeystrokeEx", "AFSimple_Calculate",
    "AFRange_Validate",
})  # fmt: skip
_STRING = r'"(?:[^"\\\r\n]|\\[\\"\'nrt])*"|\'(?:[^\'\\\r\n]|\\[\\"\'nrt])*\''
_STRINGS = rf"(?:\s*(?:{_STRING})\s*(?:,\s*(?:{_STRING})\s*)*)?"
_LITERAL = (
    rf"\s*(?:{_STRING}|[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)|true|false|null"
    rf"|\[{_STRINGS}\]|new\s+Array\s*\({_STRINGS}\))\s*"
)
# The whole script: one call, its arguments numbers, strings, booleans, null or arrays of
# strings (field names: ``new Array ("qty", "price")`` as Acrobat writes them).
_FORMATTING = re.compile(
    rf"\s*(AF[A-Za-z]+_[A-Za-z]+)\s*\((?:{_LITERAL}(?:,{_LITERAL})*)?\)\s*;?\s*", re.ASCII
)
_MAX_SCRIPT = 4096  # a formatting call is a line; a longer script is not judged one
# Acrobat's "Add an image" field: a button whose click runs this one call, which asks the
# reader for a picture to show in the button (hunt 100: 9 forms of PyPDFForm's samples)
# (after comment lines, as InDesign writes it: "// Prompt user to select file..."; a comment
# ends at a line terminator, so no code hides in one: hunt 102)
_IMAGE_IMPORT = re.compile(
    r"(?:\s*//[^\r\n\u2028\u2029]*)*\s*event\.target\.buttonImportIcon\s*\(\s*\)\s*;?\s*"
)
_MAX_ACTIONS = 100  # a longer chain of actions (or a loop) is not judged inert
_NAME_KEYS = ("/UF", "/F", "/DOS", "/Unix", "/Mac")
# Names that make a body active wherever they stand in it (`check_names`).
_NAMED: tuple[tuple[frozenset[str], Code, str], ...] = (
    (frozenset({"/JS", "/JavaScript"}), PDF_JAVASCRIPT, _JAVASCRIPT),
    (frozenset({"/Launch"}), PDF_LAUNCH, _LAUNCH),
    (frozenset({"/XFA"}), PDF_XFA, _XFA),
    (frozenset({"/RichMedia", "/RichMediaContent", "/3D"}), PDF_RICHMEDIA, _RICHMEDIA),
)
# Names that are judged where they stand as keys: a glyph table holding one is looked into.
JUDGED = frozenset({"/AA", "/OpenAction", "/EF"}).union(*(names for names, _, _ in _NAMED))


# Every object a reference may stand for: pypdf's reading gives one, the raw one every definition.
Resolve = Callable[[IndirectObject], list[Any]]


@dataclass
class Seen:
    """What one scan found: findings (one per code and place) and the attached files."""

    findings: dict[tuple[Code, str | None], Finding] = field(default_factory=dict)
    streams: dict[int, StreamObject] = field(default_factory=dict)  # /Type /EmbeddedFile
    images: dict[int, StreamObject] = field(default_factory=dict)  # /Subtype /Image
    # from /EF: the file's object and every name it is given (`file_names`)
    refs: dict[int, tuple[IndirectObject, tuple[str, ...]]] = field(default_factory=dict)

    def add(self, code: Code, message: str, location: str | None = None) -> None:
        if sum(1 for c, _ in self.findings if c is code) < _MAX_PER_CODE:
            self.findings.setdefault(
                (code, location), finding(NAME, code, message, location=location)
            )


def resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def label(value: Any, fallback: str) -> str:
    """An attachment's name made safe to show: it is a label, never a path."""
    value = _text(value)
    if not isinstance(value, str):
        return fallback
    clean = "".join(c if c.isprintable() and c not in "/\\" else "_" for c in value).strip()
    # a long name keeps its end, where Windows reads the extension that decides what opens it
    return (clean if len(clean) <= 100 else f"{clean[:60]}…{clean[-39:]}") or fallback


def file_names(spec: DictionaryObject) -> tuple[str, ...]:
    """Every name a file specification gives its file, as labels: the one Acrobat shows and
    saves it under first (/UF, else /F), then those other readers use (/F beside /UF, as
    readers before PDF 1.7 do; /DOS, /Unix, /Mac). A reader saves the file under one of them and
    Windows opens it by that name's extension, so each is judged; a name holding a NUL also
    as cut there."""
    values = [_text(spec.get(key)) for key in _NAME_KEYS]
    # a name up to a NUL too: a reader that passes it to Windows as a C string saves it so
    cut = [v.split("\0", 1)[0] for v in values if isinstance(v, str) and "\0" in v]
    names = (label(value, "") for value in [*values, *cut])
    return tuple(dict.fromkeys(name for name in names if name))


def by_pypdf(ref: IndirectObject) -> list[Any]:
    """A reference resolved as pypdf reads the file (`Resolve`)."""
    return [ref.get_object()]


def inert_actions(value: Any, resolve: Resolve, named: frozenset[str] = _PAGE_TURNS) -> bool:
    """Whether an action (or an array of them, or a reference), with every action its /Next
    chain leads to, only changes what the reader shows (`_INERT`, or a named action in
    ``named``). A reference that resolves to nothing, anything but an action, or a chain past
    `_MAX_ACTIONS` is not inert."""
    stack, count = [value], 0
    while stack:
        item = stack.pop()
        count += 1
        if count > _MAX_ACTIONS:
            return False
        if isinstance(item, IndirectObject):
            targets = resolve(item)
            stack.extend(targets or [None])
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, DictionaryObject) and _shows_only(item, named):
            if "/Next" in item:
                stack.append(item.get("/Next"))
        else:
            return False
    return True


def _shows_only(action: DictionaryObject, named: frozenset[str]) -> bool:
    # a type given by reference, or as a string, is not judged: not inert
    kind, name = action.get("/S"), action.get("/N")
    if not isinstance(kind, NameObject):
        return False
    return kind in _INERT or (kind == "/Named" and isinstance(name, NameObject) and name in named)


def triggers_inert(triggers: Any, resolve: Resolve, field: bool = False) -> bool:
    """Whether an /AA dictionary (or a reference to one) fires only inert actions on each of
    its events (`inert_actions`): showing or hiding a layer as the mouse enters a button is
    not an action a reader should refuse. A form field's (``field``) keystroke, format,
    validate and calculate events may also run Acrobat's formatting calls (`formats_only`).
    Anything but a dictionary is not inert."""
    found = resolve(triggers) if isinstance(triggers, IndirectObject) else [triggers]
    return bool(found) and all(
        isinstance(events, DictionaryObject)
        and all(
            inert_actions(action, resolve)
            or (field and event in _FIELD_EVENTS and formats_only(action, resolve))
            for event, action in events.items()
            if event != "/Type"  # the dictionary's type, no event (iText writes one)
        )
        for events in found
    )


def is_field(node: DictionaryObject) -> bool:
    """Whether a dictionary is a form field (or a widget, which may be merged with one): only
    a field's /AA has keystroke, format, validate and calculate events; a page's /C is its
    closing."""
    if node.get("/Type") == "/Page":
        return False
    subtype = node.get("/Subtype")
    return "/FT" in node or subtype == "/Widget" or ("/T" in node and subtype is None)


def formats_only(action: Any, resolve: Resolve) -> bool:
    """Whether an action (or a reference to one: every object it may stand for) is one of
    Acrobat's formatting calls and nothing else: a JavaScript action, no /Next, whose script
    is one call of a function in `_FORMATTERS` with literal arguments (`_FORMATTING`)."""
    found = resolve(action) if isinstance(action, IndirectObject) else [action]
    return bool(found) and all(_formatter(value, resolve) for value in found)


def _formatter(action: Any, resolve: Resolve) -> bool:
    if not isinstance(action, DictionaryObject) or isinstance(action, StreamObject):
        return False
    if set(action) - {"/S", "/JS", "/Type"}:
        return False
    kind, script = action.get("/S"), action.get("/JS")
    if not (isinstance(kind, NameObject) and kind == "/JavaScript"):
        return False
    texts = resolve(script) if isinstance(script, IndirectObject) else [script]
    return bool(texts) and all(_formatting(_script_text(text)) for text in texts)


def _script_text(value: Any) -> str | None:
    """A /JS value's text: a string, or a stream's data (as UTF-16 after its byte order mark,
    else byte for byte: only a string literal's contents may be other than ASCII); None for
    anything else, and for a stream whose data is longer than `_MAX_SCRIPT`."""
    if isinstance(value, StreamObject):
        try:
            with apply_configuration(limited(_MAX_SCRIPT + 1)):
                value = ByteStringObject(value.get_data())
        except DAMAGED:
            return None
    if isinstance(value, ByteStringObject):
        data = bytes(value)
        return (
            data[2:].decode("utf-16-be", "replace")
            if data[:2] == b"\xfe\xff"
            else (data.decode("latin-1"))
        )
    return value if isinstance(value, str) else None


def _formatting(script: str | None) -> bool:
    """Whether a script is one formatting call (`_FORMATTING`) of a function in `_FORMATTERS`,
    or the one Acrobat writes for an image field (`_IMAGE_IMPORT`)."""
    if script is None or len(script) > _MAX_SCRIPT:
        return False
    if _IMAGE_IMPORT.fullmatch(script):
        return True
    call = _FORMATTING.fullmatch(script)
    return call is not None and call[1] in _FORMATTERS


def formatters_only(value: Any, resolve: Resolve) -> bool:
    """Whether every JavaScript action in an object's ``value`` is a formatting call
    (`formats_only`) that a field's event runs, or the object itself (which is judged where it
    is used): /JavaScript anywhere else, as a name tree's key, is JavaScript."""
    nodes = dictionaries(value)
    allowed = _formatters_in(value, nodes, resolve)
    return all(id(node) in allowed for node in nodes if _scripted(node, resolve))


def _formatters_in(value: Any, nodes: list[DictionaryObject], resolve: Resolve) -> set[int]:
    """The formatting actions (by id) an object's value is, or the events of its fields (in
    ``nodes``, its dictionaries) hold."""
    fields = [node for node in nodes if is_field(node)]
    events = [e for e in (f.get("/AA") for f in fields) if isinstance(e, DictionaryObject)]
    candidates = [value, *(e.get(key) for e in events for key in _FIELD_EVENTS)]
    # a button's click, only as Acrobat's image field writes it (`_IMAGE_IMPORT`)
    candidates += [a for a in (f.get("/A") for f in fields) if _imports_an_image(a, resolve)]
    return {id(a) for a in candidates if isinstance(a, DictionaryObject) and _formatter(a, resolve)}


def _imports_an_image(action: Any, resolve: Resolve) -> bool:
    if not isinstance(action, DictionaryObject) or set(action) - {"/S", "/JS", "/Type"}:
        return False
    if action.get("/S") != "/JavaScript":
        return False
    script = action.get("/JS")
    texts = resolve(script) if isinstance(script, IndirectObject) else [script]
    return bool(texts) and all(
        (text := _script_text(t)) is not None and _IMAGE_IMPORT.fullmatch(text) for t in texts
    )


def _scripted(node: DictionaryObject, resolve: Resolve) -> bool:
    """Whether a dictionary is or names JavaScript: a script, a JavaScript action, a document's
    /JavaScript name tree that holds anything (in any reading)."""
    kind = node.get("/S")
    kinds = resolve(kind) if isinstance(kind, IndirectObject) else [kind]
    named = "/JavaScript" in node and not _empty_tree(node["/JavaScript"], resolve)
    return "/JS" in node or named or "/JavaScript" in kinds


def _empty_tree(value: Any, resolve: Resolve) -> bool:
    """Whether a name tree holds nothing in every reading: a dictionary whose /Names and /Kids
    are absent or empty arrays (what some generators write for a document without scripts)."""
    trees = resolve(value) if isinstance(value, IndirectObject) else [value]
    return bool(trees) and all(
        isinstance(tree, DictionaryObject)
        and not isinstance(tree, StreamObject)
        and all(_empty_array(tree.get(key), resolve) for key in ("/Names", "/Kids"))
        for tree in trees
    )


def _empty_array(value: Any, resolve: Resolve) -> bool:
    if value is None:
        return True
    found = resolve(value) if isinstance(value, IndirectObject) else [value]
    return bool(found) and all(isinstance(item, ArrayObject) and not item for item in found)


def opens_inertly(action: Any, resolve: Resolve) -> bool:
    """Whether an /OpenAction only shows the document: a destination (an array, a name or a
    string) or inert actions (`inert_actions`, or the reader's print dialog); through a
    reference, every object it may resolve to. Nothing at all (a body that does not parse) is
    not inert."""
    found = resolve(action) if isinstance(action, IndirectObject) else [action]
    # (a definition that is itself a reference, "6 0 obj 7 0 R", goes on to what it leads to)
    return bool(found) and all(
        value is not None
        and (
            not isinstance(value, DictionaryObject | IndirectObject)
            or inert_actions(value, resolve, _ON_OPENING)
        )
        for value in found
    )


def scripted_matrix(node: DictionaryObject, resolve: Resolve) -> bool:
    """Whether a dictionary's /FontMatrix, in any reading (through a reference, every object
    it may stand for), is anything but an array of numbers (CVE-2024-4367)."""
    if "/FontMatrix" not in node:
        return False
    value = node["/FontMatrix"]
    found = resolve(value) if isinstance(value, IndirectObject) else [value]
    return not found or not all(
        isinstance(matrix, ArrayObject)
        and all(isinstance(item, NumberObject | FloatObject) for item in matrix)
        for matrix in found
    )


def _check(node: DictionaryObject, where: str, seen: Seen, formatter: bool = False) -> None:
    """Findings for one dictionary pypdf read; a ``formatter`` is a formatting call that runs
    only where it is used (`formatters_only`), not JavaScript by itself."""
    kind = resolved(node.get("/S"))
    if _scripted(node, by_pypdf) and not formatter:
        seen.add(PDF_JAVASCRIPT, _JAVASCRIPT, where)
    if scripted_matrix(node, by_pypdf):
        seen.add(PDF_JAVASCRIPT, FONT_MATRIX, where)
    if kind == "/Launch":
        seen.add(PDF_LAUNCH, _LAUNCH, where)
    if local := opens_locally(node, kind):
        seen.add(PDF_LAUNCH, local, where)
    if "/AA" in node and not triggers_inert(node.get("/AA"), by_pypdf, is_field(node)):
        seen.add(PDF_AUTO_ACTION, ON_EVENTS, where)
    if "/OpenAction" in node and not opens_inertly(node.get("/OpenAction"), by_pypdf):
        seen.add(PDF_AUTO_ACTION, ON_OPEN, where)
    if "/XFA" in node:
        seen.add(PDF_XFA, _XFA, where)
    if resolved(node.get("/Subtype")) in _RICH_SUBTYPES or "/RichMediaContent" in node:
        seen.add(PDF_RICHMEDIA, _RICHMEDIA, where)
    if _names_a_share(node, kind):
        seen.add(EXTERNAL_LINK, _NETWORK_FILE, where)
    _attached_files(node, seen)


def _attached_files(node: DictionaryObject, seen: Seen) -> None:
    """The embedded files a file specification's /EF dictionary names, with its file names."""
    files = resolved(node.get("/EF"))
    if isinstance(files, DictionaryObject):
        names = file_names(node)
        for ref in files.values():
            if isinstance(ref, IndirectObject):
                seen.refs.setdefault(ref.idnum, (ref, names))


def _names_a_share(node: DictionaryObject, kind: Any) -> bool:
    """Whether a dictionary names a file on another machine where a reader may fetch it: a
    file specification (/F, /UF, /DOS, /Unix, /Mac: of an action, a stream's external data, a
    movie, a thread, a reference XObject), a URI action's URI, a document's base URI (which
    relative links resolve against), a media clip's data (/D)."""
    # an attached file's specification (/EF) is opened from its embedded copy: its /F is a name
    if "/EF" not in node and any(_on_network(node.get(key)) for key in _NAME_KEYS):
        return True
    if kind == "/URI" and _uri_on_a_share(node.get("/URI")):
        return True
    return _uri_on_a_share(node.get("/Base")) or (kind == "/MCD" and _on_network(node.get("/D")))


def _text(value: Any) -> str | None:
    """A string value as text (a byte string read as Latin-1); None for anything else."""
    value = resolved(value)
    if isinstance(value, ByteStringObject):
        value = bytes(value).decode("latin-1")
    return value if isinstance(value, str) else None


def opens_locally(node: DictionaryObject, kind: Any) -> str | None:
    """Why a dictionary makes the reader open a file on its own computer, in words: a URI
    action to a program there (`_starts_a_program`), or a ``file:`` base address, which the
    PDF's relative links resolve against; None for anything else."""
    if kind == "/URI" and _starts_a_program(node.get("/URI")):
        return _LAUNCH
    return _LOCAL_BASE if _local(node.get("/Base")) else None


def _starts_a_program(uri: Any) -> bool:
    """Whether a URI action opens a file on the reader's own computer that Windows runs by its
    name (``file:///C:/Windows/System32/calc.exe``, `local_program`): the reader hands a
    ``file:`` URI to the system, which starts it."""
    return _local(uri) and local_program(str(_text(uri))) is not None


def _local(uri: Any) -> bool:
    """Whether a URI (a link's, a document's base) is a ``file:`` URL on the reader's own
    computer (one on another machine is a share: `_uri_on_a_share`)."""
    text = _text(uri)
    return text is not None and text.strip().lower().startswith("file:") and not on_a_share(text)


def _uri_on_a_share(uri: Any) -> bool:
    """Whether a URI (a URI action's, a base URI) leads to a share: a UNC form or a
    ``file://host`` (`on_a_share`), or ``smb:``. A URI is no file specification (RFC 3986, not
    PDF 7.11.2): ``/texmf/tex/latex`` is a path on the document's own host, not a server."""
    text = _text(uri)
    return text is not None and (on_a_share(text) or text.strip().lower().startswith("smb:"))


def _on_network(spec: Any) -> bool:
    """Whether a file specification (a string, or a dictionary's /F, /UF, /DOS, /Unix, /Mac)
    names a file on another machine: a UNC path (``\\\\host\\share``, ``//host/share``, its NT
    forms), ``file://host/...``, ``smb://``, or PDF's own ``/server/share/file`` form."""
    spec = resolved(spec)
    if isinstance(spec, DictionaryObject):
        return any(_on_network(spec.get(key)) for key in _NAME_KEYS)
    text = _text(spec)
    return text is not None and (_uri_on_a_share(text) or _server_path(text.strip().lower()))


def _server_path(path: str) -> bool:
    """Whether a PDF file specification's own path form names a server: in ``/x/y/file``, a
    first component of one letter is a drive (``/C/Docs/a.pdf``), a longer one a server, and
    Windows readers open ``\\\\x\\y\\file`` (PDF 32000-1, 7.11.2)."""
    parts = path.split("/")
    return path.startswith("/") and len(parts) > 3 and len(parts[1]) > 1 and ":" not in parts[1]


def vouched_table(obj: Any, key: tuple[int, int], census: Census) -> bool:
    """Whether a referred-to object is a glyph table that `Census` vouches for, and one whose
    names would otherwise be judged (the census is asked only then)."""
    names = obj.keys() if isinstance(obj, DictionaryObject) else ()
    return shaped_like_one(obj) and bool(JUDGED & set(names)) and census.only_glyphs(key)


def inspect(obj: PdfObject | None, num: int | None, where: str, seen: Seen) -> None:
    """Check one object pypdf read and the direct objects inside it; indirect ones get their
    own turn."""
    if (
        num is not None
        and isinstance(obj, StreamObject)
        and resolved(obj.get("/Type")) == "/EmbeddedFile"
    ):
        seen.streams.setdefault(num, obj)
    if (
        num is not None
        and isinstance(obj, StreamObject)
        and resolved(obj.get("/Subtype")) == "/Image"
        and not resolved(obj.get("/ImageMask"))  # a stencil mask shows nothing by itself
    ):
        seen.images.setdefault(num, obj)
    nodes = dictionaries(obj)
    allowed = _formatters_in(obj, nodes, by_pypdf)
    for node in nodes:
        _check(node, where, seen, id(node) in allowed)


def dictionaries(obj: Any) -> list[DictionaryObject]:
    """The dictionaries in ``obj``: itself and those nested in it, references not followed."""
    found: list[DictionaryObject] = []
    stack: list[Any] = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, DictionaryObject):
            found.append(node)
            # dict.items: raw, references are not followed; a glyph table holds only names
            stack.extend(v for k, v in node.items() if not glyph_table(k, v))
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return found


def check_names(names: set[str], where: str, seen: Seen) -> None:
    """Findings for a raw body that holds ``names`` (every rule but /OpenAction's)."""
    for wanted, code, message in _NAMED:
        if names & wanted:
            seen.add(code, message, where)
