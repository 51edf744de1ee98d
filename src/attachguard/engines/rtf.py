"""RTF engine: objects embedded in RTF documents, and DDE fields, with oletools' rtfobj.

Finds OLE_OBJECT for every ``\\objdata`` object, labelled with its OLE class name (``Package``,
``Equation.3``...); classes and class ids that known exploits use (Equation Editor,
CVE-2017-11882; OLE2Link, CVE-2017-0199; oletools' list of CLSIDs) are named in the message. The
object's payload (the file inside a Package, else the object's data) is returned as a child so
that every engine scans it. An embedded object is judged by the rule objects in a .doc or .docx
get (`office_objects`), when Word would activate it as what its data holds: an Office
document, chart or Acrobat document whose compound file has the class its OLE1 class name
names (`compound_object`), or a package whose file may be opened as the file it is
(`opened_package`); not in a document that links any object (``\\objlink``,
``\\objautlink``) or has one updated as it opens (``\\objupdate``: Word starts its program),
nor when its ``\\objdata`` holds anything but hex digits and blanks.
Field instructions are read as Word reads them (the blank ending a control word is no text,
``\\'hh`` and ``\\uN`` escapes with their ``\\ucN`` fallbacks counted as the specification
counts them: `formats.rtfunicode`, the ``\\ud`` half of ``\\upr``, ``\\tab`` and breaks as
blanks) and judged by the rule .docx and .doc fields get (`wordfields.classify_field`): DDE for
``DDE``/``DDEAUTO``, EXTERNAL_LINK for INCLUDETEXT, INCLUDEPICTURE, IMPORT or LINK fields,
whatever their target, or a target a nested field computes (RD and DATABASE fields: when their
file is on another machine). EXTERNAL_LINK also for a remote ``\\template``, for a picture shape,
picture fill or line pattern linked to a file on another machine (``pibName``, ``fillBlipName``,
``lineFillBlipName`` with their flags saying linked), for a ``\\hlinkbase`` on a network share
(relative hyperlinks resolve against it) and for a mail merge whose data source is on another
machine (``\\mmdatasource``, ``\\mmconnectstr``, ``\\mmquery``, the ODSO names and UDL: read as a
DATABASE field's file, connection string and query are), and for a master document's
subdocument on another machine (a file table's ``\\file``: Word writes one only for
subdocuments). EXTERNAL_LINK too for a shape's hyperlink (the ``pihlShape`` property, whose
value is a ``{\\*\\hl ...}`` group: its ``\\hlsrc`` source and ``\\hlloc`` location, RTF 1.9.1)
that leads to a network share, a protocol handler that starts a program, or a program on the
reader's own computer (`targets.clicked_harm`), as a .doc's drawing's shape hyperlink is (a
click alone sends the reader's Windows credentials to the share); a link to the web passes.
Each of these texts is read as Word reads it, without a nested destination's
text (``{\\*\\unknown X}`` is skipped), and read again keeping it; either reading is judged.
AMBIGUOUS for a field whose type a nested field computes (``{ {QUOTE 68 68 69}AUTO ...}`` is a
DDEAUTO field once Word evaluates it; quoted or after a switch too: `wordfields.computed_type`,
the rule for .docx and .doc): read as Word reads it, it could be anything. CORRUPT for
data that is not RTF or that the parser gives up on.

Limits: one pass over the file in linear time (rtfobj's own parser is quadratic in the size of
pictures and text); a file without ``\\objdata``, ``\\fldinst``, ``\\template``, ``\\hlinkbase``,
``\\mm``, ``\\sn``, ``\\file``, ``\\hlsrc`` or ``\\hlloc`` cannot hold objects, fields, templates,
a hyperlink base, a mail merge, shape properties (linked pictures, a shape's hyperlink) or
subdocuments and is not parsed.
Children are capped by ``context.limits``.
"""

from __future__ import annotations

import binascii
import re
import struct
from importlib.metadata import version
from typing import Any

