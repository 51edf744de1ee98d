"""What Word and Excel show beside a part's text (red team 110): an Excel number format's
literal text, list labels (.docx numbering, RTF list table), data validation messages,
hyperlink tooltips, document information in RTF; and text Word shows on one line that a
reader could split (tracked formatting changes, alternate content, inline equations). Each
with an honest file of the same structure that stays clean."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import pytest

from attachguard.sensitive import lists, numfmt
from test_sensitive_formats import OFFICE, VISA, S, W, cards, found, package, scan

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"


def document(body: str, numbering: str | None = None, styles: str | None = None) -> bytes:
    """A .docx whose body is ``body`` (namespaces w, mc, m, w14 declared), with a numbering
    part holding ``numbering`` and a styles part holding ``styles`` when given."""
    root = (
        f'<w:document xmlns:w="{W}" xmlns:mc="{MC}" xmlns:m="{M}" xmlns:w14="{W14}" '
        f'mc:Ignorable="w14"><w:body>{body}</w:body></w:document>'
    )
    parts = {"word/document.xml": (f"{OFFICE}wordprocessingml.document.main+xml", root.encode())}
    rels: dict[str, list[tuple[str, str]]] = {"": [("officeDocument", "word/document.xml")]}
    if numbering is not None:
        parts["word/numbering.xml"] = (
            f"{OFFICE}wordprocessingml.numbering+xml",
            f'<w:numbering xmlns:w="{W}">{numbering}</w:numbering>'.encode(),
        )
        rels["word/document.xml"] = [("numbering", "numbering.xml")]
    if styles is not None:
        parts["word/styles.xml"] = (
            f"{OFFICE}wordprocessingml.styles+xml",
            f'<w:styles xmlns:w="{W}">{styles}</w:styles>'.encode(),
        )
        rels.setdefault("word/document.xml", []).append(("styles", "styles.xml"))
    return package(parts, rels)


def sheet_book(cells: str, formats: dict[int, str], tail: str = "", strings: str = "") -> bytes:
    """A workbook of one sheet, its cell styles 1, 2... using ``formats`` (numFmtId: code)."""
    codes = "".join(
        f"<numFmt numFmtId={quoteattr(str(n))} formatCode={quoteattr(code)}/>"
        for n, code in formats.items()
    )
    xfs = '<xf numFmtId="0"/>' + "".join(f'<xf numFmtId="{n}"/>' for n in formats)
    styles = (
        f'<styleSheet xmlns="{S}"><numFmts>{codes}</numFmts><cellStyleXfs><xf numFmtId="0"/>'
        f"</cellStyleXfs><cellXfs>{xfs}</cellXfs></styleSheet>"
    )
    sheet = f'<worksheet xmlns="{S}"><sheetData>{cells}</sheetData>{tail}</worksheet>'
    return one_sheet(sheet, styles, strings)


def one_sheet(sheet: str, styles: str, strings: str, names: str = "") -> bytes:
    """A workbook of the worksheet ``sheet`` (XML), its ``styles`` part, its shared
    ``strings`` (``<si>`` items) and defined ``names``."""
    workbook = (
        f'<workbook xmlns="{S}"><sheets><sheet name="Sheet1" sheetId="1"/></sheets>'
        f"<definedNames>{names}</definedNames></workbook>"
        if names
        else f'<workbook xmlns="{S}"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>'
    )
    parts = {
        "xl/workbook.xml": (f"{OFFICE}spreadsheetml.sheet.main+xml", workbook.encode()),
        "xl/worksheets/sheet1.xml": (f"{OFFICE}spreadsheetml.worksheet+xml", sheet.encode()),
        "xl/styles.xml": (f"{OFFICE}spreadsheetml.styles+xml", styles.encode()),
        "xl/sharedStrings.xml": (f"{OFFICE}spreadsheetml.sharedStrings+xml",
                                 f'<sst xmlns="{S}">{strings}</sst>'.encode()),
    }  # fmt: skip
    targets = [("worksheet", "worksheets/sheet1.xml"), ("styles", "styles.xml"),
               ("sharedStrings", "sharedStrings.xml")]  # fmt: skip
    return package(parts, {"": [("officeDocument", "xl/workbook.xml")], "xl/workbook.xml": targets})


SHEET = "xl/worksheets/sheet1.xml"
CARD_TEXT = '"Card 4111 1111 1111 "'


# -- Excel number formats ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "cell"),
    [
        (f"{CARD_TEXT}0000", '<c r="A1" s="1"><v>1111</v></c>'),  # red team 110's file
        (f"{CARD_TEXT}@", '<c r="A1" s="1" t="s"><v>0</v></c>'),  # a text format, shared string
        (f"0;0;0;{CARD_TEXT}@", '<c r="A1" s="1" t="inlineStr"><is><t>1111</t></is></c>'),
        ('"Card 4111 1111 1111 11"yy', '<c r="A1" s="1"><v>40600</v></c>'),  # a date: 2011
        ('"4111 "0000" 1111 1111"', '<c r="A1" s="1"><v>1111</v></c>'),  # literals around
    ],
)
def test_a_number_format_shows_its_text_with_the_value(code: str, cell: str) -> None:
    data = sheet_book(f'<row r="1">{cell}</row>', {164: code}, strings="<si><t>1111</t></si>")
    assert cards(scan(data, "xlsx")) == [SHEET]


def test_ordinary_number_formats_pass() -> None:
    formats = {164: "#,##0.00", 165: "0000", 166: "dd/mm/yyyy", 167: '0.0%;[Red]-0.0%',
               168: '"Qty "0', 169: '"$"#,##0.00_);("$"#,##0.00)'}  # fmt: skip
    row = "".join(
        f'<c r="{col}1" s="{s}"><v>{value}</v></c>'
        for col, s, value in (("A", 1, "41111.5"), ("B", 2, "4111"), ("C", 3, "45000"),
                              ("D", 4, "0.1111"), ("E", 5, "1111"), ("F", 6, "-1111.11"))
    )  # fmt: skip
    assert scan(sheet_book(f'<row r="1">{row}</row>', formats), "xlsx").findings == []


def test_number_formats_render_as_excel_shows_them() -> None:
    assert numfmt.shown("#,##0.00", "1234.5") == "1,234.50"
    assert numfmt.shown("0000", "12") == "0012"
    assert numfmt.shown("[$€-407]#,##0.00;(#,##0.00)", "-5") == "(5.00)"
    assert numfmt.shown("dd/mm/yyyy hh:mm", "45000.75").startswith("15/03/2023 18:00")
    # conditions choose the section (red team 117): the first met, else the next, else the third
    card = '[<0]"x";[>1000]"4111 1111 1111 "0000;0'
    assert numfmt.shown(card, "1111") == "4111 1111 1111 1111"
    assert numfmt.shown('[>1000]"big "0;"small "0', "5") == "small 5"
    assert numfmt.shown('[<=100]"a"0;[<=200]"b"0;"c"0', "300") == "c300"
    # a value its format hides is still read, on a line of its own
    assert numfmt.shown(";;;", VISA) == f"\n{VISA}"
    # text: between the text section's literals, or its literals instead of it (no "@")
    assert numfmt.shown_text('0.00;0.00;0.00;"Card "@', "4111") == "Card 4111"
    assert numfmt.shown_text('0;0;0;"Card 1"', "any") == "Card 1\nany"
    assert numfmt.shown_text("0.00", "any") == "any"


# -- list labels -------------------------------------------------------------------------------
def numbered(text: str, level: int = 0, num: int = 1) -> str:
    props = f'<w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr></w:pPr>'
    return f"<w:p>{props}<w:r><w:t>{text}</w:t></w:r></w:p>"


def abstract(*levels: tuple[str, str], suffix: str = "tab") -> str:
    body = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{style}"/>'
        f'<w:suff w:val="{suffix}"/><w:lvlText w:val={quoteattr(text)}/></w:lvl>'
        for i, (text, style) in enumerate(levels)
    )
    return f'<w:abstractNum w:abstractNumId="0">{body}</w:abstractNum>'


def test_a_list_label_is_read_before_its_paragraph() -> None:
    numbering = abstract(("Card 4111 1111 1111 111%1", "decimal"))
    numbering += '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
    result = scan(document(numbered("is the card on file"), numbering), "docx")
    assert cards(result) == ["word/document.xml"]
    # a label with no tab after it runs into its paragraph's text; an override's level counts
    joined = abstract(("4111 1111 ", "decimal"), suffix="nothing")
    joined += '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
    assert cards(scan(document(numbered("1111 1111"), joined), "docx")) == ["word/document.xml"]
    override = abstract(("%1.", "decimal")) + (
        '<w:num w:numId="2"><w:abstractNumId w:val="0"/><w:lvlOverride w:ilvl="0"><w:lvl '
        'w:ilvl="0"><w:lvlText w:val="Card 4111 1111 1111 1111"/></w:lvl></w:lvlOverride></w:num>'
    )
    assert cards(scan(document(numbered("paid", num=2), override), "docx"))


def styled(text: str, style: str) -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>'


def test_a_list_set_on_a_paragraph_style_labels_its_paragraphs() -> None:
    """Red team 117: Word numbers a paragraph in its style's list (the style's ``w:numPr``,
    through its ``w:basedOn`` chain) when the paragraph names none."""
    numbering = abstract(("4111 1111 1111 %1", "decimal")).replace(
        '<w:start w:val="1"/>', '<w:start w:val="1111"/>'
    )
    numbering += '<w:num w:numId="3"><w:abstractNumId w:val="0"/></w:num>'
    styles = (
        '<w:style w:type="paragraph" w:styleId="Listed"><w:pPr><w:numPr><w:numId w:val="3"/>'
        '</w:numPr></w:pPr></w:style><w:style w:type="paragraph" w:styleId="Child">'
        '<w:basedOn w:val="Listed"/></w:style>'
    )
    for style in ("Listed", "Child"):
        body = styled("is the card on file", style)
        assert cards(scan(document(body, numbering, styles), "docx")) == ["word/document.xml"]
    # the paragraph's own list wins over its style's; no list at all draws no label
    own = numbering + abstract(("%1.", "decimal")).replace('"0"', '"1"', 1)
    own += '<w:num w:numId="4"><w:abstractNumId w:val="1"/></w:num>'
    body = numbered("is the card on file", num=4).replace(
        "<w:pPr>", '<w:pPr><w:pStyle w:val="Listed"/>'
    )
    assert scan(document(body, own, styles), "docx").findings == []
    plain = styles.replace('<w:numId w:val="3"/>', "")
    assert (
        scan(document(styled("is the card on file", "Listed"), numbering, plain), "docx").findings
        == []
    )


def test_a_drop_cap_and_a_ruby_base_are_read_on_the_line_word_draws() -> None:
    """Red team 117: a drop cap is a paragraph of its own that Word draws before the next one;
    a ruby's annotation is drawn small above its base, which stays on the line."""
    frame = '<w:pPr><w:framePr w:dropCap="drop" w:lines="3"/></w:pPr>'
    body = f"<w:p>{frame}<w:r><w:t>4</w:t></w:r></w:p>" + para("111 1111 1111 1111")
    assert cards(scan(document(body), "docx")) == ["word/document.xml"]
    plain = body.replace('w:dropCap="drop"', 'w:dropCap="none"')
    assert scan(document(plain), "docx").findings == []  # a paragraph "4", then another
    ruby = (
        "<w:p><w:r><w:t>4111 11</w:t></w:r><w:r><w:ruby><w:rubyPr/><w:rt><w:r><w:t>x</w:t>"
        "</w:r></w:rt><w:rubyBase><w:r><w:t>11</w:t></w:r></w:rubyBase></w:ruby></w:r>"
        "<w:r><w:t> 1111 1111</w:t></w:r></w:p>"
    )
    assert cards(scan(document(ruby), "docx")) == ["word/document.xml"]


