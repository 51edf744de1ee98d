"""Writing an OLE2 compound file (MS-CFB version 3): one storage of a legacy Office file made a
file of its own.

Word keeps an embedded object in ``ObjectPool/<id>`` and Excel in an ``MBD<id>`` storage of the
document's own compound file. Word and Excel activate such an object the way they open a file of
its class, so an embedded worksheet is judged as the workbook it is (`storage_file`), as OOXML
embeddings are. olefile and oletools only read compound files; no maintained Python library
writes one, hence this writer (about a hundred lines of the specification: allocation tables,
mini stream, directory).

The layout is the one Office writes: streams under 4,096 bytes in the mini stream, larger ones
in sectors of 512 bytes, each storage's children as a balanced binary tree in the directory's
order (name length, then upper-cased names), so that no reader walks a long chain of siblings
(ClamAV stops past 100 levels). Entries are all black: readers do not check the colours.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Storage", "compound_file", "storage_file"]

_FREE, _END, _FATSECT, _DIFSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC
_NOSTREAM = 0xFFFFFFFF
_SECTOR, _MINI, _CUTOFF = 512, 64, 4096
_IDS = _SECTOR // 4  # sector numbers in one sector
_HEADER_FAT = 109  # table sectors the header lists; more are listed in DIFAT sectors
_STREAM, _STORAGE, _ROOT = 2, 1, 5


@dataclass(frozen=True)
class Storage:
    """A storage: its entries (a stream's bytes, or a storage) by name, and its class id."""

    entries: Mapping[str, bytes | Storage]
    clsid: str = ""


@dataclass
class _Node:
    name: str
    kind: int
    data: bytes = b""
    clsid: str = ""
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    start: int = _END
    size: int = 0
    kids: list[int] = field(default_factory=list)


def storage_file(ole: Any, storage: list[str]) -> bytes | None:
    """The storage at ``storage`` of the open olefile ``ole``, with everything under it, as a
    compound file of its own whose root has the storage's class id. None when its entries
    cannot be told apart (two with the same name, as readers compare them): which of them a
    reader takes is not known, so it is not rewritten as one of them."""

    def read(path: list[str]) -> Storage | None:
        entries: dict[str, bytes | Storage] = {}
        names = [p[len(path)] for p in listing if len(p) == len(path) + 1 and p[:-1] == path]
        if len({_key(name) for name in names}) < len(names):
            return None
        for name in names:
            inner = [*path, name]
            if ole.get_type(inner) == _STORAGE:
                nested = read(inner)
                if nested is None:
                    return None
                entries[name] = nested
            else:
                entries[name] = ole.openstream(inner).read()
        return Storage(entries, ole.getclsid(path) or "")

    listing = [p for p in ole.listdir(streams=True, storages=True) if p[: len(storage)] == storage]
    if sum(p == storage for p in listing) != 1:
        return None
    root = read(storage)
    return None if root is None else compound_file(root)


def compound_file(root: Storage) -> bytes:
    """``root`` as a compound file, laid out as: allocation table, its DIFAT sectors, the
    directory, the mini stream's table, the mini stream, the large streams (streams in the
    order given, each storage's children linked in the directory's order)."""
    nodes = [_Node("Root Entry", _ROOT, clsid=root.clsid)]
    _flatten(root, 0, nodes)
    mini, mini_table = _mini_stream(nodes)
    large = [n for n in nodes if n.kind == _STREAM and n.size >= _CUTOFF]
    counts = [
        _count(len(nodes) * 128, _SECTOR),
        _count(len(mini_table) * 4, _SECTOR),
        _count(len(mini), _SECTOR),
        *(_count(n.size, _SECTOR) for n in large),
    ]
    n_fat, n_difat = _table_sizes(sum(counts))
    fat = [_FATSECT] * n_fat + [_DIFSECT] * n_difat
    starts = []
    for count in counts:
        starts.append(len(fat) if count else _END)
        fat += _chain(len(fat), count)
    nodes[0].start, nodes[0].size = starts[2], len(mini)
    for node, start in zip(large, starts[3:], strict=True):
        node.start = start
    fat += [_FREE] * (n_fat * _IDS - len(fat))
    header = _header(n_fat, n_difat, starts[0], starts[1], counts[1])
    parts = [
        struct.pack(f"<{len(fat)}I", *fat),
        _difat(n_fat, n_difat),
        b"".join(map(_entry, nodes)),
        struct.pack(f"<{len(mini_table)}I", *mini_table),
        mini,
        *(n.data for n in large),
    ]
    return header + b"".join(p.ljust(_count(len(p), _SECTOR) * _SECTOR, b"\0") for p in parts)


def _key(name: str) -> tuple[int, str]:
    """The directory's order of names: shorter first, then by their upper-cased characters."""
    return len(name), name.upper()


def _flatten(storage: Storage, parent: int, nodes: list[_Node]) -> None:
    """Append ``storage``'s entries (and theirs) to ``nodes``, and link them as a balanced
    tree under ``nodes[parent]``."""
    for name, value in storage.entries.items():  # laid out in the order given
        nodes[parent].kids.append(len(nodes))
        if isinstance(value, bytes):
            nodes.append(_Node(name, _STREAM, value, size=len(value)))
        else:
            nodes.append(_Node(name, _STORAGE, clsid=value.clsid, start=0))
            _flatten(value, len(nodes) - 1, nodes)
    kids = sorted(nodes[parent].kids, key=lambda kid: _key(nodes[kid].name))
    nodes[parent].child = _balance(nodes, kids)


def _balance(nodes: list[_Node], ids: list[int]) -> int:
    """The middle of ``ids`` (in the directory's order), its left and right halves below it."""
    if not ids:
        return _NOSTREAM
    middle = len(ids) // 2
    node = nodes[ids[middle]]
    node.left, node.right = _balance(nodes, ids[:middle]), _balance(nodes, ids[middle + 1 :])
    return ids[middle]


def _mini_stream(nodes: list[_Node]) -> tuple[bytes, list[int]]:
    """The mini stream holding every stream under 4,096 bytes, and its allocation table."""
    mini, table = bytearray(), []
    for node in nodes:
        if node.kind == _STREAM and node.size < _CUTOFF:
            count = _count(node.size, _MINI)
            node.start = len(mini) // _MINI if count else _END
            table += _chain(node.start, count)
            mini += node.data.ljust(count * _MINI, b"\0")
    return bytes(mini), table


def _table_sizes(data_sectors: int) -> tuple[int, int]:
    """How many allocation table sectors and DIFAT sectors map ``data_sectors`` and
    themselves."""
    n_fat = n_difat = 0
    while True:
        fat = _count(n_fat + n_difat + data_sectors, _IDS)
        difat = _count(max(0, fat - _HEADER_FAT), _IDS - 1)
        if (fat, difat) == (n_fat, n_difat):
            return n_fat, n_difat
        n_fat, n_difat = fat, difat


def _difat(n_fat: int, n_difat: int) -> bytes:
    """The DIFAT sectors: the table sectors past the header's 109, 127 a sector, each sector
    ending with the next one's number."""
    rest = list(range(_HEADER_FAT, n_fat))
    out = bytearray()
    for i in range(n_difat):
        ids = rest[i * (_IDS - 1) : (i + 1) * (_IDS - 1)]
        ids += [_FREE] * (_IDS - 1 - len(ids))
        following = n_fat + i + 1 if i + 1 < n_difat else _END
        out += struct.pack(f"<{_IDS}I", *ids, following)
    return bytes(out)


def _header(n_fat: int, n_difat: int, directory: int, mini_table: int, n_mini: int) -> bytes:
    listed = list(range(min(n_fat, _HEADER_FAT)))
    return (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + bytes(16)
        + struct.pack(
            "<HHHHH6xIIIIIIIII",
            0x3E,
            3,
            0xFFFE,
            9,
            6,
            0,
            n_fat,
            directory,
            0,
            _CUTOFF,
            mini_table,
            n_mini,
            n_fat if n_difat else _END,
            n_difat,
        )
        + struct.pack("<109I", *listed, *[_FREE] * (_HEADER_FAT - len(listed)))
    )


def _entry(node: _Node) -> bytes:
    encoded = node.name.encode("utf-16-le")[:62] + b"\0\0"
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        encoded,
        len(encoded),
        node.kind,
        1,
        node.left,
        node.right,
        node.child,
        uuid.UUID(node.clsid).bytes_le if node.clsid else bytes(16),
        0,
        0,
        0,
        node.start if node.kind != _STORAGE else 0,
        node.size,
    )


def _count(size: int, unit: int) -> int:
    return -(-size // unit)


def _chain(start: int, count: int) -> list[int]:
    return [*range(start + 1, start + count), _END] if count else []
