"""A worksheet cell as Excel shows it through its number format (``xl/styles.xml``).

A custom format holds literal text as well as placeholders: ``"Card 4111 1111 1111 "0000``
shows the number 1111 as "Card 4111 1111 1111 1111" in the cell itself (red team 110), and
``0000" "0000`` lays a number's digits out among its literals. `shown` renders a value through
its format code as Excel does: the section for its sign (positive;negative;zero;text), or
for the first condition the value meets (``[>1000]``), quoted and escaped literals, ``_x`` as
a blank, ``*x`` once, ``[$text-locale]`` as its text (colours dropped); digit placeholders
``0``, ``#`` and ``?`` with thousands separators, decimals, percent and scaling commas; dates
and times (``y``, ``m``, ``d``, ``h``, ``s``, ``AM/PM``) in the 1900 date system; ``@`` the
text. Scientific notation and fractions are not laid out: their literals are read, then the
value as stored.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, DecimalException

from attachguard.formats.inert import parses

__all__ = ["Styles", "number_formats", "shown", "shown_text", "shows_digits", "text_parts"]

_TOKEN = re.compile(
    r'"(?P<quoted>[^"]*)"?|\\(?P<escaped>.)|_(?P<blank>.)|\*(?P<fill>.)'
    r"|\[\$(?P<currency>[^\]-]*)[^\]]*\]|\[(?P<bracket>[^\]]*)\]"
    r"|(?P<general>(?i:general))|(?P<ampm>(?i:am/pm|a/p))|(?P<date>(?i:y+|m+|d+|h+|s+))"
    r"|(?P<digit>[0#?])|(?P<mark>[.,%@])|(?P<exponent>[eE][+-])|(?P<other>.)",
    re.DOTALL,
)
_Token = tuple[str, str]
_LITERALS = frozenset(("quoted", "escaped", "fill", "currency", "other"))
_ELAPSED = re.compile(r"(?i)h+|m+|s+")
_EPOCH = datetime(1899, 12, 30)
_LARGEST = Decimal(10) ** 20  # past Excel's 15 digits: not laid out
_LAST_SERIAL = 2958465  # 9999-12-31: later serials show as ####
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Styles:
    """A workbook's number formats: each cell style's (``cellXfs``) and each differential
    format's (``dxfs``: what a conditional format applies, `applied`), by index; None where
    the workbook declares none."""

    cells: list[str | None]
    conditional: list[str | None]


def number_formats(data: bytes) -> Styles | None:
    """The format code of each cell style and each differential format, by index, when the
    workbook declares it (``numFmt``); None for XML that does not parse or declares a DTD.
    Built-in formats (not declared) are left as None: they hold no literal text of the
    author's."""
    codes: dict[str, str] = {}
    styles: list[str] = []
    conditional: list[str | None] = []
    where = [""]  # "cellXfs" past its start (cellStyleXfs' xf come before), then "dxfs"

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        if local in ("cellXfs", "dxfs"):
            where[0] = local
        elif local == "dxf" and where[0] == "dxfs":
            conditional.append(None)
        elif local == "numFmt" and where[0] == "dxfs" and conditional:
            conditional[-1] = attrs.get("formatCode")  # a differential format's own
        elif local == "numFmt" and not where[0]:
            codes[attrs.get("numFmtId", "").strip()] = attrs.get("formatCode", "")
        elif local == "xf" and where[0] == "cellXfs":
            styles.append(attrs.get("numFmtId", "0").strip())

    if not parses(data, start):
        return None
    return Styles([codes.get(number) for number in styles], conditional)


@functools.lru_cache(maxsize=64)  # a workbook uses a few formats over many cells
def _sections(code: str) -> list[list[_Token]]:
    """A format's sections, each a list of tokens: (kind, text), the kind a group of `_TOKEN`."""
    sections: list[list[_Token]] = [[]]
    for match in _TOKEN.finditer(code):
        kind = match.lastgroup or "other"
        if (kind, match.group(kind)) == ("other", ";"):
            sections.append([])
        else:
            sections[-1].append((kind, match.group(kind)))
    return sections


@functools.lru_cache(maxsize=64)
def shows_digits(code: str) -> bool:
    """Whether the format's literal text holds a digit. One that does not adds no digit to
    those the value holds (a number's digits are the same however they are grouped), so a
    reader looking for numbers may take the value as stored: a workbook's usual formats
    ("#,##0.00", dates) then cost nothing."""
    return any(
        kind in _LITERALS and any(c.isdigit() for c in text)
        for section in _sections(code)
        for kind, text in section
    )


