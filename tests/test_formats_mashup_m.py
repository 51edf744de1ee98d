"""Power Query's M read as Power Query reads it (`formats.mashup.remote_calls`): the spellings
that reach outside the workbook (quoted identifiers, escapes, comments, variables, dynamic
lookups, every data-access library), and what only looks like them (a comment, a text)."""

from __future__ import annotations

import time

import pytest

from attachguard.formats import mashup
from attachguard.formats.mashup import remote_calls
from attachguard.formats.opc import OpcKind, analyse_package
from support.evasions_more import _query_book

URL = '"https://attacker.example/p"'
FORMATTING = "\ufff9\ufffb\U000110bd\U00013430\U0001d173\U0001d17a\U000e0001\U000e0041"
SHARE = r'"\\attacker.example\share\orders.csv"'
LOCAL = r'"C:\Data\orders.csv"'


def query(body: str) -> str:
    """A section as Excel writes it, with one query whose ``let`` holds ``body``."""
    return f"section Section1;\nshared Orders = let\n    {body}\nin\n    Source;\n"


@pytest.mark.parametrize(
    ("body", "call"),
    [
        (f"Source = Web.Contents({URL})", "Web.Contents"),
        (f'Source = #"Web.Contents"({URL})', "Web.Contents"),
        (f'Source = #"W#(0065)b.Contents"({URL})', "Web.Contents"),
        (f"Source = Web.Con\u200btents({URL})", "Web.Contents"),
        # every formatting character (Unicode's Cf) is ignored in a name, as M ignores it
        *[(f"Source = W{c}eb.Contents({URL})", "Web.Contents") for c in FORMATTING],
        (f"Source = Web.Contents /* x */ ({URL})", "Web.Contents"),
        (f"Source = Web.Contents // x\n    ({URL})", "Web.Contents"),
        (f"Fetch = Web.Contents, Source = Fetch({URL})", "Web.Contents"),
        (f"Source = @Web.Contents({URL})", "Web.Contents"),
        (f"Source = {{1..Web.Contents({URL})}}", "Web.Contents"),
        ('Source = Sql.Database("attacker.example", "crm")', "Sql.Database"),
        ('Source = Odbc.Query("dsn=crm", "select 1")', "Odbc.Query"),
        ('Source = OleDb.DataSource("Provider=SQLOLEDB;Data Source=x")', "OleDb.DataSource"),
        ('Source = AzureStorage.Blobs("https://x.blob.core.windows.net")', "AzureStorage.Blobs"),
        ('Source = SharePoint.Files("https://x.sharepoint.com/sites/a")', "SharePoint.Files"),
        (f"Source = OData.Feed({URL})", "OData.Feed"),
        (f"Source = Csv.Document(Web.Contents({URL}))", "Web.Contents"),
        (f"Source = Excel.Workbook(File.Contents({SHARE}))", "File.Contents"),
        (f"Source = Folder.Files({SHARE})", "Folder.Files"),
        (f'Source = File.Contents("#(005C)#(005C)host{SHARE[3:]})', "File.Contents"),
        (f"Path = {SHARE},\n    Source = File.Contents(Path)", "File.Contents"),
        (
            f"Path = {SHARE} meta [IsParameterQuery=true], Source = File.Contents(Path)",
            "File.Contents",
        ),
    ],
)
def test_what_reaches_outside_the_workbook_is_named(body: str, call: str) -> None:
    assert call in remote_calls(query(body))


@pytest.mark.parametrize(
    ("body", "note"),
    [
        ('Fetch = Record.Field(#shared, "Web." & "Contents"), Source = Fetch(1)', "#shared"),
        ("Source = #sections[Section1]", "#sections"),
        (f'Source = Expression.Evaluate("Web.Contents({URL})", #shared)', "Expression.Evaluate"),
        (f"Source = File.Contents({LOCAL} & Name ?? {SHARE})", "File.Contents (of a path"),
        (f"Source = File.Contents(Name & {LOCAL})", "File.Contents (of a path computed"),
        (
            'Path = Excel.CurrentWorkbook(){[Name="Path"]}[Content]{0}[Column1], '
            "Source = Excel.Workbook(File.Contents(Path), null, true)",
            "File.Contents (of a path computed",  # a cell's value: a formula could make it
        ),
        ("Read = File.Contents, Source = Read(1)", "File.Contents (of a path computed"),
        ("Source = File.Contents(Path)", "File.Contents (of a path computed"),
        (f"Read = (Path) => File.Contents(Path), x = [Path = {LOCAL}], Source = Read(1)", "File."),
        (f"Path = {LOCAL}, Path2 = Path, Source = File.Contents(Path2)", "File.Contents (of"),
        ('Source = Snowflake2.Databases("x")', "Snowflake2.Databases (not a function known"),
        ('Source = web.contents("x")', "web.contents (not a function known"),
        # a field access, a record's field, a let or a parameter elsewhere binds no library
        (
            f"Source = Soda.Feed({URL}), T = Table.SelectRows(Source, each [Soda.Feed] <> null)",
            "Soda.Feed (not a function known",
        ),
        (f"R = [Soda.Feed = 1], Source = Soda.Feed({URL})", "Soda.Feed (not a function known"),
        (f'R = [#"let" = 1, Soda.Feed = 2], Source = Soda.Feed({URL})', "Soda.Feed (not"),
        (f"Other = let Soda.Feed = 1 in Soda.Feed, Source = Soda.Feed({URL})", "Soda.Feed (not"),
        (f"F = (Soda.Feed) => Soda.Feed, Source = Soda.Feed({URL})", "Soda.Feed (not"),
        (f"Source = if true then (Soda.Feed) => 1 else Soda.Feed({URL})", "Soda.Feed (not"),
        (f"Source = Table.SelectRows(T, Soda.Feed = 1), S = Soda.Feed({URL})", "Soda.Feed (not"),
        ("Source = " + "(" * 1001 + "1" + ")" * 1001, "M text nested over 1,000 deep"),
        ("Source = 1 /* never closed", "M text ending inside a comment"),
        ('Source = "never closed', "M text ending inside a comment or text"),
    ],
)
def test_what_cannot_be_judged_is_reported_as_outside(body: str, note: str) -> None:
    assert any(call.startswith(note) for call in remote_calls(query(body)))


