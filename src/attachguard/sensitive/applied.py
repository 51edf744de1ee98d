"""Values shown through number formats outside a workbook's cell styles (red team 114).

Excel shows a cell through the number format of a conditional format (a differential format,
``dxf``, of the styles part, or one written inside the rule, ``x14:dxf``) when the rule's
condition holds; a chart draws its data labels and its axes' labels through their
``c:numFmt``. A format's literal text may hold digits: ``"Card 4111 1111 1111 "0000`` shows
1111 as a card number, in the cell, over the bar, at the axis's top tick.

Conditions are not evaluated: each cell in a rule's range is read through the rule's format,
as it shows when the condition holds. A chart's values (its caches and literals), and its
axes' bounds and ticks where the chart fixes them, are read through each format the chart
declares. Only formats whose literal text holds a digit are applied (`numfmt.shows_digits`:
any other adds no digit to what the value holds), so an ordinary workbook costs nothing more;
each reading is a line of its own, and readings are capped at `MAX_READINGS` a part.
"""

from __future__ import annotations

import re
from decimal import Decimal, DecimalException
from typing import Protocol

from attachguard.sensitive import lists, markup, numfmt

__all__ = ["MAX_READINGS", "chart_text", "conditional_text"]

MAX_READINGS = 10_000  # values read through a format, a part
_MAX_TICKS = 200  # an axis's ticks read, from its minimum
_PLACES = 20  # a chart's numbers read: exponents within these (Excel shows 15 digits)
_MAX_AREAS = 64  # of a worksheet's conditional formats read, each cell checked against
_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?")


def conditional_text(sheet: bytes, dxfs: list[str | None], shared: list[str]) -> str:
    """A worksheet's cells as its conditional formats show them, a line each: through the
    differential formats (``dxfs``, by ``dxfId``) and the formats written in the rules; the
    workbook's ``shared`` strings give string cells their text. Read in two passes, the rules
    (written after the cells) first; empty when no rule applies a format that shows a digit
    (or the sheet does not parse)."""
    rules = _Rules(dxfs)
    if not _parse(sheet, rules) or not rules.found:
        return ""
    cells = _Cells(rules.found, shared)
    _parse(sheet, cells)
    return "".join(f"\n{line}" for line in cells.out)


