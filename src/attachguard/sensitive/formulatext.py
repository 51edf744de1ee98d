"""The values, operators and functions of `formulaeval`: Excel's text and number functions
that make or pick text (`FUNCTIONS`), with Excel's coercions (a number as text in General
format, text as a number where arithmetic wants one, errors passed through).

A text is at most 32,767 characters (Excel's limit: a longer result is ``#VALUE!``), so no
call can build more.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from attachguard.sensitive import numfmt


class Unknown(Exception):
    """A formula this evaluator does not compute (an unknown function or name, too deep)."""


class Error(str):
    """An error value (``#VALUE!``...): it shows as its text, and passes through calls."""


Value = str | float | bool | Error | None  # None: a blank cell
LONGEST_TEXT = 32767
_VALUE = Error("#VALUE!")


class _Invalid(Exception):
    """A call's argument of the wrong kind: the call is ``#VALUE!``, as Excel's is."""


def excel_number(value: float) -> float:
    """A number as Excel holds it: 15 significant digits (4111111111111111 is
    4111111111111110)."""
    if not math.isfinite(value):
        raise _Invalid
    return float(f"{value:.15g}")


def general(number: float) -> str:
    """A number as text in General format: integral values as plain digits, others to 15
    significant digits."""
    if not math.isfinite(number):
        return "#NUM!"  # Excel stores no such number; a file that says one is read as an error
    if number == int(number) and abs(number) < 1e21:
        return str(int(number))
    text = f"{number:.15g}"
    mantissa, _, exponent = text.partition("e")
    return mantissa if not exponent else f"{mantissa}E{int(exponent):+03d}"


def text_of(value: Any) -> str:
    """A value as text, as ``&`` and the text functions take it."""
    value = _scalar(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return general(value)
    return str(value)


def number_of(value: Any) -> float:
    """A value as a number, as arithmetic takes it: text that reads as one, TRUE as 1."""
    value = _scalar(value)
    if value is None:
        return 0.0
    if isinstance(value, bool | float):
        return float(value)
    try:
        return excel_number(float(str(value).strip().replace(",", "")))
    except ValueError:
        raise _Invalid from None


class Grid(list[Value]):
    """A range's or an array constant's values, row by row, and how many columns a row has
    (INDEX picks by row and column)."""

    def __init__(self, values: list[Value], columns: int) -> None:
        super().__init__(values)
        self.columns = max(columns, 1)


def _scalar(value: Any) -> Value:
    if isinstance(value, list):
        return value[0] if value else None
    return value  # type: ignore[no-any-return]


def _flat(values: list[Any]) -> Iterator[Value]:
    for value in values:
        yield from value if isinstance(value, list) else [value]


def _checked(text: str) -> str:
    if len(text) > LONGEST_TEXT:
        raise _Invalid
    return text


def _checked_length(length: int) -> None:
    if length > LONGEST_TEXT:
        raise _Invalid


def _joined(delimiter: str, pieces: Iterator[str]) -> str:
    """The pieces joined, given up as soon as the text would pass `LONGEST_TEXT` (10,000 cells
    of 32,000 characters are never put together)."""
    kept: list[str] = []
    length = 0
    for piece in pieces:
        length += len(piece) + (len(delimiter) if kept else 0)
        _checked_length(length)
        kept.append(piece)
    return delimiter.join(kept)


def _integer(value: Any) -> int:
    number = number_of(value)
    if not -1e9 < number < 1e9:
        raise _Invalid
    return int(number)


# -- operators ---------------------------------------------------------------------------------
def operate(kind: object, node: tuple[object, ...], value: Callable[[Any], Value]) -> Value:
    """An operator's node (``("op", "&", left, right)``, ``("neg", x)``, ``("pct", x)``),
    its operands computed by ``value``."""
    operands = [value(item) for item in node[2:]] if kind == "op" else [value(node[1])]
    for operand in operands:
        if isinstance(operand, Error):
            return operand
    try:
        if kind == "neg":
            return excel_number(-number_of(operands[0]))
        if kind == "pct":
            return excel_number(number_of(operands[0]) / 100)
        if kind == "op":
            return _binary(str(node[1]), operands[0], operands[1])
    except _Invalid:
        return _VALUE
    except ZeroDivisionError:
        return Error("#DIV/0!")
    except (OverflowError, ValueError):  # (-8)^0.5: math.pow's domain error, Excel's #NUM!
        return Error("#NUM!")
    raise Unknown(f"unknown node {kind}")


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: 1 / 0 if a == 0 and b < 0 else math.pow(a, b),  # 0^-1: #DIV/0!
}
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _binary(operator: str, left: Value, right: Value) -> Value:
    if operator == "&":
        return _checked(text_of(left) + text_of(right))
    if operator in _ARITHMETIC:
        return excel_number(_ARITHMETIC[operator](number_of(left), number_of(right)))
    return _COMPARISONS[operator](_ordered(left, right), _ordered(right, left))


def _ordered(value: Value, other: Value) -> tuple[int, Any]:
    """A value's place in Excel's order: numbers, then text (ignoring case), then logicals;
    a blank as the other's kind's empty value."""
    if value is None:
        value = "" if isinstance(other, str) else (False if isinstance(other, bool) else 0.0)
    if isinstance(value, bool):
        return 2, value
    if isinstance(value, float):
        return 0, value
    return 1, str(value).lower()


# -- functions ---------------------------------------------------------------------------------
def _text(args: list[Any]) -> Value:
    value, code = _scalar(args[0]), text_of(args[1])
    if isinstance(value, str):
        try:
            value = number_of(value)
        except _Invalid:
            return value  # text stays as it is
    number = number_of(value)
    if code.strip().lower() in ("", "general"):
        return general(number)
    return numfmt.shown(code, general(number)).partition("\n")[0]


def _rept(args: list[Any]) -> Value:
    times = _integer(args[1])
    text = text_of(args[0])
    if times < 0 or len(text) * times > LONGEST_TEXT:
        raise _Invalid
    return text * times


def _substitute(args: list[Any]) -> Value:
    text, old, new = text_of(args[0]), text_of(args[1]), text_of(args[2])
    if not old:
        return text
    if len(args) < 4:  # the length checked before the text is built (a REPT of REPTs)
        _checked_length(len(text) + text.count(old) * (len(new) - len(old)))
        return text.replace(old, new)
    instance = _integer(args[3])
    if instance < 1:
        raise _Invalid
    at = -1
    for _ in range(instance):
        at = text.find(old, at + 1)
        if at < 0:
            return text
    return text[:at] + new + text[at + len(old) :]


def _replace(args: list[Any]) -> Value:
    text, start, count = text_of(args[0]), _integer(args[1]), _integer(args[2])
    if start < 1 or count < 0:
        raise _Invalid
    new = text_of(args[3])
    _checked_length(len(text) - min(count, max(0, len(text) - start + 1)) + len(new))
    return text[: start - 1] + new + text[start - 1 + count :]


def _mid(args: list[Any]) -> Value:
    text, start, count = text_of(args[0]), _integer(args[1]), _integer(args[2])
    if start < 1 or count < 0:
        raise _Invalid
    return text[start - 1 : start - 1 + count]


def _side(args: list[Any], right: bool) -> Value:
    text = text_of(args[0])
    count = _integer(args[1]) if len(args) > 1 and args[1] is not None else 1
    if count < 0:
        raise _Invalid
    return (text[len(text) - count :] if count else "") if right else text[:count]


def _textjoin(args: list[Any]) -> Value:
    delimiter, skip = text_of(args[0]), args[1] is not None and number_of(args[1]) != 0
    pieces = (text_of(v) for v in _flat(args[2:]))
    return _joined(delimiter, (p for p in pieces if p or not skip))


def _char(args: list[Any]) -> Value:
    code = _integer(args[0])
    if not 1 <= code <= 255:
        raise _Invalid
    return bytes([code]).decode("cp1252", errors="replace")  # Windows' ANSI code page


def _unichar(args: list[Any]) -> Value:
    code = _integer(args[0])
    if not 1 <= code <= 0x10FFFF:
        raise _Invalid
    return chr(code)


def _if(args: list[Any]) -> Value:
    condition = _scalar(args[0])
    if isinstance(condition, Error):
        return condition
    chosen = args[1] if number_of(condition) else (args[2] if len(args) > 2 else False)
    return _scalar(chosen)


def _iferror(args: list[Any]) -> Value:
    value = _scalar(args[0])
    return _scalar(args[1]) if isinstance(value, Error) else value


def _choose(args: list[Any]) -> Value:
    index = _scalar(args[0])
    if isinstance(index, Error):
        return index
    chosen = _integer(index)
    if not 1 <= chosen < len(args):
        raise _Invalid
    return _scalar(args[chosen])


def _switch(args: list[Any]) -> Value:
    """SWITCH(value, case, result, ..., [default]): the result of the first case equal to it."""
    subject, rest = _scalar(args[0]), args[1:]
    if isinstance(subject, Error):
        return subject
    for at in range(0, len(rest) - 1, 2):
        case = _scalar(rest[at])
        if isinstance(case, Error):
            return case
        if _binary("=", subject, case) is True:
            return _scalar(rest[at + 1])
    return _scalar(rest[-1]) if len(rest) % 2 else Error("#N/A")


def _ifs(args: list[Any]) -> Value:
    """IFS(condition, result, ...): the result of the first true condition."""
    if len(args) % 2:
        raise _Invalid
    for at in range(0, len(args), 2):
        condition = _scalar(args[at])
        if isinstance(condition, Error):
            return condition
        if number_of(condition):
            return _scalar(args[at + 1])
    return Error("#N/A")


_BASE_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base(args: list[Any]) -> Value:
    """BASE(number, radix, [length]): the number's digits in that radix, zero-padded."""
    number, radix = number_of(args[0]), _integer(args[1])
    length = _integer(args[2]) if len(args) > 2 and args[2] is not None else 0
    if not (0 <= number < 2**53 and 2 <= radix <= 36 and 0 <= length <= 255):
        return Error("#NUM!")
    value, digits = int(number), ""
    while value:
        value, digit = divmod(value, radix)
        digits = _BASE_DIGITS[digit] + digits
    return (digits or "0").rjust(length, "0")


def _index(args: list[Any]) -> Value:
    """INDEX(array, row, [column]) over an array constant or a computed range (a reference's
    cells are picked by `formulaeval` without reading the others): the value there."""
    area = args[0] if isinstance(args[0], list) else Grid([args[0]], 1)
    if not isinstance(area, Grid):
        raise Unknown("INDEX over a range of unknown shape")
    picked = index_pick(-(-len(area) // area.columns), area.columns, args[1:])
    if isinstance(picked, Error):
        return picked
    at = picked[0] * area.columns + picked[1]
    return area[at] if at < len(area) else None


def index_pick(rows: int, columns: int, args: list[Any]) -> tuple[int, int] | Error:
    """INDEX's row and column (from 0) in an area of that shape, or its error: a single row's
    or column's one number picks along it; 0 (or none) picks the first of a whole row or
    column, as one cell shows it; past the area is #REF!."""
    if picks := [v for v in args if isinstance(_scalar(v), Error)]:
        return _scalar(picks[0])  # type: ignore[return-value]
    try:
        row = _integer(args[0]) if args and args[0] is not None else 0
        column = _integer(args[1]) if len(args) > 1 and args[1] is not None else 0
    except _Invalid:
        return _VALUE
    if len(args) < 2 and rows == 1 < columns:
        row, column = 1, row  # one row: its number picks the column
    if min(row, column) < 0 or row > rows or column > columns:
        return Error("#REF!")
    return max(row, 1) - 1, max(column, 1) - 1


def _sum(args: list[Any]) -> Value:
    total = 0.0
    for arg in args:
        if isinstance(arg, list):  # a range: its numbers only
            total += sum(v for v in arg if isinstance(v, float) and not isinstance(v, bool))
        else:
            total += number_of(arg)
    return excel_number(total)


def _round(args: list[Any]) -> Value:
    digits = _integer(args[1]) if len(args) > 1 else 0
    number = number_of(args[0])
    return excel_number(round(number, digits))


def _fixed(args: list[Any]) -> Value:
    number = number_of(args[0])
    digits = min(max(_integer(args[1]) if len(args) > 1 and args[1] is not None else 2, 0), 127)
    bare = len(args) > 2 and args[2] is not None and number_of(args[2]) != 0
    return f"{number:{'' if bare else ','}.{digits}f}"


def _one(function: Callable[[str], str]) -> Callable[[list[Any]], Value]:
    return lambda args: function(text_of(args[0]))


def _numeric(function: Callable[[float], float]) -> Callable[[list[Any]], Value]:
    return lambda args: excel_number(function(number_of(args[0])))


FUNCTIONS: dict[str, tuple[int, int, Callable[[list[Any]], Value]]] = {
    # name: (fewest arguments, most arguments, function)
    "TEXT": (2, 2, _text),
    "REPT": (2, 2, _rept),
    "SUBSTITUTE": (3, 4, _substitute),
    "REPLACE": (4, 4, _replace),
    "REPLACEB": (4, 4, _replace),
    "CONCAT": (1, 254, lambda args: _joined("", map(text_of, _flat(args)))),
    "CONCATENATE": (1, 255, lambda args: _joined("", map(text_of, args))),
    "TEXTJOIN": (3, 252, _textjoin),
    "MID": (3, 3, _mid),
    "MIDB": (3, 3, _mid),
    "LEFT": (1, 2, lambda args: _side(args, False)),
    "LEFTB": (1, 2, lambda args: _side(args, False)),
    "RIGHT": (1, 2, lambda args: _side(args, True)),
    "RIGHTB": (1, 2, lambda args: _side(args, True)),
    "CHAR": (1, 1, _char),
    "UNICHAR": (1, 1, _unichar),
    "LOWER": (1, 1, _one(str.lower)),
    "UPPER": (1, 1, _one(str.upper)),
    "PROPER": (1, 1, _one(str.title)),
    "TRIM": (1, 1, _one(lambda text: re.sub(" +", " ", text).strip(" "))),
    "CLEAN": (1, 1, _one(lambda text: re.sub("[\x00-\x1f]", "", text))),
    "T": (1, 1, lambda args: v if isinstance(v := _scalar(args[0]), str) else ""),
    "VALUE": (1, 1, lambda args: number_of(text_of(args[0]))),
    "NUMBERVALUE": (1, 3, lambda args: number_of(text_of(args[0]))),
    "LEN": (1, 1, lambda args: float(len(text_of(args[0])))),
    "FIXED": (1, 3, _fixed),
    "IF": (2, 3, _if),  # Excel refuses IF(x) (review 138: it raised IndexError)
    "IFERROR": (2, 2, _iferror),
    "SUM": (1, 255, _sum),
    "ABS": (1, 1, _numeric(abs)),
    "INT": (1, 1, _numeric(math.floor)),
    "TRUNC": (1, 1, _numeric(math.trunc)),
    "ROUND": (1, 2, _round),
    # the functions that pick a value (red team 117: CHOOSE(2,"x","4111 ...") on a sheet that
    # Excel computes as it opens), and BASE, which writes a number's digits
    "CHOOSE": (2, 255, _choose),
    "SWITCH": (3, 254, _switch),
    "IFS": (2, 254, _ifs),
    "BASE": (2, 3, _base),
    # and INDEX, which picks from a range or an array constant (red team 117: INDEX({...},1))
    "INDEX": (2, 3, _index),
}
# an error argument does not make their value: only the one they pick counts
LAZY_ERRORS = frozenset(("IF", "IFERROR", "CHOOSE", "SWITCH", "IFS", "INDEX"))


def call(name: str, args: list[Any]) -> Value:
    """A function's value for its computed arguments; `Unknown` for a function not in
    `FUNCTIONS` or called with a number of arguments Excel refuses."""
    fewest, most, function = FUNCTIONS.get(name) or (0, -1, _text)
    if not fewest <= len(args) <= most:
        raise Unknown(f"unknown call {name}/{len(args)}")
    if name not in LAZY_ERRORS:
        for value in _flat(args):
            if isinstance(value, Error):
                return value
    try:
        return function(args)
    except _Invalid:
        return _VALUE
    except (OverflowError, ValueError):
        return Error("#NUM!")
