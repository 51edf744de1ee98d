"""Whether a VBA project holds any code, read as Office reads it: the modules its ``dir``
stream lists, each in two forms, the source text (MS-OVBA 2.3.4.3, after the module's text
offset) and the compiled form before it (the performance cache, p-code), which Office runs
instead of the source when the versions match ("VBA stomping" leaves code only there).

Excel keeps a VBA project in a workbook once anyone opened the editor, or a sheet's code
module: such a project holds only ``Attribute`` statements, which the editor hides and which
run nothing, and a p-code line table with no lines. A project is code-free only when every
module reads that way in both forms; when no stream in any ``VBA`` storage is left over
(a project olevba does not list because its PROJECT stream is gone, a module stream the module
list does not name: Office may load either, and source stored uncompressed escapes olevba's
search of other streams); when no two of them share a name; and when the project refers to no
other project and to nothing on a network share. Anything not understood counts as code,
Office for Mac's big-endian caches included. Office's compiled project caches (``__SRP_0``...)
are taken as caches: no known technique runs code from them alone (not verified in Office).

The p-code line table is read as pcodedmp (Vesselin Bontchev's disassembler, which olevba
uses) finds it, with its readers of the undocumented header; pcodedmp itself works on files on
disk only, prints its errors to the process's stderr and goes on, so a failure would look like
an empty module.
"""

from __future__ import annotations

import re
import struct
from typing import Any

from oletools import olevba
from pcodedmp import pcodedmp  # type: ignore[import-untyped]

__all__ = ["code_free"]

_VBA6 = 0x6B  # _VBA_PROJECT versions from here on are VBA 6 and 7 (Office 2000 and later)
_MAGIC = 0xCAFE  # before the line table of a module's p-code


def code_free(parser: olevba.VBA_Parser) -> bool:
    """Whether every VBA project ``parser`` (an OLE file's) finds holds no code at all: only
    ``Attribute`` lines and blank lines in every module's source, no p-code on any line, no
    reference to another project or to a network share, and no VBA source in any other stream;
    every stream in a ``VBA`` storage is one of the checked projects' own. False when anything
    cannot be read."""
    ole = parser.ole_file
    if ole is None:
        return False
    try:
        projects = parser.find_vba_projects()
        checked: set[str] = set()
        for root, project, folder in projects:
            checked |= _empty_project(ole, root, project, folder)
        found = [(path, code) for _, path, _, code in parser.extract_macros()]
        streams = ["/".join(path) for path in ole.listdir(streams=True, storages=False)]
    except _UNREADABLE:
        return False
    own = {path.lower() for path in checked}
    theirs = [path.lower() for path in streams if _in_a_project(path)]
    return (
        bool(projects)
        and all(path.lower() in own and _only_attributes(code) for path, code in found)
        and all(path in own for path in theirs)
        and len(set(theirs)) == len(theirs)  # two streams of one name: readers pick differently
    )


# What olevba and pcodedmp's readers raise on a project they cannot follow.
_UNREADABLE = (olevba.OlevbaBaseException, OSError, ValueError, LookupError, TypeError,
               AttributeError, struct.error, UnicodeError)  # fmt: skip
# A project's streams besides its modules': its text (PROJECT), the names in it, the module
# list (dir), the project's own cache, and Office's compiled caches (__SRP_0, ...).
_PROJECT_STREAMS = ("PROJECT", "PROJECTwm", "PROJECTlk")
_VBA_STREAMS = ("dir", "_VBA_PROJECT")
# A reference to another VBA project ("*\\C" and "*\\D" libids: Office loads it with this
# one), or to anything on a network share, in any of the forms Windows takes for one (slashes
# either way: "//host/share/x.tlb" is a share too), in ANSI or UTF-16.
_SHARES = ("\\\\", "//", "/\\", "\\/")
_FOREIGN = (
    b"*\\C",
    b"*\\D",
    *(share.encode() for share in _SHARES),
    *(share.encode("utf-16-le") for share in _SHARES),
)


# Word's Normal template's project, which every Word project references (its libid absolute
# "*\\CNormal", relative "*\\C..\\Normal", each after its 4-byte size): Word loads it whatever
# the document says, so a reference to it brings nothing of the file's
_NORMAL = frozenset({b"*\\cnormal", b"*\\c..\\normal"})


