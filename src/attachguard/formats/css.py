"""The addresses a CSS style sheet or ``style`` attribute loads, read as a browser's CSS
tokenizer reads them (tinycss2, which follows CSS Syntax Level 3): every ``url()``, and every
string of a declaration or rule that may load one: one with ``@import``, a loading function
(``image-set()``, ``image()``, ``cross-fade()``, ``src()``) or ``var()``, at any depth, and
every string a custom property holds, since ``var()`` puts a custom property's value
or a fallback (``image-set(var(--none, "//host/x.png") 1x)``) anywhere. Comments are dropped and
escapes decoded (``u\\72l(\\5c\\5c host\\5c x)`` is ``url(\\\\host\\x)``). Strings elsewhere
(``font-family: "Arial"``, ``content: "text"``) are not read. Written with a maintained
tokenizer: CSS escapes, comments and the unquoted ``url(`` form are where a search by pattern
goes wrong.

Whether Office's SVG renderer decodes CSS escapes is not known: the addresses are also read as
written (``url(...)`` and ``@import "..."`` taken literally, comments included: stripping them
by pattern could hide what follows a ``/*`` inside a string), and both readings are returned.

Cost: tinycss2 takes about 2 s a megabyte, and an SVG picture may hold megabytes of class rules.
A text without a backslash (no escape), ``@import``, custom property, ``var()`` or loading
function other than ``url()`` is not tokenized: there the literal reading finds every address
the tokenizer would (and those in comments and strings besides). A text that needs the
tokenizer and is longer than `MAX_TOKENIZED` raises `LimitExceeded` (ARCHIVE_EXPANSION): the
literal reading alone would miss an escaped address, so the file is rejected as not fully
analysed rather than approved unread. The walk over the tokens keeps its own stack, so any
nesting the tokenizer builds (``((((url(...))))``, a thousand deep) is read to the bottom."""

from __future__ import annotations

import re
from collections.abc import Iterator

import tinycss2
from tinycss2 import ast

from attachguard.codes import ARCHIVE_EXPANSION
from attachguard.errors import LimitExceeded

__all__ = ["MAX_TOKENIZED", "may_load", "style_attribute_targets", "style_sheet_targets"]

# characters of one sheet or attribute the tokenizer reads: about 2 s
MAX_TOKENIZED = 1_000_000

# the addresses as written, escapes and comments left as they are
_LITERAL = re.compile(
    r"""url\(\s*['"]?([^'")]*)|@import\s*(?:'([^']*)'|"([^"]*)")""", re.IGNORECASE
)
# what only the tokenizer reads: an escape, @import (a comment may stand before its string), a
# custom property (not "<!--" or "-->"), var() or a loading function's strings; without
# escapes, a function's name is written out whole, next to its "("
_NEEDS_TOKENS = re.compile(
    r"\\|@import|(?<!<!)--(?!>)|(?:var|image|image-set|src|fade)\(", re.IGNORECASE
)
# functions whose strings are addresses to load: CSS 4's src(), image(), image-set() and
# cross-fade(), with their -webkit- forms; and var(), whose fallback goes where it stands.
# url()'s are its own string only (url("//host/p.png")): one beside it loads nothing
_LOADING = frozenset({"src", "image", "image-set", "-webkit-image-set", "cross-fade",
                      "-webkit-cross-fade", "var"})  # fmt: skip
_WORDS = ("url", "import", "src", "image", "fade", "--")
_NESTED = (ast.ParenthesesBlock, ast.SquareBracketsBlock, ast.CurlyBracketsBlock)


def may_load(text: str) -> bool:
    """Whether a ``style`` attribute or sheet could name an address at all: a loading function's
    or ``@import``'s name, a custom property, or a backslash (an escape can spell any of them).
    A cheap test before tokenizing."""
    lowered = text.lower()
    return "\\" in text or any(word in lowered for word in _WORDS)


def style_sheet_targets(css: str) -> list[str]:
    """The addresses a ``<style>`` element's sheet loads, read both ways; raises
    `LimitExceeded` for a sheet past `MAX_TOKENIZED` that needs the tokenizer."""
    return _targets(css)


def style_attribute_targets(css: str) -> list[str]:
    """The addresses a ``style`` attribute (declarations) or a presentation attribute such as
    ``fill="url(...)"`` (one value) loads, read both ways; raises as `style_sheet_targets`."""
    return _targets(css)


def _targets(css: str) -> list[str]:
    literal = ["".join(groups) for groups in _LITERAL.findall(css)]
    if not _NEEDS_TOKENS.search(css):
        return list(dict.fromkeys(literal))
    if len(css) > MAX_TOKENIZED:
        message = f"CSS of {len(css):,} characters (over {MAX_TOKENIZED:,}) with escapes,"
        raise LimitExceeded(ARCHIVE_EXPANSION, f"{message} variables or image functions")
    tokens = tinycss2.parse_component_value_list(css, skip_comments=True)
    return list(dict.fromkeys([*_addresses(tokens), *literal]))


def _addresses(tokens: list[ast.Node]) -> Iterator[str]:
    """Every ``url()`` in ``tokens``, and the strings of each declaration or rule that may load
    one. A rule's or at-rule's ``{}`` block is a list of its own, read in turn."""
    lists = [tokens]
    while lists:
        for segment in _segments(lists.pop(), lists):
            nodes = list(_descendants(segment))
            strings = _custom(segment) or any(_loads(node) for node in nodes)
            for node in nodes:
                yield from _url(node)
                if strings and isinstance(node, ast.StringToken):
                    yield node.value


def _segments(tokens: list[ast.Node], lists: list[list[ast.Node]]) -> Iterator[list[ast.Node]]:
    """``tokens`` cut into declarations and rules' preludes, at ``;`` and at ``{}`` blocks,
    whose contents are put on ``lists``."""
    segment: list[ast.Node] = []
    for token in tokens:
        if isinstance(token, ast.CurlyBracketsBlock):
            lists.append(token.content)
        elif not (isinstance(token, ast.LiteralToken) and token.value == ";"):
            segment.append(token)
            continue
        yield segment
        segment = []
    yield segment


def _descendants(segment: list[ast.Node]) -> Iterator[ast.Node]:
    """The nodes of ``segment`` and of the functions and blocks in it, in order, at any depth
    (a stack of our own: Python's would end a thousand levels down)."""
    stack = [iter(segment)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
            continue
        yield node
        if isinstance(node, ast.FunctionBlock):
            stack.append(iter(node.arguments))
        elif isinstance(node, _NESTED):
            stack.append(iter(node.content))


def _custom(segment: list[ast.Node]) -> bool:
    """Whether ``segment`` declares a custom property (``--u: "//host/p.png"``)."""
    first = next((node for node in segment if not isinstance(node, ast.WhitespaceToken)), None)
    return isinstance(first, ast.IdentToken) and first.value.startswith("--")


def _loads(node: ast.Node) -> bool:
    """Whether ``node`` makes its declaration's strings addresses: ``@import``, a loading
    function or ``var()``."""
    if isinstance(node, ast.FunctionBlock):
        return node.lower_name in _LOADING
    return isinstance(node, ast.AtKeywordToken) and node.lower_value == "import"


def _url(node: ast.Node) -> Iterator[str]:
    """The address of ``url(//host/p.png)`` or ``url("//host/p.png")``."""
    if isinstance(node, ast.URLToken):
        yield node.value
    elif isinstance(node, ast.FunctionBlock) and node.lower_name == "url":
        yield from (arg.value for arg in node.arguments if isinstance(arg, ast.StringToken))
