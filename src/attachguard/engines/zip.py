"""Zip containers (plain zip, Office Open XML, OpenDocument): read the way every unzip tool
could read them, unpacked within the policy's limits, with the members worth a scan of their
own handed back to the pipeline.

1. Structure first, before zipfile parses anything and before any member is inflated
   (`zip_layout`, over `formats.zipscan.inspect_zip`): the end record's member count and then
   the central directory's against ``limits.max_members`` (ARCHIVE_MEMBERS: a directory of a
   million entries behind an end record that claims one is never parsed), the declared
   unpacked size of the whole archive against ``limits.max_expanded_bytes``
   (ARCHIVE_EXPANSION), and everywhere two unzip tools could see different content or files:
   duplicate names, overlaps, hidden local entries, unexplained bytes, unsafe names
   (AMBIGUOUS). Damage that leaves no directory to read is CORRUPT.
2. An OOXML label needs a main part of its kind, found through the package's root
   relationships as Office finds it (`zip_package`), else TYPE_MISMATCH.
3. Members (`zip_members`): encrypted (ENCRYPTED), a declared ratio over ``limits.max_ratio``
   (ARCHIVE_RATIO), larger than declared (ARCHIVE_EXPANSION), damaged (CORRUPT); the others
   become children. Past the depth limit (``context.depth_left`` 0) nothing is inflated:
   members that would be children are one ARCHIVE_DEPTH finding.
4. Zips among the children: their declared sizes and the children's own add up against
   ``limits.max_expanded_bytes`` (ARCHIVE_EXPANSION, no children), before the pipeline
   inflates them, when it would (not at the last level the depth allows). The budget is the
   whole scan's, not what is left of it: the pipeline still counts what was unpacked before.

Over a limit, or without a directory, no member is read. An ambiguous zip is still unpacked
(within the same limits as any other): AMBIGUOUS rejects it by default, and a policy that
allows AMBIGUOUS still gets every member the central directory lists scanned, rather than none.
Nested archives are children, not opened here (the pipeline owns depth). Member names are
labels only: nothing touches the filesystem. Repeated findings come as one, with a count.
"""

from __future__ import annotations

import platform
import zipfile
from io import BytesIO

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_DEPTH,
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    ARCHIVE_RATIO,
    CORRUPT,
    ENCRYPTED,
    TYPE_MISMATCH,
    VBA_MACRO,
)
from attachguard.engines.base import Context, EngineSpec, Item, Options, Result, finding
from attachguard.engines.office_objects import odf_code
from attachguard.engines.zip_layout import NAME, nested_expansion, read_structure
from attachguard.engines.zip_members import DAMAGED, Reading, unpack
from attachguard.engines.zip_package import MAIN_TYPES, package_problem
from attachguard.report import Finding

_PACKAGES = {*MAIN_TYPES, "odt", "ods", "odp"}


class ZipEngine:
    """Checks zip containers against the unpacking limits and extracts members for scanning
    (see the module docstring)."""

    name = NAME

    def __init__(self) -> None:
        pass

    def version(self) -> str:
        return f"zipfile (Python {platform.python_version()})"

    def scan(self, item: Item, context: Context) -> Result:
        limits, label = context.limits, item.type.label
        package = label in _PACKAGES
        structure = read_structure(item.data, limits, package)
        facts = {} if structure.members is None else {"members": structure.members}
        if structure.stop:
            return Result(structure.findings, facts=facts)
        try:
            archive = zipfile.ZipFile(BytesIO(item.data))
        except DAMAGED:
            message = "damaged zip archive that could not be read"
            return Result([*structure.findings, finding(NAME, CORRUPT, message)], facts=facts)
        with archive:
            mismatch = package_problem(archive, label, limits)
            reading = Reading(limits, package, context.depth_left <= 0, structure.unreadable)
            found, children = unpack(archive, archive.infolist(), reading)
            found += _opendocument_code(archive, item.data)
        findings = [*structure.findings, *([mismatch] if mismatch else []), *found]
        # Past the next level the pipeline unpacks the zips among the children too.
        over = nested_expansion(children, limits) if context.depth_left >= 2 else None
        if over is not None:
            return Result([*findings, over], facts=facts)
        return Result(findings, children, facts)


# OpenDocument's and OpenOffice.org 1.x's (.sxw...) media types, which LibreOffice opens alike
_ODF = (b"application/vnd.oasis.opendocument.", b"application/vnd.sun.xml.")


def _opendocument_code(archive: zipfile.ZipFile, data: bytes) -> list[Finding]:
    """VBA_MACRO for an OpenDocument package holding code LibreOffice may run
    (`office_objects.odf_code`): a Basic library, a script, a macro bound to an event, a click
    that starts a program. A package is one by its ``mimetype`` member (OpenDocument's, or
    OpenOffice.org 1.x's), or without one by its manifest, by which LibreOffice opens it
    (review 104: an .odt without ``mimetype``, an .sxw). Its members are scanned one by one,
    but none of them is a macro to the other engines (red team 102: an .odt attached to a PDF
    with a macro run on load was approved)."""
    names = archive.namelist()
    try:
        kind = archive.read("mimetype")[:64] if "mimetype" in names else b""
    except DAMAGED:
        return []  # the member's damage is reported where it is unpacked
    package = kind.startswith(_ODF) or any(n.lower() == "meta-inf/manifest.xml" for n in names)
    if not package or odf_code(data) is not True:
        return []  # (damage that hides whether it has code is not this engine's to report)
    message = "OpenDocument document with macros or scripts (LibreOffice Basic, events)"
    return [finding(NAME, VBA_MACRO, message)]


ENGINE = EngineSpec(
    name=NAME,
    summary="zip containers (plain, Office Open XML, OpenDocument) unpacked within the limits",
    types=("docx", "xlsx", "pptx", "xlsb", "odt", "ods", "odp", "zip"),
    codes=(
        ARCHIVE_MEMBERS,
        ARCHIVE_EXPANSION,
        ARCHIVE_RATIO,
        ARCHIVE_DEPTH,
        AMBIGUOUS,
        ENCRYPTED,
        CORRUPT,
        TYPE_MISMATCH,
        VBA_MACRO,
    ),
    build=lambda options, resources: ZipEngine(),
    options=Options,
    order=35,
)
