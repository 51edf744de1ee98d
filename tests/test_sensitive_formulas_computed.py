"""Workbook formulas read as Excel computes them (`formulaeval`, `computed`): a card number
built from pieces Excel evaluates on open, with no cached value or a cached value that differs,
is found; honest formulas (sums, lookups, prices) stay clean; the evaluator's bounds hold."""

from __future__ import annotations

import time
from xml.sax.saxutils import escape

import pytest

from attachguard.sensitive import cards, computed, formulaeval, formulatext
from test_sensitive_formats import OFFICE, R, S, package, scan, workbook

PIECES = [
    'REPT("4",1)&"111111111111111"',
    'SUBSTITUTE("4x111x1111x1111x1111","x","")',
    'MID("xx4111111111111111yy",3,16)',
    'LEFT("4111111111111111999",16)',
    'RIGHT("abc4111111111111111",16)',
    'CHAR(52)&"111111111111111"',
    '_xlfn.TEXTJOIN("",TRUE,"4111","1111","1111","1111")',
    '_xlfn.CONCAT("41",REPT("1",14))',
    'TEXT(378282246,"000000000")&TEXT(310005,"000000")',  # an Amex: 15 digits
    'REPLACE("4111-111111111111",5,1,"")',
    'TRIM(" 4111 ")&MID("x111111111111",2,12)',
    # the functions that pick a value, and BASE (red team 117)
    'CHOOSE(2,"x","4111 1111 1111 1111",1/0)',
    '_xlfn.SWITCH(3,1,"a",3,"4111111111111111","b")',
    '_xlfn.IFS(1>2,"a",TRUE,"4111111111111111")',
    '_xlfn.BASE(4111,10)&" 1111 1111 1111"',
    # INDEX over an array constant or a range, the cell's own row (red team 117)
    'INDEX({"4111 1111 ","x"},1)&INDEX({"x","y";"1111","1111 1111"},2,2)',
    'INDEX({4111;1111},1)&" "&INDEX(B1:B9999,1,1)&"1111 1111 1111"',
    '"4111 "&REPT(ROW()*1111,1)&" 1111 "&COLUMN(A1)*1111',
]


def codes(data: bytes) -> list[str]:
    return [f.code.name for f in scan(data, "xlsx").findings]


def formula_cell(reference: str, formula: str, cached: str | None = None) -> str:
    value = "" if cached is None else f"<v>{escape(cached)}</v>"
    return f'<c r="{reference}" t="str"><f>{escape(formula)}</f>{value}</c>'


@pytest.mark.parametrize("formula", PIECES)
def test_a_card_built_from_pieces_is_found(formula: str) -> None:
    assert codes(workbook(f'<row r="1">{formula_cell("A1", formula)}</row>')) == ["SENSITIVE_CARD"]


def test_a_cached_value_that_differs_does_not_hide_the_computed_one() -> None:
    """Excel recomputes on open (fullCalcOnLoad, another writer) or on any edit."""
    cell = formula_cell("A1", PIECES[0], cached="hello")
    assert codes(workbook(f'<row r="1">{cell}</row>')) == ["SENSITIVE_CARD"]
    # and a card only the cached value shows is read as before
    cell = formula_cell("A1", 'REPT("x",3)', cached="4111111111111111")
    assert codes(workbook(f'<row r="1">{cell}</row>')) == ["SENSITIVE_CARD"]


def test_cells_joined_by_a_formula_are_found() -> None:
    strings = "<si><t>41111111</t></si><si><t>11111111</t></si>"
    cells = '<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    joined = workbook(f'<row r="1">{cells}{formula_cell("C1", "A1&B1")}</row>', strings)
    assert codes(joined) == ["SENSITIVE_CARD"]
    # numbers joined, and the formula above the cells it reads
    numbers = '<row r="2"><c r="A2"><v>41111111</v></c><c r="B2"><v>11111111</v></c></row>'
    above = workbook(f'<row r="1">{formula_cell("A1", "$A$2&B$2")}</row>{numbers}')
    assert codes(above) == ["SENSITIVE_CARD"]


