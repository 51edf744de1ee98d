"""Every object body of a PDF as some reader could see it, checked for active content.

pypdf's reading follows the cross-reference (`pdf.py`); this module checks what other readers
may take instead, from `formats.pdfraw`'s lexical scan: every definition of every object (an
older one an incremental update replaced, both of two duplicates, one the cross-reference leaves
out), the objects inside every object stream (those pdfraw cannot unpack, because the file is
encrypted or uses another filter, are unpacked by pypdf; one whose filters neither reads as
viewers read them, such as a fax-coded one, is reported: `refused_filter`), and, where a reader
would look there, what looks like an object inside another object's stream data: when the
cross-reference is broken (pypdf and pdf.js then rebuild it from every ``N G obj`` in the file,
stream data included), or when a reference names an object the file lists nowhere (pypdf then
searches the file's text for it). Text that only quotes PDF syntax inside a valid file is not
an object.

A body is judged by its names (`pdf_active.check_names`), so that a damaged body cannot hide
them from a parser, glyph names in fonts left out (`pdf_glyphs`); an /OpenAction and an /AA are
parsed, and a reference is resolved to every definition of its target. Attached files in
definitions pypdf did not read are returned for extraction. A link to a network share (a URI,
a base URI, a file specification) in a definition pypdf did not read, or a reference in a link
to a definition it did not read, is EXTERNAL_LINK by the same test as pypdf's reading
(`pdf_active._names_a_share`): only files that hold another definition are searched for them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from io import BytesIO
from itertools import accumulate, islice
from typing import Any

from pypdf import PdfReader
from pypdf._utils import read_non_whitespace, skip_over_comment
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
    read_object,
)

from attachguard.codes import AMBIGUOUS, ARCHIVE_EXPANSION, CORRUPT, EXTERNAL_LINK, Code
from attachguard.engines.pdf_active import (
    DAMAGED,
    FONT_MATRIX,
    JUDGED,
    ON_EVENTS,
    ON_OPEN,
    PDF_AUTO_ACTION,
    PDF_JAVASCRIPT,
    PDF_LAUNCH,
    Seen,
    _names_a_share,
    check_names,
    dictionaries,
    file_names,
    formatters_only,
    is_field,
    opens_inertly,
    opens_locally,
    resolved,
    scripted_matrix,
    triggers_inert,
)
from attachguard.engines.pdf_glyphs import (
    GLYPH_KEYS,
    Census,
    judged_names,
    shaped_like_one,
    written_as_table,
)
from attachguard.formats import pdffilters
from attachguard.formats.pdfraw import (
    PdfLayout,
    Problem,
    RawObject,
    hex_as_viewers_read,
    names_in,
    stream_header,
)

_WS = b"\x00\t\n\f\r "
# A body worth reading name by name holds one of the names `check_names` and the rules here look
# at, or an escape that could spell one. Most bodies (pages, fonts, images) hold none.
_WANTED_NAMES = ("JS", "JavaScript", "Launch", "AA", "OpenAction", "XFA", "RichMedia",
                 "RichMediaContent", "3D", "EmbeddedFile", "EF", "ObjStm",
                 "FontMatrix")  # fmt: skip
_REGULAR = rb"[^\x00\t\n\f\r ()<>\[\]{}/%]"
_WANTED = re.compile(rb"/(?:%s)(?!%s)" % ("|".join(_WANTED_NAMES).encode(), _REGULAR))
# A body that may hold a link target `_names_a_share` judges: a URI, a base URI, a media clip, a
# file specification's names. /F is also an annotation's flags (/F 4 in every link), which an
# integer that is no reference tells apart.
_LINK_NAMES = ("URI", "Base", "MCD", "UF", "DOS", "Unix", "Mac")
_LINKED = re.compile(
    rb"/(?:%s|F(?![\x00\t\n\f\r ]*[0-9]+[\x00\t\n\f\r ]*[/>\]]))(?!%s)"
    % ("|".join(_LINK_NAMES).encode(), _REGULAR)
)
_LINK_KEYS = ("/URI", "/Base", "/D", "/F", "/UF", "/DOS", "/Unix", "/Mac")
_SEP = rb"(?:[\x00\t\n\f\r ]|%[^\r\n]*)"
_LINK_REFERENCE = re.compile(
    rb"/(?:%s)%s*([0-9]{1,10})%s+([0-9]{1,5})%s+R(?![A-Za-z0-9])"
    % ("|".join(key[1:] for key in _LINK_KEYS).encode(), _SEP, _SEP, _SEP)
)
_HIDDEN_LINK = (
    "PDF link or action to a file on another machine, in a definition the main reading "
    "does not use (a reader that takes that definition opens the file)"
)
_SCRIPT_NAMES = frozenset({"/JS", "/JavaScript"})
_ESCAPED = re.compile(rb"/%s*#%s*" % (_REGULAR, _REGULAR))  # a name with an escape in it
_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
# A long hex string is a signature's /Contents or an ID, never what `_parse` is asked for, and
# pypdf reads hex strings a byte at a time: 25 ms for a 12 kB signature dictionary.
_LONG_HEX = re.compile(rb"<[0-9A-Fa-f\x00\t\n\f\r ]{1024,}>")
_HEAD_BEFORE = re.compile(rb"(?<![0-9])([0-9]{1,10})[\x00\t\n\f\r ]+([0-9]{1,5})[\x00\t\n\f\r ]+\Z")
_MAX_IN_DATA = 10_000  # objects inside stream data that are read
_MAX_SEARCHED = 64  # objects only found in stream data that are looked for as references
# References followed from a link key through definitions that are themselves a reference
# (``6 0 obj 8 0 R``), and definitions judged for one link key's target in all: an honest
# file has no such chain, and a hostile one must not make each link cost a file's worth.
_MAX_HOPS = 16
_MAX_FOLLOWED = 256
_UNFOLLOWED = (
    f"references in a link lead through more than {_MAX_HOPS} references or "
    f"{_MAX_FOLLOWED} definitions; the rest not read"
)
_REFERENCE = rb"(?<![0-9])%d[\x00\t\n\f\r ]+%d[\x00\t\n\f\r ]+R(?![A-Za-z0-9])"
_Key = tuple[int, int]
_Slot = tuple[_Key, str, str | None, bool]  # a link's reference: target, key, /S, with an /EF


@dataclass(frozen=True)
class XrefView:
    """Where pypdf read each object: the offset of each (number, generation) it lists, the
    object stream of those it takes from one, and what it listed before reading anything."""

    offsets: dict[_Key, int]
    in_streams: dict[int, tuple[int, int]]  # number: its object stream, its index there
    listed: frozenset[_Key]
    twice: frozenset[tuple[int, int]]  # (object stream, number) held twice in that stream

    @classmethod
    def of(cls, reader: PdfReader, listed: frozenset[_Key], layout: PdfLayout) -> XrefView:
        xref = reader.xref.items()
        offsets = {(num, gen): at for gen, table in xref for num, at in table.items()}
        in_streams = {num: (place[0], place[1]) for num, place in reader.xref_objStm.items()}
        # per reading: another reader's decoding of the stream holds its own copy of each
        held = Counter(
            (o.container, o.reading, o.number) for o in layout.objects if o.container is not None
        )
        twice = frozenset((where, num) for (where, _, num), n in held.items() if n > 1 and where)
        return cls(offsets, in_streams, listed, twice)

    def reads(self, obj: RawObject) -> bool:
        """Whether this definition is the one pypdf read for its number (not another reader's
        decoding of its object stream, nor a copy of a number its object stream holds twice:
        pypdf takes the first copy, PDFium and pdf.js the one at the index the cross-reference
        gives, so that every copy is judged as one the main reading does not use)."""
        if obj.reading or (obj.container, obj.number) in self.twice:
            return False
        if obj.container is None:
            return self.offsets.get((obj.number, obj.generation)) == obj.offset
        in_stream = self.in_streams.get(obj.number, (None,))[0] == obj.container
        return in_stream and self.offsets.get((obj.container, 0)) == obj.offset

    @cached_property
    def numbers(self) -> frozenset[int]:
        """The object numbers the cross-reference lists."""
        return frozenset(num for num, _ in self.listed)


class _Definitions:
    """Every definition of each object, for resolving a reference as any reader may; the
    table is built the first time it is needed (most files need it once or never)."""

    def __init__(self, objects: list[RawObject]) -> None:
        self.objects = objects
        self._table: dict[_Key, list[RawObject]] | None = None

    def of(self, key: _Key) -> list[RawObject]:
        if self._table is None:
            self._table = {}
            for obj in self.objects:
                self._table.setdefault((obj.number, obj.generation), []).append(obj)
        return self._table.get(key, [])


def check_bodies(
    reader: PdfReader,
    raw: tuple[PdfLayout, Census],
    view: XrefView,
    places: dict[int, str],
    seen: Seen,
    budget: int,
) -> list[tuple[RawObject, tuple[str, ...]]]:
    """Check every body (see the module docstring); return the attached files (definition,
    names) that pypdf's reading did not extract. Object streams pypdf unpacks here decode to
    ``budget`` bytes at most, all together."""
    layout, census = raw
    suspects = _suspects(layout.objects)
    unpacked = _unread_object_streams(reader, (layout, suspects), seen, budget)
    _check_xref_streams(layout, reader, seen)
    in_data = _in_stream_data(layout, view, _broken(layout), seen)
    bodies = [_Body(o, _where(o, view, places)) for o in suspects + _suspects(unpacked)]
    bodies += [body for body in in_data if _suspects([body.obj])]
    definitions = _Definitions([*layout.objects, *unpacked, *(body.obj for body in in_data)])
    read = _Reading(reader, definitions, census)
    files: dict[int, tuple[RawObject, tuple[str, ...]]] = {}  # by id(): not hashable
    targets: dict[_Key, tuple[str, ...]] = {}
    for body in bodies:
        names = _check_body(body, read, seen)
        if "/EmbeddedFile" in names and body.obj.stream is not None:
            files[id(body.obj)] = (body.obj, ())
        if "/EF" in names:
            targets |= _attached(body, definitions, reader, seen, layout.encrypted)
    for key, given in targets.items():
        for obj in definitions.of(key):
            if obj.stream is not None:
                files[id(obj)] = (obj, given)
    _check_links(in_data, _Places(view, places), read, seen)
    # one pypdf extracted is judged again only under names its reading does not give
    return [
        (obj, given)
        for obj, given in files.values()
        if not _extracted(obj, view, seen) or set(given) - _names_given(obj, seen)
    ]


def _names_given(obj: RawObject, seen: Seen) -> set[str]:
    """The names pypdf's reading gives the attached file ``obj`` (`Seen.refs`)."""
    return set(seen.refs.get(obj.number, (None, ()))[1])


