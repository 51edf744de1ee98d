"""The text of legacy (OLE) Office files: Word 97-2003, Excel 97-2003, PowerPoint 97-2003.

- Word: the piece table (the ``Clx`` in the ``0Table``/``1Table`` stream the FIB names) gives
  every piece of the document's text, in order, 8-bit (Windows-1252) or UTF-16: the body,
  footnotes, headers, comments and text boxes alike. Paragraph, cell and field marks start a
  new line.
- Excel: the cells, notes, sheet names, print headers and number formats' text of its
  ``Workbook`` (BIFF8) and ``Book`` (BIFF5) streams (`excel97`: each is read when present,
  as "Excel 97-2003 & 5.0/95" saves both).
- PowerPoint: every text atom (TextChars, TextBytes) and string (CString) in the record tree of
  the ``PowerPoint Document`` stream, slides and notes alike.
- All three: the text of WordArt and watermarks (a shape's ``gtextUNICODE`` in the OfficeArt
  drawings: Word's table stream, Excel's drawing records, PowerPoint's records), a shape a line.
- All three: the document's properties (``\\x05SummaryInformation``,
  ``\\x05DocumentSummaryInformation``: `formats.oleprops.all_texts`), as File > Info and
  Explorer show them, at "document properties".

Encrypted files, and streams that are not there or do not parse, are noted and not read (the
office engine reports them). Work is linear in the stream sizes (olefile reads each stream).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import partial

import olefile  # type: ignore[import-untyped]

from attachguard.formats import officeart, oleprops
from attachguard.formats.ole import with_difat_ended
from attachguard.formats.wordtext import Unreadable, document_readings
from attachguard.sensitive.excel97 import Unreadable as _Unreadable
from attachguard.sensitive.excel97 import workbook_text
from attachguard.sensitive.passages import Extract, Passage

_DAMAGED = (OSError, ValueError, EOFError, LookupError, struct.error, RecursionError)
_WORD_MARKS = str.maketrans(
    {"\r": "\n", "\x07": "\n", "\x0b": "\n", "\x0c": "\n", "\x13": "\n", "\x14": "\n",
     "\x15": "\n", "\x01": "", "\x08": "", "\x1e": "\u2011", "\x1f": ""}
)  # fmt: skip
_PPT_MARKS = str.maketrans({"\r": "\n", "\x0b": "\n"})


def read(data: bytes) -> Extract:
    """The text of a legacy Word, Excel or PowerPoint file (by the streams it holds)."""
    extract = Extract()
    try:
        ole = olefile.OleFileIO(with_difat_ended(data))
    except _DAMAGED:
        extract.unread.append("the compound file could not be read")
        return extract
    with ole:
        for stream, reader, what in _READERS:
            if not ole.exists(stream):
                continue
            try:
                text = reader(ole)
            except (_Unreadable, *_DAMAGED) as exc:
                extract.unread.append(f"{what}: {exc}" if isinstance(exc, _Unreadable) else what)
                continue
            if text.strip():
                where = "document properties" if stream in oleprops.STREAMS else None
                extract.passages.append(Passage(text, where))
    return extract


# -- Word -----------------------------------------------------------------------------------


def _word(ole: olefile.OleFileIO) -> str:
    try:
        # as Word shows it marked up, with tracked changes accepted, and rejected
        return "\n".join(document_readings(ole)).translate(_WORD_MARKS)
    except Unreadable as exc:
        raise _Unreadable(str(exc)) from exc


# -- PowerPoint -----------------------------------------------------------------------------

_TEXT_ATOMS = {0x0FA0: "utf-16-le", 0x0FBA: "utf-16-le", 0x0FA8: "latin-1"}


def _powerpoint(ole: olefile.OleFileIO) -> str:
    if ole.exists("EncryptedSummary"):
        raise _Unreadable("encrypted")
    stream = ole.openstream("PowerPoint Document").read()
    out, pos = [], 0
    while pos + 8 <= len(stream):
        version, kind, size = struct.unpack_from("<HHI", stream, pos)
        if version & 0x0F == 0x0F:  # a container: its records follow its header
            pos += 8
            continue
        codec = _TEXT_ATOMS.get(kind)
        if codec:
            out.append(stream[pos + 8 : pos + 8 + size].decode(codec, "replace"))
        pos += 8 + size
    return "\n".join(out).translate(_PPT_MARKS)


# -- drawings -------------------------------------------------------------------------------


def _wordart(ole: olefile.OleFileIO, stream: str) -> str:
    """The text of WordArt and watermarks (a shape's ``gtextUNICODE``) in the OfficeArt
    property tables of Word's table stream, Excel's drawing records or PowerPoint's records
    (`formats.officeart`), a shape a line."""
    data = ole.openstream(stream).read()
    if stream == "Workbook":
        data = officeart.excel_drawings(data)
    return "\n".join(officeart.linked_in(data, officeart.shape_texts))


# -- document properties --------------------------------------------------------------------


def _properties(ole: olefile.OleFileIO, stream: str) -> str:
    """The document's properties, as File > Info and Explorer show them (`oleprops.all_texts`:
    title, subject, author, keywords, comments, category, company, custom properties...), a
    property a line."""
    return "\n".join(oleprops.all_texts(ole, stream))


_READERS: tuple[tuple[str, Callable[[olefile.OleFileIO], str], str], ...] = (
    ("WordDocument", _word, "Word text"),
    ("Workbook", partial(workbook_text, name="Workbook"), "Excel cells"),
    ("Book", partial(workbook_text, name="Book"), "Excel 5.0/95 cells"),
    ("PowerPoint Document", _powerpoint, "PowerPoint text"),
    *((stream, partial(_properties, stream=stream), "document properties")
      for stream in oleprops.STREAMS),
    *((stream, partial(_wordart, stream=stream), "drawings")
      for stream in ("0Table", "1Table", "Workbook", "PowerPoint Document")),
)  # fmt: skip
