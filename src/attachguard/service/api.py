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


def carries_key(request: Request, svc: Service) -> bool:
    """True when no API key is configured or the request carries it (``Bearer <key>``)."""
    key = svc.settings.api_key
    if key is None:
        return True
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), key.encode())


def authorized(request: Request, svc: Annotated[Service, Depends(service)]) -> None:
    """With an API key configured, every /v1 call needs ``Authorization: Bearer <key>``."""
    if not carries_key(request, svc):
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


def _store_key(svc: Service, key: str) -> str | None:
    """The store's own key for an event's real S3 key, or None when the key lies outside the
    store's prefix (``--s3-prefix``): such an object is not this service's to judge."""
    # only S3Store has a prefix; the folder store's keys are the event's keys as they are
    prefix: str = getattr(svc.store, "prefix", "")
    if not key.startswith(prefix):
        return None
    return key[len(prefix) :]  # still untrusted: the store's check_key refuses ".." and the like


def _rejected(svc: Service, code: str) -> str:
    """REJECTED for an object that resolved but cannot be scanned, counted like a verdict."""
    svc.metrics.inc("attachguard_scans_total", status="REJECTED")
    svc.metrics.inc("attachguard_rejections_total", code=code)
    return "REJECTED"


def _scan_event(svc: Service, body: Any) -> str:
    """The verdict on a FILE_SCANNER event's object; REJECTED whenever it cannot be resolved.
    As in the Lambda (`attachguard.connect.fetch`), ``S3Location.Key`` is the object's real
    key (prefix included) and the object's size must be the event's ``FileSizeInBytes``."""
    try:
        event = parse_event(body)
    except MalformedEvent as exc:
        log.warning("scan: %s; REJECTED", exc)
        return "REJECTED"
    where, file = event.location, event.File
    shown = f"{file.FileId} ({file.FileName!r})" if svc.settings.log_file_names else file.FileId
    if where.Bucket != svc.store.bucket:
        log.warning("scan %s: bucket is not this service's store; REJECTED", shown)
        return "REJECTED"
    key = _store_key(svc, where.Key)
    if key is None:
        log.warning("scan %s: key is outside this service's S3 prefix; REJECTED", shown)
        return "REJECTED"
    try:
        size = svc.store.size(key)
        if size != file.FileSizeInBytes:
            log.warning(
                "scan %s: the object holds %d bytes but the event announced %d; REJECTED",
                shown,
                size,
                file.FileSizeInBytes,
            )
            return _rejected(svc, "SIZE_MISMATCH")
        if size > svc.policy.max_file_size:
            return _rejected(svc, "TOO_LARGE")
        data = svc.store.get(key)
    except (BadKey, NotFound):
        log.warning("scan %s: no such object in the store; REJECTED", shown)
        return "REJECTED"
    if len(data) != size:  # replaced between the size check and the read
        log.warning("scan %s: the object changed while it was read; REJECTED", shown)
        return _rejected(svc, "SIZE_MISMATCH")
    report = svc.scanner.scan(data, clean_name(file.FileName))
    svc.metrics.observe_scan(report.to_dict(), rejecting_codes(report))
    return report.status.value


@router.post("/v1/scan", tags=["connect"])
async def scan(request: Request, svc: Svc) -> JSONResponse:
    """Amazon Connect's FILE_SCANNER contract: the event in, exactly ``{"Status": ...}`` out.
    The object must be in this service's store (``Bucket`` = the store's bucket, ``Key`` the
    real key, under the store's S3 prefix if it has one) and hold exactly ``FileSizeInBytes``;
    anything that cannot be resolved, parsed or matched is REJECTED, as the Lambda does."""
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