def _foreign(dir_stream: bytes) -> bool:
    """Whether a project's dir stream references another project (but Word's Normal, a libid
    of exactly its name) or anything on a share (`_FOREIGN`)."""
    rest = bytearray(dir_stream)
    for match in re.finditer(rb"\*\\C", dir_stream):
        at = match.start()
        size = int.from_bytes(dir_stream[at - 4 : at], "little") if at >= 4 else 0
        if dir_stream[at : at + size].lower() in _NORMAL:
            rest[at : at + 3] = b"   "  # its mark only: what follows is judged as ever
    return any(mark in rest for mark in _FOREIGN)


def _in_a_project(path: str) -> bool:
    """Whether a stream belongs to some VBA project by where it lies or what it is named."""
    *storages, name = path.lower().split("/")
    return "vba" in storages or name in {"dir", "_vba_project"} or name.startswith("__srp_")


def _empty_project(ole: Any, root: str, project_path: str, folder: str) -> set[str]:
    """Every stream of a project without code (`_Code` otherwise): its modules, each checked,
    and its own other streams."""
    project = olevba.VBA_Project(ole, root, project_path, folder, relaxed=False)
    if _foreign(project.dir_stream.getvalue()):
        raise _Code
    project.parse_project_stream()
    for _ in project.parse_modules():
        pass
    if len(project.modules) != project.modules_count:
        raise _Code
    version = pcodedmp.getWord(ole.openstream(root + "VBA/_VBA_PROJECT").read(), 2, "<")
    streams = {root + name for name in _PROJECT_STREAMS}
    streams |= {f"{root}VBA/{name}" for name in _VBA_STREAMS}
    caches = f"{root}VBA/__SRP_".lower()
    streams |= {name for name in map("/".join, ole.listdir()) if name.lower().startswith(caches)}
    for module in project.modules:
        streams.add(_empty_module(ole, module, version))
    return streams


def _empty_module(ole: Any, module: Any, version: int) -> str:
    """The stream of a module without code (`_Code` otherwise)."""
    offset = module.textoffset
    if module.code_path is None or not isinstance(offset, int):
        raise _Code  # a module whose stream or text offset is missing: not read, not code-free
    data = ole.openstream(module.code_path).read()
    if not 0 <= offset <= len(data) or not _only_attributes(module.code or ""):
        raise _Code
    if offset and _pcode_lines(data[:offset], version):
        raise _Code
    return str(module.code_path)


class _Code(LookupError):
    """A module holds code, or could not be read far enough to tell."""


# An attribute statement as the editor writes it: a name, "=", one value, nothing after.
_ATTRIBUTE = re.compile(
    r'\s*Attribute\s+[A-Za-z_][\w.]*\s*=\s*(?:"(?:[^"\r\n]|"")*"|-?\d+|True|False|&H[0-9A-F]+&?)\s*',
    re.IGNORECASE,
)


def _only_attributes(source: str | None) -> bool:
    return source is not None and all(
        not line.strip() or _ATTRIBUTE.fullmatch(line) for line in source.splitlines()
    )


def _pcode_lines(cache: bytes, version: int) -> int:
    """How many lines of the module's p-code hold instructions (`_Code` when its line table
    cannot be found): the header walk is pcodedmp's ``pcodeDump``."""
    word, dword = pcodedmp.getWord, pcodedmp.getDWord
    if word(cache, 2, "<") > 0xFF:  # Office for Mac's big-endian cache: not read, not code-free
        raise _Code
    endian = "<"
    if version >= _VBA6:
        offset = 0x19
    else:
        skip = pcodedmp.skipStructure
        offset = skip(cache, 11, endian, True, 1, False) + 64
        offset = skip(cache, offset, endian, False, 16, False)
        offset = skip(cache, offset, endian, True, 1, False) + 6
        offset = skip(cache, offset, endian, True, 1, False) + 77
    offset = dword(cache, offset, endian) + 0x3C
    if word(cache, offset, endian) != _MAGIC:
        raise _Code
    count = word(cache, offset + 4, endian)
    # each line: 4 bytes, its p-code's length (2 bytes), 2 bytes, its offset (4 bytes)
    lengths = [word(cache, offset + 6 + 12 * line + 4, endian) for line in range(count)]
    return sum(1 for length in lengths if length)
