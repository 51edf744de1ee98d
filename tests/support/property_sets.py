"""A legacy Office file with user-defined properties added, as Office writes them ([MS-OLEPS]
2.20-2.21): a second section in its ``\\x05DocumentSummaryInformation`` stream, the names in a
dictionary (in the section's code page; Unicode names padded to 4 bytes), string values as
BLOBs holding a null-terminated UTF-16 string (as ``_PID_LINKBASE`` is stored)."""

from __future__ import annotations

import struct
import uuid

import olefile  # type: ignore[import-untyped]

from support.evasions import Tree, ole_tree

STREAM = "\x05DocumentSummaryInformation"
USER_DEFINED = uuid.UUID("D5CDD505-2E9C-101B-9397-08002B2CF9AE").bytes_le
_VT_I2, _VT_BLOB = 0x02, 0x41


def with_user_properties(data: bytes, properties: dict[str, str], code_page: int = 1252) -> bytes:
    """``data`` (an OLE file with a one-section DocumentSummaryInformation stream) rebuilt with
    its streams as they are and a user-defined section holding ``properties``."""
    with olefile.OleFileIO(data) as ole:
        streams = {tuple(path): ole.openstream(path).read() for path in ole.listdir()}
        clsid = ole.root.clsid
    old = streams[(STREAM,)]
    first = struct.unpack_from("<I", old, 44)[0]
    section = old[first : first + struct.unpack_from("<I", old, first)[0]]
    start = 28 + 2 * 20
    header = old[:24] + struct.pack("<I", 2) + old[28:44] + struct.pack("<I", start)
    header += USER_DEFINED + struct.pack("<I", start + len(section))
    streams[(STREAM,)] = header + section + user_section(properties, code_page)
    tree: dict[str, bytes | Tree] = {}
    for path, content in streams.items():
        node = tree
        for storage in path[:-1]:
            node = node.setdefault(storage, {})  # type: ignore[assignment]
        node[path[-1]] = content
    return ole_tree(tree, clsid)


def user_section(properties: dict[str, str], code_page: int) -> bytes:
    """One property set section: code page, dictionary, and each property as a BLOB."""
    named = list(enumerate(properties.items(), 2))
    dictionary = struct.pack("<I", len(named))
    for ident, (name, _) in named:
        if code_page == 1200:
            raw = (name + "\0").encode("utf-16-le")
            dictionary += struct.pack("<II", ident, len(name) + 1) + raw + bytes(-len(raw) % 4)
        else:
            raw = (name + "\0").encode(f"cp{code_page}")
            dictionary += struct.pack("<II", ident, len(raw)) + raw
    values = [
        (0, dictionary + bytes(-len(dictionary) % 4)),
        (1, struct.pack("<HHHH", _VT_I2, 0, code_page, 0)),
    ]
    for ident, (_, text) in named:
        raw = (text + "\0").encode("utf-16-le")
        values.append(
            (ident, struct.pack("<HHI", _VT_BLOB, 0, len(raw)) + raw + bytes(-len(raw) % 4))
        )
    size = 8 + 8 * len(values)
    table, body = b"", b""
    for ident, blob in values:
        table += struct.pack("<II", ident, size + len(body))
        body += blob
    return struct.pack("<II", size + len(body), len(values)) + table + body
