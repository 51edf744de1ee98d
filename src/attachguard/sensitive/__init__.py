"""Sensitive numbers in text: payment card numbers (PAN), IBANs and US social security numbers.

`find` looks for the classes it is asked for in a piece of text and returns `Hit` values that
name the class, the issuer (or country) and the last four characters, never the number: a hit
keeps only a keyed digest of the whole number (the key is made at random when the process
starts), so that the engine can count distinct numbers without holding them.

The readers that turn files into text live beside it (`text`, `ooxml`, `pdf`, `rtf`, `legacy`),
as do the OCR backends that turn pictures into text (`ocr`).
"""

from __future__ import annotations

import hmac
import re
import secrets
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Literal

Kind = Literal["card", "iban", "ssn"]
KINDS: tuple[Kind, ...] = ("card", "iban", "ssn")

_KEY = secrets.token_bytes(32)  # per process: a digest of a number cannot be reversed offline


def fingerprint(value: str) -> str:
    """A digest of ``value`` under this process's random key (for counting, never shown)."""
    return hmac.new(_KEY, value.encode(), "sha256").hexdigest()[:24]


@dataclass(frozen=True)
class Hit:
    """One sensitive number: its class, the issuer or country (``Visa``, ``DE``, ``US``), its
    last four characters, a keyed digest of the whole (see `fingerprint`), and where it starts
    in the text searched (``start``, and ``line``, counted from 1)."""

    kind: Kind
    issuer: str
    last4: str
    digest: str = field(repr=False)
    start: int = field(default=0, compare=False)
    line: int = field(default=0, compare=False)

    def describe(self) -> str:
        """The hit as people may read it: "a payment card number (Visa, ending 4242)"."""
        return f"{NOUNS[self.kind][0]} ({self.issuer}, ending {self.last4})"


# kind → (one, many): how findings name a class.
NOUNS: dict[Kind, tuple[str, str]] = {
    "card": ("a payment card number", "payment card numbers"),
    "iban": ("an IBAN", "IBANs"),
    "ssn": ("a US social security number", "US social security numbers"),
}

# Characters that no reader shows but that would break a run of digits: zero-width spaces and
# joiners, the word joiner, the byte-order mark, the soft hyphen, the combining grapheme joiner,
# the direction marks, embeddings and isolates that text copied from right-to-left pages
# carries, invisible operators, and the variation selector and keycap that draw "4️⃣".
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c"
        "\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
        "\ufe0e\ufe0f\u20e3\ufeff",
    )
)


# A right-to-left override (U+202E) up to its end (U+202C) or the line's: what it holds is
# drawn in reverse, digits too ("\u202e1111 ... 1114" shows as "4111 ... 1111").
_OVERRIDE = re.compile("\u202e([^\u202c\u202d\u202e\n]*)")


def normalise(text: str) -> str:
    """The text as a reader sees it: right-to-left overrides applied, invisible characters
    dropped, and compatibility forms (fullwidth digits and letters, ligatures) folded to plain
    ones when there are any."""
    if "\u202e" in text:
        text = _OVERRIDE.sub(lambda m: m.group(1)[::-1], text)
    text = text.translate(_INVISIBLE)
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text.translate(_unseen()))


@cache
def _unseen() -> dict[int, str | None]:
    """What else no reader shows between digits, for text that is not ASCII: every format
    character (Unicode category Cf: tags, the Arabic letter mark, invisible operators),
    combining mark (Mn, Me: an underline drawn under a digit), variation selector and the other
    default-ignorable code points, dropped; and the Hangul fillers, drawn as blanks, as
    spaces. Built once, on first use (a walk of every code point)."""
    table: dict[int, str | None] = {}
    for point in range(sys.maxunicode + 1):
        if unicodedata.category(chr(point)) in ("Cf", "Mn", "Me"):
            table[point] = None
    for first, last in _IGNORABLE:
        table.update(dict.fromkeys(range(first, last + 1)))
    table.update(dict.fromkeys((0x115F, 0x1160, 0x3164, 0xFFA0), " "))
    return table


# Unicode's default-ignorable code points that are not format characters or marks
# (DerivedCoreProperties.txt: the Hangul fillers, Khmer inherent vowels, Mongolian free variation
# selectors, variation selectors, unassigned ones kept for such use)
_IGNORABLE = (
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0xE0000, 0xE0FFF),
)  # fmt: skip


