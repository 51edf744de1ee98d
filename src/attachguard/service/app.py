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
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI

from attachguard.clamav.client import ClamdClient
from attachguard.policy import Policy, load_policy
from attachguard.service import api, demo_routes, docs, handover, operations, pages
from attachguard.service.db import Database
from attachguard.service.events import EventHub
from attachguard.service.guards import BodyLimit, HostGuard, allowed_hosts, body_limits
from attachguard.service.lifecycle import Lifecycle, ScanPolicyFn
from attachguard.service.metrics import Metrics
from attachguard.service.orphans import Janitor
from attachguard.service.rescan import Rescanner
from attachguard.service.settings import Settings
from attachguard.service.state import Service
from attachguard.service.verdict_cache import cached_scanner
from attachguard.service.worker import Worker
from attachguard.storage import ObjectStore
from attachguard.storage.local import LocalStore

log = logging.getLogger("attachguard.service")


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


@dataclass(frozen=True)
class _Engines:
    """The scanner and where its clamd came from (for /healthz and the chat page)."""

    scanner: ScanPolicyFn
    clamd: ClamdClient | None = None
    description: str = "not used (scanner supplied by the caller)"
    test_signatures: bool = False


def _clamd_workdir(settings: Settings) -> Path | None:
    """``<data>/clamd`` for a private clamd when this process holds the data folder's lock: a
    start-up then finds (by its pid file) and stops a clamd a killed run left there. None (a
    temporary folder) when replicas may share the folder, or its socket path would be too long.
    """
    workdir = settings.data_dir.resolve() / "clamd"
    if _shares_data_dir(settings) or len(str(workdir / "clamd.sock").encode()) > 100:
        return None
    return workdir


def _shares_data_dir(settings: Settings) -> bool:
    return settings.database_url is not None and settings.s3_bucket is not None


def _engines(
    settings: Settings, policy: Policy, stack: ExitStack, scanner: ScanPolicyFn | None
) -> _Engines:
    """The caller's scanner, or one built over the clamd the settings name (closed by
    ``stack``)."""
    if scanner is not None:
        return _Engines(scanner)
    from attachguard.runtime import clamd_for
    from attachguard.scanner import build_scanner

    source = stack.enter_context(clamd_for(settings.clamd, workdir=_clamd_workdir(settings)))
    # the scan workers plus /v1/scan's own bound: every scan's engines get a thread at once
    built = build_scanner(
        policy, source.client, concurrency=settings.workers + api.SCAN_CONCURRENCY
    )
    stack.callback(built.close)
    test = source.test_signatures or _test_signatures_only(source.client)
    return _Engines(built, source.client, source.description, test)


def _test_signatures_only(client: ClamdClient) -> bool:
    """What the clamd we were given (``--clamd``, the system's) says it loaded; False when it
    cannot say (its VERSION fails: /healthz asks again on each probe)."""
    from attachguard.service.health import test_signatures_only

    try:
        return test_signatures_only(client.version())
    except Exception:  # PING answered a moment ago; /healthz reports the failure
        return False


def _gauges(metrics: Metrics, worker: Worker, hub: EventHub) -> None:
    metrics.gauge(
        "attachguard_queue_depth", "Attachments waiting for a scan.", lambda: worker.depth
    )
    metrics.gauge("attachguard_scans_running", "Scans running now.", lambda: worker.busy)
    metrics.gauge("attachguard_event_streams", "Open event streams.", lambda: hub.streams)


def _janitor(service: Service) -> Janitor:
    def count(kind: str, n: int) -> None:
        if n:
            service.metrics.inc("attachguard_orphans_removed_total", n, kind=kind)

    grace = service.settings.orphan_grace_seconds
    return Janitor(service.store, service.db, grace_seconds=grace, count=count)


def _rescanner(
    settings: Settings, lifecycle: Lifecycle, hub: EventHub, metrics: Metrics, box: list[Service]
) -> Rescanner:
    """Rescans after a signature update; a revoked file is published on its chat's stream
    (``rescanned`` true: a second verdict on the same id) and counted."""

    def revoked(record: Any, report: dict[str, Any]) -> None:
        metrics.inc("attachguard_revocations_total", action=settings.rescan_action)
        if box:
            hub.publish(record.chat_id, {**box[0].view(record), "rescanned": True})

    def scanned(result: str) -> None:
        metrics.inc("attachguard_rescans_total", result=result)

    return Rescanner(
        lifecycle,
        action=settings.rescan_action,
        batch=settings.rescan_batch,
        # renewed by a timer during a batch; at least two scans long, so that a take-over
        # after a crash never races a scan still running
        lease_seconds=max(settings.lease_seconds, 2 * _scan_seconds(lifecycle)),
        on_revoked=revoked,
        on_scanned=scanned,
    )


