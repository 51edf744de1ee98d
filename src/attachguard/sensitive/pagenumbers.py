"""The numbers page and slide number fields show, which the viewer computes as it draws them.

A field's stored result is what the last writer drew ("1"); Word and PowerPoint draw the page's
or slide's own number instead. A document may start its numbering anywhere: a section's
``w:pgNumType w:start="4111"`` makes its first page 4111, a presentation's ``firstSlideNum``
its first slide's number (red team 117: "Card: {PAGE} 1111 1111 1111" in a header, a slide
number field before "1111 1111 1111", each showing a card number).

`numbers` gives, for the parts where a field's number differs from 1, the number it shows: in
a presentation, each slide's (the presentation's first number plus the slide's place in its
list); in a Word document, the first page's of each section that sets a start, for the
headers and footers that section shows (its own or those it carries on from the one before)
and, for the first section, the body. Pages after a section's first are not read (their
numbers count on from it), nor a later section's own number in the body; a header shown by
sections of different starts is read with the first.
"""

from __future__ import annotations

from typing import Any

from attachguard.formats.opc import READ_ERRORS, Package
from attachguard.sensitive import lists, markup

__all__ = ["numbers"]

_RELATIONSHIP_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships id"
_MOST = 10**9  # a start past Word's and PowerPoint's own limits is read as none


def numbers(package: Package) -> dict[str, int]:
    """{part name: the number its page or slide number fields show}, for numbers other than 1."""
    main = package.main
    if main is None:
        return {}
    try:
        data = package.read(main.name)
    except READ_ERRORS:  # a damaged main part: its own reading reports it
        return {}
    if ".presentationml." in main.content_type:
        reader: _Slides | _Sections = _Slides()
    elif ".wordprocessingml." in main.content_type:
        reader = _Sections()
    else:
        return {}
    if not markup.parses(data, reader.start, reader.end):
        return {}
    targets = package.relationships_of(main.name)
    found: dict[str, int] = {}
    for relationship_id, number in reader.numbers:
        for relationship in targets.get(relationship_id, []) if relationship_id else []:
            if relationship.part and not relationship.external:
                found.setdefault(relationship.part, number)
    if reader.body is not None:
        found[main.name] = reader.body
    return {part: number for part, number in found.items() if number != 1}


def _start(value: str) -> int | None:
    """A start number as Word and PowerPoint read one: ASCII digits ("²" is a digit to
    `str.isdigit`, not to ``int``; review 117)."""
    number = lists.integer(value, -1)
    return number if 0 <= number < _MOST else None


class _Slides:
    """A presentation's slides in order (``p:sldIdLst``), numbered from ``firstSlideNum``."""

    def __init__(self) -> None:
        self.first = 1
        self.numbers: list[tuple[str, int]] = []  # (relationship id, number)
        self.body: int | None = None

    def start(self, name: str, attrs: dict[str, Any]) -> None:
        local = name.rpartition(" ")[2]
        if local == "presentation":
            first = _start(attrs.get("firstSlideNum", ""))
            self.first = self.first if first is None else first
        elif local == "sldId":
            self.numbers.append((attrs.get(_RELATIONSHIP_ID, ""), self.first + len(self.numbers)))

    def end(self, name: str) -> None:
        pass


class _Sections:
    """A Word document's sections (``w:sectPr``): the headers and footers each shows (its own,
    or of each kind the one before it showed: Word carries them on), and the number its first
    page has when it sets one (``w:pgNumType w:start``)."""

    def __init__(self) -> None:
        self.numbers: list[tuple[str, int]] = []
        self.body: int | None = None  # the first section's first page
        self.sections = 0
        self.references: dict[tuple[str, str], str] = {}  # (kind, type) → id, as inherited
        self.first: int | None = None
        self.depth = 0  # open sections: one inside another is a tracked change's former one

    def start(self, name: str, attrs: dict[str, Any]) -> None:
        local = name.rpartition(" ")[2]
        if local == "sectPr":
            self.depth += 1
            if self.depth == 1:
                self.first = None
        elif self.depth != 1:
            return
        elif local in ("headerReference", "footerReference"):
            kind = next((v for k, v in attrs.items() if k.rpartition(" ")[2] == "type"), "")
            self.references[local, kind.strip() or "default"] = attrs.get(_RELATIONSHIP_ID, "")
        elif local == "pgNumType":
            start = next((v for k, v in attrs.items() if k.rpartition(" ")[2] == "start"), "")
            self.first = _start(start)

    def end(self, name: str) -> None:
        if name.rpartition(" ")[2] != "sectPr":
            return
        self.depth -= 1
        if self.depth:
            return
        self.sections += 1
        if self.first is None:
            return
        if self.sections == 1:
            self.body = self.first
        self.numbers += [(reference, self.first) for reference in self.references.values()]