from oletools import oleobj, rtfobj

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    CORRUPT,
    DDE,
    EXTERNAL_LINK,
    OLE_OBJECT,
)
from attachguard.engines.base import Child, Context, EngineSpec, Item, Options, Result, finding
from attachguard.engines.embedded import add_child, describe_clsid, object_message, safe_name
from attachguard.engines.office_objects import CLASS_OF_PROGID, compound_object, opened_package
from attachguard.engines.office_shared import DAMAGED, Job
from attachguard.errors import LimitExceeded
from attachguard.formats import wordfields
from attachguard.formats.olepackage import packaged_file
from attachguard.formats.rtfunicode import Fallback
from attachguard.formats.targets import clicked_harm, on_a_share, target_kind
from attachguard.formats.wordfields import ThreatKind
from attachguard.report import Finding

NAME = "rtf"
_KIND = "RTF document"
# Classes whose mere presence is the exploit (rtfobj flags the same ones).
_EXPLOITED = {
    "equation.3": ("Equation Editor", ["CVE-2017-11882", "CVE-2018-0802"]),
    "ole2link": ("OLE2Link", ["CVE-2017-0199"]),
}
_DDE = re.compile(rb"^\s*dde(auto)?\s", re.IGNORECASE)
# Fields and templates that fetch from elsewhere when the document opens: a remote template
# or included file runs code or leaks the reader's Windows credentials (a UNC path).
_REMOTE = rb"\s*\"?\s*(?:https?:|ftp:|file:|\\\\|//)"
_FETCHING_FIELD = re.compile(
    rb"^\s*(?:INCLUDETEXT|INCLUDEPICTURE|INCLUDE|LINK|IMPORT)" + _REMOTE, re.I
)
# Where a nested field sits in its outer field's instruction (its result is computed by Word).
NESTED = b"\x00field\x00"
_COMPUTED_FETCH = re.compile(
    rb"^\s*(?:INCLUDETEXT|INCLUDEPICTURE|INCLUDE|LINK|IMPORT)\b[^\x00]*" + NESTED, re.I
)
# A mail merge's data source (a file, a connection string, a query, Office's data source
# object and its UDL), read as a DATABASE field's are; the ...data forms hold them as hex.
_MERGE = frozenset({b"mmdatasource", b"mmheadersource", b"mmconnectstr", b"mmquery",
                    b"mmodsoname", b"mmodsotable", b"mmodsoudl", b"mmodsosrc"})  # fmt: skip
_MERGE_HEX = frozenset({b"mmconnectstrdata", b"mmodsoudldata"})
# A hyperlink (RTF 1.9.1 "Hyperlinks": {\*\hl{\hlloc ...}{\hlsrc ...}{\hlfr ...}}, the value of a
# shape's pihlShape property): its location and its source, where a click on the shape leads
_HYPERLINK = frozenset({b"hlloc", b"hlsrc"})
# destinations whose text is collected: field instructions, templates, shape properties, the
# hyperlink base, a mail merge's source, a file table's file names (Word writes a file table
# only for a master document's subdocuments, which it loads from there), a shape's hyperlink
_TEXTUAL = (b"fldinst", b"template", b"sn", b"sv", b"hlinkbase", b"file", *sorted(_MERGE),
            *sorted(_HYPERLINK))  # fmt: skip
_HEX_DATA = frozenset({b"objdata"}) | _MERGE_HEX  # destinations whose text is kept as it is
# Collected texts are read twice: as Word reads them, without the text of the destinations
# nested in them ({\*\bkmkstart x}, or {\*\unknown x}, which Word skips), and keeping it, for
# a reader that does (the specification is all one has of Word's reading); both are judged.
_READ = frozenset(_TEXTUAL) | _MERGE_HEX
_SHAPE = (b"shpinst", b"picprop")  # a shape's (or an inline picture's) properties
# A picture shape linked to its file (pibFlags: msoblipflagURL 0x2, msoblipflagLinkToFile 0x8),
# which Word loads from pibName when it opens the document; a shape's picture fill and its
# line's picture pattern are linked the same way (MS-ODRAW's blip properties).
_LINKED_PICTURE = 0x2 | 0x8
_PICTURE_NAMES = ((b"pibName", b"pibFlags"), (b"fillBlipName", b"fillBlipFlags"),
                  (b"lineFillBlipName", b"lineFillBlipFlags"))  # fmt: skip
