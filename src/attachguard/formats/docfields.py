"""Fields of a Word 97-2003 document (.doc), assembled from its streams as Word assembles them.

A field in the document text is character 0x13 (begin), the instruction, 0x14 (separator), the
result Word last computed, 0x15 (end); a field inside another field's instruction stands there
for its result (``{ {QUOTE 68 68 69 "DDE"} AUTO cmd }`` is a DDEAUTO field). Text is stored
8-bit or UTF-16LE, piece by piece: dropping NUL bytes reads both the same way for the ASCII
keywords that matter, as oletools' msodde does. Unlike msodde, which restarts at every begin
character (so the outer field of a nested pair was never seen) and compared UTF-16 text after
a leading blank with the blank's NUL still in front (so " DDEAUTO" in a Unicode document was
missed), `doc_fields` keeps a stack of open fields and gives every closed field's instruction
with its nested fields' results in place.

Like msodde, every stream is read byte by byte in document order (`doc_fields`: the text of
fast-saved or damaged files lies anywhere); and the document's text is also read as Word reads
it, from its piece table (`text_fields` over `formats.wordtext`): a UTF-16 character such as
U+AC13 holds a byte 0x13 that the byte reading takes for a field's begin, which hid a field
from it. Instructions are kept up to
`MAX_INSTRUCTION` characters (blanks before the field type, which Word skips, not counted),
fields nested up to `MAX_DEPTH` deep: past it the OLDEST open field is forgotten, so begin
characters that never close (stray bytes, or ones planted to overflow the stack) cannot push the
innermost fields, the ones that close into a DDE instruction, out of sight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["MAX_DEPTH", "MAX_INSTRUCTION", "DocField", "doc_fields", "text_fields"]

MAX_INSTRUCTION = 2000
MAX_DEPTH = 20
_EVENTS = re.compile("[\x13\x14\x15]")
# The field types whose result is text a nested field can hand its parent; anything else at
# the start of an instruction is noise in binary data (pictures hold field characters by chance,
# about one in 85 bytes), not a field Word computes.
_TEXT_FIELD = re.compile(
    r"\s*(?:QUOTE|REF|DOCVARIABLE|DOCPROPERTY|IF|SET|ASK|FILLIN|MERGEFIELD|AUTOTEXT|SYMBOL|"
    r"INCLUDETEXT|FORMTEXT|=)(?:\s|$)",
    re.IGNORECASE,
)


@dataclass
class DocField:
    """One closed field: its ``instruction`` as Word reads it (nested results in place), and
    whether its type is ``computed`` by a nested field (the instruction begins with one)."""

    instruction: str
    computed: bool = False


@dataclass
class _Open:
    instruction: list[str] = field(default_factory=list)
    result: list[str] = field(default_factory=list)
    separated: bool = False
    computed: bool = False
    size: int = 0

    def add(self, text: str) -> None:
        part = self.result if self.separated else self.instruction
        if part is self.instruction and not self.size:
            text = text.lstrip()  # Word skips blanks before the type: they cannot pad it away
        if self.size < MAX_INSTRUCTION and text:
            part.append(text[: MAX_INSTRUCTION - self.size])
            self.size += len(part[-1])


def doc_fields(stream: bytes) -> list[DocField]:
    """Every closed field in one stream of a Word document read byte by byte, NUL bytes
    dropped, in the order they close."""
    return text_fields(stream.replace(b"\x00", b"").decode("latin-1"))


def text_fields(text: str) -> list[DocField]:
    """Every closed field in ``text`` (characters 0x13, 0x14, 0x15 its marks), in the order
    they close: the document's text as its piece table gives it (`formats.wordtext`)."""
    stack: list[_Open] = []
    found: list[DocField] = []
    pos = 0
    for match in _EVENTS.finditer(text):
        if stack and match.start() > pos:
            stack[-1].add(text[pos : match.start()])
        pos = match.end()
        char = match.group()
        if char == "\x13":
            if len(stack) >= MAX_DEPTH:
                del stack[0]
            stack.append(_Open())
        elif char == "\x14" and stack:
            stack[-1].separated = True
        elif char == "\x15" and stack:
            _close(stack, found)
    return found


def _close(stack: list[_Open], found: list[DocField]) -> None:
    """Close the innermost field; its result stands in its parent's instruction."""
    done = stack.pop()
    instruction = "".join(done.instruction)
    found.append(DocField(instruction, done.computed))
    if not stack or stack[-1].separated:
        return
    parent = stack[-1]
    if not "".join(parent.instruction).strip() and _TEXT_FIELD.match(instruction):
        parent.computed = True
    parent.add("".join(done.result))
