"""The Amazon Rekognition content-moderation taxonomy (model 7): top level (L1) → second (L2).

Policies name categories by their L1 or L2 name; a label matches a blocked category when its own
name, its parent's name or its L1 is that category, so a deeper label (L3 "Pills" under
"Products") is caught by a rule on "Products" or on "Drugs & Tobacco". Matching is never on the
exact leaf only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MODEL = "7.0"
SEP = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "  # how labels are shown

TAXONOMY: dict[str, tuple[str, ...]] = {
    "Explicit": ("Explicit Nudity", "Explicit Sexual Activity", "Sex Toys"),
    "Non-Explicit Nudity of Intimate parts and Kissing": (
        "Non-Explicit Nudity",
        "Obstructed Intimate Parts",
        "Kissing on the Lips",
    ),
    "Swimwear or Underwear": ("Female Swimwear or Underwear", "Male Swimwear or Underwear"),
    "Violence": ("Weapons", "Graphic Violence"),
    "Visually Disturbing": ("Death and Emaciation", "Crashes"),
    "Drugs & Tobacco": ("Products", "Drugs & Tobacco Paraphernalia & Use"),
    "Alcohol": ("Alcohol Use", "Alcoholic Beverages"),
    "Rude Gestures": ("Middle Finger",),
    "Gambling": (),
    "Hate Symbols": ("Nazi Party", "White Supremacy", "Extremist"),
}

# L2 name → its L1 name.
PARENT: dict[str, str] = {l2: l1 for l1, l2s in TAXONOMY.items() for l2 in l2s}

CATEGORIES: frozenset[str] = frozenset(TAXONOMY) | frozenset(PARENT)


@dataclass(frozen=True)
class Label:
    """One moderation label as a backend reports it; ``confidence`` is 0..100 like Rekognition's.

    ``parent`` is the label's ParentName ("" at the top level)."""

    name: str
    parent: str
    confidence: float

    def path(self) -> tuple[str, ...]:
        """The label's ancestry, top first, as far as the taxonomy and ParentName tell:
        ("Drugs & Tobacco", "Products", "Pills")."""
        if self.name in TAXONOMY:
            return (self.name,)
        if self.name in PARENT:
            return (PARENT[self.name], self.name)
        if self.parent in PARENT:  # an L3 label: its parent is an L2
            return (PARENT[self.parent], self.parent, self.name)
        if self.parent in TAXONOMY:  # an L2 this table does not know yet
            return (self.parent, self.name)
        return (self.parent, self.name) if self.parent else (self.name,)

    def display(self) -> str:
        """The path for people: "Drugs & Tobacco › Products › Pills"."""  # noqa: RUF002
        return SEP.join(self.path())


def is_category(name: str) -> bool:
    return name in CATEGORIES


def governing_rule(label: Label, rules: Iterable[str]) -> str | None:
    """The most specific category in ``rules`` that ``label`` falls under (its L2 before its
    L1), else None: a rule on "Products" governs "Pills" even when "Drugs & Tobacco" has one."""
    names = set(rules)
    for category in reversed(label.path()):
        if category in names:
            return category
    return None
