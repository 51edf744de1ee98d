"""Spreadsheet formulas that start a program through DDE, as Excel reads them.

``=cmd|' /C calc'!A0`` is application|topic!item: Excel asks the application (here cmd) to run
the topic. Shared by the text engine (CSV cells) and the Office engine (workbook formulas).
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
