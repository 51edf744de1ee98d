"""Red-team cases for the sensitive engine: full card numbers a reader of the file sees but that
the markup, the encoding or the layout splits or hides from a naive reader (each must reject
with SENSITIVE_CARD), and benign look-alikes that those fixes must not catch (each must pass).

Decisions recorded here, with a case each: digits in separate spreadsheet cells or on lines of
their own are separate numbers; a line break inside a number counts only where a mail client
wrapped a long line; hidden text is read, but apart from the visible text around it; a list of
bare 16-digit identifiers with no header is indistinguishable from a list of cards (not tested
as benign: see `cards._without_identifiers` for the lists it does recognise).
"""

from __future__ import annotations

import base64
import random
import struct
import time

import pytest

from attachguard.engines.base import Context, Item
from attachguard.engines.sensitive import SensitiveEngine, SensitiveOptions
from attachguard.policy import Limits
from attachguard.report import FileType
from attachguard.sensitive.cards import luhn
from test_sensitive_formats import (
    OFFICE,
    A,
    P,
    R,
    S,
    W,
    biff,
    excel97,
    package,
    para,
    scan,
    word,
    workbook,
)

VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
VISA_GROUPED = "4111 1111 1111 1111"
LONG_LINE = "Hello, thanks for getting back to me so quickly. My card is"


def codes(label: str, data: bytes) -> list[str]:
    return [f.code.name for f in scan(data, label).findings]


def order_ids() -> list[str]:
    """Eight random 16-digit order numbers starting with 4, one of them Luhn-valid (a Visa by
    format): what an order export looks like."""
    rng = random.Random(7)
    ids = ["4" + "".join(rng.choice("0123456789") for _ in range(15)) for _ in range(8)]
    head = ids[3][:15]
    ids[3] = next(head + d for d in "0123456789" if luhn(head + d))
    assert sum(luhn(i) for i in ids) >= 1
    return ids


# -- text ----------------------------------------------------------------------------------------

HOSTILE_TEXT = {
    "direction marks between groups": "card " + "\u200e ".join(VISA_GROUPED.split()),
    "bidi isolate around it": f"card \u2066{VISA_GROUPED}\u2069",
    "combining grapheme joiners": "card " + "\u034f".join(VISA),
    "keycap digits": "card " + "".join(c + "\ufe0f\u20e3" for c in VISA),
    "two spaces between groups": "card 4111  1111  1111  1111",
    "spaced dashes": "card 4111 - 1111 - 1111 - 1111",
    "minus signs": "card " + "\u2212".join(VISA_GROUPED.split()),
    "expiry after it": f"{VISA_GROUPED} 12/28",
    "expiry and code after it": f"{VISA} 12/28 123",
    "expiry before it": f"exp 12/28 {VISA_GROUPED}",
    "card word and hash": f"Card#{VISA}",
    "brand and dash": f"VISA-{VISA}",
    "card word and underscore": f"card_{VISA}",
    "wrapped by a mail client": f"{LONG_LINE} 4111 1111\n1111 1111 and it expires 12/28.",
    "wrapped in a quoted reply": f"> {LONG_LINE} 4111 1111 1111\n> 1111, exp 12/28.",
}


