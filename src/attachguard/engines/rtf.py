"""RTF engine: objects embedded in RTF documents, and DDE fields, with oletools' rtfobj.

Finds OLE_OBJECT for every ``\\objdata`` object, labelled with its OLE class name (``Package``,
``Equation.3``...); classes and class ids that known exploits use (Equation Editor,
CVE-2017-11882; OLE2Link, CVE-2017-0199; oletools' list of CLSIDs) are named in the message. The
object's payload (the file inside a Package, else the object's data) is returned as a child so
that every engine scans it. DDE for ``DDE``/``DDEAUTO`` field instructions (also spelled with
``\\'hh`` or ``\\uN`` escapes); EXTERNAL_LINK for a remote ``\\template`` and for INCLUDETEXT,
INCLUDEPICTURE or LINK fields that fetch from a URL or a UNC path, or whose target a nested field
computes. AMBIGUOUS for a field whose type a nested field computes (``{ {QUOTE 68 68 69}AUTO ...}``
is a DDEAUTO field once Word evaluates it): read as Word reads it, it could be anything. CORRUPT
for data that is not RTF or that the parser gives up on.

Limits: one pass over the file in linear time (rtfobj's own parser is quadratic in the size of
pictures and text); a file without ``\\objdata``, ``\\fldinst`` or ``\\template`` control
words cannot hold objects, fields or templates and is not parsed. Children are capped by
``context.limits``.
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
_REMOTE_TEMPLATE = re.compile(b"^" + _REMOTE, re.IGNORECASE)
# Where a nested field sits in its outer field's instruction (its result is computed by Word).
NESTED = b"\x00field\x00"
_COMPUTED_TYPE = re.compile(rb"^\s*" + NESTED)
_COMPUTED_FETCH = re.compile(
    rb"^\s*(?:INCLUDETEXT|INCLUDEPICTURE|INCLUDE|LINK|IMPORT)\b[^\x00]*" + NESTED, re.I
)
_TEXTUAL = (b"fldinst", b"template")  # destinations whose text is collected
_NON_HEX = re.compile(rb"[^a-fA-F0-9]")
# What rtfobj raises when it gives up on malformed input.
_DAMAGED = (RuntimeError, ValueError, LookupError, AssertionError, struct.error)


class _Parser(rtfobj.RtfObjParser):  # type: ignore[misc]
    """rtfobj's object parser, in linear time, also collecting field instructions.

    rtfobj appends all text to immutable bytes and re-filters the whole object data at every
    ``\\'`` symbol, which takes minutes on a few MB of pictures; here only object data and
    field instructions are kept, in bytearrays that grow in place. Same results otherwise."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.fields: list[bytes] = []
        self.templates: list[bytes] = []
        self._skip_fallback = False  # after \uN, the next character is its ANSI fallback

    def open_destination(self, destination: Any) -> None:
        destination.data = bytearray()
        destination.clean = 0  # the object data before this index is hex digits only
        if destination.cword == b"fldinst" and (outer := self._outer_instruction()) is not None:
            outer.data += NESTED  # Word puts the nested field's result here

    def _outer_instruction(self) -> Any:
        """The field instruction a new one is nested in (through ``\\field`` groups), if any;
        a field in another field's result computes nothing."""
        for destination in reversed(self.destinations[:-1]):
            if destination.cword != b"field":
                return destination if destination.cword == b"fldinst" else None
        return None

    def _text(self, matchobject: re.Match[bytes]) -> None:
        text = matchobject.group()
        if self._skip_fallback and self.current_destination.cword in _TEXTUAL:
            text, self._skip_fallback = text[1:], False
        if self.current_destination.cword in (b"objdata", *_TEXTUAL):
            self.current_destination.data += text

    def control_word(self, matchobject: re.Match[bytes], cword: bytes, param: Any) -> None:
        # \uN spells a character in field instructions and template names: decode it so that
        # "\u68?DEAUTO" reads as DDEAUTO, as Word reads it.
        if cword == b"u" and param is not None and self.current_destination.cword in _TEXTUAL:
            self.current_destination.data += chr(int(param) % 65536).encode("utf-8", "replace")
            self._skip_fallback = True

    def bin(self, bindata: bytes) -> None:
        if self.current_destination.cword == b"objdata":
            self.current_destination.data += binascii.hexlify(bindata)

    def control_symbol(self, matchobject: re.Match[bytes]) -> None:
        symbol = matchobject.group()[1:2]
        if symbol in (b"\\", b"{", b"}") and self.current_destination.cword in _TEXTUAL:
            self.current_destination.data += symbol  # an escaped character, e.g. in a UNC path
        if symbol != b"'":
            return
        hexdigits = self.data[self.index + 2 : self.index + 4]
        self.index += 2  # \'hh: the two characters after it are skipped, whatever they are
        dest = self.current_destination
        if dest.cword in _TEXTUAL and re.fullmatch(rb"[0-9a-fA-F]{2}", hexdigits):
            dest.data.append(int(hexdigits, 16))  # "\'44DEAUTO" is DDEAUTO to Word
        if dest.cword == b"objdata":
            # Word drops the last hex digit before \'hh when it has read an odd number of them.
            tail = _NON_HEX.sub(b"", dest.data[dest.clean :])
            del dest.data[dest.clean :]
            dest.data += tail
            if len(dest.data) & 1:
                del dest.data[-1]
            dest.clean = len(dest.data)

    def close_destination(self, destination: Any) -> None:
        if destination.cword == b"fldinst":
            self.fields.append(bytes(destination.data))
        elif destination.cword == b"template":
            self.templates.append(bytes(destination.data))
        else:
            super().close_destination(destination)


def _class_name(obj: Any) -> str:
    """The OLE class name, also read from objects rtfobj could not parse (as Word might)."""
    raw = obj.class_name if obj.is_ole else b""
    data = obj.rawdata or b""
    if not obj.is_ole and len(data) >= 12:
        length = int.from_bytes(data[8:12], "little")
        raw = data[12 : 12 + min(length, 128)] if length > 0 else b""
    return bytes(raw).split(b"\0")[0].decode("latin-1")


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
        if not any(word in item.data for word in (b"\\objdata", b"\\fldinst", b"\\template")):
            return result
        parser = _Parser(item.data)
        try:
            parser.parse()
        except _DAMAGED:
            result.findings.append(finding(NAME, CORRUPT, f"damaged {_KIND}"))
        for index, obj in enumerate(parser.objects, start=1):
            self._object(obj, f"object {index}", context, result)
        if any(_DDE.match(field) for field in parser.fields):
            result.findings.append(finding(NAME, DDE, f"DDE field in the {_KIND}"))
        if any(_COMPUTED_TYPE.match(field) for field in parser.fields):
            message = f"field whose type is computed by a nested field in the {_KIND}"
            result.findings.append(finding(NAME, AMBIGUOUS, message, label="field"))
        if any(
            _FETCHING_FIELD.match(field) or _COMPUTED_FETCH.match(field) for field in parser.fields
        ):
            message = f"field that fetches a remote file into the {_KIND}"
            result.findings.append(finding(NAME, EXTERNAL_LINK, message))
        if any(_REMOTE_TEMPLATE.match(template) for template in parser.templates):
            message = f"remote template in the {_KIND}"
            result.findings.append(finding(NAME, EXTERNAL_LINK, message))
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
