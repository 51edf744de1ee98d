"""Office Open XML files (docx, xlsx, pptx, xlsb and their macro-enabled kinds), read as Office
reads them: through the OPC package reader (`attachguard.formats.opc`), which follows the
relationships from the package root and judges each part by its content or relationship type and
its parsed XML, never by its path.

What the reader reports becomes findings by a table (`_CODES`); on top of it this module runs
olevba on the VBA projects the reader found (to say whether the macros run by themselves), the
Word field analysis (`attachguard.formats.wordfields`) on every WordprocessingML part that holds
fields, and oletools' XLSB record parser on binary external-link parts (DDE links in .xlsb,
which hold no XML). Embedded objects follow `attachguard.engines.office_objects`; the zip
engine, which opens the same file, hands the same members over too (a child two engines return
is scanned twice unless the pipeline skips repeats).

Ambiguous: what the OPC reader calls so (two zip entries for one part, interleaved pieces,
conflicting content types, a DTD or an encoding Office refuses) and Word fields that readers
could assemble differently (`attachguard.formats.wordfields`: a field never closed, split
across a text box...). An oleLink is EXTERNAL_LINK, not DDE: Office updates an object from
another file, no command runs.

Limits: the member count and declared sizes are checked against the policy before any part is
read (zipfile never inflates a member past its declared size, so that bounds every later read);
the reader caps relationships (ARCHIVE_MEMBERS past it), the field analysis fields, instruction
length and nesting (ARCHIVE_EXPANSION: more than we examine, not damage). Office never encrypts
zip entries: one that is encrypted makes the file damaged.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

from oletools import xls_parser

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    CORRUPT,
    DDE,
    EXTERNAL_LINK,
    OLE_OBJECT,
    XLM_MACRO,
    Code,
)
from attachguard.engines.office_objects import compound_object
from attachguard.engines.office_shared import OFFICE_ACTION, Job, vba_macros
from attachguard.errors import LimitExceeded
from attachguard.formats.opc import (
    Embedded,
    EmbeddedKind,
    OpcKind,
    OpcProblem,
    Package,
    PackageReport,
    analyse_package,
)
from attachguard.formats.wordfields import (
    FieldLimitError,
    classify_field,
    field_instructions,
)

# What each problem the OPC reader reports is, as a finding (VBA goes through olevba first;
# informational kinds are not findings).
_CODES: dict[OpcKind, Code] = {
    OpcKind.XLM: XLM_MACRO,
    OpcKind.DDE: DDE,
    OpcKind.ACTIVEX: OLE_OBJECT,
    OpcKind.EXTERNAL_LINK: EXTERNAL_LINK,
    OpcKind.ACTION: OFFICE_ACTION,
    OpcKind.AMBIGUOUS: AMBIGUOUS,
    OpcKind.DAMAGED: CORRUPT,
    OpcKind.LIMIT: ARCHIVE_MEMBERS,
}
# Where a problem's label names another threat than its kind: an oleLink asks Office to update
# an object linked from another file (no command runs), and a hover action that opens a link
# outside the file fetches it without a click.
_BY_LABEL: dict[tuple[OpcKind, str], Code] = {
    (OpcKind.DDE, "oleLink"): EXTERNAL_LINK,
    (OpcKind.ACTION, "hover"): EXTERNAL_LINK,
}
_MESSAGES = {OpcKind.XLM: "Excel 4 (XLM) macros", OpcKind.ACTIVEX: "ActiveX control"}
# A field needs one of these elements, whose names XML cannot spell any other way:
# w:fldChar, w:fldSimple, w:instrText, w:delInstrText.
_FIELD_NEEDLES = ("fldChar", "fldSimple", "nstrText")
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_BINARY_LINK = "application/vnd.ms-excel.externallink"


def scan_package(job: Job) -> None:
    """Every finding and child of the OOXML file ``job.item`` (see the module docstring)."""
    with zipfile.ZipFile(io.BytesIO(job.item.data)) as archive:
        _check_limits(job, archive.infolist())
        report = analyse_package(archive)
        for problem in report.problems:
            _problem(job, problem)
        for name in report.vba_parts:
            vba_macros(job, report.package.read(name), name, always=True)
        _word_fields(job, report)
        _binary_links(job, report.package)
        for embedded in report.embedded:
            _embedded(job, embedded)


def _check_limits(job: Job, infos: list[zipfile.ZipInfo]) -> None:
    limits = job.context.limits
    if len(infos) > limits.max_package_parts:
        raise LimitExceeded(ARCHIVE_MEMBERS, f"more than {limits.max_package_parts:,} parts")
    if sum(info.file_size for info in infos) > limits.max_expanded_bytes:
        raise LimitExceeded(ARCHIVE_EXPANSION, "content expands past the byte limit")
    if any(info.flag_bits & 1 for info in infos):
        raise zipfile.BadZipFile("encrypted zip entries")


def _problem(job: Job, problem: OpcProblem) -> None:
    code = _BY_LABEL.get((problem.kind, problem.label)) or _CODES.get(problem.kind)
    if code is None:  # VBA (reported with olevba's notes), and facts that are not threats
        return
    what = _MESSAGES.get(problem.kind, problem.message)
    job.say(
        code, f"{what} in the {job.kind}", label=problem.label or None,
        location=problem.location or None,
    )  # fmt: skip


def _word_fields(job: Job, report: PackageReport) -> None:
    """DDE, EXTERNAL_LINK and AMBIGUOUS for the fields of every WordprocessingML part."""
    for name in report.word_parts:
        data = report.package.read(name)
        if not _may_hold_fields(data):
            continue
        try:
            instructions = field_instructions(data)
        except FieldLimitError as exc:
            message = f"Word fields not fully analysed ({exc}) in the {job.kind}"
            job.say(ARCHIVE_EXPANSION, message, location=name)
            continue
        except ElementTree.ParseError:
            job.say(CORRUPT, f"damaged Word part in the {job.kind}", location=name)
            continue
        for instruction in instructions:
            if instruction.ambiguity:
                message = f"{instruction.ambiguity} in the {job.kind}"
                job.say(AMBIGUOUS, message, label="field", location=name)
            if threat := classify_field(instruction.text):
                job.field_threat(threat, name)


def _may_hold_fields(data: bytes) -> bool:
    """Whether a part can hold a field: its XML must name one of the field elements (only a
    shortcut: a part that does is parsed)."""
    utf16 = data[:2] in _UTF16 or b"\x00" in data[:4]
    codecs = ("utf-16-le", "utf-16-be") if utf16 else ("utf-8",)
    return any(n.encode(codec) in data for n in _FIELD_NEEDLES for codec in codecs)


def _binary_links(job: Job, package: Package) -> None:
    """DDE links of an .xlsb workbook: BrtBeginSupBook records of its binary external-link
    parts (an XML one is read by the OPC reader)."""
    for part in package.parts.values():
        link = part.content_type == _BINARY_LINK or "externallink" in part.short_types
        if (
            link
            and package.parsed(part.name) is None  # binary: an XML one is the reader's
            and _has_dde_supbook(package.read(part.name), part.name)
        ):
            job.say(DDE, f"DDE link in the {job.kind}", location=part.name)


class _Sized(io.BytesIO):
    """A part as oletools' record parser takes it: a stream that knows its size."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.size = len(data)


def _has_dde_supbook(data: bytes, name: str) -> bool:
    records = xls_parser.parse_xlsb_part(_Sized(data), "", name)
    dde = xls_parser.XlsbBeginSupBook.LINK_TYPE_DDE
    return any(isinstance(r, xls_parser.XlsbBeginSupBook) and r.link_type == dde for r in records)


def _embedded(job: Job, embedded: Embedded) -> None:
    """An embedded package or file is content for the pipeline; a compound file follows the
    embedded-object rule."""
    if embedded.kind is EmbeddedKind.OLE:
        compound_object(job, embedded.data, embedded.name)
    else:
        job.child(embedded.name, embedded.data, embedded.imported)
