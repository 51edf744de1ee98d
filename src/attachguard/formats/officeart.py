"""OfficeArt drawings (MS-ODRAW): the pictures a shape links to a file instead of holding, and
the text WordArt draws (`shape_texts`, read by the sensitive engine).

A shape's properties are an OfficeArt property table (OfficeArtFOPT 0xF00B, the secondary
0xF121 and tertiary 0xF122 tables). A picture (``pibName``/``pibFlags``), a picture fill
(``fillBlipName``/``fillBlipFlags``) or a line pattern (``lineFillBlipName``/``...Flags``)
whose flags say msoblipflagURL (0x2) or msoblipflagLinkToFile (0x8) is read from the file or
URL its name gives when the document opens. PowerPoint keeps these tables in its record tree
(`linked_pictures` on one table); Word keeps its drawings in the table stream and inline
pictures in the Data stream, Excel in MSODRAWINGGROUP and MSODRAWING records, where
`linked_in` finds the tables by their headers (the record type, a length that holds the
properties it counts) wherever they lie: a red team linked pictures to a share in a .doc
and a .xls, which nothing read.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

__all__ = ["PROPERTY_TABLES", "excel_drawings", "hyperlink_texts", "linked_in",
           "linked_pictures", "shape_texts"]  # fmt: skip

PROPERTY_TABLES = frozenset({0xF00B, 0xF121, 0xF122})
_PICTURE_NAMES = ((0x0105, 0x0106), (0x0187, 0x0188), (0x01C6, 0x01C7))
_LINKED_PICTURE = 0x2 | 0x8
_SHAPE_HYPERLINK = 0x0382  # pihlShape: a Hyperlink Object ([MS-OSHARED] 2.3.7.1)
_WORDART_TEXT = 0x00C0  # gtextUNICODE
_HEADERS = tuple(struct.pack("<H", kind) for kind in sorted(PROPERTY_TABLES))
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffd]+")
_ANSI_TEXT = re.compile(rb"[\x20-\x7e]{3,}")


def _properties(table: bytes, count: int) -> tuple[dict[int, int], dict[int, bytes], bool]:
    """A property table's values and complex data by property id, and whether the complex
    data fits the table. Each property is an id (14 bits, then "blip" and "complex" flags)
    and a value; a complex property's value is its data's length, its data following the
    table in the order of the properties."""
    values: dict[int, int] = {}
    complex_data: dict[int, bytes] = {}
    extra = 6 * count
    for index in range(min(count, len(table) // 6)):
        pid, value = struct.unpack_from("<HI", table, 6 * index)
        values[pid & 0x3FFF] = value
        if pid & 0x8000:
            complex_data[pid & 0x3FFF] = table[extra : extra + value]
            extra += value
    return values, complex_data, extra <= len(table)


def hyperlink_texts(table: bytes, count: int) -> list[str]:
    """The texts of a shape's hyperlink (``pihlShape``) in an OfficeArt property table: every
    run of printable text in its Hyperlink Object, UTF-16 (a URL moniker's address, a display
    name, a location) and ANSI (a file moniker's path), so that a target is found however the
    object's optional parts are laid out."""
    data = _properties(table, count)[1].get(_SHAPE_HYPERLINK, b"")
    # UTF-16 at either alignment, any character but a control one (a share's name may be
    # "\\\\évil": review 102), and ANSI runs
    wide = [data.decode("utf-16-le", "ignore"), data[1:].decode("utf-16-le", "ignore")]
    texts = [run for text in wide for run in _CONTROLS.split(text) if len(run) >= 3]
    return texts + [m.group().decode("latin-1") for m in _ANSI_TEXT.finditer(data)]


def shape_texts(table: bytes, count: int) -> list[str]:
    """The text a shape draws as WordArt (``gtextUNICODE``, UTF-16 up to its NUL): Word's
    watermarks are WordArt, and a .ppt's WordArt keeps its text nowhere else."""
    data = _properties(table, count)[1].get(_WORDART_TEXT, b"")
    text = data[: len(data) // 2 * 2].decode("utf-16-le", "replace").split("\0")[0]
    return [text] if text.strip() else []


def linked_pictures(table: bytes, count: int) -> list[str]:
    """The names of the pictures an OfficeArt property table links to files (a picture, a
    picture fill, a line pattern whose flags say it is read from the file or URL its name
    gives); flags that cannot be read count as saying so (`_properties`)."""
    values, complex_data, fits = _properties(table, count)
    found = []
    for name_id, flags_id in _PICTURE_NAMES:
        if name_id not in complex_data:
            continue
        flags = values.get(flags_id, 0) if fits else ~0
        if flags & _LINKED_PICTURE:
            found.append(complex_data[name_id].decode("utf-16-le", "replace").split("\0")[0])
    return found


def linked_in(
    stream: bytes, read: Callable[[bytes, int], list[str]] = linked_pictures
) -> list[str]:
    """The pictures linked to files (or what another ``read`` takes, such as
    `hyperlink_texts`) by every property table found in ``stream`` by its header (see the
    module docstring): its type, a count of properties and a length that holds them and
    fits. The version is not checked (Office writes 3; a reader need not insist). Linear in
    the candidates; a stream built of overlapping fake tables costs time, which the engine's
    timeout bounds (and fails closed)."""
    found: list[str] = []
    for header in _HEADERS:
        at = stream.find(header, 2)
        while at >= 0:
            count = int.from_bytes(stream[at - 2 : at], "little") >> 4
            length = int.from_bytes(stream[at + 2 : at + 6], "little")
            if count and 6 * count <= length <= len(stream) - at - 6:
                found += read(stream[at + 6 : at + 6 + length], count)
            at = stream.find(header, at + 1)
    return found


_DRAWING_RECORDS = frozenset({0x00EB, 0x00EC, 0x00ED})  # MSODRAWINGGROUP, MSODRAWING, ...SELECTION
_CONTINUE = 0x003C


def excel_drawings(stream: bytes) -> bytes:
    """The OfficeArt data of an Excel 97-2003 workbook stream: the bodies of its drawing
    records and of the CONTINUE records after each, joined as Excel joins them ([MS-XLS]
    2.4.58 Continue: a property table may run over several)."""
    out = bytearray()
    pos, drawing = 0, False
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        if kind in _DRAWING_RECORDS or (drawing and kind == _CONTINUE):
            out += stream[pos + 4 : pos + 4 + size]
            drawing = True
        else:
            drawing = False
        pos += 4 + size
    return bytes(out)
