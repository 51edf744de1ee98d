"""What a web page inside a Word document loads: an alternative format chunk (``w:altChunk``)
typed ``text/html``, ``application/xhtml+xml`` or a web archive (MHT: ``message/rfc822``,
``multipart/related``, ``application/x-mimearchive``), which Word imports by its content type
when it opens the document, whatever its bytes begin with.

The page is read as a browser reads HTML, leniently (the standard library's tokenizer: no
well-formedness, character references decoded), never as XML, and in every encoding a reader
could take: its byte-order mark, the charset its content type or a ``<meta>`` declares, UTF-8,
and UTF-16 when its bytes look like it; what any reading loads counts. Word's own markup is read
too: the inside of conditional comments (``<!--[if gte vml 1]>``, where Word-saved pages keep
their pictures), and a raw-text element's end tag as HTML5 ends it (``</style x>``; Python 3.11's
tokenizer wants ``</style>`` exactly, and would take the markup after it as style text).

Fetched, as a picture relationship's target would be: every ``src`` (any element, VML's
``v:imagedata`` too), ``lowsrc``, ``dynsrc``, ``srcset``, ``background``, ``poster``; a ``link``,
``base``, ``object``, ``applet`` or VML address (``o:href``); every ``url()`` and ``@import`` of
the page's style sheets, style attributes and a web archive's ``text/css`` parts (`css`); and
in a web archive, a relative address resolved against a remote ``Content-Location`` or
``Content-Base`` that names no part of the archive. Any other address attribute (``a href``,
``xlink:href``, ``action``...) needs a click, so only one on a network share counts, as anywhere
else. A web archive's parts are each read (text, XHTML, untyped or binary-typed ones as pages),
their transfer encoding undone, and also as stored.

What would run or be instantiated, for a page opened as a document of its own (an HTML or MHT
file Word or Excel opens by its .doc or .xls name, which runs no page script): ``active``
names script elements, event-handler attributes (``onload``), objects (``object``, ``embed``,
``applet``, an ActiveX ``classid``, Word's ``o:OLEObject``), the Office data a page asks Word
to load (``<link rel=Edit-Time-Data>``: macros; ``rel=OLE-Object-Data``: embedded objects) and
a web archive's Office data parts (``application/x-mso``, a ``.mso`` location, ActiveMime
bytes: ``editdata.mso`` keeps a document's macros); ``formulas`` the formulas Excel keeps in a
page (``x:fmla`` on a cell, a defined name's ``x:Formula``) and ``cells`` the cells whose text
starts with ``=``, ``+``, ``-`` or ``@``, which Excel takes as typed formulas.
"""

from __future__ import annotations

import binascii
import email
import email.policy
import quopri
import re
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from urllib.parse import urljoin

from attachguard.formats import css
from attachguard.formats.formulas import MAX_FORMULA
from attachguard.formats.targets import CONTROLS, SCHEME, target_kind

__all__ = ["HTML_TYPES", "SCRIPT_SCHEMES", "Addresses", "addresses", "loads_from_afar", "normal"]