def para(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def test_a_right_to_left_paragraph_is_read_as_displayed() -> None:
    """Red team 117: Word draws a right-to-left paragraph's (w:bidi) digit groups from the
    right: stored "1111 1111 1111 4111" shows "4111 1111 1111 1111"."""
    rtl = "<w:p><w:pPr><w:bidi/></w:pPr><w:r><w:t>1111 1111 1111 4111</w:t></w:r></w:p>"
    assert cards(scan(document(para("Details:") + rtl), "docx")) == ["word/document.xml"]
    left = rtl.replace("<w:bidi/>", '<w:bidi w:val="0"/>')
    assert scan(document(para("Details:") + left), "docx").findings == []


def test_ordinary_numbered_lists_pass() -> None:
    numbering = abstract(("%1.", "decimal"), ("%1.%2.", "decimal"), ("(%3)", "lowerRoman"))
    numbering += '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
    numbering += abstract(("\u2022", "bullet")).replace('"0"', '"1"', 1)
    numbering += '<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>'
    body = "".join(numbered(f"Step {n}", level=n % 3) for n in range(40))
    body += "".join(numbered("1111", num=2) for _ in range(4))
    assert scan(document(body, numbering), "docx").findings == []


def test_list_labels_count_as_word_counts_them() -> None:
    levels = [lists.Level("%1.", 1, "decimal"), lists.Level("%1.%2", 1, "lowerLetter")]
    counters = lists.Counters()
    shown = [lists.label(levels, counters.advance("1", lv, levels)) for lv in (0, 1, 1, 0, 1)]
    assert shown == ["1.\n", "1.a\n", "1.b\n", "2.\n", "2.a\n"]


def test_odd_list_numbers_neither_fail_nor_grow() -> None:
    # review 113: "²" is a digit to isdigit, not to int; a 5,000-digit level; a letter label
    # started at 999,999,999 was 38 million letters
    numbering = abstract(("%1.", "lowerLetter")).replace(
        '<w:start w:val="1"/>', '<w:start w:val="999999999"/>'
    )
    numbering += '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
    for level in ("\u00b2", "9" * 5000, "0"):
        body = numbered("Step", num=1).replace('w:ilvl w:val="0"', f'w:ilvl w:val="{level}"')
        assert scan(document(body * 40, numbering), "docx").findings == []
    assert len(lists.number(999_999_999, "lowerLetter")) <= 64
    assert lists.integer("\u00b2", 7) == 7 and lists.integer("-12", 0) == -12


def test_odd_cells_neither_fail_nor_hide() -> None:
    formats = {164: '"Ref 1"0'}
    huge = '<row r="1"><c r="A1" s="1"><v>1E+1000000</v></c></row>'
    odd_style = '<row r="1"><c r="A1" s="\u00b2"><v>12</v></c></row>'
    for cells in (huge, odd_style):
        assert scan(sheet_book(cells, formats), "xlsx").findings == []


# -- attributes Excel and Word show ------------------------------------------------------------
def test_data_validation_messages_and_hyperlink_tooltips_are_read() -> None:
    cell = '<row r="1"><c r="A1" t="inlineStr"><is><t>Enter here</t></is></c></row>'
    prompt = (
        '<dataValidations count="1"><dataValidation showInputMessage="1" promptTitle="Card" '
        'prompt="Card 4111 1111 1111 1111 exp 12/27" sqref="A1"/></dataValidations>'
    )
    assert cards(scan(sheet_book(cell, {}, prompt), "xlsx")) == [SHEET]
    tooltip = (
        '<hyperlinks><hyperlink ref="A1" location="Sheet1!B2" '
        'tooltip="Card 4111 1111 1111 1111 exp 12/27"/></hyperlinks>'
    )
    assert cards(scan(sheet_book(cell, {}, tooltip), "xlsx")) == [SHEET]
    link = (
        '<w:p><w:hyperlink w:anchor="top" w:tooltip="Card 4111 1111 1111 1111">'
        "<w:r><w:t>details</w:t></w:r></w:hyperlink></w:p>"
    )
    assert cards(scan(document(link), "docx")) == ["word/document.xml"]


def test_ordinary_validation_prompts_pass() -> None:
    cells = '<row r="1"><c r="A1"><v>4111</v></c><c r="B1"><v>1111</v></c></row>'
    prompt = (
        '<dataValidations count="2"><dataValidation showInputMessage="1" promptTitle="Quantity" '
        'prompt="Between 1 and 1111" sqref="A1"/><dataValidation error="4111 1111 is taken" '
        'errorTitle="1111 1111" sqref="B1"/></dataValidations>'
    )
    assert scan(sheet_book(cells, {}, prompt), "xlsx").findings == []


# -- text Word shows on one line ---------------------------------------------------------------
def test_a_run_hidden_only_before_a_tracked_format_change_is_shown() -> None:
    change = (
        '<w:rPr><w:b/><w:rPrChange w:id="1" w:author="A" w:date="2024-01-01T00:00:00Z">'
        "<w:rPr><w:vanish/></w:rPr></w:rPrChange></w:rPr>"
    )
    body = (
        '<w:p><w:r><w:t xml:space="preserve">Paid with 4111 1111 1111 </w:t></w:r>'
        f"<w:r>{change}<w:t>1111</w:t></w:r></w:p>"
    )
    assert cards(scan(document(body), "docx")) == ["word/document.xml"]
    # hidden now, shown before the change: still read apart from the line
    hidden_now = body.replace("<w:b/><w:rPrChange", "<w:vanish/><w:rPrChange").replace(
        "<w:rPr><w:vanish/></w:rPr></w:rPrChange>", "<w:rPr><w:b/></w:rPr></w:rPrChange>"
    )
    digit = hidden_now.replace("<w:t>1111</w:t>", "<w:t>9</w:t></w:r><w:r><w:t>1111</w:t>")
    assert cards(scan(document(digit), "docx")) == ["word/document.xml"]


def test_tracked_changes_pass() -> None:
    body = (
        '<w:p><w:pPr><w:pPrChange w:id="3" w:author="Jane" w:date="2024-01-01T00:00:00Z">'
        '<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr></w:pPrChange>'
        '</w:pPr><w:ins w:id="1" w:author="Jane"><w:r><w:t>Order 4111 1111</w:t></w:r></w:ins>'
        '<w:del w:id="2" w:author="Jane"><w:r><w:delText>2024</w:delText></w:r></w:del></w:p>'
    )
    assert scan(document(body), "docx").findings == []


def alternate(choice: str, fallback: str, requires: str = "w14") -> str:
    return (
        f'<mc:AlternateContent><mc:Choice Requires="{requires}">{choice}</mc:Choice>'
        f"<mc:Fallback>{fallback}</mc:Fallback></mc:AlternateContent>"
    )


def run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def test_alternate_content_reads_inline_the_branch_word_shows() -> None:
    start = run("Paid with 4111 1111 ")
    in_paragraph = f"<w:p>{start}{alternate(run('1111 1111'), run('1111 1111'))}</w:p>"
    assert cards(scan(document(in_paragraph), "docx")) == ["word/document.xml"]
    in_run = f"<w:p>{start}<w:r>{alternate('<w:t>1111 1111</w:t>', '<w:t>x</w:t>')}</w:r></w:p>"
    assert cards(scan(document(in_run), "docx")) == ["word/document.xml"]
    # a Choice that requires a vocabulary Word does not know: Word shows the Fallback
    unknown = alternate(run("x"), run("1111 1111"), requires="zz")
    body = f'<w:p xmlns:zz="urn:example:unknown">{start}{unknown}</w:p>'
    assert cards(scan(document(body), "docx")) == ["word/document.xml"]


def test_the_branch_word_does_not_show_never_joins_the_line() -> None:
    body = f"<w:p>{run('Ref 4111 1111 ')}{alternate(run('5'), run('1111 1111'))}</w:p>"
    assert scan(document(body), "docx").findings == []


def test_an_inline_equation_reads_with_its_paragraph() -> None:
    math = "<m:oMath><m:r><m:t>4111 1111 </m:t></m:r><m:r><m:t>1111 1111</m:t></m:r></m:oMath>"
    body = f"<w:p>{run('Paid with ')}{math}{run(' yesterday')}</w:p>"
    assert cards(scan(document(body), "docx")) == ["word/document.xml"]


def test_equations_with_numbers_pass() -> None:
    def entry(text: str) -> str:
        return f"<m:e><m:r><m:t>{text}</m:t></m:r></m:e>"

    rows = "".join(f"<m:mr>{''.join(entry(d) for d in VISA[i : i + 4])}</m:mr>" for i in (0, 4))
    rows += "".join(f"<m:mr>{''.join(entry(d) for d in VISA[i : i + 4])}</m:mr>" for i in (8, 12))
    fraction = (
        "<m:f><m:num><m:r><m:t>4111 1111</m:t></m:r></m:num>"
        "<m:den><m:r><m:t>1111 1111</m:t></m:r></m:den></m:f>"
    )
    body = (
        f"<w:p><m:oMath><m:m>{rows}</m:m></m:oMath></w:p><w:p><m:oMath>{fraction}</m:oMath></w:p>"
    )
    assert scan(document(body), "docx").findings == []


# -- RTF ---------------------------------------------------------------------------------------
def test_rtf_document_information_is_read() -> None:
    rtf = (
        rb"{\rtf1\ansi{\info{\title Card 4111 1111 1111 1111}{\author Jane}}Hello\par}",
        rb"{\rtf1\ansi{\info{\*\company Card 4111 1111 1111 1111}}Hello\par}",
        rb"{\rtf1\ansi{\*\userprops{\propname Card}\proptype30{\staticval 4111 1111 1111 1111}}"
        rb"Hello\par}",
    )
    for data in rtf:
        assert [f[0] for f in found(scan(data, "rtf"))] == ["SENSITIVE_CARD"]


def test_ordinary_rtf_information_passes() -> None:
    rtf = (
        rb"{\rtf1\ansi{\info{\title Invoice 4111 1111}{\subject 1111 1111}{\author Jane Doe}"
        rb"{\operator Jane}{\creatim\yr2024\mo3\dy1\hr9\min5}{\version2}{\edmins14}{\nofpages1}"
        rb"{\*\company ACME 1111}}Order 2024-113\par}"
    )
    assert scan(rtf, "rtf").findings == []


def rtf_list(level_text: bytes, body: bytes, follow: int = 0) -> bytes:
    return (
        rb"{\rtf1\ansi{\*\listtable{\list\listtemplateid1\listsimple{\listlevel\levelnfc0"
        rb"\levelfollow" + str(follow).encode() + rb"\levelstartat1{\leveltext" + level_text
        + rb";}{\levelnumbers\'01;}}\listid7}}{\*\listoverridetable{\listoverride\listid7"
        rb"\listoverridecount0\ls1}}" + body + b"}"
    )  # fmt: skip


def test_rtf_list_labels_are_read_as_word_draws_them() -> None:
    label = rtf_list(rb"\'18Card 4111 1111 1111 111\'00", rb"\pard\ls1 is the card on file.\par")
    assert [f[0] for f in found(scan(label, "rtf"))] == ["SENSITIVE_CARD"]
    joined = rtf_list(rb"\'0a4111 1111 ", rb"\pard\ls1 1111 1111\par", follow=2)
    assert [f[0] for f in found(scan(joined, "rtf"))] == ["SENSITIVE_CARD"]


def test_ordinary_rtf_lists_pass() -> None:
    items = b"".join(
        rb"{\listtext "
        + str(n).encode()
        + rb".\tab}\pard\ls1 Step 1111 "
        + str(n).encode()
        + rb"\par"
        for n in range(1, 30)
    )
    assert scan(rtf_list(rb"\'02\'00.", items), "rtf").findings == []


def test_a_right_to_left_rtf_paragraph_is_read_as_displayed() -> None:
    """Red team 117: Word draws an RTF paragraph set right-to-left (``\\rtlpar``) as a w:bidi
    one, its digit groups from the right, whether the property comes before the paragraph's
    text or after it (Word applies what is in effect at the paragraph's end, to all its lines),
    after document information too (review 138: its lines had taken the mark)."""
    stored = rb"1111 1111 1111 4111"
    before = rb"{\rtf1\ansi Details:\par\pard\rtlpar " + stored + rb"\par}"
    after = rb"{\rtf1\ansi Details:\par\pard " + stored + rb"\rtlpar\par}"
    line = rb"{\rtf1\ansi Details:\par\pard\rtlpar Ref 12\line " + stored + rb"\par}"
    late = rb"{\rtf1\ansi Details:\par\pard " + stored + rb"\line x\rtlpar\par}"
    info = rb"{\rtf1\ansi{\info{\title Report}{\author Dana}}\pard\rtlpar " + stored + rb"\par}"
    info_late = info.replace(rb"\pard\rtlpar " + stored, rb"\pard " + stored + rb"\rtlpar")
    for rtf in (before, after, line, late, info, info_late):
        assert [f[0] for f in found(scan(rtf, "rtf"))] == ["SENSITIVE_CARD"], rtf
    assert scan(before.replace(rb"\rtlpar", rb"\ltrpar"), "rtf").findings == []
    assert scan(before.replace(rb"\rtlpar", rb"\rtlpar\ltrpar"), "rtf").findings == []
    ended = rb"{\rtf1\ansi Details:\par\pard\rtlpar Note\par\pard " + stored + rb"\par}"
    assert scan(ended, "rtf").findings == []  # \pard: the next paragraph is left-to-right


@pytest.mark.parametrize(
    "away",
    [rb"{\*\annotation a}", rb"{\footnote a}", rb"{\shp{\*\shpinst{\shptxt a}}}", rb"{\header a}"],
)
def test_text_word_draws_away_from_the_line_does_not_split_it(away: bytes) -> None:
    """Review 138: a comment, footnote, text box or header anchored inside a number is drawn
    away from it (the margin, the page's foot, where the box floats, the page's top): the line
    reads "4111 1111 1111 1111". Its text is still read where it stands too."""
    rtf = rb"{\rtf1\ansi Card number: 4111 1111 " + away + rb"1111 1111\par}"
    assert [f[0] for f in found(scan(rtf, "rtf"))] == ["SENSITIVE_CARD"]
    boxed = rb"{\rtf1\ansi Card number: 4111 1111 {\shp{\*\shpinst{\shptxt 1111 1111}}}\par}"
    assert [f[0] for f in found(scan(boxed, "rtf"))] == ["SENSITIVE_CARD"]  # a box beside it
    assert scan(rtf.replace(b"4111", b"4112"), "rtf").findings == []
