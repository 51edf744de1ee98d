"""A verdict cache: the same bytes, uploaded under the same extension, scanned before with the
same policy, engine versions, signatures and attachguard code, get the same verdict again
without being scanned.

`CachedScanner` wraps a `Scanner` from outside (the pipeline knows nothing of it) and stores
verdicts in a `VerdictStore`: `LruCache` in memory (a warm Lambda), `FolderCache` on disk
(``attachguard scan --cache DIR``, in `attachguard.cache_folder`), the service's database
(`attachguard.service.verdict_cache`), DynamoDB for the Lambda (`attachguard.connect.
dynamo_cache`, behind an `LruCache` through `Tiered`).

The key (`cache_key`) is a SHA-256 over everything a verdict depends on:

- the file's SHA-256;
- its extension, lower-cased as the engines read it (`Item.extension`): the same bytes are
  APPROVED as ``photo.jpg`` and REJECTED as ``photo.exe`` or ``photo.pdf``; nothing else of the
  name reaches a verdict, so a cached report is returned under the new upload's name;
- the policy (`policy_digest`: a hash of its full YAML form, every code's action included);
- every engine's version (`Scanner.versions`), which for clamav holds the signature database's
  version and date: a signature update is a miss (seen within a minute: the clamd client keeps
  a VERSION answer that long, and at once after ``RELOAD`` through that client);
- attachguard's own code (`code_digest`: a hash of the package's source), so that a fix to an
  engine takes effect on files seen before it.

What is never stored: a verdict that depended on the moment rather than the bytes (an engine
that failed or ran out of time, clamd's own scan-time limit), and a verdict made while a
version changed under the scan. Limits: a signature set without a version (the generated test
set, loose ``.ndb``/``.hdb`` files) changes nothing in clamd's VERSION answer, so the key cannot
see it change: clear the cache when such a set changes. Whoever can write to a cache folder can
approve files: keep it private to the scanner's user (it is created with mode 0700).

A hit costs a SHA-256 of the bytes, the key and one small JSON read: under 1 ms for files up to
a few hundred KB (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import attachguard
from attachguard.codes import CodeError, lookup
from attachguard.engines.base import Item
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import UNKNOWN_TYPE, FileType, Finding, Report

__all__ = [
    "CachedScanner",
    "LruCache",
    "Tiered",
    "VerdictStore",
    "cache_key",
    "code_digest",
    "extension_of",
    "policy_digest",
]

FORMAT = 1  # of a stored entry; part of the key, so a new format simply misses

# Verdicts that depend on the moment (load, a clamd restart), not on the bytes: a finding whose
# code is declared transient (an engine's failure or timeout, the sensitive engine's limits),
# or clamd's own scan-time limit.
_TRANSIENT_LABELS = ("Heuristics.Limits.Exceeded.MaxScanTime",)


class VerdictStore(Protocol):
    """Where verdicts are kept: JSON text by key (a 64-character hex string). ``get`` answers
    None for a miss; neither method may raise for a store problem (a cache never fails a scan)."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, entry: str) -> None: ...


class LruCache:
    """Verdicts in memory, at most ``max_entries`` (the least recently used go first);
    thread-safe. An entry is one report's JSON, typically 1-3 KB."""

    def __init__(self, max_entries: int = 1024) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: str) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class Tiered:
    """A fast store in front of a slower shared one (a Lambda's memory before DynamoDB): a
    hit in ``shared`` is copied to ``near``; a verdict is written to both."""

    def __init__(self, near: VerdictStore, shared: VerdictStore) -> None:
        self.near = near
        self.shared = shared

    def get(self, key: str) -> str | None:
        entry = self.near.get(key)
        if entry is None:
            entry = self.shared.get(key)
            if entry is not None:
                self.near.put(key, entry)
        return entry

    def put(self, key: str, entry: str) -> None:
        self.near.put(key, entry)
        self.shared.put(key, entry)


@functools.cache
def code_digest() -> str:
    """A hash of attachguard's installed source (every .py, .yaml and .conf file of the
    package), computed once per process: about 10 ms for 100 files, 0.7 MB."""
    root = Path(attachguard.__file__).parent
    digest = hashlib.sha256(attachguard.__version__.encode())
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".conf") and path.is_file():
            data = path.read_bytes()
            digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def policy_digest(policy: Policy) -> str:
    """A stable hash of everything in the policy (its full YAML form: every code's action,
    every engine's options with their defaults)."""
    return hashlib.sha256(policy.to_yaml().encode()).hexdigest()


def extension_of(name: str) -> str:
    """The extension as the engines read it (`Item.extension`: lower-cased, "" for none)."""
    return Item(name, b"", UNKNOWN_TYPE).extension


