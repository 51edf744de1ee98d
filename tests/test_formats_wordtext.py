"""A Word 97-2003 document's text from its piece table (`formats.wordtext`), and its fields read
there (`docfields.text_fields`): a UTF-16 character such as U+AC13 holds a byte 0x13 that a
byte-by-byte reading takes for a field's begin (red team 95 hid a DDEAUTO and an
INCLUDEPICTURE field so, in oletools' Korean sample)."""

from __future__ import annotations

import io
from pathlib import Path

import olefile  # type: ignore[import-untyped]

from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.formats.cfbwrite import Storage, compound_file
from attachguard.formats.docfields import doc_fields, text_fields
from attachguard.formats.wordtext import document_text
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