def glyph_census(reader: PdfReader, layout: PdfLayout) -> Census:
    """The `Census` of glyph tables in ``layout``, bodies parsed as `_parse` parses them."""
    return Census(layout, lambda text: _parse(text, reader))


@dataclass(frozen=True)
class _Reading:
    """What judging one body needs: the parser, every definition, the glyph tables."""

    reader: PdfReader
    definitions: _Definitions
    census: Census

    def parse(self, text: bytes) -> Any:
        return _parse(text, self.reader)

    def readings(self, obj: RawObject) -> list[Any]:
        """``obj`` as every reader may take it, decrypted as `definition` decrypts: parsed by
        pypdf's strict rules, and when a dictionary in it has a key written twice (pypdf takes
        the first value, pdf.js and MuPDF the last), read both ways (`_read_value`); [None]
        when it cannot be parsed. A stream's readings hold its data (a script's text)."""
        strict = _Strict(self.reader)
        parsed = _parse(obj.body, strict)
        found = [parsed] if parsed is not None else _both_ways(obj.body, strict)
        encryption = self.reader._encryption
        try:
            if encryption is not None and obj.container is None:
                found = [encryption.decrypt_object(v, obj.number, obj.generation) for v in found]
            if obj.stream is not None and obj.container is None and None not in found:
                found = _with_data(found, read_at(self.reader, obj))
        except DAMAGED:
            return [None]
        return found

    def definition(self, obj: RawObject) -> Any:
        """``obj`` parsed as any reader reads it, its strings decrypted in an encrypted file
        (those of an object stream's objects are not encrypted one by one); None when it
        cannot be."""
        parsed = self.parse(obj.body)
        encryption = self.reader._encryption
        if parsed is None or encryption is None or obj.container is not None:
            return parsed
        try:
            return encryption.decrypt_object(parsed, obj.number, obj.generation)
        except DAMAGED:
            return None

    def resolve(self, ref: IndirectObject) -> list[Any]:
        """Every reading of every definition a reference may stand for (`readings`): what
        judges actions (`pdf_active.Resolve`)."""
        key = (ref.idnum, ref.generation)
        return [value for d in self.definitions.of(key) for value in self.readings(d)]


