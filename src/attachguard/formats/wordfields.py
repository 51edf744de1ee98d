"""Word fields as Word assembles them, read from one WordprocessingML part.

`field_instructions` reads one part (the document, a header, a footer, footnotes, endnotes,
comments, the glossary) with the standard library's expat parser: elements and attributes are
matched by namespace URI (transitional or strict OOXML, whatever the prefix), and the parser
decodes entities and CDATA. Every field is rebuilt in document order, as Word does:

- complex fields: ``w:fldChar`` begin, separate, end; the instruction is the ``w:instrText`` and
  ``w:delInstrText`` between begin and separate (or end), across runs and paragraphs, several in
  one run, through whatever holds the runs (``w:ins``, ``w:hyperlink``, ``w:smartTag``,
  ``w:sdt``, ``w:customXml``, tables; both branches of ``mc:AlternateContent``, so a text box
  is read twice);
- simple fields: ``w:fldSimple/@w:instr``, nested or not; what a ``w:fldSimple`` holds is its
  result;
- nested fields: a field in another field's instruction is reported on its own, and the outer
  instruction holds `NESTED` where Word puts the inner field's result. That result is part of
  the outer instruction, so Word writes it as ``w:instrText`` (``{TC "{SEQ A}-{SEQ B}"}``):
  instruction text in a nested field's result belongs to the field still reading its
  instruction, and `NESTED` stands for it. Fields in a result (the links of a table of
  contents) are reported too.

With tracked changes in the part, fields are read three times, as Word can show them: changes
marked up, accepted ("final") and rejected ("original"); an instruction that reads differently
in one of them is reported once for each reading.

`classify_field` names the threat in one instruction: DDE for DDE and DDEAUTO fields (they start
a program), EXTERNAL_LINK for INCLUDEPICTURE, INCLUDETEXT (INCLUDE), IMPORT and LINK fields, which
load a file from outside the document when Word updates them. Every target counts, a relative
path too: see `_where`. RD and DATABASE fields read a file too, and count when it is on another
machine (or computed). HYPERLINK (it needs a click), PAGE, DATE, MERGEFIELD, TOC, REF... pass.

Ambiguous (`FieldInstruction.ambiguity`; the text collected so far is still returned): an end
or separator without a beginning, a field never closed, two separators, a field character of
unknown type, a simple field without ``w:instr``, instruction text outside any field's
instruction (also in the result of a field nested in a field's type: readers that join every
``w:instrText`` read another type there), ordinary text inside one, a field type computed by a
nested field, a field that begins inside a simple field and ends outside it, or one split
across a text box or non-Word markup that readers may skip (an ``mc:AlternateContent`` branch,
an ignorable element).

Limits: `MAX_FIELDS` fields, `MAX_INSTRUCTION` characters an instruction, `MAX_DEPTH` nested
fields; past one, `FieldLimitError`. Malformed XML, or a DTD (Office never writes one, and its
entities could spell a keyword differently for different readers), raises
``ElementTree.ParseError``. Not read: rows marked inserted or deleted (``w:trPr``), other parts
(the caller passes each one), and what evaluation computes (QUOTE character codes, IF branches,
SET bookmarks): a computed field type is ambiguous, a computed target an external link.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal
from xml.etree import ElementTree

from attachguard.formats.targets import (
    clicked_harm,
    connection_places,
    database_server,
    on_a_share,
)

__all__ = [
    "EXCERPT",
    "MAX_DEPTH",
    "MAX_FIELDS",
    "MAX_INSTRUCTION",
    "NESTED",
    "FieldInstruction",
    "FieldLimitError",
    "FieldThreat",
    "ThreatKind",
    "classify_field",
    "computed_type",
    "field_instructions",
    "place_afar",
]

MAX_FIELDS = 20_000  # in one part; a long manual with an index and cross-references has a few
MAX_INSTRUCTION = 65_536  # characters; the IF fields of a mail merge run to a few thousand
MAX_DEPTH = 32  # real documents nest three deep (a TOC's HYPERLINK holding a PAGEREF)
_MAX_TOKENS = 16 * MAX_FIELDS  # field characters and instruction pieces, all fields together
NESTED = "\uffff"  # a nested field's place in an instruction; XML text cannot hold U+FFFF
EXCERPT = 60  # characters of an instruction or a target shown in a message

Reading = Literal["markup", "final", "original"]
_INSERTED, _DELETED = 1, 2
# Tracked changes shown, accepted, rejected: the revisions each reading leaves out.
_READINGS: tuple[tuple[Reading, int], ...] = (
    ("markup", 0),
    ("final", _DELETED),
    ("original", _INSERTED),
)
_WORD_NS = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # strict OOXML, which Word opens too
)
_LOCAL_ROLES = {
    "fldChar": "char",
    "instrText": "instr",
    "delInstrText": "delinstr",
    "t": "text",
    "delText": "text",
    "fldSimple": "simple",
    "ins": "ins",
    "moveTo": "ins",
    "del": "del",
    "moveFrom": "del",
}
_ROLES = {f"{{{ns}}}{local}": role for ns in _WORD_NS for local, role in _LOCAL_ROLES.items()}
_TRANSITIONAL, _STRICT = _WORD_NS
_ATTRS = {
    name: (f"{{{_TRANSITIONAL}}}{name}", f"{{{_STRICT}}}{name}")
    for name in ("fldCharType", "instr")
}
_CHAR_KINDS = {"begin": "begin", "separate": "separate", "end": "end"}

_UNCLOSED = "field that is never closed"
_STRAY_END = "field end without a beginning"
_STRAY_SEPARATOR = "field separator outside any field"
_TWO_SEPARATORS = "field with two separators"
_OUTSIDE = "field instruction text outside any field"
_TEXT_INSIDE = "ordinary text inside a field instruction"
_ACROSS_MARKUP = "field split across a text box or markup that some readers skip"
_ACROSS_SIMPLE = "field that begins inside a simple field and ends outside it"
_COMPUTED = "field whose type is computed by a nested field"
_ODD_CHAR = "field marker of unknown type"
_NO_INSTR = "simple field without an instruction"


class FieldLimitError(ValueError):
    """More fields, longer instructions or deeper nesting than `MAX_FIELDS`, `MAX_INSTRUCTION`
    or `MAX_DEPTH`. A ValueError, so that a caller treating ValueError as damage fails closed."""


@dataclass(frozen=True)
class FieldInstruction:
    """One field's instruction as Word reads it.

    ``text`` has `NESTED` where a nested field's result goes (offsets in ``nested``); ``number``
    is the field's place among the part's fields, from 1 (0: instruction text outside any
    field); ``depth`` counts the fields around it; ``simple`` marks a ``w:fldSimple``;
    ``reading`` says how tracked changes were taken; ``ambiguity`` says why readers may disagree
    about this field (None: they cannot)."""

    text: str
    number: int
    depth: int = 0
    simple: bool = False
    reading: Reading = "markup"
    ambiguity: str | None = None

    @property
    def nested(self) -> tuple[int, ...]:
        return tuple(i for i, char in enumerate(self.text) if char == NESTED)


class ThreatKind(StrEnum):
    """Named after the finding codes an engine reports them as."""

    DDE = "DDE"
    EXTERNAL_LINK = "EXTERNAL_LINK"


@dataclass(frozen=True)
class FieldThreat:
    """Why a field is dangerous: ``field`` is its type ("DDEAUTO"), ``target`` the file a
    fetching field loads, ``message`` a sentence for a support lead."""

    kind: ThreatKind
    field: str
    message: str
    target: str | None = None


# -- reading the XML ----------------------------------------------------------------------------


# A token: kind, value, flags (_INSERTED, _DELETED), scope (the innermost non-Word element
# around it, 0 for none), number (begin and simple tokens: the field's place in the part).
# Plain tuples: building named tuples took a third of the time on a 2 MB part.
_Token = tuple[str, str, int, int, int]
_Start = Callable[[dict[str, str]], None]
_End = Callable[[], None]


class _Reader:
    """Target of the XML parser: the part's field tokens in document order. Building no tree
    keeps memory flat and parses in under half of iterparse's time, and a target sees
    the DTD before its entities."""

    def __init__(self) -> None:
        self.tokens: list[_Token] = []
        self._fields = 0
        self._revisions = [0, 0]  # inserted, deleted containers around the current element
        self._flags = 0
        self._scopes = [0]  # ids of the non-Word elements around the current one
        self._scope_count = 0
        self._instr: list[str] | None = None  # the instruction text being read
        self._instr_size = self._instr_flags = 0
        handlers: dict[str, tuple[_Start | None, _End | None]] = {
            "char": (self._char, None),
            "instr": (lambda _: self._open_instr(0), self._close_instr),
            "delinstr": (lambda _: self._open_instr(_DELETED), self._close_instr),
            "text": (self._text, None),
            "simple": (self._simple, lambda: self._emit("close")),
            "ins": (lambda _: self._revise(0, 1), lambda: self._revise(0, -1)),
            "del": (lambda _: self._revise(1, 1), lambda: self._revise(1, -1)),
        }
        self._by_tag = {tag: handlers[role] for tag, role in _ROLES.items()}
        self._word: tuple[_Start | None, _End | None] = (None, None)  # paragraphs, runs...
        self._foreign: tuple[_Start | None, _End | None] = (self._open_scope, self._close_scope)

    def doctype(self, *_: object) -> None:
        raise ElementTree.ParseError("DTD in a WordprocessingML part")

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        pair = self._by_tag.get(tag)
        if pair is None:
            word = tag[1:].partition("}")[0] in _WORD_NS
            pair = self._by_tag[tag] = self._word if word else self._foreign
        if pair[0] is not None:
            pair[0](attrib)

    def end(self, tag: str) -> None:
        close = self._by_tag[tag][1]
        if close is not None:
            close()

    def data(self, text: str) -> None:
        if self._instr is not None:
            self._instr_size += len(text)
            if self._instr_size > MAX_INSTRUCTION:
                raise FieldLimitError(f"field instruction longer than {MAX_INSTRUCTION} characters")
            self._instr.append(text)

    def close(self) -> None:
        return None

    def _emit(self, kind: str, value: str = "", flags: int = 0, number: int = 0) -> None:
        self.tokens.append((kind, value, flags | self._flags, self._scopes[-1], number))
        if len(self.tokens) > _MAX_TOKENS:
            raise FieldLimitError(f"more than {_MAX_TOKENS} field parts")

    def _count(self) -> int:
        self._fields += 1
        if self._fields > MAX_FIELDS:
            raise FieldLimitError(f"more than {MAX_FIELDS} fields")
        return self._fields

    def _char(self, attrib: dict[str, str]) -> None:
        kind = _CHAR_KINDS.get(_word_attr(attrib, "fldCharType") or "", "odd")
        number = self._count() if kind == "begin" else 0
        self._emit(kind, _ODD_CHAR if kind == "odd" else "", number=number)

    def _simple(self, attrib: dict[str, str]) -> None:
        instr = _word_attr(attrib, "instr")
        if instr is not None and len(instr) > MAX_INSTRUCTION:
            raise FieldLimitError(f"field instruction longer than {MAX_INSTRUCTION} characters")
        self._emit("simple", instr or "", number=self._count())
        if instr is None:
            self._emit("odd", _NO_INSTR)

    def _text(self, _: dict[str, str]) -> None:
        # Whether ordinary text sits in an instruction matters, not how much: one token a stretch.
        last = self.tokens[-1] if self.tokens else None
        if last is None or last[:4] != ("text", "", self._flags, self._scopes[-1]):
            self._emit("text")

    def _open_instr(self, flags: int) -> None:
        self._instr, self._instr_size, self._instr_flags = [], 0, flags

    def _close_instr(self) -> None:
        self._emit("instr", "".join(self._instr or ()), self._instr_flags)
        self._instr = None

    def _revise(self, which: int, step: int) -> None:
        self._revisions[which] += step
        inserted, deleted = self._revisions
        self._flags = (_INSERTED if inserted else 0) | (_DELETED if deleted else 0)

    def _open_scope(self, _: dict[str, str]) -> None:
        self._scope_count += 1
        self._scopes.append(self._scope_count)

    def _close_scope(self) -> None:
        self._scopes.pop()


def _word_attr(attrib: dict[str, str], name: str) -> str | None:
    transitional, strict = _ATTRS[name]
    value = attrib.get(transitional)
    return attrib.get(strict) if value is None else value


# -- assembling fields --------------------------------------------------------------------------


@dataclass(slots=True)
class _Frame:
    """A field being assembled."""

    index: int  # its first token: document order
    number: int
    depth: int
    scope: int
    simple: bool = False
    parts: list[str] = field(default_factory=list)
    size: int = 0
    in_result: bool = False  # past the separator: what follows is the result
    ambiguity: str | None = None
    # instruction text in the results of fields nested in this one's instruction: ambiguous
    # only if this field's type turns out to be computed (see `_Assembler._emit`)
    held: list[_Frame] = field(default_factory=list)
    nested_result: bool = False  # instruction text held by the field whose instruction it is

    def doubt(self, why: str) -> None:
        self.ambiguity = self.ambiguity or why


class _Assembler:
    """One reading of the tokens, with the stack of open fields Word keeps."""

    def __init__(self, reading: Reading, drop: int) -> None:
        self.reading, self.drop = reading, drop
        self.stack: list[_Frame] = []
        self.stray: _Frame | None = None  # instruction text outside any field
        self.found: list[tuple[int, FieldInstruction]] = []
        self._handlers: dict[str, Callable[[int, str, int, int], None]] = {
            "begin": self._begin,
            "simple": self._begin_simple,
            "separate": self._separate,
            "end": self._end,
            "close": self._close_simple,
            "instr": self._instr,
            "text": self._text,
            "odd": self._odd,
        }

    def run(self, tokens: list[_Token]) -> list[tuple[int, FieldInstruction]]:
        handlers = self._handlers
        for index, (kind, value, flags, scope, number) in enumerate(tokens):
            if flags & self.drop:
                continue
            if self.stray is not None and kind != "instr" and kind != "text":
                self._end_stray()
            handlers[kind](index, value, scope, number)
        if self.stray is not None:
            self._end_stray()
        while self.stack:
            frame = self.stack.pop()
            frame.doubt(_UNCLOSED)
            self._emit(frame)
        return self.found

    def _coding(self) -> _Frame | None:
        """The field whose instruction is being read, if any."""
        top = self.stack[-1] if self.stack else None
        return top if top is not None and not top.in_result else None

    def _reading_instruction(self) -> _Frame | None:
        """The innermost field still reading its instruction: a field nested in it is in
        its instruction, result and all."""
        return next((frame for frame in reversed(self.stack) if not frame.in_result), None)

    def _complex(self) -> _Frame | None:
        top = self.stack[-1] if self.stack else None
        return top if top is not None and not top.simple else None

    def _begin(self, index: int, _: str, scope: int, number: int) -> None:
        self._push(_Frame(index, number, len(self.stack), scope))

    def _begin_simple(self, index: int, instr: str, scope: int, number: int) -> None:
        frame = _Frame(index, number, len(self.stack), scope, simple=True, in_result=True)
        self._push(frame)
        self._add(frame, instr)

    def _push(self, frame: _Frame) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise FieldLimitError(f"fields nested more than {MAX_DEPTH} deep")
        if (parent := self._coding()) is not None:
            self._add(parent, NESTED)
        self.stack.append(frame)

    def _instr(self, index: int, text: str, scope: int, _: int) -> None:
        frame = self._coding()
        if frame is None:
            if self.stray is None:
                self.stray = _Frame(index, 0, len(self.stack), scope, ambiguity=_OUTSIDE)
                if (owner := self._reading_instruction()) is not None:
                    owner.held.append(self.stray)  # a nested field's result, as Word writes it
                    self.stray.nested_result = True
            frame = self.stray
        self._touch(frame, scope)
        self._add(frame, text)

    def _end_stray(self) -> None:
        stray, self.stray = self.stray, None
        if stray is not None and not stray.nested_result:
            self._emit(stray)

    def _text(self, *_: object) -> None:
        if (frame := self._coding()) is not None:
            frame.doubt(_TEXT_INSIDE)

    def _separate(self, index: int, _: str, scope: int, __: int) -> None:
        frame = self._complex()
        if frame is None:
            self._emit(_Frame(index, 0, len(self.stack), scope, ambiguity=_STRAY_SEPARATOR))
            return
        self._touch(frame, scope)
        if frame.in_result:
            frame.doubt(_TWO_SEPARATORS)
        frame.in_result = True

    def _end(self, index: int, _: str, scope: int, __: int) -> None:
        frame = self._complex()
        if frame is None:
            self._emit(_Frame(index, 0, len(self.stack), scope, ambiguity=_STRAY_END))
            return
        self._touch(frame, scope)
        self._emit(self.stack.pop())

    def _close_simple(self, *_: object) -> None:
        """The end of a ``w:fldSimple`` element closes what began inside it."""
        while any(frame.simple for frame in self.stack):
            frame = self.stack.pop()
            if not frame.simple:
                frame.doubt(_ACROSS_SIMPLE)
            self._emit(frame)
            if frame.simple:
                return

    def _odd(self, index: int, why: str, scope: int, _: int) -> None:
        if self.stack:
            self.stack[-1].doubt(why)
        else:
            self._emit(_Frame(index, 0, 0, scope, ambiguity=why))

    def _touch(self, frame: _Frame, scope: int) -> None:
        # A reader that skips the markup around one piece of a field reads another field.
        if scope != frame.scope:
            frame.doubt(_ACROSS_MARKUP)

    def _add(self, frame: _Frame, text: str) -> None:
        frame.size += len(text)
        if frame.size > MAX_INSTRUCTION:
            raise FieldLimitError(f"field instruction longer than {MAX_INSTRUCTION} characters")
        frame.parts.append(text)

    def _emit(self, frame: _Frame) -> None:
        text = "".join(frame.parts)
        computed = computed_type(text)
        why = frame.ambiguity or (_COMPUTED if computed else None)
        instruction = FieldInstruction(
            text, frame.number, frame.depth, frame.simple, self.reading, why
        )
        self.found.append((frame.index, instruction))
        if computed:
            # A nested result in a field's type ({DDE{QUOTE x}AUTO}): readers that join every
            # w:instrText, rather than Word's stack, read another type there.
            for held in frame.held:
                self._emit(held)


def field_instructions(xml: bytes) -> list[FieldInstruction]:
    """Every field instruction in one WordprocessingML part, in document order (see the module
    docstring). Raises ElementTree.ParseError for malformed XML or a DTD, FieldLimitError past
    a limit."""
    reader = _Reader()
    # expat, with the reader refusing any DTD before an entity is defined: no entity expansion
    parser = ElementTree.XMLParser(target=reader)  # noqa: S314
    try:
        parser.feed(xml)
        parser.close()
    except LookupError as exc:  # an encoding expat does not know (found by the fuzz harness)
        raise ElementTree.ParseError(f"unknown encoding: {exc}") from None
    marks = 0
    for token in reader.tokens:
        marks |= token[2]
    found: dict[tuple[int, str, str | None], tuple[int, FieldInstruction]] = {}
    for reading, drop in _READINGS:
        if drop and not marks & drop:
            continue  # no such revision: this reading is the markup one
        for index, instruction in _Assembler(reading, drop).run(reader.tokens):
            key = (index, instruction.text, instruction.ambiguity)
            found.setdefault(key, (index, instruction))
    return [instruction for _, instruction in sorted(found.values(), key=lambda pair: pair[0])]


# -- classifying instructions -------------------------------------------------------------------

_DDE_TYPES = {"DDE", "DDEAUTO"}
# Fields that load a file when Word updates them: which argument names it (LINK: the second,
# after the class name such as Excel.Sheet.8).
_FETCHING = {"INCLUDEPICTURE": 0, "INCLUDETEXT": 0, "INCLUDE": 0, "IMPORT": 0, "LINK": 1}
# Fields that read another file when Word updates them, counted only when that file is on
# another machine: RD (a document whose headings a table of contents or index collects: master
# documents name their chapters beside them) and DATABASE (a query's results: its \d database,
# the data source of its \c connection string, a path in its \s SQL).
_READING_AFAR = frozenset({"RD", "DATABASE"})
_PATH_INSIDE = re.compile(r"(?<![\w:])(?:\\\\|//)[^\s'\"`\[\];,]+")  # in SQL: FROM [\\h\s\x.xls]
# A file URL in a value, judged whole: the slashes after "file:" are no share of their own
# (file:///C:\x is the drive; file:////host\s is a share, and `_where` says so)
_FILE_URL = re.compile(r"(?<!\w)file:[^\s'\"`\[\];,]+", re.IGNORECASE)
# An argument is quoted (Word also takes curly quotes, which AutoCorrect types) or a word.
_WORD = re.compile(
    r'["\u201c\u201d]((?:\\.|[^"\u201c\u201d\\])*)["\u201c\u201d]?|[^\s"\u201c\u201d]+'
)
_ESCAPED = re.compile(r'\\([\\"])')  # in quotes, Word reads \\ as \ and \" as "
_FORMAT_SWITCHES = {"\\*", "\\@", "\\#"}  # these always take an argument
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]+):")  # two letters at least: C: is a drive
_DRIVE_PATH = re.compile(r"[A-Za-z][:|]/")
_NETWORK = (4, "a network share")
_SERVER = (3, "a database server")
_REMOTE = (3, "a web address")
_COMPUTED_TARGET = (2, "a location another field computes")
_LOCAL = (1, "the reader's computer")


def classify_field(instr: str) -> FieldThreat | None:
    """DDE for a DDE or DDEAUTO field; EXTERNAL_LINK for a field that loads a file from outside
    the document, or a HYPERLINK to a network share (a click sends the reader's Windows
    credentials there, as with a hyperlink relationship); None for any other field. The type
    is matched as Word does: case-insensitive, after spaces and switches, quoted or not."""
    words = _arguments(instr)
    kind = _normal(next(words, ""))
    if kind in _DDE_TYPES:
        message = f"DDE field that can run a command ({_excerpt(instr)})"
        return FieldThreat(ThreatKind.DDE, kind, message)
    if kind == "HYPERLINK":
        target = next(words, "")
        if NESTED in target:  # Word follows what the nested field gives (red team 108)
            message = f"HYPERLINK field whose address another field computes ({_excerpt(target)})"
            return FieldThreat(ThreatKind.EXTERNAL_LINK, kind, message, target)
        if (harm := clicked_harm(target)) is None:
            return None  # a click away, like any link
        message = f"HYPERLINK field to {harm.partition(' (')[0]} ({_excerpt(target)})"
        return FieldThreat(ThreatKind.EXTERNAL_LINK, kind, message, target)
    if kind in _READING_AFAR:
        return _reads_afar(kind, list(words))
    skip = _FETCHING.get(kind)
    if skip is None:
        return None
    arguments = list(words)
    targets = arguments[skip:] or arguments
    if not targets:
        return None  # nothing to load: Word shows an error
    (rank, where), target = max(((_where(t), t) for t in targets), key=lambda pair: pair[0][0])
    if kind == "INCLUDEPICTURE" and rank == _LOCAL[0] and all(map(_absolute, targets)):
        return None  # a picture the author linked from their own disk, as a .docx's may be
    message = f"{kind} field that loads a file from {where} ({_excerpt(target)})"
    return FieldThreat(ThreatKind.EXTERNAL_LINK, kind, message, target)


def _reads_afar(kind: str, arguments: list[str]) -> FieldThreat | None:
    """EXTERNAL_LINK for an RD or DATABASE field whose file is on another machine (a share, a
    URL) or computed by a nested field; None for one beside the document or on its drive."""
    far = place_afar(arguments)
    if far is None:
        return None
    where, target = far
    message = f"{kind} field that reads a file from {where} ({_excerpt(target)})"
    return FieldThreat(ThreatKind.EXTERNAL_LINK, kind, message, target)


def place_afar(values: list[str]) -> tuple[str, str] | None:
    """Where the first of the places ``values`` read from that is on another machine (a share,
    a URL) or computed by a nested field lies, and that place; each value is taken as a path, a
    connection string (its data source, DBQ...) and SQL (a share in its ``FROM``),
    as a DATABASE field's or a mail merge's file, connection and query are. None when every
    place is beside the document or on the reader's drive."""
    places = [place for value in values for place in _places(value)]
    servers = {place for value in values for place in connection_places(value)}
    ranked = [(_SERVER if place in servers and database_server(place) else _where(place), place)
              for place in places]  # fmt: skip
    far = [(where, place) for (rank, where), place in ranked if rank >= _COMPUTED_TARGET[0]]
    return far[0] if far else None


