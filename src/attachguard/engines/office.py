"""Office engine: Word, Excel and PowerPoint files, old (OLE) and new (OOXML), with oletools and
msoffcrypto-tool.

Finds ENCRYPTED (password protected; a file encrypted with Excel's built-in default password,
which Excel opens without asking, is decrypted and handed back as a child instead), VBA_MACRO
(saying whether auto-run or suspicious keywords were seen), XLM_MACRO (Excel 4 macro sheets),
DDE (DDE fields and DDE links), OLE_OBJECT (embedded objects, packages, ActiveX controls),
EXTERNAL_LINK (remote templates, linked objects, links to outside workbooks) and CORRUPT.

Embedded payloads are returned as children so that every engine scans them. For OOXML only what
this engine unwraps (the file inside an OLE package) is returned: the zip engine already hands
every zip member to the pipeline.

Limits: before any library reads a zip or OLE container, its member count and declared expanded
size are checked against ``context.limits`` (Python's zipfile never inflates a member past its
declared size, so this bounds every later read); extracted children are capped at
``max_members`` items and ``max_expanded_bytes`` bytes. Going past a limit is a finding.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
import zlib
from importlib.metadata import version
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

import msoffcrypto
import olefile  # type: ignore[import-untyped]
from msoffcrypto.exceptions import DecryptionError, FileFormatError, ParseError
from oletools import msodde, oleobj, olevba, xls_parser
from oletools.ppt_record_parser import PptFile, PptRecordExOleVbaActiveXAtom, is_ppt

from attachguard.codes import (
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    CORRUPT,
    DDE,
    ENCRYPTED,
    EXTERNAL_LINK,
    OLE_OBJECT,
    VBA_MACRO,
    XLM_MACRO,
    Code,
)
from attachguard.engines.base import Child, Context, EngineSpec, Item, Options, Result, finding
from attachguard.engines.embedded import add_child, describe_clsid, object_message, safe_name
from attachguard.errors import LimitExceeded
from attachguard.formats.formulas import runs_command

NAME = "office"

_KINDS = {
    "doc": "Word document",
    "docx": "Word document",
    "xls": "Excel workbook",
    "xlsx": "Excel workbook",
    "xlsb": "Excel workbook",
    "ppt": "PowerPoint presentation",
    "pptx": "PowerPoint presentation",
}

# Excel opens a file encrypted with this password without asking: it hides nothing from Excel.
_EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"  # noqa: S105  (Excel's published default)
# Office itself uses 100,000 rounds; a file may ask for 10,000,000 to stall the scan.
_MAX_SPIN_COUNT = 100_000

# Relationship types that Office follows by itself when they point outside the file.
# Hyperlinks are left out: they need a click, and nearly every document has some.
_EXTERNAL = {
    "attachedTemplate": "remote template",
    "frame": "external frame",
    "subDocument": "external sub-document",
    "oleObject": "linked external object",
    "package": "linked external package",
    "externalLink": "link to an external workbook",
    "externalLinkPath": "link to an external workbook",
    "externalReference": "link to an external workbook",
}
_EXTERNAL_OTHER = {"officeDocument", "slide", "slideMaster", "slideUpdateInfo", "slideUpdateUrl",
                   "worksheet"}  # fmt: skip
_XLM_RELS = ("xlMacrosheet", "xlIntlMacrosheet")
_RELS_CAP = 4 * 1024 * 1024  # a relationships part is a few KB; more is not a real document
_EMBEDDED = re.compile(r"[^/]+/embeddings/[^/]+$", re.IGNORECASE)
_ACTIVEX = re.compile(r"[^/]+/activeX/activeX\d*\.xml$", re.IGNORECASE)

# What damaged or hostile input makes the parsers raise (olefile raises OSError subclasses).
DAMAGED = (OSError, ValueError, EOFError, LookupError, AssertionError, NotImplementedError,
           struct.error, zlib.error, zipfile.BadZipFile, ElementTree.ParseError, expat.ExpatError,
           olevba.OlevbaBaseException, ParseError)  # fmt: skip


def _open_ole(data: bytes, budget: int) -> Any:
    """An OLE file whose streams, as declared, fit in ``budget`` bytes (chained sectors can
    make a small file declare far more than its size)."""
    ole = olefile.OleFileIO(data)
    if sum(ole.get_size(p) for p in ole.listdir()) > budget:
        ole.close()
        raise LimitExceeded(ARCHIVE_EXPANSION, "content expands past the byte limit")
    return ole


def _say(result: Result, code: Code, message: str, **extra: Any) -> None:
    result.findings.append(finding(NAME, code, message, **extra))


def _budget(result: Result, context: Context) -> int:
    return context.limits.max_expanded_bytes - sum(len(c.data) for c in result.children)


class OfficeEngine:
    """Macros, DDE, embedded objects, external links and encryption in Office files."""

    name = NAME

    def __init__(self) -> None:
        # looked up once: reading package metadata costs about 1 ms, and reports ask every scan
        self._version = (
            f"oletools {version('oletools')}, msoffcrypto-tool {version('msoffcrypto-tool')}"
        )

    def version(self) -> str:
        return self._version

    def scan(self, item: Item, context: Context) -> Result:
        result = Result()
        kind = _KINDS.get(item.type.label, "Office document")
        try:
            if item.data[:8] == olefile.MAGIC:
                self._scan_ole(item, kind, context, result)
            else:
                self._scan_zip(item, kind, context, result)
        except LimitExceeded as exc:
            _say(result, exc.code, f"{kind} not fully analysed: {exc}")
        except DAMAGED:
            _say(result, CORRUPT, f"damaged {kind}")
        return result

    # -- OLE: doc, xls, ppt, and encrypted files of every kind -----------------------------
    def _scan_ole(self, item: Item, kind: str, context: Context, result: Result) -> None:
        ole = _open_ole(item.data, context.limits.max_expanded_bytes)
        if self._encrypted(item, context, result):
            return
        self._macros(item, kind, result)
        if xls_parser.is_xls(item.data):
            self._xls_links(item.data, kind, result)
        elif ole.exists("WordDocument") and msodde.process_doc(ole):
            _say(result, DDE, f"DDE field in the {kind}")
        for path in ole.listdir(streams=False, storages=True):
            # Word keeps embedded objects in ObjectPool/<id>, Excel in MBD<id> storages.
            if (path[0] == "ObjectPool" and len(path) == 2) or (
                len(path) == 1 and path[0].startswith("MBD")
            ):
                self._ole_object(ole, path, "/".join(path), kind, context, result)
        if ole.exists("\x01Ole10Native"):  # a bare object, as OOXML files keep them
            self._ole_object(ole, [], "", kind, context, result)
        if is_ppt(item.data):
            for index, data in enumerate(self._ppt_objects(item.data, context)):
                embedded = _open_ole(data, _budget(result, context))
                self._ole_object(embedded, [], f"object {index + 1}", kind, context, result)

    def _encrypted(self, item: Item, context: Context, result: Result) -> bool:
        """ENCRYPTED, or the content decrypted with Excel's default password as a child."""
        try:
            office = msoffcrypto.OfficeFile(io.BytesIO(item.data))
            if not office.is_encrypted():
                return False
        except FileFormatError:  # an OLE file that is not Word, Excel or PowerPoint
            return False
        except DecryptionError:  # encrypted with a method msoffcrypto does not know
            office = None
        info = getattr(office, "info", None)
        spins = info.get("spinValue", 0) if isinstance(info, dict) else 0
        if office is not None and spins <= _MAX_SPIN_COUNT:
            plain = io.BytesIO()
            try:
                office.load_key(password=_EXCEL_DEFAULT_PASSWORD)
                office.decrypt(plain)
            except (DecryptionError, *DAMAGED):
                pass
            else:
                where = "content decrypted with Excel's default password"
                add_child(result, Child(where, plain.getvalue()), context, NAME)
                return True
        message = "password-protected Office document (cannot be scanned)"
        _say(result, ENCRYPTED, message)
        return True

    def _macros(self, item: Item, kind: str, result: Result) -> None:
        parser = olevba.VBA_Parser(filename=item.name, data=item.data, disable_pcode=True)
        try:
            if parser.detect_vba_macros():
                seen = {kw_type for kw_type, _, _ in parser.analyze_macros() or ()}
                notes = []
                if "AutoExec" in seen:
                    notes.append("run automatically")
                if "Suspicious" in seen:
                    notes.append("use suspicious commands")
                message = f"macro-enabled {kind}"
                if notes:
                    message += f" (the macros {' and '.join(notes)})"
                _say(result, VBA_MACRO, message)
            if parser.detect_xlm_macros():
                self._xlm(kind, result)
        finally:
            parser.close()

    def _xlm(self, kind: str, result: Result) -> None:
        if not any(f.code is XLM_MACRO for f in result.findings):
            message = f"Excel 4 (XLM) macros in the {kind}"
            _say(result, XLM_MACRO, message)

    def _xls_links(self, data: bytes, kind: str, result: Result) -> None:
        """DDE and external-workbook links in an Excel 97-2003 workbook (SUPBOOK records)."""
        book = xls_parser.XlsFile(data)
        try:
            types = {
                record.support_link_type
                for stream in book.iter_streams()
                if isinstance(stream, xls_parser.WorkbookStream)
                for record in stream.iter_records()
                if isinstance(record, xls_parser.XlsRecordSupBook)
            }
        finally:
            book.close()
        if xls_parser.XlsRecordSupBook.LINK_TYPE_OLE_DDE in types:
            _say(result, DDE, f"DDE link in the {kind}")
        if xls_parser.XlsRecordSupBook.LINK_TYPE_EXTERNAL in types:
            message = f"link to an external workbook in the {kind}"
            _say(result, EXTERNAL_LINK, message)

    def _ppt_objects(self, data: bytes, context: Context) -> list[bytes]:
        """OLE files embedded in PowerPoint records, inflated within the byte limit."""
        out: list[bytes] = []
        budget = context.limits.max_expanded_bytes
        ppt = PptFile(data)
        try:
            for stream in ppt.iter_streams():
                for record in stream.iter_records():
                    if not isinstance(record, PptRecordExOleVbaActiveXAtom):
                        continue
                    raw = record.data
                    if record.is_compressed():
                        raw = zlib.decompressobj().decompress(raw[4:], budget + 1)
                    budget -= len(raw)
                    if budget < 0:
                        message = "embedded objects expand past the byte limit"
                        raise LimitExceeded(ARCHIVE_EXPANSION, message)
                    # VBA projects are stored in such records too; olevba reports those.
                    if raw[:8] == olefile.MAGIC and not olefile.OleFileIO(raw).exists("VBA"):
                        out.append(raw)
        finally:
            ppt.close()
        return out

    def _ole_object(
        self, ole: Any, storage: list[str], where: str, kind: str, context: Context, result: Result
    ) -> None:
        """An OLE_OBJECT finding for one embedded object; its payloads become children.

        The payload is the file inside an OLE package, else the object's data streams (names
        starting with a control character are OLE bookkeeping, not content)."""
        label, cves = describe_clsid((ole.getclsid(storage) if storage else ole.root.clsid) or "")
        streams = [p for p in ole.listdir() if len(p) == len(storage) + 1 and p[:-1] == storage]
        names = {p[-1].lower() for p in streams}
        if "\x01ole10native" in names:
            label = "Package"
        what = "ActiveX control" if "\x03ocxname" in names else "embedded object"
        message = object_message(what, label, cves, kind)
        _say(result, OLE_OBJECT, message, label=label, location=where or None)
        for path in streams:
            if path[-1].lower() == "\x01ole10native":
                package = oleobj.OleNativeStream(ole.openstream(path).read())
                if package.is_link or not package.data:
                    continue
                name, data = safe_name(package.filename or "package"), bytes(package.data)
            elif path[-1][:1] >= " ":
                name, data = safe_name(path[-1]), ole.openstream(path).read()
            else:
                continue
            if not add_child(
                result, Child(f"{where}/{name}" if where else name, data), context, NAME
            ):
                return

    # -- OOXML: docx, xlsx, pptx, xlsb and their macro-enabled variants --------------------
    def _scan_zip(  # noqa: C901  (replaced by the OPC reader, issue 8)
        self, item: Item, kind: str, context: Context, result: Result
    ) -> None:
        archive = zipfile.ZipFile(io.BytesIO(item.data))
        infos = archive.infolist()
        limits = context.limits
        if len(infos) > limits.max_members:
            message = f"more than {limits.max_members} parts"
            raise LimitExceeded(ARCHIVE_MEMBERS, message)
        if sum(info.file_size for info in infos) > limits.max_expanded_bytes:
            raise LimitExceeded(ARCHIVE_EXPANSION, "content expands past the byte limit")
        if any(info.flag_bits & 1 for info in infos):  # Office never encrypts zip entries
            raise zipfile.BadZipFile("encrypted zip entries")
        self._macros(item, kind, result)
        self._relationships(archive, infos, kind, result)
        names = [info.filename for info in infos]
        if any(name.startswith("xl/macrosheets/") for name in names):
            self._xlm(kind, result)
        dde = ""
        if any(name.startswith("word/") for name in names):
            dde = msodde.process_docx(io.BytesIO(item.data), msodde.FIELD_FILTER_DDE)
        elif any(_BINARY_SHEET.match(name) for name in names):  # .xlsb: binary records
            dde = msodde.process_xlsx(io.BytesIO(item.data))
        elif any(name.startswith("xl/") for name in names):
            self._workbook_dde(archive, infos, kind, result)
        if dde.strip():
            _say(result, DDE, f"DDE field in the {kind}")
        for info in infos:
            if _ACTIVEX.match(info.filename):
                message = object_message("ActiveX control", None, [], kind)
                _say(result, OLE_OBJECT, message, location=info.filename)
            elif _EMBEDDED.match(info.filename):
                data = archive.read(info)
                if data[:8] == olefile.MAGIC:
                    embedded = _open_ole(data, _budget(result, context))
                    self._ole_object(embedded, [], info.filename, kind, context, result)
                else:  # a whole document inside: the zip engine returns it for scanning
                    message = object_message("embedded document", None, [], kind)
                    _say(result, OLE_OBJECT, message, location=info.filename)

    def _workbook_dde(
        self, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], kind: str, result: Result
    ) -> None:
        """DDE links (a ``ddeLink`` element) and cell formulas that run a command, read from the
        raw XML parts: msodde walks every element in Python (14 s for a 3 MB workbook) and
        does not look at formulas at all."""
        for info in infos:
            if not (info.filename.startswith("xl/") and info.filename.endswith(".xml")):
                continue
            part = archive.read(info)
            if b"ddeLink" in part and _DDE_LINK.search(part):
                _say(result, DDE, f"DDE link in the {kind}", location=info.filename)
            elif _SHEET.match(info.filename) and _dde_formula(part):
                message = f"cell formula that runs a command (DDE) in the {kind}"
                _say(result, DDE, message, location=info.filename)

    def _relationships(
        self, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], kind: str, result: Result
    ) -> None:
        """EXTERNAL_LINK for relationships Office follows outside the file; XLM macro sheets."""
        for info in infos:
            if not info.filename.lower().endswith(".rels"):
                continue
            if info.file_size > _RELS_CAP:
                raise ValueError("oversized relationships part")
            for rel in _parse_rels(archive.read(info)):
                rel_type = rel.get("Type", "").rsplit("/", 1)[-1]
                if rel_type in _XLM_RELS:
                    self._xlm(kind, result)
                elif rel.get("TargetMode", "").lower() == "external" and (
                    rel_type in _EXTERNAL or rel_type in _EXTERNAL_OTHER
                ):
                    message = f"{_EXTERNAL.get(rel_type, 'external link')} in the {kind}"
                    where = info.filename
                    _say(result, EXTERNAL_LINK, message, label=rel_type, location=where)


