"""Whether a VBA project holds any code, read as Office reads it: the modules its ``dir``
stream lists, each in two forms, the source text (MS-OVBA 2.3.4.3, after the module's text
offset) and the compiled form before it (the performance cache, p-code), which Office runs
instead of the source when the versions match ("VBA stomping" leaves code only there).

Excel keeps a VBA project in a workbook once anyone opened the editor, or a sheet's code
module: such a project holds only ``Attribute`` lines, which the editor hides and which run
nothing, and a p-code line table with no lines. A project is code-free only when every module
reads that way in both forms and no other stream holds VBA source (olevba's search of orphan
streams); anything not understood counts as code.

The p-code line table is read as pcodedmp (Vesselin Bontchev's disassembler, which olevba
uses) finds it, with its readers of the undocumented header; pcodedmp itself works on files on
disk only, prints its errors to the process's stderr and goes on, so a failure would look like
an empty module.
"""

from __future__ import annotations

import struct
from typing import Any

from oletools import olevba
from pcodedmp import pcodedmp  # type: ignore[import-untyped]

__all__ = ["code_free"]

_VBA6 = 0x6B  # _VBA_PROJECT versions from here on are VBA 6 and 7 (Office 2000 and later)
_MAGIC = 0xCAFE  # before the line table of a module's p-code


def code_free(parser: olevba.VBA_Parser) -> bool:
    """Whether every VBA project ``parser`` (an OLE file's) finds holds no code at all: only
    ``Attribute`` lines and blank lines in every module's source, no p-code on any line, and
    no VBA source in any other stream. False when anything cannot be read."""
    ole = parser.ole_file
    if ole is None:
        return False
    try:
        projects = parser.find_vba_projects()
        checked = {path for root, project, folder in projects
                   for path in _empty_modules(ole, root, project, folder)}  # fmt: skip
        found = [(path, code) for _, path, _, code in parser.extract_macros()]
    except _UNREADABLE:
        return False
    return bool(projects) and all(
        path in checked and _only_attributes(code) for path, code in found
    )


# What olevba and pcodedmp's readers raise on a project they cannot follow.
_UNREADABLE = (olevba.OlevbaBaseException, OSError, ValueError, LookupError, TypeError,
               AttributeError, struct.error, UnicodeError)  # fmt: skip


def _empty_modules(ole: Any, root: str, project_path: str, folder: str) -> list[str]:
    """The streams of a project's modules, each checked to hold no code (`_Code` otherwise)."""
    project = olevba.VBA_Project(ole, root, project_path, folder, relaxed=False)
    project.parse_project_stream()
    for _ in project.parse_modules():
        pass
    if len(project.modules) != project.modules_count:
        raise _Code
    version = pcodedmp.getWord(ole.openstream(root + "VBA/_VBA_PROJECT").read(), 2, "<")
    paths = []
    for module in project.modules:
        if module.code_path is None:
            raise _Code  # a module whose stream is missing: not read, not code-free
        data = ole.openstream(module.code_path).read()
        cache = data[: module.textoffset]
        if not _only_attributes(module.code or "") or (cache and _pcode_lines(cache, version)):
            raise _Code
        paths.append(module.code_path)
    return paths


class _Code(LookupError):
    """A module holds code, or could not be read far enough to tell."""


def _only_attributes(source: str | None) -> bool:
    return source is not None and all(
        not line.strip() or line.lstrip().lower().startswith("attribute ")
        for line in source.splitlines()
    )


def _pcode_lines(cache: bytes, version: int) -> int:
    """How many lines of the module's p-code hold instructions (`_Code` when its line table
    cannot be found): the header walk is pcodedmp's ``pcodeDump``."""
    word, dword = pcodedmp.getWord, pcodedmp.getDWord
    endian = ">" if word(cache, 2, "<") > 0xFF else "<"  # Office for Mac writes big-endian
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
