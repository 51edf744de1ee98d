"""What every engine declares, receives and returns.

An engine module declares itself once, with an `EngineSpec` registered under the entry-point
group ``attachguard.engines`` (see CONTRIBUTING.md): its name, the detected types it scans, the
finding codes it may report, its options (a pydantic model the policy mounts under
``engines.<name>:``), an optional per-scan cost cap, and how to build it. Routing, policy
validation, ``policy show`` and the docs checks all derive from these declarations.

A built engine has a ``version()`` and a ``scan(item, context)`` that returns a `Result`. It
holds its own options (never the whole policy) and no per-scan state, and is shared across
threads; the pipeline owns deadlines, timeouts and exception capture, so an engine catches only
the errors it expects (a corrupt file, an encrypted one) and turns them into findings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from attachguard.codes import Code
from attachguard.report import FileType, Finding

if TYPE_CHECKING:
    from attachguard.clamav.client import ClamdClient
    from attachguard.moderation import ModerationBackend
    from attachguard.policy import Limits


@dataclass(frozen=True)
class Item:
    """One thing to scan: the uploaded file, or something found inside it.

    ``name`` is the file name (or member path) and is only ever used for its extension and in
    messages, never as a path on disk. ``depth`` is 0 for the uploaded file. ``imported``:
    content its parent's application imports into the document (`Child.imported`); ``named``:
    a file its parent hands to Windows to open by its name (`Child.named`).
    """

    name: str
    data: bytes
    type: FileType
    depth: int = 0
    imported: bool = False
    named: bool = False

    @property
    def extension(self) -> str:
        dot = self.name.rfind(".")
        return self.name[dot:].lower() if dot > 0 and "/" not in self.name[dot:] else ""


@dataclass(frozen=True)
class Child:
    """Content an engine extracted (a PDF attachment, an Office embedding, a zip member) for the
    pipeline to scan in turn; ``where`` names it inside its parent. ``imported``: content the
    parent's application converts into the document as it opens it (a Word ``altChunk``: a web
    page, RTF, text), never opened as a file of its own, so no script in it runs. ``named``: a
    file the parent's application writes out and has Windows open by the extension of
    ``where`` (the file in an OLE package): judged as an upload is, its name against its
    content."""

    where: str
    data: bytes
    imported: bool = False
    named: bool = False


@dataclass
class Result:
    """An engine's answer: findings, extracted children, and facts for the report;
    ``timings_ms``: parts of its own time worth showing apart (the sensitive engine's OCR), in
    the report's timings as ``<engine>.<part>``."""

    findings: list[Finding] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What one scan of one item shares with every engine: the policy's allow-list and
    unpacking limits, the kinds of children some active engine wants extracted, with how many
    it will look at (``pictures``: images drawn in documents, for moderation), the engine's
    deadline (`time.monotonic`) and ``depth_left``: how many more levels of containers the
    pipeline opens below this item (0: children would only be reported as ARCHIVE_DEPTH, so an
    engine need not unpack them). ``optional_until``: when work the verdict can do without
    (OCR: a picture left unread is SENSITIVE_LIMIT, allowed) stops for the whole scan, so that
    the engines that decide keep the rest of its time."""

    limits: Limits
    allowed_extensions: frozenset[str] = frozenset()
    wants: Mapping[str, int] = field(default_factory=dict)
    deadline: float = float("inf")
    depth_left: int = 10**9  # containers the pipeline will still open below this item
    optional_until: float = float("inf")


class Options(BaseModel):
    """Base of every engine's options: unknown keys are errors that name the key."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Engine(Protocol):
    name: str

    def version(self) -> str:
        """Engine and signature/model versions, for the report."""
        ...

    def scan(self, item: Item, context: Context) -> Result: ...


@dataclass(frozen=True)
class Resources:
    """What an entry point lends the engines it builds: a clamd client (None: no malware
    engine) and a moderation backend that replaces the one the options name."""

    clamd: ClamdClient | None = None
    moderation: ModerationBackend | None = None


@dataclass(frozen=True)
class Cap:
    """A per-scan cost cap: at most ``limit(options)`` items below the top level reach the
    engine in one scan (each may cost a paid API call); past it each is reported as ``code``.
    ``labels``: when set, only nested items of these detected types count (and are held back)."""

    limit: Callable[[Any], int]
    code: Code
    what: str = "items"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineSpec:
    """An engine's one declaration (see the module docstring).

    ``types`` are what the file-type engine detects: a Magika label (``pdf``), ``group:<name>``
    for a Magika group when the label itself is routed to no engine, ``text:*`` for any text
    content routed nowhere else, or ``*`` for every item. ``build(options, resources)`` returns
    the engine, or None when it cannot run here (a missing clamd: the pipeline then reports
    ENGINE_ERROR unless the policy disables the engine). ``active(options)`` False switches it
    off by configuration (moderation with ``backend: none``). ``wants`` names the children it
    needs other engines to extract; ``order`` sorts engines within a scan. ``reaches(engine,
    parent, children)``: the children this (built) engine already looked at inside their parent
    (clamd unpacks zip members itself); the pipeline gives it those only when it found
    something in the parent (to say where), never a second time for a clean parent."""

    name: str
    summary: str
    types: tuple[str, ...]
    codes: tuple[Code, ...]
    build: Callable[[Any, Resources], Engine | None]
    options: type[Options] = Options
    active: Callable[[Any], bool] = lambda options: True
    cap: Cap | None = None
    wants: frozenset[str] = frozenset()
    order: int = 50
    reaches: Callable[[Any, Item, list[Child]], frozenset[Child]] | None = None


def finding(engine: str, code: Code, message: str, **extra: Any) -> Finding:
    """Shorthand used by engines."""
    return Finding(engine=engine, code=code, message=message, **extra)
