"""What the office engine's readers share: the engine's name and its own finding code, one scan's
`Job` (the item, the limits, the findings and children so far), the errors damaged input makes
the parsers raise, and the VBA verdict (oletools' olevba) used for both OLE and OOXML files."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

import olefile  # type: ignore[import-untyped]
from msoffcrypto.exceptions import ParseError
from oletools import olevba

from attachguard.codes import (
    ARCHIVE_EXPANSION,
    DDE,
    EXTERNAL_LINK,
    VBA_MACRO,
    Action,
    Code,
    declare,
)
from attachguard.engines.base import Child, Context, Item, Result, finding
from attachguard.engines.embedded import add_child
from attachguard.errors import LimitExceeded
from attachguard.formats.vba import code_free
from attachguard.formats.wordfields import FieldThreat, ThreatKind

NAME = "office"

OFFICE_ACTION = declare(
    "OFFICE_ACTION",
    "threat",
    Action.REJECT,
    "PowerPoint action setting that starts a program, runs a macro or an embedded object on "
    "click or mouse-over",
    "This presentation can start programs when something in it is clicked or pointed at, so "
    "it can't be shared.",
)

VBA_WITHOUT_CODE = declare(
    "VBA_WITHOUT_CODE",
    "info",
    Action.ALLOW,
    "Office document with a VBA project that holds no code (only the hidden attributes Excel "
    "keeps once the editor was opened)",
    "This document carries a macro project, which can't be shared in chat.",
)

_KINDS = {
    "doc": "Word document",
    "docx": "Word document",
    "xls": "Excel workbook",
    "xlsx": "Excel workbook",
    "xlsb": "Excel workbook",
    "rtf": "RTF document",
    "ppt": "PowerPoint presentation",
    "pptx": "PowerPoint presentation",
}

_FIELD_CODES = {ThreatKind.DDE: DDE, ThreatKind.EXTERNAL_LINK: EXTERNAL_LINK}
_FIELD_WORDS = {
    ThreatKind.DDE: "field that can run a command",
    ThreatKind.EXTERNAL_LINK: "field that loads a file from outside the document",
}

# What damaged or hostile input makes the parsers raise (olefile raises OSError subclasses, and
# OverflowError on an absurd sector shift).
DAMAGED = (OSError, ValueError, EOFError, LookupError, AssertionError, NotImplementedError,
           struct.error, zlib.error, zipfile.BadZipFile, ElementTree.ParseError, expat.ExpatError,
           olevba.OlevbaBaseException, ParseError, RecursionError, OverflowError)  # fmt: skip


@dataclass
class Job:
    """One scan of one item: what is scanned, under which limits, and what was found so far."""

    item: Item
    context: Context
    result: Result = field(default_factory=Result)
    engine: str = NAME  # the engine the findings are from (rtf, for an RTF's objects)

    @property
    def kind(self) -> str:
        """The document in words, for messages: "Word document"."""
        return _KINDS.get(self.item.type.label, "Office document")

    def say(self, code: Code, message: str, **extra: Any) -> None:
        self.result.findings.append(finding(self.engine, code, message, **extra))

    def field_threat(self, threat: FieldThreat, where: str | None = None) -> None:
        """The finding for a Word field `wordfields.classify_field` judged dangerous (a .docx
        part's field or a .doc's: one rule for both)."""
        # The field's type is one of the few the classifier knows; its text is file content and
        # stays out of the message.
        message = f"{threat.field} {_FIELD_WORDS[threat.kind]} in the {self.kind}"
        self.say(_FIELD_CODES[threat.kind], message, label=threat.field, location=where)

    def said(self, code: Code) -> bool:
        return any(f.code is code for f in self.result.findings)

    def child(self, where: str, data: bytes, imported: bool = False, named: bool = False) -> bool:
        """Hand ``data`` to the pipeline (``imported``, ``named``: see `Child`); False once a
        limit stops it (said once)."""
        child = Child(where, data, imported, named)
        return add_child(self.result, child, self.context, self.engine)

    def budget(self) -> int:
        """Bytes still allowed to be extracted in this item."""
        spent = sum(len(c.data) for c in self.result.children)
        return self.context.limits.max_expanded_bytes - spent


def open_ole(data: bytes, budget: int) -> Any:
    """An OLE file whose streams, as declared, fit in ``budget`` bytes (chained sectors can
    make a small file declare far more than its size). Always from a BytesIO: olefile takes
    short bytes for a file name to open."""
    ole = olefile.OleFileIO(io.BytesIO(data))
    if sum(ole.get_size(p) for p in ole.listdir()) > budget:
        ole.close()
        raise LimitExceeded(ARCHIVE_EXPANSION, "content expands past the byte limit")
    return ole


def vba_macros(job: Job, data: bytes, where: str | None = None, always: bool = False) -> None:
    """VBA_MACRO when olevba finds a VBA project in ``data`` (an OLE file or a vbaProject part),
    saying whether it runs by itself or uses suspicious commands; VBA_WITHOUT_CODE for a
    project with no code in its source or its p-code (`formats.vba`). ``always``: the caller
    already knows there is a project (an OOXML part of that type), so a project olevba cannot
    read still counts, without the notes."""
    try:
        project = _vba_project(data, where or job.item.name)
    except DAMAGED:
        if not always:
            raise
        project = _Project()
    if project is None:
        if not always:
            return
        project = _Project()
    if not project.code:
        job.say(VBA_WITHOUT_CODE, f"VBA project without code in the {job.kind}", location=where)
        return
    message = f"macro-enabled {job.kind}"
    if project.notes:
        message += f" (the macros {' and '.join(project.notes)})"
    job.say(VBA_MACRO, message, location=where)


@dataclass(frozen=True)
class _Project:
    """What olevba says of a VBA project: whether it holds code, and the notes on it."""

    notes: tuple[str, ...] = ()
    code: bool = True


def _vba_project(data: bytes, name: str) -> _Project | None:
    """The VBA project in ``data`` as olevba reads it; None when it finds none."""
    parser = olevba.VBA_Parser(filename=name, data=data, disable_pcode=True)
    try:
        if not parser.detect_vba_macros():
            return None
        if code_free(parser):
            return _Project(code=False)
        seen = {kw_type for kw_type, _, _ in parser.analyze_macros() or ()}
        return _Project(tuple(note for word, note in _NOTES if word in seen))
    finally:
        parser.close()


_NOTES = (("AutoExec", "run automatically"), ("Suspicious", "use suspicious commands"))