@pytest.mark.parametrize("text", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
def test_hostile_text(text: str) -> None:
    assert codes("txt", text.encode()) == ["SENSITIVE_CARD"]


def test_what_a_right_to_left_override_shows() -> None:
    reversed_number = VISA_GROUPED[::-1]  # "1111 1111 1111 1114": shown as the card number
    assert codes("txt", f"card \u202e{reversed_number}\u202c thanks".encode()) == ["SENSITIVE_CARD"]
    shown_reversed = f"card \u202e{VISA_GROUPED}\u202c thanks"  # shows as 1111 ... 1114
    assert codes("txt", shown_reversed.encode()) == []


def test_digits_of_other_scripts() -> None:
    for zero in (0x660, 0x6F0, 0x966, 0xFF10):  # Arabic-Indic, Persian, Devanagari, fullwidth
        digits = VISA.translate({ord(c): zero + int(c) for c in "0123456789"})
        assert codes("txt", f"card {digits}".encode()) == ["SENSITIVE_CARD"], hex(zero)


def test_the_file_name() -> None:
    engine = SensitiveEngine(SensitiveOptions(), None)
    names = {
        f"card {VISA_GROUPED}.txt": ["SENSITIVE_CARD"],
        f"statements/{VISA}/scan.txt": ["SENSITIVE_CARD"],
        "IMG_20261201_093011123.txt": [],
        "invoice_4111111111111111.txt": [],
    }
    for name, expected in names.items():
        item = Item(name, b"hello", FileType("txt", "", "text", True))
        result = engine.scan(item, Context(Limits(), deadline=time.monotonic() + 30))
        assert [f.code.name for f in result.findings] == expected, name


BENIGN_TEXT = {
    "two short rows of four-digit numbers": "Q1 Q2\n4500 1200\n3300 5004\n",
    "four-digit numbers on lines of their own": "4111\n1111\n1111\n1111\n",
    "an invoice number with a dash": "INV-4111 1111 1111 1111",
    "an amount": "$4111 1111 1111 1111",
    "an order number with the date after it": f"Order number: {VISA_GROUPED} 12/28",
    "a short line break inside digits": "call 4111 1111\n1111 1111",
    "an identifier with a suffix": f"{VISA}/12/28",
}


@pytest.mark.parametrize("text", BENIGN_TEXT.values(), ids=BENIGN_TEXT.keys())
def test_benign_text(text: str) -> None:
    assert codes("txt", text.encode()) == []


def test_html_as_a_browser_shows_it() -> None:
    tags = "<p>Card: <b>4111</b> <i>1111</i> <span>1111</span> 1111</p>"
    references = "<p>Card: " + "".join(f"&#{ord(c)};" for c in VISA) + "</p>"
    for page in (tags, references, "<p>Card <span>41111111</span><span>11111111</span></p>"):
        assert codes("html", f"<html><body>{page}</body></html>".encode()) == ["SENSITIVE_CARD"]
    cells = "<table><tr><td>4111 1111</td><td>1111 1111</td></tr></table>"
    script = f"<script>var x = '{VISA[:8]}' + '{VISA[8:]}';</script><p>Paid **** 1111</p>"
    assert codes("html", f"<html><body>{cells}{script}</body></html>".encode()) == []


MAIL_HEAD = (
    "From: a@example.com\r\nTo: b@example.com\r\nSubject: hello\r\n"
    "Date: Mon, 1 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
)


def test_mail_as_a_client_shows_it() -> None:
    encoded = base64.encodebytes(f"Hi, my card is {VISA_GROUPED}".encode()).decode()
    base64_body = f"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}"
    soft_break = (
        "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Hi, my card is 4111 1111 11=\r\n11 1111 thanks\r\n"
    )
    html = (
        "Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        "<p>card <b>4111</b> 1111 =\r\n1111 1111</p>\r\n"
    )
    subject = base64.b64encode(f"card {VISA}".encode()).decode()
    in_subject = MAIL_HEAD.replace("hello", f"=?utf-8?b?{subject}?=") + "\r\nhi\r\n"
    for message in (MAIL_HEAD + base64_body, MAIL_HEAD + soft_break, MAIL_HEAD + html, in_subject):
        assert codes("eml", message.encode()) == ["SENSITIVE_CARD"]
    receipt = "Thanks for order 4111111111111111!\r\nPaid with Visa ending 1111\r\n"
    assert codes("eml", (MAIL_HEAD + "\r\n" + receipt).encode()) == []


def test_csv_columns_are_read_with_their_headers() -> None:
    ids = order_ids()
    rows = "".join(f"{i},{n}.00\n" for n, i in enumerate(ids))
    assert codes("csv", f"order_id,amount\n{rows}".encode()) == []
    assert codes("csv", f"Orders 2026\norder number,total\n{rows}".encode()) == []
    assert codes("tsv", f"order_id\tamount\n{rows.replace(',', chr(9))}".encode()) == []
    assert codes("csv", f"name,card\nbob,{VISA}\n".encode()) == ["SENSITIVE_CARD"]
    assert codes("csv", f"name,value\nbob,{VISA}\n".encode()) == ["SENSITIVE_CARD"]
    quoted = f'name,note\nbob,"call me\nmy card {VISA}"\n'
    assert codes("csv", quoted.encode()) == ["SENSITIVE_CARD"]


def test_csv_formulas_that_join_constants() -> None:
    """Excel computes a CSV cell's formula when it opens the file."""
    concatenated = '"=CONCATENATE(""4111"",""1111"",""1111"",""1111"")"'
    for formula in (concatenated, '="4111 1111 "&"1111 1111"'):
        assert codes("csv", f"name,note\nbob,{formula}\n".encode()) == ["SENSITIVE_CARD"]
    assert codes("csv", b'name,note\nbob,=SUM(4111;1111)&"11111111"\n') == []


def test_csv_findings_keep_their_line() -> None:
    result = scan(f'name,note\nbob,"a\nb"\nalice,{VISA}\n'.encode(), "csv")
    assert [f.location for f in result.findings] == ["line 4"]


# -- DOCX ----------------------------------------------------------------------------------------


def with_part(name: str, kind: str, rel: str, xml: str, source: str = "word/document.xml") -> bytes:
    """A Word document with one more part, reached by a relationship from ``source``."""
    body = f'<w:document xmlns:w="{W}" xmlns:r="{R}"><w:body>{para("hello")}</w:body></w:document>'
    parts = {
        "word/document.xml": (f"{OFFICE}wordprocessingml.document.main+xml", body.encode()),
        name: (kind, xml.encode()),
    }
    rels = {"": [("officeDocument", "word/document.xml")]}
    if source:
        rels[source] = [(rel, name.split("/", 1)[1])]
    else:
        rels[""].append((rel, name))
    return package(parts, rels)


def test_docx_field_results_join_their_paragraph() -> None:
    field = (
        '<w:p><w:r><w:t xml:space="preserve">Card 4111 1111 </w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText> QUOTE "1111" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1111</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        '<w:r><w:t xml:space="preserve"> 1111</w:t></w:r></w:p>'
    )
    assert codes("docx", word(field)) == ["SENSITIVE_CARD"]


def test_docx_hidden_text_does_not_split_what_is_shown() -> None:
    hidden = (
        '<w:p><w:r><w:t xml:space="preserve">Card 4111 1111 1111 </w:t></w:r>'
        "<w:r><w:rPr><w:vanish/></w:rPr><w:t>9</w:t></w:r><w:r><w:t>1111</w:t></w:r></w:p>"
    )
    assert codes("docx", word(hidden)) == ["SENSITIVE_CARD"]
    shown = '<w:r><w:rPr><w:vanish w:val="0"/></w:rPr><w:t>9</w:t></w:r>'
    visible = hidden.replace("<w:r><w:rPr><w:vanish/></w:rPr><w:t>9</w:t></w:r>", shown)
    assert codes("docx", word(visible)) == []  # the 9 is shown: 17 digits, not a card


def test_docx_alternative_text() -> None:
    drawing = (
        "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
        f'<wp:docPr id="1" name="Picture 1" descr="customer card {VISA}"/>',
    )
    picture = (
        f'<w:p><w:r><w:drawing><wp:inline xmlns:wp="{drawing[0]}">{drawing[1]}'
        "</wp:inline></w:drawing></w:r></w:p>"
    )
    assert codes("docx", word(picture)) == ["SENSITIVE_CARD"]


WORD_PARTS = {
    "footnote": ("word/footnotes.xml", "wordprocessingml.footnotes+xml", "footnotes",
                 f'<w:footnotes xmlns:w="{W}"><w:footnote w:id="1">{para("card ", VISA)}'
                 "</w:footnote></w:footnotes>"),
    "endnote": ("word/endnotes.xml", "wordprocessingml.endnotes+xml", "endnotes",
                f'<w:endnotes xmlns:w="{W}"><w:endnote w:id="1">{para("card ", VISA)}'
                "</w:endnote></w:endnotes>"),
    "comment": ("word/comments.xml", "wordprocessingml.comments+xml", "comments",
                f'<w:comments xmlns:w="{W}"><w:comment w:id="1">'
                f'{para("card 4111 ", "1111 1111 1111")}</w:comment></w:comments>'),
    "SmartArt": ("word/diagrams/data1.xml", "drawingml.diagramData+xml", "diagramData",
                 '<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/'
                 f'diagram" xmlns:a="{A}"><dgm:ptLst><dgm:pt><dgm:t><a:p><a:r><a:t>4111 1111 '
                 "</a:t></a:r><a:r><a:t>1111 1111</a:t></a:r></a:p></dgm:t></dgm:pt></dgm:ptLst>"
                 "</dgm:dataModel>"),
    "chart cache": ("word/charts/chart1.xml", "drawingml.chart+xml", "chart",
                    '<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/'
                    f'chart"><c:strCache><c:pt idx="0"><c:v>card {VISA_GROUPED}</c:v></c:pt>'
                    "</c:strCache></c:chartSpace>"),
}  # fmt: skip


@pytest.mark.parametrize("name", WORD_PARTS)
def test_docx_parts(name: str) -> None:
    part, kind, rel, xml = WORD_PARTS[name]
    assert codes("docx", with_part(part, OFFICE + kind, rel, xml)) == ["SENSITIVE_CARD"]


def test_docx_document_properties() -> None:
    core = (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        f'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>card {VISA}'
        "</dc:title></cp:coreProperties>"
    )
    kind = "application/vnd.openxmlformats-package.core-properties+xml"
    properties = with_part("docProps/core.xml", kind, "metadata/core-properties", core, "")
    assert codes("docx", properties) == ["SENSITIVE_CARD"]


def test_docx_imported_pieces() -> None:
    """``w:altChunk``: Word lays out an HTML, RTF or text part as the document's own text."""
    chunks = {
        "text/html": b"<html><body><p>card <b>4111</b> 1111 1111 1111</p></body></html>",
        "application/rtf": rb"{\rtf1 card 4111 1111 1111 1111\par}",
        "text/plain": b"card 4111 1111 1111 1111",
    }
    body = f'{para("hello")}<w:altChunk r:id="rId1"/>'
    for kind, data in chunks.items():
        document = f'<w:document xmlns:w="{W}" xmlns:r="{R}"><w:body>{body}</w:body></w:document>'
        parts = {
            "word/document.xml": (f"{OFFICE}wordprocessingml.document.main+xml", document.encode()),
            "word/chunk": (kind, data),
        }
        rels = {"": [("officeDocument", "word/document.xml")],
                "word/document.xml": [("aFChunk", "chunk")]}  # fmt: skip
        assert codes("docx", package(parts, rels)) == ["SENSITIVE_CARD"], kind


# -- XLSX ----------------------------------------------------------------------------------------


def strings_book(rows: list[list[str]]) -> bytes:
    """A workbook whose cells are all shared strings, the way Excel saves typed text."""
    strings = sorted({cell for row in rows for cell in row})
    index = {cell: n for n, cell in enumerate(strings)}
    sheet = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{chr(65 + c)}{r}" t="s"><v>{index[v]}</v></c>' for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, 1)
    )
    return workbook(sheet, "".join(f"<si><t>{s}</t></si>" for s in strings))