# Control words and symbols that stand for a character (blanks, breaks, special hyphens).
_BREAKS = (b"tab", b"par", b"line", b"sect", b"page", b"column", b"cell", b"row")
_CHARACTERS: dict[bytes, bytes] = {
    **dict.fromkeys((*_BREAKS, b"\r", b"\n"), b" "),  # a line end after \ is a \par
    **{b"emspace": b"\xe2\x80\x83", b"enspace": b"\xe2\x80\x82", b"qmspace": b"\xe2\x80\x85"},
    **{b"~": b"\xc2\xa0", b"_": b"\xe2\x80\x91", b"-": b"\xc2\xad"},  # UTF-8, as \\uN
}
# what is looked for
_NEEDLES = (
    b"\\objdata",
    b"\\fldinst",
    b"\\template",
    b"\\hlinkbase",
    b"\\mm",
    b"\\file",
    b"\\hlloc",
    b"\\hlsrc",
)
# A shape property (its name in an \sn group): a picture or fill linked to a file is one. The
# name is text, which escapes can spell (pib\'4eame): the control word is what can be looked for
_SHAPE_PROPERTY = re.compile(rb"\\sn(?![a-zA-Z])")
_NON_HEX = re.compile(rb"[^a-fA-F0-9]")
# What rtfobj raises when it gives up on malformed input.
_DAMAGED = (RuntimeError, ValueError, LookupError, AssertionError, struct.error)


def _ansi(text: bytes) -> bytes:
    """RTF text (Windows-1252, the ANSI code page of \\ansi documents) as UTF-8, the encoding
    \\uN characters are kept in."""
    return text.decode("cp1252", "replace").encode("utf-8") if not text.isascii() else text


