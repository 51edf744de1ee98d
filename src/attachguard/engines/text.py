"""Text engine: CSV and text cells a spreadsheet would run as a formula or a DDE command.

A CSV opened in Excel runs any cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula;
``=cmd|' /C calc'!A0`` starts a program through DDE, ``=HYPERLINK(...)`` and ``=WEBSERVICE(...)``
send data out. Reports FORMULA_INJECTION with the cell ("row 3, column 2") for:

- any text: a cell (line start, or after ``,`` ``;`` or a tab) that starts with a formula
  character and holds a DDE command (``name|topic!item``) or ``DDE(``/``DDEAUTO(``;
- CSV/TSV (by extension; by detected type when the name is neither .csv/.tsv nor .txt) also:
  link and web functions (HYPERLINK, WEBSERVICE, IMPORTXML, ...; WEBSERVICE and IMAGE passed
  to another function, ``MAP(url,WEBSERVICE)``), any function call wherever Excel reads one
  in a formula starting with ``=`` (``=SUM(``, ``=-SUM(``, ``=0+LEN(``, outside text
  constants), a cell starting with + - @ with a call at its start (``@SUM(``), and a reference to
  another workbook (``='\\\\host\\s\\[B.xlsx]S'!A1``: Excel opens it, from a share sending the
  reader's credentials); plain numbers ("-12.50"),
  phone numbers ("+44 20 7946 0958"), handles ("@alice") and list items ("- item (2)") pass.

Leading spaces, tabs, CR and a double quote before the formula character do not hide it; a
leading single quote (Excel's "this is text") does. Excel's delimiter depends on the reader's
locale (and is a tab for UTF-16 text), and which quote opens a field depends on the delimiter
(``2;"x`` quotes under ``;``, not under ``,``): a CSV with a double quote is read once per usual
delimiter, each reading with its own quoting and rows; without one, each cell is also checked
split on the other delimiters. Bytes are decoded as UTF-8, UTF-16/32 by byte-order mark, UTF-16
without one (by its NUL bytes), else Latin-1; a UTF-32 little-endian mark is also read as the
UTF-16 mark and NUL Excel takes it for (Excel knows no UTF-32), and both readings are judged.
The whole file is examined (a cell's first 8,192 characters: Excel runs no longer formula); at
most five cells are reported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from attachguard.codes import XLM_MACRO, Action, declare
from attachguard.engines.base import Context, EngineSpec, Item, Options, Result, finding
from attachguard.formats.formulas import (
    DDE_CALL,
    MAX_FORMULA,
    OPERATOR,
    PIPE,
    blank_text,
    fetches,
    other_workbook,
    runs_command,
)
from attachguard.report import Finding

FORMULA_INJECTION = declare(
    "FORMULA_INJECTION",
    "threat",
    Action.REJECT,
    "spreadsheet formula or DDE injection",
    "This file contains spreadsheet formulas that could run commands, so it can't be shared.",
)

MAX_FINDINGS = 5
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# A field of any length is read as one: past the csv module's default of 131,072 characters it
# raised, and the line-by-line reading cut quoted cells at their delimiters, so a formula
# after a long field (a base64 picture) was missed (red team 112). Excel keeps a cell's first
# 32,767 characters and reads on.
csv.field_size_limit(2**31 - 1)
_FORMULA = "=+-@"
_RISKY = re.compile(
    r"\b(HYPERLINK|WEBSERVICE|IMPORTXML|IMPORTDATA|IMPORTHTML|IMPORTFEED|IMPORTRANGE|IMAGE|"
    r"FILTERXML|CALL|REGISTER|REGISTER\.ID|EXEC|RTD)\(",
    re.IGNORECASE,
)
# A function call where Excel reads one: a name right before "(" at the formula's start (no
# blank after + - @: "- item(2)" is a list item) or after an operator, parenthesis or
# separator (=0+SUM(, =-SUM(), in what is left once text constants are blanked
_CALL = re.compile(r"(?:^=\s*|^[+\-@]|(?!^)[=+\-*/^&<>:,;(@{]\s*)[A-Za-z_][\w.]*\(")
_SPLIT = ",;\t"  # the usual delimiters, one of which is the reader's locale's
# Text files: a formula character at a cell start, then a DDE command on the same line, after
# an operator (not after a space: a line of text or code puts one before "a|b!" far more often).
_TEXT_DDE = re.compile(
    r"(?:^|[,;\t])[ \t\"]*[=+\-@]"
    r"(?:(?:[^\n]{0,200}?" + OPERATOR + r")?\s*" + PIPE + r"|[^\n]{0,200}?\bDDE(?:AUTO)?\()",
    re.MULTILINE | re.IGNORECASE,
)


def readings(data: bytes) -> list[str]:
    """The text in ``data`` as each reader may decode it: `decode`'s, and for a UTF-32
    little-endian mark (``FF FE 00 00``) also Excel's, the UTF-16 mark and a NUL character."""
    text = decode(data)
    if data.startswith(b"\xff\xfe\x00\x00"):
        return [text, data[2:].decode("utf-16-le", errors="replace")]
    return [text]


