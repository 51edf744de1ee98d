"""What an Excel number format shows in a cell beside its value: the format's literal text
with the value laid into its digit placeholders, as Excel and LibreOffice render it.

A format (``#,##0.00;[Red]-#,##0.00;"zero";@``) has up to four sections: positive numbers,
negative numbers, zero, text. Its literal text is what is quoted (``"Card "``), escaped with
a backslash (``\\-``), the currency of a ``[$text-locale]`` tag, the space of ``_x`` and the
character of a ``*x`` fill (once), and every character that is no code (digits 1-9, blanks,
``- + / ( ) :`` ...). Codes are dropped: letters (date and time parts, ``General``, ``E+``),
other bracketed tags (colours, conditions), thousands separators.

A number is rendered in each numeric section (Excel picks one by sign or condition: all are
read), without its sign: its integer digits laid into the integer placeholders right to
left (``0`` pads with a zero, ``#`` with nothing, ``?`` with a blank, extra digits before
the first), its decimals into those after the point, scaled by 100 for each ``%``. A section
with date or time parts shows its literal text only (the date's digits are not worked out).
Text is rendered in the text section (the fourth, or one with ``@``), ``@`` standing for it.

A format without literal text shows nothing but its value, which the reader of the cell has
read already: `shown` gives nothing for it (``0000``, ``#,##0.00``, ``0%``, ``d/m/yyyy``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["shown"]

_PIECE = re.compile(
    r'"(?P<quoted>[^"]*)"?|\\(?P<escaped>.)|_(?P<space>.)|\*(?P<fill>.)'
    r"|\[\$(?P<currency>[^\]-]*)[^\]]*\]|(?P<tag>\[[^\]]*\])|(?P<char>.)",
    re.DOTALL,
)
_PLACEHOLDERS = "0#?"
_PADDING = {"0": "0", "#": "", "?": " "}
_DROPPED = ","  # thousands separators (and scaling by 1,000): no text of their own


@dataclass
class _Section:
    """One section: its pieces in order, each literal text or a code character ("0", "#",
    "?", ".", "@"); whether it shows a date or time, and its ``%`` count."""

    pieces: list[tuple[bool, str]]  # (literal, text)
    dated: bool = False
    percents: int = 0

    @property
    def literal(self) -> str:
        return "".join(text for literal, text in self.pieces if literal)

    @property
    def takes_text(self) -> bool:
        return (False, "@") in self.pieces


def shown(code: str, value: float | str) -> list[str]:
    """What a cell holding ``value`` (a number, or text) formatted with ``code`` may show,
    each reading once; empty when the format has no literal text (see the module
    docstring)."""
    sections = _sections(code)
    if not any(section.literal.strip() for section in sections):
        return []
    if isinstance(value, str):
        texts = [s for n, s in enumerate(sections) if s.takes_text or n == 3]
        rendered = [_text(section, value) for section in texts]
    else:
        numeric = [s for n, s in enumerate(sections[:3]) if not s.takes_text or n == 0]
        rendered = [_number(section, abs(value)) for section in numeric]
    return list(dict.fromkeys(r for r in rendered if r.strip()))


def _sections(code: str) -> list[_Section]:
    sections = [_Section([])]
    for match in _PIECE.finditer(code):
        char = match.group("char")
        if char is None:
            literal = next(g for g in match.groups() if g is not None)
            if match.group("space") is not None:
                literal = " "
            if match.group("tag") is None:
                sections[-1].pieces.append((True, literal))
        elif char == ";":
            sections.append(_Section([]))
        else:
            _code(sections[-1], char)
    return sections


def _code(section: _Section, char: str) -> None:
    if char in _PLACEHOLDERS or char in ".@":
        section.pieces.append((False, char))
    elif char.isalpha():
        section.dated = section.dated or char.lower() in "ymdhs"
    elif char == "%":
        section.percents += 1
        section.pieces.append((True, char))
    elif char not in _DROPPED:
        section.pieces.append((True, char))


def _text(section: _Section, value: str) -> str:
    return "".join(text if literal else value if text == "@" else ""
                   for literal, text in section.pieces)  # fmt: skip


def _number(section: _Section, value: float) -> str:
    """The section with ``value`` (not negative) laid into its placeholders."""
    if section.dated:
        return section.literal
    value *= 100**section.percents
    pieces = [text if literal else "" if text == "@" else text for literal, text in section.pieces]
    slots = [i for i, (literal, text) in enumerate(section.pieces) if not literal]
    point = next((n for n, i in enumerate(slots) if pieces[i] == "."), len(slots))
    whole, decimals = slots[:point], [i for i in slots[point + 1 :] if pieces[i] != "."]
    integer, _, fraction = f"{value:.{len(decimals)}f}".partition(".")
    digits = "" if integer == "0" else integer
    for i in reversed(whole):
        pieces[i], digits = (digits[-1], digits[:-1]) if digits else (_PADDING[pieces[i]], "")
    if whole and digits:
        pieces[whole[0]] = digits + pieces[whole[0]]
    for i, digit in zip(decimals, fraction, strict=False):
        pieces[i] = digit
    return "".join(pieces)
