"""PowerPoint 97-2003 presentations (.ppt, .pps): action settings, what a shape or a run of text
does when it is clicked or pointed at in a slide show (MS-PPT 2.7.5, InteractiveInfoContainer),
a shape's animation (MS-PPT 2.8.1, AnimationInfoContainer), and the storages of embedded
objects and of the VBA project (ExOleObjStg, VbaProjectStg), read from the records of the
PowerPoint Document stream.

The stream is read twice, and what either reading finds is judged. PowerPoint itself reads it
by offset (MS-PPT 2.1.2): Current User names the newest user edit, each edit names the one
before it and its persist directory, and the directory gives each object's offset; every edit
is followed, old ones a fast save left behind too. A reader that walks the records one after
another reaches the containers of slides, drawings (OfficeArt records share the header) and
text alike; it steps over zeros that run up to an object PowerPoint reads by offset, as
PowerPoint pads a short first save before a later one (`_padding_end`). The readings disagree
when an object sits where the walk does not go (inside an atom of an unknown type, after a
record whose length runs past the end of the stream): that is AMBIGUOUS, and an edit chain
PowerPoint could not follow is CORRUPT. A record of a type MS-PPT defines as a container
(`_CONTAINERS`) is read inside whatever version its header gives, and one of an unknown type
when the version says container; a container type with an atom's version is AMBIGUOUS too
(whether PowerPoint goes by the type or the version is not known, and other readers go by the
version). Nesting deeper than `MAX_DEPTH` is not followed (real files nest about ten deep),
nor more than `MAX_OBJECTS` persist directory entries (`ARCHIVE_MEMBERS`).

The rule for actions is the one an OOXML presentation gets (`formats.opc`): OFFICE_ACTION for an
action that runs a macro, starts a program or activates an embedded object, or one of an
unknown kind; EXTERNAL_LINK for a hyperlink that opens on mouse-over (no click) and leads
outside the file, or on a click to a network share (the click alone sends the reader's Windows
credentials). A hyperlink is judged by its target and its location (a place inside the target,
e.g. a slide: a share there is judged as if PowerPoint opened it, as nothing honest puts one
there); a hyperlink id given to two targets is judged by both, and a container with two ids
gives its targets to both. Jumps to a slide, custom
shows, media and clicked hyperlinks pass; so does a macro action in a presentation whose VBA
project is reported (VBA_MACRO says it all). An animation that plays a shape's OLE object
(its AnimationInfoAtom's fPlay, on a shape whose ExObjRefAtom names an OLE object: PowerPoint
sends the object its OLE verb, oleVerb, when the animation plays, which fAutomatic makes happen
as the slide show reaches it) is OFFICE_ACTION too, whether automatic or not, as a .pptx
animation's verb command is; an id that names no object, or a movie or sound and an OLE
object at once, counts as an OLE object's. An animation that plays a movie or sound passes, as
a media action does.
"""

from __future__ import annotations

import bisect
import io
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import olefile  # type: ignore[import-untyped]

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    CORRUPT,
    EXTERNAL_LINK,
    VBA_MACRO,
    Code,
)
from attachguard.engines.office_shared import OFFICE_ACTION, Job
from attachguard.errors import LimitExceeded
from attachguard.formats.officeart import PROPERTY_TABLES, linked_pictures
from attachguard.formats.targets import clicked_harm, local_program, target_kind

