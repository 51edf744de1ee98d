"""What a spreadsheet formula computes, for the formulas that make text: a small evaluator.

Excel computes a formula when it opens a workbook without its cached value, or one that asks for
it (``calcPr fullCalcOnLoad``, a file saved by another application), and on any edit: a card
number built from pieces (``REPT("4",1)&"111..."``, ``SUBSTITUTE("4x11...","x","")``, ``MID``,
``CHAR(52)&...``, ``A1&B1``, ``TEXT(n,"0000 0000...")``, ``TEXTJOIN``) is what the cell shows,
whatever value the file caches. This evaluator reads the formula grammar Excel stores ([MS-XLSX]
2.2.2: constants, array constants, cell references and ranges, ``&``, arithmetic, comparisons,
``%``) and the functions that make or pick text (`_FUNCTIONS`; INDEX over a reference computes
only the cell it picks), ROW and COLUMN (the formula's own cell, or the one named), with numbers
held to Excel's 15 significant digits. Any other function, a table reference or an unknown name
makes the formula unknown (None), never a guess.

Work is bounded: a formula's length (`MAX_FORMULA`) and nesting, each text's length (Excel's
32,767 characters), the cells a range yields and the steps of a `Book` (all its formulas
together); a circular reference is an error value, as Excel's is no number anyone reads.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from attachguard.formats.formulas import MAX_FORMULA
from attachguard.sensitive import formulatext
from attachguard.sensitive.formulatext import Error, Unknown, Value

__all__ = ["Book", "Error", "Unknown", "parse"]

MOST_NESTING = 64  # Excel's limit on nested calls
MOST_STEPS = 300_000  # per workbook: nodes evaluated, cells a range yields
MOST_RANGE = 10_000  # cells one range yields
MOST_TEXT = 8_000_000  # characters of computed text a workbook keeps (review 138: 50,000
# cells of REPT("1 ",16000) took 22 GB)


MOST_DEPTH = 80  # nodes being evaluated at once, across the cells a formula reads


class Exhausted(Unknown):
    """The workbook's steps are spent: nothing more is computed."""


class _TooDeep(Unknown):
    """A chain of cells and calls past `MOST_DEPTH`: the formula that started it is not
    computed (and nothing on the way is kept: each of its cells is computed on its own)."""


@dataclass(frozen=True)
class Ref:
    """A cell or a range; rows and columns from 0, each with whether it is absolute ($)."""

    sheet: str | None  # lower-cased; None: the formula's own sheet
    top: tuple[int, int, bool, bool]  # row, column, row absolute, column absolute
    bottom: tuple[int, int, bool, bool] | None = None


Node = tuple[object, ...]  # ("s", text), ("n", number), ("ref", Ref), ("call", name, args)...

_TOKENS = re.compile(
    r"""(?P<blank>\s+)|(?P<str>"(?:[^"]|"")*")
    |(?P<ref>(?:(?:'(?:[^']|'')+'|[^\W\d][\w.]*)!)?\$?[A-Za-z]{1,3}\$?\d{1,7}
       (?::\$?[A-Za-z]{1,3}\$?\d{1,7})?)(?![\w(.!\[])
    |(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<bool>(?i:TRUE|FALSE))(?![\w(.])
    |(?P<func>[^\W\d][\w.]*)(?=\s*\()|(?P<name>[^\W\d][\w.]*)(?![\w\[!])
    |(?P<err>\#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A))
    |(?P<op><>|<=|>=|[-+*/^&=<>%(),{};])""",
    re.VERBOSE,
)
_CELL = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)(\d{1,7})")
# Binary operators by precedence, lowest first (negation binds tighter than ^ in Excel)
_BINARY = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3,
           "*": 4, "/": 4, "^": 5}  # fmt: skip
_NEGATION = 6


def parse(formula: str) -> Node:
    """The formula (without its ``=``) as a tree of nodes; `Unknown` when it is not one this
    evaluator reads."""
    if len(formula) > MAX_FORMULA:
        raise Unknown("too long")
    tokens = _tokens(formula.lstrip("="))
    parser = _Parser(tokens)
    node = parser.expression(0, 0)
    if parser.at < len(tokens):
        raise Unknown("trailing tokens")
    return node