def decode(data: bytes) -> str:
    """The text in ``data``: by byte-order mark, UTF-16 by NUL bytes, UTF-8, else Latin-1."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    sample = data[:4096]
    if sample.count(0) > len(sample) // 4:  # UTF-16 without a byte-order mark
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        return data.decode("utf-16-le" if odd > even else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _may_be_a_formula(text: str) -> bool:
    """Whether ``text`` has what every rule of `classify` needs: a DDE pipe, a call's
    parenthesis or a reference's "!"."""
    return "|" in text or "(" in text or "!" in text


def classify(cell: str) -> str | None:
    """Why ``cell`` is dangerous in a spreadsheet, in words; None if it is not."""
    if not _may_be_a_formula(cell):
        return None  # the fast path for most cells
    value = cell.lstrip(' \t\r\n"')[:MAX_FORMULA]
    if not value or value[0] not in _FORMULA:
        return None
    if "!" in value and (other := other_workbook(value[1:])):
        return f"a formula that opens another workbook ({other}), which Excel loads to show it"
    if runs_command(value[1:]):
        return "a formula that runs a command (DDE)"
    if "(" not in value:
        return None
    if match := _RISKY.search(value):
        return f"a formula calling {match.group(1).upper()}, which can open links or send data out"
    # a call anywhere only in what starts with "=": a cell starting with + - @ is text to a
    # reader more often than not (list items, handles, "- send e-mail(s)": review 102), and
    # counts only with a call at its start
    found = _CALL.search(blank_text(value)) if value[0] == "=" else _CALL.match(value)
    if not found:
        return None
    if fetches(value, typed=True):  # MAP(url,WEBSERVICE): passed to a function, it is called
        return "a formula passing WEBSERVICE or IMAGE to a function, which fetches from the web"
    return "a spreadsheet formula"


