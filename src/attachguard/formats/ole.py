"""Legacy Office containers (OLE2 compound files): what the file really is, and the sheets of the
Excel 97-2003 or 5.0/95 workbook inside.

What it reads: olefile parses the compound file. The kind of container comes from the root
streams each application opens (Word reads ``WordDocument``, Excel ``Workbook`` or ``Book``,
PowerPoint ``PowerPoint Document``); the root class id is reported but trusted only to recognise
a Windows installer, because Office ignores it and a renamed one hides a workbook from tools
that go by it. The sheets come from the BOUNDSHEET records of the workbook's globals substream,
read here (oletools' ``xls_parser`` reads neither BOUNDSHEET, BIFF5's ``Book`` stream nor
CONTINUE records), and each sheet's type is checked against the BOF record its position points at.
Each sheet's substream is walked for its hyperlinks and formulas, which `biffsheets` judges,
and so are the web pages the workbook publishes (WebPub records, in the globals or a sheet).

Limits: at most `MAX_ENTRIES` directory entries are listed, `MAX_RECORDS` records walked and
`MAX_STREAM` bytes of workbook stream read (the sheets' substreams within one more
`MAX_RECORDS` together); going past one is reported, never silent. (olefile
itself reads the whole directory when it opens the file: one entry per 128 bytes of file at
most.) A file olefile cannot parse raises `OleUnreadable`.

Ambiguous (reported in ``problems``): two entries of one storage with the same name (readers
pick different ones), root streams of more than one application, and a sheet whose BOUNDSHEET
type differs from its substream's BOF. A file holding both a ``Workbook`` and a ``Book`` stream
(Excel's "97-2003 & 5.0/95" format: Excel reads Workbook, Excel 5.0/95 Book) is two workbooks,
each read and checked.
"""

from __future__ import annotations

import io
import re
import struct
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from typing import Any

import olefile  # type: ignore[import-untyped]

from attachguard.formats import biffsheets
from attachguard.formats.biffsheets import CellLink
from attachguard.formats.targets import target_kind

MAX_ENTRIES = 10_000  # a real Office file has tens to a few hundred
MAX_RECORDS = 1_000_000  # a 100 MB globals substream of 8 KB records has about 12,000
MAX_STREAM = 128 * 1024 * 1024

_MSI_CLSIDS = frozenset(
    {
        "000C1084-0000-0000-C000-000000000046",  # installer package (.msi)
        "000C1086-0000-0000-C000-000000000046",  # patch (.msp)
        "000C1082-0000-0000-C000-000000000046",  # transform (.mst)
    }
)
# What olefile raises on a damaged compound file (its errors are OSError subclasses); a
# degenerate directory tree overflows its recursive walk.
_DAMAGED = (
    OSError,
    ValueError,
    EOFError,
    LookupError,
    struct.error,
    RecursionError,
    OverflowError,  # olefile on an absurd sector shift (found by the fuzz harness)
)


class OleUnreadable(ValueError):
    """The bytes are not a compound file olefile can read."""


class OleKind(StrEnum):
    WORD = "word"
    EXCEL = "excel"
    POWERPOINT = "powerpoint"
    MSI = "msi"
    OUTLOOK = "outlook"
    VISIO = "visio"
    PUBLISHER = "publisher"
    WORKS = "works"
    ENCRYPTED_PACKAGE = "encrypted_package"
    OLE_PACKAGE = "ole_package"
    EQUATION = "equation"
    VBA_PROJECT = "vba_project"
    UNKNOWN = "unknown"


NAMES = {
    OleKind.WORD: "a Word 97-2003 document",
    OleKind.EXCEL: "an Excel 97-2003 workbook",
    OleKind.POWERPOINT: "a PowerPoint 97-2003 presentation",
    OleKind.MSI: "a Windows installer (MSI) package",
    OleKind.OUTLOOK: "an Outlook message",
    OleKind.VISIO: "a Visio drawing",
    OleKind.PUBLISHER: "a Publisher document",
    OleKind.WORKS: "a Microsoft Works document",
    OleKind.ENCRYPTED_PACKAGE: "an encrypted Office document",
    OleKind.OLE_PACKAGE: "an OLE package (a file wrapped for embedding)",
    OleKind.EQUATION: "an Equation Editor object",
    OleKind.VBA_PROJECT: "a bare VBA macro project",
    OleKind.UNKNOWN: "an unknown compound file",
}


@dataclass(frozen=True)
class _Root:
    """The root storage's entries, lower-cased as olefile compares them."""

    streams: frozenset[str]
    storages: frozenset[str]
    clsid: str

    @property
    def names(self) -> frozenset[str]:
        return self.streams | self.storages