@pytest.mark.parametrize(
    "body",
    [
        'Source = Excel.CurrentWorkbook(){[Name="Table1"]}[Content]',
        'Typed = Table.TransformColumnTypes(Excel.CurrentWorkbook(){[Name="T"]}[Content], '
        '{{"Total", type number}, {"Id", Int64.Type}}), Source = Table.SelectRows(Typed, each '
        "[Customer.Name] <> null and [Total] > 0)",
        'Source = #table({"A", "B"}, {{1, "x"}}), #"Changed Type.1" = Source',
        'Source = Table.FromRows({{1, "x"}}, type table [Order.Id = number, Name = text])',
        f"Source = Csv.Document(File.Contents({LOCAL}), "
        '[Delimiter=",", QuoteStyle=QuoteStyle.None])',
        f"Path = {LOCAL} meta [IsParameterQuery=true], Source = Folder.Files(Path)",
        f"// Source = Web.Contents({URL})\n    Source = 1",
        f"/* Web.Contents({URL}) #shared */ Source = 1",
        f'Source = "Web.Contents(""{URL[1:-1]}"") and #shared"',
        f'Source = Json.Document("{{""u"": ""{URL[1:-1]}""}}")',
        'Source = Uri.Combine("https://x.example", "a"), Fn = (x as text) => Text.Upper(x)',
        "My.Step = 1, Source = My.Step + 1",
        f"Source = Access.Database(File.Contents({LOCAL}))",  # a parser of the file's bytes
        'Source = Table.TransformColumnTypes(T, {{"D", type date}}, Culture.Current)',
        'Source = File.Contents("C:\\Data\\" & Name & ".csv")',  # the drive says where
        f"Path = {LOCAL}, Source = File.Contents(Path & Name)",
        'Source = File.Contents("C:\\Data\\" & (Name ?? "x.csv"))',
        "F = (My.Arg) => My.Arg + 1, Source = F(1)",
        "Source = let My.X = 1 in My.X + 1",
        "Source = My.Later, My.Later = 1",
        "Source = Table.SelectRows(T, each [Sales Total.Net] > 0 and [Order.Id] <> null)",
        "Source = #table(type table [Order.Id = number, optional Sales.Net = number], {})",
    ],
)
def test_what_stays_inside_the_workbook_is_not_reported(body: str) -> None:
    assert remote_calls(query(body)) == []


@pytest.mark.parametrize(
    "section",
    [
        # Excel's parameter query, and a query joining a file name to it
        'section Section1;\nshared FolderPath = "C:\\Data\\" meta [IsParameterQuery=true, '
        'Type="Text", IsParameterQueryRequired=true];\nshared Orders = let Source = '
        'Csv.Document(File.Contents(FolderPath & "orders.csv")) in Source;\n',
        # a section member, a function, used by another query
        "section Section1;\nshared My.Helper = (x) => x + 1;\nshared Q = My.Helper(1);\n",
    ],
)
def test_a_sections_own_members_are_not_reported(section: str) -> None:
    assert remote_calls(section) == []


@pytest.mark.parametrize(
    "body",
    [
        f'Source = #"Web.Contents"({URL})',
        f"Source = Web.Contents /* x */ ({URL})",
        'Fetch = Record.Field(#shared, "Web." & "Contents"), Source = Fetch(1)',
        f"Path = {SHARE},\n    Source = File.Contents(Path)",
        'Source = Sql.Database("attacker.example", "crm")',
    ],
)
def test_a_workbook_refreshing_such_a_query_has_an_external_link(body: str) -> None:
    report = analyse_package(_query_book(query(body)))
    assert [p.kind for p in report.problems] == [OpcKind.EXTERNAL_LINK]
    assert "Power Query" in report.problems[0].message


def test_a_workbook_shaping_its_own_tables_has_none() -> None:
    body = 'Source = Table.Distinct(Excel.CurrentWorkbook(){[Name="Table1"]}[Content])'
    assert not analyse_package(_query_book(query(body))).problems


def test_text_past_the_limit_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mashup, "MAX_FORMULAS", 100)
    with pytest.raises(mashup.TooLarge):
        remote_calls(query("Source = 1" + " " * 100))


@pytest.mark.parametrize("unit", ["/*", '"', "(", "a.", "#(", "Web.Contents("])
def test_reading_is_linear(unit: str) -> None:
    started = time.perf_counter()
    remote_calls(unit * 50_000)  # quadratic reading would take minutes
    assert time.perf_counter() - started < 5