class _Parser(rtfobj.RtfObjParser):  # type: ignore[misc]
    """rtfobj's object parser, in linear time, also collecting field instructions.

    rtfobj appends all text to immutable bytes and re-filters the whole object data at every
    ``\\'`` symbol, which takes minutes on a few MB of pictures; here only object data and
    field instructions are kept, in bytearrays that grow in place. Same results otherwise.
    Each collected text is read twice (see `_READ`): its ``data`` as Word reads it, its
    ``alt`` also keeping the text of the destinations nested in it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.fields: list[bytes] = []
        self.templates: list[bytes] = []
        self.hyperlink_bases: list[bytes] = []
        self.merge_sources: list[str] = []  # a mail merge's file, connection, query...
        self.files: list[str] = []  # a file table's file names, and their relative parts
        self.hyperlinks: list[bytes] = []  # a shape's hyperlink: its location and source
        self.shapes: list[dict[bytes, bytes]] = []  # shape properties, name to value
        self.loose_shapes: list[dict[bytes, bytes]] = []  # the same, read keeping nested text
        self._property = (b"", b"")  # the shape property whose value comes next, both readings
        self._uc = [1]  # \ucN by group: how many fallback characters follow each \uN
        self._fallback = Fallback()  # what is still to skip after a \uN
        self._word_end = -1  # where the last control word ended: its delimiter blank is no text
        self._ignorable = False  # just after \*: the control word that follows is a destination
        self.destinations[0].loose = None

    def open_group(self) -> None:
        self._uc.append(self._uc[-1])
        self._fallback.brace()
        self._ignorable = False

    def close_group(self) -> None:
        if len(self._uc) > 1:
            self._uc.pop()
        self._fallback.brace()
        self._ignorable = False

    def _control_word(self, matchobject: re.Match[bytes], cword: bytes, param: Any) -> None:
        # Word skips a destination it does not know when \* marks it (RTF 1.9.1): the X of
        # "{\*\unknown X}" is not part of the text around it, where rtfobj, opening only the
        # destinations it lists, would add it. Object data keeps rtfobj's reading.
        ignorable, self._ignorable = self._ignorable, False
        unknown = ignorable and cword not in rtfobj.DESTINATION_CONTROL_WORDS
        if unknown and self.current_destination.cword != b"objdata":
            self._open_destination(matchobject, cword)
        super()._control_word(matchobject, cword, param)

    def open_destination(self, destination: Any) -> None:
        if destination.cword in _SHAPE:
            self.shapes.append({})
            self.loose_shapes.append({})
        destination.data = bytearray()
        destination.clean = 0  # the object data before this index is hex digits only
        destination.relative = 0  # a file name's \frelativeN
        if destination.cword in _READ:
            destination.loose, destination.alt = destination, bytearray()
        else:
            destination.loose = self._loose_owner(destination)
        if destination.cword == b"fldinst" and (outer := self._outer_instruction()) is not None:
            outer.data += NESTED  # Word puts the nested field's result here
            outer.alt += NESTED

    def _loose_owner(self, destination: Any) -> Any:
        """The collected text whose loose reading keeps this destination's text: the one it is
        nested in, not across a nested field (whose result Word computes) nor from the ANSI
        half of ``\\upr`` (a reader that knows \\upr reads its \\ud half instead)."""
        if destination.cword in (b"field", b"upr"):
            return None
        outer = self.destinations[-3:-1]  # (rtfobj drops the document's on an unbalanced "}")
        if destination.cword == b"ud" and len(outer) == 2 and outer[1].cword == b"upr":
            return outer[0].loose
        return outer[-1].loose if outer else None

    def _outer_instruction(self) -> Any:
        """The field instruction a new one is nested in (through ``\\field`` groups), if any;
        a field in another field's result computes nothing."""
        for destination in reversed(self.destinations[:-1]):
            if destination.cword != b"field":
                return destination if destination.cword == b"fldinst" else None
        return None

    def _textual(self) -> Any:
        """The field instruction or template the current text belongs to, if any. In
        ``{\\upr{ansi}{\\*\\ud{unicode}}}`` Word reads the ``\\ud`` text and skips the other."""
        stack = self.destinations
        if stack[-1].cword in _TEXTUAL:
            return stack[-1]
        if len(stack) >= 3 and stack[-1].cword == b"ud" and stack[-2].cword == b"upr":
            return stack[-3] if stack[-3].cword in _TEXTUAL else None
        return None

    def _collecting(self) -> bool:
        """Whether the current text joins a collected text, in either reading."""
        return self.current_destination.loose is not None

    def _add(self, text: bytes) -> None:
        """Text, to the collected text(s) whose reading keeps it."""
        if (strict := self._textual()) is not None:
            strict.data += text
        if (loose := self.current_destination.loose) is not None:
            loose.alt += text

    def _text(self, matchobject: re.Match[bytes]) -> None:
        text = matchobject.group()
        if matchobject.start() == self._word_end and text[:1] == b" ":
            text = text[1:]  # "DD{\\b EA}UTO" is DDEAUTO: the blank ends the control word
        # Word ignores line ends in RTF text: "\\\\ho<CR><LF>st" is \\host, "\*<LF>\x" is "\*\x"
        text = text.replace(b"\r", b"").replace(b"\n", b"")
        self._ignorable = self._ignorable and not text
        text = self._fallback.text(text)
        destination = self.current_destination
        if destination.cword in _HEX_DATA:
            destination.data += text
            if destination.cword in _MERGE_HEX:
                destination.alt += text
        else:
            self._add(_ansi(text))

    def control_word(self, matchobject: re.Match[bytes], cword: bytes, param: Any) -> None:
        self._word_end = self.index + len(matchobject.group())
        if self._fallback.token():
            return  # "\u68\lang1033 DEAUTO" is DDEAUTO: the control word is the fallback
        if cword in _CHARACTERS:
            self._add(_CHARACTERS[cword])  # "DDEAUTO\\tab c:\\..." is two words to Word
        if cword == b"uc" and param is not None:
            self._uc[-1] = min(max(int(param), 0), 255)
        if cword == b"frelative" and param is not None:
            self.current_destination.relative = max(int(param), 0)
        # \uN spells a character in field instructions and template names: decode it so that
        # "\u68?DEAUTO" reads as DDEAUTO, as Word reads it; the \ucN characters after it are
        # its fallback for older readers.
        if cword == b"u" and param is not None and self._collecting():
            self._add(chr(int(param) % 65536).encode("utf-8", "replace"))
            self._fallback.start(self._uc[-1])

    def bin(self, bindata: bytes) -> None:
        if self.current_destination.cword == b"objdata":
            self.current_destination.data += binascii.hexlify(bindata)

    def control_symbol(self, matchobject: re.Match[bytes]) -> None:
        symbol = matchobject.group()[1:2]
        self._ignorable = symbol == b"*"
        collecting = self._collecting()
        if self._fallback.token():  # a fallback character written as a control symbol
            if symbol == b"'":
                self.index += 2
            return
        if symbol in (b"\\", b"{", b"}") and collecting:
            self._add(symbol)  # an escaped character, e.g. in a UNC path
        elif symbol in _CHARACTERS and collecting:
            self._add(_CHARACTERS[symbol])
        if symbol != b"'":
            return
        hexdigits = self.data[self.index + 2 : self.index + 4]
        self.index += 2  # \'hh: the two characters after it are skipped, whatever they are
        dest = self.current_destination
        if collecting and re.fullmatch(rb"[0-9a-fA-F]{2}", hexdigits):
            self._add(_ansi(bytes([int(hexdigits, 16)])))  # "\'44DEAUTO" is DDEAUTO
        if dest.cword == b"objdata":
            # Word drops the last hex digit before \'hh when it has read an odd number of them.
            tail = _NON_HEX.sub(b"", dest.data[dest.clean :])
            del dest.data[dest.clean :]
            dest.data += tail
            if len(dest.data) & 1:
                del dest.data[-1]
            dest.clean = len(dest.data)

    def close_destination(self, destination: Any) -> None:
        cword = destination.cword
        if cword not in _READ:
            super().close_destination(destination)
            return
        strict, loose = bytes(destination.data), bytes(destination.alt)
        readings = [strict] if loose == strict else [strict, loose]
        if cword == b"fldinst":
            self.fields += readings
        elif cword == b"template":
            self.templates += readings
        elif cword == b"hlinkbase":
            self.hyperlink_bases += readings
        elif cword in _HYPERLINK:
            self.hyperlinks += readings
        elif cword == b"file":
            self.files += _file_names(readings, destination.relative)
        elif cword in _MERGE:
            self.merge_sources += [reading.decode("utf-8", "replace") for reading in readings]
        elif cword in _MERGE_HEX:
            self.merge_sources += [text for reading in readings for text in _hex_text(reading)]
        else:
            self._shape_property(cword, strict.strip(), loose.strip())

    def _shape_property(self, cword: bytes, strict: bytes, loose: bytes) -> None:
        """A shape property's name (``\\sn``) or value (``\\sv``), in both readings."""
        if cword == b"sn":
            self._property = (strict, loose)
        elif self.shapes:
            self.shapes[-1].setdefault(self._property[0], strict)
            self.loose_shapes[-1].setdefault(self._property[1], loose)