def test_xlsx_columns_are_read_with_their_headers() -> None:
    ids = order_ids()
    assert codes("xlsx", strings_book([["Order ID", "Total"]] + [[i, "12.50"] for i in ids])) == []
    titled = [["Orders export 2026"], ["Order ID", "Total"]] + [[i, "12.50"] for i in ids]
    assert codes("xlsx", strings_book(titled)) == []
    numeric = '<row r="1"><c r="A1" t="inlineStr"><is><t>Tracking</t></is></c></row>'
    numeric += "".join(
        f'<row r="{n}"><c r="A{n}"><v>{i}</v></c></row>' for n, i in enumerate(ids, 2)
    )
    assert codes("xlsx", workbook(numeric)) == []
    assert codes("xlsx", strings_book([["Name", "Card number"], ["bob", VISA]])) == [
        "SENSITIVE_CARD"
    ]
    amount = '<row r="1"><c r="A1" t="inlineStr"><is><t>Amount</t></is></c></row>'
    amount += f'<row r="2"><c r="A2"><v>{AMEX}</v></c></row>'
    assert codes("xlsx", workbook(amount)) == ["SENSITIVE_CARD"]


def test_xlsx_formulas_that_join_constants() -> None:
    """With no cached value, Excel shows what the formula computes when it opens the file."""
    joined = '"4111"&amp;"1111"&amp;"1111"&amp;"1111"'
    concatenated = 'CONCATENATE("4111 ",1111," 1111 ","1111")'
    for formula in (joined, concatenated):
        cell = f'<row r="1"><c r="A1" t="str"><f>{formula}</f></c></row>'
        assert codes("xlsx", workbook(cell)) == ["SENSITIVE_CARD"], formula
    computed = '<row r="1"><c r="A1"><f>SUM(4111,1111)&amp;"1111"&amp;"1111"</f></c></row>'
    assert codes("xlsx", workbook(computed)) == []