MAX_DEPTH = 64
MAX_OBJECTS = 1 << 20  # persist directory entries over all edits (real files: a few hundred)
_HEADER = struct.Struct("<HHI")  # recVer (4 bits) and recInstance (12), recType, recLen
_CONTAINER = 0xF
_INTERACTIVE_INFO = 0x0FF2  # recInstance 0: on click, 1: on mouse-over
_INTERACTIVE_ATOM = 0x0FF3
_HYPERLINK = 0x0FD7  # ExHyperlinkContainer: its id atom, then CStrings (instance 1: target)
_HYPERLINK_ATOM = 0x0FD3
_CSTRING = 0x0FBA
_TARGET, _LOCATION = 1, 3  # CString instances in an ExHyperlinkContainer (0: friendly name)
_STORAGE = 0x1011  # ExOleObjStg, VbaProjectStg, ExControlStg; instance 1: zlib-compressed
# A shape's animation (MS-PPT 2.8.1 AnimationInfoContainer, in its OfficeArtClientData beside the
# ExObjRefAtom naming its external object): its AnimationInfoAtom's flags (fAutomatic, bits 2-3:
# it starts without a click; fPlay, bits 8-9: it plays the object's media or OLE verb, oleVerb)
_CLIENT_DATA = 0xF011
_ANIMATION_INFO = 0x1014
_ANIMATION_ATOM = 0x0FF1
_PLAY = 0x0300  # fPlay: 2 bits, 0x1 the only value defined; any other is taken as playing
_OBJECT_REF = 0x0BC1  # ExObjRefAtom: exObjIdRef
# Which external object an id names: ExOleObjAtom (embedded, linked objects and controls: its
# exObjId at 8), ExMediaAtom (movies and sounds: exObjId at 0)
_OLE_OBJECT_ATOM, _MEDIA_ATOM = 0x0FC3, 0x1004
_CURRENT_USER = 0x0FF6  # CurrentUserAtom: size, headerToken, offsetToCurrentEdit, ...
_USER_EDIT = 0x0FF5  # UserEditAtom: ..., offsetLastEdit at 8, offsetPersistDirectory at 12
_PERSIST_DIRECTORY = 0x1772
# MS-PPT 2.13.24 record types whose records are containers (recVer 0xF): the document, slides,
# notes, masters, handouts and their lists; external objects, hyperlinks, action settings, media;
# tags, comments, builds, view settings; and OfficeArt's (MS-ODRAW) drawing, group, shape,
# client data and text box containers
_CONTAINERS = frozenset({
    0x03E8, 0x03EE, 0x03F0, 0x03F2, 0x03F8, 0x03FA, 0x03FF, 0x0402, 0x0407, 0x0408, 0x0409,
    0x040B, 0x040C, 0x0410, 0x0411, 0x0413, 0x0414, 0x07D0, 0x07D5, 0x07D6, 0x07E3, 0x07E4,
    0x07E6, 0x07F8, 0x0FAE, 0x0FB3, 0x0FB5, 0x0FC8, 0x0FC9, 0x0FCC, 0x0FCE, 0x0FD7, 0x0FD9,
    0x0FE4, 0x0FEE, 0x0FF0, 0x0FF2, 0x1005, 0x1006, 0x1007, 0x100D, 0x100E, 0x100F, 0x1010,
    0x1014, 0x1388, 0x1389, 0x138A, 0x177D, 0x177E, 0x2B02, 0x2B04, 0x2B06, 0x2B08, 0x2EE0,
    0x2EE4, 0x2EEC, 0x2EED, 0x2EF1,
    0xF000, 0xF001, 0xF002, 0xF003, 0xF004, 0xF005, 0xF00D, 0xF011,
})  # fmt: skip
# Media PowerPoint plays from a file (MS-PPT 2.10: ExVideoContainer, ExAviMovie, ExMCIMovie,
# ExMIDIAudio, ExCDAudio, ExWAVAudioEmbedded, ExWAVAudioLink): the paths their CStrings name
_MEDIA = frozenset({0x1005, 0x1006, 0x1007, 0x100D, 0x100E, 0x100F, 0x1010})
_RUNS = {1: ("runs a macro", "macro"), 2: ("starts a program", "program"),
         5: ("runs an embedded object", "ole")}  # fmt: skip
# none, jump to a slide, hyperlink, media, custom show
_SAFE = frozenset({0, 3, 4, 6, 7})
_MACRO, _OPEN_HYPERLINK = 1, 4
_EVENTS = ("on click", "when the pointer moves over it")
_OVERRUN = (
    "record running past the end of the stream in the {kind}: a reader walking the records "
    "stops there, PowerPoint reaches what follows by offset"
)
_HIDDEN = "objects in the {kind} that PowerPoint reads by offset and a record walk does not reach"
_DAMAGED = "{kind} whose edits PowerPoint cannot follow"
_VERSION = (
    "container records in the {kind} whose header says atom: PowerPoint may read inside them "
    "by their type, a reader going by the version skips them"
)
_MISVERSIONED = (AMBIGUOUS, _VERSION, "version")


