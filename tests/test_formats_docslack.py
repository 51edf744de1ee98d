"""The readers behind the second red-team round: Word 97 fields (`formats.docfields`), where an
OLE compound file's allocated sectors end (`formats.oleslack`) and where an RTF document ends
for Word (`formats.rtfend`)."""

from __future__ import annotations

import random
import struct

import pytest

from attachguard.formats.docfields import MAX_DEPTH, MAX_INSTRUCTION, doc_fields
from attachguard.formats.oleslack import slack
from attachguard.formats.rtfend import rtf_end
from support.evasions import ole_tree

# -- Word 97 fields -------------------------------------------------------------------------------


def test_a_field_gives_its_instruction() -> None:
    (found,) = doc_fields(b"Page \x13 PAGE \\* MERGEFORMAT \x142\x15 of 3")
    assert found.instruction.split() == ["PAGE", "\\*", "MERGEFORMAT"]
    assert not found.computed


def test_unicode_text_reads_as_8_bit_text() -> None:
    text = "\x13 DDEAUTO cmd \x141\x15".encode("utf-16-le")
    (found,) = doc_fields(text)
    assert found.instruction.lstrip().startswith("DDEAUTO")


def test_a_nested_field_stands_for_its_result() -> None:
    fields = doc_fields(b"\x13\x13 QUOTE 68 68 69 \x14DDE\x15AUTO cmd \x141\x15")
    inner, outer = fields
    assert inner.instruction.strip() == "QUOTE 68 68 69"
    assert outer.instruction.startswith("DDEAUTO")
    assert outer.computed


def test_a_nested_field_after_the_type_computes_nothing() -> None:
    fields = doc_fields(b'\x13 IF \x13 PAGE \x141\x15 = 1 "a" "b" \x14a\x15')
    assert [f.computed for f in fields] == [False, False]
    assert fields[1].instruction.split()[:3] == ["IF", "1", "="]


def test_a_field_in_a_result_is_not_part_of_the_instruction() -> None:
    fields = doc_fields(b"\x13 TOC \\o \x14Intro \x13 PAGEREF _Toc1 \x142\x15\x15")
    assert fields[-1].instruction.strip() == "TOC \\o"


def test_field_characters_in_binary_data_make_no_computed_field() -> None:
    # pictures in a Data stream hold field characters by chance, about one byte in 85
    noise = random.Random(3).randbytes(4_000_000)
    assert not any(f.computed for f in doc_fields(noise))


def test_stray_begin_characters_cannot_push_a_nested_field_out_of_sight() -> None:
    # begin characters that never close fill the stack; the innermost fields are kept
    planted = b"\x13" * (3 * MAX_DEPTH) + b"\x13\x13 QUOTE 68 68 69 \x14DDE\x15AUTO cmd \x141\x15"
    outer = doc_fields(planted)[-1]
    assert outer.computed and outer.instruction.strip() == "DDEAUTO cmd"


def test_blanks_before_the_type_cannot_pad_it_past_the_cap() -> None:
    (found,) = doc_fields(b"\x13" + b" " * (2 * MAX_INSTRUCTION) + b"DDEAUTO cmd \x14\x15")
    assert found.instruction.startswith("DDEAUTO cmd")


def test_instructions_are_capped() -> None:
    (found,) = doc_fields(b"\x13 " + b"A" * (3 * MAX_INSTRUCTION) + b"\x15")
    assert len(found.instruction) == MAX_INSTRUCTION


# -- OLE slack ------------------------------------------------------------------------------------


def test_an_ole_file_ends_after_its_last_allocated_sector() -> None:
    data = ole_tree({"WordDocument": bytes(5000)})
    found = slack(data + b"MZ" + bytes(600))
    assert found is not None
    assert found.end == len(data)
    assert found.free == []


@pytest.mark.parametrize(
    "data", [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8)]
)
def test_what_is_not_a_compound_file_has_no_slack(data: bytes) -> None:
    assert slack(data) is None


def test_free_sectors_between_allocated_ones_are_listed() -> None:
    data = bytearray(ole_tree({"A": bytes(4096), "B": bytes(4096)}))
    fat = 512 * (1 + struct.unpack_from("<I", data, 76)[0])
    # the first regular sector of stream A (after the FAT, directory, mini table, mini stream)
    first = next(i for i in range(128) if struct.unpack_from("<I", data, fat + 4 * i)[0] == i + 1)
    struct.pack_into("<I", data, fat + 4 * first, 0xFFFFFFFF)
    found = slack(bytes(data))
    assert found is not None
    assert (512 * (first + 1), 512 * (first + 2)) in found.free


# -- RTF end --------------------------------------------------------------------------------------


def test_rtf_ends_at_the_brace_that_closes_it() -> None:
    doc = b"{\\rtf1{\\fonttbl{\\f0 Arial;}}\\f0 a \\{ b \\} c\\\\}"
    assert rtf_end(doc + b"MZ tail") == len(doc)


def test_braces_in_binary_data_do_not_count() -> None:
    doc = b"{\\rtf1{\\pict\\bin6 }}}{{{}x}"
    assert rtf_end(doc + b"\r\n") == len(doc)


@pytest.mark.parametrize("data", [b"{\\rtf1 never closed", b"text {\\rtf1}", b""])
def test_no_end_without_a_closed_first_group(data: bytes) -> None:
    assert rtf_end(data) is None