_ARCHIVES = frozenset({"message/rfc822", "multipart/related", "application/x-mimearchive"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"}) | _ARCHIVES
# Attributes whose address is fetched on any element, and by element
_FETCHED_ANYWHERE = frozenset({"src", "lowsrc", "dynsrc", "srcset", "background", "poster"})
_FETCHED = {
    "link": {"href"},
    "base": {"href"},
    "object": {"data", "codebase"},
    "applet": {"codebase", "archive"},
    **{vml: {"o:href", "o:althref", "href"}
       for vml in ("v:imagedata", "v:fill", "v:stroke", "v:image", "v:shape")},
    # a Word web page's attached template: Word loads it as it opens the page (red team 103)
    "w:attachedtemplate": {"href"},
}  # fmt: skip
# other attributes that hold an address (judged as links are)
_ADDRESS_ATTRIBUTES = frozenset({"data", "action", "formaction", "cite", "longdesc", "usemap",
                                 "codebase", "archive", "manifest", "ping"})  # fmt: skip
_MOST_PARTS = 1000  # parts of a web archive read
_QUERIES = frozenset({"x:querytable", "x:querysource", "x:connectionstring", "x:urlstring"})
_RAW_TEXT_END = re.compile(
    r"</(style|script|xmp|iframe|noembed|noframes|noscript|textarea|title)[\s/][^>]*>", re.I
)
_CONDITIONAL = re.compile(r"\[if[^\]]*\]>(.*?)(?:<!\[endif\]|\Z)", re.S | re.I)
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:\-]{1,40})""", re.I)
_SKIPPED_PARTS = ("image/", "audio/", "video/", "font/", "application/x-font")
# What runs or is instantiated when the page is opened as a document (see the module docstring)
_OBJECTS = frozenset({"object", "embed", "applet", "o:oleobject"})
_HANDLER = re.compile(r"on[a-z]{3,}")  # onload, onclick, onmouseover... (no prefix: HTML's own)
_OFFICE_DATA = {"edit-time-data": "macros", "ole-object-data": "object"}  # <link rel=...>
_CELLS = {"td": "cell", "th": "cell", "x:formula": "formula"}  # text Excel reads as a formula
_CELL_ENDS = frozenset({"td", "th", "tr", "table", "x:formula"})
_TYPED = ("=", "+", "-", "@")


@dataclass
class Addresses:
    """What a page names: ``fetched`` (loaded by the import itself) and ``clicked`` (links);
    what would run in it (``active``: kind ``script``, ``object``, ``macros`` or ``xlm``, and
    what it is) and the formulas Excel would read in it (``formulas``, ``cells``)."""

    fetched: list[str] = field(default_factory=list)
    clicked: list[str] = field(default_factory=list)
    active: list[tuple[str, str]] = field(default_factory=list)  # (kind, what)
    formulas: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    queries: int = 0  # Excel's web or database queries (x:QueryTable) in the page
    # a web archive's parts whose transfer encoding (base64, quoted-printable) hides their bytes
    # from a search of the file, decoded as Word decodes them: (location, bytes)
    encoded: list[tuple[str, bytes]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # why some of it was not read (a limit)


def addresses(data: bytes, content_type: str) -> Addresses:
    """Every address the page ``data`` (typed ``content_type``, parameters included) names, in
    every reading of it."""
    found = Addresses()
    media = content_type.split(";")[0].strip().lower()
    if media in _ARCHIVES:
        _read_archive(data, found)
    else:
        for text in _readings(data, _declared(content_type.encode("latin-1", "replace"))):
            _read_page(text, found)
    return found


SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:")
# Addresses that fetch nothing from elsewhere: inline data, a web archive's own parts, a script
_NOT_FETCHED = ("data:", "cid:", "mid:", "about:", "#", *SCRIPT_SCHEMES)
_SPACES = re.compile(r"[\t\r\n]")  # browsers drop these inside a scheme ("java\tscript:")


def loads_from_afar(fetched: list[str]) -> bool:
    """Whether any of a page's ``fetched`` addresses loads from another machine."""
    return any(
        target_kind(a) == "remote" for a in fetched if not normal(a).startswith(_NOT_FETCHED)
    )


def normal(address: str) -> str:
    """An address as a browser reads its scheme: tabs and line breaks dropped, controls and
    blanks around it stripped, lower case."""
    return _SPACES.sub("", address).strip(CONTROLS).lower()


def _read_page(text: str, found: Addresses) -> None:
    reader = _Reader(found)
    reader.feed(_RAW_TEXT_END.sub(r"</\1>", text))
    reader.close()


def _read_archive(data: bytes, found: Addresses) -> None:
    # Word reads past a byte order mark and blank lines before the headers; Python's parser
    # takes either for the end of the headers, and the archive for one page without parts
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    walked = [part for _, part in zip(range(_MOST_PARTS + 1), message.walk(), strict=False)]
    if len(walked) > _MOST_PARTS:  # the rest unread: Word reads them
        found.unread.append(f"more than {_MOST_PARTS:,} parts")
    parts = walked[:_MOST_PARTS]
    places = {str(part.get("Content-Location", "")).strip() for part in parts} - {""}
    for part in parts:
        if part.is_multipart():
            continue
        _office_data(part, found)
        _decoded(part, len(found.encoded), found)
        if part.get_content_type().startswith(_SKIPPED_PARTS):
            continue
        page = Addresses()
        for text in _part_readings(part):
            if part.get_content_type() == "text/css":
                page.fetched += css.style_sheet_targets(text) if css.may_load(text) else []
            else:
                _read_page(text, page)
        base = str(part.get("Content-Base") or part.get("Content-Location") or "").strip()
        found.fetched += page.fetched + _resolved(page.fetched, base, places)
        found.clicked += page.clicked
        found.active += page.active
        found.formulas += page.formulas
        found.cells += page.cells
        found.queries += page.queries