def test_xlsx_cells_of_four_digits_are_not_one_number() -> None:
    cells = "".join(
        f'<c r="{c}1"><v>{g}</v></c>' for c, g in zip("ABCD", VISA_GROUPED.split(), strict=True)
    )
    assert codes("xlsx", workbook(f'<row r="1">{cells}</row>')) == []


def sheet_book(workbook_xml: str, sheet_xml: str) -> bytes:
    parts = {
        "xl/workbook.xml": (f"{OFFICE}spreadsheetml.sheet.main+xml", workbook_xml.encode()),
        "xl/worksheets/sheet1.xml": (f"{OFFICE}spreadsheetml.worksheet+xml", sheet_xml.encode()),
    }
    rels = {"": [("officeDocument", "xl/workbook.xml")],
            "xl/workbook.xml": [("worksheet", "worksheets/sheet1.xml")]}  # fmt: skip
    return package(parts, rels)


def test_xlsx_sheet_names_and_print_headers() -> None:
    def book(name: str, header: str) -> bytes:
        return sheet_book(
            f'<workbook xmlns="{S}" xmlns:r="{R}"><sheets><sheet name="{name}" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>',
            f'<worksheet xmlns="{S}"><sheetData/><headerFooter><oddHeader>{header}</oddHeader>'
            "</headerFooter></worksheet>",
        )

    assert codes("xlsx", book(VISA_GROUPED, "&amp;CInvoice")) == ["SENSITIVE_CARD"]
    assert codes("xlsx", book("Sheet1", f"&amp;LCard&amp;C{VISA}&amp;R&amp;D")) == [
        "SENSITIVE_CARD"
    ]
    assert codes("xlsx", book("Sheet1", "&amp;LPage &amp;P of &amp;N&amp;R&amp;D &amp;T")) == []