def _places(value: str) -> list[str]:
    """A value as a path, its connection string's places, its file URLs and the paths in it."""
    urls = _FILE_URL.findall(value)
    inside = _PATH_INSIDE.findall(_FILE_URL.sub(" ", value))
    return [value, *connection_places(value), *urls, *inside]


def _arguments(instr: str, leading: bool = False) -> Iterator[str]:
    """The field type then its arguments, switches left out, quoted ones unescaped; with
    ``leading``, a format switch before the type takes its argument as after it does."""
    typed = skip = False
    for match in _WORD.finditer(instr):
        word = match.group()
        if skip:
            skip = False
        elif match.group(1) is not None:
            typed = True
            yield _ESCAPED.sub(r"\1", match.group(1))
        elif word.startswith("\\") and not word.startswith("\\\\"):  # \\host is a path
            # Before the type, "\* DDEAUTO" must still read as DDEAUTO: no argument skipped.
            skip = (typed or leading) and word in _FORMAT_SWITCHES
        else:
            typed = True
            yield word


def _type_word(instr: str) -> str:
    return next(_arguments(instr), "")


def computed_type(instr: str, noisy: bool = False) -> bool:
    """Whether a nested field (`NESTED`) computes a field's type: it stands in the word Word
    takes for the type, after blanks and switches, quoted or not (``{ {QUOTE 68 68 69}AUTO }``,
    ``{ "{TITLE}" cmd }``, ``{ \\* {QUOTE ...} }``). The rule for .docx, .doc and RTF fields:
    Word's result could be any type, so readers that take the cached result read another.
    A format switch before the type (``\\* MERGEFORMAT {QUOTE ...}``) is read both ways: with
    its argument, and without (as `classify_field` reads ``\\* DDEAUTO``). In a ``noisy``
    reading (a stream's bytes), only letters may stand beside it in that word."""
    if NESTED not in instr:
        return False
    words = (_type_word(instr), next(_arguments(instr, leading=True), ""))
    found = [word for word in words if NESTED in word]
    if noisy:  # binary read as text: the word around the nested field must be a name's
        found = [word for word in found if _NAME_PART.fullmatch(word.replace(NESTED, ""))]
    return bool(found)