class _Strict:
    """A pypdf reader that parses strictly (`_Reading.strictly`); the rest is the reader's."""

    strict = True

    def __init__(self, reader: PdfReader) -> None:
        self._reader = reader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def _check_body(body: _Body, read: _Reading, seen: Seen) -> set[str]:
    """Findings for one body's names, glyph names left out (`pdf_glyphs`); returns the names
    judged. /AA and /OpenAction are parsed: actions that only show something are inert, and
    JavaScript that is only Acrobat's formatting calls (`_formats_only`) is none."""
    names = _judged(body.obj, read)
    scripts = names & _SCRIPT_NAMES
    check_names(
        names - scripts if scripts and _formats_only(body, read) else names, body.where, seen
    )
    if "/AA" in names and _fires(body.obj, read):
        seen.add(PDF_AUTO_ACTION, ON_EVENTS, body.where)
    if "/OpenAction" in names and _opens(body.obj, read):
        seen.add(PDF_AUTO_ACTION, ON_OPEN, body.where)
    if "/FontMatrix" in names and _scripted_matrix(body, read):
        seen.add(PDF_JAVASCRIPT, FONT_MATRIX, body.where)
    return names


def _scripted_matrix(body: _Body, read: _Reading) -> bool:
    """Whether any reading of a body holds a font matrix of anything but numbers
    (`pdf_active.scripted_matrix`); a body no reader parses is not judged here (its names
    are)."""
    return any(
        scripted_matrix(node, read.resolve)
        for value in read.readings(body.obj)
        if value is not None
        for node in dictionaries(value)
    )


