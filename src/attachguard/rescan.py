"""Rescanning files that were approved before: after a signature update, the same bytes may be
malware now. One decision for every place files are kept (a folder here, an S3 prefix in
`attachguard.connect.rescan`, the service's final store in `attachguard.service.rescan`):

- still APPROVED: kept;
- REJECTED on the bytes: deleted, or quarantined (moved aside for an operator), or only reported
  (``action="report"``, a dry run);
- REJECTED only because an engine failed or ran out of time — every rejecting finding is one
  `attachguard.cache.storable` calls momentary (`transient`): kept and reported as
  ``undecided`` — a file approved yesterday is not deleted because clamd was briefly away;
- REJECTED on the bytes by any finding (MALWARE, say), even next to an engine that failed:
  revoked as above. A failed engine elsewhere never outweighs what the new signatures found.

Where files are kept for good (the service's job), an undecided file is tried again later; a
folder or prefix pass reports it and moves on (run it again, or rescan that file).

A rescan is bounded (``max_files``) and resumable: files are taken in a stable order (sorted
paths, S3's key order) and the last one done is the *marker* to start after next time.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from attachguard.cache import storable
from attachguard.policy import Policy
from attachguard.report import Finding, Report

__all__ = ["ACTIONS", "Rescanned", "outcome_of", "rescan_folder", "transient"]

ACTIONS = ("delete", "quarantine", "report")
# What happened to a file, by action, when it is now rejected on its bytes.
_DONE = {"delete": "deleted", "quarantine": "quarantined", "report": "rejected"}


class Scans(Protocol):
    """What a rescan needs of a scanner (`Scanner`, or a cached one)."""

    policy: Policy

    def scan(self, data: bytes, name: str, deadline: float | None = None) -> Report: ...


@dataclass(frozen=True)
class Rescanned:
    """One file rescanned: where it is (a path relative to the folder, or a key), its new
    status and rejecting codes, and what was done: kept, deleted, quarantined, rejected (only
    reported), undecided (kept: the scan failed) or skipped (with why)."""

    where: str
    status: str
    codes: list[str]
    done: str
    note: str = ""

    @property
    def revoked(self) -> bool:
        """Now rejected on its bytes (whatever the action did about it)."""
        return self.done in _DONE.values()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "where": self.where,
            "status": self.status,
            "codes": self.codes,
            "done": self.done,
        }
        if self.note:
            out["note"] = self.note
        return out


def transient(report: Report, finding: Finding) -> bool:
    """True when ``finding`` says something about the moment (an engine error or timeout, a
    time limit), not about the bytes: what `attachguard.cache.storable` refuses to keep, asked
    of this one finding so that both modules share one list."""
    return not storable(replace(report, findings=[finding]))


def outcome_of(report: Report, action: str) -> str:
    """What a rescan does with a file whose new report is ``report`` (see the module
    docstring): kept, undecided (every rejecting finding is `transient`), or the action's past
    tense (some rejecting finding is about the bytes)."""
    if report.approved:
        return "kept"
    rejecting = report.rejecting
    if rejecting and all(transient(report, f) for f in rejecting):
        return "undecided"
    return _DONE[action]


def _files(folder: Path, start_after: str | None) -> Iterator[tuple[str, Path]]:
    """(relative path, path) of every file under ``folder``, sorted, after ``start_after``."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = path.relative_to(folder).as_posix()
        if start_after is None or relative > start_after:
            yield relative, path


def rescan_folder(
    folder: Path,
    scanner: Scans,
    *,
    action: str = "delete",
    quarantine: Path | None = None,
    max_files: int | None = None,
    start_after: str | None = None,
) -> Iterator[Rescanned]:
    """Rescan the files under ``folder`` (see the module docstring); quarantined files move to
    the same relative path under ``quarantine``, which must lie outside ``folder``."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    if action == "quarantine" and quarantine is None:
        raise ValueError("quarantine needs a folder to move files into")
    if quarantine is not None and quarantine.resolve().is_relative_to(folder.resolve()):
        raise ValueError("the quarantine folder must not be inside the folder rescanned")
    for count, (relative, path) in enumerate(_files(folder, start_after)):
        if max_files is not None and count >= max_files:
            return
        yield _rescan_file(relative, path, scanner, action, quarantine)


def _rescan_file(
    relative: str,
    path: Path,
    scanner: Scans,
    action: str,
    quarantine: Path | None,
) -> Rescanned:
    if path.stat().st_size > scanner.policy.max_file_size:
        # its verdict is the size limit, not the signatures: a rescan is not the place for it
        return Rescanned(relative, "", [], "skipped", "over the policy's size limit")
    report = scanner.scan(path.read_bytes(), path.name)
    done = outcome_of(report, action)
    if done == "deleted":
        path.unlink(missing_ok=True)
    elif done == "quarantined" and quarantine is not None:
        target = quarantine / relative
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.move(path, target)
    return Rescanned(relative, report.status.value, report.rejecting_codes, done)