@dataclass(frozen=True)
class _Action:
    kind: int
    hover: bool
    hyperlink: int  # exHyperlinkIdRef


@dataclass(frozen=True)
class _Animation:
    flags: int  # AnimationInfoAtom's
    objects: tuple[int, ...]  # the exObjIdRef of each ExObjRefAtom beside it


@dataclass(frozen=True)
class Storage:
    """The body of an ExOleObjStg (or VbaProjectStg, ExControlStg) record."""

    compressed: bool  # a 4-byte decompressed size, then zlib
    data: bytes


@dataclass
class Presentation:
    """What the two readings of a PowerPoint Document stream found, together."""

    actions: list[_Action] = field(default_factory=list)
    # hyperlink id: its target and location strings, each with its CString instance
    targets: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    storages: list[Storage] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)  # media and pictures read from files
    animations: list[_Animation] = field(default_factory=list)
    ole_ids: set[int] = field(default_factory=set)  # the exObjIds of OLE objects
    media_ids: set[int] = field(default_factory=set)  # the exObjIds of movies and sounds
    problems: list[tuple[Code, str, str]] = field(default_factory=list)
    walked: dict[int, int] = field(default_factory=dict)  # record offset: shallowest depth


def ppt_actions(job: Job, stream: bytes) -> None:
    """OFFICE_ACTION and EXTERNAL_LINK for the action settings in a PowerPoint Document
    stream, AMBIGUOUS and CORRUPT when its readings disagree or PowerPoint could not follow it
    (see the module docstring); the Current User stream is read from ``job.item``."""
    found = read_stream(stream, _streams(job.item.data)[1])
    judged = {
        (code, what.replace("{kind}", job.kind), label): None
        for code, what, label in found.problems
    }
    for action in found.actions:
        if action.kind == _MACRO and job.said(VBA_MACRO):
            continue  # the macro it runs is in the VBA project, already reported
        if (verdict := _judge(action, found.targets.get(action.hyperlink, []))) is not None:
            code, what, label = verdict
            judged[code, f"{what} {_EVENTS[action.hover]} in the {job.kind}", label] = None
    if any(target_kind(path) == "remote" for path in found.linked):
        message = f"a movie, sound or picture loaded from another machine in the {job.kind}"
        judged[EXTERNAL_LINK, message, "linked"] = None
    if any(_plays_an_object(animation, found) for animation in found.animations):
        what = "a PowerPoint action that runs an embedded object by an animation, as the slide"
        judged[OFFICE_ACTION, f"{what} show reaches it, in the {job.kind}", "ole"] = None
    for code, message, label in judged:  # one finding each, in the order met
        job.say(code, message, label=label)


def _judge(action: _Action, strings: list[tuple[int, str]]) -> tuple[Code, str, str] | None:
    """The finding an action deserves (code, words, label), if any. A hover opens a link
    outside the file when its hyperlink has a target other than a mail address, a relative one
    included (a file beside the deck, or one against the hyperlink base); a jump to a slide
    has a location only."""
    targets = [text for _, text in strings]
    if action.kind in _RUNS:
        what, label = _RUNS[action.kind]
        return OFFICE_ACTION, f"a PowerPoint action that {what}", label
    if action.kind not in _SAFE:
        return OFFICE_ACTION, "a PowerPoint action of an unknown kind", "unknown"
    if action.kind != _OPEN_HYPERLINK:
        return None
    files = [text for instance, text in strings if instance == _TARGET and text.strip("\0 ")]
    outside = [t for t in targets if target_kind(t) in ("remote", "local")]
    if action.hover and (outside or any(target_kind(t) != "mail" for t in files)):
        return EXTERNAL_LINK, "a PowerPoint link outside the file that opens", "hover"
    for target in targets:  # a click sends the reader's credentials to a share, or starts a program
        if harm := clicked_harm(target):
            label = "program" if local_program(target) else "share"
            return EXTERNAL_LINK, f"a PowerPoint link to {harm.partition(' (')[0]}", label
    return None


