"""What a workbook's formulas show once Excel computes them (`formulaeval`), read beside the
values the file caches.

Excel computes a formula when it opens a workbook that caches no value for it (openpyxl's and
most generators' files), one that asks it to (``calcPr fullCalcOnLoad``, a file another
application saved without a calculation chain), and whenever a cell it reads changes: the
value the file caches is only the last one its writer put there. So each formula cell whose
computed value differs from its cached one (or that caches none) is read with the computed
value too, after its column's header (`tables`), each sheet's on lines of their own after it:
where either value shows a card number, the card counts. Formulas read cells of every sheet
(by the workbook's sheet names), shared formulas (``t="shared"``) shifted to their cells, and
the workbook's defined names.

A formula the evaluator does not compute (VLOOKUP, tables, other workbooks) is read as it
is cached; a cell it reads is taken as cached. Work is bounded by `formulaeval`'s steps, shared
by all the workbook's formulas, and by `MOST_FORMULAS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from attachguard.formats.opc import Package, part_key
from attachguard.sensitive import formulaeval, formulatext, markup
from attachguard.sensitive.formulatext import Unknown, Value

MOST_FORMULAS = 50_000  # formula cells kept per workbook
_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")
_TEXT_KINDS = ("s", "str", "inlineStr")


@dataclass
class SheetFormulas:
    """One worksheet's cells, fed by `tables.SheetCells` as it reads them: values (shared
    strings resolved) and formulas, with each formula cell's column header."""

    cells: dict[tuple[int, int], tuple[Value, str, str]] = field(default_factory=dict)
    headers: dict[tuple[int, int], str] = field(default_factory=dict)
    masters: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # shared formulas
    row: int = -1
    column: int = -1
    kind: str = ""
    value: str = ""
    formula: str | None = None
    shared: str = ""  # the shared formula's index (si) the cell follows or starts

    def cell(self, reference: str, column: int, kind: str, header: str) -> None:
        match = _REFERENCE.fullmatch(reference)
        self.row = int(match.group(2)) - 1 if match else self.row
        self.column, self.kind, self.value, self.formula, self.shared = column, kind, "", None, ""
        if header:
            self.headers[(self.row, column)] = header

    def new_row(self, reference: str) -> None:
        self.row = int(reference) - 1 if reference.strip().isdigit() else self.row + 1

    def start_formula(self, attrs: dict[str, str]) -> None:
        self.formula = ""
        if attrs.get("t") == "shared":
            self.shared = attrs.get("si", "")

    def end_cell(self) -> None:
        if self.formula is None and not self.value:
            return
        formula = self.formula or ""
        if self.shared and formula.strip():
            self.masters.setdefault(self.shared, (formula, self.row, self.column))
        self.cells[(self.row, self.column)] = (_cached(self.kind, self.value), formula,
                                               self.shared)  # fmt: skip


def _cached(kind: str, value: str) -> Value:
    if kind in _TEXT_KINDS:
        return value
    if kind == "b":
        return value.strip() == "1"
    if kind == "e":
        return formulatext.Error(value.strip())
    try:
        number = float(value) if value.strip() else None
    except ValueError:
        return value
    return None if number is None else float(f"{number:.15g}")


def workbook_names(package: Package) -> tuple[dict[str, str], dict[str, str]]:
    """The workbook's sheets (part key → lower-cased name) and defined names (lower-cased
    name → formula; a name of one sheet's scope too)."""
    main = package.main
    if main is None:
        return {}, {}
    relations = package.relationships_of(main.name)
    sheets: dict[str, str] = {}
    names: dict[str, str] = {}
    current: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        plain = {k.rpartition(" ")[2]: v for k, v in attrs.items()}
        if local == "sheet":
            targets = [r.part for r in relations.get(plain.get("id", ""), []) if r.part]
            sheets.update({part_key(t): plain.get("name", "").lower() for t in targets[:1]})
        elif local == "definedName":
            current.append(plain.get("name", "").lower())
            names.setdefault(current[-1], "")

    def end(name: str) -> None:
        if name.endswith(" definedName") and current:
            current.pop()

    def text(data: str) -> None:
        if current:
            names[current[-1]] += data

    markup.parses(_read(package, main.name), start, end, text)
    return sheets, names