def _file_names(readings: list[bytes], relative: int) -> list[str]:
    """A file table entry's file name (a full path), and its part from ``\\frelativeN`` on,
    which Word may resolve beside the document instead."""
    names = [reading.decode("utf-8", "replace") for reading in readings]
    return names + [name[relative:] for name in names if relative]


def _hex_text(data: bytes) -> list[str]:
    """Hex-encoded text as it may be stored: UTF-16 (Word's own) and single bytes."""
    digits = _NON_HEX.sub(b"", data)
    raw = binascii.unhexlify(digits[: len(digits) & ~1])
    return [raw.decode("utf-16-le", "replace"), raw.decode("latin-1")]


def _instruction(instruction: bytes) -> str:
    """An RTF field instruction as `wordfields` reads one (its `NESTED` marker)."""
    return instruction.decode("utf-8", "replace").replace(NESTED.decode(), wordfields.NESTED)


def _classify(instruction: bytes) -> ThreatKind | None:
    """What `wordfields.classify_field` (the rule for .docx and .doc fields) makes of an RTF
    field instruction: the type after switches or quotes, every target of a fetching field."""
    threat = wordfields.classify_field(_instruction(instruction))
    return threat.kind if threat else None


def _linked_from_afar(shape: dict[bytes, bytes]) -> bool:
    """Whether a shape's picture, picture fill or line pattern is linked to a file on another
    machine (a URL, a UNC path): Word fetches it on opening, sending a share the reader's
    Windows credentials. An unlinked name only records where the picture came from."""
    for name_key, flags_key in _PICTURE_NAMES:
        flags = shape.get(flags_key, b"")
        name = shape.get(name_key, b"").decode("utf-8", "replace")
        if _flag_bits(flags) & _LINKED_PICTURE and target_kind(name) == "remote":
            return True
    return False


_NUMBER = re.compile(rb"\s*[+-]?\d{1,40}\s*")


def _flag_bits(flags: bytes) -> int:
    """A shape's flags property as Word reads a number: sign and leading zeros taken, kept to
    32 bits ("-2147483638" is 0x8000000A); none when absent; every bit when unreadable."""
    if not flags.strip():
        return 0
    if _NUMBER.fullmatch(flags) is None:
        return ~0
    return int(flags) & 0xFFFFFFFF