def text_parts(code: str) -> tuple[str, str]:
    """What a text cell's format shows before and after its text (``"Card "@``): the text
    section (the fourth, or a lone section that holds ``@``)."""
    sections = _sections(code)
    section = sections[3] if len(sections) > 3 else sections[0]
    if len(sections) <= 3 and ("mark", "@") not in section:
        return "", ""
    before: list[str] = []
    after: list[str] = []
    seen = False
    for token in section:
        if token == ("mark", "@"):
            seen = True
        else:
            (after if seen else before).append(_literal(token))
    return "".join(before), "".join(after)


def shown_text(code: str, value: str) -> str:
    """A text cell's ``value`` as its format ``code`` shows it: between its text section's
    literals (`text_parts`), or, when that section has no ``@``, the section's literals in
    its place (Excel shows them, not the text) and the value on a line of its own (read, as
    hidden text is)."""
    sections = _sections(code)
    if len(sections) > 3 and ("mark", "@") not in sections[3]:
        return "".join(map(_literal, sections[3])) + "\n" + value
    before, after = text_parts(code)
    return before + value + after


def _literal(token: _Token) -> str:
    kind, text = token
    if kind in _LITERALS:
        return text
    return " " if kind == "blank" else ""


def shown(code: str, value: str) -> str:
    """A numeric cell's stored ``value`` as its format ``code`` shows it. A value the format
    hides (``;;;``, a section of literals only, a date's serial) is still read, on a line of
    its own, as hidden text is."""
    stored = value.strip()
    try:
        text = _shown(_sections(code), Decimal(stored), stored)
    except (DecimalException, OverflowError, ValueError):
        return value
    digits = re.sub(r"\D", "", stored)
    return text if digits in re.sub(r"\D", "", text) else f"{text}\n{stored}"


def _shown(sections: list[list[_Token]], number: Decimal, stored: str) -> str:
    if not number.is_finite() or abs(number) >= _LARGEST:
        return stored
    section, number = _section(sections, number)
    kinds = {kind for kind, _ in section}
    if "date" in kinds or "ampm" in kinds:
        return _date(section, number) or stored
    if ("mark", "@") in section:
        return stored  # a text format: numbers show as they are
    if "exponent" in kinds or ("other", "/") in section:
        return "".join(_literal(t) for t in section) + stored
    return _number(section, number, stored)


_CONDITION = re.compile(r"\s*(<=|>=|<>|<|>|=)\s*(-?\d{1,15}(?:\.\d{1,15})?)\s*")
_COMPARE = {
    "<": Decimal.__lt__, ">": Decimal.__gt__, "=": Decimal.__eq__, "<>": Decimal.__ne__,
    "<=": Decimal.__le__, ">=": Decimal.__ge__,
}  # fmt: skip


def _condition(section: list[_Token]) -> tuple[str, Decimal] | None:
    """A section's condition (``[>1000]``), if it has one."""
    for kind, text in section:
        if kind == "bracket" and (match := _CONDITION.fullmatch(text)) is not None:
            return match.group(1), Decimal(match.group(2))
    return None


def _section(sections: list[list[_Token]], number: Decimal) -> tuple[list[_Token], Decimal]:
    """The section for the number's sign, or for the first condition it meets when the first
    sections have conditions (``[>1000]"4111 1111 1111 "0000;0``: red team 117), and the
    number it shows (a negative section shows its absolute value: its own literals say it is
    negative)."""
    conditions = [_condition(section) for section in sections[:2]]
    if any(conditions):
        for section, condition in zip(sections, conditions, strict=False):
            if condition is None or _COMPARE[condition[0]](number, condition[1]):
                return section, number
        return sections[min(2, len(sections) - 1)], number
    if number < 0 and len(sections) > 1:
        return sections[1], -number
    if number == 0 and len(sections) > 2:
        return sections[2], number
    return sections[0], number


