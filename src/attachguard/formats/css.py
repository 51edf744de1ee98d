"""The addresses a CSS style sheet or ``style`` attribute loads, read as a browser's CSS
tokenizer reads them (tinycss2, which follows CSS Syntax Level 3): ``@import`` by string or
``url()``, every ``url()`` in a rule or declaration (a fill, a background, a font's ``src``),
the strings of ``image-set()``, ``image()`` and ``cross-fade()``, and those custom properties
hold (``var()`` puts them anywhere), with comments dropped and escapes decoded
(``u\\72l(\\5c\\5c host\\5c x)`` is ``url(\\\\host\\x)``). Written with a maintained tokenizer:
CSS escapes, comments and the unquoted ``url(`` form are where a search by pattern goes wrong.

Whether Office's SVG renderer decodes CSS escapes is not known: the addresses are also read as
written (``url(...)`` and ``@import "..."`` taken literally, comments included: stripping them
by pattern could hide what follows a ``/*`` inside a string), and both readings are returned."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import tinycss2
from tinycss2 import ast

__all__ = ["may_load", "style_attribute_targets", "style_sheet_targets"]

# the addresses as written, escapes and comments left as they are
_LITERAL = re.compile(
    r"""url\(\s*['"]?([^'")]*)|@import\s*(?:'([^']*)'|"([^"]*)")""", re.IGNORECASE
)
# functions whose string arguments are addresses to load: url() and CSS 4's src(), image(),
# image-set() and cross-fade(), with their -webkit- forms
_LOADING = frozenset({"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade",
                      "-webkit-cross-fade"})  # fmt: skip
_WORDS = ("url", "import", "src", "image", "fade", "--")
_BLOCKS = (ast.ParenthesesBlock, ast.SquareBracketsBlock, ast.CurlyBracketsBlock)


def may_load(text: str) -> bool:
    """Whether a ``style`` attribute or sheet could name an address at all: a loading function's
    or ``@import``'s name, a custom property, or a backslash (an escape can spell any of them).
    A cheap test before tokenizing."""
    lowered = text.lower()
    return "\\" in text or any(word in lowered for word in _WORDS)


def style_sheet_targets(css: str) -> list[str]:
    """The addresses a ``<style>`` element's sheet loads, read both ways."""
    return _both(css, _targets(tinycss2.parse_stylesheet(css, skip_comments=True)))


def style_attribute_targets(css: str) -> list[str]:
    """The addresses a ``style`` attribute (declarations) or a presentation attribute such as
    ``fill="url(...)"`` (one value) loads, read both ways."""
    tokens = tinycss2.parse_component_value_list(css, skip_comments=True)
    return _both(css, [*_targets(tokens), *_custom_strings(tokens)])


def _custom_strings(tokens: list[ast.Node]) -> Iterator[str]:
    """The strings custom properties hold (``--u: "//host/p.png"``): ``var(--u)`` puts one
    where an address may be, in ``image-set(var(--u) 1x)``."""
    for declaration in tinycss2.parse_blocks_contents(tokens, skip_comments=True):
        if isinstance(declaration, ast.Declaration) and declaration.name.startswith("--"):
            yield from (t.value for t in declaration.value if isinstance(t, ast.StringToken))


def _both(css: str, tokenized: Iterable[str]) -> list[str]:
    literal = ("".join(groups) for groups in _LITERAL.findall(css))
    return list(dict.fromkeys([*tokenized, *literal]))


def _targets(nodes: Iterable[ast.Node]) -> Iterator[str]:
    """Every address in ``nodes`` and the blocks, functions and rules inside them."""
    for node in nodes:
        if isinstance(node, ast.URLToken):
            yield node.value
        elif isinstance(node, ast.FunctionBlock):
            if node.lower_name in _LOADING:  # url("..."), image-set("..." 1x): a string loads
                yield from (arg.value for arg in node.arguments if isinstance(arg, ast.StringToken))
            yield from _targets(node.arguments)
        elif isinstance(node, ast.AtRule):
            if node.lower_at_keyword == "import":
                yield from (t.value for t in node.prelude if isinstance(t, ast.StringToken))
            yield from _targets([*node.prelude, *(node.content or [])])
        elif isinstance(node, ast.QualifiedRule):
            yield from _targets([*node.prelude, *node.content])
            yield from _custom_strings(node.content)
        elif isinstance(node, _BLOCKS):
            yield from _targets(node.content)
            if isinstance(node, ast.CurlyBracketsBlock):  # a rule's body inside @media
                yield from _custom_strings(node.content)
