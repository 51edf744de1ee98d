"""The HTTP API under ``/v1`` (documented at ``/docs``): upload, status, content, scan, events."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse

from attachguard.connect.event import MalformedEvent, parse_event
from attachguard.service.lifecycle import NotAvailable, clean_name, rejecting_codes
from attachguard.service.state import Service
from attachguard.storage import BadKey, NotFound

log = logging.getLogger("attachguard.service")

CHAT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
# Types a browser may show inline (images); everything else is sent as a download.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def authorized(request: Request, svc: Annotated[Service, Depends(service)]) -> None:
    """With an API key configured, every /v1 call needs ``Authorization: Bearer <key>``."""
    key = svc.settings.api_key
    if key is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), key.encode()):
        svc.metrics.inc("attachguard_http_refused_total", reason="unauthorized")
        raise HTTPException(401, "missing or wrong API key", {"WWW-Authenticate": "Bearer"})


Svc = Annotated[Service, Depends(service)]
router = APIRouter(dependencies=[Depends(authorized)])


@router.post("/v1/attachments", status_code=202, tags=["attachments"])
async def upload(
    svc: Svc,
    file: Annotated[UploadFile, File(description="The attachment.")],
    chat_id: Annotated[str | None, Form(pattern=CHAT_ID)] = None,
    sender: Annotated[str | None, Form(max_length=64)] = None,
) -> dict[str, Any]:
    """Store an attachment in staging and queue its scan; it stays IN_PROGRESS (and cannot be
    downloaded) until the scan approves it. 413 over the policy's size limit, 503 when the
    scan queue is full."""
    limit = svc.policy.max_file_size
    data = await file.read(limit + 1)
    if len(data) > limit:
        svc.metrics.inc("attachguard_http_refused_total", reason="too_large")
        raise HTTPException(413, f"the upload is larger than the {limit:,} byte limit")
    if svc.worker.full():
        svc.metrics.inc("attachguard_http_refused_total", reason="busy")
        raise HTTPException(503, "too many scans waiting; try again shortly", {"Retry-After": "5"})
    record = await anyio.to_thread.run_sync(
        svc.lifecycle.accept, data, file.filename, chat_id, sender
    )
    svc.metrics.inc("attachguard_uploads_total")
    svc.worker.submit(record.id)  # when full, the next sweep queues it
    return svc.view(record)


@router.get("/v1/attachments/{id}", tags=["attachments"])
async def status(id: str, svc: Svc) -> dict[str, Any]:
    """Status (IN_PROGRESS, APPROVED, REJECTED), reasons, detected type, size, SHA-256 and
    timings; never the contents."""
    record = await anyio.to_thread.run_sync(svc.db.get, id)
    if record is None:
        raise HTTPException(404, "no such attachment")
    return svc.view(record)


@router.get(
    "/v1/attachments/{id}/content",
    tags=["attachments"],
    responses={409: {"description": "still being scanned"}, 410: {"description": "rejected"}},
)
async def content(id: str, svc: Svc, inline: bool = False) -> Response:
    """The bytes, only once APPROVED. ``inline=true`` lets images show in a page; everything
    else is always a download."""
    try:
        found = await anyio.to_thread.run_sync(svc.lifecycle.content, id)
    except NotAvailable as exc:
        svc.metrics.inc("attachguard_http_refused_total", reason=f"content_{exc.status.lower()}")
        if exc.status == "REJECTED":
            raise HTTPException(410, "the attachment was rejected and deleted") from None
        raise HTTPException(409, "the attachment is still being scanned") from None
    if found is None:
        raise HTTPException(404, "no such attachment")
    record, data = found
    mime = str((record.report or {}).get("type", {}).get("mime", ""))
    show = inline and mime in INLINE_TYPES
    disposition = "inline" if show else "attachment"
    name = quote(clean_name(record.file_name), safe="")
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{name}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }
    media = mime if show else "application/octet-stream"
    return Response(data, media_type=media, headers=headers)


def _scan_event(svc: Service, body: Any) -> str:
    """The verdict on a FILE_SCANNER event's object; REJECTED whenever it cannot be resolved."""
    try:
        event = parse_event(body)
    except MalformedEvent as exc:
        log.warning("scan: %s; REJECTED", exc)
        return "REJECTED"
    where = event.location
    if where.Bucket != svc.store.bucket:
        log.warning("scan %s: bucket is not this service's store; REJECTED", event.File.FileId)
        return "REJECTED"
    try:
        if svc.store.size(where.Key) > svc.policy.max_file_size:
            svc.metrics.inc("attachguard_scans_total", status="REJECTED")
            svc.metrics.inc("attachguard_rejections_total", code="TOO_LARGE")
            return "REJECTED"
        data = svc.store.get(where.Key)
    except (BadKey, NotFound):
        log.warning("scan %s: no such object in the store; REJECTED", event.File.FileId)
        return "REJECTED"
    report = svc.scanner.scan(data, clean_name(event.File.FileName))
    svc.metrics.observe_scan(report.to_dict(), rejecting_codes(report))
    return report.status.value


@router.post("/v1/scan", tags=["connect"])
async def scan(request: Request, svc: Svc) -> JSONResponse:
    """Amazon Connect's FILE_SCANNER contract: the event in, exactly ``{"Status": ...}`` out.
    The object must be in this service's store (``Bucket`` = the store's bucket); anything
    that cannot be resolved or parsed is REJECTED, as Connect itself would do."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    try:
        status = await anyio.to_thread.run_sync(_scan_event, svc, body)
    except Exception:  # a storage or scanner failure is a rejection, never a 500 or a pass
        log.exception("scan: failed; REJECTED")
        status = "REJECTED"
    return JSONResponse({"Status": status})


@router.get("/v1/chats/{chat_id}/events", tags=["chats"])
async def events(chat_id: str, svc: Svc) -> StreamingResponse:
    """Server-sent events: one ``attachment`` event (the attachment as `GET` shows it) each time
    an attachment of this chat changes status; the chat's attachments are sent first."""

    def snapshot() -> list[dict[str, Any]]:
        return [svc.view(r) for r in svc.db.chat(chat_id)]

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        svc.hub.stream(chat_id, snapshot), media_type="text/event-stream", headers=headers
    )
