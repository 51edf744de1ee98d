"""The parts of a legacy Office file the sensitive engine reads beside its cells and text (red
team 110): an .xls sheet's name, its print headers and footers, what its number formats show,
a sheet Excel finds by its position inside another record, and the document properties of
.xls, .doc and .ppt files. Each with an honest file of the same structure, which passes."""

from __future__ import annotations

import struct
import uuid

import olefile  # type: ignore[import-untyped]
import pytest

from support.oletools_data import ole_file
from support.property_sets import STREAM, with_user_properties
from test_sensitive_formats import biff, cards, excel95_stream, powerpoint97, scan, word97

CARD = "4111 1111 1111 1111"
SHEET_BOF = struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0)  # a worksheet's substream
GLOBALS_BOF = struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0)
EOF = biff(0x000A, b"")


def short8(text: str) -> bytes:
    """A BIFF8 ShortXLUnicodeString: a count byte, a flags byte (8-bit), the characters."""
    return bytes([len(text), 0]) + text.encode("latin-1")


def unicode8(text: str) -> bytes:
    """A BIFF8 XLUnicodeString: a 2-byte count, a flags byte (UTF-16), the characters."""
    return struct.pack("<HB", len(text), 1) + text.encode("utf-16-le")


def label(text: str, xf: int = 0) -> bytes:
    return biff(0x0204, struct.pack("<HHH", 0, 0, xf) + unicode8(text))


def number(value: float, xf: int = 0, column: int = 0) -> bytes:
    return biff(0x0203, struct.pack("<HHHd", 0, column, xf, value))


def workbook(sheets: list[tuple[str, list[bytes]]], *globals_: bytes) -> bytes:
    """An Excel 97-2003 file: its globals (``globals_``, then a BOUNDSHEET per sheet pointing
    at its substream), then each sheet's substream (BOF, its records, EOF)."""
    size = 4 + len(GLOBALS_BOF) + sum(map(len, globals_)) + len(EOF)
    size += sum(4 + 6 + len(short8(name)) for name, _ in sheets)
    bodies = [biff(0x0809, SHEET_BOF) + b"".join(records) + EOF for _, records in sheets]
    bounds, at = b"", size
    for (name, _), body in zip(sheets, bodies, strict=True):
        bounds += biff(0x0085, struct.pack("<IBB", at, 0, 0) + short8(name))
        at += len(body)
    stream = biff(0x0809, GLOBALS_BOF) + b"".join(globals_) + bounds + EOF + b"".join(bodies)
    return ole_file({"Workbook": stream})


def codes(data: bytes, kind: str = "xls") -> list[str]:
    return [f.code.name for f in scan(data, kind).findings]


# -- sheet names -------------------------------------------------------------------------------


def test_a_sheet_name_is_read_as_its_tab_shows_it() -> None:
    assert codes(workbook([(CARD, [label("hello")])])) == ["SENSITIVE_CARD"]
    honest = [("Sheet1", [label("hello")]), ("Q3 2024", []), ("Invoice 20240917", [])]
    assert codes(workbook(honest)) == []


def test_a_sheet_name_of_excel_95_is_read_in_its_code_page() -> None:
    name = f"Card {CARD}".encode("cp1252")
    bound = biff(0x0085, struct.pack("<IBBB", 0, 0, 0, len(name)) + name)
    assert codes(ole_file({"Book": excel95_stream(bound)})) == ["SENSITIVE_CARD"]


# -- print headers and footers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        f"&CCard {CARD}",
        "&L&BCard&B 4111 1111 &I1111&I 1111",  # codes inside the number: one number printed
        f'&R&"Arial,Bold"&KFF0000{CARD}&&',
    ],
)
@pytest.mark.parametrize("kind", [0x0014, 0x0015])  # HEADER, FOOTER
def test_print_headers_and_footers_are_read_as_printed(header: str, kind: int) -> None:
    data = workbook([("Sheet1", [biff(kind, unicode8(header)), label("hello")])])
    assert codes(data) == ["SENSITIVE_CARD"]


def test_first_and_even_page_headers_are_read() -> None:
    # HeaderFooter (Excel 2007): FrtHeader, a view's GUID, flags, four lengths, the strings
    even, first = "&CPage &P", f"&LCard {CARD}"
    body = struct.pack("<HH8x", 0x089C, 0) + bytes(16) + struct.pack("<H", 3)
    body += struct.pack("<4H", len(even), 0, len(first), 0)
    body += b"\x00" + even.encode() + b"\x01" + first.encode("utf-16-le")
    assert codes(workbook([("Sheet1", [biff(0x089C, body)])])) == ["SENSITIVE_CARD"]


