"""Office engine: Word, Excel and PowerPoint files, old (OLE) and new (OOXML), read the way Word,
Excel and PowerPoint read them.

Finds VBA_MACRO (saying whether the macros run by themselves or use suspicious commands),
XLM_MACRO (Excel 4 macro sheets), DDE (DDE fields, DDE links, formulas that start a program),
OLE_OBJECT (OLE packages, ActiveX controls, objects of exploited or unknown classes: see
`office_objects` for the rule), EXTERNAL_LINK (relationships of any type that make Office fetch
something from outside the file, Word fields that load a file, OLE links, links to outside
workbooks), OFFICE_ACTION (PowerPoint action settings that start a program, a macro or an
object), ENCRYPTED (a file
encrypted with Excel's built-in default password, which Excel opens without asking, is decrypted
and handed back as a child instead), EXECUTABLE (a Windows installer posing as a document),
TYPE_MISMATCH (a compound file that is not what its extension promises), AMBIGUOUS and CORRUPT.

OOXML files go through the OPC package reader (`office_ooxml`), legacy and encrypted files
through the compound-file reader (`office_ole`). What each calls ambiguous is in its docstring.
Embedded Office documents (a chart's workbook, an embedded worksheet) and the payloads of
embedded objects are returned as children, so that every engine scans them.

Limits: before any library reads a zip or OLE container, its member count and declared expanded
size are checked against ``context.limits``; extracted children are capped at ``max_members``
items and ``max_expanded_bytes`` bytes; the readers cap relationships, directory entries, records
and Word fields. Going past a limit is a finding (ARCHIVE_MEMBERS for too many relationships or
entries, ARCHIVE_EXPANSION for bytes and for Word fields past the field analysis' caps).
"""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import version

import olefile  # type: ignore[import-untyped]

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    CORRUPT,
    DDE,
    ENCRYPTED,
    EXECUTABLE,
    EXTERNAL_LINK,
    OLE_OBJECT,
    TYPE_MISMATCH,
    VBA_MACRO,
    XLM_MACRO,
)
from attachguard.engines.base import Context, EngineSpec, Item, Options, Result
from attachguard.engines.office_ole import scan_compound
from attachguard.engines.office_ooxml import scan_package
from attachguard.engines.office_shared import DAMAGED, NAME, OFFICE_ACTION, VBA_WITHOUT_CODE, Job
from attachguard.errors import LimitExceeded
from attachguard.formats.ole import with_difat_ended

__all__ = ["ENGINE", "NAME", "OFFICE_ACTION", "OfficeEngine"]

# The file-type engine labels compound files by their streams: "encrypted_office" (an encrypted
# OOXML file), "compound" (no Office document: an object or an unknown kind, named .doc or found
# in an archive); "thumbsdb" is Magika's label for one olefile cannot read.
_TYPES = ("doc", "xls", "ppt", "docx", "xlsx", "pptx", "xlsb", "encrypted_office", "compound",
          "thumbsdb")  # fmt: skip


class OfficeEngine:
    """Macros, DDE, embedded objects, external links, actions and encryption in Office files."""

    name = NAME

    def __init__(self) -> None:
        # looked up once: reading package metadata costs about 1 ms, and reports ask every scan
        self._version = (
            f"oletools {version('oletools')}, msoffcrypto-tool {version('msoffcrypto-tool')}"
        )

    def version(self) -> str:
        return self._version

    def scan(self, item: Item, context: Context) -> Result:
        job = Job(item, context)
        try:
            if item.data[:8] == olefile.MAGIC:
                job.item = replace(item, data=with_difat_ended(item.data))  # as Excel reads it
                scan_compound(job)
            else:
                scan_package(job)
        except LimitExceeded as exc:
            job.say(exc.code, f"{job.kind} not fully analysed: {exc}")
        except DAMAGED:
            job.say(CORRUPT, f"damaged {job.kind}")
        return job.result


ENGINE = EngineSpec(
    name=NAME,
    summary="Office macros (VBA, XLM), DDE, embedded objects, external links, PowerPoint "
    "actions, encryption (OPC and compound-file readers, oletools, msoffcrypto-tool)",
    types=_TYPES,
    codes=(
        VBA_MACRO,
        VBA_WITHOUT_CODE,
        XLM_MACRO,
        DDE,
        OLE_OBJECT,
        EXTERNAL_LINK,
        OFFICE_ACTION,
        ENCRYPTED,
        EXECUTABLE,
        TYPE_MISMATCH,
        AMBIGUOUS,
        CORRUPT,
        ARCHIVE_MEMBERS,
        ARCHIVE_EXPANSION,
    ),
    build=lambda options, resources: OfficeEngine(),
    options=Options,
    order=30,
)