@pytest.mark.parametrize(
    ("setup", "header"),
    [
        ('<pageSetup firstPageNumber="4111" useFirstPageNumber="1"/>', "&amp;P 1111 1111 1111"),
        ("", "&amp;CCard 4111 1111 1111 111&amp;P"),
        ("", "&amp;P+4110 1111 1111 1111"),
    ],
)
def test_an_xlsx_print_header_page_number_is_the_first_pages(setup: str, header: str) -> None:
    """Red team 117: Excel prints "&P" as the page's number, from the sheet's first page
    number when it sets one, "&P+n" that plus n."""
    sheet = (
        f'<worksheet xmlns="{S}"><sheetData/>{setup}<headerFooter><oddHeader>{header}'
        "</oddHeader></headerFooter></worksheet>"
    )
    workbook = (
        f'<workbook xmlns="{S}" xmlns:r="{R}"><sheets><sheet name="Sheet1" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    )
    assert codes("xlsx", sheet_book(workbook, sheet)) == ["SENSITIVE_CARD"]
    unused = sheet.replace('useFirstPageNumber="1"', 'useFirstPageNumber="0"')
    if setup:  # the number is used only when the sheet says so: page 1 then
        assert codes("xlsx", sheet_book(workbook, unused)) == []


def test_xls_columns_are_read_with_their_headers() -> None:
    def sst(*texts: str) -> bytes:
        body = struct.pack("<II", len(texts), len(texts))
        body += b"".join(struct.pack("<HB", len(t), 0) + t.encode() for t in texts)
        return biff(0x00FC, body)

    def label(row: int, column: int, index: int) -> bytes:
        return biff(0x00FD, struct.pack("<HHHI", row, column, 0, index))

    def number(row: int, column: int, value: str) -> bytes:
        return biff(0x0203, struct.pack("<HHHd", row, column, 0, float(value)))

    cells = b"".join(number(row, 0, i) for row, i in enumerate(order_ids(), 1))  # < 2**53
    assert codes("xls", excel97(sst("Order ID"), label(0, 0, 0), cells)) == []
    assert codes("xls", excel97(sst("Amount"), label(0, 0, 0), cells)) == ["SENSITIVE_CARD"]
    amex = excel97(sst("Name", "Card", "bob"), label(0, 0, 0), label(0, 1, 1), label(1, 0, 2))
    assert codes("xls", amex) == []
    card = excel97(sst("Name", "Card", "bob"), label(0, 0, 0), label(0, 1, 1), label(1, 0, 2),
                   number(1, 1, AMEX))  # fmt: skip
    assert codes("xls", card) == ["SENSITIVE_CARD"]


# -- PPTX ----------------------------------------------------------------------------------------


def deck(slide: str, layout: str | None = None) -> bytes:
    def tree(root: str, inner: str) -> bytes:
        return (
            f'<p:{root} xmlns:p="{P}" xmlns:a="{A}"><p:cSld><p:spTree>{inner}</p:spTree>'
            f"</p:cSld></p:{root}>"
        ).encode()

    parts = {
        "ppt/presentation.xml": (f"{OFFICE}presentationml.presentation.main+xml",
                                 f'<p:presentation xmlns:p="{P}"/>'.encode()),
        "ppt/slides/slide1.xml": (f"{OFFICE}presentationml.slide+xml", tree("sld", slide)),
    }  # fmt: skip
    rels = {
        "": [("officeDocument", "ppt/presentation.xml")],
        "ppt/presentation.xml": [("slide", "slides/slide1.xml")],
    }
    if layout is not None:
        parts["ppt/slideLayouts/slideLayout1.xml"] = (
            f"{OFFICE}presentationml.slideLayout+xml",
            tree("sldLayout", layout),
        )
        rels["ppt/slides/slide1.xml"] = [("slideLayout", "../slideLayouts/slideLayout1.xml")]
    return package(parts, rels)


def shape(*runs: str) -> str:
    text = "".join(f"<a:r><a:t>{r}</a:t></a:r>" for r in runs)
    return f"<p:sp><p:txBody><a:p>{text}</a:p></p:txBody></p:sp>"


def numbered_shape(scheme: str, start: int, *paragraphs: str) -> str:
    bullet = f'<a:pPr><a:buAutoNum type="{scheme}" startAt="{start}"/></a:pPr>'
    body = "".join(f"<a:p>{bullet}<a:r><a:t>{text}</a:t></a:r></a:p>" for text in paragraphs)
    return f"<p:sp><p:txBody>{body}</p:txBody></p:sp>"


def test_pptx_auto_numbers_are_read_before_their_paragraphs() -> None:
    """Red team 117: PowerPoint draws a list's numbers from its start, one more a paragraph."""
    assert codes("pptx", deck(numbered_shape("arabicPlain", 4111, "1111 1111 1111"))) == [
        "SENSITIVE_CARD"
    ]
    second = numbered_shape("arabicPlain", 4110, "Intro", "1111 1111 1111")  # 4110, then 4111
    assert codes("pptx", deck(second)) == ["SENSITIVE_CARD"]
    # an ordinary numbered list; letters and roman numbers
    steps = numbered_shape("arabicPeriod", 1, *(f"Step {n}" for n in range(30)))
    assert codes("pptx", deck(steps + numbered_shape("romanUcParenR", 4111, "1111"))) == []


def test_a_right_to_left_pptx_paragraph_is_read_as_displayed() -> None:
    """Red team 117: PowerPoint draws a right-to-left paragraph's digit groups from the right."""
    rtl = '<p:sp><p:txBody><a:p><a:pPr rtl="1"/><a:r><a:t>1111 1111 1111 4111</a:t></a:r></a:p>'
    rtl += "</p:txBody></p:sp>"
    assert codes("pptx", deck(rtl)) == ["SENSITIVE_CARD"]
    assert codes("pptx", deck(rtl.replace('rtl="1"', 'rtl="0"'))) == []


def test_pptx_alternative_text_layouts_and_tables() -> None:
    picture = (
        f'<p:pic><p:nvPicPr><p:cNvPr id="2" name="x" descr="card {VISA}"/></p:nvPicPr></p:pic>'
    )
    assert codes("pptx", deck(picture)) == ["SENSITIVE_CARD"]
    assert codes("pptx", deck(shape("hi"), shape("card ", VISA_GROUPED))) == ["SENSITIVE_CARD"]
    cells = "".join(
        f"<a:tc><a:txBody><a:p><a:r><a:t>{t}</a:t></a:r></a:p></a:txBody></a:tc>"
        for t in ("Card", "4111 1111 1111 1111")
    )
    table = f"<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr>{cells}</a:tr></a:tbl>"
    assert codes("pptx", deck(table + "</a:graphicData></a:graphic></p:graphicFrame>")) == [
        "SENSITIVE_CARD"
    ]


# -- PDF -----------------------------------------------------------------------------------------


def raw_pdf(content: bytes, page: bytes = b"", catalog: bytes = b"", *more: bytes) -> bytes:
    """A one-page PDF drawing ``content``, with extra entries for the page and the catalog and
    more objects (numbered from 6); an object that starts with ``<< /Title`` is the document
    information."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R%s >>" % catalog,
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >>%s >>" % page,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        *more,
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b"".join(
        b" /Info %d 0 R" % n for n, o in enumerate(objects, 1) if o.startswith(b"<< /Title")
    )
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info,
        xref,
    )
    return bytes(out)


HELLO = b"BT /F1 11 Tf 72 700 Td (Hello) Tj ET"
GROUPED = VISA_GROUPED.encode()


def test_pdf_notes_bookmarks_and_properties() -> None:
    annots = b" /Annots [6 0 R]"
    free_text = b"<< /Type /Annot /Subtype /FreeText /Rect [72 600 400 640] /Contents (card %s) >>"
    sticky = b"<< /Type /Annot /Subtype /Text /Rect [72 600 90 620] /Contents (card %s) >>"
    outline = (
        b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
        b"<< /Title (card %s) /Parent 6 0 R /Dest [4 0 R /Fit] >>" % VISA.encode(),
    )
    title = ("\ufeffcard " + VISA).encode("utf-16-be").hex().encode()
    cases = {
        "a typewriter box": raw_pdf(HELLO, annots, b"", free_text % GROUPED),
        "a sticky note": raw_pdf(HELLO, annots, b"", sticky % VISA.encode()),
        "a bookmark": raw_pdf(HELLO, b"", b" /Outlines 6 0 R", *outline),
        "the title": raw_pdf(HELLO, b"", b"", b"<< /Title <%s> /Author (bob) >>" % title),
    }
    for name, data in cases.items():
        assert codes("pdf", data) == ["SENSITIVE_CARD"], name
    receipt = raw_pdf(HELLO, annots, b"", sticky % b"**** **** **** 1111")
    assert codes("pdf", receipt) == []


def test_pdf_pieces_set_side_by_side() -> None:
    pieces = (
        b"BT /F1 11 Tf 72 700 Td (Card 4111 1111) Tj ET BT /F1 11 Tf 159 700 Td ( 1111 1111) Tj ET"
    )
    assert codes("pdf", raw_pdf(pieces)) == ["SENSITIVE_CARD"]


# -- RTF -----------------------------------------------------------------------------------------


def test_rtf_comments_text_boxes_and_hidden_text() -> None:
    comment = rb"{\rtf1\ansi Hello{\*\atnid bob}{\*\annotation{\*\atndate 1} card %s}\par}"
    box = rb"{\rtf1\ansi Hi{\shp{\*\shpinst{\sp{\sn fillColor}{\sv 1}}{\shptxt card %s\par}}}\par}"
    for document in (comment, box):
        assert codes("rtf", document % VISA.encode()) == ["SENSITIVE_CARD"]
    hidden = rb"{\rtf1\ansi card 4111 1111 1111 {\v 9}1111\par}"
    toggled = rb"{\rtf1\ansi card 4111 1111 \v 9\v0 1111 1111\par}"
    assert codes("rtf", hidden) == codes("rtf", toggled) == ["SENSITIVE_CARD"]
    instruction = rb"{\rtf1\ansi{\*\fldinst QUOTE " + VISA.encode() + rb"}Paid **** 1111\par}"
    assert codes("rtf", instruction) == []


def test_rtf_destinations_word_knows_are_read_starred_or_not() -> None:
    # the star tells readers that do not know a destination to skip it; Word knows a drawing
    # object's text box, a footnote, a header, and shows them (red team 114: {\*\do ...})
    drawn = rb"{\*\do\dobxcolumn\dptxbx{\dptxbxtext\pard card %s\par}\dpx0\dpxsize3000}"
    for starred in (drawn, rb"{\*\footnote card %s}", rb"{\*\headerr card %s\par}"):
        document = rb"{\rtf1\ansi Hello\par " + starred % VISA.encode() + rb" Bye\par}"
        assert codes("rtf", document) == ["SENSITIVE_CARD"], starred
    unknown = rb"{\rtf1\ansi Hello{\*\xmlopen card %s}\par}"  # not shown: skipped
    assert codes("rtf", unknown % VISA.encode()) == []


def test_an_xlsx_page_number_after_a_font_size_is_read() -> None:
    """Review 117: "&12&P" is a size, then the page number ("&124111" lost it)."""
    sheet = (
        f'<worksheet xmlns="{S}"><sheetData/><pageSetup firstPageNumber="4111" '
        'useFirstPageNumber="1"/><headerFooter><oddHeader>&amp;CCard &amp;12&amp;P 1111 1111 '
        "1111</oddHeader></headerFooter></worksheet>"
    )
    workbook = (
        f'<workbook xmlns="{S}" xmlns:r="{R}"><sheets><sheet name="Sheet1" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    )
    assert codes("xlsx", sheet_book(workbook, sheet)) == ["SENSITIVE_CARD"]
