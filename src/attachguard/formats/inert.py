"""Markup that runs and loads nothing, which a browser shows as it is: a MathML formula, a
page that only styles. Found inside documents where a name or a model's label would call them
web pages: LaTeX's tagged PDFs attach one MathML file per formula and a style sheet for lists
as associated files (hunts 98 and 101). Parsed, never searched: XML with expat (no DTD, no
processing instruction), HTML with the standard library's tokenizer, CSS with `css`."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from xml.parsers import expat

from attachguard.errors import LimitExceeded
from attachguard.formats import css

__all__ = ["mathml", "parses", "style_sheet_page"]


_MATHML = "http://www.w3.org/1998/Math/MathML"
_MATHML_MAX = 1 << 20


def mathml(data: bytes) -> bool:
    """Whether ``data`` is a MathML document and nothing else: XML (no DTD) whose every element
    is MathML's (or in no namespace, under a ``math`` root), no event-handler attribute, no
    ``javascript:`` address. A browser shows it as a formula and runs nothing; LaTeX's tagged
    PDFs attach one per formula as an associated file (hunt 98: Magika calls them HTML)."""
    if len(data) > _MATHML_MAX or not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False
    elements: list[bool] = []  # per element: whether it is inert MathML

    def start(name: str, attrs: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        # MathML's namespace, or none under a root named math (LaTeX writes <math> bare: a
        # browser shows an XML tree of it, and no element without a namespace does anything)
        mathml = namespace == _MATHML or (not namespace and (elements or local == "math"))
        elements.append(bool(mathml) and not any(map(_handler, attrs, attrs.values())))

    # (no processing instruction: an xml-stylesheet may load and transform it)
    return parses(data, start, instructions=False) and bool(elements) and all(elements)


def parses(
    xml: bytes,
    start: Callable[[str, dict[str, str]], None] | None = None,
    instructions: bool = True,
) -> bool:
    """Whether ``xml`` parses with expat and holds no DTD (no entity to expand) and, without
    ``instructions``, no processing instruction; ``start`` sees each element, its name as
    "uri local"."""

    def refuse(*_: object) -> None:
        raise ValueError("refused")

    parser = expat.ParserCreate(namespace_separator=" ")
    if start is not None:
        parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    if not instructions:
        parser.ProcessingInstructionHandler = refuse
    try:
        parser.Parse(xml, True)
    except (expat.ExpatError, ValueError):
        return False
    return True


def _handler(key: str, value: str) -> bool:
    local = key.rpartition(" ")[2].lower()
    address = re.sub(r"[\x00-\x20]", "", value).lower()
    return local.startswith("on") or address.startswith(("javascript:", "vbscript:", "data:"))


# The elements of a page that only styles: LaTeX's tagged PDFs attach a style sheet for lists
# as an HTML file that is one <style> element (hunt 101)
_STYLE_ONLY = frozenset({"html", "head", "body", "style", "title"})
_STYLE_PAGE_MAX = 1 << 16


class _StylePage(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inert, self.tag = True, ""
        self.sheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag = tag
        if tag not in _STYLE_ONLY or attrs:
            self.inert = False

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.tag = ""

    def handle_data(self, data: str) -> None:
        if self.tag == "style":
            self.sheets.append(data)
        elif data.strip() and self.tag != "title":
            self.inert = False  # text is content: only a style sheet and a title are inert

    def handle_comment(self, data: str) -> None:
        self.inert = False  # conditional comments: Internet Explorer's markup inside

    def handle_decl(self, decl: str) -> None:
        if decl.strip().lower() != "doctype html":
            self.inert = False

    def unknown_decl(self, data: str) -> None:
        self.inert = False

    def handle_pi(self, data: str) -> None:
        self.inert = False


def style_sheet_page(data: bytes) -> bool:
    """Whether a web page only styles: ASCII HTML of `_STYLE_ONLY` elements without
    attributes (no script, handler, frame, form, link or refresh), holding style sheets that
    load nothing (`css.style_sheet_targets`: no ``url()``, no ``@import``). A browser shows an
    empty page; LaTeX's tagged PDFs attach one as an associated file (hunt 101)."""
    if len(data) > _STYLE_PAGE_MAX or not data.isascii():
        return False
    page = _StylePage()
    page.feed(data.decode("ascii"))
    page.close()
    if not page.inert or not page.sheets:
        return False
    sheets = "\n".join(page.sheets)
    if any(word in sheets.lower() for word in ("expression", "behavior", "binding", "\\")):
        return False  # old browsers' scripts in style sheets, and escapes that spell them
    try:
        return not css.style_sheet_targets(sheets)
    except LimitExceeded:
        return False