def _number(section: list[_Token], number: Decimal, stored: str) -> str:
    marks = [text if kind == "mark" else ("0" if kind == "digit" else "") for kind, text in section]
    digits = [text for kind, text in section if kind == "digit"]
    point = marks.index(".") if "." in marks else len(marks)
    places = sum(1 for kind, _ in section[point:] if kind == "digit")
    number *= Decimal(100) ** marks.count("%")
    last = max((i for i, m in enumerate(marks[:point]) if m == "0"), default=-1)
    first = marks.index("0") if "0" in marks else 0
    scaling = 0  # commas right after the integer part divide by a thousand each
    for mark in marks[last + 1 : point]:
        if mark != ",":
            break
        scaling += 1
    number /= Decimal(1000) ** scaling
    rounded = abs(number).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{rounded:f}".partition(".")
    sign = "-" if number < 0 and rounded else ""
    count = len(digits) - places
    pieces = _integer(whole, "," in marks[first:last], digits[:count])
    pieces += _fraction(fraction, digits[count:])
    out, n = [], 0
    for kind, text in section:
        if kind == "general":
            out.append(stored)
        elif kind == "digit":
            out.append(pieces[n])
            n += 1
        elif kind == "mark":
            out.append("" if text == "," else text)
        else:
            out.append(_literal((kind, text)))
    return sign + "".join(out)


def _integer(whole: str, grouped: bool, holders: list[str]) -> list[str]:
    """The integer part's digits laid out over its placeholders, right-aligned; digits over
    the placeholders go to the first one."""
    count = len(holders)
    if count == 0:
        return []
    if whole == "0" and "0" not in holders:
        whole = ""
    if grouped:
        text = f"{int(whole):,}" if whole else ""
        return [text.rjust(holders.count("0"), "0")] + [""] * (count - 1)
    pieces = [""] * count
    for i in range(count - 1, -1, -1):
        if whole:
            pieces[i], whole = whole[-1], whole[:-1]
        else:
            pieces[i] = {"0": "0", "?": " "}.get(holders[i], "")
    pieces[0] = whole + pieces[0]
    return pieces


def _fraction(fraction: str, holders: list[str]) -> list[str]:
    """The decimal digits over their placeholders: trailing zeros shown by ``0`` only."""
    pieces = list(fraction.ljust(len(holders), "0"))
    for i in range(len(holders) - 1, -1, -1):
        if pieces[i] != "0" or holders[i] == "0":
            break
        pieces[i] = " " if holders[i] == "?" else ""
    return pieces


def _date(section: list[_Token], number: Decimal) -> str | None:
    """A date or time format: the serial number in Excel's 1900 date system (day 60 is the
    29 February 1900 that Lotus counted); ``[h]``, ``[m]``, ``[s]`` the time elapsed."""
    if not 0 <= number <= _LAST_SERIAL:
        return None
    when = _EPOCH + timedelta(days=float(number) + (1 if number < 61 else 0), seconds=0.5)
    twelve = any(kind == "ampm" for kind, _ in section)
    out, previous = [], ""
    for i, (kind, text) in enumerate(section):
        bracket = text if kind == "bracket" else ""
        if kind == "ampm":
            out.append(("AM" if when.hour < 12 else "PM")[: 1 if len(text) == 3 else 2])
        elif kind == "date":
            part = text.lower()
            following = next((t for k, t in section[i + 1 :] if k == "date"), "")
            out.append(_date_part(part, when, previous, following.lower(), twelve))
            previous = part
        elif _ELAPSED.fullmatch(bracket):
            unit = {"h": 24, "m": 1440, "s": 86400}[bracket[0].lower()]
            out.append(str(int(number * unit)).rjust(len(bracket), "0"))
            previous = bracket.lower()
        else:
            out.append(_literal((kind, text)))
    return "".join(out)


def _date_part(part: str, when: datetime, previous: str, following: str, twelve: bool) -> str:
    letter, size = part[0], len(part)
    if letter == "m" and (previous.startswith("h") or following.startswith("s")):
        return f"{when.minute:0{min(size, 2)}d}"
    if letter == "m":
        month = _MONTHS[when.month - 1]
        return {1: str(when.month), 2: f"{when.month:02d}", 3: month[:3], 5: month[0]}.get(
            size, month
        )
    if letter == "d":
        day = _DAYS[when.weekday()]
        return {1: str(when.day), 2: f"{when.day:02d}", 3: day[:3]}.get(size, day)
    if letter == "y":
        return f"{when.year % 100:02d}" if size <= 2 else str(when.year)
    if letter == "h":
        hour = (when.hour % 12 or 12) if twelve else when.hour
        return f"{hour:0{min(size, 2)}d}"
    return f"{when.second:0{min(size, 2)}d}"
