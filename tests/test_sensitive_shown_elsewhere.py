"""Text Word and Excel show from outside a document's runs and cells (red team 114): a web
archive (MHT) decoded, WordArt and watermarks (.docx, RTF, and the 97-2003 formats' OfficeArt),
number formats applied outside cell styles (conditional formats, charts) and defined names of
joined text constants. Each with an honest
file of the same structure that stays clean."""

from __future__ import annotations

import base64
import quopri
from xml.sax.saxutils import quoteattr

import pytest

from attachguard.sensitive import applied
from support.ppt_build import presentation
from test_office_linked_drawings import letter, workbook
from test_office_ppt_linked import name, properties, shape_slide
from test_sensitive_evasions import with_part
from test_sensitive_formats import OFFICE, R, S, W, cards, package, para, scan, word
from test_sensitive_shown_parts import one_sheet

GROUPED = "4111 1111 1111 1111"
CARD_TEXT = '"Card 4111 1111 1111 "'
SHEET = "xl/worksheets/sheet1.xml"
CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"


# -- web archives (MHT) ------------------------------------------------------------------------
def archive(page: str, encoding: str) -> bytes:
    """A single-file web page as Word saves one: its HTML part in ``encoding``
    (quoted-printable wrapped at 76 characters, as Word writes it, or base64), and a picture."""
    html = page.encode("utf-8")
    # (quopri breaks its lines at 76 characters, with a soft line break: "=" at the end)
    body = base64.encodebytes(html) if encoding == "base64" else quopri.encodestring(html)
    picture = base64.encodebytes(bytes(range(256)) * 4)
    return (
        b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart_01"\r\n'
        b"\r\nThis document is a Single File Web Page, also known as a Web Archive file.\r\n\r\n"
        b"------=_NextPart_01\r\nContent-Location: file:///C:/D/x.htm\r\n"
        b"Content-Transfer-Encoding: " + encoding.encode() + b"\r\n"
        b'Content-Type: text/html; charset="utf-8"\r\n\r\n' + body + b"\r\n"
        b"------=_NextPart_01\r\nContent-Location: file:///C:/D/x_files/image001.png\r\n"
        b"Content-Transfer-Encoding: base64\r\nContent-Type: image/png\r\n\r\n"
        + picture + b"\r\n------=_NextPart_01--\r\n"
    )  # fmt: skip


# Word's paragraph markup: the number falls across the 76th column of its quoted-printable line
WORD_PAGE = (
    "<html xmlns:o='urn:schemas-microsoft-com:office:office'><head><style>p.MsoNormal "
    "{margin:0cm;}</style></head><body lang=EN-GB><div class=WordSection1><p class=MsoNormal>"
    "<span style='font-size:11.0pt'>Please charge TEXT today</span></p></div></body></html>"
)


def card_page() -> str:
    """Word's page with a card number that its quoted-printable lines split (a soft line break
    inside the number, as Word's 76-character lines fall)."""
    for pad in range(76):
        page = WORD_PAGE.replace("TEXT", "x" * pad + f" card {GROUPED}")
        if GROUPED.encode() not in quopri.encodestring(page.encode()):
            return page
    raise AssertionError("no line break falls inside the number")


@pytest.mark.parametrize("encoding", ["quoted-printable", "base64"])
def test_a_web_archive_is_read_as_word_shows_it(encoding: str) -> None:
    data = archive(card_page(), encoding)
    assert [f.code.name for f in scan(data, "mht").findings] == ["SENSITIVE_CARD"]
    if encoding == "quoted-printable":  # digits written as escapes
        hexed = data.replace(b" card 4111", b" card =34=31=31=31")
        assert hexed != data
        assert [f.code.name for f in scan(hexed, "mht").findings] == ["SENSITIVE_CARD"]


def test_a_web_archive_word_imports_is_read_as_shown() -> None:
    """A .docx's ``w:altChunk`` typed as a web archive: Word imports it by its content type."""
    body = f'{para("hello")}<w:altChunk r:id="rId1"/>'
    document = f'<w:document xmlns:w="{W}" xmlns:r="{R}"><w:body>{body}</w:body></w:document>'
    chunk = archive(card_page(), "quoted-printable")
    for kind in ("message/rfc822", "multipart/related", "application/x-mimearchive"):
        parts = {
            "word/document.xml": (f"{OFFICE}wordprocessingml.document.main+xml", document.encode()),
            "word/chunk.mht": (kind, chunk),
        }
        rels = {"": [("officeDocument", "word/document.xml")],
                "word/document.xml": [("aFChunk", "chunk.mht")]}  # fmt: skip
        assert cards(scan(package(parts, rels), "docx")) == ["word/chunk.mht"], kind


