"""A legacy Office file with user-defined properties added, as Office writes them ([MS-OLEPS]
2.20-2.21): a second section in its ``\\x05DocumentSummaryInformation`` stream, the names in a
dictionary (in the section's code page; Unicode names padded to 4 bytes), string values as
BLOBs holding a null-terminated UTF-16 string (as ``_PID_LINKBASE`` is stored). The pieces
(`section`, `dictionary`, `code_page`, `blob`) build the sections other writers leave too."""

from __future__ import annotations

import codecs
import struct
import uuid

import olefile  # type: ignore[import-untyped]

from support.evasions import Tree, ole_tree

STREAM = "\x05DocumentSummaryInformation"
USER_DEFINED = uuid.UUID("D5CDD505-2E9C-101B-9397-08002B2CF9AE").bytes_le
_VT_I2, _VT_BLOB = 0x02, 0x41
Value = tuple[int, bytes]  # a property identifier and its value


def with_user_properties(data: bytes, properties: dict[str, str], code_page: int = 1252) -> bytes:
    """``data`` (an OLE file with a one-section DocumentSummaryInformation stream) rebuilt with
    its streams as they are and a user-defined section holding ``properties``."""
    return with_section(data, user_section(properties, code_page))


def with_section(data: bytes, added: bytes, fmtid: bytes = USER_DEFINED) -> bytes:
    """``data`` (an OLE file with a one-section DocumentSummaryInformation stream) rebuilt with
    ``added`` as the stream's second section, under ``fmtid``."""
    with olefile.OleFileIO(data) as ole:
        streams = {tuple(path): ole.openstream(path).read() for path in ole.listdir()}
        clsid = ole.root.clsid
    old = streams[(STREAM,)]
    first = struct.unpack_from("<I", old, 44)[0]
    section_one = old[first : first + struct.unpack_from("<I", old, first)[0]]
    start = 28 + 2 * 20
    header = old[:24] + struct.pack("<I", 2) + old[28:44] + struct.pack("<I", start)
    header += fmtid + struct.pack("<I", start + len(section_one))
    streams[(STREAM,)] = header + section_one + added
    tree: dict[str, bytes | Tree] = {}
    for path, content in streams.items():
        node = tree
        for storage in path[:-1]:
            node = node.setdefault(storage, {})  # type: ignore[assignment]
        node[path[-1]] = content
    return ole_tree(tree, clsid)


def user_section(properties: dict[str, str], code_page: int) -> bytes:
    """One property set section: code page, dictionary, and each property as a BLOB."""
    named = list(enumerate(properties, 2))
    values = [(0, dictionary(named, code_page)), (1, code_page_value(code_page))]
    values += [(ident, blob(properties[name])) for ident, name in named]
    return section(values)


def section(values: list[Value]) -> bytes:
    """A section holding ``values`` in this order (an identifier may come twice)."""
    size = 8 + 8 * len(values)
    table, body = b"", b""
    for ident, value in values:
        table += struct.pack("<II", ident, size + len(body))
        body += value
    return struct.pack("<II", size + len(body), len(values)) + table + body


def dictionary(named: list[tuple[int, str]], code_page: int, count: int | None = None) -> bytes:
    """A dictionary of ``named`` (identifier, name) in ``code_page``, claiming ``count``
    entries (by default as many as it holds)."""
    out = struct.pack("<I", len(named) if count is None else count)
    for ident, name in named:
        if code_page == 1200:
            raw = (name + "\0").encode("utf-16-le")
            out += struct.pack("<II", ident, len(name) + 1) + raw + bytes(-len(raw) % 4)
        else:
            raw = (name + "\0").encode(_codec(code_page))
            out += struct.pack("<II", ident, len(raw)) + raw
    return out + bytes(-len(out) % 4)


def code_page_value(code_page: int) -> bytes:
    """The CodePage property's value: a VT_I2 (Office writes 1200, 1252, 10000 on a Mac...)."""
    return struct.pack("<HHHH", _VT_I2, 0, code_page, 0)


def blob(text: str) -> bytes:
    """A BLOB holding ``text`` as the null-terminated UTF-16 string Office stores there."""
    raw = (text + "\0").encode("utf-16-le")
    return struct.pack("<HHI", _VT_BLOB, 0, len(raw)) + raw + bytes(-len(raw) % 4)


def _codec(code_page: int) -> str:
    """The codec a test writes names with: Mac Roman for 10000, else Python's cpNNN, else
    ASCII (the names Office reserves are ASCII)."""
    name = {10000: "mac_roman", 28591: "latin_1", 20127: "ascii"}.get(code_page, f"cp{code_page}")
    try:
        codecs.lookup(name)
    except LookupError:
        return "ascii"
    return name
