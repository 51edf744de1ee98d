"""Spreadsheet formulas that start a program through DDE, or refer to another workbook, as
Excel reads them.

``=cmd|' /C calc'!A0`` is application|topic!item: Excel asks the application (here cmd) to run
the topic. ``='\\\\host\\share\\[Book.xlsx]Sheet1'!A1`` makes Excel open that workbook to
compute the cell: from a share, Windows sends it the reader's credentials. Shared by the text
engine (CSV cells) and the Office engine (workbook formulas).
"""

from __future__ import annotations

import re

from attachguard.formats.targets import clicked_harm, on_a_share

MAX_FORMULA = 8192  # Excel's limit on a formula's length: a longer cell is never run
# A DDE command is application|topic!item, the topic quoted or one word: =cmd|' /C calc'!A0.
# A quoted topic may span lines (a CSV cell can): cmd runs what comes before the line break.
# What follows the "!" is the item, a reference or a name (A0, R1C1, 'item', ''): a "!" before
# a blank or the end is prose ("a|b! ok"), which Excel cannot read as a formula.
# A quoted topic doubles an apostrophe inside it, as every quoted name in a formula does
# (a red team's topic, cmd|' /C calc.exe "x"'!A0 written with doubled apostrophes, ended early)
PIPE = r"[A-Za-z][\w.]*\|(?:'(?:[^']|''){0,500}'|\"[^\"\n]{0,500}\"|[^\s'\"!|]{1,500})!(?=[\w$'\\])"
# A DDE command is a reference, so it may stand wherever Excel's formula grammar ([MS-XLSX]
# 2.2.2) takes an operand: after the formula's first character, an infix operator (: , ^ * / +
# - & = <> < <= > >=), a prefix one (+ - @), a parenthesis or the list separator (; in many
# locales). Not after % (postfix: an operator must follow it), ! (a cell or name follows) or {
# (an array holds constants only: Excel refuses ={cmd|'x'!A0}).
OPERATOR = r"[=+\-*/^&<>:,;(@]"
# The space is the intersection operator too, but only after a reference (A1 cmd|..., (A1:B2)
# cmd|..., T[Col] cmd|...): so "- item 2 missing | see photo!" is no command (nor is
# "missing | see" one: the program's name touches the |).
DDE_PIPE = re.compile(r"(?:" + OPERATOR + r"|(?<=[\w)\]]) )\s*" + PIPE)
DDE_CALL = re.compile(r"\bDDE(?:AUTO)?\(", re.IGNORECASE)
# Excel reads text constants ("...", "" for a quote) as text, never as a command; a quoted
# topic straight after the | (cmd|" /C calc"!A0) is the command's own, and so is a " inside a
# single-quoted one (cmd|' /C "calc'!A0): read left to right, what is quoted first wins. A
# constant left open is not blanked: Excel cannot read that formula, and what follows the "
# may be a command all the same.
_CONSTANTS = re.compile(r"\|\"[^\"\n]{0,500}\"|'[^']*'|\"(?:[^\"]|\"\")*\"")


def runs_command(formula: str) -> bool:
    """Whether a spreadsheet formula (as stored in a workbook, without its ``=``) starts a
    program through DDE, like ``cmd|' /C calc'!A0`` or ``1<>cmd|' /C calc'!A0``."""
    value = _CONSTANTS.sub(_blank_constant, "=" + formula.lstrip()[:MAX_FORMULA])
    return bool(DDE_CALL.search(value) or ("|" in value and DDE_PIPE.search(value)))


def _blank_constant(match: re.Match[str]) -> str:
    text = match.group()
    return text if text.startswith(("|", "'")) else " " * len(text)