def _scan_seconds(lifecycle: Lifecycle) -> float:
    policy = getattr(lifecycle.scanner, "policy", None)
    return float(policy.timeouts.scan) if policy is not None else 60.0


def _with_rescans(
    find_work: Callable[[], list[str]], rescanner: Rescanner
) -> Callable[[], list[str]]:
    """The worker's periodic sweep, which also polls clamd's signature version (a rescan
    batch runs in a thread of its own when one is due)."""

    def sweep() -> list[str]:
        ids = find_work()
        rescanner.poll()
        return ids

    return sweep


def _build(
    settings: Settings,
    policy: Policy,
    stack: ExitStack,
    scanner: ScanPolicyFn | None,
    store: ObjectStore | None,
) -> Service:
    """Everything but the worker threads, in dependency order; ``stack`` undoes it."""
    shared_db = settings.database_url is not None
    if not _shares_data_dir(settings):
        _lock_data_dir(settings.data_dir, stack)
    engines = _engines(settings, policy, stack, scanner)
    store = store or _open_store(settings)
    db = Database(settings.database, migrate=settings.migrate)
    stack.callback(db.close)
    if not shared_db:
        db.release_all()  # SQLite is this process's alone: no other replica holds a lease
    hub, metrics = EventHub(), Metrics()
    box: list[Service] = []  # the service, once built: changes are published through it

    def changed(record: Any) -> None:
        if box:
            hub.publish(record.chat_id, box[0].view(record))

    scanner = cached_scanner(engines.scanner, db) if settings.verdict_cache else engines.scanner
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
    rescanner = _rescanner(settings, lifecycle, hub, metrics, box)
    worker = Worker(
        lifecycle.process,
        _with_rescans(lifecycle.recover, rescanner),
        threads=settings.workers,
        queue_size=settings.queue_size,
        sweep_seconds=settings.sweep_seconds,
        renew=lifecycle.renew,
        heartbeat_seconds=settings.lease_seconds / 3,
    )
    service = Service(
        settings, policy, store, db, scanner, lifecycle, worker, hub, metrics,
        clamd=engines.clamd,
        clamd_description=engines.description,
        test_signatures=engines.test_signatures,
    )  # fmt: skip
    service.rescanner = rescanner
    box.append(service)
    versions = getattr(engines.scanner, "versions", None)
    service.versions = versions() if callable(versions) else {}
    _gauges(metrics, worker, hub)
    return service


def create_app(
    settings: Settings,
    *,
    scanner: ScanPolicyFn | None = None,
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
            stack.callback(service.rescanner.stop)  # runs first: a batch ends after its file
            # any shutdown hands over (a no-op after GracefulServer's): no lease outlives us
            stack.callback(handover.hand_over, service, settings.grace_seconds)
            janitor = _janitor(service)
            janitor.start(settings.orphan_sweep_seconds)
            stack.callback(janitor.stop)
            app.state.service = service
            app.state.scan_limiter = anyio.CapacityLimiter(api.SCAN_CONCURRENCY)
            if service.test_signatures:
                log.warning("clamd runs on TEST signatures only: it finds EICAR, not malware")
            log.info("store: %s; metadata: %s", service.store.describe(), service.db.kind)
            if os.environ.get("ATTACHGUARD_QUIET") != "1":
                print(f"attachguard is ready: open {public_url(settings)}", flush=True)
            yield

    offline = docs.assets()  # Swagger UI and ReDoc from this machine, not a CDN
    app = FastAPI(
        title="attachguard",
        summary="Attachment scanning with Amazon Connect's lifecycle, for any chat platform.",
        version="1",
        lifespan=lifespan,
        docs_url=None if offline else "/docs",
        redoc_url=None if offline else "/redoc",
    )
    if offline is not None:
        app.include_router(docs.router(app, offline))
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(operations.router)
    app.include_router(handover.router)
    app.include_router(operations.private)
    app.include_router(demo_routes.private)
    app.add_middleware(BodyLimit, limit_for=body_limits(policy.max_file_size))
    app.add_middleware(handover.Draining)  # before the body is read: a refusal costs nothing
    # added last, so it runs first: a refused Host or page never reaches the body or a route
    hosts = allowed_hosts(settings.api_key, settings.allowed_hosts)
    app.add_middleware(HostGuard, hosts=hosts, check_origin=settings.api_key is None)
    return app


def public_url(settings: Settings) -> str:
    host = settings.host
    if host in {"0.0.0.0", "::"}:  # noqa: S104  (a wildcard bind is reached on loopback)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/"