def _msi_names(root: _Root) -> bool:
    # Windows Installer stores table and stream names packed into U+3800..U+4840
    return any("\u3800" <= name[:1] <= "\u4840" for name in root.names)


# Evidence for each kind, most specific first: the first match is the container's kind.
_RULES: tuple[tuple[OleKind, Callable[[_Root], bool]], ...] = (
    # an encrypted package: by a password (EncryptionInfo), or by rights management (a
    # sensitivity label: its DRMEncryptedTransform in the \x06DataSpaces storage instead)
    (
        OleKind.ENCRYPTED_PACKAGE,
        lambda r: (
            "encryptedpackage" in r.streams
            and ("encryptioninfo" in r.streams or "\x06dataspaces" in r.storages)
        ),
    ),
    (OleKind.WORD, lambda r: "worddocument" in r.streams),
    (OleKind.EXCEL, lambda r: bool({"workbook", "book"} & r.streams)),
    (OleKind.POWERPOINT, lambda r: "powerpoint document" in r.streams),
    (OleKind.MSI, lambda r: r.clsid in _MSI_CLSIDS or _msi_names(r)),
    (
        OleKind.OUTLOOK,
        lambda r: any(n.startswith(("__substg1.0_", "__properties_version1.0")) for n in r.names),
    ),
    (OleKind.VISIO, lambda r: "visiodocument" in r.streams),
    (OleKind.WORKS, lambda r: bool({"matost", "mn0", "wksssworkbook"} & r.streams)),
    (OleKind.PUBLISHER, lambda r: "contents" in r.streams and "quill" in r.storages),
    (OleKind.OLE_PACKAGE, lambda r: "\x01ole10native" in r.streams),
    (OleKind.EQUATION, lambda r: "equation native" in r.streams),
    (OleKind.VBA_PROJECT, lambda r: "vba" in r.storages and "project" in r.streams),
)


@dataclass(frozen=True)
class OleContainer:
    """What a compound file is: ``kind`` (the first of ``kinds``, the kinds its root entries
    point at), its human ``name``, the root ``clsid`` ("" when none), the stream paths
    (``storage/stream``; at most `MAX_ENTRIES` entries looked at, ``over_limit`` when more),
    and ``problems`` that make the file read differently by different readers."""

    kind: OleKind
    name: str
    clsid: str
    kinds: tuple[OleKind, ...]
    streams: tuple[str, ...]
    over_limit: bool = False
    problems: tuple[str, ...] = ()


_ENDOFCHAIN = 0xFFFFFFFE
_FREESECT = 0xFFFFFFFF
_MOST_DIFAT = 1 << 16  # DIFAT sectors followed: 8 million FAT sectors, far past any file


def with_difat_ended(data: bytes) -> bytes:
    """A compound file as Excel and LibreOffice read it: as many DIFAT sectors as its header
    counts, whatever the pointer after the last one says. olefile also wants that pointer to
    end the chain, and refused SAP's exports, which write DIFSECT there (hunt 103: CORRUPT);
    here it is set to ENDOFCHAIN. The sectors read, and so the file's content, are the same for
    both readers; anything but a compound file is returned as it is."""
    if len(data) < 512 or data[:8] != olefile.MAGIC:
        return data
    shift, first, count = data[30], *struct.unpack_from("<II", data, 68)
    size = 1 << shift if 7 <= shift <= 16 else 512
    sector = first
    for left in range(min(count, _MOST_DIFAT), 0, -1):
        at = (sector + 1) * size + size - 4  # the DIFAT sector's last pointer
        if at + 4 > len(data):
            return data
        sector = int.from_bytes(data[at : at + 4], "little")
        if left == 1 and sector not in (_ENDOFCHAIN, _FREESECT):
            return data[:at] + _ENDOFCHAIN.to_bytes(4, "little") + data[at + 4 :]
    return data


@contextmanager
def _opened(source: bytes | Any) -> Iterator[Any]:
    """An OleFileIO for ``source`` (bytes, or one already open, which is left open)."""
    if not isinstance(source, bytes | bytearray):
        yield source
        return
    if bytes(source[:8]) != olefile.MAGIC:
        raise OleUnreadable("not a compound file")
    try:
        # A BytesIO, never the bytes: olefile takes short bytes for a file name to open.
        ole = olefile.OleFileIO(io.BytesIO(with_difat_ended(bytes(source))))
    except _DAMAGED as exc:
        raise OleUnreadable("damaged compound file") from exc
    try:
        yield ole
    finally:
        ole.close()


