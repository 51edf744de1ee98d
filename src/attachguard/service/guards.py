"""ASGI guards in front of every route: which Host may be asked, which page may change state, and
how large a request body may be.

- **Host allow-list** (DNS rebinding): a web page on ``rebind.attacker.example`` whose name
  resolves to 127.0.0.1 would otherwise be same-origin with the service and could read approved
  files. Without an API key only loopback names (``localhost``, ``127.0.0.1``, ``[::1]``, any
  port) and the ``--allowed-host`` names are answered; with a key, only the configured names
  when there are any (a key-protected service on 0.0.0.0 is reached by names we cannot guess).
  Others get 400 before any route runs.
- **Cross-site writes**: a page elsewhere can POST a multipart form to loopback without reading
  the answer. Without an API key, a POST/PUT/PATCH/DELETE whose ``Origin`` is not an allowed
  host, or whose ``Sec-Fetch-Site`` is ``cross-site``/``same-site``, gets 403. Requests with
  neither header (curl, scripts, Amazon Connect) are not browsers' and pass.
- **Body limits**: uploads up to the policy's size limit plus multipart overhead; ``/v1/scan``
  up to `SCAN_BODY_LIMIT` (a FILE_SCANNER event is under 2 KB); every other route up to
  `SMALL_BODY_LIMIT`. Over the limit is 413 at once when Content-Length says so, otherwise as
  soon as the streamed body passes it.

Every refusal is counted in ``attachguard_http_refused_total`` by reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Room for the multipart boundaries, headers and the small form fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_PATH = "/v1/attachments"
SCAN_PATH = "/v1/scan"
# Amazon Connect's events measure 1-2 KB; 16 KB leaves room for long keys and file names.
SCAN_BODY_LIMIT = 16 * 1024
SMALL_BODY_LIMIT = 4 * 1024
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Sec-Fetch-Site values a browser sends for a page of this service itself, or typed by the user.
FETCH_SITES_OK = frozenset({"same-origin", "none"})


def host_name(value: str) -> str:
    """``Host``/``Origin`` authority without its port, lower case (``[::1]`` keeps brackets)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_hosts(api_key: str | None, configured: Iterable[str]) -> frozenset[str] | None:
    """The Host names answered; None: any (an API key and no ``--allowed-host``)."""
    names = frozenset(host_name(h) for h in configured)
    if "*" in names:
        return None
    if api_key is not None:
        return names or None
    return LOOPBACK_HOSTS | names


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _count(scope: Scope, reason: str) -> None:
    """Count a refusal in the service's metrics (absent before start-up completes)."""
    service = getattr(getattr(scope.get("app"), "state", None), "service", None)
    if service is not None:
        service.metrics.inc("attachguard_http_refused_total", reason=reason)


async def refuse(send: Send, status: int, detail: str) -> None:
    """A JSON ``{"detail": ...}`` answer that closes the connection (the body may be unread)."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HostGuard:
    """400 for a Host outside ``hosts``; 403 for a cross-site write when ``check_origin``."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None, check_origin: bool) -> None:
        self.app, self.hosts, self.check_origin = app, hosts, check_origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        if self.hosts is not None and host_name(_header(scope, b"host")) not in self.hosts:
            _count(scope, "host")
            await refuse(send, 400, "this service does not answer to that host name")
            return
        if self.check_origin and scope.get("method") in WRITE_METHODS and self._cross(scope):
            _count(scope, "cross_site")
            await refuse(send, 403, "requests from other web sites are refused")
            return
        await self.app(scope, receive, send)

    def _cross(self, scope: Scope) -> bool:
        site = _header(scope, b"sec-fetch-site").lower()
        if site and site not in FETCH_SITES_OK:
            return True
        origin = _header(scope, b"origin")
        if not origin:
            return False
        parts = urlsplit(origin)
        allowed = self.hosts if self.hosts is not None else {host_name(_header(scope, b"host"))}
        return parts.scheme not in {"http", "https"} or host_name(parts.netloc) not in allowed


class BodyLimit:
    """413 for a body over ``limit_for(scope)`` bytes, before the route reads it when
    Content-Length says so, else as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > limit:
            await self._too_large(scope, send, limit)
            return
        guard = _Guard(receive, send, limit)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.over:
                raise
        if guard.over and not guard.started:
            await self._too_large(scope, send, limit)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        _count(scope, "too_large")
        shown = limit - MULTIPART_OVERHEAD if scope["path"] == UPLOAD_PATH else limit
        await refuse(send, 413, f"the request is larger than the {shown:,} byte limit")


def body_limits(upload_limit: int) -> Callable[[Scope], int]:
    """Per-route body limits: uploads, FILE_SCANNER events, everything else."""

    def limit_for(scope: Scope) -> int:
        if scope["path"] == UPLOAD_PATH:
            return upload_limit + MULTIPART_OVERHEAD
        if scope["path"] == SCAN_PATH:
            return SCAN_BODY_LIMIT
        return SMALL_BODY_LIMIT

    return limit_for


class _Guard:
    """Counts a request body as the app reads it; past ``limit`` it ends the body (the parser
    fails) and holds back the app's answer, which `BodyLimit` replaces with 413."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.seen = 0
        self.over = False
        self.started = False

    async def receive(self) -> Message:
        if self.over:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.over = True
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.over:
            return
        self.started = True
        await self._send(message)
