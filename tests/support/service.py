"""Fixtures for the attachment service: a real scanner, apps over a temp data folder, a live
HTTP server on loopback, and the service as a subprocess (``python -m attachguard.service.cli``).

conftest.py loads the fixtures as a plugin; test modules import the helpers by name.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from attachguard.policy import Policy, load_policy
from support.net import free_port

if TYPE_CHECKING:  # the web stack is imported where it is used: this plugin loads in every
    # pytest process (the controller and each xdist worker), most of which never serve
    import httpx
    from fastapi.testclient import TestClient
    from starlette.types import ASGIApp

    from attachguard.clamav.client import ClamdClient
    from attachguard.pipeline import Scanner
    from attachguard.report import Report
    from attachguard.storage import ObjectStore

__all__ = [
    "BOUND",
    "GatedScanner",
    "free_port",
    "live_server",
    "make_client",
    "scanner",
    "spawn_service",
    "wait_verdict",
]

os.environ.setdefault("ATTACHGUARD_QUIET", "1")

# The bound on a wait for something to happen (a verdict, a server up). Only a bound: waits end
# as soon as the thing happens. A verdict takes well under a second on a quiet machine; a service
# subprocess starts in about 3 s, and in 20-30 s while other test suites load the two cores.
BOUND = 180.0


@pytest.fixture(scope="session")
def scanner(clamd_client: ClamdClient) -> Iterator[Scanner]:
    """The real scanner (every local engine, the test clamd), shared by the session."""
    from attachguard.scanner import build_scanner

    with build_scanner(load_policy(), clamd_client) as built:
        yield built


class GatedScanner:
    """A scanner that waits for ``gate`` before scanning: holds files IN_PROGRESS on demand."""

    def __init__(self, inner: Scanner) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.started = threading.Event()

    @property
    def policy(self) -> Policy:
        return self.inner.policy

    def scan(self, data: bytes, name: str, deadline: float | None = None) -> Report:
        self.started.set()
        if not self.gate.wait(BOUND):
            raise TimeoutError("the test never opened the gate")
        return self.inner.scan(data, name, deadline)

    def versions(self) -> dict[str, str]:
        return self.inner.versions()


@contextlib.contextmanager
def make_client(
    data_dir: Path,
    scanner: Any,
    store: ObjectStore | None = None,
    **settings: Any,
) -> Iterator[TestClient]:
    """The app over ``data_dir`` with ``scanner``, started (lifespan) inside a TestClient."""
    from fastapi.testclient import TestClient

    from attachguard.service.app import create_app
    from attachguard.service.settings import Settings

    app = create_app(Settings(data_dir=data_dir, **settings), scanner=scanner, store=store)
    # a loopback Host: the service answers no other name without --allowed-host
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


def wait_verdict(
    client: TestClient | httpx.Client, id: str, timeout: float = BOUND
) -> dict[str, Any]:
    """Poll ``GET /v1/attachments/{id}`` until it leaves IN_PROGRESS; the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/v1/attachments/{id}").json()
        if body["status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


@contextlib.contextmanager
def live_server(app: ASGIApp) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + BOUND
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@contextlib.contextmanager
def spawn_service(
    data_dir: Path, clamd: str | None, env: dict[str, str] | None = None, *args: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``attachguard serve`` as a subprocess on a free port; yields (process, base URL) once
    /healthz answers. Killed at the end if still running. ``clamd`` None: the service finds or
    starts its own."""
    import httpx

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "attachguard.service.cli",
        "--port",
        str(port),
        "--data",
        str(data_dir),
        *(["--clamd", clamd] if clamd else []),
        *args,
    ]
    log = (data_dir.parent / f"service-{port}.log").open("wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + BOUND
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the service exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not become healthy")
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        log.close()


def store_bytes(root: Path) -> Callable[[bytes], list[Path]]:
    """A search for ``needle`` in every file under ``root`` (objects, SQLite and its WAL)."""

    def find(needle: bytes) -> list[Path]:
        return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]

    return find
