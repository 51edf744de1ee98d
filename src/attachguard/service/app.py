"""`create_app(settings)`: the FastAPI application of `attachguard serve`.

Start-up (the lifespan) finds or starts clamd, opens the store and the metadata database,
finishes work a previous run left behind (rescans IN_PROGRESS attachments from staging, settles
interrupted clean-ups) and starts the scan workers; shutdown stops them in reverse order.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attachguard.policy import Policy, load_policy
from attachguard.service import api, pages
from attachguard.service.db import Database
from attachguard.service.events import EventHub
from attachguard.service.lifecycle import Lifecycle, ScanFn
from attachguard.service.metrics import Metrics
from attachguard.service.settings import Settings
from attachguard.service.state import Service
from attachguard.service.worker import Worker
from attachguard.storage import ObjectStore
from attachguard.storage.local import LocalStore

log = logging.getLogger("attachguard.service")

# Room for the multipart boundaries, headers and the small form fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_PATH = "/v1/attachments"


class BodyLimit:
    """Refuse uploads over ``limit`` bytes with 413 before reading them: at once when
    Content-Length says so, otherwise as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != UPLOAD_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    # end the body here; the parser fails and its answer is replaced below
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:
                return
            started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _too_large(send, self.limit)


async def _too_large(send: Send, limit: int) -> None:
    body = (
        f'{{"detail":"the upload is larger than the {limit - MULTIPART_OVERHEAD:,} byte limit"}}'
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _lock_data_dir(data_dir: Path, stack: ExitStack) -> None:
    """One service per data folder: SQLite and the local store assume a single writer."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / ".lock").open("w")
    stack.callback(handle.close)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise RuntimeError(f"another attachguard service is using {data_dir}") from exc


def _open_store(settings: Settings) -> ObjectStore:
    if settings.s3_bucket:
        from attachguard.storage.s3 import S3Store

        return S3Store(settings.s3_bucket, settings.s3_prefix)
    return LocalStore(settings.data_dir / "objects")


def _build(
    settings: Settings,
    policy: Policy,
    stack: ExitStack,
    scanner: ScanFn | None,
    store: ObjectStore | None,
) -> Service:
    """Everything but the worker threads, in dependency order; ``stack`` undoes it."""
    shared_db = settings.database_url is not None
    local_data = not (shared_db and settings.s3_bucket)
    if local_data:
        _lock_data_dir(settings.data_dir, stack)
    clamd = None
    description = "not used (scanner supplied by the caller)"
    test_signatures = False
    if scanner is None:
        from attachguard.runtime import clamd_for
        from attachguard.scanner import build_scanner

        source = stack.enter_context(clamd_for(settings.clamd))
        clamd, description = source.client, source.description
        test_signatures = source.test_signatures
        built = build_scanner(policy, clamd)
        stack.callback(built.close)
        scanner = built
    store = store or _open_store(settings)
    db = Database(settings.database)
    stack.callback(db.close)
    if not shared_db:
        db.release_all()  # SQLite is this process's alone: no other replica holds a lease
    hub, metrics = EventHub(), Metrics()
    service_box: list[Service] = []

    def changed(record: Any) -> None:
        if service_box:
            hub.publish(record.chat_id, service_box[0].view(record))

    lifecycle = Lifecycle(
        store,
        db,
        scanner,
        alias=settings.instance_alias,
        lease_seconds=settings.lease_seconds,
        on_change=changed,
        on_verdict=metrics.observe_scan,
        log_file_names=settings.log_file_names,
    )
    worker = Worker(
        lifecycle.process,
        lifecycle.recover,
        threads=settings.workers,
        queue_size=settings.queue_size,
        sweep_seconds=settings.sweep_seconds,
    )
    service = Service(
        settings,
        policy,
        store,
        db,
        scanner,
        lifecycle,
        worker,
        hub,
        metrics,
        clamd=clamd,
        clamd_description=description,
        test_signatures=test_signatures,
    )
    service_box.append(service)
    versions = getattr(scanner, "versions", None)
    service.versions = versions() if callable(versions) else {}
    metrics.gauge(
        "attachguard_queue_depth", "Attachments waiting for a scan.", lambda: worker.depth
    )
    metrics.gauge("attachguard_scans_running", "Scans running now.", lambda: worker.busy)
    metrics.gauge("attachguard_event_streams", "Open event streams.", lambda: hub.streams)
    return service


def create_app(
    settings: Settings,
    *,
    scanner: ScanFn | None = None,
    store: ObjectStore | None = None,
) -> FastAPI:
    """The service's app. ``scanner`` and ``store`` replace the built-in ones (tests, embedding);
    raises `SettingsError` or `PolicyError` for a configuration it refuses."""
    settings.check()
    policy = load_policy(settings.policy_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            service = await asyncio.to_thread(_build, settings, policy, stack, scanner, store)
            service.hub.bind(asyncio.get_running_loop())
            service.worker.start()
            stack.callback(service.worker.stop)
            app.state.service = service
            if service.test_signatures:
                log.warning("clamd runs on TEST signatures only: it finds EICAR, not malware")
            log.info("store: %s; metadata: %s", service.store.describe(), service.db.kind)
            if os.environ.get("ATTACHGUARD_QUIET") != "1":
                print(f"attachguard is ready: open {public_url(settings)}", flush=True)
            yield

    app = FastAPI(
        title="attachguard",
        summary="Attachment scanning with Amazon Connect's lifecycle, for any chat platform.",
        version="1",
        lifespan=lifespan,
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(pages.private)
    app.add_middleware(BodyLimit, limit=policy.max_file_size + MULTIPART_OVERHEAD)
    return app


def public_url(settings: Settings) -> str:
    host = settings.host
    if host in {"0.0.0.0", "::"}:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/"
