"""The text of an HTML page or SVG picture as a browser shows it.

The markup splits what a reader sees as one number: ``<b>4111</b><span>1111</span>...`` or
character references (``&#52;``). The parser (the standard library's, which never fetches
anything) drops tags, decodes references, leaves out scripts and styles, and starts a new line
at each element a browser lays out as a block (paragraphs, table cells, list items, line
breaks), so that two cells never read as one number. Inline elements (``b``, ``span``,
``tspan``...) continue the line.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from xml.parsers import expat
from xml.parsers.expat import ExpatError

__all__ = ["ExpatError", "parses", "shown_text", "xml_text"]

_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul", "option", "button",
        "textarea", "text", "desc",
    }
)  # fmt: skip
_HIDDEN = frozenset({"script", "style", "template", "noscript"})
_MAX_CHARS = 20_000_000  # of markup parsed: more than the text engine reads of one file


class _Shown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0  # depth inside script and style elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def shown_text(markup: str) -> str:
    """The text of ``markup`` as a browser lays it out (see the module docstring)."""
    parser = _Shown()
    parser.feed(markup[:_MAX_CHARS])
    parser.close()
    return "".join(parser.out)


def xml_text(xml: bytes) -> str:
    """The text of an XML document (XMP metadata) as a viewer lists it: each element's text,
    comments left out and CDATA sections joined in, and its attributes' values, a line each.
    Read by expat without a DTD (`inert.parses`' rule: no entity to expand); `ExpatError` for
    XML that does not parse."""
    texts: list[str] = []
    parser = expat.ParserCreate()
    parser.CharacterDataHandler = texts.append
    parser.StartElementHandler = lambda _, attributes: texts.extend(
        f"\n{value}\n" for value in ("", *attributes.values())
    )
    parser.EndElementHandler = lambda _: texts.append("\n")
    parser.StartDoctypeDeclHandler = _refuse
    parser.Parse(xml, True)
    return "".join(texts)


def parses(
    data: bytes,
    start: Callable[[str, Any], None],
    end: Callable[[str], None],
    text: Callable[[str], None] | None = None,
    ordered: bool = False,
) -> bool:
    """Whether ``data`` parses as namespaced XML (``"uri local"`` names) with these handlers
    (attributes as a list of name, value... when ``ordered``); expat without a DTD (nothing to
    expand: `inert.parses`' rule). A handler may raise ValueError to stop: False."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.ordered_attributes = ordered
    parser.StartElementHandler, parser.EndElementHandler = start, end
    if text is not None:
        parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(data, True)
    except (ExpatError, ValueError):
        return False
    return True


def _refuse(*_: object) -> None:
    raise ExpatError("a DTD")