def cache_key(sha256: str, extension: str, policy: str, versions: Mapping[str, str]) -> str:
    """The key of a verdict (see the module docstring): a SHA-256 in hex."""
    material = {
        "format": FORMAT,
        "code": code_digest(),
        "sha256": sha256,
        "extension": extension,
        "policy": policy,
        "versions": dict(sorted(versions.items())),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def storable(report: Report) -> bool:
    """False when the verdict depended on the moment (a transient code, see `codes.declare`)."""
    return not any(
        f.code.transient or (f.label or "").startswith(_TRANSIENT_LABELS) for f in report.findings
    )


def entry_of(report: Report, extension: str) -> str | None:
    """A report as stored: its name-independent part, as JSON text (None when the facts an
    engine gave cannot be written as JSON)."""
    entry = {
        "format": FORMAT,
        "sha256": report.sha256,
        "extension": extension,
        "size": report.size,
        "type": asdict(report.type),
        "findings": [_finding_entry(f) for f in report.findings],
        "facts": report.facts,
    }
    try:
        return json.dumps(entry, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None


def _finding_entry(f: Finding) -> dict[str, Any]:
    return {
        "engine": f.engine,
        "code": f.code.name,
        "message": f.message,
        "label": f.label,
        "confidence": f.confidence,
        "location": f.location,
        "count": f.count,
        "more": list(f.more),
    }


@dataclass(frozen=True)
class Stored:
    """The name-independent part of a stored report."""

    size: int
    type: FileType
    findings: list[Finding]
    facts: dict[str, Any]


def stored(text: str, sha256: str, extension: str) -> Stored | None:
    """A stored entry read back (codes looked up, type rebuilt), or None when it is
    unreadable, of another format, or not about these bytes under this extension."""
    try:
        entry = json.loads(text)
        if (entry["format"], entry["sha256"], entry["extension"]) != (FORMAT, sha256, extension):
            return None
        findings = [_finding_of(f) for f in entry["findings"]]
        return Stored(int(entry["size"]), FileType(**entry["type"]), findings, entry["facts"])
    except (ValueError, TypeError, KeyError, CodeError):
        return None


def _finding_of(f: dict[str, Any]) -> Finding:
    return Finding(
        engine=f["engine"],
        code=lookup(f["code"]),
        message=f["message"],
        label=f["label"],
        confidence=f["confidence"],
        location=f["location"],
        count=int(f["count"]),
        more=tuple(f["more"]),
    )


class CachedScanner:
    """A `Scanner` whose verdicts are kept in ``store`` and reused for the same bytes under the
    same extension, policy, engine versions and code. Thread-safe when the store is. Offers
    what entry points use of a scanner: ``policy``, `scan`, `scan_path`, `versions`."""

    def __init__(self, scanner: Scanner, store: VerdictStore) -> None:
        self.scanner = scanner
        self.store = store
        self.policy: Policy = scanner.policy
        self._policy_digest = policy_digest(scanner.policy)

    def versions(self) -> dict[str, str]:
        return self.scanner.versions()

    def close(self) -> None:
        self.scanner.close()

    def __enter__(self) -> CachedScanner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def scan_path(self, path: str | Path) -> Report:
        """`Scanner.scan_path`, through the cache (a file over the size limit is not cached:
        its verdict is cheap already)."""
        path = Path(path)
        limit = self.policy.max_file_size
        with path.open("rb") as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            return self.scanner.scan_path(path)
        return self.scan(data, path.name)

    def scan(self, data: bytes, name: str, deadline: float | None = None) -> Report:
        """`Scanner.scan`, or the stored verdict on the same bytes (``cached`` True)."""
        if len(data) > self.policy.max_file_size:
            return self.scanner.scan(data, name, deadline)
        started = time.perf_counter()
        sha256 = hashlib.sha256(data).hexdigest()
        extension = extension_of(name)
        versions = self.scanner.versions()
        key = cache_key(sha256, extension, self._policy_digest, versions)
        hit = self._hit(key, name, sha256, extension, versions, started)
        if hit is not None:
            return hit
        report = self.scanner.scan(data, name, deadline)
        # a version that changed during the scan (a signature reload) leaves the key unsure
        if report.versions == versions and storable(report):
            entry = entry_of(report, extension)
            if entry is not None:
                self.store.put(key, entry)
        return report

    def _hit(
        self,
        key: str,
        name: str,
        sha256: str,
        extension: str,
        versions: dict[str, str],
        started: float,
    ) -> Report | None:
        text = self.store.get(key)
        entry = None if text is None else stored(text, sha256, extension)
        if entry is None:
            return None
        policy = self.policy
        elapsed = (time.perf_counter() - started) * 1000
        return Report(
            file=name,
            size=entry.size,
            sha256=sha256,
            type=entry.type,
            status=policy.decide(entry.findings),
            findings=entry.findings,
            actions={f.code: policy.action(f.code) for f in entry.findings},
            timings_ms={"cache": elapsed, "total": elapsed},
            versions=versions,
            facts=entry.facts,
            cached=True,
        )
