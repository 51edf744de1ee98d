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

from attachguard.formats.wordfields import NESTED, computed_type

__all__ = ["MAX_DEPTH", "MAX_INSTRUCTION", "DocField", "doc_fields", "text_fields"]

MAX_INSTRUCTION = 2000
MAX_DEPTH = 20
_EVENTS = re.compile("[\x13\x14\x15]")
# Word's field types ([MS-DOC] 2.9.90, flt). In a stream read byte by byte, a nested "field"
# whose instruction starts with none of them is noise in binary data (pictures hold field
# characters by chance, about one in 85 bytes), not a field Word computes; in the document's
# text (its piece table) every nested field counts, a bookmark's name ({ {bm} }: a REF) too.
_FIELD_TYPE = re.compile(
    r"\s*(?:=|ADDRESSBLOCK|ADVANCE|ASK|AUTHOR|AUTONUM|AUTONUMLGL|AUTONUMOUT|AUTOTEXT|"
    r"AUTOTEXTLIST|BARCODE|BIBLIOGRAPHY|BIDIOUTLINE|CITATION|COMMENTS|COMPARE|CONTROL|"
    r"CREATEDATE|DATA|DATABASE|DATE|DDE|DDEAUTO|DISPLAYBARCODE|DOCPROPERTY|DOCVARIABLE|"
    r"EDITTIME|EMBED|EQ|FILENAME|FILESIZE|FILLIN|FORMCHECKBOX|FORMDROPDOWN|FORMTEXT|FTNREF|"
    r"GLOSSARY|GOTOBUTTON|GREETINGLINE|HTMLCONTROL|HYPERLINK|IF|IMPORT|INCLUDE|INCLUDEPICTURE|"
    r"INCLUDETEXT|INDEX|INFO|KEYWORDS|LASTSAVEDBY|LINK|LISTNUM|MACROBUTTON|MERGEBARCODE|"
    r"MERGEFIELD|MERGEREC|MERGESEQ|NEXT|NEXTIF|NOTEREF|NUMCHARS|NUMPAGES|NUMWORDS|OCX|PAGE|"
    r"PAGEREF|PRINT|PRINTDATE|PRIVATE|QUOTE|RD|REF|REVNUM|SAVEDATE|SECTION|SECTIONPAGES|SEQ|"
    r"SET|SHAPE|SKIPIF|STYLEREF|SUBJECT|SYMBOL|TA|TC|TEMPLATE|TIME|TITLE|TOA|TOC|USERADDRESS|"
    r"USERINITIALS|USERNAME|XE)(?:[\s\\\"]|$)",
    re.IGNORECASE,
)


@dataclass
class DocField:
    """One closed field: its ``instruction`` as Word reads it (nested results in place), and
    whether its type is ``computed`` by a nested field (`wordfields.computed_type`, the rule
    for .docx and RTF fields: ``{ {TITLE} cmd }``, ``{ "{QUOTE 68 68 69}AUTO" }``)."""

    instruction: str
    computed: bool = False


@dataclass
class _Open:
    instruction: list[str] = field(default_factory=list)
    result: list[str] = field(default_factory=list)
    # the instruction with NESTED where a nested field stands, for its type
    typed: list[str] = field(default_factory=list)
    separated: bool = False
    size: int = 0
    typed_size: int = 0

    def add(self, text: str, nested: bool = False) -> None:
        """Text, or a ``nested`` field's result, to the instruction or the result."""
        part = self.result if self.separated else self.instruction
        if part is self.instruction and not self.size:
            text = text.lstrip()  # Word skips blanks before the type: they cannot pad it away
        if self.size < MAX_INSTRUCTION and text:
            part.append(text[: MAX_INSTRUCTION - self.size])
            self.size += len(part[-1])
        if part is self.instruction and self.typed_size < MAX_INSTRUCTION:
            typed = NESTED if nested else text.replace(NESTED, "\ufffd")
            self.typed.append(typed[: MAX_INSTRUCTION - self.typed_size])
            self.typed_size += len(self.typed[-1])


def doc_fields(stream: bytes) -> list[DocField]:
    """Every closed field in one stream of a Word document read byte by byte, NUL bytes
    dropped, in the order they close (a nested field only counts if it starts with a field
    type: see `_FIELD_TYPE`)."""
    return text_fields(stream.replace(b"\x00", b"").decode("latin-1"), noisy=True)


def text_fields(text: str, noisy: bool = False) -> list[DocField]:
    """Every closed field in ``text`` (characters 0x13, 0x14, 0x15 its marks), in the order
    they close: the document's text as its piece table gives it (`formats.wordtext`), or a
    ``noisy`` stream read byte by byte."""
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
            _close(stack, found, noisy)
    return found


def _close(stack: list[_Open], found: list[DocField], noisy: bool) -> None:
    """Close the innermost field; its result stands in its parent's instruction."""
    done = stack.pop()
    instruction = "".join(done.instruction)
    found.append(DocField(instruction, computed_type("".join(done.typed), noisy)))
    if not stack or stack[-1].separated:
        return
    nested = not noisy or _FIELD_TYPE.match(instruction) is not None
    stack[-1].add("".join(done.result), nested)
