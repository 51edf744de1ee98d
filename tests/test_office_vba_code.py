"""A VBA project without code (`formats.vba`): real Excel 97 workbooks that keep one are
approved with VBA_WITHOUT_CODE; code in a module's source or only in its p-code (VBA stomping),
or a project that cannot be read far enough to tell, stays VBA_MACRO. The variants are the real
files with one stream changed."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import msoffcrypto
import olefile  # type: ignore[import-untyped]
import pytest
from oletools import olevba
from oletools.olevba import decompress_stream

from attachguard.codes import Code, FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.office import OfficeEngine
from attachguard.engines.office_shared import VBA_WITHOUT_CODE
from attachguard.formats.vba import code_free
from attachguard.policy import Policy
from attachguard.report import FileType
from support import oletools_data as testdata
from support.evasions import ole_tree, ovba_container
from support.oletools_data import read_sample
from support.realworld_data import SOURCES, CorpusUnavailable, realworld_corpus

oletools_data = testdata.oletools_data  # the session fixture, used by name below
ENGINE = OfficeEngine()
EXCEL_CLSID = "00020820-0000-0000-C000-000000000046"
AUTOSTART = "encrypted/autostart-encrypt-standardpassword.xls"  # Auto_Open with MsgBox
EMPTY_SHEET = "_VBA_PROJECT_CUR/VBA/Sheet1"
CODE_MODULE = "_VBA_PROJECT_CUR/VBA/Modul1"


def scan(data: bytes, policy: Policy) -> Result:
    item = Item("book.xls", data, FileType("xls", "", "document"))
    return ENGINE.scan(item, policy.context())


def vba_codes(result: Result) -> list[Code]:
    wanted = {FindingCode.VBA_MACRO, VBA_WITHOUT_CODE}
    return [f.code for f in result.findings if f.code in wanted]


@pytest.fixture(scope="module")
def parseexcel() -> dict[str, bytes]:
    """Spreadsheet::ParseExcel's sample workbooks, by file name."""
    source = next(s for s in SOURCES if s.name == "parseexcel")
    try:
        files = realworld_corpus((source,))
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    return {f.path.name: f.path.read_bytes() for f in files}


@pytest.fixture(scope="module")
def autostart(oletools_data: Path) -> bytes:
    """oletools' Excel 2010 workbook with an Auto_Open macro, decrypted."""
    office = msoffcrypto.OfficeFile(io.BytesIO(read_sample(oletools_data, AUTOSTART)))
    office.load_key(password="VelvetSweatshop")
    out = io.BytesIO()
    office.decrypt(out)
    return out.getvalue()


def streams(data: bytes) -> dict[str, bytes]:
    ole = olefile.OleFileIO(io.BytesIO(data))
    try:
        return {"/".join(path): ole.openstream(path).read() for path in ole.listdir()}
    finally:
        ole.close()