# What may stand beside a nested field in a type word read from a stream's bytes: letters, as
# a field type's (``{QUOTE 68 68 69}AUTO``); a run of binary holds anything (a real .doc's
# table data made one "word" around a chance field: csv2ofx's OFX_Message_Support.doc)
_NAME_PART = re.compile(r"[A-Za-z]{0,32}")


def _normal(word: str) -> str:
    """A field type as Word could match it: compatibility forms folded, invisible format
    characters (zero-width space, soft hyphen) dropped, upper case."""
    folded = unicodedata.normalize("NFKC", word)
    return "".join(c for c in folded if unicodedata.category(c) != "Cf").upper()


def _where(target: str) -> tuple[int, str]:
    """Where a fetching field's file comes from, ranked (network shares first: Windows sends
    the reader's credentials to them).

    Every target counts, a relative name too: Word reads it from the document's folder, where
    the chat's other downloads sit, and ``..\\`` reaches any file on that drive, as a drive
    path does. INCLUDETEXT copies such a file into a document an agent may send back, and what
    Word then shows was never scanned. Word itself embeds pictures (``w:drawing``); fetching
    fields come from pasted web pages and mail merges, whose absolute targets count anyway."""
    path = target.strip().replace("\\", "/")
    if NESTED in path:
        return _COMPUTED_TARGET
    scheme = _SCHEME.match(path)
    if scheme and scheme.group(1).lower() != "file":
        return _REMOTE
    if scheme:  # file://host/x and file:////host/x are shares; file:///C:/x, file:////C:/x local
        return _NETWORK if on_a_share(target) else _LOCAL
    return _NETWORK if on_a_share(target) else _LOCAL  # \\host, \??\UNC\host, /\host...


def _absolute(target: str) -> bool:
    """Whether a local target is a whole path (a drive, a rooted path, ``file:///C:/``), not a
    name read from the document's folder (see `_where`). Word records the author's own path for
    a linked picture (LibreOffice too, exporting a page's pictures to a .doc); on the reader's
    machine it names a file of theirs or none, and no request leaves it, as with a .docx's
    picture linked from a local path (`opc`)."""
    path = target.strip().replace("\\", "/")
    if path[:5].lower() == "file:":
        return path[5:].startswith("//")  # file:///x, file:////V:/x (file://host: a share)
    return path.startswith("/") or bool(_DRIVE_PATH.match(path))


def _excerpt(text: str) -> str:
    """At most EXCERPT characters for a message: spaces collapsed, a nested field as {...},
    control and invisible characters dropped."""
    words = " ".join(text.replace(NESTED, "{...}").split())[: EXCERPT * 4]
    shown = "".join(c for c in words if unicodedata.category(c)[0] != "C")
    return shown if len(shown) <= EXCERPT else shown[: EXCERPT - 3] + "..."
