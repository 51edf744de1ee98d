"""The sensitive engine's findings: distinct numbers per class, over the passages of one item,
named by class, issuer and last four characters only (see `engines.sensitive`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from attachguard.codes import Action, Code
from attachguard.engines.base import finding
from attachguard.report import Finding
from attachguard.sensitive import NOUNS, Hit, Kind, find
from attachguard.sensitive.passages import Passage

if TYPE_CHECKING:
    from attachguard.engines.sensitive import ClassRule

_LISTED = 3  # numbers named in one finding; the rest are counted


def tally(
    passages: list[Passage],
    classes: Mapping[Kind, ClassRule],
    codes: Mapping[Kind, Code],
    engine: str,
) -> tuple[list[Finding], dict[str, int]]:
    """One finding per class with at least its ``min_count`` distinct numbers (for classes
    whose action is reject), and the count of distinct numbers per class (for the report)."""
    seen: dict[Kind, dict[str, tuple[Hit, str | None]]] = {kind: {} for kind in classes}
    for passage in passages:
        for hit in find(passage.text, classes, passage.lenient):
            if hit.digest not in seen[hit.kind]:
                seen[hit.kind][hit.digest] = (hit, _where(passage, hit))
    findings = []
    for kind, rule in classes.items():
        found = list(seen[kind].values())
        if rule.action is Action.REJECT and found and len(found) >= rule.min_count:
            findings.append(
                finding(engine, codes[kind], _message(kind, found), location=found[0][1])
            )
    return findings, {kind: len(hits) for kind, hits in seen.items()}


def _message(kind: Kind, found: list[tuple[Hit, str | None]]) -> str:
    """ "a payment card number (Visa, ending 4242)", or "3 payment card numbers (Visa ending
    4242, Mastercard ending 4444, Visa ending 1881)", "... and 2 more)"."""
    if len(found) == 1:
        return found[0][0].describe()
    named = ", ".join(f"{hit.issuer} ending {hit.last4}" for hit, _ in found[:_LISTED])
    more = f" and {len(found) - _LISTED} more" if len(found) > _LISTED else ""
    return f"{len(found)} {NOUNS[kind][1]} ({named}{more})"


def _where(passage: Passage, hit: Hit) -> str | None:
    """Where the hit is: the passage's place, or for a whole text file the line it is on."""
    if passage.lines and "\n" in passage.text.rstrip("\n"):
        return f"line {hit.line}"
    return passage.where
