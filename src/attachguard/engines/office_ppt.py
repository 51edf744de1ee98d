"""PowerPoint 97-2003 action settings (.ppt, .pps): what a shape or a run of text does when it is
clicked or pointed at in a slide show, read from the records of the PowerPoint Document stream
as PowerPoint reads them (MS-PPT 2.7.5, InteractiveInfoContainer).

The rule is the one an OOXML presentation gets (`formats.opc`): OFFICE_ACTION for an action that
runs a macro, starts a program or activates an embedded object, or one of an unknown kind;
EXTERNAL_LINK for a hyperlink that opens on mouse-over (no click) and leads outside the file,
or on a click to a network share (the click alone sends the reader's Windows credentials).
Jumps to a slide, custom shows, media and clicked hyperlinks pass; so does a macro action in a
presentation whose VBA project is reported (VBA_MACRO says it all).

Every record of the stream is walked, the containers of slides, drawings (OfficeArt records share
the header) and text alike, old edits a fast save left behind too: an action anywhere in it is
one PowerPoint may show. Nesting deeper than `MAX_DEPTH` is not followed (real files nest about
ten deep).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from attachguard.codes import EXTERNAL_LINK, VBA_MACRO, Code
from attachguard.engines.office_shared import OFFICE_ACTION, Job
from attachguard.formats.targets import on_a_share, target_kind

MAX_DEPTH = 64
_HEADER = struct.Struct("<HHI")  # recVer (4 bits) and recInstance (12), recType, recLen
_CONTAINER = 0xF
_INTERACTIVE_INFO = 0x0FF2  # recInstance 0: on click, 1: on mouse-over
_INTERACTIVE_ATOM = 0x0FF3
_HYPERLINK = 0x0FD7  # ExHyperlinkContainer: its id atom, then CStrings (instance 1: target)
_HYPERLINK_ATOM = 0x0FD3
_CSTRING = 0x0FBA
_RUNS = {1: ("runs a macro", "macro"), 2: ("starts a program", "program"),
         5: ("runs an embedded object", "ole")}  # fmt: skip
# none, jump to a slide, hyperlink, media, custom show
_SAFE = frozenset({0, 3, 4, 6, 7})
_MACRO, _OPEN_HYPERLINK = 1, 4
_EVENTS = ("on click", "when the pointer moves over it")


@dataclass(frozen=True)
class _Action:
    kind: int
    hover: bool
    hyperlink: int  # exHyperlinkIdRef


def ppt_actions(job: Job, stream: bytes) -> None:
    """OFFICE_ACTION and EXTERNAL_LINK for the action settings in a PowerPoint Document
    stream (see the module docstring)."""
    actions: list[_Action] = []
    targets: dict[int, str] = {}
    _walk(stream, 0, len(stream), 0, actions, targets)
    found: dict[tuple[Code, str, str], None] = {}  # one finding each, in the order met
    for action in actions:
        if action.kind == _MACRO and job.said(VBA_MACRO):
            continue  # the macro it runs is in the VBA project, already reported
        when = f"{_EVENTS[action.hover]} in the {job.kind}"
        if action.kind in _RUNS:
            what, label = _RUNS[action.kind]
            found[OFFICE_ACTION, f"a PowerPoint action that {what} {when}", label] = None
        elif action.kind not in _SAFE:
            found[OFFICE_ACTION, f"a PowerPoint action of an unknown kind {when}", "unknown"] = None
        elif action.kind == _OPEN_HYPERLINK and action.hover and _outside(targets, action):
            message = f"a PowerPoint link outside the file that opens {when}"
            found[EXTERNAL_LINK, message, "hover"] = None
        elif action.kind == _OPEN_HYPERLINK and on_a_share(targets.get(action.hyperlink, "")):
            message = f"a PowerPoint link to a network share {when}"  # credentials on a click
            found[EXTERNAL_LINK, message, "share"] = None
    for code, message, label in found:
        job.say(code, message, label=label)


def _outside(targets: dict[int, str], action: _Action) -> bool:
    """Whether a hyperlink action's target is outside the file (a URL, a share, a path)."""
    return target_kind(targets.get(action.hyperlink, "")) in ("remote", "local")


def _records(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int, int]]:
    """The records between ``start`` and ``end``: (version, instance, type, body start, body
    end); a record that runs past ``end`` ends the list."""
    out = []
    pos = start
    while pos + _HEADER.size <= end:
        ver_instance, kind, length = _HEADER.unpack_from(data, pos)
        body = pos + _HEADER.size
        if body + length > end:
            break
        out.append((ver_instance & 0xF, ver_instance >> 4, kind, body, body + length))
        pos = body + length
    return out


def _walk(
    data: bytes,
    start: int,
    end: int,
    depth: int,
    actions: list[_Action],
    targets: dict[int, str],
) -> None:
    for version, instance, kind, body, stop in _records(data, start, end):
        if kind == _INTERACTIVE_INFO and version == _CONTAINER:
            for _, _, inner, at, until in _records(data, body, stop):
                if inner == _INTERACTIVE_ATOM and until - at >= 9:
                    (hyperlink,) = struct.unpack_from("<I", data, at + 4)
                    actions.append(_Action(data[at + 8], instance == 1, hyperlink))
        elif kind == _HYPERLINK and version == _CONTAINER:
            _hyperlink(data, body, stop, targets)
        elif version == _CONTAINER and depth < MAX_DEPTH:
            _walk(data, body, stop, depth + 1, actions, targets)


def _hyperlink(data: bytes, start: int, end: int, targets: dict[int, str]) -> None:
    """An ExHyperlinkContainer: its id (ExHyperlinkAtom) and target (CString, instance 1)."""
    number, target = None, ""
    for _, instance, kind, body, stop in _records(data, start, end):
        if kind == _HYPERLINK_ATOM and stop - body >= 4:
            (number,) = struct.unpack_from("<I", data, body)
        elif kind == _CSTRING and instance == 1:
            target = data[body:stop].decode("utf-16-le", "replace")
    if number is not None:
        targets.setdefault(number, target)
