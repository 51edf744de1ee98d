"""Card numbers written with separators cards are not printed with.

`cards` takes a number's groups set apart by spaces, dashes or dots, one kind throughout, as
cards and receipts print them. People typing a number into a form, a sheet or a chat write it
other ways too: ``4111/1111/1111/1111``, ``4111_1111_1111_1111``, ``4111, 1111, 1111, 1111``,
``4111|1111|1111|1111``, ``4111'1111'...``, tabs or wide gaps between the groups, mixed
separators. Such a number is taken here when its groups follow a card's layout
(`cards.LAYOUTS`, 4-4-4-4...), its Luhn digit and issuer are right, it is not joined to a word,
an identifier or an amount, and:

- its separators are all one of ``/ \\ _ * + ~`` (no table or list writes those between
  figures) and no keyword of something else is the nearest before it ("Order: ..."); or
- a card word (`cards.CARD_WORDS`: "card", "credit"..., not a brand alone) stands right
  before it, only filler or a brand between ("Card number: 4111, 1111, 1111, 1111", "Credit
  card (Visa): ..."). Then line breaks are gaps too (its groups on lines of their own: a
  table's cells, a form's fields, text boxes side by side), and so are boxes of a digit each
  (13 to 19 of them, as forms print a number).

A row of four-digit figures in a table (commas, semicolons, tabs, bars, wide gaps between
them) passes the layout, Luhn and issuer checks about once in thirty (measured on random
figures); unlabelled, or after a brand heading a merchant's statement row ("Visa  1523  2210
..."), it is a row of figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from attachguard.sensitive import Hit, fingerprint
from attachguard.sensitive.cards import (
    AFTER_CARD_WORD,
    LAYOUTS,
    POSITIVE,
    card_words,
    issuer,
    label_before,
    luhn,
    unjoined,
)

# One gap between two groups: blanks around one punctuation mark, or blanks alone (a tab, three
# or more spaces; fewer are `cards`' own gaps, taken here too when mixed with others).
_MARKS = "/\\\\_*+~|,;:\\-.'\u2019"  # (an apostrophe: Swiss thousands, red team 117)
# Line breaks are a gap too (a card word's groups or boxes one per line: a table's cells, a
# form's fields, text boxes side by side come out a line each, some with blank lines between).
_GAP = rf"[ \t\u00a0]*[{_MARKS}][ \t\u00a0]*|[ \t\u00a0]*(?:\r?\n[ \t\u00a0]*){{1,12}}|[ \t\u00a0]+"
# A run starts where no digit (with a gap) stands before it: a row of more figures is no card.
# Up to 19 groups: a form's boxes hold a digit each.
_RUN = re.compile(
    rf"(?<!\d)(?<!\d[{_MARKS} \t\u00a0\n])(?<!\d[{_MARKS}\n][ \t\u00a0])"
    rf"\d+(?:(?:{_GAP})\d+){{2,18}}"
)
_SPLIT = re.compile(_GAP)
_UNLABELLED = frozenset("/\\_*+~")  # a run separated by one of these alone needs no card word
# What a run of `_UNLABELLED` separators is made of: digits, spaces and those separators,
# in stretches of 15 characters or more (13 digits, two gaps) that hold a separator. A mask of
# the text marks digits and spaces "1", separators "2" and anything else "0": the stretches are
# found in it by a simple expression, a tenth of the time of `_RUN`'s over a table of figures.
_SEPARATOR_MASK = bytes(
    ord("1") if chr(b) in "0123456789 " else ord("2") if chr(b) in "/\\_*+~" else ord("0")
    for b in range(256)
)
_MASK_STRETCH = re.compile(b"[12]{15,}")
# What may follow the number in its run: nothing, a security code, an expiry date
_TAILS = frozenset({(), (3,), (4,), (2, 2), (2, 4)})
_AFTER_WORD = 120  # characters of label read after a card word, at most: filler, a brand


def find(text: str, found: list[Hit]) -> list[Hit]:
    """The card numbers in ``text`` written with unusual separators (see the module docstring)
    that are not among ``found`` (`cards.find`'s hits) at the same place."""
    known = {(hit.start, hit.digest) for hit in found}
    hits = []
    for match in _runs(text):
        span = unjoined(text, *match.span())
        hit = None if span is None else _hit(text, *span)
        if hit is not None and (hit.start, hit.digest) not in known:
            known.add((hit.start, hit.digest))
            hits.append(hit)
    return hits


def _runs(text: str) -> Iterator[re.Match[str]]:
    """`_RUN`'s matches where one may be taken: in stretches of digits, blanks and
    `_UNLABELLED` separators, and right after a card word. (Applied to the whole text, the
    expression costs a second for a 5 MB table of figures; these searches, milliseconds.)"""
    for start, end in _plain_stretches(text):
        yield from _RUN.finditer(text, start, end)
    covered = 0  # where the last label read ended: a card word inside it leads to the same place
    for word in card_words(text):  # in the text itself: no offsets shift ("İ")
        if word.start() < covered:
            continue
        label = AFTER_CARD_WORD.match(text, word.end(), word.end() + _AFTER_WORD)
        covered = word.end() if label is None else label.end()
        if label is not None and (match := _RUN.match(text, label.end())) is not None:
            yield match


def _plain_stretches(text: str) -> Iterator[tuple[int, int]]:
    """The spans where a run of `_UNLABELLED` separators may lie (see `_SEPARATOR_MASK`)."""
    # one byte per character: anything not ASCII becomes "?", then "0"
    mask = text.encode("ascii", "replace").translate(_SEPARATOR_MASK)
    for stretch in _MASK_STRETCH.finditer(mask):
        if b"2" in stretch.group():
            yield stretch.span()


def _hit(text: str, start: int, end: int) -> Hit | None:
    """The card number the run at ``start:end`` is, or starts with when only a security code
    or an expiry date follows it (`_TAILS`), if any."""
    run = text[start:end]
    groups = _SPLIT.split(run)
    gaps = [gap.strip(" \t\u00a0") or " " for gap in _SPLIT.findall(run)]
    for count in range(len(groups), 2, -1):
        layout = tuple(len(group) for group in groups[:count])
        digits = "".join(groups[:count])
        boxes = set(layout) == {1} and 13 <= count <= 19  # a form's boxes, a digit each
        if not (layout in LAYOUTS or boxes) or tuple(len(g) for g in groups[count:]) not in _TAILS:
            continue
        marks = {"\n" if "\n" in gap else gap for gap in gaps[: count - 1]}
        if luhn(digits) and (name := issuer(digits)) and _taken(text, start, marks, boxes):
            return Hit("card", name, digits[-4:], fingerprint(digits), start)
    return None


def _taken(text: str, start: int, marks: set[str], boxes: bool) -> bool:
    """Whether a number with these separators is taken: one of `_UNLABELLED` throughout and
    no label of something else before it, or a card word right before it ("Card no. "), which
    a number in boxes, a digit each, always needs."""
    label, adjacent, carded = label_before(text, start)
    if len(marks) == 1 and marks <= _UNLABELLED and not boxes:
        return label is None or label in POSITIVE
    return label in POSITIVE and adjacent and carded