def test_a_shared_formula_is_computed_at_each_cell() -> None:
    """``t="shared"``: the followers hold no text, only the master's index."""
    rows = '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c>'
    rows += '<c r="C1" t="str"><f t="shared" ref="C1:C2" si="0">A1&amp;B1</f></c></row>'
    rows += '<row r="2"><c r="A2"><v>41111111</v></c><c r="B2"><v>11111111</v></c>'
    rows += '<c r="C2" t="str"><f t="shared" si="0"/></c></row>'
    assert codes(workbook(rows)) == ["SENSITIVE_CARD"]


def two_sheets(first: str, second: str, names: str = "") -> bytes:
    book = (
        f'<workbook xmlns="{S}" xmlns:r="{R}"><sheets><sheet name="Summary" sheetId="1" '
        'r:id="rId1"/><sheet name="Raw data" sheetId="2" r:id="rId2"/></sheets>'
        f"<definedNames>{names}</definedNames></workbook>"
    )
    parts = {"xl/workbook.xml": (f"{OFFICE}spreadsheetml.sheet.main+xml", book.encode())}
    for number, rows in ((1, first), (2, second)):
        sheet = f'<worksheet xmlns="{S}"><sheetData>{rows}</sheetData></worksheet>'
        parts[f"xl/worksheets/sheet{number}.xml"] = (
            f"{OFFICE}spreadsheetml.worksheet+xml",
            sheet.encode(),
        )
    targets = [("worksheet", "worksheets/sheet1.xml"), ("worksheet", "worksheets/sheet2.xml")]
    return package(parts, {"": [("officeDocument", "xl/workbook.xml")], "xl/workbook.xml": targets})


def test_cells_of_another_sheet_and_defined_names_are_read() -> None:
    raw = '<row r="1"><c r="A1"><v>41111111</v></c><c r="B1"><v>11111111</v></c></row>'
    across = formula_cell("A1", "'Raw data'!A1&'Raw data'!B1")
    summary = f'<row r="1">{across}</row>'
    assert codes(two_sheets(summary, raw)) == ["SENSITIVE_CARD"]
    name = '<definedName name="Piece">REPT("1",12)</definedName>'
    summary = f'<row r="1">{formula_cell("A1", "CHAR(52)&REPT(1,3)&Piece")}</row>'
    assert codes(two_sheets(summary, "", name)) == ["SENSITIVE_CARD"]


def test_honest_formulas_stay_clean() -> None:
    """An order sheet as openpyxl writes it (formulas, no cached values): totals, a lookup,
    a label joined to an amount, dates as text; and a 16-digit order number as a text label."""
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>Order ID</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>Qty</t></is></c>'
            '<c r="C1" t="inlineStr"><is><t>Price</t></is></c>'
            '<c r="D1" t="inlineStr"><is><t>Total</t></is></c></row>']  # fmt: skip
    for n in range(2, 40):
        label = formula_cell(f"E{n}", f'"Order "&A{n}&": "&TEXT(D{n},"#,##0.00")')
        rows.append(
            f'<row r="{n}"><c r="A{n}"><v>{4000 + n}</v></c><c r="B{n}"><v>{n}</v></c>'
            f'<c r="C{n}"><v>{n * 1.25}</v></c><c r="D{n}"><f>B{n}*C{n}</f></c>{label}</row>'
        )
    dated = formula_cell("F40", 'TEXT(46000,"yyyy-mm-dd")&" "&ROUND(D40/3,2)')
    rows.append(
        '<row r="40"><c r="D40"><f>SUM(D2:D39)</f></c>'
        f'<c r="E40"><f>VLOOKUP(4005,A2:D39,4,FALSE)</f></c>{dated}</row>'
    )
    started = time.monotonic()
    assert codes(workbook("".join(rows))) == []
    assert time.monotonic() - started < 5


