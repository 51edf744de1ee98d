"""Finding codes: every reason a file can be rejected, each declared once with its two texts.

A code is declared where it is raised: the codes every engine and the pipeline share (a
container nested too deep, a damaged file, an engine that failed) here, an engine's own codes
in its own modules (``POLYGLOT`` in ``engines/polyglot.py``), beside its `EngineSpec`. Third-party
engines declare theirs the same way. The policy refers to codes by name
(``actions: {PDF_JAVASCRIPT: reject}``); `docs/findings.md` is checked against the registry by
the tests, so a code cannot exist without documentation.

``kind`` says what a finding means for the verdict:

- ``threat``: something harmful or disallowed was found;
- ``unscannable``: part of the file could not be fully examined (encrypted, corrupt, over a
  limit, an engine failed or ran out of time); these also fill ``Report.not_scanned``;
- ``info``: worth recording, harmless by itself.

Each code carries a ``summary`` for operators and a ``customer`` text: a plain sentence for the
person who sent the file, with no part names, offsets or signature names.

*Event codes* (``event=True``) are the reasons a FILE_SCANNER event is rejected before any scan
(a malformed event, an object that is not there): always REJECTED, never a policy choice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from attachguard.errors import AttachguardError

Kind = Literal["threat", "unscannable", "info"]


class Action(StrEnum):
    REJECT = "reject"
    ALLOW = "allow"


class CodeError(AttachguardError, ValueError):
    """A code declared twice with different meanings, or looked up but never declared."""


@dataclass(frozen=True)
class Code:
    """A finding code: its kind, its default action and its two texts (see module docstring)."""

    name: str
    kind: Kind
    default: Action
    summary: str
    customer: str = field(compare=False)
    event: bool = False
    supersedes: frozenset[str] = frozenset()
    transient: bool = False

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Code {self.name}>"


_lock = threading.Lock()
_registry: dict[str, Code] = {}


def declare(
    name: str,
    kind: Kind,
    default: Action,
    summary: str,
    customer: str,
    *,
    event: bool = False,
    supersedes: frozenset[str] = frozenset(),
    transient: bool = False,
) -> Code:
    """Register a code (idempotent for the same declaration; a clash is a `CodeError`).
    ``supersedes``: codes that a finding of this one makes moot on the same item (an antivirus
    signature is the story; a type guess about the same bytes is not a second one).
    ``transient``: a finding that depends on the moment (the load, the time left), not on the
    bytes alone; no verdict that carries one is cached."""
    code = Code(name, kind, default, summary, customer, event, supersedes, transient)
    with _lock:
        held = _registry.setdefault(name, code)
    if held != code:
        raise CodeError(f"finding code {name} is declared twice with different meanings")
    return held


def _everything() -> dict[str, Code]:
    """Every code, once every installed engine has declared its own."""
    import attachguard.connect.verdict  # noqa: F401  (declares the event codes)
    from attachguard.registry import load_specs  # engines declare their codes when loaded

    load_specs()
    return _registry


def lookup(name: str) -> Code:
    """The code called ``name``; `CodeError` if no installed engine declares it."""
    code = _registry.get(name) or _everything().get(name)
    if code is None:
        raise CodeError(f"unknown finding code {name!r} (see docs/findings.md)")
    return code


def every() -> list[Code]:
    """Every declared code, by name."""
    return sorted(_everything().values(), key=lambda c: c.name)


class _CodeView(type):
    """``FindingCode.PDF_JAVASCRIPT``, ``FindingCode["MALWARE"]``, ``list(FindingCode)``: the
    registry, read like the enum it replaces."""

    def __getattr__(cls, name: str) -> Code:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return cls[name]
        except CodeError as exc:
            raise AttributeError(str(exc)) from None

    def __getitem__(cls, name: str) -> Code:
        return lookup(name)

    def __iter__(cls) -> Iterator[Code]:
        return iter(every())

    def __contains__(cls, name: object) -> bool:
        return isinstance(name, str) and name in _everything()


class FindingCode(metaclass=_CodeView):
    """Every declared code by name (see `_CodeView`); engines use their own module constants."""


_UNSCANNED = "We couldn't fully check this file, so it wasn't shared."
_NOT_ALLOWED = "This file type can't be shared in chat."
_ACTIVE = "This document contains active content, such as macros, and can't be shared."

# Shared by the pipeline and several engines.
TOO_LARGE = declare(
    "TOO_LARGE",
    "unscannable",
    Action.REJECT,
    "file is larger than the policy's size limit",
    "This file is too large to share in chat.",
)
EMPTY_FILE = declare(
    "EMPTY_FILE", "info", Action.ALLOW, "file has no content", "This file is empty."
)
ARCHIVE_DEPTH = declare(
    "ARCHIVE_DEPTH",
    "unscannable",
    Action.REJECT,
    "containers nested deeper than allowed",
    "This file holds files nested too deeply for us to check, so it wasn't shared.",
)
ARCHIVE_MEMBERS = declare(
    "ARCHIVE_MEMBERS",
    "unscannable",
    Action.REJECT,
    "container holds too many members",
    "This file holds too many items for us to check, so it wasn't shared.",
)
ARCHIVE_EXPANSION = declare(
    "ARCHIVE_EXPANSION",
    "unscannable",
    Action.REJECT,
    "content expands past the byte limit",
    "This file unpacks to more data than we can check, so it wasn't shared.",
)
ARCHIVE_RATIO = declare(
    "ARCHIVE_RATIO",
    "unscannable",
    Action.REJECT,
    "compression ratio typical of a zip bomb",
    "This file is compressed in a way that is often used to attack systems, so it wasn't shared.",
)
IMAGE_BOMB = declare(
    "IMAGE_BOMB",
    "unscannable",
    Action.REJECT,
    "image has more pixels than allowed",
    "This picture is too large for us to check, so it wasn't shared.",
)
ENCRYPTED = declare(
    "ENCRYPTED",
    "unscannable",
    Action.REJECT,
    "encrypted or password protected",
    "This file is password protected, so we couldn't check it. Please send it without a password.",
)
# The fact (a `Result.facts` key) by which an engine says that it opened an encrypted item
# without a password and handed its content on decrypted, as the child the fact names: every
# engine scans that child, so ENCRYPTED about the item itself (an antivirus that could not
# decrypt it: clamd misreads some PDF encryption dictionaries) is moot.
DECRYPTED = "decrypted"
CORRUPT = declare(
    "CORRUPT",
    "unscannable",
    Action.REJECT,
    "damaged or unparseable file",
    "This file seems to be damaged, so we couldn't check it.",
)
AMBIGUOUS = declare(
    "AMBIGUOUS",
    "threat",
    Action.REJECT,
    "built so that different programs could read different content",
    "This file is built in an unusual way that could hide content, so it wasn't shared.",
)
TYPE_MISMATCH = declare(
    "TYPE_MISMATCH",
    "threat",
    Action.REJECT,
    "content does not match the file extension",
    "This file's content doesn't match its name, so it wasn't shared.",
)
EXECUTABLE = declare(
    "EXECUTABLE", "threat", Action.REJECT, "executable program", "Programs can't be shared in chat."
)
SCRIPT = declare(
    "SCRIPT",
    "threat",
    Action.REJECT,
    "script or active markup (HTML, SVG, JavaScript...)",
    "This file contains code that could run on your device, so it can't be shared.",
)
ARCHIVE = declare(
    "ARCHIVE", "threat", Action.REJECT, "archive type that is not on the allow-list", _NOT_ALLOWED
)
MALWARE = declare(
    "MALWARE",
    "threat",
    Action.REJECT,
    "matched an antivirus signature",
    "This file contains a known virus or harmful content, so it wasn't shared.",
    # EICAR in a .txt is malware, not "a PowerShell script disguised as a .txt file"
    supersedes=frozenset({"SCRIPT", "TYPE_MISMATCH"}),
)
VBA_MACRO = declare(
    "VBA_MACRO", "threat", Action.REJECT, "Office document with VBA macros", _ACTIVE
)
XLM_MACRO = declare("XLM_MACRO", "threat", Action.REJECT, "Excel 4 (XLM) macros", _ACTIVE)
DDE = declare("DDE", "threat", Action.REJECT, "DDE field or formula that can run commands", _ACTIVE)
OLE_OBJECT = declare(
    "OLE_OBJECT",
    "threat",
    Action.REJECT,
    "embedded OLE object, package or ActiveX control",
    "This document has another file or program embedded in it, so it can't be shared.",
)
EXTERNAL_LINK = declare(
    "EXTERNAL_LINK",
    "threat",
    Action.REJECT,
    "content loaded from outside the file (remote template, linked object or picture), or a "
    "link that sends the reader's credentials to another computer",
    "This document loads content from the internet or another computer, or links to a file on "
    "another computer, so it can't be shared.",
)
ENGINE_ERROR = declare(
    "ENGINE_ERROR",
    "unscannable",
    Action.REJECT,
    "a scanning engine failed",
    _UNSCANNED,
    transient=True,
)
ENGINE_TIMEOUT = declare(
    "ENGINE_TIMEOUT",
    "unscannable",
    Action.REJECT,
    "a scanning engine ran out of time",
    _UNSCANNED,
    transient=True,
)
