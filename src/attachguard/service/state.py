"""`Service`: the parts of one running service, built at start-up and shared by the routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attachguard.clamav.client import ClamdClient
from attachguard.codes import CodeError, lookup
from attachguard.policy import Policy
from attachguard.service.db import Database, Record
from attachguard.service.events import EventHub
from attachguard.service.handover import Drain
from attachguard.service.lifecycle import Lifecycle, ScanPolicyFn
from attachguard.service.metrics import Metrics
from attachguard.service.settings import Settings
from attachguard.service.worker import Worker
from attachguard.storage import ObjectStore

# For a rejection whose code this installation no longer knows (an engine since removed).
_FALLBACK = "This file couldn't be shared."


@dataclass
class Service:
    settings: Settings
    policy: Policy
    store: ObjectStore
    db: Database
    scanner: ScanPolicyFn
    lifecycle: Lifecycle
    worker: Worker
    hub: EventHub
    metrics: Metrics
    clamd: ClamdClient | None = None
    clamd_description: str = "not configured"
    test_signatures: bool = False
    versions: dict[str, str] = field(default_factory=dict)
    drain: Drain = field(default_factory=Drain)  # set by a SIGTERM: the replica hands over
    rescanner: Any = None  # service.rescan.Rescanner, set at start-up

    def view(self, record: Record, names: bool = True) -> dict[str, Any]:
        """An attachment as the API shows it: status and report, never its contents.
        ``reasons`` are for operators and agents (what, and where in the file);
        ``customer_reasons`` are for the person who sent it (plain sentences, no locations).
        ``names`` False leaves the user's file name out (dashboard without opt-in)."""
        report = record.report or {}
        out: dict[str, Any] = {
            "id": record.id,
            "status": record.status,
            "chat_id": record.chat_id,
            "sender": record.sender,
            "size": record.size,
            "sha256": record.sha256,
            "type": report.get("type"),
            "reasons": report.get("reasons", []),
            "customer_reasons": customer_reasons(report),
            "not_scanned": report.get("not_scanned", []),
            "timings_ms": report.get("timings_ms", {}),
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "content_url": f"/v1/attachments/{record.id}/content",
            "cached": bool(report.get("cached")),  # the verdict came from the verdict cache
            "rescanned": "rescan" in report,  # revoked by a rescan after a signature update
        }
        if names:
            out["file_name"] = record.file_name
        return out


def customer_reasons(report: dict[str, Any]) -> list[str]:
    """The report's customer texts; for a report stored before reports carried them, each
    rejecting finding's code's text (never the technical reasons: they name places in files)."""
    given = report.get("customer_reasons")
    if given is not None:
        return [str(text) for text in given]
    codes = [f.get("code") for f in report.get("findings", []) if f.get("action") == "reject"]
    texts = dict.fromkeys(_customer_text(str(code)) for code in codes)
    if not texts and report.get("reasons"):
        texts[_FALLBACK] = None
    return list(texts)


def _customer_text(code: str) -> str:
    try:
        return lookup(code).customer
    except CodeError:
        return _FALLBACK