_BINARY_SHEET = re.compile(r"xl/(?:worksheets|externalLinks)/[^/]+\.bin$")
_DDE_LINK = re.compile(rb"<(?:\w+:)?ddeLink[\s>/]")
_SHEET = re.compile(r"xl/(?:worksheets|macrosheets|dialogsheets)/[^/]+\.xml$")
_FORMULA = re.compile(rb"<f(?:\s[^>]*)?>([^<]{1,8192})</f>")


def _dde_formula(sheet: bytes) -> bool:
    """Whether any cell formula in a worksheet's XML starts a program through DDE."""
    if b"|" not in sheet and not any(word in sheet for word in (b"DDE", b"dde", b"Dde")):
        return False  # the fast path: a DDE command needs one of these
    for match in _FORMULA.finditer(sheet):
        if runs_command(html.unescape(match.group(1).decode("utf-8", "replace"))):
            return True
    return False


def _parse_rels(text: bytes) -> list[dict[str, str]]:
    """The attributes of every Relationship; a DTD (entity tricks) makes the part damaged."""
    found: list[dict[str, str]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rsplit("}", 1)[-1] == "Relationship":
            found.append(attrs)

    def doctype(*_: object) -> None:
        raise ValueError("DTD in a relationships part")

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    parser.Parse(text, True)
    return found


ENGINE = EngineSpec(
    name=NAME,
    summary="Office macros (VBA, XLM), DDE, embedded objects, external links, encryption "
    "(oletools, msoffcrypto-tool)",
    types=("doc", "xls", "ppt", "docx", "xlsx", "pptx", "xlsb", "encrypted_office"),
    codes=(
        VBA_MACRO,
        XLM_MACRO,
        DDE,
        OLE_OBJECT,
        EXTERNAL_LINK,
        ENCRYPTED,
        CORRUPT,
        ARCHIVE_MEMBERS,
        ARCHIVE_EXPANSION,
    ),
    build=lambda options, resources: OfficeEngine(),
    options=Options,
    order=30,
)
