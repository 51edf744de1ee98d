"""The attachment lifecycle, as Amazon Connect runs it: staging → scan → final, or deleted.

States: ``IN_PROGRESS`` (bytes in staging only; nobody may read them) → ``APPROVED`` (copied to
the final key, then removed from staging) or ``REJECTED`` (removed from staging *and* final; only
the report is kept). Each step is ordered so that a crash at any point is repaired by running
the same step again:

- accept: record IN_PROGRESS (leased to this process), then store the bytes in staging: the row
  comes first so that no byte is ever stored that no row accounts for;
- approve: copy staging→final, record APPROVED (unsettled), delete staging, mark settled;
- reject: record REJECTED (unsettled; content is refused from here on), delete both, settle.

A file that cannot be scanned is REJECTED with a registered code (`attachguard.codes`), so it
has a customer text like any other rejection: a staging object that vanished (``NOT_FOUND``) or
changed (``SIZE_MISMATCH``), a scanner crash or too many attempts (``ENGINE_ERROR``), a store
that failed to take the upload (``STORE_ERROR``).

Keys follow Connect's layout, ``{staging|final}/connect/<alias>/Attachments/chat/YYYY/MM/DD/
<id>_<YYYYMMDDTHH:MM>_UTC.<ext>``; the extension is reduced to ``[a-z0-9]`` and the user's file
name never appears in a key.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import PurePosixPath
from typing import Any, Protocol

from attachguard.codes import ENGINE_ERROR, Code
from attachguard.connect.verdict import NOT_FOUND, SIZE_MISMATCH, STORE_ERROR
from attachguard.errors import AttachguardError
from attachguard.policy import Policy
from attachguard.report import Report
from attachguard.sensitive import redact
from attachguard.service.db import APPROVED, IN_PROGRESS, REJECTED, Database, Record
from attachguard.storage import NotFound, ObjectStore

log = logging.getLogger("attachguard.service")

MAX_ATTEMPTS = 3
# A lease outlives its owner by at most this long: a heartbeat renews the leases of scans in
# flight every third of it, so two missed beats are tolerated before another replica takes over.
LEASE_SECONDS = 10.0


class ScanFn(Protocol):
    def scan(self, data: bytes, name: str) -> Report: ...


class ScanPolicyFn(ScanFn, Protocol):
    """A scanner with its policy: what the service holds (`/v1/scan` needs both)."""

    policy: Policy

    def scan(self, data: bytes, name: str, deadline: float | None = None) -> Report: ...


class NotAvailable(AttachguardError):
    """The content cannot be served; ``status`` says why (IN_PROGRESS or REJECTED)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def extension(name: str) -> str:
    """The file name's extension, lower-case, letters and digits only (``.bin`` otherwise)."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else ".bin"


def clean_name(name: str | None) -> str:
    """The last path segment of a user's file name, without control characters and with any
    full card number in it masked (display only: it is shown, logged and stored)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return redact(base[:255]) or "attachment"


def object_keys(alias: str, id: str, created: datetime, ext: str) -> tuple[str, str]:
    """(staging key, final key) in Connect's layout."""
    stamp = created.strftime("%Y%m%dT%H:%M")
    day = created.strftime("%Y/%m/%d")
    base = f"connect/{alias}/Attachments/chat/{day}/{id}_{stamp}_UTC{ext}"
    return f"staging/{base}", f"final/{base}"


def failed_report(record: Record, code: Code, reason: str) -> dict[str, Any]:
    """The report of a file that could not be scanned at all (fail closed): shaped like a
    scan's (`Report.to_dict`), with ``code``'s customer text for the person who sent it."""
    found = {"engine": "service", "code": code.name, "kind": code.kind, "action": "reject"}
    return {
        "file": record.file_name,
        "status": REJECTED,
        "reasons": [reason],
        "customer_reasons": [code.customer],
        "size": record.size,
        "sha256": record.sha256,
        "type": {"label": "unknown", "mime": "application/octet-stream", "group": "unknown"},
        "findings": [found | {"message": reason}],
        "not_scanned": [],
        "timings_ms": {},
    }


