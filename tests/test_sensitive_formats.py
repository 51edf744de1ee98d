"""The sensitive engine in each place a number can hide: text and CSV, DOCX, XLSX, PPTX, RTF,
PDF, legacy .doc/.xls/.ppt; each with a hostile case and a benign look-alike."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from xml.sax.saxutils import escape

import pytest

from attachguard import samples
from attachguard.engines.base import Context, Item, Result
from attachguard.engines.sensitive import ClassRule, SensitiveEngine, SensitiveOptions
from attachguard.policy import Limits
from attachguard.report import FileType
from attachguard.sensitive.ocr import OcrPicture
from support.oletools_data import ole_file

VISA = "4111111111111111"
AMEX = "378282246310005"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
OFFICE = "application/vnd.openxmlformats-officedocument."
GROUPS = {"txt": ("text", True), "csv": ("code", True)}


class Blank:
    """An OCR backend that reads nothing."""

    name = "blank"

    def version(self) -> str:
        return "blank"

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        return []


def scan(data: bytes, label: str, ocr: Blank | None = None, **options: object) -> Result:
    engine = SensitiveEngine(SensitiveOptions.model_validate(options), ocr)
    group, is_text = GROUPS.get(label, ("document", False))
    item = Item(f"file.{label}", data, FileType(label, "", group, is_text))
    return engine.scan(item, Context(Limits(), deadline=time.monotonic() + 30))


def found(result: Result) -> list[tuple[str, str, str | None]]:
    return [(f.code.name, f.message, f.location) for f in result.findings]


def cards(result: Result) -> list[str | None]:
    return [f.location for f in result.findings if f.code.name == "SENSITIVE_CARD"]


# -- text and CSV ------------------------------------------------------------------------------


def test_text_names_the_line() -> None:
    result = scan(f"hello\nmy card is {VISA} exp 12/28\n".encode(), "txt")
    assert found(result) == [
        ("SENSITIVE_CARD", "a payment card number (Visa, ending 1111)", "line 2")
    ]
    assert result.facts["sensitive"]["found"] == {"card": 1}


def test_csv_cells_and_utf16() -> None:
    rows = f"name,card,expiry\nbob,{VISA},12/28\nalice,{AMEX},01/29\n"
    result = scan(rows.encode("utf-16"), "csv")
    assert found(result)[0][1] == (
        "2 payment card numbers (Visa ending 1111, American Express ending 0005)"
    )


def test_text_look_alikes_pass() -> None:
    text = (
        "Order number: 4111111111111111\nPaid with **** **** **** 1111\nIMEI: 356938035643809\n"
        "Total: $1,234.56 on 2026-03-14\nCall +44 20 7946 0958\n"
    )
    result = scan(text.encode(), "txt")
    assert result.findings == [] and result.facts["sensitive"]["found"] == {"card": 0}


def test_min_count_and_allow() -> None:
    text = f"{VISA}\n".encode()
    assert found(scan(text, "txt", classes={"card": {"min_count": 2}})) == []
    allowed = scan(text, "txt", classes={"card": ClassRule(action="allow")})
    assert allowed.findings == [] and allowed.facts["sensitive"]["found"] == {"card": 1}


def test_optional_classes() -> None:
    text = b"IBAN DE89 3704 0044 0532 0130 00, SSN 536-22-1234\n"
    assert found(scan(text, "txt")) == []
    both = scan(text, "txt", classes={"iban": {}, "ssn": {}})
    assert sorted(f[0] for f in found(both)) == ["SENSITIVE_IBAN", "SENSITIVE_SSN"]
    assert "(DE, ending 3000)" in found(both)[0][1] + found(both)[1][1]


# -- Office Open XML ---------------------------------------------------------------------------


def package(parts: dict[str, tuple[str, bytes]], rels: dict[str, list[tuple[str, str]]]) -> bytes:
    """An OPC package: ``parts`` name → (content type, bytes); ``rels`` source part ("" for
    the package) → [(relationship type, target)]."""
    overrides = "".join(
        f'<Override PartName="/{name}" ContentType="{kind}"/>' for name, (kind, _) in parts.items()
    )
    types = (
        f'<Types xmlns="{PKG}/content-types"><Default Extension="rels" ContentType="application/'
        f'vnd.openxmlformats-package.relationships+xml"/><Default Extension="png" '
        f'ContentType="image/png"/>{overrides}</Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        for source, targets in rels.items():
            folder, _, name = source.rpartition("/")
            path = f"{folder}/_rels/{name}.rels" if source else "_rels/.rels"
            items = "".join(
                f'<Relationship Id="rId{n}" Type="{R}/{kind}" Target="{target}"/>'
                for n, (kind, target) in enumerate(targets, 1)
            )
            archive.writestr(
                path, f'<Relationships xmlns="{PKG}/relationships">{items}</Relationships>'
            )
        for name, (_, data) in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def word(body: str, header: str | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    def part(root: str, inner: str) -> bytes:
        return f'<w:{root} xmlns:w="{W}" xmlns:r="{R}">{inner}</w:{root}>'.encode()

    parts = {"word/document.xml": (f"{OFFICE}wordprocessingml.document.main+xml",
                                   part("document", f"<w:body>{body}</w:body>"))}  # fmt: skip
    rels: dict[str, list[tuple[str, str]]] = {"": [("officeDocument", "word/document.xml")]}
    if header is not None:
        parts["word/header1.xml"] = (f"{OFFICE}wordprocessingml.header+xml", part("hdr", header))
        rels["word/document.xml"] = [("header", "header1.xml")]
    for name, data in (extra or {}).items():
        parts[name] = ("application/xml", data)
    return package(parts, rels)


def para(*runs: str) -> str:
    return (
        "<w:p>"
        + "".join(f'<w:r><w:t xml:space="preserve">{escape(r)}</w:t></w:r>' for r in runs)
        + "</w:p>"
    )


def test_docx_number_split_over_runs() -> None:
    body = para("Please charge ", "4111 11", "11 1111 ", "1111", " today")
    assert cards(scan(word(body), "docx")) == ["word/document.xml"]


def test_docx_header_table_and_text_box() -> None:
    header = para("Customer card: ", VISA)
    assert cards(scan(word(para("Invoice"), header=header), "docx")) == ["word/header1.xml"]
    table = f"<w:tbl><w:tr><w:tc>{para('Card')}</w:tc><w:tc>{para(AMEX)}</w:tc></w:tr></w:tbl>"
    assert cards(scan(word(table), "docx")) == ["word/document.xml"]
    box = (
        '<w:p><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox>'
        f"<w:txbxContent>{para(VISA)}</w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"
    )
    assert cards(scan(word(box), "docx")) == ["word/document.xml"]


def test_docx_character_references_and_tracked_deletions() -> None:
    digits = "".join(f"&#{ord(c)};" for c in VISA)
    deleted = f"<w:del><w:r><w:delText>{AMEX}</w:delText></w:r></w:del>"
    body = f"<w:p><w:r><w:t>{digits}</w:t></w:r></w:p><w:p>{deleted}</w:p>"
    result = scan(word(body), "docx")
    assert found(result)[0][1].startswith("2 payment card numbers")


def test_docx_cells_never_join_into_a_number() -> None:
    cells = f"<w:tc>{para('4111 1111')}</w:tc><w:tc>{para('1111 1111')}</w:tc>"
    table = f"<w:tbl><w:tr>{cells}</w:tr></w:tbl>"
    body = table + para("Paid with ", "**** **** **** ", "1111") + para("Order number: ", VISA)
    assert scan(word(body), "docx").findings == []


def test_docx_parts_nothing_reaches_are_not_read() -> None:
    hidden = f'<w:document xmlns:w="{W}"><w:body>{para(VISA)}</w:body></w:document>'.encode()
    data = word(para("hello"))
    with zipfile.ZipFile(io.BytesIO(data), "a") as archive:
        archive.writestr("word/orphan.xml", hidden)
    assert scan(data, "docx").findings == []


def workbook(sheet: str, strings: str | None = None) -> bytes:
    parts = {
        "xl/workbook.xml": (f"{OFFICE}spreadsheetml.sheet.main+xml",
                            f'<workbook xmlns="{S}" xmlns:r="{R}"><sheets><sheet name="A" '
                            'sheetId="1" r:id="rId1"/></sheets></workbook>'.encode()),
        "xl/worksheets/sheet1.xml": (f"{OFFICE}spreadsheetml.worksheet+xml",
                                     f'<worksheet xmlns="{S}"><sheetData>{sheet}</sheetData>'
                                     "</worksheet>".encode()),
    }  # fmt: skip
    targets = [("worksheet", "worksheets/sheet1.xml")]
    if strings is not None:
        parts["xl/sharedStrings.xml"] = (f"{OFFICE}spreadsheetml.sharedStrings+xml",
                                         f'<sst xmlns="{S}">{strings}</sst>'.encode())  # fmt: skip
        targets.append(("sharedStrings", "sharedStrings.xml"))
    rels = {"": [("officeDocument", "xl/workbook.xml")], "xl/workbook.xml": targets}
    return package(parts, rels)


def test_xlsx_shared_strings_with_rich_runs() -> None:
    rich = "<r><t>4111 1111 </t></r><r><rPr><b/></rPr><t>1111 1111</t></r>"
    strings = f"<si><t>Card</t></si><si>{rich}</si>"
    data = workbook('<row r="1"><c r="A1" t="s"><v>1</v></c></row>', strings)
    assert cards(scan(data, "xlsx")) == ["xl/worksheets/sheet1.xml"]  # the cell that shows it


def test_xlsx_numeric_and_inline_cells() -> None:
    numeric = '<row r="2"><c r="B2"><v>3.78282246310005E+14</v></c></row>'  # Excel's 15 digits
    assert found(scan(workbook(numeric), "xlsx"))[0][1].startswith(
        "a payment card number (American"
    )
    inline = f'<row r="2"><c r="B2" t="inlineStr"><is><t>{VISA}</t></is></c></row>'
    assert cards(scan(workbook(inline), "xlsx")) == ["xl/worksheets/sheet1.xml"]


def test_xlsx_neighbouring_cells_and_amounts_pass() -> None:
    row = '<row r="1"><c r="A1"><v>4111111</v></c><c r="B1"><v>111111111</v></c>'
    row += f'<c r="C1"><v>{VISA}.5</v></c><c r="D1"><v>1234.56</v></c></row>'
    assert scan(workbook(row), "xlsx").findings == []


def test_pptx_slide_and_notes() -> None:
    def shape(*runs: str) -> bytes:
        text = "".join(f"<a:r><a:t>{r}</a:t></a:r>" for r in runs)
        tree = f"<p:spTree><p:sp><p:txBody><a:p>{text}</a:p></p:txBody></p:sp></p:spTree>"
        return f'<p:sld xmlns:p="{P}" xmlns:a="{A}"><p:cSld>{tree}</p:cSld></p:sld>'.encode()

    parts = {
        "ppt/presentation.xml": (f"{OFFICE}presentationml.presentation.main+xml",
                                 f'<p:presentation xmlns:p="{P}"/>'.encode()),
        "ppt/slides/slide1.xml": (f"{OFFICE}presentationml.slide+xml", shape("Agenda")),
        "ppt/notesSlides/notesSlide1.xml": (f"{OFFICE}presentationml.notesSlide+xml",
                                            shape("call back, card ", "4111 1111 ", "1111 1111")),
    }  # fmt: skip
    rels = {
        "": [("officeDocument", "ppt/presentation.xml")],
        "ppt/presentation.xml": [("slide", "slides/slide1.xml")],
        "ppt/slides/slide1.xml": [("notesSlide", "../notesSlides/notesSlide1.xml")],
    }
    assert cards(scan(package(parts, rels), "pptx")) == ["ppt/notesSlides/notesSlide1.xml"]


def test_damaged_package_is_left_to_its_engine() -> None:
    result = scan(b"PK\x03\x04 not really", "docx")
    assert result.findings == []
    assert result.facts["sensitive"]["not_read"] == ["the package could not be read"]


# -- PDF ---------------------------------------------------------------------------------------


def test_pdf_names_the_page() -> None:
    data = samples.pdf([["Statement", "Balance 12.00"], ["Card number", grouped(VISA)]])
    assert cards(scan(data, "pdf")) == ["page 2"]


def grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def test_pdf_page_cap() -> None:
    data = samples.pdf([["Statement"], ["more"], [f"card {VISA}"]])
    result = scan(data, "pdf", max_pages=2)
    message = "1 pages not read for sensitive numbers (page or time limit)"
    assert found(result) == [("SENSITIVE_LIMIT", message, None)]


def test_pdf_receipt_passes() -> None:
    data = samples.pdf([["Receipt", "Visa **** **** **** 1111", "Auth code 123456", "Total 12.00"]])
    assert scan(data, "pdf").findings == []


def test_pdf_pictures_that_cannot_be_decoded_are_noted() -> None:
    scan_page = samples.pdf([[]], image=samples.jpeg(samples.photo(300, 200), exif=False))
    jpeg2000 = scan_page.replace(b"/DCTDecode", b"/JPXDecode")  # the same length: offsets hold
    result = scan(jpeg2000, "pdf", Blank())
    assert result.findings == []
    assert result.facts["sensitive"]["not_read"] == [
        "a picture on page 1 (it could not be decoded)"
    ]


def test_pdf_that_does_not_open_is_left_to_its_engine() -> None:
    result = scan(b"%PDF-1.7\nnothing else", "pdf")
    assert result.findings == [] and result.facts["sensitive"]["not_read"]


# -- RTF ---------------------------------------------------------------------------------------


def test_rtf_text_escapes_and_groups() -> None:
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}\f0 Card: 4111 {\b 1111} 1111"
        rb" \u49?\'31\'31\'31\par thanks}"
    )
    assert found(scan(rtf, "rtf")) == [
        ("SENSITIVE_CARD", "a payment card number (Visa, ending 1111)", None)
    ]


def test_rtf_unicode_fallback_is_counted_as_word_counts_it() -> None:
    # \u52's fallback is the control word after it (RTF 1.9.1: one character), so the 1 after
    # it is shown: a reader that dropped it read 15 digits, no card (red team 100)
    rtf = rb"{\rtf1\ansi Card: \uc1\u52\lang1033 111 1111 1111 1111\par}"
    assert found(scan(rtf, "rtf")) == [
        ("SENSITIVE_CARD", "a payment card number (Visa, ending 1111)", None)
    ]


def test_rtf_destinations_that_show_nothing_pass() -> None:
    rtf = (
        rb"{\rtf1{\fonttbl{\f0 " + VISA.encode() + rb";}}{\*\generator " + VISA.encode() + rb";}"
        rb"{\stylesheet{\s1 "
        + VISA.encode()
        + rb";}}{\*\listtable{\list{\listname "
        + VISA.encode()
        + rb";}\listid1}}{\info{\creatim\yr2024\mo1\dy2}{\nofpages1}}Paid with **** 1111\par}"
    )
    assert scan(rtf, "rtf").findings == []


# -- legacy Office -----------------------------------------------------------------------------


def word97(text: str, compressed: bool = True) -> bytes:
    """A Word 97 file: a FIB that points at a piece table with one piece of ``text``."""
    at = 1024
    encoded = text.encode("cp1252" if compressed else "utf-16-le")
    fib = bytearray(at) + encoded
    struct.pack_into("<HH", fib, 0, 0xA5EC, 0x00C1)
    struct.pack_into("<H", fib, 0x0A, 0x0200)  # the table is 1Table
    struct.pack_into("<H", fib, 32, 14)  # csw
    struct.pack_into("<H", fib, 34 + 28, 22)  # cslw
    base = 34 + 28 + 2 + 88 + 2
    fc = (at * 2) | 0x40000000 if compressed else at
    plc = struct.pack("<II", 0, len(text)) + struct.pack("<HIH", 0, fc, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", fib, base + 33 * 8, 0, len(clx))
    return ole_file({"WordDocument": bytes(fib), "1Table": clx})


def biff(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def excel97(*records: bytes) -> bytes:
    bof = biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    return ole_file({"Workbook": bof + b"".join(records) + biff(0x000A, b"")})


def excel95_stream(*records: bytes, version: int = 0x0500) -> bytes:
    """An Excel 5.0/95 workbook stream (BIFF5, or what its BOF's ``version`` says)."""
    bof = biff(0x0809, struct.pack("<HHHH", version, 0x0005, 0, 0))
    return bof + b"".join(records) + biff(0x000A, b"")


def label5(text: bytes, row: int = 1) -> bytes:
    """A BIFF5 LABEL: a cell's text as bytes in the workbook's code page."""
    return biff(0x0204, struct.pack("<HHHH", row, 1, 0, len(text)) + text)


def powerpoint97(text: str) -> bytes:
    atom = struct.pack("<HHI", 0, 0x0FA0, len(text) * 2) + text.encode("utf-16-le")
    container = struct.pack("<HHI", 0x000F, 0x03E8, len(atom)) + atom
    return ole_file({"PowerPoint Document": container})


@pytest.mark.parametrize("compressed", [True, False])
def test_doc_piece_table(compressed: bool) -> None:
    assert len(cards(scan(word97(f"Hello\rCard {VISA}\r", compressed), "doc"))) == 1
    assert scan(word97("Order number: 4111111111111111\r", compressed), "doc").findings == []


def test_xls_numbers_labels_and_shared_strings_across_continue() -> None:
    number = biff(0x0203, struct.pack("<HHHd", 1, 1, 0, float(AMEX)))
    assert found(scan(excel97(number), "xls"))[0][1].startswith("a payment card number (American")
    text = f"Card {VISA}"
    first, rest = text[:9], text[9:]
    sst = biff(0x00FC, struct.pack("<II", 1, 1) + struct.pack("<HB", len(text), 0) + first.encode())
    more = biff(0x003C, b"\x01" + rest.encode("utf-16-le"))  # continues as UTF-16
    assert len(cards(scan(excel97(sst, more), "xls"))) == 1


def test_xls_neighbouring_numbers_pass() -> None:
    cells = biff(0x0203, struct.pack("<HHHd", 1, 1, 0, 4111111.0))
    cells += biff(0x0203, struct.pack("<HHHd", 1, 2, 0, 111111111.0))
    assert scan(excel97(cells), "xls").findings == []


def test_xls_encrypted_is_left_to_its_engine() -> None:
    result = scan(excel97(biff(0x002F, b"\x00\x00")), "xls")
    assert result.findings == [] and "encrypted" in result.facts["sensitive"]["not_read"][0]


def test_xls_of_excel_95_is_read_in_its_code_page() -> None:
    # Excel 5.0/95 keeps a "Book" stream: its strings are bytes in the workbook's code page
    plain = ole_file({"Book": excel95_stream(label5(f"Card {VISA}".encode()))})
    assert len(cards(scan(plain, "xls"))) == 1
    shift_jis = f"カード番号 {_WIDE_CARD}".encode("shift_jis")
    japanese = excel95_stream(biff(0x0042, struct.pack("<H", 932)), label5(shift_jis))
    assert len(cards(scan(ole_file({"Book": japanese}), "xls"))) == 1
    rich = biff(0x00D6, struct.pack("<HHHH", 1, 1, 0, 21) + f"Card {VISA}".encode() + b"\0")
    assert len(cards(scan(ole_file({"Book": excel95_stream(rich)}), "xls"))) == 1
    masked = ole_file({"Book": excel95_stream(label5(b"Paid, **** 1111"))})
    assert scan(masked, "xls").findings == []


def test_xls_saved_for_excel_97_and_95_is_read_twice() -> None:
    # "Microsoft Excel 97-2003 & 5.0/95": Excel reads Workbook, Excel 5.0/95 Book
    bof8 = biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    clean = bof8 + biff(0x000A, b"")
    book = excel95_stream(label5(f"Card {VISA}".encode()))
    assert len(cards(scan(ole_file({"Workbook": clean, "Book": book}), "xls"))) == 1
    # a Book stream whose BOF says BIFF8 is read as BIFF8 (Unicode strings)
    wide = f"Card {VISA}".encode("utf-16-le")
    label8 = biff(0x0204, struct.pack("<HHHHB", 1, 1, 0, len(wide) // 2, 1) + wide)
    book8 = excel95_stream(label8, version=0x0600)
    assert len(cards(scan(ole_file({"Workbook": clean, "Book": book8}), "xls"))) == 1


# A card number in full-width digits, as a Windows set up for Chinese, Japanese or Korean types it
_WIDE_CARD = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in "4111 1111 1111 1111")


def label8(text: str) -> bytes:
    wide = text.encode("utf-16-le")
    return biff(0x0204, struct.pack("<HHHHB", 1, 1, 0, len(text), 1) + wide)


@pytest.mark.parametrize("version", [0x0600, 0x0601, 0x0680, 0x0500, 0x0000, 0x0700])
def test_xls_strings_are_read_as_the_bof_version_says(version: int) -> None:
    # Excel and LibreOffice take the version's high byte; one they take differently (0x0000,
    # 0x0700) is read both ways
    card = f"Card {VISA}"
    cells = label8(card) if version & 0xFF00 != 0x0500 else label5(card.encode())
    for stream in ("Workbook", "Book"):
        data = ole_file({stream: excel95_stream(cells, version=version)})
        assert len(cards(scan(data, "xls"))) == 1, (stream, hex(version))


@pytest.mark.parametrize(
    "trap",
    [
        biff(0x00FC, b""),  # an empty "shared string table": nothing in BIFF5
        biff(0x00FC, struct.pack("<II", 1, 5) + b"\x10\x00\x00ab"),  # cut short
    ],
    ids=["empty-sst", "short-sst"],
)
def test_a_shared_string_table_that_cannot_be_read_leaves_the_cells_read(trap: bytes) -> None:
    for cells, version in (
        (label5(f"Card {VISA}".encode()), 0x0500),
        (label8(f"Card {VISA}"), 0x0600),
    ):
        data = ole_file({"Book": excel95_stream(cells, trap, version=version)})
        assert len(cards(scan(data, "xls"))) == 1


def test_filepass_outside_the_globals_does_not_hide_the_cells() -> None:
    # encryption is declared in the globals; a FILEPASS in a sheet's records is no such thing
    sheet = biff(0x0809, struct.pack("<HHHH", 0x0500, 0x0010, 0, 0))
    records = [biff(0x000A, b""), sheet, biff(0x002F, b"\0\0"), label5(f"Card {VISA}".encode())]
    assert len(cards(scan(ole_file({"Book": excel95_stream(*records)}), "xls"))) == 1
    encrypted = ole_file({"Book": excel95_stream(biff(0x002F, b"\0\0"))})
    assert "encrypted" in scan(encrypted, "xls").facts["sensitive"]["not_read"][0]


@pytest.mark.parametrize(
    ("pages", "text"),
    [
        ([500, 1252], f"Card {VISA}".encode("cp1252")),  # every declared code page is read
        ([1252, 500], f"Card {VISA}".encode("cp500")),
        ([65000], f"Card {VISA}".encode("utf-7")),  # code pages Python names otherwise
        ([50220], f"カード {_WIDE_CARD}".encode("iso2022_jp")),
        ([52936], f"卡号 {_WIDE_CARD}".encode("hz")),
    ],
)
def test_xls_of_excel_95_is_read_in_every_code_page_it_declares(
    pages: list[int], text: bytes
) -> None:
    declared = [biff(0x0042, struct.pack("<H", page)) for page in pages]
    data = ole_file({"Book": excel95_stream(*declared, label5(text))})
    assert len(cards(scan(data, "xls"))) == 1


def with_note(stream: str, text: str) -> bytes:
    """A workbook with a note on a cell (TXO): its text in the CONTINUE records after it, then
    its formatting; BIFF8's text in two pieces, each with its flags byte (8-bit, UTF-16)."""
    txo = biff(0x01B6, struct.pack("<HH6xHHH4x", 0x0212, 0, len(text), 16, 0))
    runs = biff(0x003C, bytes(16))
    if stream == "Workbook":
        head, rest = text[:9], text[9:]
        pieces = biff(0x003C, b"\x00" + head.encode()) + biff(
            0x003C, b"\x01" + rest.encode("utf-16-le")
        )
        return ole_file({"Workbook": excel95_stream(txo, pieces, runs, version=0x0600)})
    return ole_file({"Book": excel95_stream(txo, biff(0x003C, text.encode()), runs)})


@pytest.mark.parametrize("stream", ["Workbook", "Book"])
def test_xls_cell_comments_are_read(stream: str) -> None:
    assert len(cards(scan(with_note(stream, f"card {VISA}"), "xls"))) == 1
    assert scan(with_note(stream, "card **** **** **** 1111"), "xls").findings == []


def test_ppt_text_atoms() -> None:
    assert len(cards(scan(powerpoint97(f"Card {grouped(VISA)}\r"), "ppt"))) == 1
    assert scan(powerpoint97("Paid with **** 1111"), "ppt").findings == []


# A note from a Windows set up for Chinese, Japanese or Korean: the card in full-width digits
_NOTES = {
    "gbk": f"您好 我的卡号是 {_WIDE_CARD} 请退款\n",
    "big5": f"您好 我的卡號是 {_WIDE_CARD} 請退款\n",
    "shift_jis": f"カード番号 {_WIDE_CARD} 返金をお願いします\n",
    "euc_kr": f"카드 번호 {_WIDE_CARD} 환불 부탁드립니다\n",
}


@pytest.mark.parametrize("codec", sorted(_NOTES))
def test_full_width_digits_in_an_east_asian_code_page(codec: str) -> None:
    text = _NOTES[codec]
    data = text.encode(codec)
    for label in ("txt", "csv"):
        codes = [f.code.name for f in scan(data, label).findings]
        assert codes == ["SENSITIVE_CARD"], (codec, label, codes)
    # in UTF-8 the full-width digits were read before
    assert [f.code.name for f in scan(text.encode("utf-8"), "txt").findings] == ["SENSITIVE_CARD"]


def test_a_csv_cell_of_several_lines_is_not_one_number() -> None:
    # a table extraction repeated a value down a merged cell: four lines of "2493" (the 16
    # digits pass the checksum), which a spreadsheet shows as a column, not a card
    column = b'Year,Total\r\n2020,"2493\n2493\n2493\n2493"\r\n'
    assert scan(column, "csv").findings == []
    card = b'Note,Payment\r\n"paid by","card\n4111 1111 1111 1111"\r\n'
    assert [f.code.name for f in scan(card, "csv").findings] == ["SENSITIVE_CARD"]


def test_digits_written_as_word_symbols_are_read() -> None:
    # red team 96: <w:sym w:font="Symbol" w:char="F034"/> shows a 4; Wingdings' is a picture
    def symbols(font: str) -> bytes:
        runs = "".join(
            f'<w:r><w:sym w:font="{font}" w:char="F03{d}"/></w:r>' if d.isdigit() else
            '<w:r><w:t xml:space="preserve"> </w:t></w:r>'
            for d in "4111 1111 1111 1111"
        )  # fmt: skip
        return word(f"<w:p><w:r><w:t>Card: </w:t></w:r>{runs}</w:p>")

    assert cards(scan(symbols("Symbol"), "docx")) == ["word/document.xml"]
    assert cards(scan(symbols("Wingdings"), "docx")) == []