def _walk(ole: Any) -> tuple[list[tuple[tuple[str, ...], Any]], bool]:
    """Every (path, entry) under the root, breadth first, at most `MAX_ENTRIES`; each directory
    entry once (a damaged directory can make a storage its own child: followed, that loop made
    the walk quadratic and took 15-37 s on a 5.6 KB file, found by the fuzz harness)."""
    out: list[tuple[tuple[str, ...], Any]] = []
    seen = {getattr(ole.root, "sid", -1)}
    queue: deque[tuple[tuple[str, ...], Any]] = deque([((), ole.root)])
    while queue:
        path, node = queue.popleft()
        for kid in node.kids:
            sid = getattr(kid, "sid", id(kid))
            if sid in seen:
                continue
            seen.add(sid)
            if len(out) >= MAX_ENTRIES:
                return out, True
            out.append(((*path, kid.name), kid))
            if kid.entry_type == olefile.STGTY_STORAGE:
                queue.append(((*path, kid.name), kid))
    return out, False


def _duplicates(entries: list[tuple[tuple[str, ...], Any]]) -> list[str]:
    """Entries that share a storage and a name: Windows and olefile may open different ones."""
    seen: set[tuple[str, ...]] = set()
    out: list[str] = []
    for path, _ in entries:
        key = (*path[:-1], path[-1].lower())
        if key in seen:
            out.append(f"two entries named {'/'.join(path)!r}")
        seen.add(key)
    return out


def classify_ole(source: bytes | Any) -> OleContainer:
    """What the compound file ``source`` (bytes or an open OleFileIO) really is; see
    `OleContainer`. Raises `OleUnreadable` when olefile cannot parse it."""
    with _opened(source) as ole:
        try:
            entries, over = _walk(ole)
        except _DAMAGED as exc:
            raise OleUnreadable("damaged compound file") from exc
        clsid = (ole.root.clsid or "").upper()
        issues = [str(message) for _, message in getattr(ole, "parsing_issues", ())]
    top = [(path[0].lower(), entry.entry_type) for path, entry in entries if len(path) == 1]
    root = _Root(
        streams=frozenset(n for n, t in top if t == olefile.STGTY_STREAM),
        storages=frozenset(n for n, t in top if t == olefile.STGTY_STORAGE),
        clsid=clsid,
    )
    kinds = tuple(kind for kind, rule in _RULES if rule(root)) or (OleKind.UNKNOWN,)
    problems = _duplicates(entries)
    problems += issues
    if len(kinds) > 1:
        problems.append(f"streams of {' and of '.join(NAMES[k] for k in kinds)}")
    if over:
        problems.append(f"more than {MAX_ENTRIES:,} directory entries; the rest not examined")
    streams = tuple(
        "/".join(path) for path, entry in entries if entry.entry_type == olefile.STGTY_STREAM
    )
    return OleContainer(kinds[0], NAMES[kinds[0]], clsid, kinds, streams, over, tuple(problems))


# -- Extensions --------------------------------------------------------------------------------

_OOXML = (".docx .docm .dotx .dotm .xlsx .xlsm .xlsb .xltx .xltm .xlam .pptx .pptm .ppsx .ppsm"
          " .potx .potm")  # fmt: skip
# The one kind each application opens under each extension. Word also opens an RTF or HTML
# file named .doc, and Office opens OOXML under a legacy name, but those are not compound files.
# An encrypted OOXML file is a compound file, and carries an OOXML extension.
_EXPECTED: dict[str, tuple[OleKind, str]] = {
    **dict.fromkeys((".doc", ".dot"), (OleKind.WORD, "Word")),
    # .xls as Excel 5.0/95 (a ``Book`` stream) is an Excel workbook too: Excel opens both
    **dict.fromkeys((".xls", ".xlt", ".xla", ".xlw"), (OleKind.EXCEL, "Excel")),
    **dict.fromkeys((".ppt", ".pps", ".pot", ".ppa"), (OleKind.POWERPOINT, "PowerPoint")),
    **dict.fromkeys((".msi", ".msp", ".mst"), (OleKind.MSI, "Windows Installer")),
    ".msg": (OleKind.OUTLOOK, "Outlook"),
    **dict.fromkeys((".vsd", ".vss", ".vst"), (OleKind.VISIO, "Visio")),
    ".pub": (OleKind.PUBLISHER, "Publisher"),
    **dict.fromkeys((".wps", ".xlr"), (OleKind.WORKS, "Works")),
    **dict.fromkeys(_OOXML.split(), (OleKind.ENCRYPTED_PACKAGE, "Office")),
}


@dataclass(frozen=True)
class ExtensionCheck:
    """Whether a compound file is what its extension says; ``message`` names both sides."""

    ok: bool
    message: str