def _formats_only(body: _Body, read: _Reading) -> bool:
    """Whether every script in a body, in every reading of it, is a formatting call a field's
    event runs, or the body is one (`pdf_active.formatters_only`); a body with more text after
    its object (which a repairing reader may take otherwise) is not judged so."""
    if not _one_object(body.obj.body, read.reader):
        return False
    found = read.readings(body.obj)
    return None not in found and all(formatters_only(v, read.resolve) for v in found)


def _one_object(text: bytes, reader: PdfReader) -> bool:
    stream = BytesIO(text.strip(_WS) + b" ")
    try:
        read_object(stream, _Strict(reader))
    except DAMAGED:
        pass  # a key written twice: the readings tell
    else:
        return not stream.read().strip(_WS)
    stream.seek(0)
    try:
        _read_value(stream, _Strict(reader), last=False)
    except DAMAGED:
        return False
    return not stream.read().strip(_WS)


def _judged(obj: RawObject, read: _Reading) -> set[str]:
    """A body's names but those only glyph tables hold (`pdf_glyphs.judged_names`); only a
    body with a judged name and a glyph table, or written as one, is parsed for it."""
    names = names_in(obj.body)
    if not names & JUDGED:
        return names
    whole = written_as_table(obj.body)
    if not (names & GLYPH_KEYS or whole):
        return names
    parsed = read.parse(obj.body)
    key = (obj.number, obj.generation)
    whole = whole and shaped_like_one(parsed) and read.census.only_glyphs(key)
    return judged_names(obj.body, parsed, whole)


@dataclass(frozen=True)
class _Body:
    """A raw object to check, with where a support lead would find it."""

    obj: RawObject
    where: str


def _suspects(objects: list[RawObject], wanted: re.Pattern[bytes] = _WANTED) -> list[RawObject]:
    """The objects whose body holds a wanted name, written plainly or with escapes (maybe
    inside a string: `names_in` then tells). Searched in all bodies joined: one search per
    body costs more than the search itself (10,000 bodies: 24 ms against 11)."""
    joined = b"\n".join(obj.body for obj in objects)  # a newline ends a name
    starts = list(accumulate((len(obj.body) + 1 for obj in objects), initial=0))
    hits = {m.start() for m in wanted.finditer(joined)}
    for escaped in _ESCAPED.finditer(joined) if b"#" in joined else ():  # /Arial#20Bold...
        plain = _HEX.sub(lambda m: bytes([int(m[1], 16)]), escaped[0])
        if wanted.fullmatch(plain):
            hits.add(escaped.start())
    return [objects[i] for i in sorted({bisect_right(starts, at) - 1 for at in hits})]


def read_at(reader: PdfReader, obj: RawObject) -> PdfObject:
    """The definition at ``obj.offset`` as pypdf reads an object there (its stream by /Length,
    decrypted in an encrypted file). pypdf has no public call for "the object at this offset"."""
    stream = reader.stream
    stream.seek(obj.offset)
    number, generation = reader.read_object_header(stream)
    value = read_object(stream, reader)
    encryption = reader._encryption
    if encryption is not None:
        value = encryption.decrypt_object(value, number, generation)
    return value


def _broken(layout: PdfLayout) -> bool:
    return any(p.kind is Problem.BROKEN_XREF for p in layout.problems)


def _where(obj: RawObject, view: XrefView, places: dict[int, str]) -> str:
    if view.reads(obj):
        return places.get(obj.number, f"object {obj.number}")
    if obj.number not in view.numbers:
        return f"hidden object {obj.number}"
    if obj.container is not None:
        return f"object {obj.number} (another definition, in object stream {obj.container})"
    return f"object {obj.number} (another definition, at offset {obj.offset})"


def _extracted(obj: RawObject, view: XrefView, seen: Seen) -> bool:
    """Whether pypdf's reading already extracts this very definition."""
    return view.reads(obj) and (obj.number in seen.streams or obj.number in seen.refs)


def _parse(text: bytes, reader: PdfReader | _Strict) -> Any:
    """One object's text parsed by pypdf, references left unresolved; None when it cannot be.
    The text ends in a space, as before ``endobj``: pypdf reads a bare ``8 0 R`` at the very
    end of its input as the number 8."""
    try:
        text = _LONG_HEX.sub(b"<>", hex_as_viewers_read(text))
        return read_object(BytesIO(text.strip(_WS) + b" "), reader)
    except DAMAGED:
        return None


