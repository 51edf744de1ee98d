"""The user-defined properties of Word, Excel and PowerPoint 97-2003 files (`formats.oleprops`)
and what the office engine makes of their hyperlink base: every way of writing a section that
Office may read counts, and what cannot be read is a finding, not a silent pass."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import olefile  # type: ignore[import-untyped]
import pytest

from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.formats.oleprops import MOST_PROPERTIES, MOST_SECTIONS, UserDefined, user_defined
from attachguard.policy import Policy
from attachguard.report import FileType
from support.evasions import ole_tree
from support.oletools_data import read_sample
from support.property_sets import (
    STREAM,
    USER_DEFINED,
    Value,
    blob,
    code_page_value,
    dictionary,
    section,
    user_section,
    with_section,
)
from support.realworld_data import SOURCES, CorpusUnavailable, realworld_corpus

ENGINE = OfficeEngine()
WORD_CLSID = "00020906-0000-0000-C000-000000000046"
LETTER = "msodde/harmless-clean.doc"  # Word 2007's, with a one-section summary stream
SHARE = "\\\\attacker.example\\docs\\"
LINKBASE = "_PID_LINKBASE"
# the codes this reader can cause
OURS = {"EXTERNAL_LINK", "CORRUPT", "ARCHIVE_MEMBERS"}
_VT_I4, _VT_BSTR, _VT_LPSTR = 0x03, 0x08, 0x1E


@pytest.fixture(scope="module")
def letter(oletools_data: Path) -> bytes:
    return read_sample(oletools_data, LETTER)


def ours(data: bytes, policy: Policy, name: str = "letter.doc") -> list[str]:
    """The codes of the office engine's findings that the property set can cause."""
    label = name.rsplit(".", 1)[-1]
    result = ENGINE.scan(Item(name, data, FileType(label, "", "document")), policy.context())
    return sorted(f.code.name for f in result.findings if f.code.name in OURS)


def read(data: bytes) -> UserDefined:
    with olefile.OleFileIO(data) as ole:
        return user_defined(ole, LINKBASE)


def linkbase(code_page: int, *extra: Value, base: str = SHARE) -> list[Value]:
    """A section's values as Office writes them: the dictionary, the code page, the base."""
    names = dictionary([(2, LINKBASE)], code_page)
    return [(0, names), (1, code_page_value(code_page)), (2, blob(base)), *extra]


# -- code pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code_page",
    [1252, 1200, 10000, 10001, 28591, 20127, 65001, 932, 1251, 12345],
    ids=["ansi", "unicode", "mac-roman", "mac-japanese", "latin-1", "ascii", "utf-8",
         "shift-jis", "cyrillic", "unknown"],
)  # fmt: skip
def test_names_in_any_code_page_are_read(letter: bytes, code_page: int, policy: Policy) -> None:
    # Mac Office writes 10000; Python has no cp10000, cp28591 or cp20127, and a code page no
    # codec knows is still read (the names Office reserves are ASCII)
    data = with_section(letter, section(linkbase(code_page)))
    assert read(data) == UserDefined([SHARE])
    assert ours(data, policy) == ["EXTERNAL_LINK"]


def test_a_mac_roman_name_is_decoded_as_mac_roman(letter: bytes) -> None:
    named = [(2, "Geprüft von")]  # ü is 0x9F in Mac Roman, Ÿ in Windows-1252
    values = [(0, dictionary(named, 10000)), (1, code_page_value(10000)), (2, blob("Ana"))]
    with olefile.OleFileIO(with_section(letter, section(values))) as ole:
        assert user_defined(ole, "Geprüft von").texts == ["Ana"]


@pytest.mark.parametrize("code_page", [1252, 1200], ids=["ansi-names", "unicode-names"])
@pytest.mark.parametrize("declared", ["none", "vt-i4"])
def test_a_section_without_a_16_bit_code_page_is_read_both_ways(
    letter: bytes, code_page: int, declared: str, policy: Policy
) -> None:
    # [MS-OLEPS] wants a VT_I2 code page; without one, the names are read as Unicode and ANSI
    values = linkbase(code_page)
    if declared == "none":
        del values[1]
    else:
        values[1] = (1, struct.pack("<HHI", _VT_I4, 0, code_page))
    data = with_section(letter, section(values))
    assert read(data) == UserDefined([SHARE])
    assert ours(data, policy) == ["EXTERNAL_LINK"]


@pytest.mark.parametrize("kind", [_VT_LPSTR, _VT_BSTR], ids=["lpstr", "bstr"])
@pytest.mark.parametrize("code_page", [1252, 1200], ids=["ansi", "unicode"])
def test_a_code_page_string_value_is_read_in_the_code_page(
    letter: bytes, kind: int, code_page: int, policy: Policy
) -> None:
    # [MS-OLEPS] 2.15: an LPSTR and a BSTR are both CodePageStrings, in the section's code page
    codec = "utf-16-le" if code_page == 1200 else "cp1252"
    raw = (SHARE + "\0").encode(codec)
    value = struct.pack("<HHI", kind, 0, len(raw)) + raw + bytes(-len(raw) % 4)
    values = linkbase(code_page)
    values[2] = (2, value)
    data = with_section(letter, section(values))
    assert read(data) == UserDefined([SHARE])
    assert ours(data, policy) == ["EXTERNAL_LINK"]