def rebuilt(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The compound file with ``changes`` (stream path: new bytes, or None to leave it out)."""
    tree: dict[str, Any] = {}
    for path, content in {**streams(data), **changes}.items():
        if content is None:
            continue
        *storages, name = path.split("/")
        node = tree
        for storage in storages:
            node = node.setdefault(storage, {})
        node[name] = content
    return ole_tree(tree, EXCEL_CLSID)


def text_offset(data: bytes, path: str) -> int:
    """Where a module's source starts in its stream (its dir record's MODULEOFFSET)."""
    parser = olevba.VBA_Parser(filename="book.xls", data=data)
    try:
        [(root, project_path, folder)] = parser.find_vba_projects()
        project = olevba.VBA_Project(parser.ole_file, root, project_path, folder)
        project.parse_project_stream()
        for _ in project.parse_modules():
            pass
        [module] = [m for m in project.modules if m.code_path == path]
        return int(module.textoffset)
    finally:
        parser.close()


def with_source(data: bytes, path: str, source: str) -> bytes:
    """The module at ``path`` with its p-code kept and its source replaced."""
    stream = streams(data)[path]
    cache = stream[: text_offset(data, path)]
    return rebuilt(data, {path: cache + ovba_container(source.encode("latin-1"))})


ATTRIBUTES = 'Attribute VB_Name = "Sheet1"\r\nAttribute VB_Base = "0{00020820-0000}"\r\n'


@pytest.mark.parametrize("name", ["Test97.xls", "Test97J.xls"])
def test_excel_97_workbooks_keeping_an_empty_project_pass(
    name: str, parseexcel: dict[str, bytes], policy: Policy
) -> None:
    result = scan(parseexcel[name], policy)
    assert vba_codes(result) == [VBA_WITHOUT_CODE]
    assert "VBA project without code in the Excel workbook" in {f.message for f in result.findings}


def test_the_real_macro_stays_a_macro(autostart: bytes, policy: Policy) -> None:
    result = scan(autostart, policy)
    assert vba_codes(result) == [FindingCode.VBA_MACRO]


def test_code_kept_only_in_the_p_code_is_a_macro(autostart: bytes, policy: Policy) -> None:
    # VBA stomping: the source says nothing but attributes; Office of the same version runs the
    # compiled Auto_Open
    stomped = with_source(autostart, CODE_MODULE, 'Attribute VB_Name = "Modul1"\r\n')
    assert olevba.VBA_Parser(filename="x.xls", data=stomped).detect_vba_macros()
    assert vba_codes(scan(stomped, policy)) == [FindingCode.VBA_MACRO]


@pytest.mark.parametrize(
    "source",
    [
        'Sub Workbook_Open()\r\n    Shell "calc.exe"\r\nEnd Sub\r\n',
        "' only a comment\r\n",
        "Option Explicit\r\n",
        'Attribute VB_Name = "Sheet1"\r\n: Shell "calc.exe"\r\n',
        'Attribute VB_Customizable = True: Shell "calc.exe"\r\n',  # a statement after it
        'Attribute VB_Exposed = True _\r\n: Shell "calc.exe"\r\n',  # continued
    ],
)
def test_any_line_of_source_beyond_attributes_is_a_macro(
    source: str, parseexcel: dict[str, bytes], policy: Policy
) -> None:
    # the empty p-code of the real file, with source code added: Office compiles the source
    data = with_source(parseexcel["Test97.xls"], EMPTY_SHEET, ATTRIBUTES + source)
    assert vba_codes(scan(data, policy)) == [FindingCode.VBA_MACRO]


def test_attributes_alone_in_a_rebuilt_file_still_pass(
    parseexcel: dict[str, bytes], policy: Policy
) -> None:
    # the control for the variants above: rebuilding the file changes nothing by itself
    data = with_source(parseexcel["Test97.xls"], EMPTY_SHEET, ATTRIBUTES)
    assert vba_codes(scan(data, policy)) == [VBA_WITHOUT_CODE]


@pytest.mark.parametrize("damage", ["magic", "short", "no-stream"])
def test_p_code_that_cannot_be_read_is_a_macro(
    damage: str, parseexcel: dict[str, bytes], policy: Policy
) -> None:
    real = parseexcel["Test97.xls"]
    stream = streams(real)[EMPTY_SHEET]
    offset = text_offset(real, EMPTY_SHEET)
    cache, source = stream[:offset], stream[offset:]
    if damage == "magic":  # the line table's marker (0xCAFE) overwritten
        at = cache.find(struct.pack("<H", 0xCAFE))
        assert at > 0
        changed = cache[:at] + b"\0\0" + cache[at + 2 :] + source
        data = rebuilt(real, {EMPTY_SHEET: changed})
    elif damage == "short":  # a cache cut before its line table
        data = rebuilt(real, {EMPTY_SHEET: cache[:64] + source})
    else:  # the module's stream is gone: whatever Office would run is not read
        data = rebuilt(real, {EMPTY_SHEET: None})
    assert vba_codes(scan(data, policy)) == [FindingCode.VBA_MACRO]


def test_a_parser_without_an_ole_file_is_not_code_free(autostart: bytes) -> None:
    parser = olevba.VBA_Parser(filename="x.xls", data=autostart)
    parser.ole_file = None
    assert code_free(parser) is False


# -- the project's other streams, read as Office reads them (a red team's cases) -------------------

DIR = "_VBA_PROJECT_CUR/VBA/dir"


def test_code_in_a_stream_the_module_list_does_not_name_is_a_macro(
    parseexcel: dict[str, bytes], policy: Policy
) -> None:
    # stored uncompressed, olevba's search of other streams does not find it; every stream of
    # a project must be one the dir stream accounts for
    code = ovba_container(b'Attribute VB_Name = "Module1"\r\nSub Auto_Open()\r\nEnd Sub\r\n')
    data = rebuilt(parseexcel["Test97.xls"], {"_VBA_PROJECT_CUR/VBA/Module1": code})
    assert vba_codes(scan(data, policy)) == [FindingCode.VBA_MACRO]


def test_a_project_olevba_does_not_list_beside_an_empty_one_is_a_macro(
    autostart: bytes, parseexcel: dict[str, bytes], policy: Policy
) -> None:
    # Excel loads _VBA_PROJECT_CUR without its PROJECT stream; olevba needs that stream and
    # finds only the empty decoy
    decoy = {
        f"Decoy/{path.split('/', 1)[1]}": content
        for path, content in streams(parseexcel["Test97.xls"]).items()
        if path.startswith("_VBA_PROJECT_CUR/")
    }
    # every module's source stored uncompressed: olevba's search of other streams misses it
    changes: dict[str, bytes | None] = {
        "_VBA_PROJECT_CUR/PROJECT": None,
        "_VBA_PROJECT_CUR/PROJECTwm": None,
        **decoy,
    }
    for name in ("Modul1", "DieseArbeitsmappe", "Tabelle1"):
        path = f"_VBA_PROJECT_CUR/VBA/{name}"
        module, offset = streams(autostart)[path], text_offset(autostart, path)
        source = bytes(decompress_stream(bytearray(module[offset:])))
        changes[path] = module[:offset] + ovba_container(source)
    data = rebuilt(autostart, changes)
    assert olevba.VBA_Parser(filename="x.xls", data=data).find_vba_projects() == [
        ("Decoy/", "Decoy/PROJECT", "Decoy/VBA/dir")
    ]
    assert vba_codes(scan(data, policy)) == [FindingCode.VBA_MACRO]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a type library on a share (same length: the dir's records keep their sizes)
        (b"C:\\WINNT\\System32\\stdole2", b"\\\\evil\\s\\System32\\stdole2"),
        # the same share with forward slashes, as Windows also takes it (red team 95)
        (b"C:\\WINNT\\System32\\stdole2", b"//evil/s/System32/stdole2"),
        # a reference to another VBA project, which Office loads with this one
        (
            b"*\\G{00020430-0000-0000-C000-000000000046}",
            b"*\\CC:\\Users\\Public\\Documents\\macros.xlam1",
        ),
    ],
)
def test_a_reference_to_a_share_or_another_project_is_a_macro(
    old: bytes, new: bytes, parseexcel: dict[str, bytes], policy: Policy
) -> None:
    assert len(old) == len(new)
    real = parseexcel["Test97.xls"]
    folder = bytes(decompress_stream(bytearray(streams(real)[DIR])))
    assert old in folder
    data = rebuilt(real, {DIR: ovba_container(folder.replace(old, new))})
    assert vba_codes(scan(rebuilt(real, {DIR: ovba_container(folder)}), policy)) == [
        VBA_WITHOUT_CODE
    ]
    assert vba_codes(scan(data, policy)) == [FindingCode.VBA_MACRO]


def test_a_big_endian_p_code_cache_is_not_read_as_empty(
    parseexcel: dict[str, bytes], policy: Policy
) -> None:
    # Office for Mac writes the cache big-endian; read little-endian here, a cache could show
    # one reader an empty line table and another the code
    real = parseexcel["Test97.xls"]
    stream = streams(real)[EMPTY_SHEET]
    changed = stream[:2] + b"\x01\x01" + stream[4:]
    assert vba_codes(scan(rebuilt(real, {EMPTY_SHEET: changed}), policy)) == [FindingCode.VBA_MACRO]


def _libid(text: bytes) -> bytes:
    """A libid as a REFERENCEPROJECT record holds it: its 4-byte size, then its text."""
    return struct.pack("<I", len(text)) + text


@pytest.mark.parametrize(
    ("libids", "foreign"),
    [([b"*\\CNormal", b"*\\C..\\Normal"], False),  # every Word project's, empty or not
     ([b"*\\CNormal2"], True),
     ([b"*\\C\\\\host\\s\\Normal"], True),
     ([b"*\\CNormal", b"*\\CC:\\Users\\Public\\macros.dotm"], True)],
    ids=["normal", "another-name", "on-a-share", "normal-and-another"],
)  # fmt: skip
def test_a_reference_to_words_normal_template_brings_no_code(
    libids: list[bytes], foreign: bool
) -> None:
    """Word loads Normal.dotm's project whatever the document references; a libid of exactly
    its name (absolute or relative) is no other project's code (hunt 98: three real .doc files
    with an empty project were VBA_MACRO)."""
    from attachguard.formats.vba import _foreign

    tail = struct.pack("<IH", 0x3BD68779, 2)  # the major and minor version after the libids
    assert _foreign(b"".join(_libid(libid) for libid in libids) + tail) is foreign