def matches_extension(container: OleContainer, ext: str) -> ExtensionCheck:
    """Whether the application that opens ``ext`` (".doc") finds in ``container`` the one kind
    of file it expects, and nothing else. An extension not listed here is not judged (ok)."""
    ext = ext.lower() if ext.startswith(".") else f".{ext.lower()}"
    if ext not in _EXPECTED:
        return ExtensionCheck(True, f"{ext or 'no extension'}: not an Office extension")
    kind, app = _EXPECTED[ext]
    if container.kinds == (kind,):
        return ExtensionCheck(True, f"{container.name} named {ext}")
    actual = " and ".join(NAMES[k] for k in container.kinds)
    return ExtensionCheck(False, f"{actual} named {ext}; {app} expects {NAMES[kind]}")


# -- Excel workbooks: BIFF records -------------------------------------------------------------

_BOFS = frozenset({0x0809, 0x0409, 0x0209, 0x0009})
_EOF, _BOUNDSHEET, _FILEPASS, _CONTINUE = 0x000A, 0x0085, 0x002F, 0x003C
_SUPBOOK, _EXTERNNAME, _EXTERNSHEET = 0x01AE, 0x0023, 0x0017
# A pivot cache's source ([MS-XLS] 2.1.7.20.3 PIVOTCACHEDEFINITION) in the globals: a range or
# a name of another workbook (DConRef, DConName), or a database query (DbQuery, its SXString
# records after it); and an Excel 2007 data connection (DConn). Excel refreshes them from
# outside the file (on open with RefreshAll); only sheets' query tables were read, and a red
# team's pivot cache of an ODBC source on another server and of a range in a workbook on a
# share passed.
_DCONREF, _DCONNAME = 0x0051, 0x0052
# DbQuery, DConn (not SXString: a pivot cache's string items are SXString records too)
_EXTERNAL_DATA = frozenset({0x00DC, 0x0876})
_KEPT = (
    _BOFS
    | {_EOF, _BOUNDSHEET, _FILEPASS, _SUPBOOK, _EXTERNNAME, _EXTERNSHEET, _DCONREF, _DCONNAME}
    | _EXTERNAL_DATA
    | {biffsheets.WEBPUB}  # a web page published from the workbook (`biffsheets.web_published`)
)
_NAMES = biffsheets.GLOBAL_RECORDS
_TAKEN = "which readers take differently"
# BIFF5 EXTERNSHEET names of this workbook: itself (0x04), one of its sheets (0x02, or 0x03
# and the sheet's name), add-in functions (":"). Anything else names another document: 0x01
# starts an encoded path (a workbook, or a DDE program and topic), and a reader takes a name
# with no code at all for a plain path.
_SHEET_NAME = re.compile(rb"[\x02\x03][^\x00-\x1f\[\]\\/:*?]{0,31}")
_MAX_NAMES = 100  # external names listed per link


class SheetType(IntEnum):
    """BOUNDSHEET's sheet type byte."""

    WORKSHEET = 0x00  # or dialog sheet
    MACRO = 0x01  # Excel 4 (XLM) macro sheet
    CHART = 0x02
    VB_MODULE = 0x06
    UNKNOWN = 0xFF


class Visibility(IntEnum):
    VISIBLE = 0
    HIDDEN = 1
    VERY_HIDDEN = 2  # only a macro or the VBA editor can show it
    UNKNOWN = 3


_SHEET_TYPES = {t.value: t for t in SheetType}
# The BOF document type each sheet type's substream starts with. Microsoft Graph (the chart in
# a PowerPoint or Word 97-2003 file) starts its chart's substream with 0x8000: a chart either
# way, never a macro sheet.
_SUBSTREAM = {0x0010: SheetType.WORKSHEET, 0x0040: SheetType.MACRO, 0x0020: SheetType.CHART,
              0x8000: SheetType.CHART, 0x0006: SheetType.VB_MODULE}  # fmt: skip


@dataclass(frozen=True)
class Sheet:
    """One sheet as BOUNDSHEET declares it; ``substream`` is the type of the BOF record at its
    position (None when there is none there)."""

    name: str
    type: SheetType
    visibility: Visibility
    substream: SheetType | None
    position: int = field(default=-1, compare=False)  # of its substream in the stream

    @property
    def is_macro_sheet(self) -> bool:
        """Excel 4 macros, whichever of the two declarations says so."""
        return SheetType.MACRO in (self.type, self.substream)


class LinkKind(StrEnum):
    DDE_OR_OLE = "dde_or_ole"  # Excel asks another program for data: DDE can start it
    EXTERNAL = "external"  # another workbook
    ELSEWHERE = "elsewhere"  # Excel 5.0/95: another workbook or a DDE program (one encoding)