def test_the_evaluator_stops_at_its_bounds() -> None:
    """Circular references, a long chain, text past Excel's 32,767 characters and deep
    nesting end with an error or unknown value, quickly, never a blow-up."""
    circular = formula_cell("A1", 'B1&"1"') + formula_cell("B1", 'A1&"1"')
    links = [formula_cell(f"A{n}", f'A{n + 1}&"1"') for n in range(2, 3000)]
    chain = "".join(f'<row r="{n}">{link}</row>' for n, link in enumerate(links, 2))
    huge = formula_cell("C1", 'REPT(REPT(REPT("4",1000),1000),1000)')
    deep = formula_cell("D1", "LEFT(" * 60 + '"4111"' + ",4)" * 60)
    started = time.monotonic()
    assert codes(workbook(f'<row r="1">{circular}{huge}{deep}</row>{chain}')) == []
    assert time.monotonic() - started < 10
    book = formulaeval.Book()
    book.sheets["s"] = {(0, 0): (None, formulaeval.parse('REPT("x",40000)'), 0, 0)}
    assert book.result("s", 0, 0) == formulatext.Error("#VALUE!")
    with pytest.raises(formulaeval.Unknown):
        formulaeval.parse("(" * 100 + "1" + ")" * 100)


def evaluated(formula: str) -> object:
    book = formulaeval.Book()
    book.sheets["s"] = {(0, 0): (None, formulaeval.parse(formula), 0, 0)}
    return book.result("s", 0, 0)


def test_arithmetic_fails_as_excel_does() -> None:
    """Hunt 117: (-8)^0.5 raised math.pow's domain error out of the engine (ENGINE_ERROR on a
    workbook Excel shows with #NUM!)."""
    assert evaluated("(-8)^0.5") == formulatext.Error("#NUM!")
    assert evaluated("10^400") == formulatext.Error("#NUM!")
    assert evaluated("1/0") == formulatext.Error("#DIV/0!")
    assert evaluated("0^-1") == formulatext.Error("#DIV/0!")
    row = f'<row r="1">{formula_cell("A1", "(-8)^0.5")}{formula_cell("B1", "2^0.5")}</row>'
    assert codes(workbook(row)) == []


# Edge values for the operators and functions: signs, fractions, zero, the largest and
# smallest numbers, texts that are numbers or not, a logical, an error.
_EDGES = ["0", "1", "-1", "0.5", "-8", "-0.25", "1E+300", "1E-300", "4111", '""', '"4111"',
          '"x"', '"-3"', '"1E+400"', "TRUE", "1/0"]  # fmt: skip
_OPERATORS = ["+", "-", "*", "/", "^", "&", "=", "<>", "<", ">="]
_CALLS = ["-{0}", "{0}%", "ROUND({0},{1})", "INT({0})", "ABS({0})", "TRUNC({0})",
          "FIXED({0},{1})", 'TEXT({0},"0000 0000")', "REPT({0},{1})", "MID({0},{1},{1})",
          "_xlfn.BASE({0},{1},{1})", "CHOOSE({0},{1},{0})", "_xlfn.SWITCH({0},{1},{0})",
          "_xlfn.IFS({0},{1})", "IF({0},{1})", "SUM({0},{1})", "VALUE({0})", "CHAR({0})",
          "UNICHAR({0})", "LEFT({0},{1})", "RIGHT({0},{1})", "SUBSTITUTE({0},{1},{0})",
          "REPLACE({0},{1},{1},{0})", "_xlfn.TEXTJOIN({0},{1},{0})", "LEN({0})",
          "IFERROR({0},{1})", "TRIM({0})", "T({0})", "INDEX({{1,2;3,4}},{0},{1})",
          "INDEX({0},{1})", "INDEX(A1:B2,{0},{1})"]  # fmt: skip