def _opens(obj: RawObject, read: _Reading) -> bool:
    """Whether an /OpenAction in any reading of ``obj`` may do more than show the document,
    through every definition of what it refers to (`pdf_active.opens_inertly`); fail closed on
    a body that cannot be parsed."""
    found = read.readings(obj)
    if None in found:
        return True
    actions = [node.get("/OpenAction") for value in found for node in dictionaries(value)]
    return not all(opens_inertly(a, read.resolve) for a in actions if a is not None)


def _fires(obj: RawObject, read: _Reading) -> bool:
    """Whether an /AA in any reading of ``obj`` may run more than inert actions, through every
    definition of what it refers to (`pdf_active.triggers_inert`); fail closed on a body that
    cannot be parsed or whose /AA is no key of a dictionary in the parse."""
    nodes = [node for value in read.readings(obj) for node in dictionaries(value)]
    triggers = [(node.get("/AA"), is_field(node)) for node in nodes if "/AA" in node]
    return not triggers or not all(triggers_inert(t, read.resolve, f) for t, f in triggers)


# -- a dictionary with a key written twice ---------------------------------------------------------


def _both_ways(text: bytes, strict: _Strict) -> list[Any]:
    """``text`` read with the first and with the last of each key written twice (a reader
    takes one or the other throughout); [None] when it cannot be read either way."""
    found = []
    for last in (False, True):
        try:
            found.append(_read_value(BytesIO(text.strip(_WS) + b" "), strict, last))
        except DAMAGED:
            return [None]
    return found


def _read_value(stream: BytesIO, strict: _Strict, last: bool) -> Any:
    """One object as pypdf's strict parser reads it, but for a key written twice in a
    dictionary, whose ``last`` or first value is taken (pypdf's strict parser refuses it)."""
    while read_non_whitespace(stream) == b"%":
        stream.seek(-1, 1)
        skip_over_comment(stream)
    stream.seek(-1, 1)
    head = stream.read(2)
    stream.seek(-len(head), 1)
    if head == b"<<":
        stream.seek(2, 1)
        return _read_dictionary(stream, strict, last)
    if head[:1] == b"[":
        stream.seek(1, 1)
        items = ArrayObject()
        while not _closes(stream, b"]"):
            items.append(_read_value(stream, strict, last))
        return items
    return read_object(stream, strict)


def _read_dictionary(stream: BytesIO, strict: _Strict, last: bool) -> DictionaryObject:
    found = DictionaryObject()
    while not _closes(stream, b">>"):
        key = read_object(stream, strict)
        if not isinstance(key, NameObject):
            raise TypeError("a dictionary key that is no name")
        value = _read_value(stream, strict, last)
        if last or key not in found:
            found[key] = value
    return found


def _closes(stream: BytesIO, end: bytes) -> bool:
    """Whether ``end`` comes next (past white space and comments), read if it does; a
    `ValueError` at the end of the text."""
    while (found := read_non_whitespace(stream)) == b"%":
        stream.seek(-1, 1)
        skip_over_comment(stream)
    if not found:
        raise ValueError("the text ends inside an object")
    stream.seek(-1, 1)
    if stream.read(len(end)) == end:
        return True
    stream.seek(-len(end), 1)
    return False


def _with_data(found: list[Any], stream: PdfObject) -> list[Any]:
    """Each reading of a stream's dictionary with the stream's data, read where pypdf reads it
    (`read_at`); pypdf has no public call to give a dictionary data still encoded."""
    if not isinstance(stream, StreamObject):
        return [None]
    if not all(isinstance(value, DictionaryObject) for value in found):
        return [None]
    data = stream._data
    return [StreamObject.initialize_from_dictionary({**v, "__streamdata__": data}) for v in found]


def _attached(
    body: _Body, definitions: _Definitions, reader: PdfReader, seen: Seen, encrypted: bool
) -> dict[_Key, tuple[str, ...]]:
    """The objects an /EF in ``body`` names as attached files (through every definition of
    an /EF dictionary given by reference), with the file's names (not readable in an encrypted
    file: its strings are encrypted). A body that cannot be parsed is reported."""
    parsed = _parse(body.obj.body, reader)
    if parsed is None:
        seen.add(CORRUPT, "part of the PDF could not be read", body.where)
    found: dict[_Key, tuple[str, ...]] = {}
    strict = _Strict(reader)
    # a key written twice (/UF (a.txt) /UF (a.scf)): pypdf takes the first, viewers the last
    every = _both_ways(body.obj.body, strict) if _parse(body.obj.body, strict) is None else []
    for node in (node for value in [parsed, *every] for node in dictionaries(value)):
        files = node.get("/EF")
        if isinstance(files, IndirectObject):
            key = (files.idnum, files.generation)
            files = [_parse(d.body, reader) for d in definitions.of(key)]
        else:
            files = [files]
        names = () if encrypted else _names(node)
        refs = [r for f in files if isinstance(f, DictionaryObject) for r in f.values()]
        for ref in refs:
            if isinstance(ref, IndirectObject):
                key = (ref.idnum, ref.generation)
                found[key] = tuple(dict.fromkeys((*found.get(key, ()), *names)))
    return found


