"""The files a Word 97-2003 document names in its associated strings (attached template, mail
merge sources), on a real Word file (oletools' harmless-clean.doc, saved by Word) whose strings
are rewritten as Word writes them."""

from __future__ import annotations

import struct
from pathlib import Path

import olefile  # type: ignore[import-untyped]
import pytest

from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.formats.wordassoc import associated
from attachguard.policy import Policy
from attachguard.report import FileType
from support.evasions import ole_tree
from support.oletools_data import read_sample

_SAMPLE = "msodde/harmless-clean.doc"
_PAIRS_AT = 34 + 14 * 2 + 2 + 22 * 4 + 2  # FibRgFcLcb97 in a Word 97 FIB
_ASSOC = _PAIRS_AT + 32 * 8


def _sttb(strings: list[str], extended: bool = True) -> bytes:
    """An STTB of ``strings`` as MS-DOC writes one (no extra data)."""
    if extended:
        head = struct.pack("<HHH", 0xFFFF, len(strings), 0)
        return head + b"".join(struct.pack("<H", len(s)) + s.encode("utf-16-le") for s in strings)
    head = struct.pack("<HH", len(strings), 0)
    return head + b"".join(bytes([len(s)]) + s.encode("cp1252") for s in strings)


def _with_assoc(original: bytes, assoc: bytes, extra: int = 0) -> bytes:
    """The Word file ``original`` with ``assoc`` as its associated strings, appended to its
    table stream and named by its FIB (as ``extra`` bytes longer than they are)."""
    with olefile.OleFileIO(original) as ole:
        streams = {"/".join(path): ole.openstream(path).read() for path in ole.listdir()}
        clsid = ole.root.clsid
    doc = bytearray(streams["WordDocument"])
    assert struct.unpack_from("<H", doc, 0x0A)[0] & 0x0200  # the table is 1Table
    table = streams["1Table"]
    struct.pack_into("<II", doc, _ASSOC, len(table), len(assoc) + extra)
    streams["WordDocument"], streams["1Table"] = bytes(doc), table + assoc
    assert all("/" not in name for name in streams)  # harmless-clean.doc has no storages
    return ole_tree(dict(streams.items()), clsid)


def _strings(template: str = "", data_source: str = "", header: str = "") -> list[str]:
    strings = [""] * 18
    strings[1], strings[6], strings[8], strings[9] = template, "user", data_source, header
    return strings


def _scan(data: bytes, policy: Policy) -> list[tuple[str, str]]:
    item = Item("letter.doc", data, FileType("doc", "", "document"))
    result = OfficeEngine().scan(item, policy.context())
    return sorted((f.code.name, f.label or "") for f in result.findings)


@pytest.fixture(scope="module")
def original(oletools_data: Path) -> bytes:
    return read_sample(oletools_data, _SAMPLE)


def test_the_real_file_names_no_template_and_is_clean(original: bytes, policy: Policy) -> None:
    with olefile.OleFileIO(original) as ole:
        found = associated(ole)
    assert (found.template, found.merge_sources, found.stray) == ("", [], [])
    assert _scan(original, policy) == []


_SHARE = "\\\\attacker.example\\share\\"
_LINK = ("EXTERNAL_LINK", "attachedTemplate")
_MERGE = ("EXTERNAL_LINK", "mailMerge")


@pytest.mark.parametrize(
    ("strings", "extended", "found"),
    [
        (_strings(template=_SHARE + "Letter.dotm"), True, [_LINK]),
        (_strings(template="https://attacker.example/t/Letter.dotm"), True, [_LINK]),
        (_strings(template="\\\\attacker.example@SSL\\DavWWWRoot\\t\\Letter.dotm"), True, [_LINK]),
        (_strings(template=_SHARE + "Letter.dot"), False, [_LINK]),  # 8-bit strings
        (_strings(data_source=_SHARE + "customers.xlsx"), True, [_MERGE]),
        (_strings(header=_SHARE + "header.docx"), True, [_MERGE]),
        # a personal template on the author's disk, a merge from a local workbook
        (_strings(template="C:\\Users\\ana\\AppData\\Roaming\\Microsoft\\Templates\\Letter.dotm",
                  data_source="C:\\Users\\ana\\Documents\\customers.xlsx"), True, []),
        (_strings(template="Letter.dotm"), True, []),
    ],
    ids=["template-share", "template-url", "template-webdav", "template-share-8-bit",
         "merge-data-share", "merge-header-share", "local", "beside"],
)  # fmt: skip
def test_associated_files(
    original: bytes, strings: list[str], extended: bool, found: list[object], policy: Policy
) -> None:
    assert _scan(_with_assoc(original, _sttb(strings, extended)), policy) == found


def test_a_damaged_list_is_searched_for_places_afar(original: bytes, policy: Policy) -> None:
    # the template string's length runs past the list: how Word reads it is unknown, so every
    # reading of its bytes is searched; the same damage with a local path is left alone
    for path, found in ((_SHARE + "Letter.dotm", [("EXTERNAL_LINK", "SttbfAssoc")]),
                        ("C:\\Templates\\Letter.dotm", [])):  # fmt: skip
        assoc = bytearray(_sttb(_strings(template=path)))
        struct.pack_into("<H", assoc, 6 + 2, 4000)  # string 1's length
        data = _with_assoc(original, bytes(assoc))
        with olefile.OleFileIO(data) as ole:
            assert associated(ole).template == ""
        assert _scan(data, policy) == found


def test_extra_data_after_each_string_is_skipped_and_searched(
    original: bytes, policy: Policy
) -> None:
    # MS-DOC gives this table no extra data; a reader that skips it sees the template, one that
    # does not sees it one place later: both readings are judged
    strings = _strings(template=_SHARE + "Letter.dotm")
    head = struct.pack("<HHH", 0xFFFF, len(strings), 2)
    body = b"".join(struct.pack("<H", len(t)) + t.encode("utf-16-le") + b"\0\0" for t in strings)
    data = _with_assoc(original, head + body)
    assert _scan(data, policy) == [("EXTERNAL_LINK", "SttbfAssoc"), _LINK]


def test_the_fib_is_read_by_its_own_counts_whatever_its_version(
    original: bytes, policy: Policy
) -> None:
    # a Word 97 layout that claims Word 6.0's nFib: the counts decide how it is laid out
    data = _with_assoc(original, _sttb(_strings(template=_SHARE + "Letter.dotm")))
    with olefile.OleFileIO(data) as ole:
        streams = {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
        clsid = ole.root.clsid
    doc = bytearray(streams["WordDocument"])
    struct.pack_into("<H", doc, 2, 0x0064)
    streams["WordDocument"] = bytes(doc)
    assert _scan(ole_tree(dict(streams.items()), clsid), policy) == [_LINK]


def test_a_length_past_the_table_reads_what_is_there(original: bytes, policy: Policy) -> None:
    assoc = _sttb(_strings(template=_SHARE + "Letter.dotm"))
    data = _with_assoc(original, assoc, extra=1000)
    assert _scan(data, policy) == [_LINK]
