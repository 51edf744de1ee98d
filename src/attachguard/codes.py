"""The registry of finding codes: every code an engine may report, declared once.

Engines report ``FindingCode`` members, never bare strings; the policy refers to codes by name
(``actions: {PDF_JAVASCRIPT: reject}``), and `docs/findings.md` is checked against this table by
the tests, so a code cannot exist without documentation.

``kind`` says what a finding means for the verdict:

- ``threat``: something harmful or disallowed was found;
- ``unscannable``: part of the file could not be fully examined (encrypted, corrupt, over a
  limit, an engine failed or ran out of time); these also fill ``Report.not_scanned``;
- ``info``: worth recording, harmless by itself.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Literal

Kind = Literal["threat", "unscannable", "info"]


class Action(StrEnum):
    REJECT = "reject"
    ALLOW = "allow"


class FindingCode(Enum):
    """A finding code: its kind, its default action and a one-line summary."""

    TOO_LARGE = ("unscannable", Action.REJECT, "file is larger than the policy's size limit")
    EMPTY_FILE = ("info", Action.ALLOW, "file has no content")
    ARCHIVE_DEPTH = ("unscannable", Action.REJECT, "containers nested deeper than allowed")
    ARCHIVE_MEMBERS = ("unscannable", Action.REJECT, "container holds too many members")
    ARCHIVE_EXPANSION = ("unscannable", Action.REJECT, "content expands past the byte limit")
    ARCHIVE_RATIO = ("unscannable", Action.REJECT, "compression ratio typical of a zip bomb")
    IMAGE_BOMB = ("unscannable", Action.REJECT, "image has more pixels than allowed")
    EXTENSION_NOT_ALLOWED = ("threat", Action.REJECT, "file extension is not on the allow-list")
    TYPE_MISMATCH = ("threat", Action.REJECT, "content does not match the file extension")
    EXECUTABLE = ("threat", Action.REJECT, "executable program")
    SCRIPT = ("threat", Action.REJECT, "script or active markup (HTML, SVG, JavaScript...)")
    ARCHIVE = ("threat", Action.REJECT, "archive type that is not on the allow-list")
    POLYGLOT = ("threat", Action.REJECT, "data hidden after the end of an image or PDF")
    MALWARE = ("threat", Action.REJECT, "matched an antivirus signature")
    AV_LIMIT = ("unscannable", Action.REJECT, "antivirus stopped at one of its own limits")
    ENCRYPTED = ("unscannable", Action.REJECT, "encrypted or password protected")
    CORRUPT = ("unscannable", Action.REJECT, "damaged or unparseable file")
    VBA_MACRO = ("threat", Action.REJECT, "Office document with VBA macros")
    XLM_MACRO = ("threat", Action.REJECT, "Excel 4 (XLM) macros")
    DDE = ("threat", Action.REJECT, "DDE field that can run commands")
    OLE_OBJECT = ("threat", Action.REJECT, "embedded OLE object or package")
    EXTERNAL_LINK = ("threat", Action.REJECT, "external link or remote template")
    PDF_JAVASCRIPT = ("threat", Action.REJECT, "PDF with JavaScript")
    PDF_AUTO_ACTION = ("threat", Action.REJECT, "PDF action that runs on open or on events")
    PDF_LAUNCH = ("threat", Action.REJECT, "PDF Launch action (starts a program)")
    PDF_EMBEDDED_FILE = ("info", Action.ALLOW, "PDF carries an attached file (scanned too)")
    PDF_XFA = ("threat", Action.REJECT, "PDF with an XFA form")
    PDF_RICHMEDIA = ("threat", Action.REJECT, "PDF with RichMedia (Flash/3D) content")
    MODERATION = ("threat", Action.REJECT, "image shows content the policy blocks")
    MODERATION_LIMIT = (
        "unscannable",
        Action.REJECT,
        "more embedded images than the policy has moderated",
    )
    FORMULA_INJECTION = ("threat", Action.REJECT, "spreadsheet formula or DDE injection")
    ENGINE_ERROR = ("unscannable", Action.REJECT, "a scanning engine failed")
    ENGINE_TIMEOUT = ("unscannable", Action.REJECT, "a scanning engine ran out of time")

    @property
    def kind(self) -> Kind:
        kind: Kind = self.value[0]
        return kind

    @property
    def default(self) -> Action:
        action: Action = self.value[1]
        return action

    @property
    def summary(self) -> str:
        summary: str = self.value[2]
        return summary