def _tokens(formula: str) -> list[tuple[str, str]]:
    out = []
    at = 0
    while at < len(formula):
        match = _TOKENS.match(formula, at)
        if match is None:
            raise Unknown(f"unread: {formula[at : at + 10]!r}")
        at = match.end()
        kind = match.lastgroup or ""
        if kind != "blank":
            out.append((kind, match.group()))
    return out


class _Parser:
    """Precedence climbing over `_tokens`."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token

    def expression(self, least: int, depth: int) -> Node:
        if depth > MOST_NESTING:
            raise Unknown("nested too deep")
        node = self.operand(depth)
        while True:
            kind, text = self.peek()
            if kind == "op" and text == "%":
                self.take()
                node = ("pct", node)
                continue
            strength = _BINARY.get(text, 0) if kind == "op" else 0
            if strength <= least:
                return node
            self.take()
            node = ("op", text, node, self.expression(strength, depth + 1))

    def operand(self, depth: int) -> Node:
        kind, text = self.take()
        if kind == "op" and text in "+-":
            inner = self.expression(_NEGATION - 1, depth + 1)
            return ("neg", inner) if text == "-" else inner
        if kind == "op" and text == "(":
            node = self.expression(0, depth + 1)
            self.expect(")")
            return node
        if kind == "func":
            return ("call", _function_name(text), self.arguments(depth + 1))
        if kind == "op" and text == "{":
            return self.array()
        return _constant(kind, text)

    def array(self) -> Node:
        """An array constant, ``{1,2;"a","b"}``: constants, a row's apart by commas, rows by
        semicolons; its rows must be as long."""
        rows: list[list[Value]] = [[]]
        while True:
            kind, text = self.take()
            sign = -1.0 if (kind, text) == ("op", "-") else 1.0
            if kind == "op" and text in "+-":
                kind, text = self.take()
                if kind != "num":
                    raise Unknown("a sign before no number")
            if kind == "op" or kind not in ("str", "num", "bool", "err"):
                raise Unknown("not an array constant")
            value: Value = _constant(kind, text)[1]  # type: ignore[assignment]
            rows[-1].append(sign * value if isinstance(value, float) else value)
            kind, text = self.take()
            if text == ";":
                rows.append([])
            elif text == "}":
                break
            elif text != ",":
                raise Unknown("bad array constant")
        if len({len(row) for row in rows}) != 1:
            raise Unknown("rows of an array constant differ")
        return ("array", formulatext.Grid([v for row in rows for v in row], len(rows[0])))

    def arguments(self, depth: int) -> list[Node]:
        self.expect("(")
        args: list[Node] = []
        if self.peek() == ("op", ")"):
            self.take()
            return args
        while True:
            if self.peek()[1] in (",", ")"):
                args.append(("blank",))  # an argument left out: TEXTJOIN(,TRUE,...)
            else:
                args.append(self.expression(0, depth))
            text = self.take()[1]
            if text == ")":
                return args
            if text != ",":
                raise Unknown("bad arguments")

    def expect(self, text: str) -> None:
        if self.take() != ("op", text):
            raise Unknown(f"expected {text}")


def _function_name(text: str) -> str:
    name = text.upper()
    for prefix in ("_XLFN.", "_XLWS."):
        name = name.removeprefix(prefix)
    return name


def _constant(kind: str, text: str) -> Node:
    if kind == "str":
        return ("v", text[1:-1].replace('""', '"'))
    if kind == "num":
        number = float(text)
        if not math.isfinite(number):  # 1E+400: Excel refuses the formula (review 138)
            raise Unknown(f"no such number {text!r}")
        return ("v", formulatext.excel_number(number))
    if kind == "bool":
        return ("v", text.upper() == "TRUE")
    if kind == "err":
        return ("v", Error(text))
    if kind == "ref":
        return ("ref", reference(text))
    if kind == "name":
        return ("name", text.lower())
    raise Unknown(f"unexpected {text!r}")


def reference(text: str) -> Ref:
    """A reference's text (``Sheet1!$A$1:B2``, ``'My sheet'!C3``) as a `Ref`."""
    sheet = None
    if "!" in text:
        prefix, _, text = text.rpartition("!")
        sheet = prefix.strip("'").replace("''", "'").lower()
    corners = [_corner(part) for part in text.split(":")]
    return Ref(sheet, corners[0], corners[1] if len(corners) > 1 else None)