def _plays_an_object(animation: _Animation, found: Presentation) -> bool:
    """Whether an animation activates an OLE object (sends it its OLE verb) as the slide show
    plays it: fPlay on a shape whose external object is an OLE object's, or one of no movie
    or sound (an id no object has, or one two objects share, is taken as the OLE object's).
    A movie or sound that plays so is media, which passes as a media action does."""
    if not animation.flags & _PLAY:
        return False
    return any(
        ident in found.ole_ids or ident not in found.media_ids for ident in animation.objects
    )


def ppt_storages(job: Job) -> list[bytes]:
    """The storages a presentation keeps in records (embedded objects, ActiveX controls, the
    VBA project), as both readings find them, inflated within the byte limit."""
    out: list[bytes] = []
    budget = job.budget()
    stream, user = _streams(job.item.data)
    for storage in read_stream(stream, user).storages:
        raw = storage.data
        if storage.compressed:
            raw = zlib.decompressobj().decompress(raw[4:], budget + 1)
        budget -= len(raw)
        if budget < 0:
            raise LimitExceeded(ARCHIVE_EXPANSION, "embedded objects expand past the byte limit")
        out.append(raw)
    return out


def _streams(data: bytes) -> tuple[bytes, bytes | None]:
    """The PowerPoint Document and Current User streams of the compound file ``data``."""
    ole = olefile.OleFileIO(io.BytesIO(data))
    try:
        user = ole.openstream("Current User").read() if ole.exists("Current User") else None
        return ole.openstream("PowerPoint Document").read(), user
    finally:
        ole.close()


def read_stream(stream: bytes, user: bytes | None) -> Presentation:
    """Both readings of a PowerPoint Document stream (``user``: its Current User stream). The
    walk steps over zeros that run up to an object PowerPoint reads by offset (`_records`)."""
    found = Presentation()
    objects, damaged = _objects(stream, user)
    top = _records(stream, 0, len(stream), sorted(objects))
    _walk(stream, 0, len(stream), 0, found, sorted(objects))
    if len(stream) - (top[-1][4] if top else 0) >= _HEADER.size:
        found.problems.append((AMBIGUOUS, _OVERRUN, "overrun"))
    found.problems += damaged
    starts = {body - _HEADER.size for *_, body, _ in top}
    if any(offset not in starts for offset in objects):
        found.problems.append((AMBIGUOUS, _HIDDEN, "persist"))
    for offset in objects:
        _walk(stream, offset, _record_end(stream, offset), 0, found)
    return found


def _objects(stream: bytes, user: bytes | None) -> tuple[list[int], list[tuple[Code, str, str]]]:
    """The distinct offsets of the persist objects PowerPoint can read, and CORRUPT when it
    could not read them all."""
    offsets, damage = _persist_objects(stream, user)
    unique = list(dict.fromkeys(offsets))
    objects = [offset for offset in unique if _record_end(stream, offset) > offset]
    if len(objects) < len(unique):
        damage = damage or "objects past the end of the stream"
    return objects, [(CORRUPT, f"{_DAMAGED} ({damage})", "edits")] if damage else []


def _record_end(data: bytes, offset: int) -> int:
    """Where the record at ``offset`` ends; ``offset`` when it does not fit in ``data``."""
    if offset + _HEADER.size > len(data):
        return offset
    end = offset + _HEADER.size + _HEADER.unpack_from(data, offset)[2]
    return end if end <= len(data) else offset


def _atom(data: bytes, offset: int, kind: int, size: int) -> int | None:
    """Where the body of the record at ``offset`` starts, if it is of type ``kind``, fits in
    ``data`` and holds at least ``size`` bytes."""
    end = _record_end(data, offset)
    if end - offset < _HEADER.size + size or _HEADER.unpack_from(data, offset)[1] != kind:
        return None
    return offset + _HEADER.size


def _current_user(user: bytes) -> int | None:
    """Where the CurrentUserAtom's body starts: its type, and the 12 bytes PowerPoint reads
    (size, header token, offset to the current edit) in the stream, whatever its header says
    of the rest (PowerPoint for Mac overstates the record's length by 4 bytes)."""
    if len(user) < _HEADER.size + 12 or _HEADER.unpack_from(user, 0)[1] != _CURRENT_USER:
        return None
    return _HEADER.size


