"""List labels as Word draws them before a numbered paragraph ("1.", "a)", "2.3.1").

A list level's label is a template with a place for each level's number: ``%1.%2.`` in a
.docx (``w:lvlText``), ``\\'02\\'00.`` in RTF (``\\leveltext``: a length, then level numbers as
the bytes 0 to 8). The template is the author's text, shown as is: a label of
``Card 4111 1111 1111 111%1`` draws a card number before the paragraph (red team 110). Each
list counts its paragraphs by level from the level's start; a level restarts after a
paragraph of a higher one. Numbers are drawn in the level's style (decimal, zero-padded,
roman, letters; bullets and "none" draw none; any other style as decimal digits).

`word_numbering` reads a .docx's numbering part (``w:abstractNum`` levels, ``w:num``
instances with their start overrides); the RTF reader builds `Level` from its list table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from attachguard.sensitive import markup

__all__ = ["Counters", "Level", "label", "word_numbering"]

LEVELS = 9
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))  # fmt: skip
_PLACE = re.compile(r"%([1-9])")
_SUFFIXES = {"tab": "\n", "space": " ", "nothing": ""}  # a tab starts a new line, as w:tab does


@dataclass
class Level:
    """One level of a list: its label template, first number, number style and what follows
    the label (``tab``, ``space``, ``nothing``)."""

    text: str = ""
    start: int = 1
    style: str = "decimal"
    suffix: str = "tab"


_MOST_LETTERS = 64


def number(value: int, style: str) -> str:
    """A list number in a level's style (Word's ``w:numFmt`` names)."""
    if style in ("bullet", "none"):
        return ""
    if style == "decimalZero":
        return f"{value:02d}"
    if style in ("upperRoman", "lowerRoman") and 0 < value < 4000:
        roman = ""
        for size, letters in _ROMAN:
            count, value = divmod(value, size)
            roman += letters * count
        return roman.upper() if style == "upperRoman" else roman
    if style in ("upperLetter", "lowerLetter") and value > 0:
        # a, ..., z, aa, ...: the letter repeated, at most `_MOST_LETTERS` times (a start of
        # 999,999,999 made a label of 38 million letters; review 113)
        letter = chr(ord("a") + (value - 1) % 26) * min((value - 1) // 26 + 1, _MOST_LETTERS)
        return letter.upper() if style == "upperLetter" else letter
    return str(value)


def label(levels: list[Level], values: list[int], places: str = "word") -> str:
    """The label of a paragraph at level ``len(values) - 1``, its suffix after it. ``places``:
    "word" for ``%1`` places, "rtf" for the bytes 0 to 8."""
    level = levels[len(values) - 1]

    def shown(index: int) -> str:
        if index >= len(values):
            return ""
        style = levels[index].style if index < len(levels) else "decimal"
        return number(values[index], style)

    if places == "word":
        text = _PLACE.sub(lambda m: shown(int(m.group(1)) - 1), level.text)
    else:  # its first character is its length (what follows it, ";", is not shown)
        size = ord(level.text[0]) if level.text else 0
        text = "".join(shown(ord(c)) if ord(c) < LEVELS else c for c in level.text[1 : 1 + size])
    return text + _SUFFIXES.get(level.suffix, "\n")


@dataclass
class Counters:
    """Each list's numbers by level so far, as Word counts them through a part."""

    values: dict[object, list[int | None]] = field(default_factory=dict)

    def advance(self, key: object, level: int, levels: list[Level]) -> list[int]:
        """The numbers of the levels up to ``level`` after one more paragraph at ``level``."""
        counts = self.values.setdefault(key, [None] * LEVELS)
        current = counts[level]
        counts[level] = levels[level].start if current is None else current + 1
        counts[level + 1 :] = [None] * (LEVELS - level - 1)
        return [levels[i].start if c is None else c for i, c in enumerate(counts[: level + 1])]


