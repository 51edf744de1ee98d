"""What a web page inside a Word document loads: an alternative format chunk (``w:altChunk``)
typed ``text/html``, ``application/xhtml+xml`` or a web archive (MHT: ``message/rfc822``,
``multipart/related``), which Word imports by its content type when it opens the document,
whatever its bytes begin with.

The page is read as a browser reads HTML, leniently (the standard library's tokenizer: no
well-formedness, character references decoded), never as XML. Its addresses are the ones an
import fetches by itself, as a picture relationship's would be: a picture (``img``, ``input``,
``source``, ``video`` poster, any ``background``), a style sheet (``link``), a frame, an object
or embed, and every ``url()``/``@import`` of its style sheets and style attributes (`css`).
A link (``a``, ``area``) needs a click, so only one on a network share counts, as anywhere else;
so does any other address attribute (``xlink:href``, VML's ``o:href``, ``action``...).
A web archive's HTML parts are each read, their transfer encoding (quoted-printable, base64)
undone; the pictures it carries are its own.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from html.parser import HTMLParser

from attachguard.formats import css

__all__ = ["HTML_TYPES", "Addresses", "addresses"]

HTML_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "message/rfc822", "multipart/related"}
)
_ARCHIVES = frozenset({"message/rfc822", "multipart/related"})
# Attributes whose address an import fetches, by element ("*": any element)
_FETCHED = {
    "img": {"src", "lowsrc", "dynsrc", "srcset"},
    "image": {"src"},
    "input": {"src"},
    "source": {"src", "srcset"},
    "video": {"src", "poster"},
    "audio": {"src"},
    "link": {"href"},
    "frame": {"src"},
    "iframe": {"src"},
    "object": {"data", "codebase"},
    "embed": {"src"},
    "applet": {"codebase", "archive"},
    "base": {"href"},
    "bgsound": {"src"},
    "*": {"background"},
}
_CLICKED = {"a": {"href"}, "area": {"href"}}
# other attributes that hold an address, on any element (judged as links are)
_ADDRESS_ATTRIBUTES = frozenset({"data", "poster", "action", "formaction", "cite", "longdesc",
                                 "usemap", "codebase", "archive", "manifest", "ping"})  # fmt: skip
_MOST_PARTS = 1000  # parts of a web archive read


@dataclass
class Addresses:
    """What a page names: ``fetched`` (loaded by the import itself) and ``clicked`` (links)."""

    fetched: list[str] = field(default_factory=list)
    clicked: list[str] = field(default_factory=list)


def addresses(data: bytes, content_type: str) -> Addresses:
    """Every address the page ``data`` (typed ``content_type``) names."""
    found = Addresses()
    for page in _pages(data, content_type):
        reader = _Reader(found)
        reader.feed(page)
        reader.close()
    return found


def _pages(data: bytes, content_type: str) -> list[str]:
    if content_type not in _ARCHIVES:
        return [_decoded(data, None)]
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    pages = []
    for number, part in enumerate(message.walk()):
        if number >= _MOST_PARTS:
            break
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                pages.append(_decoded(payload, part.get_content_charset()))
    return pages


def _decoded(data: bytes, charset: str | None) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


class _Reader(HTMLParser):
    def __init__(self, found: Addresses) -> None:
        super().__init__(convert_charrefs=True)
        self._found = found
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fetched = _FETCHED.get(tag, set()) | _FETCHED["*"]
        clicked = _CLICKED.get(tag, set())
        for name, value in attrs:
            if not value:
                continue
            if name in fetched:
                self._found.fetched += _srcset(value) if name == "srcset" else [value]
            elif name in clicked or name in _ADDRESS_ATTRIBUTES or name.endswith(("href", "src")):
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


def _srcset(value: str) -> list[str]:
    """The addresses of a ``srcset`` (each candidate: an address, then a width or density)."""
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]