def find(text: str, kinds: Iterable[Kind], lenient: bool = False) -> list[Hit]:
    """Every number of the given classes in ``text``; ``lenient`` accepts any grouping of a
    card number's digits (text read from a picture, where spacing is the OCR's guess)."""
    from attachguard.sensitive import cards, cards_unusual, iban, ssn

    def card(text: str) -> list[Hit]:
        found = cards.find(text, lenient)
        return found + cards_unusual.find(text, found)

    finders: dict[Kind, Callable[[str], list[Hit]]] = {
        "card": card,
        "iban": iban.find,
        "ssn": ssn.find,
    }

    wanted = tuple(kinds)

    def every(text: str) -> list[Hit]:
        return [hit for kind in wanted for hit in finders[kind](text)]

    shown = normalise(text)  # keeps every line break, so lines count as in the original
    hits = _numbered(shown, every(shown))
    displayed = displayed_text(text)
    if displayed is not None:  # the whole text again, its right-to-left lines as displayed
        known = {hit.digest for hit in hits}
        again = normalise(displayed)
        hits += [hit for hit in _numbered(again, every(again)) if hit.digest not in known]
    return hits


# What makes a line right-to-left, in part or whole: Hebrew, Arabic, Syriac, Thaana, N'Ko,
# Samaritan, Mandaic letters (and their presentation forms, and the historic scripts of the
# SMP's right-to-left blocks), and the marks, embeddings, override and isolate that set text
# right to left.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff"
    "\u200f\u061c\u202b\u202e\u2067]"
)


def displayed_text(text: str) -> str | None:
    """``text`` with each line that a reader sees in another order than it is stored as it is
    displayed (None when there is none): ordered by the Unicode bidirectional algorithm, the
    line's direction taken from its first letter as a text editor does (python-bidi). Digit
    groups in a right-to-left line or embedding are drawn from the right: stored
    "\u202b1111 1111 1111 4111" shows "4111 1111 1111 1111" (red team 117). Only lines whose
    digit groups come out in another order are changed; the rest of the text stays around
    them, so that labels and lists of identifiers are read as in the stored text."""
    if text.isascii() or _RTL.search(text) is None:
        return None
    lines = text.split("\n")
    changed = False
    for number, line in enumerate(lines):
        if _RTL.search(line) is None:
            continue
        groups = _DIGITS.findall(line)
        if len(groups) < 2:
            continue  # one run of digits keeps its order
        shown = _display(line)
        if _DIGITS.findall(shown) != groups:
            lines[number], changed = shown, True
    return "\n".join(lines) if changed else None


_DIGITS = re.compile(r"\d+")


def _display(line: str) -> str:
    """A line in displayed order; a lone surrogate (RTF's \\u escapes can leave one) as the
    replacement character, which python-bidi cannot take."""
    from bidi import get_display

    safe = line.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    try:
        return str(get_display(safe))
    except (ValueError, UnicodeError):  # nothing shown otherwise: the stored order stands
        return line


def redact(name: str) -> str:
    """``name`` (a file name, a short label) with its digits masked but the last four when it
    holds a full card number ("card 4111 1111 1111 1111.jpg" → "card •••• •••• •••• 1111.jpg"),
    unchanged otherwise: a file name is shown and logged, a card number never is."""
    if not any(c.isdigit() for c in name):
        return name
    # a name's punctuation ("card_4111.1111.jpg", ".pdf") is taken as spaces
    spaced = "".join(c if c.isalnum() or c.isspace() or c == "-" else " " for c in name)
    if not find(spaced, ["card"], lenient=True):
        return name
    digits = [i for i, c in enumerate(name) if c.isdigit()]
    keep = set(digits[-4:])
    return "".join("•" if i in set(digits) - keep else c for i, c in enumerate(name))


def _numbered(text: str, hits: list[Hit]) -> list[Hit]:
    """The hits with their line numbers, counted in one pass over the text."""
    line, position = 1, 0
    numbered = {}
    for index in sorted(range(len(hits)), key=lambda i: hits[i].start):
        start = hits[index].start
        line += text.count("\n", position, start)
        position = start
        numbered[index] = replace(hits[index], line=line)
    return [numbered[i] for i in range(len(hits))]