@dataclass
class Numbering:
    """A .docx's lists: each numbering instance's (``w:numId``) levels."""

    lists: dict[str, list[Level]] = field(default_factory=dict)

    def levels(self, num_id: str) -> list[Level] | None:
        return self.lists.get(num_id.strip())


class _NumberingReader:
    """Expat's handlers for `word_numbering` (local names; Word's attributes end in ``val``,
    ``ilvl``, ``abstractNumId``, ``numId`` whatever their namespace)."""

    def __init__(self) -> None:
        self.abstract: dict[str, list[Level]] = {}
        # numId: its abstract list; by w:lvlOverride, the levels it replaces and their starts
        self.instances: dict[str, tuple[str, dict[int, Level], dict[int, int]]] = {}
        self.levels: list[Level] | None = None  # the abstract list being read
        self.level: Level | None = None
        self.num: str | None = None  # the instance being read
        self.override = 0

    def start(self, name: str, attrs: list[str]) -> None:
        local = name.rpartition(" ")[2]
        pairs = {k.rpartition(" ")[2]: v for k, v in zip(attrs[::2], attrs[1::2], strict=False)}
        if local == "abstractNum":
            key = pairs.get("abstractNumId", "").strip()
            self.levels = self.abstract.setdefault(key, _blank())
        elif local == "num":
            self.num = pairs.get("numId", "").strip()
            self.instances[self.num] = ("", {}, {})
        elif local == "lvl":
            self.level = self._level(_index(pairs.get("ilvl", "0")))
        elif self.level is not None:
            _set(self.level, local, pairs.get("val", ""))
        elif self.num is not None:
            self._instance(self.num, local, pairs)

    def _level(self, index: int) -> Level | None:
        if self.num is not None:  # a level an instance's override replaces
            level = self.instances[self.num][1][self.override] = Level()
            return level
        return self.levels[index] if self.levels is not None else None

    def _instance(self, num: str, local: str, pairs: dict[str, str]) -> None:
        _, replaced, starts = self.instances[num]
        if local == "abstractNumId":
            self.instances[num] = (pairs.get("val", "").strip(), replaced, starts)
        elif local == "lvlOverride":
            self.override = _index(pairs.get("ilvl", "0"))
        elif local == "startOverride":
            starts[self.override] = integer(pairs.get("val", ""), 1)

    def end(self, name: str) -> None:
        local = name.rpartition(" ")[2]
        if local == "abstractNum":
            self.levels = None
        elif local == "lvl":
            self.level = None
        elif local == "num":
            self.num = None

    def numbering(self) -> Numbering:
        lists: dict[str, list[Level]] = {}
        for num, (abstract, replaced, starts) in self.instances.items():
            levels = [Level(lv.text, lv.start, lv.style, lv.suffix)
                      for lv in self.abstract.get(abstract, _blank())]  # fmt: skip
            levels = [replaced.get(i, level) for i, level in enumerate(levels)]
            for index, start in starts.items():
                levels[index].start = start
            lists[num] = levels
        return Numbering(lists)


def _blank() -> list[Level]:
    return [Level() for _ in range(LEVELS)]


def _set(level: Level, local: str, value: str) -> None:
    if local == "lvlText":
        level.text = value
    elif local == "start":
        level.start = integer(value, 1)
    elif local == "numFmt":
        level.style = value
    elif local == "suff":
        level.suffix = value


def integer(value: str, default: int) -> int:
    """An attribute's integer as Word reads one: ASCII digits (a sign before them), nine at
    most; ``default`` for anything else ("²" is a digit to `str.isdigit`, not to ``int``)."""
    value = value.strip()
    return int(value) if _INTEGER.fullmatch(value) else default


_INTEGER = re.compile(r"-?[0-9]{1,9}")


def _index(value: str) -> int:
    return min(max(integer(value, 0), 0), LEVELS - 1)


def word_numbering(data: bytes) -> Numbering | None:
    """A .docx's numbering part; None for XML that does not parse or declares a DTD."""
    reader = _NumberingReader()
    parsed = markup.parses(data, reader.start, reader.end, ordered=True)
    return reader.numbering() if parsed else None