def _names(spec: DictionaryObject) -> tuple[str, ...]:
    try:
        return file_names(spec)
    except DAMAGED:  # a name given by a reference pypdf cannot resolve
        return ()


# -- links to a share in other definitions --------------------------------------------------------


@dataclass(frozen=True)
class _Places:
    """Where a support lead finds an object: pypdf's reading, and the places it names."""

    view: XrefView
    places: dict[int, str]

    def of(self, obj: RawObject) -> str:
        return _where(obj, self.view, self.places)


def _check_links(in_data: list[_Body], where: _Places, read: _Reading, seen: Seen) -> None:
    """EXTERNAL_LINK for a link to a share (`_names_a_share`) that only a definition pypdf's
    reading does not use holds: in such a body, or as the target of a reference in a link.
    Only a file with such a definition is searched, by `_LINKED`, and a body pypdf read is
    parsed only when a link key in it refers to one."""
    objects = read.definitions.objects
    others = {(o.number, o.generation) for o in objects if not where.view.reads(o)}
    named = {id(body.obj): body.where for body in in_data}
    judged: dict[_Slot, bool | None] = {}
    for obj in _suspects(objects, _LINKED):
        apart = _read_apart(obj.body, read)
        if where.view.reads(obj) and not apart and not _refers_to(obj.body, others):
            continue
        at = named.get(id(obj)) or where.of(obj)
        try:
            found = read.readings(obj) if apart else [read.definition(obj)]
            shared = None not in found and any(_links_to_a_share(v, read, judged) for v in found)
        except DAMAGED:  # a reference pypdf cannot resolve
            found = [None]
        except _Unfollowed:
            seen.add(CORRUPT, _UNFOLLOWED, at)
            continue
        if None in found:
            seen.add(CORRUPT, "part of the PDF could not be read", at)
            continue
        if shared:
            seen.add(EXTERNAL_LINK, _HIDDEN_LINK, at)
        for node in (node for value in found for node in dictionaries(value)):
            if local := opens_locally(node, resolved(node.get("/S"))):
                seen.add(PDF_LAUNCH, f"{local}, in a definition the main reading does not use", at)


def _read_apart(text: bytes, read: _Reading) -> bool:
    """Whether pypdf's lenient reading of a body may differ from the viewers': a hex string
    holding more than hex digits (pypdf stops the dictionary there, viewers skip them), or a
    body its strict parser refuses, such as a key written twice (pypdf takes the first value,
    PDFium, pdf.js and MuPDF the last). Such a body is judged in every reading (`readings`)."""
    return hex_as_viewers_read(text) is not text or _parse(text, _Strict(read.reader)) is None


def _refers_to(text: bytes, keys: set[_Key]) -> bool:
    """Whether a link key in ``text`` (``#xx`` decoded) refers to one of ``keys``; only the
    bodies that do are parsed (a link's /P names a page an update often redefines)."""
    text = _HEX.sub(lambda m: bytes([int(m[1], 16)]), text) if b"#" in text else text
    return any((int(m[1]), int(m[2])) in keys for m in _LINK_REFERENCE.finditer(text))


def _links_to_a_share(parsed: Any, read: _Reading, judged: dict[_Slot, bool | None]) -> bool:
    """Whether a dictionary in ``parsed`` links to a share as pypdf resolves its references,
    or with a reference under a link key standing for any definition of its target (each
    judged once, in ``judged``: a thousand links to one object redefined a thousand times is
    not a million judgements); `_Unfollowed` past the bounds of `_definitions_of`."""
    for node in dictionaries(parsed):
        kind = resolved(node.get("/S"))
        kind = kind if isinstance(kind, str) else None
        if _names_a_share(node, kind):
            return True
        for key in _LINK_KEYS:
            ref = node.get(key)
            if not isinstance(ref, IndirectObject):
                continue
            slot = ((ref.idnum, ref.generation), key, kind, "/EF" in node)
            if slot not in judged:
                judged[slot] = _any_definition_shared(slot, read)
            if judged[slot] is None:
                raise _Unfollowed
            if judged[slot]:
                return True
    return False