def test_ordinary_headers_pass() -> None:
    records = [
        biff(0x0014, unicode8('&L&"Calibri,Bold"&14Quarterly report 2024&RPage &P of &N')),
        biff(0x0015, unicode8("&L&D &T&C&F&R&A")),
        biff(0x0014, b""),  # no header
        number(4111.0),
    ]
    assert codes(workbook([("Sheet1", records)])) == []


def test_a_header_of_excel_95_is_read_in_its_code_page() -> None:
    text = f"&CCard {CARD}".encode("cp1252")
    header = biff(0x0014, bytes([len(text)]) + text)
    assert codes(ole_file({"Book": excel95_stream(header)})) == ["SENSITIVE_CARD"]


# -- number formats ----------------------------------------------------------------------------


def formatted(code: str, *cells: bytes) -> bytes:
    """A workbook whose XF 1 has the number format ``code`` (FORMAT 164); XF 0 is General."""
    xf = [biff(0x00E0, struct.pack("<HH", 0, ifmt) + bytes(16)) for ifmt in (0, 164)]
    form = biff(0x041E, struct.pack("<H", 164) + unicode8(code))
    return workbook([("Sheet1", list(cells))], form, *xf)


@pytest.mark.parametrize(
    ("code", "cell"),
    [
        ('"Card 4111 1111 1111 "0000', number(1111.0, xf=1)),  # red team 110
        ('"4111 1111 1111 "0000', number(14.0, xf=1)),  # padded: "4111 1111 1111 0014"
        ('"4111 "0000" 1111 1111"', number(1111.0, xf=1)),  # the value between literals
        ('\\C\\a\\r\\d 4111 1111 0000 0000;"-"', number(11111111.0, xf=1)),  # escaped, laid in
        ('"Card "0000" "0000" "0000" "0000', number(4111111111111111.0, xf=1)),
        ("[$4111 1111 1111 -409]0000", number(1111.0, xf=1)),  # a currency tag's text
        ('0.00;0.00;0.00;"Card 4111 1111 "@', label("1111 1111", xf=1)),  # the text section
        ('0;0;0;"Card 4111 1111 1111 1111"', label("anything", xf=1)),
        ('"Card 4111 1111 1111 1"000%', number(1.11, xf=1)),  # a percentage: times 100
    ],
)
def test_what_a_number_format_shows_is_read(code: str, cell: bytes) -> None:
    assert codes(formatted(code, cell)) == ["SENSITIVE_CARD"], code


@pytest.mark.parametrize(
    "code",
    [
        "#,##0.00", "0000", "0.00%", "d/m/yyyy", "[Red]-#,##0.00", '"$"#,##0.00',
        '_("$"* #,##0.00_);_("$"* (#,##0.00);_("$"* "-"??_);_(@_)', "000-000-0000",
        '"Ref. "0', "[$€-407] #,##0.00", '# ?/16', '0" units"', '"Invoice "00000000',
    ],
)  # fmt: skip
def test_ordinary_number_formats_pass(code: str) -> None:
    cells = [number(v, xf=1, column=c) for c, v in enumerate((4111.0, 1111.0, 1234.5, 20240917.0))]
    assert codes(formatted(code, label("Total", xf=1), *cells)) == [], code


def test_a_format_no_cell_uses_is_not_what_a_cell_shows() -> None:
    # the format is there, but the cell is General (XF 0): Excel shows 1111 alone
    assert codes(formatted('"Card 4111 1111 1111 "0000', number(1111.0))) == []


def test_a_number_format_of_excel_95_is_read() -> None:
    code = b'"Card 4111 1111 1111 "0000'
    form = biff(0x041E, struct.pack("<HB", 164, len(code)) + code)
    xf = biff(0x00E0, struct.pack("<HH", 0, 164) + bytes(12))
    cell = biff(0x0203, struct.pack("<HHHd", 0, 0, 0, 1111.0))
    assert codes(ole_file({"Book": excel95_stream(form, xf, cell)})) == ["SENSITIVE_CARD"]


# -- a sheet inside another record -------------------------------------------------------------


def hidden_sheet(cell: bytes, inside: bool = True) -> bytes:
    """A workbook whose one sheet lies inside the data of a record of unknown type (0x1234),
    where its BOUNDSHEET points: Excel seeks there, a walk of the records steps over it."""
    sheet = biff(0x0809, SHEET_BOF) + cell + EOF
    globals_size = 4 + len(GLOBALS_BOF) + 4 + 6 + len(short8("Sheet1")) + len(EOF)
    at = globals_size + (4 if inside else 0)
    bound = biff(0x0085, struct.pack("<IBB", at, 0, 0) + short8("Sheet1"))
    stream = biff(0x0809, GLOBALS_BOF) + bound + EOF
    stream += biff(0x1234, sheet) if inside else sheet
    return ole_file({"Workbook": stream})


