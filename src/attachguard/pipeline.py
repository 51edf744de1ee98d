"""The pipeline: one `Scanner.scan` for every entry point.

It detects the true type, runs the engines whose specs route that type to them in parallel,
each under its own timeout inside the scan's overall deadline, turns any engine exception or
timeout into a finding, sends what engines extracted back through the same steps (within the
policy's depth and byte limits), and lets the policy decide.

A timed-out engine's thread cannot be killed in Python: it is abandoned, the verdict does not
wait for it, and the pool is sized so that a few stuck engines do not starve the others.
"""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from attachguard.admission import Admission
from attachguard.codes import (
    ARCHIVE_DEPTH,
    ARCHIVE_EXPANSION,
    DECRYPTED,
    ENCRYPTED,
    ENGINE_ERROR,
    ENGINE_TIMEOUT,
    TOO_LARGE,
)
from attachguard.engines.base import Child, Context, Engine, EngineSpec, Item, Result
from attachguard.policy import Policy
from attachguard.registry import load_specs, route
from attachguard.report import UNKNOWN_TYPE, FileType, Finding, Report, Status, size_text
from attachguard.sensitive import redact


class Detector(Protocol):
    def detect(self, data: bytes) -> FileType: ...


@dataclass
class _Scan:
    """Book-keeping for one top-level scan (never shared between scans)."""

    deadline: float
    optional_until: float = float("inf")  # see `Context.optional_until`
    expanded: int = 0
    capped: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def add_time(self, name: str, seconds: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + seconds * 1000


# The share of a scan's time that work the verdict can do without may use, in all of the
# file's items together (`Context.optional_until`): the rest is kept for the engines that
# decide. Hunt 104: a deck's 17 pictures, each allowed its own OCR time, read until the
# scan's last second and left the last pictures' engines none (ENGINE_TIMEOUT, rejected).
OPTIONAL_SHARE = 0.6

_STUCK_ALLOWANCE = 8  # pool threads beyond the engines' own: timed-out engines keep theirs


@dataclass
class _Run:
    """One engine on one item. Its timeout counts from when a pool thread takes it up, not from
    when it was queued (under load a clean file must not time out while waiting for a thread);
    the scan's own deadline bounds both the wait and the run."""

    engine: Engine
    item: Item
    context: Context
    timeout: float
    scan_deadline: float
    began: threading.Event = field(default_factory=threading.Event)
    start: float = 0.0

    @property
    def end(self) -> float:
        """When the engine runs out of time (meaningful once it began)."""
        return min(self.start + self.timeout, self.scan_deadline)

    def __call__(self) -> tuple[Result, float]:
        self.start = time.monotonic()
        self.began.set()
        begin = time.perf_counter()
        result = self.engine.scan(self.item, replace(self.context, deadline=self.end))
        return result, time.perf_counter() - begin


class Scanner:
    """Warm engines plus a policy. Thread-safe: ``concurrency`` scans may run at once without an
    engine waiting for a thread (``workers`` sets the engine pool's size outright), as many as
    their files' sizes allow (`admission`: a large file runs alone)."""

    def __init__(
        self,
        policy: Policy,
        engines: dict[str, Engine],
        detector: Detector,
        concurrency: int = 1,
        workers: int | None = None,
    ) -> None:
        self.policy = policy
        self.engines = engines
        self.detector = detector
        self.specs = load_specs()
        self._context = policy.context()
        self._off = policy.engines_off
        # Every engine of every concurrent scan gets a thread at once, so that no engine waits
        # for one (its timeout counts from its start anyway), with room for a few stuck ones:
        # a timed-out engine's thread cannot be killed in Python.
        per_scan = max(1, len(engines))
        workers = workers or concurrency * per_scan + _STUCK_ALLOWANCE
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine")
        self._admission = Admission()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def versions(self) -> dict[str, str]:
        off = self._off
        out = {name: "disabled by policy" for name in off}
        for name, engine in self.engines.items():
            if name in off:
                continue
            try:
                out[name] = engine.version()
            except Exception as exc:  # a version is informative; never fail a scan for it
                out[name] = f"unavailable ({type(exc).__name__})"
        return out

    def scan_path(self, path: str | Path) -> Report:
        """Scan a file on disk (its name is used for the extension check). A file over the size
        limit is hashed in chunks and rejected without being read into memory."""
        path = Path(path)
        with path.open("rb") as f:
            data = f.read(self.policy.max_file_size + 1)
            if len(data) <= self.policy.max_file_size:
                return self.scan(data, path.name)
            digest = hashlib.sha256(data)
            size = len(data)
            while chunk := f.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return self.too_large(path.name, size, digest.hexdigest())

    def too_large(self, name: str, size: int, sha256: str) -> Report:
        """The verdict on a file known to be over the size limit, without its content."""
        limit = self.policy.max_file_size
        finding = Finding(
            "limits",
            TOO_LARGE,
            f"file is {size_text(size)}, over the {size_text(limit)} limit",
        )
        return self._report(name, size, sha256, UNKNOWN_TYPE, [finding], _Scan(deadline=0.0))

    def scan(self, data: bytes, name: str, deadline: float | None = None) -> Report:
        """The verdict on ``data``, uploaded under the file name ``name``. ``deadline`` (a
        `time.monotonic` value) shortens the policy's scan timeout when the caller has less
        time left, as a Lambda invocation may."""
        if len(data) > self.policy.max_file_size:
            return self.too_large(name, len(data), hashlib.sha256(data).hexdigest())
        with self._admission.admitted(len(data), deadline):  # large files one at a time
            started = time.perf_counter()
            now = time.monotonic()
            end = now + self.policy.timeouts.scan
            end = end if deadline is None else min(end, deadline)
            state = _Scan(deadline=end, optional_until=now + OPTIONAL_SHARE * (end - now))
            sha256 = hashlib.sha256(data).hexdigest()
            filetype, findings = self._detect(data, state)
            findings = _aggregate(findings + self._scan_item(Item(name, data, filetype), state))
            state.add_time("total", time.perf_counter() - started)
        return self._report(name, len(data), sha256, filetype, findings, state)

    def _report(
        self,
        name: str,
        size: int,
        sha256: str,
        filetype: FileType,
        findings: list[Finding],
        state: _Scan,
    ) -> Report:
        policy = self.policy
        return Report(
            file=redact(name),  # a full card number in a file name is never shown
            size=size,
            sha256=sha256,
            type=filetype,
            status=policy.decide(findings),
            findings=findings,
            actions={f.code: policy.action(f.code) for f in findings},
            timings_ms=state.timings,
            versions=self.versions(),
            facts=state.facts,
        )

    def _detect(self, data: bytes, state: _Scan) -> tuple[FileType, list[Finding]]:
        """The content type, or unknown with an ENGINE_ERROR (ENGINE_TIMEOUT) finding when
        detection fails (runs out of time): the routed engines still run, so an unknown type
        gets at least the antivirus. Detection reads structure (OLE directories, zips) and
        runs under the engine timeout and the scan's deadline like any engine."""
        start = time.perf_counter()
        future = self._pool.submit(self.detector.detect, data)
        end = min(time.monotonic() + self.policy.timeouts.engine, state.deadline)
        try:
            return future.result(timeout=max(0.0, end - time.monotonic())), []
        except FutureTimeout:
            future.cancel()
            return UNKNOWN_TYPE, [
                Finding("detect", ENGINE_TIMEOUT, "type detection ran out of time")
            ]
        except Exception as exc:  # fail closed, and keep scanning what can be scanned
            message = f"type detection failed ({type(exc).__name__}: {str(exc)[:200]})"
            return UNKNOWN_TYPE, [Finding("detect", ENGINE_ERROR, message)]
        finally:
            state.add_time("detect", time.perf_counter() - start)

    def _scan_item(
        self, item: Item, state: _Scan, reached: frozenset[str] = frozenset()
    ) -> list[Finding]:
        """Every routed engine on ``item``, then its children; engines in ``reached`` already
        looked at ``item`` inside a clean parent and do not run again."""
        depth_left = self.policy.limits.max_depth - item.depth
        context = replace(self._context, depth_left=depth_left, optional_until=state.optional_until)
        runs: dict[str, tuple[_Run, Future[tuple[Result, float]]]] = {}
        findings: list[Finding] = []
        for name in route(self.specs, item.type):
            if name in reached:
                continue
            refused = self._refused(name, item, state)
            if refused is not None:
                findings += refused
                continue
            run = _Run(
                self.engines[name], item, context, self.policy.timeouts.engine, state.deadline
            )
            runs[name] = (run, self._pool.submit(run))

        children: list[Child] = []
        clean = set(reached)
        decrypted = False
        for name, (run, future) in runs.items():
            result = self._collect(name, run, future, state)
            if isinstance(result, Finding):
                findings.append(result)
                continue
            findings.extend(result.findings)
            children.extend(result.children)
            decrypted = decrypted or _decrypted(result)
            if not result.findings:
                clean.add(name)
            if item.depth == 0:
                state.facts.update(result.facts)

        findings = _superseded(findings, decrypted)
        # two engines may hand back the same member (office and zip both open an OOXML file):
        # scanned once (a deck with 31 chart workbooks took twice as long)
        unique = _merged(children)
        reaches = self._reaches(item, unique, clean, findings)
        for child in unique:
            inner = self._scan_child(item, child, state, reaches.get(child, frozenset()))
            findings.extend(f.nested(child.where) for f in inner)
        return _dedupe(findings)

    def _reaches(
        self, item: Item, children: list[Child], clean: set[str], findings: list[Finding]
    ) -> dict[Child, frozenset[str]]:
        """For each child, the engines that already looked at it inside ``item`` and found
        nothing there (clamd inflates zip members itself: streaming them again doubled its
        time on Office files). Only for an item nothing rejects so far: when something does,
        every engine sees every child again, so that each finding names its location."""
        if not children or not clean or self.policy.decide(findings) is not Status.APPROVED:
            return {}
        out: dict[Child, set[str]] = {}
        for name in clean:
            spec = self.specs.get(name)
            if spec is None or spec.reaches is None:
                continue
            for child in spec.reaches(self.engines[name], item, children):
                out.setdefault(child, set()).add(name)
        return {child: frozenset(names) for child, names in out.items()}

    def _refused(self, name: str, item: Item, state: _Scan) -> list[Finding] | None:
        """Why engine ``name`` does not run on ``item``: an empty list when it is off by
        policy, a finding when it is missing or past its per-scan cap; None when it runs."""
        if name in self._off:
            return []
        if name not in self.engines:
            return [Finding(name, ENGINE_ERROR, f"the {name} engine is not available")]
        spec = self.specs.get(name)
        if spec is None or spec.cap is None or item.depth == 0:
            return None
        if spec.cap.labels and item.type.label not in spec.cap.labels:
            return None
        return _over_cap(spec, self.policy.options(name), state)

    def _collect(
        self, name: str, run: _Run, future: Future[tuple[Result, float]], state: _Scan
    ) -> Result | Finding:
        """The engine's result, or the finding that says why there is none (fail closed)."""
        if not run.began.wait(max(0.0, run.scan_deadline - time.monotonic())):
            future.cancel()
            return Finding(name, ENGINE_TIMEOUT, f"the {name} engine could not start in time")
        try:
            result, seconds = future.result(timeout=max(0.0, run.end - time.monotonic()))
        except FutureTimeout:
            state.add_time(name, time.monotonic() - run.start)
            return Finding(name, ENGINE_TIMEOUT, f"the {name} engine ran out of time")
        except Exception as exc:  # fail closed: a crash is a finding, never a pass
            message = f"the {name} engine failed ({type(exc).__name__}: {str(exc)[:200]})"
            return Finding(name, ENGINE_ERROR, message)
        state.add_time(name, seconds)
        for part, ms in result.timings_ms.items():
            state.add_time(f"{name}.{part}", ms / 1000)
        return result

    def _scan_child(
        self, parent: Item, child: Child, state: _Scan, reached: frozenset[str]
    ) -> list[Finding]:
        limits = self.policy.limits
        if parent.depth + 1 > limits.max_depth:
            return [
                Finding(
                    "limits",
                    ARCHIVE_DEPTH,
                    f"not unpacked: nested more than {limits.max_depth} levels deep",
                )
            ]
        state.expanded += len(child.data)
        if state.expanded > limits.max_expanded_bytes:
            return [
                Finding(
                    "limits",
                    ARCHIVE_EXPANSION,
                    f"not scanned: unpacking passed {size_text(limits.max_expanded_bytes)}",
                )
            ]
        if time.monotonic() >= state.deadline:
            return [Finding("limits", ENGINE_TIMEOUT, "not scanned: the scan ran out of time")]
        filetype, findings = self._detect(child.data, state)
        item = Item(
            child.where, child.data, filetype, parent.depth + 1, child.imported, child.named
        )
        return findings + self._scan_item(item, state, reached)


def _merged(children: list[Child]) -> list[Child]:
    """``children`` once each, in order; one that an engine knows its parent's application
    imports (office: an altChunk) is imported, though another engine (zip, which reads no
    relationships) handed the same member too; and one that any engine knows Windows opens by
    its name (`Child.named`) is judged so."""
    merged: dict[tuple[str, bytes], Child] = {}
    for child in children:
        seen = merged.setdefault((child.where, child.data), child)
        merged[(child.where, child.data)] = replace(
            seen, imported=seen.imported or child.imported, named=seen.named or child.named
        )
    return list(merged.values())


def _over_cap(spec: EngineSpec, options: object, state: _Scan) -> list[Finding] | None:
    """Count one more nested item for a capped engine; past the cap, the finding that says so
    (a cost cap: e.g. one paid moderation call per image)."""
    if spec.cap is None:
        return None
    count = state.capped[spec.name] = state.capped.get(spec.name, 0) + 1
    limit = spec.cap.limit(options)
    if count <= limit:
        return None
    message = f"not looked at by {spec.name}: more than {limit} {spec.cap.what} in one file"
    return [Finding(spec.name, spec.cap.code, message)]


def _decrypted(result: Result) -> bool:
    """Whether the engine handed on the item's content decrypted (`attachguard.codes.DECRYPTED`:
    the fact names the child, which must be there)."""
    where = result.facts.get(DECRYPTED)
    return where is not None and any(child.where == where for child in result.children)


def _superseded(findings: list[Finding], decrypted: bool = False) -> list[Finding]:
    """Drop the findings about one item that another finding's code makes moot (see
    `attachguard.codes.declare`'s ``supersedes``), and ENCRYPTED when an engine opened the item
    without a password and handed its content on decrypted, for every engine to scan."""
    moot = {name for f in findings for name in f.code.supersedes}
    if decrypted:
        moot.add(ENCRYPTED.name)
    return [f for f in findings if f.code.name not in moot] if moot else findings


_EXAMPLES = 3  # locations kept for a finding repeated across many members


def _aggregate(findings: list[Finding]) -> list[Finding]:
    """One finding per engine, code and message, counting its repeats (a nested zip bomb once
    gave 4,097 ARCHIVE_DEPTH findings and a 2 MB report): the first location is kept, and a
    few more as examples."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.engine, f.code, f.message, f.label), []).append(f)
    out = []
    for same in groups.values():
        first = same[0]
        if len(same) == 1:
            out.append(first)
            continue
        count = sum(f.count for f in same)
        more = tuple(f.location or "" for f in same[1 : 1 + _EXAMPLES])
        out.append(replace(first, count=count, more=more))
    return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop repeats: two engines may extract the same member (the office and zip engines both
    open a .docx), and an antivirus match on a whole container says less than the same match
    located inside it."""
    located = {(f.engine, f.code, f.label) for f in findings if f.location}
    out: list[Finding] = []
    for f in findings:
        if f in out or (not f.location and f.label and (f.engine, f.code, f.label) in located):
            continue
        out.append(f)
    return out