def _delimiter(text: str, item: Item) -> str:
    """The delimiter Excel splits ``text`` on: the one its first line declares (``sep=;``, the
    character as written: ``sep=W`` splits on W, not w), else a tab for TSV, else sniffed."""
    if text[:4].lower() == "sep=" and text[4:5] not in ("", "\r", "\n"):
        return text[4]
    if item.extension == ".tsv" or item.type.label == "tsv":
        return "\t"
    sample = text[:16384].rsplit("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _sylk(data: bytes) -> bool:
    """Whether Excel opens ``data`` as SYLK: it starts with an ID record (``ID;PWXL``), or with
    a bare ``ID`` line followed by SYLK records (``C;``, ``F;``...); a CSV whose first column
    is named "ID" (``ID,Name``, or an "ID" line of plain values) is a CSV."""
    if data[:3] == b"ID;":
        return True
    return data[:2] == b"ID" and data[2:3] in (b"\r", b"\n") and bool(_SYLK_RECORD.search(data))


_SYLK_RECORD = re.compile(rb"(?m)^(?:C|F|P|B|O|E|W|NN|NE|NU);")


def _is_spreadsheet(item: Item) -> bool:
    """CSV rules for .csv/.tsv names; a .txt name gets only the DDE rule, whatever Magika says;
    anything else (members of other files) goes by the detected type."""
    if item.extension in (".csv", ".tsv", ".txt"):
        return item.extension != ".txt"
    return item.type.label in ("csv", "tsv")


class TextEngine:
    """Finds formula and DDE injection in CSV and text files; see the module docstring."""

    name = "text"

    def __init__(self) -> None:
        pass

    def version(self) -> str:
        return "attachguard text 1"

    def scan(self, item: Item, context: Context) -> Result:
        if _sylk(item.data) and (_is_spreadsheet(item) or item.extension != ".txt"):
            # Excel opens a "CSV" that starts with ID; as SYLK, whose cells can hold Excel 4
            # macro formulas (EXEC, CALL) that Magika cannot tell from CSV; inside a file
            # too, whatever its label, unless it is named as text for Notepad (red team 107:
            # a SYLK book.xls attached to a PDF, text after its end record, came out "txt").
            message = "SYLK spreadsheet posing as CSV (it can carry Excel 4 macros)"
            return Result([finding(self.name, XLM_MACRO, message)])
        findings: list[Finding] = []
        for hits, what in self._readings(item):
            for reason, where in hits:
                message = f"{what} {reason}"
                findings.append(finding(self.name, FORMULA_INJECTION, message, location=where))
                if len(findings) >= MAX_FINDINGS:
                    break
            if findings:  # the first reading that finds anything is the one reported
                break
        return Result(findings)

    def _readings(self, item: Item) -> Iterator[tuple[Iterator[tuple[str, str]], str]]:
        """The dangerous cells or lines of each reading of the text, as (reason, where), with
        what they are in words: each decoding, and for a CSV with a double quote each usual
        delimiter (the sniffed or declared one first)."""
        for text in readings(item.data):
            if not _may_be_a_formula(text):
                continue
            if not _is_spreadsheet(item):
                yield self._lines(text), "text a spreadsheet would run as"
                continue
            first = _delimiter(text, item)
            if '"' not in text:  # rows are lines: splitting a cell is reading it otherwise
                yield self._cells(text, first, _SPLIT + first), "CSV cell with"
                continue
            for delimiter in dict.fromkeys((first, *_SPLIT)):
                yield self._cells(text, delimiter, delimiter), "CSV cell with"

    def _cells(self, text: str, delimiter: str, splits: str) -> Iterator[tuple[str, str]]:
        """Dangerous cells as (reason, "row R, column C"), each cell also checked split on
        ``splits``; a file the csv module cannot read (none seen since its field size limit
        was lifted) is checked line by line instead, each line split on ``splits``."""
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        split = re.compile("[" + re.escape(splits) + "]")
        row = 0
        try:
            for row, fields in enumerate(reader, 1):
                for column, field in enumerate(fields, 1):
                    if not _may_be_a_formula(field):
                        continue  # the fast path
                    reason = classify(field) or next(
                        filter(None, map(classify, split.split(field)[1:])), None
                    )
                    if reason:
                        yield reason, f"row {row}, column {column}"
        except csv.Error:
            for number, line in enumerate(text.splitlines()[max(0, row - 1) :], max(1, row)):
                reason = next(filter(None, map(classify, split.split(line))), None)
                if reason:
                    yield reason, f"line {number}"

    def _lines(self, text: str) -> Iterator[tuple[str, str]]:
        calls = DDE_CALL.search(text) is not None
        for number, line in enumerate(text.split("\n"), 1):
            # Cheap tests first: a command needs "|" and "!", a DDE call "DDE(".
            candidate = ("|" in line and "!" in line) or (calls and DDE_CALL.search(line))
            if candidate and _TEXT_DDE.search(line):
                yield "a command (DDE)", f"line {number}"


ENGINE = EngineSpec(
    name="text",
    summary="CSV and text cells that a spreadsheet would run as a formula or a DDE command; SYLK",
    types=("group:text", "group:code", "text:*"),
    codes=(FORMULA_INJECTION, XLM_MACRO),
    build=lambda options, resources: TextEngine(),
    options=Options,
    order=60,
)