def test_ordinary_web_archives_pass() -> None:
    """Word's own output: long paragraphs of order numbers and amounts wrapped at 76
    characters, a picture in base64."""
    text = "Order 4111 1111 shipped on 2024-03-01, invoice 1111 1111 1111, total 1,111.11 EUR. " * 8
    for encoding in ("quoted-printable", "base64"):
        assert scan(archive(WORD_PAGE.replace("TEXT", text), encoding), "mht").findings == []


# -- WordArt and watermarks --------------------------------------------------------------------
VML = 'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'


def watermark(text: str) -> str:
    """What Design > Watermark > Custom writes in a header: a VML WordArt shape (type 136)."""
    return (
        f'<w:p><w:r><w:pict {VML}><v:shapetype id="_x0000_t136" o:spt="136"><v:textpath '
        'on="t" fitshape="t"/></v:shapetype><v:shape id="PowerPlusWaterMarkObject1" '
        'type="#_x0000_t136" style="position:absolute;rotation:315" fillcolor="silver">'
        f'<v:textpath style="font-family:&quot;Calibri&quot;" string={quoteattr(text)}/>'
        "</v:shape></w:pict></w:r></w:p>"
    )


def test_wordart_and_watermarks_are_read() -> None:
    marked = word(para("Statement"), header=watermark(f"Card {GROUPED}"))
    assert cards(scan(marked, "docx")) == ["word/header1.xml"]
    wordart = word(para("Statement") + watermark(f"Card {GROUPED}"))
    assert cards(scan(wordart, "docx")) == ["word/document.xml"]


def test_ordinary_watermarks_pass() -> None:
    """A watermark is drawn apart from the text: its digits never join the paragraph's."""
    for text in ("CONFIDENTIAL", "DRAFT 2024", "1111 1111"):
        beside = para("Account 4111 1111 ") + watermark(text)
        assert scan(word(beside, header=watermark(text)), "docx").findings == []


def rtf_shape(gtext: str, around: bytes = b"Statement") -> bytes:
    """An RTF WordArt shape as Word writes it, its text the ``gtextUNICODE`` property."""
    return (
        rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\pard " + around
        + rb"{\shp{\*\shpinst\shpleft0\shptop0\shpright8000\shpbottom1200\shpwr3"
        rb"{\sp{\sn shapeType}{\sv 136}}{\sp{\sn gtextUNICODE}{\sv " + gtext.encode()
        + rb"}}{\sp{\sn gtextFont}{\sv Calibri}}{\sp{\sn fillColor}{\sv 12632256}}"
        rb"{\sp{\sn posrelh}{\sv 1111}}}} 1111\par}"
    )  # fmt: skip


def test_rtf_wordart_is_read() -> None:
    assert [f.code.name for f in scan(rtf_shape(f"Card {GROUPED}"), "rtf").findings] == [
        "SENSITIVE_CARD"
    ]
    escaped = rtf_shape(r"Card \u52?111 1111 1111 1111")  # \u52 is "4"
    assert [f.code.name for f in scan(escaped, "rtf").findings] == ["SENSITIVE_CARD"]


def test_ordinary_rtf_shapes_pass() -> None:
    """Other shape properties (colours, positions, sizes) stay unread, and the WordArt's text
    stands on a line of its own: "Ref 4111 1111 {WordArt 1111} 1111" is no card."""
    assert scan(rtf_shape("DRAFT"), "rtf").findings == []
    assert scan(rtf_shape("1111", around=b"Ref 4111 1111 "), "rtf").findings == []
    # a picture's properties (\shppict, which Word does not draw as text) stay unread
    picture = (
        rb"{\rtf1\ansi Ref 4111 1111 {\*\shppict{\pict{\*\picprop{\sp{\sn gtextUNICODE}"
        rb"{\sv 1111}}}\pngblip 00}} 1111\par}"
    )
    assert scan(picture, "rtf").findings == []


# -- number formats outside cell styles ---------------------------------------------------------
def book(
    cells: str,
    tail: str = "",
    dxfs: tuple[str, ...] = (),
    names: str = "",
    strings: str = "<si><t>1111</t></si>",
) -> bytes:
    """A workbook of one sheet: ``cells`` (rows), ``tail`` after them (conditional formats,
    extensions), differential formats whose number formats are ``dxfs``, defined ``names``."""
    formats = "".join(
        f'<dxf><numFmt numFmtId="{200 + n}" formatCode={quoteattr(code)}/></dxf>'
        for n, code in enumerate(dxfs)
    )
    styles = (
        f'<styleSheet xmlns="{S}"><cellStyleXfs><xf numFmtId="0"/></cellStyleXfs><cellXfs>'
        f'<xf numFmtId="0"/></cellXfs><dxfs count="{len(dxfs)}">{formats}</dxfs></styleSheet>'
    )
    sheet = (
        f'<worksheet xmlns="{S}" xmlns:x14="{X14}" xmlns:xm="{XM}"><sheetData>{cells}'
        f"</sheetData>{tail}</worksheet>"
    )
    return one_sheet(sheet, styles, strings, names)