def chart_text(chart: bytes) -> str:
    """A chart's values as its data labels and axes show them, a line each, through each of
    its number formats that shows a digit (empty when none does, or the chart does not
    parse)."""
    reader = _Chart()
    if not _parse(chart, reader) or not reader.codes:
        return ""
    values = [*reader.values, *reader.ticks()][: MAX_READINGS // len(reader.codes)]
    return "".join(f"\n{numfmt.shown(code, value)}" for code in reader.codes for value in values)


_Area = tuple[int, int, int, int]  # first row, first column, last row, last column
_MAX_CODES = 64  # distinct formats that show a digit, read in one chart or conditional format


def _add(codes: dict[str, None], code: str | None) -> None:
    """Keep a format that shows a digit, once (a set: review 114's chart of 60,000 formats
    was checked against a list, 18 s), `_MAX_CODES` at most."""
    if code and code not in codes and len(codes) < _MAX_CODES and numfmt.shows_digits(code):
        codes[code] = None


class _Rules:
    """Expat's handlers for a worksheet's conditional formats (``conditionalFormatting``, and
    Excel 2010's ``x14:conditionalFormatting`` with its ``xm:sqref`` and ``x14:dxf``): each
    one's areas, with the formats of its rules that show a digit (up to `_MAX_AREAS`)."""

    def __init__(self, dxfs: list[str | None]) -> None:
        self.dxfs = dxfs
        self.found: list[tuple[_Area, list[str]]] = []
        self.areas: list[_Area] = []  # of the open conditional format
        self.codes: dict[str, None] = {}  # its formats that show a digit
        self.sqref: list[str] | None = None  # an x14 format's range, written as an element

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        if local == "conditionalFormatting":
            self.areas, self.codes = _areas(attrs.get("sqref", "")), {}
        elif local == "cfRule":
            at = lists.integer(attrs.get("dxfId", "").strip(), -1)
            self._code(self.dxfs[at] if 0 <= at < len(self.dxfs) else None)
        elif local == "numFmt":  # a format written in the rule (x14:dxf)
            self._code(attrs.get("formatCode"))
        elif local == "sqref":
            self.sqref = []

    def _code(self, code: str | None) -> None:
        _add(self.codes, code)

    def end(self, name: str) -> None:
        local = name.rpartition(" ")[2]
        if local == "sqref" and self.sqref is not None:
            self.areas += _areas("".join(self.sqref))
            self.sqref = None
        elif local == "conditionalFormatting" and self.codes:
            room = _MAX_AREAS - len(self.found)
            self.found += [(area, list(self.codes)) for area in self.areas[: max(room, 0)]]

    def text(self, data: str) -> None:
        if self.sqref is not None:
            self.sqref.append(data)


class _Cells:
    """Expat's handlers for a worksheet's cells: each one inside a conditional format's area
    read through the format (up to `MAX_READINGS` readings)."""

    def __init__(self, found: list[tuple[_Area, list[str]]], shared: list[str]) -> None:
        self.found = found
        self.shared = shared
        self.out: list[str] = []
        self.row = 0
        self.column = 0
        self.kind = ""
        self.value: list[str] | None = None  # the open cell's value (v, or inline string)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        if local == "row":
            self.row, self.column = lists.integer(attrs.get("r", ""), self.row + 1), 0
        elif local == "c":
            reference = _REFERENCE.fullmatch(attrs.get("r", "").strip())
            self.row = int(reference.group(2)) if reference else self.row
            self.column = _column(reference.group(1)) if reference else self.column + 1
            self.kind, self.value = attrs.get("t", "n"), None
        elif local == "v" or (local == "t" and self.value is None):
            self.value = []

    def end(self, name: str) -> None:
        if name.rpartition(" ")[2] != "c" or self.value is None or len(self.out) >= MAX_READINGS:
            return
        value, self.value = "".join(self.value), None
        if self.kind == "s":
            at = lists.integer(value.strip(), -1)
            value = self.shared[at] if 0 <= at < len(self.shared) else ""
        for area, codes in self.found:
            if _inside(self.row, self.column, area):
                self.out += [_through(code, self.kind, value) for code in codes]

    def text(self, data: str) -> None:
        if self.value is not None:
            self.value.append(data)


class _Chart:
    """Expat's handlers for `chart_text`: the formats that show a digit (``c:numFmt``'s
    ``formatCode``, a cache's ``c:formatCode``), the numeric values (``c:v``) and each
    axis's bounds and major unit (``c:min``, ``c:max``, ``c:majorUnit``)."""

    def __init__(self) -> None:
        self.codes: dict[str, None] = {}
        self.values: list[str] = []
        self.axes: list[dict[str, Decimal]] = []
        self.open: list[str] | None = None  # the open c:v's or c:formatCode's text
        self.kind = ""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        if local == "numFmt":
            self._code(attrs.get("formatCode", ""))
        elif local in ("v", "formatCode"):
            self.open, self.kind = [], local
        elif local.endswith("Ax"):  # valAx, dateAx, catAx, serAx
            self.axes.append({})
        elif local in ("min", "max", "majorUnit") and self.axes:
            number = _number(attrs.get("val", ""))
            if number is not None:
                self.axes[-1][local] = number

    def _code(self, code: str) -> None:
        _add(self.codes, code)

    def end(self, name: str) -> None:
        if self.open is None:
            return
        text = "".join(self.open).strip()
        if self.kind == "formatCode":
            self._code(text)
        elif _number(text) is not None and len(self.values) < MAX_READINGS:
            self.values.append(text)
        self.open = None

    def text(self, data: str) -> None:
        if self.open is not None:
            self.open.append(data)

    def ticks(self) -> list[str]:
        """Each axis's bounds, and the ticks from its minimum by its major unit (labelled
        through its format) up to its maximum, where the chart fixes them."""
        out: list[str] = []
        for axis in self.axes:
            if len(out) >= MAX_READINGS:
                break
            low, high, unit = axis.get("min", Decimal(0)), axis.get("max"), axis.get("majorUnit")
            out += [str(bound) for bound in (axis.get("min"), high) if bound is not None]
            if high is None or unit is None or unit <= 0:
                continue
            count = min(_MAX_TICKS, int((high - low) / unit) + 1)
            out += [str(low + unit * step) for step in range(max(count, 0))]
        return out


class _Handlers(Protocol):
    def start(self, name: str, attrs: dict[str, str]) -> None: ...
    def end(self, name: str) -> None: ...
    def text(self, data: str) -> None: ...


def _parse(data: bytes, handlers: _Handlers) -> bool:
    """Whether ``data`` parses with the ``handlers`` (`markup.parses`: no DTD)."""
    return markup.parses(data, handlers.start, handlers.end, handlers.text)


def _through(code: str, kind: str, value: str) -> str:
    """A cell's value through a format: a number laid out, text in its text section."""
    return numfmt.shown(code, value) if kind == "n" else numfmt.shown_text(code, value)


def _areas(sqref: str) -> list[_Area]:
    """A range list's areas ("A1:B10 D5"), each (first row, first column, last row, last
    column)."""
    areas = []
    for token in sqref.split():
        match = _REFERENCE.fullmatch(token)
        if match is None:
            continue
        first = int(match.group(2)), _column(match.group(1))
        last = (int(match.group(4)), _column(match.group(3))) if match.group(3) else first
        areas.append((min(first[0], last[0]), min(first[1], last[1]),
                      max(first[0], last[0]), max(first[1], last[1])))  # fmt: skip
    return areas


def _inside(row: int, column: int, area: _Area) -> bool:
    return area[0] <= row <= area[2] and area[1] <= column <= area[3]


def _column(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _number(text: str) -> Decimal | None:
    """A chart's number, within Excel's range of shown digits (so that no arithmetic on an
    axis's bounds overflows: ``1E+999999``)."""
    try:
        number = Decimal(text.strip())
    except (DecimalException, ValueError):
        return None
    if not number.is_finite() or (number and not -_PLACES <= number.adjusted() <= _PLACES):
        return None
    return number