def _remote_template(template: bytes) -> bool:
    """Whether a ``\\template`` names a file on another machine, in any of the forms Windows
    takes for one (``\\\\host``, ``/\\host``, ``\\??\\UNC\\host``, a URL). A template on the
    author's own disk is recorded by Word for documents made from a personal template."""
    return target_kind(_unquoted(template)) == "remote"


def _shared_base(base: bytes) -> bool:
    """Whether a ``\\hlinkbase`` is on a network share: Word resolves every relative hyperlink
    against it, so a click on one sends the reader's Windows credentials there (a base URL is
    allowed, as a link to one is)."""
    return on_a_share(_unquoted(base))


# a linked object, or one Word asks its program to update as the document opens
_LINKING = re.compile(rb"\\objlink|\\objautlink|\\objupdate")
_PLAIN_HEX = re.compile(rb"[0-9A-Fa-f \t\r\n]*")
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _unquoted(text: bytes) -> str:
    return text.decode("utf-8", "replace").strip().strip('"\u201c\u201d')


def _as_content(obj: Any, where: str, job: Job) -> bool:
    """Judge an embedded object as a .doc's would be, when Word activates it as what its data
    holds: a package by its file (`opened_package`), a compound file whose class is the one
    the object's class name names by `compound_object`. False, with nothing said, for any
    other object (a link, another class, data that reads otherwise). Only data written as
    plain hex digits is read so: a group, control word, ``\\bin`` or ``\\'hh`` inside
    ``\\objdata`` is read differently by Word (which drops a ``{\\*\\unknown ...}`` group)
    and by rtfobj (which keeps its hex), so the object Word builds may not be the one read."""
    if not obj.is_ole or obj.format_id != oleobj.OleObject.TYPE_EMBEDDED or not obj.oledata:
        return False
    if not _PLAIN_HEX.fullmatch(job.item.data, obj.start, obj.end):
        return False
    data, class_name = bytes(obj.oledata), _class_name(obj).lower()
    if class_name == "package":
        file = opened_package(packaged_file(data, sized=False), job.context.allowed_extensions)
        if file is None:
            return False
        job.child(f"{where}/{file[0]}", file[1], named=True)  # a limit is said, and rejects
        return True
    clsid = CLASS_OF_PROGID.get(class_name)
    if clsid is None or (obj.clsid or "").upper() != clsid or data[:8] != _COMPOUND_FILE:
        return False
    before = len(job.result.findings), len(job.result.children)
    try:
        compound_object(job, data, where)
    except (*DAMAGED, LimitExceeded):
        del job.result.findings[before[0] :], job.result.children[before[1] :]
        return False  # judged as an object of its own
    return True


def _class_name(obj: Any) -> str:
    """The OLE class name, also read from objects rtfobj could not parse (as Word might)."""
    raw = obj.class_name if obj.is_ole else b""
    data = obj.rawdata or b""
    if not obj.is_ole and len(data) >= 12:
        length = int.from_bytes(data[8:12], "little")
        raw = data[12 : 12 + min(length, 128)] if length > 0 else b""
    return bytes(raw).split(b"\0")[0].decode("latin-1")


def _fetches(parser: _Parser, threats: list[ThreatKind | None]) -> list[Finding]:
    """EXTERNAL_LINK for what makes Word fetch from outside the document: a fetching field, a
    picture linked to another machine, a remote template, a hyperlink base on a share; and for
    a shape's hyperlink that a click sends to a share or a program (`clicked_harm`), as a
    .doc's drawing's is."""
    found = []
    if ThreatKind.EXTERNAL_LINK in threats or any(
        _FETCHING_FIELD.match(field) or _COMPUTED_FETCH.match(field) for field in parser.fields
    ):
        message = f"field that loads a file from outside the {_KIND}"
        found.append(finding(NAME, EXTERNAL_LINK, message))
    if any(_linked_from_afar(shape) for shape in [*parser.shapes, *parser.loose_shapes]):
        message = f"picture loaded from another machine into the {_KIND}"
        found.append(finding(NAME, EXTERNAL_LINK, message, label="picture"))
    if any(_remote_template(template) for template in parser.templates):
        message = f"remote template in the {_KIND}"
        found.append(finding(NAME, EXTERNAL_LINK, message))
    if any(_shared_base(base) for base in parser.hyperlink_bases):
        message = f"hyperlink base on a network share in the {_KIND}"
        found.append(finding(NAME, EXTERNAL_LINK, message, label="hyperlinkBase"))
    if (far := wordfields.place_afar(parser.merge_sources)) is not None:
        message = f"mail merge whose data source is on {far[0]}, in the {_KIND}"
        found.append(finding(NAME, EXTERNAL_LINK, message, label="mailMerge"))
    if any(target_kind(_unquoted(name.encode())) == "remote" for name in parser.files):
        message = f"subdocument loaded from another machine into the {_KIND}"
        found.append(finding(NAME, EXTERNAL_LINK, message, label="subDocument"))
    if harms := [harm for link in parser.hyperlinks if (harm := clicked_harm(_unquoted(link)))]:
        message = f"a shape's hyperlink to {harms[0].partition(' (')[0]} in the {_KIND}"
        found.append(finding(NAME, EXTERNAL_LINK, message, label="shapeHyperlink"))
    return found


