"""The one result shape: ``Finding`` from every engine, ``Report`` for every entry point.

The JSON form (``Report.to_dict``) is documented in `docs/report.md` and versioned by
``SCHEMA_VERSION``; fields are only ever added within a version.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from attachguard.codes import Action, Code

SCHEMA_VERSION = 1


class Status(StrEnum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class FileType:
    """What the content really is (Magika's label, MIME type and group; ``score`` 0..1)."""

    label: str
    mime: str
    group: str
    is_text: bool = False
    score: float = 0.0


# Locations that name a place within one file rather than a member of a container.
_POSITIONS = ("offset ", "row ", "line ", "page ", "object ", "hidden object ", "catalog")

UNKNOWN_TYPE = FileType("unknown", "application/octet-stream", "unknown")


def size_text(size: int) -> str:
    """A size as people read it, in the policy's units (1 MB = 1,000,000 bytes, as Connect's
    attachment limit is written): "25.3 MB", "512 KB", "300 bytes"."""
    for unit, scale in (("GB", 1000**3), ("MB", 1000**2), ("KB", 1000)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}".replace(".0 ", " ")
    return f"{size:,} bytes"


@dataclass(frozen=True)
class Finding:
    """One thing an engine saw. ``location`` names where inside the file (archive member path,
    PDF object, page); ``label``/``confidence`` carry a signature or moderation label."""

    engine: str
    code: Code
    message: str
    label: str | None = None
    confidence: float | None = None
    location: str | None = None
    count: int = 1
    more: tuple[str, ...] = ()

    def nested(self, where: str) -> Finding:
        """The same finding, seen from the container that holds the item at ``where``."""
        inner = f"{where}/{self.location}" if self.location else where
        more = tuple(f"{where}/{m}" for m in self.more)
        return replace(self, location=inner, more=more)

    def describe(self) -> str:
        """The message with its location, as a support lead would read it: "... inside
        word/media/x.bin" for a container member, "... at page 2" for a place in the file."""
        if not self.location:
            return self.message
        more = f" (and {self.count - 1:,} more like it)" if self.count > 1 else ""
        return self._placed(self.location) + more

    def _placed(self, location: str) -> str:
        container, _, last = location.rpartition("/")
        if not last.startswith(_POSITIONS):
            return f"{self.message} inside {location}"
        text = f"{self.message} at {last}"
        return f"{text} inside {container}" if container else text

    def to_dict(self, action: Action) -> dict[str, Any]:
        out: dict[str, Any] = {
            "engine": self.engine,
            "code": self.code.name,
            "kind": self.code.kind,
            "action": action.value,
            "message": self.message,
        }
        for key in ("label", "confidence", "location"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.count > 1:
            out["count"] = self.count
            out["more_locations"] = list(self.more)
        return out


@dataclass
class Report:
    """The verdict on one file and everything that led to it."""

    file: str
    size: int
    sha256: str
    type: FileType
    status: Status
    findings: list[Finding]
    actions: dict[Code, Action]
    timings_ms: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    cached: bool = False  # the verdict came from a verdict cache (`attachguard.cache`)

    @property
    def rejecting(self) -> list[Finding]:
        """The findings that made the file REJECTED (empty when approved): the one answer to
        "what rejected this file" for every entry point."""
        return [f for f in self.findings if self.actions[f.code] is Action.REJECT]

    @property
    def rejecting_codes(self) -> list[str]:
        """The codes of `rejecting`, each once, sorted (for metrics and logs)."""
        return sorted({f.code.name for f in self.rejecting})

    @property
    def reasons(self) -> list[str]:
        """Why the file was rejected, in words for operators (empty when approved)."""
        return [f.describe() for f in self.rejecting]

    @property
    def customer_reasons(self) -> list[str]:
        """Why the file was rejected, in plain words for the person who sent it: each code's
        customer text once, never a location, offset or signature name."""
        return list(dict.fromkeys(f.code.customer for f in self.rejecting))

    @property
    def not_scanned(self) -> list[dict[str, str]]:
        """What could not be fully examined, and why."""
        return [
            {"location": f.location or self.file, "reason": f.describe()}
            for f in self.findings
            if f.code.kind == "unscannable"
        ]

    @property
    def approved(self) -> bool:
        return self.status is Status.APPROVED

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "file": self.file,
            "status": self.status.value,
            "reasons": self.reasons,
            "customer_reasons": self.customer_reasons,
            "size": self.size,
            "sha256": self.sha256,
            "type": {
                "label": self.type.label,
                "mime": self.type.mime,
                "group": self.type.group,
                "score": round(self.type.score, 4),
            },
            "findings": [f.to_dict(self.actions[f.code]) for f in self.findings],
            "not_scanned": self.not_scanned,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "versions": self.versions,
            "facts": self.facts,
            "cached": self.cached,
        }