def _persist_objects(stream: bytes, user: bytes | None) -> tuple[list[int], str]:
    """The offsets of the persist objects of every user edit, newest first, and what stopped
    PowerPoint's reading of them ("" when nothing did)."""
    if user is None or (head := _current_user(user)) is None:
        return [], "no Current User record"
    objects: list[int] = []
    (offset,) = struct.unpack_from("<I", user, head + 8)
    seen: set[int] = set()
    read = 0  # directory entries, over all edits: edits may share or overlap directories
    while offset not in seen:
        seen.add(offset)
        if (body := _atom(stream, offset, _USER_EDIT, 16)) is None:
            return objects, "an edit offset with no user edit there"
        offset, directory = struct.unpack_from("<II", stream, body + 8)
        if (entries := _directory(stream, directory)) is None:
            return objects, "an edit without a readable persist directory"
        read += (_record_end(stream, directory) - directory) // 4
        if read > MAX_OBJECTS:
            raise LimitExceeded(ARCHIVE_MEMBERS, f"more than {MAX_OBJECTS:,} PowerPoint objects")
        objects += entries
        if offset == 0:  # the first edit
            return objects, ""
    return objects, "edits that loop"


def _directory(stream: bytes, offset: int) -> list[int] | None:
    """The offsets a PersistDirectoryAtom at ``offset`` gives; None when there is none or its
    entries run past its end."""
    if (body := _atom(stream, offset, _PERSIST_DIRECTORY, 0)) is None:
        return None
    end = _record_end(stream, offset)
    objects: list[int] = []
    while body + 4 <= end:
        count = struct.unpack_from("<I", stream, body)[0] >> 20  # after persistId, 20 bits
        body += 4
        if body + 4 * count > end:
            return None
        objects.extend(struct.unpack_from(f"<{count}I", stream, body))
        body += 4 * count
    return objects if body == end else None


def _records(
    data: bytes, start: int, end: int, objects: Sequence[int] = ()
) -> list[tuple[int, int, int, int, int]]:
    """The records between ``start`` and ``end``: (version, instance, type, body start, body
    end); a record that runs past ``end`` ends the list. At the top of the stream, zeros that
    run up to one of the ``objects`` (sorted offsets) are stepped over (`_padding_end`)."""
    out = []
    pos = start
    while pos + _HEADER.size <= end:
        pos = _padding_end(data, pos, objects)
        if pos + _HEADER.size > end:
            break
        ver_instance, kind, length = _HEADER.unpack_from(data, pos)
        body = pos + _HEADER.size
        if body + length > end:
            break
        out.append((ver_instance & 0xF, ver_instance >> 4, kind, body, body + length))
        pos = body + length
    return out


_NONZERO = re.compile(rb"[^\x00]")


def _padding_end(data: bytes, pos: int, objects: Sequence[int]) -> int:
    """Where the record after zero padding at ``pos`` starts: the next of the ``objects``
    PowerPoint reads by offset when only zeros lie before it, else ``pos``. PowerPoint pads a
    stream whose first save ended short of 4,096 bytes with zeros up to there, and a later save
    writes its records from there (Apache POI's 38256.ppt, 41384.ppt, 54332a.ppt, users' files
    of 2002-2012: 455 to 1,357 bytes): read as records, zeros are empty headers, and a run
    that is no multiple of eight makes a header of the last zeros and the next record's first
    bytes. Bytes that are not zeros are never stepped over: they are read as records."""
    if not objects or pos >= len(data) or data[pos] != 0:
        return pos
    after = bisect.bisect_right(objects, pos)
    if after == len(objects):
        return pos
    target = objects[after]
    nonzero = _NONZERO.search(data, pos, target)
    return target if nonzero is None else pos


def _walk(
    data: bytes, start: int, end: int, depth: int, found: Presentation, objects: Sequence[int] = ()
) -> None:
    for version, instance, kind, body, stop in _records(data, start, end, objects):
        if found.walked.get(body, MAX_DEPTH + 1) <= depth:
            continue  # read already (same header, same body), at least as deep
        found.walked[body] = depth
        if kind in _CONTAINERS and version != _CONTAINER and _MISVERSIONED not in found.problems:
            found.problems.append(_MISVERSIONED)
        if _read(data, instance, kind, body, stop, found):
            continue
        if (version == _CONTAINER or kind in _CONTAINERS) and depth < MAX_DEPTH:
            _walk(data, body, stop, depth + 1, found)