def _office_data(part: Message, found: Addresses) -> None:
    """A web archive part that holds Office data (an ActiveMime blob: ``editdata.mso`` keeps
    a document's macros, ``oledata.mso`` its embedded objects), by its type, its location or
    its bytes, whatever the page names."""
    location = str(part.get("Content-Location", "")).strip()
    name = location.replace("\\", "/").rsplit("/", 1)[-1].split("?")[0].lower()
    decoded = part.get_payload(decode=True)
    blob = isinstance(decoded, bytes) and decoded.lstrip()[:10] == b"ActiveMime"
    if part.get_content_type() == "application/x-mso" or name.endswith(".mso") or blob:
        kind = "macros" if name.startswith("editdata") else "object"
        found.active.append((kind, f"an Office data part ({name[:60] or 'unnamed'})"))


_PLAIN_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})  # the bytes as stored


def _decoded(part: Message, number: int, found: Addresses) -> None:
    """A part in base64 or quoted-printable, decoded (`_decodings`), for the engines to scan
    as what it is (an antivirus searching the file sees only its encoding)."""
    location = str(part.get("Content-Location", "")).strip() or f"part {number + 1}"
    found.encoded += [(location, decoded) for decoded in _decodings(part)]


def _decodings(part: Message) -> list[bytes]:
    """The part decoded by each transfer encoding it names, as a lenient reader takes it: the
    header unfolded, blanks and case ignored, every one of several headers (Python's own
    decoding takes "base64 " or a folded header for no encoding at all); none for the plain
    encodings, or when decoding changes nothing."""
    stored = part.get_payload(decode=False)
    if not isinstance(stored, str):
        return []
    raw = stored.encode("ascii", "surrogateescape")
    named = {"".join(str(value).split()).lower() for value in part.get_all(_ENCODING) or ()}
    out = []
    for encoding in sorted(named - _PLAIN_ENCODINGS):
        decoded = _DECODERS.get(encoding, _by_python)(raw, part)
        if decoded and decoded != raw and decoded not in out:
            out.append(decoded)
    return out


def _base64(raw: bytes, _: Message) -> bytes:
    """Base64 as mail readers take it: characters outside the alphabet skipped, the padding
    completed (a lone last character dropped)."""
    text = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    text = text[: len(text) - 1] if len(text) % 4 == 1 else text + b"=" * (-len(text) % 4)
    return binascii.a2b_base64(text)


def _by_python(_: bytes, part: Message) -> bytes:
    """Another encoding (uuencode), as Python's mail reader decodes it."""
    decoded = part.get_payload(decode=True)
    return decoded if isinstance(decoded, bytes) else b""


_ENCODING = "Content-Transfer-Encoding"
_DECODERS = {"base64": _base64, "quoted-printable": lambda raw, _: quopri.decodestring(raw)}


def _part_readings(part: Message) -> list[str]:
    """A web archive part's text, its transfer encoding undone and as stored."""
    decoded = part.get_payload(decode=True)
    stored = part.get_payload(decode=False)
    charset = part.get_content_charset()
    texts = _readings(decoded, charset) if isinstance(decoded, bytes) else []
    for other in _decodings(part):  # an encoding Python's reader did not take
        texts += [text for text in _readings(other, charset) if text not in texts]
    return texts + ([stored] if isinstance(stored, str) and stored not in texts else [])


def _resolved(fetched: list[str], base: str, places: set[str]) -> list[str]:
    """The relative addresses of a part whose base is on another machine, resolved against
    it, that no part of the archive answers (a reader fetches those from there)."""
    if target_kind(base) != "remote":
        return []
    relative = (a for a in fetched if not SCHEME.match(a.strip()) and not a.startswith("//"))
    return [url for url in (urljoin(base, a.strip()) for a in relative) if url not in places]


def _declared(data: bytes) -> str | None:
    match = _CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def _readings(data: bytes, charset: str | None) -> list[str]:
    """``data`` as text in every encoding a reader could take (see the module docstring)."""
    encodings = ["utf-8", charset, _declared(data)]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encodings.insert(0, "utf-16")
    nuls = data[:4096].count(b"\x00")
    if nuls * 4 >= min(len(data), 4096):  # every other byte a NUL: UTF-16 without a mark
        encodings += ["utf-16-le", "utf-16-be"]
    texts = []
    for encoding in dict.fromkeys(e.lower() for e in encodings if e):
        try:
            texts.append(data.decode(encoding, "replace"))
        except LookupError:
            continue
    return list(dict.fromkeys(texts))