# Where a reference to another workbook may start: the formula's start, or after an operator,
# a parenthesis or a separator (blanks allowed): "- see https://x/#!topic" is text.
_START = r"(?:^|(?<=[=+\-*/&^(,;<>:{@ ]))\s*"
# The "!" before what a reference names: a cell, a row (1:1), a name (\Total, Ümsatz), #REF!
_NAMED = r"!(?=[^\s,;)])"
# Quoted: a sheet of another workbook ('\\host\s\[Book.xlsx]Sheet 1'!A1, 'http://h/[B.xlsx]S'!A1,
# 'C:\x\[B.xlsx]S'!A1) or a name it defines ('\\host\s\Book.xlsx'!Total). A sheet's own name
# holds none of \ / [ ] (Excel refuses them), so one that does, or starts with a drive or a
# scheme, names another workbook ('Jan:Mar'!A1 is three of this workbook's sheets).
_QUOTED = re.compile(_START + r"'((?:[^'\n]|''){1,300})'" + _NAMED)
# Bare: [Book.xlsx]Sheet1!A1 (no blank or quote: those need quotes). [1]Sheet1!A1 is a
# workbook's own link, the index of an externalLink part (whose target its relationships give).
_BARE = re.compile(_START + r"\[(?!\d+\])[^\[\]\s'\"!]{1,218}\][^\s'\"!\[\]()]{1,31}" + _NAMED)
_LINK_INDEX = re.compile(r"\[\d+\][^\\/:]*")
_DRIVE = re.compile(r"[A-Za-z]:")
_URL = re.compile(r"\s*(?:https?|ftp)://", re.IGNORECASE)
# Text constants are blanked ("\\host\x!" is only text); quoted names are kept as they are.
_TEXT = re.compile(r"'(?:[^'\n]|'')*'|\"(?:[^\"]|\"\")*\"?")
# Functions whose only work is to fetch from the web when Excel calculates the cell, with no
# click: WEBSERVICE (Excel 2013) and IMAGE (Excel 365), stored as _xlfn.WEBSERVICE(...).
# A function passed by name to another is called too (Microsoft 365's eta lambdas): stored
# MAP(A1:A3,_xleta.WEBSERVICE); typed (and so in a CSV, which Excel reads as typed)
# MAP(A1:A3,WEBSERVICE), LET(f,IMAGE,...), an argument of its own. In a workbook's file a bare
# WEBSERVICE is a defined name: Excel stores the function as _xlfn.WEBSERVICE.
_FETCH_CALL = re.compile(
    r"\b(?:WEBSERVICE|IMAGE)\s*\(|\b_xleta\.(?:WEBSERVICE|IMAGE)\b"
    r"|[(,;]\s*_xlfn\.(?:WEBSERVICE|IMAGE)\s*(?=[,;)])",
    re.IGNORECASE,
)
_TYPED_VALUE = re.compile(r"[(,;]\s*(?:WEBSERVICE|IMAGE)\s*(?=[,;)])", re.IGNORECASE)
# What cannot be a call: text, quoted sheet names ('Image (2)'!A1) and the innermost brackets
# of table references (Table1[[#This Row],[Image (url)]])
_NOT_CALLS = re.compile(r"\"(?:[^\"]|\"\")*\"?|'(?:[^'\n]|'')*'|\[[^\[\]]*\]")


def other_workbook(formula: str) -> str | None:
    """How a formula (without its ``=``) refers to another workbook: "a network path" (a share,
    a URL), "a workbook" (by name or local path), or None when it does not."""
    text = _TEXT.sub(_blank_text, formula[:MAX_FORMULA])
    found = None
    for match in _QUOTED.finditer(text):
        name = match.group(1).replace("''", "'")
        if on_a_share(name) or _URL.match(name):
            return "a network path"
        external = any(c in name for c in "\\/[]") or _DRIVE.match(name)
        if external and not _LINK_INDEX.fullmatch(name):  # [1]: a link the workbook keeps
            found = "a workbook"
    return found or ("a workbook" if _BARE.search(text) else None)


def harmful_hyperlink(formula: str) -> bool:
    """Whether a formula's HYPERLINK opens a network share (clicked, it sends the reader's
    Windows credentials there, as a hyperlink to one does) or a program (`clicked_harm`). The
    address is HYPERLINK's first
    argument, however it is spelt: each text constant in it, and each run of constants joined
    by ``&`` (``("\\\\h\\s")``, ``TRIM("\\\\h\\s")``, ``"\\" & "\\h\\s"``). An address
    read from a cell (``HYPERLINK(B1)``) is not followed: honest workbooks do that for web pages."""
    text = folded(formula[:MAX_FORMULA])
    calls = _NOT_CALLS.sub(lambda match: " " * len(match.group()), text)  # same places
    for match in _HYPERLINK.finditer(calls):
        pieces = _first_argument(text, match.end())
        if any(map(clicked_harm, _addresses(pieces))) or _computed_path(pieces):
            return True
    return False