def _read(package: Package, name: str) -> bytes:
    try:
        return package.read(name)
    except (KeyError, OSError, ValueError):
        return b""


def computed_text(package: Package, sheets: dict[str, SheetFormulas]) -> tuple[dict[str, str], int]:
    """Per worksheet part (by name), the lines its formulas add once computed: each formula
    cell whose computed value differs from the one it caches, after its column's header; and
    how many formulas were left uncomputed past a limit (`MOST_FORMULAS`, the steps of
    `formulaeval.MOST_STEPS`): the caller reports them (SENSITIVE_LIMIT), never drops them."""
    if not any(cell[1] for sheet in sheets.values() for cell in sheet.cells.values()):
        return {}, 0
    titles, names = workbook_names(package)
    book = formulaeval.Book()
    by_name = {titles.get(part_key(part), part): part for part in sheets}
    for title, part in by_name.items():
        book.sheets[title] = _sheet_cells(sheets[part])
    for name, formula in names.items():
        try:
            book.names[name] = formulaeval.parse(formula)
        except Unknown:
            continue
    out: dict[str, str] = {}
    left = sum(_over_the_cap(sheet) for sheet in sheets.values())
    for title, part in by_name.items():
        lines, uncomputed = _computed_lines(book, title, sheets[part])
        left += uncomputed
        if lines:
            out[part] = "\n".join(lines)
    return out, left


def _over_the_cap(sheet: SheetFormulas) -> int:
    formulas = sum(1 for cached, formula, shared in sheet.cells.values() if formula or shared)
    return max(0, formulas - MOST_FORMULAS)


def _sheet_cells(
    sheet: SheetFormulas,
) -> dict[tuple[int, int], tuple[Value, formulaeval.Node | None, int, int]]:
    """A sheet's cells for `formulaeval.Book`: each formula parsed (a shared formula's
    followers as their master's, shifted), at most `MOST_FORMULAS` of them."""
    cells: dict[tuple[int, int], tuple[Value, formulaeval.Node | None, int, int]] = {}
    trees: dict[str, formulaeval.Node | None] = {}
    count = 0
    for (row, column), (cached, formula, shared) in sheet.cells.items():
        master = sheet.masters.get(shared) if shared else None
        text, rows, columns = formula, 0, 0
        if master is not None:
            text, rows, columns = master[0], row - master[1], column - master[2]
        tree = None
        if text.strip() and count < MOST_FORMULAS:
            count += 1
            if text not in trees:
                trees[text] = _parsed(text)
            tree = trees[text]
        cells[(row, column)] = (cached, tree, rows, columns)
    return cells


def _parsed(formula: str) -> formulaeval.Node | None:
    try:
        return formulaeval.parse(formula)
    except Unknown:
        return None


def _computed_lines(
    book: formulaeval.Book, title: str, sheet: SheetFormulas
) -> tuple[list[str], int]:
    """The sheet's lines (see `computed_text`), and how many formulas the steps ran out on."""
    lines: list[str] = []
    cells = [(key, cell) for key, cell in book.sheets[title].items() if cell[1] is not None]
    for done, ((row, column), (cached, _, _, _)) in enumerate(cells):
        try:
            value = book.result(title, row, column)
        except formulaeval.Exhausted:
            return lines, len(cells) - done
        except (Unknown, RecursionError):
            continue
        shown = formulatext.text_of(value)
        if shown.strip() and shown != formulatext.text_of(cached):
            header = sheet.headers.get((row, column), "")
            lines.append(f"{header}{shown}")
    return lines, 0