@pytest.mark.parametrize("shape", [f"({{0}}){op}({{1}})" for op in _OPERATORS] + _CALLS)
def test_every_operator_and_function_on_edge_values_gives_a_value(shape: str) -> None:
    """Every operator and function over every pair of edge values is a value, an error value
    or unknown: nothing raises out of the evaluator (hunt 117's (-8)^0.5 did)."""
    for first in _EDGES:
        for second in _EDGES:
            formula = shape.format(first, second)
            try:
                value = evaluated(formula)
            except formulaeval.Unknown:
                continue
            assert value is None or isinstance(value, str | float | bool), (formula, value)


def test_index_picks_as_excel_does() -> None:
    assert evaluated("INDEX({1,2;3,4},2,1)") == 3.0
    assert evaluated("INDEX({1,2,3},2)") == 2.0  # one row: its number picks the column
    assert evaluated("INDEX({1;2;3},3)") == 3.0
    assert evaluated("INDEX({1,2;3,4},2)") == 3.0  # a whole row: its first, as one cell shows
    assert evaluated("INDEX({1,2;3,4},0,2)") == 2.0
    assert evaluated("INDEX({1,2},3)") == formulatext.Error("#REF!")
    assert evaluated('INDEX({#N/A,"a"},1,2)') == "a"  # an error it does not pick is no matter
    assert evaluated("INDEX({1,2},1/0)") == formulatext.Error("#DIV/0!")
    assert evaluated("INDEX({-1,2},1)") == -1.0
    for bad in ("INDEX({1,2;3},1)", "INDEX({1,A1},1)", "INDEX({1,2},1,2,3)", "ROW(1)"):
        with pytest.raises(formulaeval.Unknown):
            evaluated(bad)
    book = formulaeval.Book()
    book.sheets["s"] = {(0, 0): ("x", None, 0, 0), (4, 2): ("far", None, 0, 0)}
    book.sheets["s"][(6, 3)] = (None, formulaeval.parse("INDEX(A1:C999999,5,3)&ROW()"), 0, 0)
    assert book.result("s", 6, 3) == "far7"  # the one cell it picks, however large the range
    assert book.steps < 20


def test_array_constants_and_computed_text_are_charged() -> None:
    """Review 138: an array constant's values cost nothing (CONCAT of 4,000 of them in 50,000
    cells ran 3 minutes), and a workbook kept whatever text its formulas computed (50,000 cells
    of 32,000 characters: 22 GB)."""
    book = formulaeval.Book()
    book.sheets["s"] = {(0, 0): (None, formulaeval.parse("CONCAT({" + "1," * 3999 + "1})"), 0, 0)}
    assert book.result("s", 0, 0) == "1" * 4000 and book.steps >= 4000
    book = formulaeval.Book()
    rept = formulaeval.parse('REPT("1 ",16000)')
    book.sheets["s"] = {(row, 0): (None, rept, 0, 0) for row in range(400)}
    with pytest.raises(formulaeval.Exhausted):
        [book.result("s", row, 0) for row in range(400)]
    assert book.text <= formulaeval.MOST_TEXT + 32_000
    with pytest.raises(formulaeval.Exhausted):  # and nothing more is computed after that
        book.result("s", 399, 0)


def test_formulas_excel_refuses_are_unknown() -> None:
    """Review 138: 1E+400 (no such number) and IF with one argument raised out of the
    evaluator (ENGINE_ERROR on any workbook holding one)."""
    for formula in ("1E+400", "INDEX({1E400},1)", "IF(1)", "-1E999&1"):
        with pytest.raises(formulaeval.Unknown):
            evaluated(formula)
    cell = formula_cell("A1", "INDEX({1E400},1)", cached="4111111111111111")
    assert codes(workbook(f'<row r="1">{cell}</row>')) == ["SENSITIVE_CARD"]  # read as cached