class _Unfollowed(Exception):
    """A link's reference leads through more references than are followed."""


def _any_definition_shared(slot: _Slot, read: _Reading) -> bool | None:
    """Whether a definition of the object ``slot`` refers to, standing under its key in a
    dictionary of its kind (with an /EF or not), links to a share; None when it leads past
    the bounds of `_definitions_of`."""
    target, key, kind, attached = slot
    values = _definitions_of(target, read)
    for value in values:
        if value is None:
            return None
        node = DictionaryObject({NameObject(key): value})
        if kind is not None:
            node[NameObject("/S")] = NameObject(kind)
        if attached:
            node[NameObject("/EF")] = DictionaryObject()
        if _names_a_share(node, kind):
            return True
    return False


def _definitions_of(target: _Key, read: _Reading) -> Iterator[Any]:
    """Every definition of ``target``, parsed; a definition that is itself a reference stands
    for every definition of its target in turn (as a reader taking any revision resolves it),
    each target followed once, `_MAX_HOPS` deep and `_MAX_FOLLOWED` definitions in all, past
    which None (not judged). A definition that cannot be parsed is judged as a body of its
    own when it holds a link name, and is left out here."""
    queue, followed, left = deque([(target, 0)]), {target}, _MAX_FOLLOWED
    while queue:
        key, hops = queue.popleft()
        for obj in read.definitions.of(key):
            left -= 1
            value = read.definition(obj) if left >= 0 else None
            if not isinstance(value, IndirectObject):
                if left < 0 or value is not None:
                    yield value
                continue
            onward = (value.idnum, value.generation)
            if onward in followed:
                continue
            if hops >= _MAX_HOPS:
                yield None
            followed.add(onward)
            queue.append((onward, hops + 1))


# -- object streams pdfraw left to pypdf ---------------------------------------------------------


def refused_filter(info: DictionaryObject, what: str) -> tuple[Code, str] | None:
    """A finding for a stream read as data (``what``: an object stream, an attached file) whose
    filters are not all read here as viewers read them (`pdffilters.foreign_filter`), None
    when they are: a /Crypt filter of its own (AMBIGUOUS: MuPDF applies it, so that an Identity
    one leaves the stream plain, where pypdf and pdf.js decrypt it with the document's
    default), or a filter for pictures or one not known (CORRUPT: pdf.js and MuPDF decode a
    fax for any stream, pypdf hands back the coded data)."""
    name = pdffilters.foreign_filter(info)
    if name is None:
        return None
    if name == "/Crypt":
        return AMBIGUOUS, f"{what} with a crypt filter of its own, which readers apply differently"
    return CORRUPT, f"{what} encoded with {name}, which is not read here as PDF viewers read it"


def _check_xref_streams(layout: PdfLayout, reader: PdfReader, seen: Seen) -> None:
    """`refused_filter` for every cross-reference stream: a viewer that decodes one that pypdf
    and pdfraw cannot finds objects where they look for none."""
    for obj in layout.objects:
        if obj.stream is None or obj.container is not None or b"XRef" not in obj.body:
            continue
        parsed = _parse(obj.body, reader)
        if isinstance(parsed, DictionaryObject) and parsed.get("/Type") == "/XRef":
            where = f"object {obj.number}"
            if (refused := refused_filter(parsed, "cross-reference stream")) is not None:
                seen.add(*refused, where)


def _unread_object_streams(
    reader: PdfReader, scanned: tuple[PdfLayout, list[RawObject]], seen: Seen, budget: int
) -> list[RawObject]:
    """The objects inside object streams pdfraw did not unpack whole (an encrypted file's, one
    with a filter or parameters it does not read, one whose header lists fewer objects than
    its /N), unpacked by pypdf within the byte budget. One that pypdf cannot unpack whole
    either is reported (`_unpack`): the objects in it that a viewer may take are not known."""
    layout, suspects = scanned
    streams = [o for o in suspects if o.stream is not None and o.container is None]
    streams = [o for o in streams if "/ObjStm" in names_in(o.body)]
    if not streams:
        return []
    whole = _unpacked_whole(layout)
    found: list[RawObject] = []
    for obj in streams:
        if (obj.number, obj.offset) in whole:
            continue
        try:
            plain, inside = _unpack(obj, read_at(reader, obj), seen)
        except LimitReachedError:  # pypdf's decoders are held to the byte limit (`pdf.py`)
            budget = -1
        except DAMAGED:
            seen.add(CORRUPT, "part of the PDF could not be read", f"object {obj.number}")
            continue
        else:
            budget -= len(plain)
        if budget <= 0:  # pypdf may stop at its limit without failing: not all was read
            seen.add(ARCHIVE_EXPANSION, "PDF content expands past the byte limit")
            break
        found += inside
    return found


