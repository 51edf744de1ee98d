"""Glyph names in a PDF's fonts: names, never actions.

A Type 3 font's /CharProcs dictionary is keyed by glyph names, and an encoding's /Differences
array lists them. A producer names glyphs as it likes, and some name them after the character
code: pdfTeX (bitmap fonts) and Distiller call code 10 /AA, and nothing stops /JS or /Launch.
A reader looks a glyph table up by character code and never reads it as anything else, so its
names are not judged as keys of an action or of a page. What counts as a glyph table:

- a /CharProcs dictionary written in place whose every value is a reference (a glyph procedure
  is a stream, and a stream is always indirect), and a /Differences array of numbers and names:
  a value written in place has one parent, and it reaches the table only through that key;
- an object of that shape that is referred to, when every reference to it anywhere in the file
  is the value of a /CharProcs or /Differences key (`Census`): the same dictionary used as an
  action, an annotation or a page by any other reference is judged as any other object.

The raw reading (`pdf_bodies`) finds the tables twice, in the text and in pypdf's parse of it,
and keeps every name either reading places outside one (`judged_names`): a body that only
parses differently from how it reads, or not at all, keeps all its names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from attachguard.formats.pdfraw import PdfLayout, Problem, names_in

GLYPH_KEYS = frozenset({"/CharProcs", "/Differences"})
_WS = rb"[\x00\t\n\f\r ]"
_NAME = rb"/[^\x00\t\n\f\r ()<>\[\]{}/%]*+"
_INT = rb"[+-]?[0-9]++"
# The tables as written in place (possessive: each token is read one way, in linear time).
_CHAR_PROCS = rb"<<(?:%s*+%s%s++%s%s++%s%s++R(?![A-Za-z0-9]))*+%s*+>>" % (
    (_WS, _NAME, _WS, _INT, _WS, _INT, _WS, _WS)
)
_DIFFERENCES = rb"\[(?:%s++|%s|%s)*+\]" % (_WS, _NAME, _INT)
_IN_PLACE = re.compile(
    rb"/CharProcs%s*+%s|/Differences%s*+%s" % (_WS, _CHAR_PROCS, _WS, _DIFFERENCES)
)
_WHOLE = re.compile(rb"%s*+(?:%s|%s)%s*+" % (_WS, _CHAR_PROCS, _DIFFERENCES, _WS))
_GAP = rb"(?:[\x00\t\n\x0b\f\r ]|%[^\r\n]*+)++"  # between a reference's tokens
_MAX_CENSUS = 64  # objects looked up (each a search of the file); past it, none is a table
_Key = tuple[int, int]


def glyph_table(key: Any, value: Any) -> bool:
    """Whether ``value``, written in place under ``key``, is a glyph table (module docstring)."""
    return key in GLYPH_KEYS and shaped_like_one(value)


def shaped_like_one(value: Any) -> bool:
    """A dictionary of references (glyph procedures) or an array of codes and names."""
    if isinstance(value, DictionaryObject) and not isinstance(value, StreamObject):
        return all(isinstance(v, IndirectObject) for v in value.values())
    if isinstance(value, ArrayObject):
        return all(isinstance(v, (NumberObject, NameObject)) for v in value)
    return False


def written_as_table(body: bytes) -> bool:
    """Whether an object's text is a glyph table and nothing else."""
    return _WHOLE.fullmatch(body) is not None


def judged_names(body: bytes, parsed: Any, whole: bool) -> set[str]:
    """The names of a raw body that stand outside glyph tables, in its text or in pypdf's parse
    (``parsed``, None when it failed) of it; ``whole`` when the object itself is a table that
    `Census` vouches for. Both readings must find the same number of tables, or all count."""
    names = names_in(body)
    if parsed is None or not (names & GLYPH_KEYS or whole):
        return names
    text, found = _IN_PLACE.subn(lambda m: b" " * len(m[0]), body)
    if whole:  # the text is one table (`written_as_table`)
        text, found = b"", found + 1
    outside, tables = _tree_names(parsed, whole)
    if found != tables:
        return names
    return names_in(text) | outside


def _tree_names(parsed: Any, whole: bool) -> tuple[set[str], int]:
    """The names in a parsed object outside glyph tables, and how many tables it holds."""
    if whole and shaped_like_one(parsed):
        return set(), 1
    names: set[str] = set()
    tables = 0
    stack = [parsed]
    while stack:
        node = stack.pop()
        if isinstance(node, DictionaryObject):
            for key, value in node.items():
                names.add(key)
                if glyph_table(key, value):
                    tables += 1
                else:
                    stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
        elif isinstance(node, NameObject):
            names.add(node)
    return names, tables


class Census:
    """Which referred-to objects are glyph tables: those every reference to which, in the text
    of the file and of the object streams it unpacks, is the value of a /CharProcs or
    /Differences key in pypdf's parse of the object that holds it. A reference anywhere else
    (a trailer, an array, a string, a stream's data, a body that does not parse) makes it none,
    as does a file whose object streams are not all unpacked (encrypted, or another filter), or
    one not read to its end. Counted on the first question, for the few objects that ask."""

    def __init__(self, layout: PdfLayout, parse: Callable[[bytes], Any]) -> None:
        self._layout = layout
        self._parse = parse
        unread = {Problem.UNREADABLE_OBJECT_STREAM, Problem.OVER_LIMIT}
        self._complete = not layout.encrypted and not any(p.kind in unread for p in layout.problems)
        self._answers: dict[_Key, bool] = {}

    def only_glyphs(self, key: _Key) -> bool:
        """Whether object ``key`` is reached only as a glyph table."""
        if key not in self._answers:
            asked = len(self._answers) < _MAX_CENSUS and self._complete
            self._answers[key] = asked and self._count(key)
        return self._answers[key]

    def _count(self, key: _Key) -> bool:
        # as loosely as any reader takes one: leading zeros and a sign, any generation (some
        # readers ignore it), a comment or vertical tab between the tokens, anything after R;
        # a reference counted too many makes no table, one missed would make one
        reference = re.compile(rb"(?<![0-9.])[+-]?0*%d%s[+-]?[0-9]+%sR" % (key[0], _GAP, _GAP))
        packed = [o.body for o in self._layout.objects if o.container is not None]
        total = sum(len(reference.findall(text)) for text in [self._layout.data, *packed])
        holders = (o for o in self._layout.objects if reference.search(o.body))
        vouched = sum(_glyph_references(self._parse(o.body), key) for o in holders)
        return total > 0 and vouched == total


def _glyph_references(parsed: Any, key: _Key) -> int:
    """How many times a parsed object refers to ``key`` as the value of a glyph key."""
    count = 0
    stack = [parsed]
    while stack:
        node = stack.pop()
        if isinstance(node, DictionaryObject):
            for name, value in node.items():
                if isinstance(value, IndirectObject) and (value.idnum, value.generation) == key:
                    count += name in GLYPH_KEYS
                stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return count