class _Reader(HTMLParser):
    def __init__(self, found: Addresses) -> None:
        super().__init__(convert_charrefs=True)
        self._found = found
        self._in_style = False
        self._cell: tuple[str, list[str]] | None = None  # (kind, text) of the open cell
        self._base = False  # inside a document property giving the hyperlink base
        self._excel: list[str] | None = None  # the text of Excel's open x: element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._addresses(tag, attrs)
        self._active(tag, attrs)
        # Office's document properties in a page (o:HyperlinkBase): relative links resolve
        # against it, so a share there is a link to one (red team 103)
        self._base = tag.rpartition(":")[2] == "hyperlinkbase"
        # Excel's XML island (conditional formats' and validations' values, names): each x:
        # element's text is read as a formula, as in an Excel 2003 XML workbook (red team 103)
        if tag.startswith("x:"):
            self._excel = []
            self._found.queries += tag in _QUERIES
        if tag in _CELLS or tag == "tr":
            self._end_cell()
        if tag in _CELLS:
            self._cell = (_CELLS[tag], [])
            fmla = [v for name, v in attrs if name.endswith("fmla") and v]  # x:fmla
            self._found.formulas += [v[:MAX_FORMULA] for v in fmla]
        self._in_style = tag == "style"

    def _addresses(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fetched = _FETCHED.get(tag, set())
        for name, value in attrs:
            if not value:
                continue
            if name in _FETCHED_ANYWHERE or name in fetched or name.endswith(":src"):
                self._found.fetched += _srcset(value) if name == "srcset" else [value]
            elif name in _ADDRESS_ATTRIBUTES or name.endswith(("href", "src")):
                self._found.clicked.append(value)
            elif name == "style" and css.may_load(value):
                self._found.fetched += css.style_attribute_targets(value)

    def _active(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """What would run or be instantiated (see the module docstring)."""
        found = self._found.active
        if tag == "script":
            found.append(("script", "a script element"))
        elif tag in _OBJECTS or any(name == "classid" for name, _ in attrs):
            found.append(("object", f"an embedded object ({tag})"))
        elif "macrosheet" in tag:
            found.append(("xlm", f"an Excel 4 macro sheet ({tag})"))
        handlers = [name for name, _ in attrs if _HANDLER.fullmatch(name)]
        if handlers:
            found.append(("script", f"an event handler ({handlers[0]})"))
        rel = next((v for name, v in attrs if name == "rel" and v), "").strip().lower()
        if tag == "link" and rel in _OFFICE_DATA:
            found.append((_OFFICE_DATA[rel], f"Office data it loads (link rel={rel})"))

    def _end_cell(self) -> None:
        if self._cell is None:
            return
        kind, parts = self._cell
        self._cell = None
        text = "".join(parts).strip()[:MAX_FORMULA]
        if kind == "formula" and text:
            self._found.formulas.append(text)
        elif text.startswith(_TYPED):
            self._found.cells.append(text)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = self._base = False
        if tag.startswith("x:") and self._excel is not None:
            if text := "".join(self._excel).strip():
                self._found.formulas.append(text[:MAX_FORMULA])
            self._excel = None
        if tag in _CELL_ENDS:
            self._end_cell()

    def handle_data(self, data: str) -> None:
        if self._base and data.strip():
            self._found.clicked.append(data.strip())
        if self._excel is not None and sum(map(len, self._excel)) < MAX_FORMULA:
            self._excel.append(data)
        if self._in_style and css.may_load(data):
            self._found.fetched += css.style_sheet_targets(data)
        if self._cell is not None and sum(map(len, self._cell[1])) < MAX_FORMULA:
            self._cell[1].append(data)

    def close(self) -> None:
        super().close()
        self._end_cell()

    def handle_comment(self, data: str) -> None:
        """Word's conditional comments hold markup Word reads (VML pictures, Office data)."""
        for inside in _CONDITIONAL.findall(data):
            _read_page(inside, self._found)


def _srcset(value: str) -> list[str]:
    """The addresses of a ``srcset`` (each candidate: an address, then a width or density)."""
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]
