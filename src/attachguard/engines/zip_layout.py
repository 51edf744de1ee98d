"""The zip engine's view of a zip's structure: `formats.zipscan.inspect_zip` as findings.

AMBIGUOUS: everything zipscan says two unzip tools could read differently (duplicate names,
overlapping members, local entries the central directory leaves out, unexplained bytes between
members, before the archive or after it, a local header that disagrees with the directory, a
second end record), and unsafe names (``..``, absolute paths, control characters, backslashes):
Windows Explorer, Office and unzip resolve them to different files, or outside the folder.
One exception, in a plain zip only: a name whose one fault is backslashes for slashes. Windows
PowerShell's Compress-Archive writes them; every tool finds the same bytes under one name or
the other, and two names that become one are still a duplicate. In an Office or OpenDocument
package a part name is how the application finds content, so there backslashes stay ambiguous.

Limits: the declared expansion of the whole archive (ARCHIVE_EXPANSION) and its member count
(ARCHIVE_MEMBERS) stop the scan before anything is inflated, as does damage that leaves no
directory to read (CORRUPT). A member without a readable local header is CORRUPT and is not
read; the others still are.

Findings repeat per member (a hostile file can hold a thousand duplicates): `aggregate` keeps
one per code and kind, with a count and a few example locations. zipscan itself keeps ten of
each kind and one "more like these", so a count past eleven is never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from attachguard.codes import AMBIGUOUS, ARCHIVE_EXPANSION, ARCHIVE_MEMBERS, CORRUPT, Code
from attachguard.engines.base import Child, finding
from attachguard.formats.zipscan import ProblemKind, ZipLayout, ZipProblem, inspect_zip
from attachguard.report import Finding

if TYPE_CHECKING:
    from attachguard.policy import Limits

NAME = "zip"
EXAMPLES = 3  # locations named by a finding that stands for many
_K = ProblemKind
_AMBIGUOUS_KINDS = (_K.DUPLICATE_NAME, _K.OVERLAP, _K.ORPHAN_LOCAL, _K.GAP_DATA,
                    _K.HEADER_MISMATCH, _K.MULTIPLE_END_RECORDS, _K.PREPENDED_DATA,
                    _K.TRAILING_DATA, _K.UNSAFE_NAME)  # fmt: skip
_CODES: dict[ProblemKind, Code] = {
    **dict.fromkeys(_AMBIGUOUS_KINDS, AMBIGUOUS),
    _K.EXPANSION: ARCHIVE_EXPANSION,
    _K.MEMBERS: ARCHIVE_MEMBERS,
    _K.CORRUPT: CORRUPT,
}
_LIMITS = frozenset({_K.EXPANSION, _K.MEMBERS})
_LOCAL_SIG = b"PK\x03\x04"
_LEFT_OUT = "more problems like these were left out"  # zipscan's last word on a kind past ten
# What keeps a name unsafe once its backslashes are read as slashes: climbing out with "..",
# a root or drive, a control character (zipscan's rules, backslashes aside).
_UNSAFE_WITH_SLASHES = re.compile(r"(?:^|/)\.\.(?:/|$)|^/|^[A-Za-z]:|[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Structure:
    """What the layout says: findings (aggregated), whether to stop before reading any member
    (a limit, or no directory), the members to leave unread (by local header offset), and the
    member count when the directory could be read."""

    findings: list[Finding]
    stop: bool
    unreadable: frozenset[int]
    members: int | None


def read_structure(data: bytes, limits: Limits, package: bool) -> Structure:
    """The zip in ``data`` against ``limits``, as an Office/OpenDocument ``package`` or a plain
    zip (see the module docstring). Reads structure only: nothing is inflated."""
    most = limits.max_package_parts if package else limits.max_members
    layout = inspect_zip(data, max_members=most, max_expanded=limits.max_expanded_bytes)
    problems = layout.problems if package else _tolerate_backslashes(layout)
    kinds = {problem.kind for problem in problems}
    no_directory = bool(problems) and not layout.members
    return Structure(
        aggregate([_finding(problem) for problem in problems]),
        stop=bool(kinds & _LIMITS) or no_directory,
        unreadable=frozenset(m.header_offset for m in layout.members if m.data is None),
        members=None if no_directory else len(layout.members),
    )


def nested_expansion(children: list[Child], limits: Limits) -> Finding | None:
    """ARCHIVE_EXPANSION when the children and the members of the zips among them declare more
    than ``limits.max_expanded_bytes`` together: what the pipeline would count while unpacking
    them, known before a byte of the grandchildren is inflated (three zips of 70 MB each in a
    document took 18 s to scan until the pipeline's count passed 200 MB). For a caller whose
    children's members will be unpacked in turn (not at the depth limit)."""
    total = 0
    for child in children:
        total += len(child.data)
        if child.data.startswith(_LOCAL_SIG):
            layout = inspect_zip(
                child.data, max_members=limits.max_members, max_expanded=limits.max_expanded_bytes
            )
            total += sum(member.uncompressed_size for member in layout.members)
    if total <= limits.max_expanded_bytes:
        return None
    message = (
        f"archive and the archives inside it declare {total:,} unpacked bytes, over the "
        f"{limits.max_expanded_bytes:,} byte limit; not unpacked"
    )
    return finding(NAME, ARCHIVE_EXPANSION, message, label=_K.EXPANSION.value)


def aggregate(findings: list[Finding]) -> list[Finding]:
    """One finding per code and label (a structural kind; member findings have none), in the
    order first seen: the first keeps its message and location, a few more locations are
    named as examples, ``count`` says how many there were."""
    groups: dict[tuple[Code, str | None], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.code, f.label), []).append(f)
    return [_merged(same) for same in groups.values()]


def _merged(same: list[Finding]) -> Finding:
    first = same[0]
    if len(same) == 1:
        return first
    locations = (f.location for f in same[1:])
    others = dict.fromkeys(where for where in locations if where and where != first.location)
    more = tuple(others)[: EXAMPLES - 1]
    return replace(first, count=sum(f.count for f in same), more=more)


def _finding(problem: ZipProblem) -> Finding:
    """The finding for a problem; zipscan's "more like these" has no place to name (it only
    adds to the count of its kind)."""
    kind = problem.kind
    message = f"{problem.message}; not unpacked" if kind in _LIMITS else problem.message
    location = None if problem.message == _LEFT_OUT else problem.location
    return finding(NAME, _CODES[kind], message, location=location, label=kind.value)


def _unsafe_anyway(name: str) -> bool:
    return not name or bool(_UNSAFE_WITH_SLASHES.search(name.replace("\\", "/")))


def _tolerate_backslashes(layout: ZipLayout) -> list[ZipProblem]:
    """The problems without those about names whose one fault is backslashes. zipscan keeps a
    few names of each kind: its "more like these" stays when any member is unsafe anyway."""
    names = {member.name for member in layout.members}
    unsafe = {name for name in names if _unsafe_anyway(name)}
    return [
        problem
        for problem in layout.problems
        if problem.kind is not _K.UNSAFE_NAME
        or problem.location in unsafe
        or (problem.location not in names and bool(unsafe))
    ]
