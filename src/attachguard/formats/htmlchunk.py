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
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from urllib.parse import urljoin

from attachguard.formats import css
from attachguard.formats.targets import SCHEME, target_kind

__all__ = ["HTML_TYPES", "Addresses", "addresses"]

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
}  # fmt: skip
# other attributes that hold an address (judged as links are)
_ADDRESS_ATTRIBUTES = frozenset({"data", "action", "formaction", "cite", "longdesc", "usemap",
                                 "codebase", "archive", "manifest", "ping"})  # fmt: skip
_MOST_PARTS = 1000  # parts of a web archive read
_RAW_TEXT_END = re.compile(
    r"</(style|script|xmp|iframe|noembed|noframes|noscript|textarea|title)[\s/][^>]*>", re.I
)
_CONDITIONAL = re.compile(r"\[if[^\]]*\]>(.*?)(?:<!\[endif\]|\Z)", re.S | re.I)
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:\-]{1,40})""", re.I)
_SKIPPED_PARTS = ("image/", "audio/", "video/", "font/", "application/x-font")


@dataclass
class Addresses:
    """What a page names: ``fetched`` (loaded by the import itself) and ``clicked`` (links)."""

    fetched: list[str] = field(default_factory=list)
    clicked: list[str] = field(default_factory=list)


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


def _read_page(text: str, found: Addresses) -> None:
    reader = _Reader(found)
    reader.feed(_RAW_TEXT_END.sub(r"</\1>", text))
    reader.close()


def _read_archive(data: bytes, found: Addresses) -> None:
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    parts = [part for _, part in zip(range(_MOST_PARTS), message.walk(), strict=False)]
    places = {str(part.get("Content-Location", "")).strip() for part in parts} - {""}
    for part in parts:
        if part.is_multipart() or part.get_content_type().startswith(_SKIPPED_PARTS):
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


def _part_readings(part: Message) -> list[str]:
    """A web archive part's text, its transfer encoding undone and as stored."""
    decoded = part.get_payload(decode=True)
    stored = part.get_payload(decode=False)
    charset = part.get_content_charset()
    texts = _readings(decoded, charset) if isinstance(decoded, bytes) else []
    return texts + ([stored] if isinstance(stored, str) else [])


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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and css.may_load(data):
            self._found.fetched += css.style_sheet_targets(data)

    def handle_comment(self, data: str) -> None:
        """Word's conditional comments hold markup Word reads (VML pictures, Office data)."""
        for inside in _CONDITIONAL.findall(data):
            _read_page(inside, self._found)


def _srcset(value: str) -> list[str]:
    """The addresses of a ``srcset`` (each candidate: an address, then a width or density)."""
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]
