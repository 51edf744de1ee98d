"""Power Query queries in a workbook's DataMashup part (`formats.mashup`)."""

from __future__ import annotations

import base64
import struct

import pytest

from attachguard.formats import mashup
from attachguard.formats.mashup import queries, remote_calls
from support.evasions import zipped


def part(section: str, utf16: bool = True, before: tuple[tuple[str, str], ...] = ()) -> bytes:
    members = [(name, text.encode()) for name, text in before]
    package = zipped([*members, ("Formulas/Section1.m", section.encode())])
    blob = base64.b64encode(struct.pack("<II", 0, len(package)) + package).decode()
    text = f'<DataMashup xmlns="http://schemas.microsoft.com/DataMashup">{blob}</DataMashup>'
    return b"\xff\xfe" + text.encode("utf-16-le") if utf16 else text.encode()


@pytest.mark.parametrize("utf16", [True, False])
def test_the_queries_are_read_from_the_package_parts(utf16: bool) -> None:
    assert (
        queries(part("section Section1; shared A = 1;", utf16)) == "section Section1; shared A = 1;"
    )


def test_a_decoy_member_does_not_hide_the_queries_excel_runs() -> None:
    decoy = (("Formulas/Decoy.m", "section Decoy; shared A = 1;"),)
    formulas = queries(part('shared B = Web.Contents("https://x.example");', before=decoy))
    assert formulas is not None and remote_calls(formulas) == ["Web.Contents"]


def test_formulas_past_the_limit_are_not_read_as_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mashup, "MAX_FORMULAS", 1000)
    padded = "// " + "x" * 2000 + '\nshared B = Web.Contents("https://x.example");'
    with pytest.raises(mashup.TooLarge):
        queries(part(padded))


@pytest.mark.parametrize("data", [b"", b"<DataMashup>not base64!</DataMashup>", part("")[:40]])
def test_what_holds_no_package_gives_no_queries(data: bytes) -> None:
    assert not queries(data)


@pytest.mark.parametrize(
    ("formulas", "calls"),
    [
        ('Web.Contents("https://x.example/a")', ["Web.Contents"]),
        ('Json.Document(Web.Contents("https://x.example"))', ["Web.Contents"]),
        ('OData.Feed("https://x.example/odata")', ["OData.Feed"]),
        ('Excel.Workbook(File.Contents("\\\\host\\share\\b.xlsx"))', ["File.Contents"]),
        ('Csv.Document(File.Contents("C:\\Data\\orders.csv"))', []),
        ('Excel.CurrentWorkbook(){[Name="Orders"]}[Content]', []),
        ('"Web.Contents is a function" & Text.From(1)', []),
    ],
)
def test_remote_calls(formulas: str, calls: list[str]) -> None:
    assert remote_calls(formulas) == calls