def rule(sqref: str, dxf: int = 0, kind: str = 'type="cellIs" operator="greaterThan"') -> str:
    return (
        f'<conditionalFormatting sqref="{sqref}"><cfRule {kind} dxfId="{dxf}" priority="1">'
        "<formula>0</formula></cfRule></conditionalFormatting>"
    )


def x14_rule(sqref: str, code: str) -> str:
    """Excel 2010's conditional format, its format written in the rule (``x14:dxf``)."""
    return (
        '<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}"><x14:conditionalFormattings>'
        '<x14:conditionalFormatting><x14:cfRule type="expression" priority="1" id="{1}">'
        f'<xm:f>TRUE</xm:f><x14:dxf><numFmt numFmtId="200" formatCode={quoteattr(code)}/>'
        f"</x14:dxf></x14:cfRule><xm:sqref>{sqref}</xm:sqref></x14:conditionalFormatting>"
        "</x14:conditionalFormattings></ext></extLst>"
    )


NUMBER = '<row r="1"><c r="A1"><v>1111</v></c></row>'
TEXT = '<row r="2"><c r="B2" t="s"><v>0</v></c></row>'


@pytest.mark.parametrize(
    ("cells", "tail", "dxfs"),
    [
        (NUMBER, rule("A1"), (f"{CARD_TEXT}0000",)),  # red team 114's file
        (NUMBER, rule("A1:C3", 1, 'type="expression"'), ("0.0%", f"{CARD_TEXT}0000")),
        (TEXT, rule("A1:B2"), (f"0;0;0;{CARD_TEXT}@",)),  # a text cell: its text section
        (NUMBER, x14_rule("A1", f"{CARD_TEXT}0000"), ()),
    ],
)
def test_a_conditional_format_shows_its_text_with_the_value(
    cells: str, tail: str, dxfs: tuple[str, ...]
) -> None:
    assert cards(scan(book(cells, tail, dxfs), "xlsx")) == [SHEET]


def test_ordinary_conditional_formats_pass() -> None:
    """Conditional formats of colours and ordinary number formats, and a format that shows
    digits on a range that holds no cell of it, add nothing a reader sees as a number."""
    cells = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{4111 + r}</v></c><c r="B{r}"><v>1111</v></c></row>'
        for r in range(1, 20)
    )
    ordinary = ('"Qty "0', "0.0%", "#,##0.00", '"FY2024 "0')
    tails = rule("A1:B19") + rule("A1:A19", 1) + rule("B1:B19", 2) + rule("A1:B19", 3)
    assert scan(book(cells, tails, ordinary), "xlsx").findings == []
    elsewhere = rule("D1:D5")  # the card's format, on cells that hold nothing
    assert scan(book(cells, elsewhere, (f"{CARD_TEXT}0000",)), "xlsx").findings == []


def chart(values: list[str], axis: str = "", labels: str = "") -> str:
    """A bar chart of ``values``, its data labels' number format ``labels`` and its value
    axis's scaling and number format ``axis`` (XML)."""
    points = "".join(f'<c:pt idx="{n}"><c:v>{v}</c:v></c:pt>' for n, v in enumerate(values))
    formatted = f'<c:dLbls><c:numFmt formatCode={quoteattr(labels)} sourceLinked="0"/>'
    data_labels = f'{formatted}<c:showVal val="1"/></c:dLbls>' if labels else ""
    return (
        f'<c:chartSpace xmlns:c="{CHART_NS}"><c:chart><c:plotArea><c:barChart><c:ser>'
        f"{data_labels}<c:val><c:numRef><c:f>Sheet1!$A$1</c:f><c:numCache><c:formatCode>General"
        f'</c:formatCode><c:ptCount val="{len(values)}"/>{points}</c:numCache></c:numRef></c:val>'
        f'</c:ser><c:axId val="1"/><c:axId val="2"/></c:barChart><c:valAx><c:axId val="2"/>'
        f"{axis}</c:valAx></c:plotArea></c:chart></c:chartSpace>"
    )