# Text functions whose result `folded` does not compute (MID("a\\h\s",2,99), SUBSTITUTE,
# TEXTJOIN, CHAR(91+1)): an address they make from a backslash or a character code is taken
# for a share, as Excel may well compute one
_TEXT_CALL = re.compile(
    r"\b(?:_xlfn\.)?(?:MID|MIDB|LEFT|LEFTB|RIGHT|RIGHTB|SUBSTITUTE|REPLACE|TEXTJOIN|CONCAT|"
    r"CONCATENATE|REPT|CHAR|UNICHAR|TEXT|LOWER|UPPER|PROPER|TRIM|CLEAN|T|FIXED|DOLLAR)\s*\(",
    re.IGNORECASE,
)


def _computed_path(pieces: list[str]) -> bool:
    """Whether HYPERLINK's first argument makes its text with a call `folded` left alone, from
    a backslash, a file URL or a character code (red team 108:
    ``SUBSTITUTE("file:///C:/Windows/System32/calc.txt","txt","exe")``)."""
    joined = "".join(pieces)
    calls = _NOT_CALLS.sub(lambda match: " " * len(match.group()), joined)
    if not _TEXT_CALL.search(calls):
        return False
    slashes = any(p.startswith('"') and ("\\" in p or "file:" in p.lower()) for p in pieces)
    return (
        slashes or re.search(r"\b(?:_xlfn\.)?(?:UNI)?CHAR\s*\(", calls, re.IGNORECASE) is not None
    )


_HYPERLINK = re.compile(r"\bHYPERLINK\s*\(", re.IGNORECASE)
# Calls on constants that only make text, which Excel computes the same way every time: a
# character by its code (CHAR(92) is "\\"), a repetition, a join of constants. A red team spelt
# a share's leading \\ so.
_TEXT_CONSTANT = r'"(?:[^"]|"")*"'
_CHAR_CALL = re.compile(r"\b(?:_xlfn\.)?(UNI)?CHAR\s*\(\s*(\d{1,7})\s*\)", re.IGNORECASE)
_REPT_CALL = re.compile(
    rf"\b(?:_xlfn\.)?REPT\s*\(\s*({_TEXT_CONSTANT})\s*,\s*(\d{{1,4}})\s*\)", re.IGNORECASE
)
_JOIN_CALL = re.compile(
    rf"\b(?:_xlfn\.)?CONCAT(?:ENATE)?\s*\(\s*({_TEXT_CONSTANT}(?:\s*,\s*{_TEXT_CONSTANT})*)\s*\)",
    re.IGNORECASE,
)
_MOST_FOLDS = 16


def folded(formula: str) -> str:
    """``formula`` with its calls on constants that only make text (`_CHAR_CALL`,
    `_REPT_CALL`, `_JOIN_CALL`) replaced by the text they make, as a constant, until none is
    left (a few rounds at most: nested calls fold from the inside out)."""
    for _ in range(_MOST_FOLDS):
        text = _CHAR_CALL.sub(_char, formula)
        text = _REPT_CALL.sub(_rept, text)
        text = _JOIN_CALL.sub(_join, text)
        if text == formula:
            break
        formula = text
    return formula[:MAX_FORMULA]


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _unquoted(constant: str) -> str:
    return constant[1:-1].replace('""', '"')


def _char(match: re.Match[str]) -> str:
    code = int(match.group(2))
    limit = 0x10FFFF if match.group(1) else 255  # CHAR: the code page's 1 to 255
    return _quoted(chr(code)) if 0 < code <= limit else match.group()


def _rept(match: re.Match[str]) -> str:
    text, times = _unquoted(match.group(1)), int(match.group(2))
    return _quoted(text * times) if len(text) * times <= MAX_FORMULA else match.group()