@dataclass(frozen=True)
class Link:
    """A SUPBOOK link: ``target`` with its control-character separators shown as "|"
    (``cmd|/c calc`` for DDE) and the external names used through it."""

    kind: LinkKind
    target: str
    names: tuple[str, ...] = ()
    path: str = ""  # an external workbook's encoded file name, as the SUPBOOK has it

    @property
    def local(self) -> bool:
        """Whether an external workbook link leads to a file on the reader's own computer (a
        drive, beside the workbook, a startup folder) rather than a share or a URL, read as
        Excel reads the encoded file name (`opened_path`), judged as a .xlsx's link is."""
        path = opened_path(self.path)
        if self.kind is not LinkKind.EXTERNAL or not path:
            return False
        # a bracketed name ("[\\\\host\\s\\b.xls]Sheet1", "[http://...]"), a share or a URL
        # anywhere in it (after a startup folder, a URL part's length): not the reader's own
        doubled = path.replace("/", "\\")[1:].find("\\\\") >= 0
        if "[" in path or "]" in path or doubled or "://" in path:
            return False
        return target_kind(path) in ("local", "relative")


def opened_path(encoded: str) -> str | None:
    """The path an external workbook's encoded file name (MS-XLS 2.5.277, VirtualPath) stands
    for. ``\\x01`` starts an encoded name, whose parts are: ``\\x01`` then a drive letter, or
    ``@`` and a server (a share); ``\\x02`` the root of the workbook's own drive; ``\\x03`` a
    folder separator; ``\\x04`` one folder up; ``\\x05``, a length and a URL; ``\\x06`` to
    ``\\x08`` Excel's startup and library folders; other characters as they are. A name not
    encoded is a file beside the workbook. None for a name not read here (any other control
    character, a drive part cut short)."""
    if not encoded.startswith("\x01"):
        return None if any(ord(char) < 0x20 for char in encoded) else encoded
    out: list[str] = []
    rest = encoded[1:]
    while rest:
        char, rest = rest[0], rest[1:]
        if char in _SIMPLE_PARTS:
            out.append(_SIMPLE_PARTS[char])
        elif char in "\x01\x05":
            part = _sized_part(char, rest)
            if part is None:
                return None
            out.append(part[0])
            rest = rest[part[1] :]
        elif ord(char) < 0x20:
            return None
        else:
            out.append(char)
    return "".join(out)


# the encoded parts that stand for a text of their own
_SIMPLE_PARTS = {
    "\x02": "\\",
    "\x03": "\\",
    "\x04": "..\\",
    **dict.fromkeys("\x06\x07\x08", "C:\\Program Files\\Microsoft Office\\"),
}


def _sized_part(code: str, rest: str) -> tuple[str, int] | None:
    """A drive (``\\x01`` and its letter, or ``@``: a share) or a URL part (``\\x05``, its
    length, then as many characters) as (its text, the characters it takes after the code);
    None when cut short or not a drive letter."""
    if not rest:
        return None
    if code == "\x05":
        size = ord(rest[0])
        return (rest[1 : 1 + size], 1 + size) if len(rest) > size else None
    if rest[0] == "@":
        return "\\\\", 1
    return (rest[0] + ":", 1) if rest[0].isascii() and rest[0].isalpha() else None


@dataclass(frozen=True)
class Workbook:
    """The globals of one workbook stream. ``encrypted`` (a FILEPASS record) means the sheets
    after it cannot be read; ``problems`` says what else could not be read or is ambiguous."""

    stream: str
    biff: int
    sheets: tuple[Sheet, ...]
    encrypted: bool
    links: tuple[Link, ...]
    problems: tuple[str, ...]
    cells: frozenset[CellLink] = frozenset()  # what its sheets' cells link to (`biffsheets`)


@dataclass
class _Record:
    type: int
    offset: int
    data: bytearray
    breaks: list[int] = field(default_factory=list)  # where each CONTINUE's data starts


class _Truncated(ValueError):
    """A string or field runs past the end of its record."""


@dataclass
class _Budget:
    """Records left to walk, shared by the walks of one stream's sheets."""

    records: int


