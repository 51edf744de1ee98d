"""US social security numbers (SSN) in text.

Written ``AAA-GG-SSSS`` (dashes or single spaces), or as nine plain digits when a word such as
"SSN" or "social security" stands in the few words before. The Social Security Administration's
rules must hold: the area is not 000, 666 or 900-999, the group not 00, the serial not 0000; the
numbers printed in advertisements and on sample cards (078-05-1120, 219-09-9999) are not taken.
Not part of a longer run of digits, nor of a word.
"""

from __future__ import annotations

import re

from attachguard.sensitive import Hit, fingerprint

_SEPARATED = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_PLAIN = re.compile(r"(?<![\w-])(\d{3})(\d{2})(\d{4})(?![\w-])")
_LABEL = re.compile(
    r"(?<![^\W\d_])(ssn|ss#|ss no|social security|soc sec|sozialversicherungsnummer)",
    re.IGNORECASE,
)
_BEFORE = 40
_PUBLISHED = frozenset({"078051120", "219099999", "123456789"})


def valid(area: str, group: str, serial: str) -> bool:
    """The SSA's rules for an issued number (see the module docstring)."""
    number = area + group + serial
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and number not in _PUBLISHED
    )


def find(text: str) -> list[Hit]:
    """The social security numbers in ``text``."""
    hits = []
    found = [(m.group(1), m.group(3), m.group(4), m.start()) for m in _SEPARATED.finditer(text)]
    if _LABEL.search(text):
        found += [
            (m.group(1), m.group(2), m.group(3), m.start())
            for m in _PLAIN.finditer(text)
            if _LABEL.search(_window(text, m.start()))
        ]
    for area, group, serial, start in found:
        if valid(area, group, serial):
            number = area + group + serial
            hits.append(Hit("ssn", "US", serial, fingerprint(number), start))
    return hits


def _window(text: str, start: int) -> str:
    return text[max(0, start - _BEFORE) : start]