def _join(match: re.Match[str]) -> str:
    parts = re.findall(_TEXT_CONSTANT, match.group(1))
    return _quoted("".join(_unquoted(part) for part in parts))


def _first_argument(formula: str, start: int) -> list[str]:
    """The pieces (`_ARGUMENT_PIECES`) of the first argument of the call whose arguments
    start at ``start``."""
    depth, pieces = 0, []
    for match in _ARGUMENT_PIECES.finditer(formula, start):
        piece = match.group()
        if piece in "([{":
            depth += 1
        elif piece in ")]}":
            depth -= 1
            if depth < 0:
                break
        elif piece == "," and depth == 0:
            break
        pieces.append(piece)
    return pieces


# What may stand between two constants that are joined: "&", blanks, parentheses and the name
# of a function that passes text on (TRIM("\\\\") & "\\h\\s"), which a "(" follows
_JOINING = re.compile(r"[\s&]*(?:[A-Za-z_][\w.]*\s*)?")


def _addresses(pieces: list[str]) -> list[str]:
    """Each text constant among ``pieces``, and each run of them joined by ``&``."""
    found, run, joined = [], "", False
    for piece, after in zip(pieces, [*pieces[1:], ""], strict=True):
        if piece.startswith('"'):
            value = piece[1 : -1 if len(piece) > 1 and piece.endswith('"') else None]
            run = (run if joined else "") + value.replace('""', '"')
            found += [value.replace('""', '"'), run]
            joined = False
        elif piece in "()" or (
            _JOINING.fullmatch(piece) and (after == "(" or not piece.strip(" &"))
        ):
            joined = joined or ("&" in piece and bool(run))
        else:
            run, joined = "", False
    return found


def blank_text(formula: str) -> str:
    """``formula`` with its text constants, quoted names and table columns blanked (same
    places): what is left is what Excel reads as calls, names and operators."""
    return _NOT_CALLS.sub(lambda match: " " * len(match.group()), formula)


def fetches(formula: str, typed: bool = False) -> bool:
    """Whether a formula calls WEBSERVICE or IMAGE, or passes one to another function as a
    value (`_FETCH_CALL`; by its bare name too in a ``typed`` formula: a CSV cell), which
    fetch their URL whenever Excel calculates the cell (on opening with ``fullCalcOnLoad``, on
    any edit it depends on): the address may be built from other cells, so every call counts,
    as a web query does. Or RTD with a server: ``RTD(progid, server, topic)`` starts the
    real-time data server on that machine (DCOM, with the reader's credentials); without one
    (``RTD("x.rtd",,"A")``, ``""``) it is a server installed on the reader's own machine."""
    text = formula[:MAX_FORMULA]
    calls = blank_text(text)
    if _FETCH_CALL.search(calls) or (typed and _TYPED_VALUE.search(calls)):
        return True
    return any(_server_named(text, match.end()) for match in _RTD_CALL.finditer(calls))


# RTD(progid, server, topic1, ...): its second argument names the machine the server runs on
_RTD_CALL = re.compile(r"\b(?:_xlfn\.)?RTD\s*\(", re.IGNORECASE)
# an argument up to the next top-level comma: text, brackets and parentheses skipped whole
_ARGUMENT_PIECES = re.compile(
    r"\"(?:[^\"]|\"\")*\"?|'(?:[^'\n]|'')*'?|[(\[{]|[)\]}]|,|[^\"'()\[\]{},]+"
)


def _server_named(formula: str, start: int) -> bool:
    """Whether the RTD call whose arguments start at ``start`` names a server: its second
    argument is neither left out nor the empty text ``""``."""
    depth, argument, server = 0, 0, ""
    for match in _ARGUMENT_PIECES.finditer(formula, start):
        piece = match.group()
        if piece in "([{":
            depth += 1
        elif piece in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif piece == "," and depth == 0:
            argument += 1
            if argument == 2:
                break
            continue
        if argument == 1:
            server += piece
    return server.strip() not in ("", '""')


def _blank_text(match: re.Match[str]) -> str:
    return match.group() if match.group().startswith("'") else " "