class RtfEngine:
    """Embedded objects and DDE fields in RTF documents."""

    name = NAME

    def __init__(self) -> None:
        self._version = f"oletools {version('oletools')}"  # once: metadata lookups are slow

    def version(self) -> str:
        return self._version

    def scan(self, item: Item, context: Context) -> Result:
        result = Result()
        if not rtfobj.is_rtf(item.data):
            result.findings.append(finding(NAME, CORRUPT, f"damaged {_KIND}"))
            return result
        if not any(word in item.data for word in _NEEDLES) and not _SHAPE_PROPERTY.search(
            item.data
        ):
            return result
        parser = _Parser(item.data)
        try:
            parser.parse()
        except _DAMAGED:
            result.findings.append(finding(NAME, CORRUPT, f"damaged {_KIND}"))
        linking = _LINKING.search(item.data) is not None
        for index, obj in enumerate(parser.objects, start=1):
            where = f"object {index}"
            if linking or not _as_content(obj, where, Job(item, context, result, NAME)):
                self._object(obj, where, context, result)
        threats = [_classify(field) for field in parser.fields]
        if any(_DDE.match(field) for field in parser.fields) or ThreatKind.DDE in threats:
            result.findings.append(finding(NAME, DDE, f"DDE field in the {_KIND}"))
        if any(wordfields.computed_type(_instruction(field)) for field in parser.fields):
            message = f"field whose type is computed by a nested field in the {_KIND}"
            result.findings.append(finding(NAME, AMBIGUOUS, message, label="field"))
        result.findings += _fetches(parser, threats)
        return result

    def _object(self, obj: Any, where: str, context: Context, result: Result) -> None:
        """One OLE_OBJECT finding; the payload as a child."""
        if not obj.is_ole and not obj.rawdata:
            return  # an empty \objdata holds nothing
        class_name = _class_name(obj)
        label = safe_name(class_name, 60) if class_name else None
        desc, cves = describe_clsid(obj.clsid or "")
        for prefix, (name, known) in _EXPLOITED.items():
            if class_name.lower().startswith(prefix):
                desc, cves = name, sorted({*cves, *known})
        if not obj.is_ole:
            what = "damaged embedded object"
        elif obj.format_id == oleobj.OleObject.TYPE_LINKED:
            what = "linked object"
        else:
            what = "embedded object"
        message = object_message(what, desc or label, cves, _KIND)
        result.findings.append(finding(NAME, OLE_OBJECT, message, label=label, location=where))
        if obj.is_package and obj.olepkgdata:
            name = safe_name(obj.filename or "package")
            add_child(result, Child(f"{where}/{name}", bytes(obj.olepkgdata)), context, NAME)
        elif obj.oledata or obj.rawdata:
            add_child(result, Child(where, bytes(obj.oledata or obj.rawdata)), context, NAME)


ENGINE = EngineSpec(
    name=NAME,
    summary="RTF embedded objects, DDE and INCLUDE fields, remote templates",
    types=("rtf",),
    codes=(OLE_OBJECT, DDE, EXTERNAL_LINK, AMBIGUOUS, CORRUPT, ARCHIVE_MEMBERS, ARCHIVE_EXPANSION),
    build=lambda options, resources: RtfEngine(),
    options=Options,
    order=30,
)