def test_a_sheet_is_read_where_its_boundsheet_puts_it() -> None:
    assert codes(hidden_sheet(label(f"Card {CARD}"))) == ["SENSITIVE_CARD"]
    assert len(cards(scan(hidden_sheet(label(f"Card {CARD}"), inside=False), "xls"))) == 1
    assert codes(hidden_sheet(label("Total 4111"))) == []


def test_bytes_where_no_sheet_starts_are_not_read_as_one() -> None:
    # a BOUNDSHEET pointing at a cell record inside an unknown record's data, with no BOF
    # there: Excel finds no sheet (the office engine reports it), and shows no such cell
    globals_size = 4 + len(GLOBALS_BOF) + 4 + 6 + len(short8("Sheet1")) + len(EOF)
    bound = biff(0x0085, struct.pack("<IBB", globals_size + 4, 0, 0) + short8("Sheet1"))
    stream = biff(0x0809, GLOBALS_BOF) + bound + EOF + biff(0x1234, label(f"Card {CARD}"))
    assert codes(ole_file({"Workbook": stream})) == []


# -- document properties -----------------------------------------------------------------------

SUMMARY_ID = uuid.UUID("F29F85E0-4FF9-1068-AB91-08002B27B3D9").bytes_le
DOCUMENT_ID = uuid.UUID("D5CDD502-2E9C-101B-9397-08002B2CF9AE").bytes_le
TITLE, SUBJECT, AUTHOR, KEYWORDS, COMMENTS = 2, 3, 4, 5, 6
CATEGORY, COMPANY = 2, 15  # of the document summary


def lpstr(text: str) -> bytes:
    raw = text.encode("cp1252") + b"\0"
    return struct.pack("<HHI", 0x1E, 0, len(raw)) + raw + bytes(-len(raw) % 4)


def property_set(fmtid: bytes, values: dict[int, str]) -> bytes:
    """A property set stream of one section: its code page (1252), then ``values`` as
    strings, as Office writes the summary information."""
    entries = [(1, struct.pack("<HHHH", 2, 0, 1252, 0))]
    entries += [(ident, lpstr(text)) for ident, text in values.items()]
    table, body = b"", b""
    start = 8 + 8 * len(entries)
    for ident, value in entries:
        table += struct.pack("<II", ident, start + len(body))
        body += value
    section = struct.pack("<II", start + len(body), len(entries)) + table + body
    header = struct.pack("<HHI", 0xFFFE, 0, 0x00020006) + bytes(16) + struct.pack("<I", 1)
    return header + fmtid + struct.pack("<I", 48) + section


def with_streams(data: bytes, streams: dict[str, bytes]) -> bytes:
    with olefile.OleFileIO(data) as ole:
        held = {path[0]: ole.openstream(path).read() for path in ole.listdir()}
    return ole_file({**held, **streams})


DOCUMENTS = {
    "xls": workbook([("Sheet1", [label("hello")])]),
    "doc": word97("Hello\r"),
    "ppt": powerpoint97("Hello\r"),
}


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
@pytest.mark.parametrize("ident", [TITLE, SUBJECT, AUTHOR, KEYWORDS, COMMENTS])
def test_summary_information_is_read(kind: str, ident: int) -> None:
    summary = property_set(SUMMARY_ID, {TITLE: "Report", ident: f"Card {CARD} exp 12/27"})
    data = with_streams(DOCUMENTS[kind], {"\x05SummaryInformation": summary})
    assert cards(scan(data, kind)) == ["document properties"]


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_document_summary_and_custom_properties_are_read(kind: str) -> None:
    company = property_set(DOCUMENT_ID, {COMPANY: f"Card {CARD}"})
    assert codes(with_streams(DOCUMENTS[kind], {STREAM: company}), kind) == ["SENSITIVE_CARD"]
    plain = with_streams(DOCUMENTS[kind], {STREAM: property_set(DOCUMENT_ID, {COMPANY: "ACME"})})
    custom = with_user_properties(plain, {"Card number": CARD})
    assert cards(scan(custom, kind)) == ["document properties"]
    named = with_user_properties(plain, {f"Card {CARD}": "yes"})  # its name is shown too
    assert codes(named, kind) == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_ordinary_properties_pass(kind: str) -> None:
    summary = property_set(
        SUMMARY_ID,
        {TITLE: "Quarterly report", SUBJECT: "Sales 2024", AUTHOR: "Jane Doe",
         KEYWORDS: "sales; Q3", COMMENTS: "Figures as of 2024-09-17, order 20240917-0042"},
    )  # fmt: skip
    document = property_set(DOCUMENT_ID, {CATEGORY: "Finance", COMPANY: "Contoso Ltd"})
    data = with_streams(DOCUMENTS[kind], {"\x05SummaryInformation": summary, STREAM: document})
    data = with_user_properties(data, {"Project": "2024-17", "Client number": "41111"})
    assert codes(data, kind) == []