# -- where the section is -----------------------------------------------------------------------


def test_the_second_section_is_read_whatever_its_format_id(letter: bytes, policy: Policy) -> None:
    # whether Office finds the section by position or by id is not known: both count
    data = with_section(letter, section(linkbase(1252)), uuid.uuid4().bytes_le)
    assert ours(data, policy) == ["EXTERNAL_LINK"]


def test_a_user_defined_section_first_is_read(policy: Policy) -> None:
    start = 28 + 20
    stream = b"\xfe\xff\x00\x00" + bytes(20) + struct.pack("<I", 1) + USER_DEFINED
    stream += struct.pack("<I", start) + section(linkbase(1200))
    data = _word({STREAM: stream})
    assert read(data) == UserDefined([SHARE])
    assert ours(data, policy) == ["EXTERNAL_LINK"]


def test_sections_past_the_limit_are_a_limit(policy: Policy) -> None:
    count = MOST_SECTIONS + 1
    header = b"\xfe\xff\x00\x00" + bytes(20) + struct.pack("<I", count)
    start = len(header) + 20 * count
    body = section(linkbase(1252))
    header += b"".join(uuid.uuid4().bytes_le + struct.pack("<I", start) for _ in range(count - 1))
    data = _word({STREAM: header + USER_DEFINED + struct.pack("<I", start) + body})
    assert ours(data, policy) == ["ARCHIVE_MEMBERS", "EXTERNAL_LINK"]  # the second is read


# -- a property listed twice --------------------------------------------------------------------


@pytest.mark.parametrize("share_first", [True, False], ids=["share-first", "share-last"])
def test_a_property_listed_twice_counts_both_values(
    letter: bytes, share_first: bool, policy: Policy
) -> None:
    bases = (
        [SHARE, "https://intranet.example/"]
        if share_first
        else ["https://intranet.example/", SHARE]
    )
    values = [*linkbase(1252, base=bases[0]), (2, blob(bases[1]))]
    data = with_section(letter, section(values))
    assert sorted(read(data).texts) == sorted(bases)
    assert ours(data, policy) == ["EXTERNAL_LINK"]


def test_a_dictionary_listed_twice_counts_both(letter: bytes, policy: Policy) -> None:
    other = dictionary([(2, "Client")], 1252)
    values = [(0, other), *linkbase(1252)]
    assert ours(with_section(letter, section(values)), policy) == ["EXTERNAL_LINK"]


# -- damage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expected"),
    [(SHARE, ["CORRUPT", "EXTERNAL_LINK"]), ("https://intranet.example/", ["CORRUPT"])],
    ids=["share", "url"],
)
def test_an_overstated_dictionary_keeps_what_it_holds(
    letter: bytes, base: str, expected: list[str], policy: Policy
) -> None:
    # the dictionary last, claiming an entry more than it holds
    names = dictionary([(2, LINKBASE)], 1252, count=2)
    values = [(1, code_page_value(1252)), (2, blob(base)), (0, names)]
    data = with_section(letter, section(values))
    found = read(data)
    assert found.texts == [base]
    assert found.damage == ["a dictionary of property names that runs past the end of the stream"]
    assert ours(data, policy) == expected


@pytest.mark.parametrize(
    ("cut", "damage"),
    [
        (12, "a property table that runs past the end of the stream"),
        (-8, "a value of _PID_LINKBASE that runs past the end of the stream"),
    ],
    ids=["property-table", "linkbase-value"],
)
def test_a_truncated_user_defined_section_is_corrupt(
    letter: bytes, cut: int, damage: str, policy: Policy
) -> None:
    data = with_section(letter, section(linkbase(1252))[:cut])
    assert damage in read(data).damage
    assert "CORRUPT" in ours(data, policy)


def test_a_section_past_the_stream_is_corrupt(policy: Policy) -> None:
    stream = b"\xfe\xff\x00\x00" + bytes(20) + struct.pack("<I", 1) + USER_DEFINED
    stream += struct.pack("<I", 4096) + section(linkbase(1252))
    assert ours(_word({STREAM: stream}), policy) == ["CORRUPT"]


def test_damage_that_cannot_hide_a_base_passes(letter: bytes, policy: Policy) -> None:
    # another property's value runs past the stream; a name of another code page's reading
    # fails while the declared one reads: neither can hide a hyperlink base
    other = struct.pack("<HHI", _VT_LPSTR, 0, 0xFFFF) + b"abc\0"
    names = dictionary([(2, LINKBASE), (3, "Client")], 1252)
    values = [(0, names), (1, code_page_value(1252)), (2, blob("https://a.example/")), (3, other)]
    data = with_section(letter, section(values))
    assert read(data) == UserDefined(["https://a.example/"])
    assert ours(data, policy) == []


