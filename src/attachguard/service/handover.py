"""Graceful hand-over: what a replica does between SIGTERM and its exit, and `/readyz`.

On the first SIGTERM (or Ctrl-C) `GracefulServer` keeps serving while `hand_over` runs:

1. ``/readyz`` answers 503 at once, so a load balancer stops sending traffic here;
2. new uploads are refused with 503 and ``Retry-After: 1`` (the client or the load balancer
   sends them again, to another replica: nothing is accepted that this replica then drops);
   uploads already being received finish;
3. the scan queue is emptied and the leases of everything this replica holds but is not
   scanning are released (``lease_until`` = NULL): any replica's next sweep takes them;
4. scans in flight get ``grace_seconds`` to finish; the leases of those still running are then
   released too (a second replica may scan them; the first verdict recorded stands);
5. the server stops. A second signal stops it at once.

``/readyz`` is readiness (send me traffic), distinct from ``/healthz`` (every dependency, for
operators and liveness): it is cheap — a database ping and a clamd PING — and is unready while
handing over, when the database or clamd does not answer, or when the scan queue is full.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

import anyio
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from attachguard.service.state import Service

log = logging.getLogger("attachguard.service")

UPLOAD_PATH = "/v1/attachments"
REFUSED = (
    "this replica is shutting down and takes no new uploads; send it again "
    "(another replica will take it)"
)


@dataclass
class Drain:
    """Whether this replica is handing over, and the uploads it is still receiving."""

    started: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    _uploads: int = 0
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def enter(self) -> None:
        with self._lock:
            self._uploads += 1

    def leave(self) -> None:
        with self._lock:
            self._uploads -= 1
            self._lock.notify_all()

    def wait_uploads(self, timeout: float) -> int:
        """Wait up to ``timeout`` s for the uploads being received; how many still are."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._uploads and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(left)
            return self._uploads


class Draining:
    """ASGI middleware: refuses uploads with 503 while the replica hands over, and counts the
    uploads it lets through (the hand-over waits for them before releasing leases)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_upload = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].rstrip("/") == UPLOAD_PATH
        )
        svc: Service | None = getattr(scope["app"].state, "service", None) if is_upload else None
        if svc is None:
            await self.app(scope, receive, send)
            return
        if svc.drain.started.is_set():
            svc.metrics.inc("attachguard_http_refused_total", reason="shutting_down")
            await _refuse(send)
            return
        svc.drain.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            svc.drain.leave()


async def _refuse(send: Send) -> None:
    body = json.dumps({"detail": REFUSED}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def hand_over(svc: Service, grace_seconds: float) -> dict[str, Any]:
    """Hand this replica's work to the others (steps 1 to 4 above) and return what was done, with
    the seconds it took. Safe to call twice: a second call (the app's shutdown, after the
    signal's) waits for the first and returns ``{}``."""
    with _once:
        if svc.drain.started.is_set():
            svc.drain.done.wait(grace_seconds + 5)
            return {}
        svc.drain.started.set()
    t0 = time.monotonic()
    try:
        svc.drain.wait_uploads(grace_seconds)
        waiting = svc.worker.stop_taking()
        running = svc.worker.inflight()
        released = svc.lifecycle.release(keep=running)
        left = svc.worker.wait_idle(max(0.0, grace_seconds - (time.monotonic() - t0)))
        svc.worker.stop_heartbeat()  # a renewal after the release would take the lease back
        late = svc.lifecycle.release(only=left) if left else 0
    except Exception:  # the database is away: the leases run out instead (lease_seconds)
        log.exception("hand-over failed; other replicas take the work when the leases expire")
        return {}
    finally:
        svc.drain.done.set()
    done = {
        "queued": len(waiting),
        "released": released + late,
        "finished": len(running - left),
        "released_in_flight": late,
        "seconds": round(time.monotonic() - t0, 3),
    }
    log.info("hand-over done: %s", done)
    return done


_once = threading.Lock()


class GracefulServer(uvicorn.Server):
    """uvicorn's server with a hand-over before it stops: the first SIGTERM or SIGINT starts
    `hand_over` in a thread and the server keeps serving until it ends; a second one stops the
    server as uvicorn does."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, grace_seconds: float) -> None:
        super().__init__(config)
        self._app = app
        self._grace = grace_seconds
        self._handing_over = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        svc = getattr(self._app.state, "service", None)
        if self._handing_over or svc is None:  # second signal, or not started yet
            super().handle_exit(sig, frame)
            return
        self._handing_over = True
        # uvicorn (0.29 and later) re-raises the captured signals once it has shut down, so the
        # exit status says SIGTERM as it would without a hand-over
        self._captured_signals.append(sig)
        log.info("signal %d: handing work over to the other replicas", sig)
        threading.Thread(target=self._hand_over, args=(svc,), name="hand-over").start()

    def _hand_over(self, svc: Service) -> None:
        try:
            hand_over(svc, self._grace)
        finally:
            self.should_exit = True


router = APIRouter(include_in_schema=False)


def readiness(svc: Service) -> tuple[bool, str]:
    """(ready, why not) — see the module's docstring."""
    if svc.drain.started.is_set():
        return False, "shutting down"
    if svc.worker.full():
        return False, "scan queue full"
    if not svc.db.ping():
        return False, "database unreachable"
    if svc.clamd is not None and not svc.clamd.ping():
        return False, "clamd unreachable"
    return True, "ready"


@router.get("/readyz", include_in_schema=True, tags=["operations"])
async def readyz(request: Request) -> JSONResponse:
    """200 when this replica should get traffic; 503 while it starts, hands over (SIGTERM), or
    cannot reach its database or clamd, or its scan queue is full. No key needed."""
    svc: Service | None = getattr(request.app.state, "service", None)
    if svc is None:
        return JSONResponse({"ready": False, "reason": "starting"}, status_code=503)
    ready, reason = await anyio.to_thread.run_sync(readiness, svc)
    body = {"ready": ready, "reason": reason, "replica": svc.lifecycle.owner}
    return JSONResponse(body, status_code=200 if ready else 503)
