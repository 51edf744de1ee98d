"""PowerPoint 97-2003 presentations built record by record (MS-PPT): slides with an action
setting or an animation, hyperlinks, movies, object storages, and the edit chain PowerPoint
reads them by (persist directory, user edit, Current User); a record can be hidden from a walk
of the records, inside an atom of an unknown type or after a header whose length runs past the
end of the stream. A real presentation can be given one more edit, as PowerPoint's fast save
appends one."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Collection, Sequence
from typing import Any

import olefile  # type: ignore[import-untyped]

from support.evasions import ole_tree

UNKNOWN = 0x6000  # a record type MS-PPT does not define (0x2EE0 is RT_Comment10)
SHARE = "\\\\attacker.example\\share\\deck.ppt"
_EDIT = struct.Struct("<IHBBIIIIHH")  # UserEditAtom's body


def record(kind: int, body: bytes = b"", instance: int = 0, container: bool = False) -> bytes:
    """A record: version 0xF for a container, then instance, type and length."""
    head = (instance << 4) | (0xF if container else 0)
    return struct.pack("<HHI", head, kind, len(body)) + body


def slide(
    action: int = 0, hover: bool = False, hyperlink: int = 0, atoms: Collection[int] = ()
) -> bytes:
    """A slide whose one shape has an action setting (InteractiveInfoAtom ``action``: 0 none,
    1 macro, 2 program, 3 jump, 4 hyperlink ``hyperlink``, 5 OLE verb); its InteractiveInfo
    (0x0FF2) and OfficeArtClientData (0xF011) containers have an atom's version if in ``atoms``."""
    atom = struct.pack("<IIBBBBB3x", 0, hyperlink, action, 0, 0, 0, 0xFF)
    info = record(0x0FF2, record(0x0FF3, atom), int(hover), container=0x0FF2 not in atoms)
    anchor = record(0xF00A, struct.pack("<II", 1025, 0xA00))
    data = record(0xF011, info, container=0xF011 not in atoms)
    shape = record(0xF004, anchor + data, container=True)
    drawing = record(0xF002, record(0xF003, shape, container=True), container=True)
    return record(0x03EE, record(0x03EF, bytes(24)) + record(0x040C, drawing, container=True),
                  container=True)  # fmt: skip


AUTOMATIC, PLAY = 0x0004, 0x0100  # AnimationInfoAtom's fAutomatic and fPlay


def animated_slide(flags: int, objects: Sequence[int] = (1,), verb: int = 0) -> bytes:
    """A slide whose one shape names the external objects ``objects`` (an ExObjRefAtom each)
    and has an animation (AnimationInfoContainer): its AnimationInfoAtom's ``flags``
    (`AUTOMATIC`, `PLAY`) and OLE verb ``verb``."""
    atom = struct.pack("<IHHIIhHBBBBBBH", 0, flags, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, verb, 0)
    animation = record(0x1014, record(0x0FF1, atom), container=True)
    refs = b"".join(record(0x0BC1, struct.pack("<I", ident)) for ident in objects)
    anchor = record(0xF00A, struct.pack("<II", 1025, 0xA10))
    data = record(0xF011, refs + animation, container=True)
    shape = record(0xF004, anchor + data, container=True)
    drawing = record(0xF002, record(0xF003, shape, container=True), container=True)
    return record(0x03EE, record(0x03EF, bytes(24)) + record(0x040C, drawing, container=True),
                  container=True)  # fmt: skip


def movie(ident: int, path: str = "clip.avi") -> bytes:
    """An ExMCIMovie container (its ExVideoContainer: an ExMediaAtom with ``ident``, a path)."""
    media = record(0x1004, struct.pack("<IHH", ident, 0, 0))
    video = record(0x1005, media + record(0x0FBA, path.encode("utf-16-le")), container=True)
    return record(0x1007, video, container=True)


def hyperlinks(*links: tuple[int, str]) -> bytes:
    """An ExObjList of ExHyperlink containers: (id, target) each."""
    return object_list(*(hyperlink([ident], target) for ident, target in links))


def hyperlink(
    idents: Sequence[int], target: str, location: str = "", container: bool = True
) -> bytes:
    """An ExHyperlinkContainer: an ExHyperlinkAtom for each of ``idents``, the first before
    the target, the others after it; the location (CString instance 3) if any; an atom's
    version unless ``container``."""
    ids = [record(0x0FD3, struct.pack("<I", ident)) for ident in idents]
    strings = record(0x0FBA, target.encode("utf-16-le"), 1)
    if location:
        strings += record(0x0FBA, location.encode("utf-16-le"), 3)
    return record(0x0FD7, b"".join(ids[:1]) + strings + b"".join(ids[1:]), container=container)


def object_list(*items: bytes) -> bytes:
    """An ExObjList holding ``items``."""
    return record(0x0409, record(0x040A, struct.pack("<I", len(items))) + b"".join(items),
                  container=True)  # fmt: skip