def _corner(text: str) -> tuple[int, int, bool, bool]:
    match = _CELL.fullmatch(text)
    if match is None:
        raise Unknown(f"not a cell: {text!r}")
    column = 0
    for char in match.group(2).upper():
        column = column * 26 + ord(char) - 64
    return int(match.group(4)) - 1, column - 1, bool(match.group(3)), bool(match.group(1))


@dataclass
class Book:
    """A workbook's cells for formulas to read: per sheet (lower-cased name), cell (row,
    column) → its value and, for a formula cell, its tree and the offset a shared formula's
    follower shifts its relative references by. Results are kept: each formula is computed
    once, and all share `MOST_STEPS`."""

    sheets: dict[str, dict[tuple[int, int], tuple[Value, Node | None, int, int]]] = field(
        default_factory=dict
    )
    names: dict[str, Node] = field(default_factory=dict)
    steps: int = 0
    text: int = 0  # characters of the results kept
    results: dict[tuple[str, int, int], Value] = field(default_factory=dict)
    busy: set[tuple[str, int, int]] = field(default_factory=set)

    depth: int = 0

    def result(self, sheet: str, row: int, column: int) -> Value:
        """What a formula cell shows once Excel computes it; `Unknown` when this evaluator
        does not compute it (or the workbook's steps are spent)."""
        key = (sheet, row, column)
        if key in self.results:
            return self.results[key]
        value, node, rows, columns = self.sheets.get(sheet, {}).get(
            (row, column), (None, None, 0, 0)
        )
        if node is None:
            return value
        if key in self.busy:
            return Error("#REF!")  # circular: Excel warns and shows 0, a number nobody reads
        self.busy.add(key)
        try:
            result = _Evaluation(self, sheet, rows, columns, (row, column)).value(node)
        finally:
            self.busy.discard(key)
        if isinstance(result, str):
            self.text += len(result)
            if self.text > MOST_TEXT:
                self.steps = MOST_STEPS  # nothing more is computed: every step is one too many
                raise Exhausted("computed text past its limit")
        self.results[key] = result
        return result

    def computed(self, sheet: str, row: int, column: int) -> Value:
        """A cell's value as a formula reads it: computed, else (a formula this evaluator
        does not compute) its cached value, the best word on what Excel computes."""
        try:
            return self.result(sheet, row, column)
        except (Exhausted, _TooDeep):
            raise
        except Unknown:
            cached = self.sheets[sheet][(row, column)][0]
            self.results[(sheet, row, column)] = cached
            return cached

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MOST_STEPS:
            raise Exhausted("steps spent")