def axis(code: str, top: str, unit: str, bottom: str = "0") -> str:
    return (
        f'<c:scaling><c:orientation val="minMax"/><c:max val="{top}"/><c:min val="{bottom}"/>'
        f'</c:scaling><c:numFmt formatCode={quoteattr(code)} sourceLinked="0"/>'
        f'<c:majorUnit val="{unit}"/>'
    )


CHART = f"{OFFICE}drawingml.chart+xml"


@pytest.mark.parametrize(
    "xml",
    [
        chart(["1111"], labels=f"{CARD_TEXT}0000"),  # a data label over the bar
        chart(["1111"], axis=axis(f"{CARD_TEXT}0000", "1111", "1111")),  # the top tick
        chart(["5"], axis=axis(f"{CARD_TEXT}0000", "2000", "1111")),  # a tick below the top
    ],
)
def test_a_chart_shows_its_values_through_its_formats(xml: str) -> None:
    document = with_part("word/charts/chart1.xml", CHART, "chart", xml)
    assert cards(scan(document, "docx")) == ["word/charts/chart1.xml"]


def test_ordinary_charts_pass() -> None:
    values = [str(4111 + n) for n in range(30)] + ["1111", "1111.5"]
    for labels, code in (("#,##0", "0%"), ('"$"#,##0.00', '"FY"0'), ('0" in 2024"', "0")):
        xml = chart(values, axis=axis(code, "5000", "1000"), labels=labels)
        document = with_part("word/charts/chart1.xml", CHART, "chart", xml)
        assert scan(document, "docx").findings == []


def test_a_charts_formats_are_read_once_each_and_capped() -> None:
    # review 114: 60,000 formats in one chart were checked against a list (18 s); each distinct
    # format is kept once, the first _MAX_CODES of them
    def formats(*codes: str) -> bytes:
        listed = "".join(f"<c:numFmt formatCode={quoteattr(code)}/>" for code in codes)
        return chart(["7"]).replace("<c:plotArea>", f"<c:plotArea>{listed}").encode()

    assert applied.chart_text(formats(*['"9x"0'] * 3)) == "\n9x7"
    shown = applied.chart_text(formats(*[f'"{n}-"0' for n in range(200)]))
    assert shown.splitlines()[1:] == [f"{n}-7" for n in range(64)]


# -- defined names -----------------------------------------------------------------------------
def test_a_defined_name_of_joined_text_is_read_as_shown() -> None:
    """A cell ``=CardNo`` shows what the name's formula computes (Excel computes on load)."""
    cell = '<row r="1"><c r="A1" t="str"><f>CardNo</f></c></row>'
    padded = '"4111 1111 "&"1111 "&' + " " * 1000 + '"1111"'  # review 114: past a 1,000 cap
    for formula in ('"4111 1111 "&"1111 1111"', 'CONCATENATE("4111","1111","1111","1111")', padded):
        names = f'<definedName name="CardNo">{formula.replace("&", "&amp;")}</definedName>'
        assert cards(scan(book(cell, names=names), "xlsx")) == ["xl/workbook.xml"], formula


def test_ordinary_defined_names_pass() -> None:
    """Ranges, print areas and numeric constants, each name on a line of its own (two names'
    digits never join into one number)."""
    names = (
        '<definedName name="_xlnm.Print_Area" localSheetId="0">Sheet1!$A$1:$F$40</definedName>'
        '<definedName name="Rate">0.4111</definedName><definedName name="Code">41111111'
        '</definedName><definedName name="Other">11111111</definedName>'
        '<definedName name="Label">"Order "&amp;"4111 1111"</definedName>'
    )
    assert scan(book(NUMBER, names=names), "xlsx").findings == []


# -- WordArt in Word, Excel and PowerPoint 97-2003 -----------------------------------------------
def drawing(kind: str, text: str) -> bytes:
    """A Word, Excel or PowerPoint 97-2003 file with a shape whose OfficeArt properties draw
    ``text`` as WordArt (gtextUNICODE), and fill it."""
    props: list[tuple[int, int | bytes]] = [(0x00C0, name(text)), (0x0181, 0x00C0C0C0)]
    if kind == "ppt":
        return presentation([shape_slide(props)])
    return letter(properties(props)) if kind == "doc" else workbook(properties(props))


@pytest.mark.parametrize("kind", ["doc", "xls", "ppt"])
def test_legacy_wordart_is_read(kind: str) -> None:
    data = drawing(kind, f"Card {GROUPED}")
    assert [f.code.name for f in scan(data, kind).findings] == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("kind", ["doc", "xls", "ppt"])
def test_ordinary_legacy_wordart_passes(kind: str) -> None:
    for text in ("CONFIDENTIAL", "DRAFT 4111 1111"):
        assert scan(drawing(kind, text), kind).findings == []
