"""Tables read with their column headers: CSV and TSV files, and the cells of a worksheet.

A column's header says what its numbers are ("Order ID", "Tracking", "Card number"), but in
the text of a table it stands lines away from all but the first of them, out of reach of the
label check in `cards`. So each cell is read as ``header: value``: "Order ID: 4111..." is
labelled as an order number, "Card number: 4111..." as a card, "Amount: 4111..." as neither.

The header row is the last row, before the first row of data, whose cells all hold a letter
(so a title row above it is passed over); a row with a cell without a letter is data, and
after it the headers stay as they are (a row of names in the data is not a header). A text
file keeps its lines: each record is one line (and a record that spans lines is padded to as
many), so that a finding still names its line.
"""

from __future__ import annotations

import csv
import io
import re
from xml.parsers import expat

from attachguard.sensitive import computed, lists, numfmt

_LETTER = re.compile(r"[^\W\d_]")
_DELIMITERS = ",;\t|"


def header_like(cells: dict[int, str]) -> bool:
    """Whether a row reads as column headers: some cells, each holding a letter."""
    values = [v for v in cells.values() if v.strip()]
    return bool(values) and all(_LETTER.search(v) for v in values)


def labelled(header: str | None, value: str) -> str:
    """A cell as read: its value after its column's header, when the column has one."""
    header = " ".join((header or "").split())[:40]
    return f"{header}: {value}" if header and value.strip() else value


def csv_text(text: str, tab: bool = False) -> str | None:
    """A delimited text file with each cell after its column's header, a line per physical
    line; None when it does not parse as a table. Written for speed (a 5 MB export is 130,000
    rows): each header is normalised once, not once per row."""
    delimiter = "\t" if tab else _delimiter(text)
    # (a field of any length is one cell: the text engine lifts csv's process-wide limit)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[str] = []
    prefixes: list[str] = []  # what `labelled` writes before a value of each column
    data = False  # a row of data has been read: the headers are settled
    done = 0  # physical lines accounted for
    try:
        for row in reader:
            cells = [_shown(v) if v[:1] == "=" else _one_line(v) for v in row]
            shown = [p + v if p and v else v for p, v in zip(prefixes, cells, strict=False)]
            line = "; ".join(shown + cells[len(shown) :])
            out.append(line + "\n" * max(1, reader.line_num - done))
            done = reader.line_num
            if not data:
                if header_like(dict(enumerate(cells))):
                    prefixes = [
                        f"{head}: " if (head := " ".join(v.split())[:40]) else "" for v in cells
                    ]
                else:
                    data = True
    except csv.Error:
        return None
    return "".join(out)


def labelled_rows(rows: list[dict[int, str]]) -> list[str]:
    """Rows of cells (by column number) as lines, each cell after its column's header."""
    out: list[str] = []
    headers: dict[int, str] = {}
    data = False
    for cells in rows:
        out.append("; ".join(labelled(headers.get(i), v) for i, v in sorted(cells.items())))
        if not data and any(v.strip() for v in cells.values()):
            headers, data = (cells, False) if header_like(cells) else (headers, True)
    return out


def _one_line(cell: str) -> str:
    """A cell on one line, as the record it belongs to is: blanks collapsed, and its own lines
    kept apart by " | " (a cell of four lines "2493" is a column of numbers, not a card's
    four groups, as a spreadsheet shows it)."""
    if "\n" not in cell and "\r" not in cell:
        return " ".join(cell.split())
    return " | ".join(" ".join(line.split()) for line in cell.splitlines() if line.strip())


def _shown(cell: str) -> str:
    """A CSV cell as a spreadsheet shows it: its lines joined, a formula that only joins
    constants computed (Excel computes formulas when it opens a CSV file)."""
    joined = joined_constants(cell) if cell.startswith("=") else None
    return " ".join((cell if joined is None else f"{cell} {joined}").split())


def _delimiter(text: str) -> str:
    """The delimiter of the first lines: the candidate that occurs most often in them."""
    head = text[:4096]
    return max(_DELIMITERS, key=head.count)


_COLUMN = re.compile(r"[A-Za-z]{1,3}")


