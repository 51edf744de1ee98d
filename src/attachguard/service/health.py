"""What `/healthz` and the dashboard report: clamd, signatures, store, database, engines.

`/healthz` needs no key (load balancers probe it), so with an API key configured a caller
without the key gets only the verdicts (`brief`): no store path, bucket, endpoint or versions.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from starlette.requests import Request

from attachguard.clamav.client import parse_version
from attachguard.service.api import carries_key
from attachguard.service.state import Service

_SIGNATURE_DATE = re.compile(r"^ClamAV [^/]+/(\d+)/(.+)$")


def signatures(version: str) -> dict[str, Any]:
    """The signature version and age from clamd's VERSION line (absent with test signatures)."""
    match = _SIGNATURE_DATE.match(version.strip())
    if not match:
        return {"version": None, "date": None, "age_hours": None}
    try:
        date = datetime.strptime(match.group(2).strip(), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return {"version": match.group(1), "date": match.group(2), "age_hours": None}
    age = (time.time() - date.timestamp()) / 3600
    return {"version": match.group(1), "date": date.isoformat(), "age_hours": round(age, 1)}


def test_signatures_only(version: str) -> bool:
    """True when clamd's VERSION line names no signature database version: it has loaded only
    unversioned files (the generated test set: EICAR and clamav-testfiles), no official
    ``daily``/``main`` database. Asked of clamd itself, so a ``--clamd ADDRESS`` that nobody
    started for us is judged by what it loaded, not assumed official."""
    return parse_version(version).version is None


def check(svc: Service) -> dict[str, Any]:
    """Every check with its result; ``ok`` is False when any required one failed."""
    checks: dict[str, Any] = {}
    if svc.clamd is not None:
        reachable = svc.clamd.ping()
        clamd: dict[str, Any] = {"ok": reachable, "source": svc.clamd_description}
        # what clamd says it loaded; what start-up knew when it cannot be asked
        test_only = svc.test_signatures
        if reachable:
            try:
                version = svc.clamd.version()
                clamd["version"] = version
                clamd["signatures"] = signatures(version)
                test_only = test_signatures_only(version)
            except Exception as exc:  # informative only; PING already answered
                clamd["version"] = f"unavailable ({type(exc).__name__})"
        clamd["test_signatures_only"] = test_only
        checks["clamd"] = clamd
    else:
        checks["clamd"] = {"ok": True, "source": svc.clamd_description}
    probe = f"health/{svc.lifecycle.owner}"
    try:
        svc.store.put(probe, b"ok")
        svc.store.delete(probe)
        checks["storage"] = {"ok": True, "where": svc.store.describe()}
    except Exception as exc:  # any failure means the store is not writable
        checks["storage"] = {"ok": False, "error": type(exc).__name__}
    checks["database"] = {"ok": svc.db.ping(), "kind": svc.db.kind}
    checks["queue"] = {"ok": not svc.worker.full(), "waiting": svc.worker.depth}
    moderation = {k: v for k, v in svc.versions.items() if "moderation" in k}
    checks["moderation"] = {"ok": True, "engines": moderation or "not configured"}
    return {
        "ok": all(c["ok"] for c in checks.values()),
        "checks": checks,
        "engines": svc.versions,
    }


def brief(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` reduced to ``ok`` and each check's ``ok`` (plus clamd's test-signature flag,
    which the chat page shows as a warning): nothing about where or what runs."""
    checks: dict[str, Any] = {name: {"ok": c["ok"]} for name, c in result["checks"].items()}
    if "test_signatures_only" in result["checks"].get("clamd", {}):
        checks["clamd"]["test_signatures_only"] = result["checks"]["clamd"]["test_signatures_only"]
    return {"ok": result["ok"], "checks": checks}


def probe(svc: Service, request: Request) -> dict[str, Any]:
    """What `/healthz` answers: every detail without an API key configured or when the request
    carries it; otherwise only the verdicts (`brief`)."""
    result = check(svc)
    return result if carries_key(request, svc) else brief(result)