class Lifecycle:
    """Moves attachments through their states. Thread-safe; holds no per-file state."""

    def __init__(
        self,
        store: ObjectStore,
        db: Database,
        scanner: ScanFn,
        *,
        alias: str = "attachguard",
        lease_seconds: float = LEASE_SECONDS,
        on_change: Callable[[Record], None] = lambda record: None,
        on_verdict: Callable[[dict[str, Any], list[str]], None] = lambda report, codes: None,
        log_file_names: bool = False,
    ) -> None:
        self.store = store
        self.db = db
        self.scanner = scanner
        self.alias = alias
        self.lease_seconds = lease_seconds
        self.owner = uuid.uuid4().hex  # this process's identity in scan leases
        self.on_change = on_change
        self.on_verdict = on_verdict
        self.log_file_names = log_file_names

    def _shown(self, record: Record) -> str:
        return f"{record.id} ({record.file_name!r})" if self.log_file_names else record.id

    def accept(
        self, data: bytes, name: str | None, chat_id: str | None, sender: str | None
    ) -> Record:
        """Record an upload IN_PROGRESS (leased to this process) and store it in staging. When
        the store fails, the upload is REJECTED at once and the error propagates."""
        now = datetime.now(UTC)
        id = str(uuid.uuid4())
        name = clean_name(name)
        ext = extension(name)
        staging, final = object_keys(self.alias, id, now, ext)
        record = Record(
            id=id,
            chat_id=chat_id,
            sender=sender,
            file_name=name,
            ext=ext,
            size=len(data),
            sha256=sha256(data).hexdigest(),
            status=IN_PROGRESS,
            settled=False,
            staging_key=staging,
            final_key=final,
            created_at=now.timestamp(),
            updated_at=now.timestamp(),
        )
        self.db.insert(record, self.owner, time.time() + self.lease_seconds)
        try:
            self.store.put(staging, data)
        except Exception:
            self._give_up(record)
            raise
        log.info("attachment %s received: %d bytes in staging", self._shown(record), len(data))
        self.on_change(record)
        return record

    def process(self, id: str) -> Record | None:
        """Scan ``id`` if it is ours to scan, then approve or reject it. Store and database
        errors propagate: the lease runs out and the sweep tries again."""
        record = self.db.claim(id, self.owner, time.time() + self.lease_seconds)
        if record is None:
            return self.db.get(id)
        if record.attempts > MAX_ATTEMPTS:
            reason = f"the file could not be scanned after {MAX_ATTEMPTS} attempts"
            return self._reject(record, ENGINE_ERROR, reason)
        try:
            data = self.store.get(record.staging_key)
        except NotFound:
            reason = "the file was lost from staging before it could be scanned"
            return self._reject(record, NOT_FOUND, reason)
        if sha256(data).hexdigest() != record.sha256:
            return self._reject(record, SIZE_MISMATCH, "the stored file changed after its upload")
        try:
            result = self.scanner.scan(data, record.file_name)
        except Exception as exc:  # fail closed: a scanner crash rejects, never approves
            log.exception("scan of %s failed", record.id)
            return self._reject(record, ENGINE_ERROR, f"the scan failed ({type(exc).__name__})")
        codes = result.rejecting_codes
        if result.approved:
            self.store.copy(record.staging_key, record.final_key)
            return self._decide(record, APPROVED, result.to_dict(), [])
        return self._decide(record, REJECTED, result.to_dict(), codes)

    def _reject(self, record: Record, code: Code, reason: str) -> Record | None:
        return self._decide(record, REJECTED, failed_report(record, code, reason), [code.name])

    def _give_up(self, record: Record) -> None:
        """REJECT an upload the store would not take, so that its row does not wait for its
        lease to run out; if that fails too, the sweep rejects it once the lease has."""
        try:
            self._reject(record, STORE_ERROR, "the file could not be stored")
        except Exception:  # the store or database is failing: the caller sees the first error
            log.exception("could not reject %s after its upload failed", record.id)

    def _decide(
        self, record: Record, status: str, report: dict[str, Any], codes: list[str]
    ) -> Record | None:
        if not self.db.decide(record.id, status, report, codes):
            # Someone else decided first (our lease ran out); theirs stands, and the store must
            # match it: our copy to final may have landed after they deleted it.
            return self.settle(record.id)
        self.on_verdict(report, codes)
        decided = self.settle(record.id)
        log.info("attachment %s %s %s", self._shown(record), status, "; ".join(codes))
        if decided is not None:
            self.on_change(decided)
        return decided

    def settle(self, id: str) -> Record | None:
        """Make the store match a decided status; safe to repeat after a crash."""
        record = self.db.get(id)
        if record is None or record.status == IN_PROGRESS:
            return record
        if record.status == APPROVED:
            self._keep_final(record)
            self.store.delete(record.staging_key)
        else:
            self.store.delete(record.staging_key)
            self.store.delete(record.final_key)
        self.db.settle(id)
        record.settled = True
        return record

    def _keep_final(self, record: Record) -> None:
        """Make sure an APPROVED file is in final. When both copies are gone (removed by hand or
        by a bucket rule) nothing can bring it back: that is logged once and the record settled,
        rather than retried — and failing — on every sweep. Its verdict stands; its content
        answers 404 (`content`)."""
        if self.store.exists(record.final_key):
            return
        try:
            self.store.copy(record.staging_key, record.final_key)
        except NotFound:  # not an error to trace: a fact to report, once
            log.error(  # noqa: TRY400
                "attachment %s is APPROVED but its file is gone from both staging and final; "
                "it is settled as lost and its content can no longer be served",
                self._shown(record),
            )

    def content(self, id: str) -> tuple[Record, bytes] | None:
        """The bytes of an APPROVED attachment; None when unknown (or its file was lost from the
        store), `NotAvailable` otherwise."""
        record = self.db.get(id)
        if record is None:
            return None
        if record.status != APPROVED:
            raise NotAvailable(record.status)
        try:
            return record, self.store.get(record.final_key)
        except NotFound:
            log.warning("attachment %s is APPROVED but its file is not in final", record.id)
            return None

    def renew(self, ids: Collection[str]) -> int:
        """The heartbeat: extend this process's leases on ``ids`` (scans in flight)."""
        return self.db.renew(ids, self.owner, time.time() + self.lease_seconds)

    def release(self, *, only: Collection[str] | None = None, keep: Collection[str] = ()) -> int:
        """Hand this process's IN_PROGRESS work back (all, or ``only`` these, never ``keep``):
        any replica's next sweep takes it."""
        released = self.db.release(self.owner, only=only, keep=keep)
        if released:
            log.info("released the leases of %d attachments to the other replicas", released)
        return released

    def recover(self) -> list[str]:
        """Finish interrupted clean-ups and return the IN_PROGRESS ids that need a scan."""
        pending = []
        for record in self.db.orphans():
            if record.status == IN_PROGRESS:
                pending.append(record.id)
            else:
                self.settle(record.id)
        return pending