def storage(data: bytes) -> bytes:
    """An ExOleObjStg (or VbaProjectStg) record holding the compound file ``data``,
    compressed."""
    return record(0x1011, struct.pack("<I", len(data)) + zlib.compress(data), 1)


def vba_info(persist_id: int) -> bytes:
    """A VBAInfoContainer naming the VbaProjectStg with ``persist_id``."""
    atom = struct.pack("<HHI", 2, 0x0400, 12) + struct.pack("<III", persist_id, 1, 2)
    return record(0x07D0, record(0x03FF, atom, container=True), container=True)


def embedded(persist_id: int) -> bytes:
    """An ExObjList with one ExEmbed container naming the ExOleObjStg with ``persist_id``."""
    atom = record(0x0FC3, struct.pack("<IIIIII", 1, 0, 1, 0, persist_id, 0))
    embed = record(0x0FCD, struct.pack("<IBBBB", 0, 0, 1, 0, 0))
    return record(0x0409, record(0x040A, struct.pack("<I", 1))
                  + record(0x0FCC, embed + atom, container=True), container=True)  # fmt: skip


def hidden(wrap: str, objects: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
    """(what precedes, object) for each of ``objects``: nothing, a header of an unknown type
    whose atom holds it (``atom``), or before the first a header whose length runs past the end
    of the stream (``overrun``)."""
    if wrap == "atom":
        return [(struct.pack("<HHI", 0, UNKNOWN, len(o)), o) for o in objects]
    if wrap == "overrun":
        first = struct.pack("<HHI", 0, UNKNOWN, 0x7FFFFF00)
        return [(first if i == 0 else b"", o) for i, o in enumerate(objects)]
    return [(b"", o) for o in objects]


def append_edit(
    stream: bytes, objects: Sequence[tuple[bytes, bytes]], last: int = 0, seed: int = 0
) -> tuple[bytes, int]:
    """``stream`` with ``objects`` (what precedes, object) given persist ids after ``seed``, then
    their persist directory and a user edit pointing at the edit at ``last`` (0: none); and
    where that user edit starts."""
    out = bytearray(stream)
    offsets = []
    for before, body in objects:
        out += before
        offsets.append(len(out))
        out += body
    entry = struct.pack("<I", (len(offsets) << 20) | (seed + 1))
    directory = len(out)
    out += record(0x1772, entry + b"".join(struct.pack("<I", o) for o in offsets))
    edit = len(out)
    out += record(0x0FF5, _EDIT.pack(256, 0, 0, 3, last, directory, 1, seed + len(offsets),
                                     1, 0))  # fmt: skip
    return bytes(out), edit


def current_user(edit: int) -> bytes:
    """A Current User stream naming the user edit at ``edit``."""
    user = struct.pack("<IIIHHBBH", 20, 0xE391C05F, edit, 5, 0x03F4, 3, 0, 0)
    return record(0x0FF6, user + b"agent" + struct.pack("<I", 8))


def presentation(
    objects: Sequence[bytes],
    document: bytes = b"",
    wrap: str = "",
    tree: dict[str, Any] | None = None,
) -> bytes:
    """A presentation (a compound file): a DocumentContainer holding ``document``, then
    ``objects`` (persist ids 2, 3, ...) hidden as ``wrap`` says (`hidden`), their edit, and the
    streams of ``tree`` besides."""
    head = record(0x03E8, record(0x03E9, bytes(40)) + document, container=True)
    stream, edit = append_edit(b"", [(b"", head), *hidden(wrap, objects)])
    streams = {"PowerPoint Document": stream, "Current User": current_user(edit)}
    return ole_tree({**streams, **(tree or {})})


def fast_saved(data: bytes, objects: Sequence[bytes], wrap: str = "") -> bytes:
    """The real presentation ``data`` with one more edit holding ``objects`` (new persist ids)
    hidden as ``wrap`` says, as a fast save appends it; its other streams kept."""
    tree = _tree(data)
    stream, user = tree["PowerPoint Document"], tree["Current User"]
    (last,) = struct.unpack_from("<I", user, 16)
    seed = struct.unpack_from("<I", stream, last + 8 + 20)[0]
    stream, edit = append_edit(stream, hidden(wrap, objects), last, seed)
    tree["PowerPoint Document"] = stream
    tree["Current User"] = user[:16] + struct.pack("<I", edit) + user[20:]
    return ole_tree(tree)


def _tree(data: bytes) -> dict[str, Any]:
    """The streams of the compound file ``data``, nested by storage."""
    tree: dict[str, Any] = {}
    with olefile.OleFileIO(data) as ole:
        for path in ole.listdir(streams=True, storages=False):
            node = tree
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = ole.openstream(path).read()
    return tree