def test_picking_functions_pick_as_excel_does() -> None:
    call = formulatext.call
    assert call("CHOOSE", [3.0, "a", "b"]) == formulatext.Error("#VALUE!")  # past the choices
    assert call("CHOOSE", [1.0, "a", formulatext.Error("#DIV/0!")]) == "a"  # lazy
    assert call("SWITCH", ["X", "x", "hit", "miss"]) == "hit"  # text compared ignoring case
    assert call("SWITCH", [2.0, "2", "text two", "none"]) == "none"  # a number is no text
    assert call("SWITCH", [5.0, 1.0, "a"]) == formulatext.Error("#N/A")
    assert call("IFS", [False, "a", 0.0, "b"]) == formulatext.Error("#N/A")
    assert call("BASE", [255.0, 16.0, 4.0]) == "00FF"
    assert call("BASE", [-1.0, 2.0]) == formulatext.Error("#NUM!")


def test_excel_holds_fifteen_digits() -> None:
    """4111111111111111 typed as a number is 4111111111111110 in Excel: TEXT shows that."""
    book = formulaeval.Book()
    formula = 'TEXT(4111111111111111,"0000 0000 0000 0000")'
    book.sheets["s"] = {(0, 0): (None, formulaeval.parse(formula), 0, 0)}
    assert book.result("s", 0, 0) == "4111 1111 1111 1110"


def test_a_column_of_small_numbers_above_a_card_number_hides_nothing() -> None:
    # each line of a run of digits counted as a "plain identifier", however short: twenty
    # quantities above a card number made it one lucky identifier among many (review 115)
    assert [h.last4 for h in cards.find("1\n" * 81 + "4111111111111111")] == ["1111"]
    assert cards.find("\n".join(str(n) for n in range(40)) + "\n4111111111111111")


def rows_of(cells: list[str]) -> str:
    return "".join(f'<row r="{n}">{cell}</row>' for n, cell in enumerate(cells, 1))


def test_formulas_left_uncomputed_past_the_steps_are_a_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the step budget spent on earlier formulas silently dropped the later ones (review 115)
    monkeypatch.setattr(formulaeval, "MOST_STEPS", 200)
    sums = [formula_cell(f"A{n}", f"SUM(B1:B{n})") for n in range(1, 40)]
    card = formula_cell("A40", 'SUBSTITUTE("4111x1111x1111x1111","x","")')
    assert codes(workbook(rows_of([*sums, card]))) == ["SENSITIVE_LIMIT"]
    monkeypatch.setattr(computed, "MOST_FORMULAS", 5)
    assert "SENSITIVE_LIMIT" in codes(workbook(rows_of(sums[:10])))


def test_text_functions_check_the_length_before_building_it() -> None:
    # SUBSTITUTE of 32,767 characters by 32,767 each built 1 GB before its check
    book = formulaeval.Book()
    huge = 'SUBSTITUTE(REPT("a",32767),"a",REPT("b",32767))'
    joined = 'CONCAT(REPT("a",20000),REPT("b",20000))'
    book.sheets["s"] = {
        (0, n): (None, formulaeval.parse(f), 0, 0) for n, f in enumerate([huge, joined])
    }
    assert book.result("s", 0, 0) == formulatext.Error("#VALUE!")
    assert book.result("s", 0, 1) == formulatext.Error("#VALUE!")


@pytest.mark.parametrize("cached", ["inf", "-inf", "nan"])
def test_a_cached_number_that_is_no_number_is_read_as_an_error(cached: str) -> None:
    # int(inf) raised OverflowError: ENGINE_ERROR on a cell a writer put there (review 115)
    cell = f'<c r="A1"><v>{cached}</v></c>' + formula_cell("B1", "LEN(A1)")
    assert codes(workbook(rows_of([cell]))) == []
    assert formulatext.general(float(cached)) == "#NUM!"