def _unpacked_whole(layout: PdfLayout) -> set[tuple[int, int]]:
    """The object streams (number, offset) pdfraw unpacked, but those it found a problem with
    (UNREADABLE_OBJECT_STREAM: a reading whose header lists fewer objects than its /N)."""
    short = {p.offset for p in layout.problems if p.kind is Problem.UNREADABLE_OBJECT_STREAM}
    return {
        (o.container, o.offset)
        for o in layout.objects
        if o.container is not None and o.offset not in short
    }


def _unpack(obj: RawObject, stream: PdfObject, seen: Seen) -> tuple[bytes, list[RawObject]]:
    """The decoded data of object stream ``obj`` and the objects in it: its header pairs
    (`pdfraw.stream_header`), each object running to the next one's start. A stream whose
    filters are not read here as viewers read them (`refused_filter`) is reported and not
    unpacked; one whose header lists fewer objects than its /N is reported, and what it lists
    is unpacked."""
    if not isinstance(stream, StreamObject):
        raise TypeError("an object stream that is not a stream")
    where = f"object {obj.number}"
    if (refused := refused_filter(stream, "object stream")) is not None:
        seen.add(*refused, where)
        return b"", []
    count, first = stream.get("/N"), stream.get("/First")
    if not (isinstance(count, int) and isinstance(first, int) and count >= 0 <= first):
        raise ValueError("an object stream with no usable /N and /First")
    plain = stream.get_data()
    pairs = stream_header(plain, count, first)
    if len(pairs) < count:
        message = f"object stream whose header lists {len(pairs)} of its {count} objects"
        seen.add(CORRUPT, message, where)
    starts = sorted({start for _, start in pairs} | {len(plain)})
    found = []
    for slot, (number, start) in enumerate(pairs):
        end = starts[bisect_right(starts, start)] if start < len(plain) else start
        found.append(RawObject(number, 0, obj.offset, plain[start:end], None, obj.number, slot))
    return plain, found


# -- objects in stream data ----------------------------------------------------------------------


def _in_stream_data(layout: PdfLayout, view: XrefView, broken: bool, seen: Seen) -> list[_Body]:
    """``N G obj`` inside stream data that a reader would take for an object: any, when the
    cross-reference is broken; else one the file lists nowhere but refers to. At most
    `_MAX_IN_DATA` of them: a file with more, which needs them read, is reported."""
    headers = ((host, obj) for host in layout.objects for obj in _headers_in(layout.data, host))
    found = list(islice(headers, _MAX_IN_DATA + 1))
    if not found:
        return []  # the rule: stream data holds no header, and only then is this cheap
    if len(found) > _MAX_IN_DATA:
        message = f"more than {_MAX_IN_DATA:,} objects inside stream data; the rest not read"
        seen.add(CORRUPT, message)
    if not broken:
        defined = {(o.number, o.generation) for o in layout.objects} | view.listed
        hidden = {(o.number, o.generation) for _, o in found} - defined
        wanted = _referred_to(layout, hidden)
        found = [(host, obj) for host, obj in found if (obj.number, obj.generation) in wanted]
    return [
        _Body(obj, f"object {obj.number} inside the data of object {host.number}")
        for host, obj in found[:_MAX_IN_DATA]
    ]


def _headers_in(data: bytes, host: RawObject) -> Iterable[RawObject]:
    """What looks like an object inside ``host``'s stream data, read up to the next "obj" (its
    endobj, or the next header: as pdf.js reads a file it repairs), so that bodies never
    overlap. Found from "obj" (a literal bytes.find skips at memory speed), the header checked
    behind it: compressed data almost never holds one."""
    if host.stream is None:
        return
    start, end = host.stream
    at = data.find(b"obj", start, end)
    while at >= 0:
        following = data.find(b"obj", at + 3)
        head = _HEAD_BEFORE.search(data, max(start, at - 40), at)
        if head is not None and not data[at + 3 : at + 4].isalnum():
            body = data[at + 3 : following if following >= 0 else len(data)]
            yield RawObject(int(head[1]), int(head[2]), head.start(), body)
        at = following if following < end else -1


def _referred_to(layout: PdfLayout, keys: set[_Key]) -> set[_Key]:
    """Those of ``keys`` that some text of the file refers to (``N G R``); past
    `_MAX_SEARCHED` of them, all (each costs a search of the file)."""
    if len(keys) > _MAX_SEARCHED:
        return keys
    texts = [layout.data, b"\n".join(o.body for o in layout.objects if o.container is not None)]
    referred = set()
    for key in keys:
        reference = _REFERENCE % key
        if any(re.search(reference, text) for text in texts):
            referred.add(key)
    return referred
