"""Pictures a Word or Excel 97-2003 drawing links to a file (red team 95): the OfficeArt
property tables of Word's table and Data streams and of Excel's drawing records, read as a
.ppt's are (`formats.officeart`). A picture read from another machine is EXTERNAL_LINK; one
whose name only records where it came from, or that lies on the reader's computer, passes."""

from __future__ import annotations

import struct

import pytest

from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.formats.cfbwrite import Storage, compound_file
from attachguard.formats.officeart import excel_drawings, linked_in
from attachguard.policy import Policy
from attachguard.report import FileType
from support.evasions import biff_workbook
from test_office_ppt_linked import LINKED, LOCAL, SHARE, name, properties

WORD_CLSID = "00020906-0000-0000-C000-000000000046"
EXCEL_SHEET_8 = "00020820-0000-0000-C000-000000000046"


def letter(table: bytes, data: bytes = b"") -> bytes:
    """A Word 97 document (as far as the office engine reads it), drawings in its streams."""
    streams = {"WordDocument": bytes(1024), "1Table": bytes(300) + table + bytes(40)}
    return compound_file(Storage({**streams, **({"Data": data} if data else {})}, WORD_CLSID))


def workbook(drawing: bytes, split: int | None = None) -> bytes:
    """A workbook whose MSODRAWING record holds ``drawing`` (split into a CONTINUE record)."""
    cut = len(drawing) if split is None else split
    records = struct.pack("<HH", 0x00EC, cut) + drawing[:cut]
    if cut < len(drawing):
        records += struct.pack("<HH", 0x003C, len(drawing) - cut) + drawing[cut:]
    book = biff_workbook([("Orders", 0, 0)])
    eof = book.rindex(b"\x0a\x00\x00\x00")  # the last EOF record: the drawing before it
    return compound_file(Storage({"Workbook": book[:eof] + records + book[eof:]}, EXCEL_SHEET_8))


def codes(data: bytes, name_: str, policy: Policy) -> list[str]:
    kind = name_.rsplit(".", 1)[1]
    result = OfficeEngine().scan(
        Item(name_, data, FileType(kind, "", "document")), policy.context()
    )
    return [f.code.name for f in result.findings]


PICTURE = properties([(0x0105, name(SHARE)), (0x0106, LINKED)])
FILL = properties([(0x0187, name("http://attacker.example/p.png")), (0x0188, 0x2)])


@pytest.mark.parametrize(
    "document",
    [
        lambda: (letter(PICTURE), "letter.doc"),
        lambda: (letter(b"", data=FILL), "letter.doc"),
        lambda: (workbook(PICTURE), "report.xls"),
        lambda: (workbook(FILL, split=10), "report.xls"),  # the table over a CONTINUE record
    ],
    ids=["doc-table", "doc-data-fill", "xls", "xls-continued"],
)
def test_a_picture_read_from_another_machine_is_an_external_link(
    document: object, policy: Policy
) -> None:
    data, name_ = document()  # type: ignore[operator]
    assert codes(data, name_, policy) == ["EXTERNAL_LINK"]


@pytest.mark.parametrize(
    "table",
    [
        properties([(0x0105, name(SHARE)), (0x0106, 0x0)]),  # a name that only records a source
        properties([(0x0105, name(LOCAL)), (0x0106, LINKED)]),  # the reader's own computer
    ],
    ids=["name-only", "local"],
)
def test_pictures_not_read_from_elsewhere_pass(table: bytes, policy: Policy) -> None:
    assert codes(letter(table), "letter.doc", policy) == []
    assert codes(workbook(table), "report.xls", policy) == []


def test_tables_are_found_by_their_headers_and_continued_records_joined() -> None:
    assert linked_in(b"\x00" * 17 + PICTURE + b"\xff" * 9) == [SHARE]
    assert linked_in(b"\x0b\xf0" * 50) == []  # a type without a header that checks out
    book = biff_workbook([("Orders", 0, 0)])
    joined = excel_drawings(
        struct.pack("<HH", 0x00EC, 10) + FILL[:10] + struct.pack("<HH", 0x003C, len(FILL) - 10)
        + FILL[10:] + book
    )  # fmt: skip
    assert joined.startswith(FILL)


# A Hyperlink Object ([MS-OSHARED] 2.3.7.1) as Word writes a shape's (pihlShape): StdHlink's
# CLSID, its version and flags, then a URL moniker (its CLSID, a length, the address in UTF-16)
_STD_HLINK = bytes.fromhex("d0c9ea79f9bace118c8200aa004ba90b")
_URL_MONIKER = bytes.fromhex("e0c9ea79f9bace118c8200aa004ba90b")


def _hyperlink(address: str) -> bytes:
    text = (address + "\0").encode("utf-16-le")
    moniker = _URL_MONIKER + struct.pack("<I", len(text)) + text
    return _STD_HLINK + struct.pack("<II", 2, 3) + moniker


@pytest.mark.parametrize(
    ("address", "expected"),
    [("\\\\attacker.example\\share\\page.html", ["EXTERNAL_LINK"]),
     ("file://attacker.example/share/page.html", ["EXTERNAL_LINK"]),
     ("\\\\évil.example\\share\\page.html", ["EXTERNAL_LINK"]),  # review 102
     ("https://shop.example/orders/4711", [])],
    ids=["unc", "file-url", "non-ascii-host", "web"],
)  # fmt: skip
@pytest.mark.parametrize("document", [letter, workbook], ids=["doc", "xls"])
def test_a_shapes_hyperlink_to_a_share_is_an_external_link(
    address: str, expected: list[str], document: object, policy: Policy
) -> None:
    """A click on the shape sends the reader's Windows credentials to the share, as a
    hyperlink in the text does; one to a web page is a plain link."""
    table = properties([(0x0382, _hyperlink(address))])
    data = document(table)  # type: ignore[operator]
    name_ = "letter.doc" if document is letter else "report.xls"
    assert codes(data, name_, policy) == expected