def _records(
    stream: bytes,
    problems: list[str],
    start: int = 0,
    kept: frozenset[int] = _KEPT,
    budget: _Budget | None = None,
) -> Iterator[_Record]:
    """The ``kept`` records of the substream at ``start`` (up to its EOF: the globals' by
    default), CONTINUE data appended; at most `MAX_RECORDS` records, or ``budget``'s."""
    pos, depth = start, 0
    budget = budget or _Budget(MAX_RECORDS)
    part = "its globals" if start == 0 else "a sheet"
    pending: _Record | None = None
    while True:
        if pos + 4 > len(stream):
            problems.append(f"the workbook stream ends before {part} end")
            break
        rtype, size = struct.unpack_from("<HH", stream, pos)
        if pos + 4 + size > len(stream):
            problems.append(f"truncated record 0x{rtype:04X} at offset {pos}")
            break
        budget.records -= 1
        if budget.records < 0:
            problems.append(f"more than {MAX_RECORDS:,} records; the rest not read")
            break
        data = stream[pos + 4 : pos + 4 + size]
        if rtype == _CONTINUE and pending is not None:
            pending.breaks.append(len(pending.data))
            pending.data += data
        else:
            if pending is not None:
                yield pending
            pending = _Record(rtype, pos, bytearray(data)) if rtype in kept else None
            depth += 1 if rtype in _BOFS else -1 if rtype == _EOF else 0
        pos += 4 + size
        if depth <= 0:
            break
    if pending is not None:
        yield pending