class SheetCells:
    """What a worksheet's reader needs to read cells as ``header: value`` (see the module
    docstring): the workbook's shared strings, to show a string cell's text rather than its
    index, and the current row's cells; and the workbook's number formats by cell style
    (`numfmt`), to show a cell as its format lays it out. Fed by `ooxml`'s reader, element by
    element (local names of the spreadsheet vocabulary)."""

    def __init__(
        self,
        shared: list[str],
        formats: list[str | None] | None = None,
        formulas: computed.SheetFormulas | None = None,
    ) -> None:
        self.shared = shared
        self.formulas = formulas  # the cells formulas read (`computed`)
        self.formats = formats or []
        self.format: str | None = None  # the current cell's number format, when declared
        self.headers: dict[int, str] = {}
        self.data = False  # a row of data has been read: the headers are settled
        self.row: dict[int, str] = {}
        self.column = -1
        self.kind = ""  # the cell's type: "s" (shared string), "inlineStr", "str", "n"...
        self.in_formula = False
        self.rule_formats = False  # the sheet writes a number format in a conditional format

    def start(self, local: str, attrs: dict[str, str]) -> str:
        """Text to add where the element starts: a cell's column header."""
        if local == "row":
            self.row, self.column = {}, -1
            if self.formulas is not None:
                self.formulas.new_row(attrs.get("r", ""))
        elif local == "c":
            self.column = _column(attrs.get("r", ""), self.column + 1)
            self.kind = attrs.get("t", "n")
            self.format = _style(self.formats, attrs.get("s", "0"))
            self.row[self.column] = ""
            header = self.headers.get(self.column)
            if self.formulas is not None:
                label = f"{header}: " if header else ""
                self.formulas.cell(attrs.get("r", ""), self.column, self.kind, label)
            return f"{header}: " if header else ""
        elif local == "f":
            self.in_formula = True
            if self.formulas is not None:
                self.formulas.start_formula(attrs)
        elif local == "is" and self.format:
            return self._record(numfmt.text_parts(self.format)[0])
        elif local == "numFmt":  # in an x14:dxf (`applied` reads what it shows)
            self.rule_formats = True
        return ""

    def end(self, local: str) -> str:
        """Text to add where the element ends: what an inline string's format shows after it."""
        if local == "f":
            self.in_formula = False
        elif local == "c" and self.formulas is not None:
            self.formulas.end_cell()
        elif local == "is" and self.format:
            return self._record(numfmt.text_parts(self.format)[1])
        elif local == "row" and not self.data and any(v.strip() for v in self.row.values()):
            if header_like(self.row):
                self.headers = {i: " ".join(v.split())[:40] for i, v in self.row.items() if v}
            else:
                self.data = True
        return ""

    def _record(self, data: str) -> str:
        if self.column in self.row:
            self.row[self.column] += data
        return data

    def text(self, data: str, value: bool) -> str:
        """A piece of a cell as shown: a shared string's text for its index; a formula that
        only joins constants, with what it shows on a line of its own (Excel computes it when
        the file has no cached value)."""
        if self.in_formula:
            if self.formulas is not None and self.formulas.formula is not None:
                self.formulas.formula += data
            joined = joined_constants(data)
            return data if joined is None else f"{data}\n{joined}"
        if value and self.kind == "s":
            index = data.strip()
            data = (
                self.shared[number]
                if 0 <= (number := lists.integer(index, -1)) < len(self.shared)
                else ""
            )
        if self.formulas is not None and (value or self.kind == "inlineStr"):
            self.formulas.value += data
        if value and self.format:
            data = self._formatted(data, self.format)
        return self._record(data)

    def _formatted(self, data: str, code: str) -> str:
        """A value as its number format shows it: a number laid out, when its format's text
        holds digits (`numfmt.shows_digits`: else the value's digits are all it shows), text
        between the text section's literals."""
        if self.kind == "n":
            return numfmt.shown(code, data) if numfmt.shows_digits(code) else data
        if self.kind in ("s", "str"):
            return numfmt.shown_text(code, data)
        return data


def _style(formats: list[str | None], index: str) -> str | None:
    number = index.strip()
    at = lists.integer(number, -1)
    return formats[at] if 0 <= at < len(formats) else None


def _column(reference: str, following: int) -> int:
    """The column of a cell reference ("B12": 1); ``following`` when it has none."""
    letters = _COLUMN.match(reference)
    if letters is None:
        return following
    number = 0
    for char in letters.group().upper():
        number = number * 26 + ord(char) - 64
    return number - 1


def shared_strings(data: bytes) -> list[str] | None:
    """The strings of a workbook's shared string table, in order (phonetic guides left out);
    None for XML that does not parse or declares a DTD."""
    strings: list[str] = []
    depth = {"rPh": 0, "t": 0}

    def start(name: str, _attrs: list[str]) -> None:
        local = name.rpartition(" ")[2]
        if local == "si":
            strings.append("")
        elif local in depth:
            depth[local] += 1

    def end(name: str) -> None:
        local = name.rpartition(" ")[2]
        if local in depth:
            depth[local] = max(0, depth[local] - 1)

    def text(data: str) -> None:
        if strings and depth["t"] and not depth["rPh"]:
            strings[-1] += data

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = _refuse
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, ValueError):
        return None
    return strings


def _refuse(*_: object) -> None:
    raise ValueError("a DTD")  # Office refuses the part (and entities could expand without bound)


_CONSTANT = re.compile(r'"((?:[^"]|"")*)"|(\d+)')
_JOINERS = re.compile(r"(?i)\s|&|,|;|\(|\)|^=|\b(?:_xlfn\.)?concat(?:enate)?\b")


_LONGEST_FORMULA = 8192  # characters Excel allows in a formula (a shorter cap was padded past)


def joined_constants(formula: str) -> str | None:
    """What a formula shows when it only joins text and whole numbers (``"4111"&"1111"...``,
    ``CONCATENATE(...)``); None for any other formula."""
    if len(formula) > _LONGEST_FORMULA or _JOINERS.sub("", _CONSTANT.sub("", formula)):
        return None
    parts = [m.group(1).replace('""', '"') if m.group(2) is None else m.group(2)
             for m in _CONSTANT.finditer(formula)]  # fmt: skip
    return "".join(parts) if len(parts) > 1 else None
