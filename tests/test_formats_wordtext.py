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
from attachguard.formats.wordtext import Unreadable, document_readings, document_text
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


def one_piece_document(
    text: bytes,
    flags: int = 0,
    claimed: int | None = None,
    marked: tuple[int, int, int] | None = None,
) -> bytes:
    """A Word document whose piece table has one compressed piece of ``text`` (its address's
    reserved bits ``flags``; ``claimed`` characters, else the text's length); ``marked``: the
    characters from, to (indexes in ``text``) whose run has the revision sprm given."""
    csw, cslw = 14, 22
    fclcb = 34 + csw * 2 + 2 + cslw * 4 + 2
    word = bytearray(4608)
    struct.pack_into("<HH", word, 0, 0xA5EC, 0)
    struct.pack_into("<H", word, 0x0A, 0x0200)  # the 1Table stream
    struct.pack_into("<H", word, 32, csw)
    struct.pack_into("<H", word, 34 + csw * 2, cslw)
    word[2048 : 2048 + len(text)] = text
    fc = 0x40000000 | (2048 * 2) | flags
    plc = struct.pack("<II", 0, claimed or len(text)) + struct.pack("<HIH", 0, fc, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", word, fclcb + 33 * 8, 0, len(clx))
    table = clx
    if marked is not None:  # one page of character properties (ChpxFkp) at page 8: 4096
        first, last, sprm = marked
        page = bytearray(512)
        struct.pack_into("<IIB", page, 0, 2048 + first, 2048 + last, 200)  # rgfc, rgb (x2)
        page[400:404] = bytes([3]) + struct.pack("<HB", sprm, 1)  # a Chpx: cb, grpprl
        page[511] = 1
        word[4096:4608] = page
        struct.pack_into("<II", word, fclcb + 12 * 8, len(clx), 12)  # the PlcBteChpx
        table = clx + struct.pack("<III", 2048 + first, 2048 + last, 8)
    return compound_file(
        Storage(
            {"WordDocument": bytes(word), "1Table": table}, "00020906-0000-0000-C000-000000000046"
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


# -- red team 100: revision marks, computed field types ----------------------------------------

DELETED, INSERTED = 0x0800, 0x0801  # sprmCFRMarkDel, sprmCFRMarkIns
DOC = FileType("doc", "application/msword", "document")
COMPUTED = "field whose type is computed by a nested field in the Word document"


def scan_doc(data: bytes, policy: Policy) -> list[tuple[str, str]]:
    result = OfficeEngine().scan(Item("letter.doc", data, DOC), policy.context())
    return [(f.code.name, f.message) for f in result.findings]


def test_the_text_is_read_with_revisions_accepted_and_rejected() -> None:
    data = one_piece_document(b"a\x13XDDEAUTO c:\\x.exe\x14r\x15\r", marked=(2, 3, DELETED))
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        assert document_readings(ole) == [
            "a\x13XDDEAUTO c:\\x.exe\x14r\x15\r",  # marked up
            "a\x13DDEAUTO c:\\x.exe\x14r\x15\r",  # the deletion accepted
        ]


def test_a_tracked_deletion_in_a_field_code_is_read_accepted(policy: Policy) -> None:
    # "[X]DDEAUTO": Word's final text is a DDEAUTO field, as the .docx reader reads it
    data = one_piece_document(b"a\x13XDDEAUTO c:\\x.exe\x14r\x15\r", marked=(2, 3, DELETED))
    assert [code for code, _ in scan_doc(data, policy)] == ["DDE"]


def test_a_tracked_insertion_is_read_rejected(policy: Policy) -> None:
    data = one_piece_document(b"a\x13DDEXAUTO c:\\x.exe\x14r\x15\r", marked=(5, 6, INSERTED))
    assert [code for code, _ in scan_doc(data, policy)] == ["DDE"]


def test_an_unmarked_field_code_is_read_as_it_is(policy: Policy) -> None:
    data = one_piece_document(b"a\x13XDDEAUTO c:\\x.exe\x14r\x15\r")
    assert scan_doc(data, policy) == []
    marked = one_piece_document(b"a\x13PAGEX\x14r\x15\r", marked=(7, 8, DELETED))
    assert scan_doc(marked, policy) == []


@pytest.mark.parametrize(
    "code",
    [
        b"\x13 \x13TITLE\x14\x15 c:\\x.exe \x14r\x15",  # any field: TITLE, AUTHOR, a bookmark
        b"\x13 \x13AUTHOR\x14\x15 c:\\x.exe \x14r\x15",
        b"\x13 \x13mybookmark\x14\x15 c:\\x.exe \x14r\x15",
        b'\x13 "\x13QUOTE 68 68 69\x14x\x15" cmd \x14r\x15',  # quoted
        b"\x13 \\* \x13QUOTE 68 68 69\x14x\x15 cmd \x14r\x15",  # after a switch
        b"\x13DDE\x13QUOTE 65\x14A\x15UTO cmd \x14r\x15",  # inside the type word
    ],
    ids=["title", "author", "bookmark", "quoted", "switch", "in-the-word"],
)
def test_a_type_computed_by_any_nested_field_is_ambiguous(code: bytes, policy: Policy) -> None:
    # the rule of .docx and RTF fields (wordfields.computed_type)
    findings = scan_doc(one_piece_document(b"a" + code + b"\r"), policy)
    assert ("AMBIGUOUS", COMPUTED) in findings


@pytest.mark.parametrize(
    "code",
    [
        b"\x13 TITLE \\* MERGEFORMAT \x14t\x15",
        b'\x13IF "\x13MERGEFIELD Amount\x14 1\x15" = "1" "one" "many"\x14one\x15',
        b"\x13 HYPERLINK \x13REF target\x14https://example.com\x15 \x14link\x15",
    ],
)
def test_nested_fields_in_arguments_pass(code: bytes, policy: Policy) -> None:
    assert scan_doc(one_piece_document(b"a" + code + b"\r"), policy) == []


def test_noise_in_a_stream_read_byte_by_byte_computes_no_type() -> None:
    # pictures hold field characters by chance: there a nested "field" must start with a type
    assert not any(f.computed for f in doc_fields(b"\x13ab\x13zz\x14\x15 cmd\x15"))
    assert any(f.computed for f in doc_fields(b"\x13 \x13TITLE\x14\x15 cmd\x15"))
    assert any(f.computed for f in text_fields("\x13 \x13zz\x14\x15 cmd\x15"))


def test_marked_ranges_are_merged_and_looked_up_per_piece() -> None:
    """Runs named many times, overlapping or out of order, drop each marked character once;
    a piece looks only at the ranges that reach it (review 102: 400 pieces and 2,000 page
    entries took minutes when every piece read every run)."""
    from attachguard.formats.wordtext import _kept, _merged

    marked = _merged([(110, 114), (100, 104), (102, 106), (100, 104), (50, 50)] * 500)
    assert marked == [(100, 106), (110, 114)]
    # 8-bit text at offsets 98..109: c..h (100-105) marked
    assert _kept(("abcdefghijkl", 98, 1), marked) == "abijkl"
    # UTF-16 text at offsets 96..110: c, d, e (100, 102, 104) and h (110) marked
    assert _kept(("abcdefgh", 96, 2), marked) == "abfg"
    assert _kept(("xyz", 200, 1), marked) == "xyz"


@pytest.mark.parametrize(
    ("stream", "computed"),
    [(b"\x13\x13QUOTE 68 68 69\x14DDE\x15AUTO c:\\\\cmd.exe\x15", True),
     (b"\x13\x13 TITLE \x14DDEAUTO\x15 cmd /c calc\x15", True),
     # table data around a chance field (csv2ofx's OFX_Message_Support.doc): no field type
     (b"\x13\xff\x87\xe0\xfd\xfb\x13If\x01x\x14\x15\x01<\x01;\x1d\x8d\x15", False)],
    ids=["quote-spells-the-type", "title-is-the-type", "binary-around-a-field"],
)  # fmt: skip
def test_a_type_computed_in_a_streams_bytes_is_a_name(stream: bytes, computed: bool) -> None:
    """Read byte by byte, a nested field computes the type only where letters stand beside
    it in the type word, as a field type's do."""
    assert any(field.computed for field in doc_fields(stream)) is computed