def _chars(record: _Record, pos: int, count: int) -> str:
    """A BIFF8 XLUnicodeStringNoCch at ``pos`` (its option byte first). A string cut by a
    CONTINUE restarts with its own option byte, as Excel writes and reads it."""
    data, out = record.data, []
    while True:
        if pos >= len(data):
            raise _Truncated
        wide, pos = data[pos] & 1, pos + 1
        end = next((b for b in record.breaks if b >= pos), len(data))
        take = min(count, (end - pos) // (2 if wide else 1))
        raw = bytes(data[pos : pos + take * (2 if wide else 1)])
        out.append(raw.decode("utf-16-le" if wide else "latin-1"))
        pos, count = pos + len(raw), count - take
        if not count:
            return "".join(out)
        if pos != end:
            raise _Truncated


def _short_string(record: _Record, pos: int, biff: int) -> str:
    """A ShortXLUnicodeString (BIFF8) or a byte string (BIFF5) at ``pos``: count byte first."""
    if pos >= len(record.data):
        raise _Truncated
    count = record.data[pos]
    if biff == 8:
        return _chars(record, pos + 1, count)
    raw = bytes(record.data[pos + 1 : pos + 1 + count])
    if len(raw) < count:
        raise _Truncated
    return raw.decode("cp1252", "replace")  # BIFF5 names are in the workbook's code page


def _bof_type(stream: bytes, pos: int) -> SheetType | None:
    """The sheet type of the BOF record at ``pos``, None when there is no BOF there."""
    if pos < 0 or pos + 8 > len(stream):
        return None
    rtype, size, _, dt = struct.unpack_from("<HHHH", stream, pos)
    if rtype not in _BOFS or size < 4:
        return None
    return _SUBSTREAM.get(dt, SheetType.UNKNOWN)


def _sheet(record: _Record, stream: bytes, biff: int, problems: list[str]) -> Sheet | None:
    if len(record.data) < 6:
        problems.append(f"short BOUNDSHEET record at offset {record.offset}")
        return None
    position, state, dt = struct.unpack_from("<IBB", record.data)
    try:
        name = _short_string(record, 6, biff)
    except _Truncated:
        problems.append(f"BOUNDSHEET at offset {record.offset}: its name is cut short")
        name = ""
    sheet_type = _SHEET_TYPES.get(dt, SheetType.UNKNOWN)
    sheet = Sheet(name, sheet_type, Visibility(state & 3), _bof_type(stream, position), position)
    if sheet.substream is None and sheet.type is not SheetType.VB_MODULE:
        problems.append(f"sheet {name!r}: no sheet starts at its position {position}")
    elif sheet.substream not in (None, sheet.type):
        declared, found = sheet.type.name.lower(), sheet.substream.name.lower()
        problems.append(f"sheet {name!r}: declared a {declared}, its content is a {found}")
    return sheet


def _link(record: _Record) -> Link | None:
    """The OLE/DDE or external-workbook link a SUPBOOK declares (None for the others)."""
    if len(record.data) < 4:
        return None
    ctab, cch = struct.unpack_from("<HH", record.data)
    if not 0 < cch <= 0xFF:  # 0x0401 this workbook, 0x3A01 add-in functions
        return None
    try:
        path = encoded = _chars(record, 4, cch)
    except _Truncated:
        path, encoded = "(cut short)", ""
    if path in (" ", "\x00"):  # unused, or the same sheet
        return None
    kind = LinkKind.DDE_OR_OLE if ctab == 0 else LinkKind.EXTERNAL
    return Link(kind, _shown(path), path=encoded)


def _source_workbook(record: _Record) -> Link | None:
    """The other workbook a pivot cache's DConRef takes its range from (its range, 6 bytes,
    then the file name's length and the name, encoded as a SUPBOOK's), or its DConName a
    defined name from (the name first), judged as an external workbook link is; None for this
    workbook's (no file name)."""
    at = 6  # DConRef: after its range; DConName: after the name (an XLUnicodeString)
    if record.type == _DCONNAME and len(record.data) >= 3:
        name_length = int.from_bytes(record.data[:2], "little")
        at = 3 + name_length * (2 if record.data[2] & 1 else 1)
    if len(record.data) < at + 2:
        return None
    (cch,) = struct.unpack_from("<H", record.data, at)
    if cch == 0:
        return None
    try:
        encoded = _chars(record, at + 2, cch)
    except _Truncated:
        return Link(LinkKind.EXTERNAL, "(cut short)")
    if encoded.startswith("\x02"):
        return None  # a sheet of this workbook (Excel writes "\x02Sheet1"): no other file
    return Link(LinkKind.EXTERNAL, _shown(encoded), path=encoded)


def _own(name: bytes) -> bool:
    """Whether a BIFF5 EXTERNSHEET name refers to this workbook (see `_SHEET_NAME`)."""
    return name in (b"", b"\x04", b":") or _SHEET_NAME.fullmatch(name) is not None


def _shown(path: str) -> str:
    """A link's encoded path with its control-character separators shown as "|"."""
    return "".join("|" if ord(c) < 0x20 else c for c in path).strip("|")


def _extern_name(record: _Record) -> str:
    """An EXTERNNAME's name: options (2 bytes), 4 more, then a ShortXLUnicodeString."""
    try:
        return _short_string(record, 6, 8)
    except _Truncated:
        return "(cut short)"


@dataclass
class _Globals:
    biff: int
    sheets: list[Sheet] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    encrypted: bool = False
    external_data: bool = False  # a pivot cache's database query or a data connection
    published: set[CellLink] = field(default_factory=set)  # web pages written elsewhere on save


def biff_of(version: int) -> int | None:
    """The BIFF version a workbook's BOF record declares, as Excel and LibreOffice take it, by
    its high byte (0x06xx: BIFF8, 0x05xx: BIFF5); None for any other, which readers resolve
    differently (by the stream's name, by trying): both engines then read it both ways."""
    return {0x0600: 8, 0x0500: 5}.get(version & 0xFF00)


def _read_globals(stream: bytes, default_biff: int, problems: list[str]) -> _Globals:
    records = _records(stream, problems)
    first = next(records, None)
    if first is None or first.type not in _BOFS or len(first.data) < 4:
        problems.append("the workbook stream does not start with a BOF record")
        return _Globals(default_biff)
    version, dt = struct.unpack_from("<HH", first.data)
    biff = biff_of(version)
    if biff is None:
        problems.append(f"a BOF of BIFF version 0x{version:04X}, which readers take differently")
    found = _Globals(biff or default_biff)
    if dt != 0x0005:
        problems.append(f"the workbook stream starts with a BOF of type 0x{dt:04X}, not globals")
    for record in records:
        _one(record, stream, found, problems)
    return found


def _one(record: _Record, stream: bytes, found: _Globals, problems: list[str]) -> None:
    if record.type == _FILEPASS:
        found.encrypted = True  # record data is encrypted from here on: names, types, links
    elif found.encrypted:
        return
    elif record.type == _BOUNDSHEET:
        sheet = _sheet(record, stream, found.biff, problems)
        if sheet is not None:
            found.sheets.append(sheet)
    elif record.type in _EXTERNAL_DATA:
        found.external_data = True
    elif record.type == biffsheets.WEBPUB:
        found.published |= biffsheets.web_published(bytes(record.data))
    else:
        _outside(record, found)


def _outside(record: _Record, found: _Globals) -> None:
    """A link to another workbook or program a globals record declares."""
    if record.type in (_SUPBOOK, _DCONREF, _DCONNAME) and found.biff == 8:
        link = _link(record) if record.type == _SUPBOOK else _source_workbook(record)
        if link is not None:
            found.links.append(link)
    elif record.type == _EXTERNSHEET and found.biff == 5:
        name = bytes(record.data[1 : 1 + record.data[0]]) if record.data else b""
        if not _own(name):
            found.links.append(Link(LinkKind.ELSEWHERE, _shown(name.decode("latin-1"))))
    elif (
        record.type == _EXTERNNAME
        and found.biff == 8
        and found.links
        and len(found.links[-1].names) < _MAX_NAMES
    ):
        last = found.links[-1]
        found.links[-1] = replace(last, names=(*last.names, _extern_name(record)))


def read_workbooks(source: bytes | Any) -> list[Workbook]:
    """The workbook in each root ``Workbook`` (BIFF8) and ``Book`` (BIFF5) stream of
    ``source`` (bytes or an open OleFileIO), whatever the root class id says; empty when there
    is none. BIFF5 links (EXTERNSHEET) do not say whether they name a workbook or a DDE
    program: they are `LinkKind.ELSEWHERE`."""
    with _opened(source) as ole:
        return _workbooks(ole)


def _stream(ole: Any, name: str, problems: list[str]) -> bytes | None:
    """The stream ``name`` within `MAX_STREAM` bytes, else None and a problem."""
    try:
        if ole.get_type(name) == olefile.STGTY_STREAM and ole.get_size(name) <= MAX_STREAM:
            return bytes(ole.openstream(name).read())
    except _DAMAGED:
        problems.append(f"the {name} stream is damaged")
        return None
    problems.append(f"the {name} stream is not a stream or is over {MAX_STREAM:,} bytes")
    return None


def _workbooks(ole: Any) -> list[Workbook]:
    present = [(name, biff) for name, biff in (("Workbook", 8), ("Book", 5)) if ole.exists(name)]
    out = []
    for name, biff in present:
        problems: list[str] = []
        stream = _stream(ole, name, problems)
        found = _read_globals(stream, biff, problems) if stream is not None else _Globals(biff)
        cells = _cells(stream, found, problems) if stream is not None else frozenset()
        if found.external_data or _cached_queries(ole):
            cells |= {CellLink.EXTERNAL_DATA}
        cells |= found.published
        out.append(
            Workbook(name, found.biff, tuple(found.sheets), found.encrypted, tuple(found.links),
                     tuple(problems), cells)
        )  # fmt: skip
    return out


def _cached_queries(ole: Any) -> bool:
    """Whether a pivot cache stream (``_SX_DB_CUR``/``_SX_DB``, any case) holds a database
    query or a data connection (`_EXTERNAL_DATA`) as a globals substream would."""
    for path in ole.listdir(streams=True, storages=False):
        if len(path) == 2 and path[0].lower() in ("_sx_db_cur", "_sx_db"):
            stream = _stream(ole, "/".join(path), [])
            if stream is not None and _EXTERNAL_DATA & set(_record_types(stream)):
                return True
    return False


def _record_types(stream: bytes) -> Iterator[int]:
    """The types of a stream's records one after the other (a pivot cache has no BOF), at
    most `MAX_RECORDS` of them."""
    pos = 0
    for _ in range(MAX_RECORDS):
        if pos + 4 > len(stream):
            return
        rtype, size = struct.unpack_from("<HH", stream, pos)
        yield rtype
        pos += 4 + size


def _cells(stream: bytes, found: _Globals, problems: list[str]) -> frozenset[CellLink]:
    """What the hyperlinks and formulas of the workbook's sheets link to (`biffsheets`): each
    substream a sheet starts walked once, all of them within `MAX_RECORDS` records together
    (many sheets may point at one big substream). Not read past a FILEPASS: encrypted."""
    if found.encrypted:
        return frozenset()
    # the names formulas call by index; the globals' own problems are reported already
    names = biffsheets.Names.read(found.biff, _pairs(_records(stream, [], 0, _NAMES)))
    budget, out = _Budget(MAX_RECORDS), set()
    pointed = sorted({sheet.position for sheet in found.sheets if sheet.substream is not None})
    # a substream no sheet points at: Excel shows no sheet for it, a stream walker reads it
    # (looked for only when the sheet list was read whole: else every sheet would be one)
    hidden = [] if problems else biffsheets.unpointed(stream, [s.position for s in found.sheets])
    problems += [f"a substream at offset {at} that no sheet points at, {_TAKEN}" for at in hidden]
    for start in pointed + hidden:
        records = _records(stream, problems, start, biffsheets.SHEET_RECORDS, budget)
        out |= biffsheets.links(_pairs(records), found.biff, names, problems)
    return frozenset(out)


def _pairs(records: Iterator[_Record]) -> Iterator[tuple[int, bytes]]:
    return ((record.type, bytes(record.data)) for record in records)


def excel_sheets(source: bytes | Any) -> list[Sheet]:
    """Every sheet of every workbook stream in ``source``. Only the sheets: `read_workbooks`
    also says what could not be read (an encrypted or damaged workbook lists no sheets)."""
    return [sheet for book in read_workbooks(source) for sheet in book.sheets]
