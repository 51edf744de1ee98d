"""What every engine receives and returns.

An engine is an object with a ``name``, a ``version()`` and a ``scan(item, policy)`` method that
returns a `Result`. Engines keep no per-scan state and are shared across threads; the pipeline
owns deadlines, timeouts and exception capture, so an engine catches only the errors it expects
(a corrupt file, an encrypted one) and turns them into findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from attachguard.codes import FindingCode
from attachguard.report import FileType, Finding

if TYPE_CHECKING:
    from attachguard.policy import Policy


@dataclass(frozen=True)
class Item:
    """One thing to scan: the uploaded file, or something found inside it.

    ``name`` is the file name (or member path) and is only ever used for its extension and in
    messages, never as a path on disk. ``depth`` is 0 for the uploaded file.
    """

    name: str
    data: bytes
    type: FileType
    depth: int = 0

    @property
    def extension(self) -> str:
        dot = self.name.rfind(".")
        return self.name[dot:].lower() if dot > 0 and "/" not in self.name[dot:] else ""


@dataclass(frozen=True)
class Child:
    """Content an engine extracted (a PDF attachment, an Office embedding, a zip member) for the
    pipeline to scan in turn; ``where`` names it inside its parent."""

    where: str
    data: bytes


@dataclass
class Result:
    """An engine's answer: findings, extracted children, and facts for the report."""

    findings: list[Finding] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    name: str

    def version(self) -> str:
        """Engine and signature/model versions, for the report."""
        ...

    def scan(self, item: Item, policy: Policy) -> Result: ...


def finding(engine: str, code: FindingCode, message: str, **extra: Any) -> Finding:
    """Shorthand used by engines."""
    return Finding(engine=engine, code=code, message=message, **extra)
