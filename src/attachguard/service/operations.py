"""The operator endpoints: health (no key), Prometheus metrics and the dashboard's stats."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from attachguard.service import health
from attachguard.service.api import Svc, authorized

router = APIRouter(include_in_schema=False)
private = APIRouter(dependencies=[Depends(authorized)])


@router.get("/healthz", include_in_schema=True, tags=["operations"])
async def healthz(request: Request, svc: Svc) -> JSONResponse:
    """200 when clamd answers, the store is writable and the database reachable; else 503."""
    result = await anyio.to_thread.run_sync(health.probe, svc, request)
    return JSONResponse(result, status_code=200 if result["ok"] else 503)


@private.get("/metrics", include_in_schema=True, tags=["operations"])
async def metrics(svc: Svc) -> PlainTextResponse:
    """Prometheus text format: scans by status, rejections by code, scan latency, queue."""
    return PlainTextResponse(svc.metrics.render(), media_type="text/plain; version=0.0.4")


def _series(rows: list[tuple[float, str, str | None]], now: float, minutes: int) -> Any:
    start = now - minutes * 60
    buckets = [Counter[str]() for _ in range(minutes)]
    reasons: Counter[str] = Counter()
    for updated, status, codes in rows:
        index = min(int((updated - start) // 60), minutes - 1)
        if index >= 0:
            buckets[index][status] += 1
        for code in (codes or "").split(","):
            if code:
                reasons[code] += 1
    return {
        "minutes": minutes,
        "start": start,
        "approved": [b["APPROVED"] for b in buckets],
        "rejected": [b["REJECTED"] for b in buckets],
        "reasons": dict(reasons.most_common()),
    }


def rescan_summary(svc: Any, names: bool) -> dict[str, Any]:
    """The latest rescan jobs and the files they revoked (service/rescan.py), for the
    dashboard; without an API key, shortened like the recent verdicts."""
    rescanner = svc.rescanner
    if rescanner is None:
        return {"jobs": [], "revoked": []}
    jobs = [vars(job) for job in rescanner.jobs(5)]
    revoked = []
    for record, action, when in rescanner.revoked(20):
        view = {**svc.view(record, names=names), "action": action, "revoked_at": when}
        revoked.append(_anonymous(view) if svc.settings.api_key is None else view)
    return {"jobs": jobs, "revoked": revoked}


def _anonymous(view: dict[str, Any]) -> dict[str, Any]:
    """A recent verdict as a service without an API key shows it: no full id (it reads the
    file), no chat id (it subscribes to the chat's events), no content link."""
    hidden = {"chat_id", "content_url", "sender"}
    return {**{k: v for k, v in view.items() if k not in hidden}, "id": view["id"][:8]}


@private.get("/v1/stats", tags=["operations"])
async def stats(svc: Svc, minutes: int = 60) -> dict[str, Any]:
    """What the dashboard shows: counts, the last hour per minute, recent verdicts, health.
    File names appear only when the service runs with --log-file-names; without an API key,
    ids are shortened to 8 characters and chat ids and content links left out."""
    minutes = max(5, min(minutes, 24 * 60))
    now = time.time()

    def read() -> dict[str, Any]:
        names = svc.settings.log_file_names
        recent = [svc.view(r, names=names) for r in svc.db.recent(30)]
        if svc.settings.api_key is None:
            recent = [_anonymous(view) for view in recent]
        return {
            "counts": svc.db.counts(),
            "series": _series(svc.db.since(now - minutes * 60), now, minutes),
            "recent": recent,
            "health": health.check(svc),
            "queue": {"waiting": svc.worker.depth, "scanning": svc.worker.busy},
            "rescans": rescan_summary(svc, names),
        }

    return await anyio.to_thread.run_sync(read)
