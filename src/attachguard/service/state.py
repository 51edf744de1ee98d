"""`Service`: the parts of one running service, built at start-up and shared by the routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attachguard.clamav.client import ClamdClient
from attachguard.policy import Policy
from attachguard.service.db import Database, Record
from attachguard.service.events import EventHub
from attachguard.service.lifecycle import Lifecycle, ScanPolicyFn
from attachguard.service.metrics import Metrics
from attachguard.service.settings import Settings
from attachguard.service.worker import Worker
from attachguard.storage import ObjectStore


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

    def view(self, record: Record, names: bool = True) -> dict[str, Any]:
        """An attachment as the API shows it: status and report, never its contents.
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
            "not_scanned": report.get("not_scanned", []),
            "timings_ms": report.get("timings_ms", {}),
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "content_url": f"/v1/attachments/{record.id}/content",
        }
        if names:
            out["file_name"] = record.file_name
        return out