def test_a_damaged_summary_header_passes(letter: bytes, policy: Policy) -> None:
    # a stream too short to name its sections: no reader finds a base through it
    assert ours(_word({STREAM: b"\xfe\xff\x00\x00" + bytes(10)}), policy) == []


# -- limits -------------------------------------------------------------------------------------


def test_names_past_the_limit_are_a_limit(letter: bytes, policy: Policy) -> None:
    filler = [(1000 + i, f"p{i}") for i in range(MOST_PROPERTIES)]
    names = dictionary([*filler, (2, LINKBASE)], 1252)
    values = [(0, names), (1, code_page_value(1252)), (2, blob(SHARE))]
    data = with_section(letter, section(values))
    assert read(data).limit == f"more than {MOST_PROPERTIES:,} names in a dictionary"
    assert ours(data, policy) == ["ARCHIVE_MEMBERS"]


def test_properties_past_the_limit_are_a_limit(letter: bytes, policy: Policy) -> None:
    fillers = [(1000 + i, code_page_value(0)) for i in range(MOST_PROPERTIES)]
    values = linkbase(1252)
    data = with_section(letter, section([*values[:2], *fillers, values[2]]))
    assert read(data).limit == f"more than {MOST_PROPERTIES:,} properties in a section"
    assert ours(data, policy) == ["ARCHIVE_MEMBERS"]


def test_a_dictionary_listed_at_many_places_is_a_limit(letter: bytes, policy: Policy) -> None:
    # the table points into one dictionary of 10,000 names at 9,998 places: each is read as a
    # dictionary (the work grows as their product) until the reading's budget runs out
    filler = [(1000 + i, f"p{i}") for i in range(MOST_PROPERTIES - 1)]
    names = dictionary([(2, LINKBASE), *filler], 1252)
    start = 8 + 8 * MOST_PROPERTIES
    places = [(0, start + 4 * i) for i in range(MOST_PROPERTIES - 2)]
    places += [(1, start + len(names)), (2, start + len(names) + 8)]
    table = b"".join(struct.pack("<II", ident, offset) for ident, offset in places)
    body = names + code_page_value(1252) + blob(SHARE)
    data = with_section(letter, struct.pack("<II", start + len(body), len(places)) + table + body)
    assert read(data).limit == "more than 40,000 properties, names and values in all"
    assert ours(data, policy) == ["ARCHIVE_MEMBERS"]


# -- honest files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample",
    [LETTER, "oleobj/embedded-simple-2007.ppt", "oleobj/embedded-simple-2007.xls",
     "msodde/dde-test-from-office2016.doc"],
)  # fmt: skip
def test_office_files_pass(oletools_data: Path, sample: str, policy: Policy) -> None:
    data = read_sample(oletools_data, sample)
    name = "file." + sample.rsplit(".", 1)[-1]
    assert read(data) == UserDefined([])
    assert ours(data, policy, name) == []
    # with user-defined properties as Office writes them (Unicode names, a URL as the base)
    props = {"Checked by": "Ana", LINKBASE: "https://intranet.example/"}
    added = with_section(data, user_section(props, 1200))
    assert read(added) == UserDefined(["https://intranet.example/"])
    assert ours(added, policy, name) == []


# written by Excel 97-2003 (with _PID_GUID), PowerPoint (_PID_HLINKS, _PID_GUID), Word 2003 (a
# UTF-8 section holding _PID_HLINKS) and WPS Office (KSOProductBuildVer, the code page last)
HONEST = {
    "parseexcel": ["AuthorK.xls", "Rich.xls", "Test97J.xls", "oem.xls"],
    "filetype": ["sample.ppt", "sample_1.doc"],
    "csv2ofx": ["OFX_Message_Support.doc"],
    "pyexcel-xls": ["hidden_sheets.xls"],
}


@pytest.fixture(scope="module")
def honest() -> dict[str, bytes]:
    """Real files with a user-defined section, by name."""
    try:
        files = realworld_corpus(tuple(s for s in SOURCES if s.name in HONEST))
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    wanted = {name for names in HONEST.values() for name in names}
    return {f.path.name: f.path.read_bytes() for f in files if f.path.name in wanted}


@pytest.mark.parametrize("name", [name for names in HONEST.values() for name in names])
def test_real_user_defined_sections_are_read_whole(
    honest: dict[str, bytes], name: str, policy: Policy
) -> None:
    texts = []
    with olefile.OleFileIO(honest[name]) as ole:
        for wanted in ("_PID_GUID", "_PID_HLINKS", "KSOProductBuildVer"):
            found = user_defined(ole, wanted)
            assert (found.damage, found.limit) == ([], None)
            texts += found.texts
    assert texts  # the names were read
    assert ours(honest[name], policy, name) == []


def _word(streams: dict[str, bytes]) -> bytes:
    """A Word document of ``streams`` beside an empty WordDocument stream."""
    return ole_tree({"WordDocument": bytes(1024), **streams}, WORD_CLSID)
