"""A Word 97-2003 document's text from its piece table (`formats.wordtext`), and its fields read
there (`docfields.text_fields`): a UTF-16 character such as U+AC13 holds a byte 0x13 that a
byte-by-byte reading takes for a field's begin (red team 95 hid a DDEAUTO and an
INCLUDEPICTURE field so, in oletools' Korean sample)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import olefile  # type: ignore[import-untyped]
import pytest

from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.formats.cfbwrite import Storage, compound_file
from attachguard.formats.docfields import doc_fields, text_fields
from attachguard.formats.wordtext import Unreadable, document_text
from attachguard.policy import Policy
from attachguard.report import FileType
from support.oletools_data import read_sample

KOREAN = "msodde/dde-test-from-office2013-utf_16le-korean.doc.zip"
RESULT = "!\uc218\uc2dd"  # the DDE field's cached result in the sample ("!수식")
PHANTOMS = "!\uac13\ub113"  # the same length: two syllables whose low byte is 0x13


def streams_of(data: bytes) -> tuple[dict[str, bytes], str]:
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}, ole.root.clsid


def with_phantoms(data: bytes) -> bytes:
    streams, clsid = streams_of(data)
    word = streams["WordDocument"]
    assert word.count(RESULT.encode("utf-16-le")) == 1
    streams["WordDocument"] = word.replace(RESULT.encode("utf-16-le"), PHANTOMS.encode("utf-16-le"))
    assert not any("/" in name for name in streams)  # no storages in this sample
    return compound_file(Storage(streams, (clsid or "").upper()))


def test_the_piece_table_gives_the_documents_text(oletools_data: Path) -> None:
    data = read_sample(oletools_data, KOREAN)
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        text = document_text(ole)
    assert RESULT in text
    [field] = [f for f in text_fields(text) if "DDEAUTO" in f.instruction]
    assert "cmd.exe" in field.instruction


def test_characters_holding_a_field_byte_are_no_field_marks(oletools_data: Path) -> None:
    data = with_phantoms(read_sample(oletools_data, KOREAN))
    streams, _ = streams_of(data)
    # read byte by byte, the phantom begins leave the DDE field open: it is never seen
    assert not any("DDEAUTO" in f.instruction for f in doc_fields(streams["WordDocument"]))
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        assert any("DDEAUTO" in f.instruction for f in text_fields(document_text(ole)))


def test_a_field_hidden_from_the_byte_reading_is_found(oletools_data: Path, policy: Policy) -> None:
    data = with_phantoms(read_sample(oletools_data, KOREAN))
    item = Item("letter.doc", data, FileType("doc", "application/msword", "document"))
    result = OfficeEngine().scan(item, policy.context())
    assert "DDE" in {f.code.name for f in result.findings}


def test_text_fields_reads_characters_not_bytes() -> None:
    text = "\x13 INCLUDEPICTURE \\\\host\\s\\a.png \x14\uac13\ub113\x15"
    [field] = text_fields(text)
    assert field.instruction.startswith("INCLUDEPICTURE")


def one_piece_document(text: bytes, flags: int = 0, claimed: int | None = None) -> bytes:
    """A Word document whose piece table has one compressed piece of ``text`` (its address's
    reserved bits ``flags``; ``claimed`` characters, else the text's length)."""
    csw, cslw = 14, 22
    fclcb = 34 + csw * 2 + 2 + cslw * 4 + 2
    word = bytearray(4096)
    struct.pack_into("<HH", word, 0, 0xA5EC, 0)
    struct.pack_into("<H", word, 0x0A, 0x0200)  # the 1Table stream
    struct.pack_into("<H", word, 32, csw)
    struct.pack_into("<H", word, 34 + csw * 2, cslw)
    word[2048 : 2048 + len(text)] = text
    fc = 0x40000000 | (2048 * 2) | flags
    plc = struct.pack("<II", 0, claimed or len(text)) + struct.pack("<HIH", 0, fc, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", word, fclcb + 33 * 8, 0, len(clx))
    return compound_file(
        Storage(
            {"WordDocument": bytes(word), "1Table": clx}, "00020906-0000-0000-C000-000000000046"
        )
    )


def test_a_pieces_reserved_bit_is_no_part_of_its_address() -> None:
    # bit 31 is reserved (LibreOffice masks it off, as Word reads it): the text is still there
    data = one_piece_document(b"card 4111 1111 1111 1111\r", flags=0x80000000)
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        assert document_text(ole).startswith("card 4111")


def test_pieces_that_claim_more_text_than_the_stream_holds_are_damage() -> None:
    data = one_piece_document(b"card\r", claimed=0x3FFFFFFF)
    with olefile.OleFileIO(io.BytesIO(data)) as ole, pytest.raises(Unreadable):
        document_text(ole)