class _Evaluation:
    """One formula's evaluation, in its sheet, with its shared formula's offset."""

    def __init__(
        self, book: Book, sheet: str, rows: int, columns: int, at: tuple[int, int]
    ) -> None:
        self.book, self.sheet, self.rows, self.columns = book, sheet, rows, columns
        self.at = at  # the formula's own cell: ROW() and COLUMN() say where it is

    def value(self, node: Node) -> Value:
        result = self.any(node)
        if isinstance(result, list):  # a range where one value is wanted: its first cell
            return result[0] if result else None
        return result

    def any(self, node: Node) -> Value | list[Value]:
        self.book.step()
        if self.book.depth > MOST_DEPTH:
            raise _TooDeep("nested too deep")
        self.book.depth += 1
        try:
            return self.node(node)
        finally:
            self.book.depth -= 1

    def node(self, node: Node) -> Value | list[Value]:
        kind = node[0]
        if kind == "v":
            return node[1]  # type: ignore[return-value]
        if kind == "blank":
            return None
        if kind == "ref":
            return self.cells(node[1])  # type: ignore[arg-type]
        if kind == "name":
            return self.named(str(node[1]))
        if kind == "call":
            return self.call(str(node[1]), node[2])  # type: ignore[arg-type]
        if kind == "array":  # each of its values a step, as a range's cells are (review 138)
            grid: formulatext.Grid = node[1]  # type: ignore[assignment]
            self.book.step(len(grid))
            return grid
        return formulatext.operate(kind, node, self.value)

    def named(self, name: str) -> Value | list[Value]:
        tree = self.book.names.get(name)
        if tree is None:
            raise Unknown(f"unknown name {name}")
        if ("name:" + name, 0, 0) in self.book.busy:
            return Error("#NAME?")
        self.book.busy.add(("name:" + name, 0, 0))
        try:
            return self.any(tree)
        finally:
            self.book.busy.discard(("name:" + name, 0, 0))

    def cells(self, ref: Ref) -> Value | list[Value]:
        sheet = ref.sheet or self.sheet
        if sheet not in self.book.sheets:
            raise Unknown(f"unknown sheet {sheet}")
        if ref.bottom is None:
            return self.book.computed(sheet, *self.shifted(ref.top))
        rows, columns = self.area(ref)
        stored = self.book.sheets[sheet]
        if len(rows) * len(columns) > len(stored):  # a whole column: only the cells it holds
            self.book.step(len(stored))  # each stored cell looked at, whether taken or not
            keys = sorted(k for k in stored if k[0] in rows and k[1] in columns)
            columns = range(0)  # its shape is not the cells it holds
        else:
            keys = [(r, c) for r in rows for c in columns]
        if len(keys) > MOST_RANGE:
            raise Unknown("range too large")
        self.book.step(len(keys))
        values = [self.book.computed(sheet, *key) for key in keys]
        return formulatext.Grid(values, len(columns)) if columns else values

    def area(self, ref: Ref) -> tuple[range, range]:
        """The rows and columns a reference spans, shifted to the formula's cell."""
        top = self.shifted(ref.top)
        bottom = self.shifted(ref.bottom) if ref.bottom is not None else top
        rows = range(min(top[0], bottom[0]), max(top[0], bottom[0]) + 1)
        return rows, range(min(top[1], bottom[1]), max(top[1], bottom[1]) + 1)

    def index(self, ref: Ref, numbers: list[Value]) -> Value:
        """INDEX over a reference: the one cell it picks computed, however large the range."""
        rows, columns = self.area(ref)
        picked = formulatext.index_pick(len(rows), len(columns), numbers)
        if isinstance(picked, Error):
            return picked
        cell = Ref(ref.sheet, (rows[picked[0]], columns[picked[1]], True, True))
        return self.value(("ref", cell))

    def position(self, column: bool, args: list[Node]) -> float:
        """ROW() or COLUMN(): the formula's own cell's row or column (from 1), or that of the
        cell or range it names (the first)."""
        if not args:
            return float(self.at[column] + 1)
        if args[0][0] != "ref":
            raise Unknown("ROW or COLUMN of something other than a reference")
        ref: Ref = args[0][1]  # type: ignore[assignment]
        return float(self.shifted(ref.top)[column] + 1)

    def shifted(self, corner: tuple[int, int, bool, bool]) -> tuple[int, int]:
        row, column, row_fixed, column_fixed = corner
        return (row if row_fixed else row + self.rows), (
            column if column_fixed else column + self.columns
        )

    def call(self, name: str, args: list[Node]) -> Value:
        if name in ("ROW", "COLUMN") and len(args) <= 1:
            return self.position(name == "COLUMN", args)
        if name == "INDEX" and args and args[0][0] == "ref" and 2 <= len(args) <= 3:
            ref: Ref = args[0][1]  # type: ignore[assignment]
            return self.index(ref, [self.value(arg) for arg in args[1:]])
        if name not in formulatext.FUNCTIONS:
            raise Unknown(f"unknown function {name}")
        return formulatext.call(name, [self.any(arg) for arg in args])