def _read(data: bytes, instance: int, kind: int, body: int, stop: int, found: Presentation) -> bool:
    """What one record says (an action, a hyperlink, a storage, linked pictures or media);
    True when it is read whole here, and is not walked further."""
    if kind == _INTERACTIVE_INFO:
        _interactive(data, body, stop, instance == 1, found.actions)
    elif kind == _HYPERLINK:
        _hyperlink(data, body, stop, found.targets)
    elif kind == _STORAGE:
        found.storages.append(Storage(instance == 1, data[body:stop]))
    elif kind in PROPERTY_TABLES:
        found.linked += linked_pictures(data[body:stop], instance)
    elif kind in (_OLE_OBJECT_ATOM, _MEDIA_ATOM):
        _object_id(data, kind, body, stop, found)
    else:
        if kind in _MEDIA:  # its CStrings, and walked on as a container
            records = _records(data, body, stop)
            found.linked += [data[b:s].decode("utf-16-le", "replace")
                             for _, _, k, b, s in records if k == _CSTRING]  # fmt: skip
        elif kind == _CLIENT_DATA:  # a shape's: its animation, walked on as a container
            found.animations += _animations(data, body, stop)
        return False
    return True


def _object_id(data: bytes, kind: int, body: int, stop: int, found: Presentation) -> None:
    """The exObjId of an OLE object (ExOleObjAtom) or of a movie or sound (ExMediaAtom)."""
    at = 8 if kind == _OLE_OBJECT_ATOM else 0
    if stop - body >= at + 4:
        (ident,) = struct.unpack_from("<I", data, body + at)
        (found.ole_ids if kind == _OLE_OBJECT_ATOM else found.media_ids).add(ident)


def _animations(data: bytes, start: int, end: int) -> list[_Animation]:
    """A shape's animations (the AnimationInfoAtom of each AnimationInfoContainer in its
    OfficeArtClientData), each with the external objects the shape names (ExObjRefAtom)."""
    records = _records(data, start, end)
    objects = tuple(struct.unpack_from("<I", data, body)[0]
                    for _, _, kind, body, stop in records
                    if kind == _OBJECT_REF and stop - body >= 4)  # fmt: skip
    flags = [struct.unpack_from("<H", data, b + 4)[0]
             for _, _, kind, body, stop in records if kind == _ANIMATION_INFO
             for _, _, k, b, s in _records(data, body, stop)
             if k == _ANIMATION_ATOM and s - b >= 6]  # fmt: skip
    return [_Animation(flag, objects) for flag in flags]


def _interactive(data: bytes, start: int, end: int, hover: bool, actions: list[_Action]) -> None:
    """An InteractiveInfoContainer: the action of its InteractiveInfoAtom."""
    for _, _, kind, body, stop in _records(data, start, end):
        if kind == _INTERACTIVE_ATOM and stop - body >= 9:
            (hyperlink,) = struct.unpack_from("<I", data, body + 4)
            actions.append(_Action(data[body + 8], hover, hyperlink))


def _hyperlink(
    data: bytes, start: int, end: int, targets: dict[int, list[tuple[int, str]]]
) -> None:
    """An ExHyperlinkContainer: its id (ExHyperlinkAtom), target and location (CStrings); an
    id given twice keeps every target, and a container with two ids gives its targets to both,
    as nothing says which one PowerPoint takes."""
    numbers, found = [], []
    for _, instance, kind, body, stop in _records(data, start, end):
        if kind == _HYPERLINK_ATOM and stop - body >= 4:
            numbers.append(struct.unpack_from("<I", data, body)[0])
        elif kind == _CSTRING and instance in (_TARGET, _LOCATION):
            found.append((instance, data[body:stop].decode("utf-16-le", "replace")))
    for number in dict.fromkeys(numbers):
        targets.setdefault(number, []).extend(found)
