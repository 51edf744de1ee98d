"""The HTTP API under ``/v1`` (documented at ``/docs``): upload, status, content, scan, events."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse

from attachguard.connect.verdict import (
    NOT_FOUND,
    OUTSIDE_PREFIX,
    SIZE_MISMATCH,
    STORE_ERROR,
    WRONG_BUCKET,
    Outcome,
    Read,
    Rejected,
    decide,
    too_large,
)
from attachguard.service.lifecycle import NotAvailable, clean_name
from attachguard.service.state import Service
from attachguard.storage import BadKey, NotFound

log = logging.getLogger("attachguard.service")
SCAN_CONCURRENCY = 4  # FILE_SCANNER events scanned at once by /v1/scan (each under 2 KB)
T = TypeVar("T")

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
    request: Request,
    svc: Svc,
    file: Annotated[UploadFile, File(description="The attachment.")],
    chat_id: Annotated[str | None, Form(pattern=CHAT_ID)] = None,
    sender: Annotated[str | None, Form(max_length=64)] = None,
) -> dict[str, Any]:
    """Store an attachment in staging and queue its scan; it stays IN_PROGRESS (and cannot be
    downloaded) until the scan approves it. 413 over the policy's size limit, 503 when the
    scan queue is full; 422 for a form with two files (which one would be scanned?)."""
    if len((await request.form()).getlist("file")) != 1:
        raise HTTPException(422, "send exactly one 'file' field")
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


class StoreSource:
    """``/v1/scan``'s `Source`: the object in this service's store. As in the Lambda
    (`attachguard.connect.fetch`), ``S3Location.Key`` is the object's real key (the store's S3
    prefix included) and the object must hold exactly ``FileSizeInBytes``."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def read(
        self, bucket: str, key: str, expected_size: int, max_size: int, deadline: float
    ) -> Read:
        if bucket != self.store.bucket:
            raise Rejected(WRONG_BUCKET, "the bucket is not this service's store")
        # only S3Store has a prefix; the folder store's keys are the event's keys as they are
        prefix: str = getattr(self.store, "prefix", "")
        if not key.startswith(prefix):
            raise Rejected(OUTSIDE_PREFIX, "the key is outside this service's S3 prefix")
        own = key[len(prefix) :]  # still untrusted: the store's check_key refuses ".." and such
        size = _stored(self.store.size, own)
        if size != expected_size:
            message = f"the object holds {size:,} bytes but the event announced "
            raise Rejected(SIZE_MISMATCH, message + f"{expected_size:,}")
        if size > max_size:
            raise too_large(size, max_size)
        data = _stored(self.store.get, own)
        if len(data) != size:  # replaced between the size check and the read
            raise Rejected(SIZE_MISMATCH, "the object changed while it was read")
        return Read(data)


def _stored(call: Callable[[str], T], key: str) -> T:
    """A store call, its failures turned into rejections with a code."""
    try:
        return call(key)
    except (BadKey, NotFound):
        raise Rejected(NOT_FOUND, "no such object in the store") from None
    except Exception as exc:  # a storage failure is a rejection, never a 500 or a pass
        raise Rejected(STORE_ERROR, f"the store failed ({type(exc).__name__})") from exc


def _scan_event(svc: Service, body: Any) -> Outcome:
    """The verdict on a FILE_SCANNER event's object, by the one verdict path."""
    deadline = time.monotonic() + svc.policy.timeouts.scan + 5.0
    outcome = decide(body, StoreSource(svc.store), svc.scanner, deadline)
    event = outcome.event
    shown = "-"
    if event is not None:
        name = event.File.FileName
        shown = (
            f"{event.File.FileId} ({name!r})" if svc.settings.log_file_names else event.File.FileId
        )
    if outcome.error is not None:
        log.error("scan %s: failed; REJECTED", shown, exc_info=outcome.error)
    elif outcome.report is None:
        reasons = "; ".join(outcome.reasons)
        log.warning("scan %s: %s (%s); REJECTED", shown, reasons, ", ".join(outcome.codes))
    if outcome.report is not None:
        svc.metrics.observe_scan(outcome.report.to_dict(), outcome.codes)
    elif event is not None:  # resolved but not scannable: counted like a verdict
        svc.metrics.inc("attachguard_scans_total", status="REJECTED")
        for code in outcome.codes:
            svc.metrics.inc("attachguard_rejections_total", code=code)
    return outcome


@router.post("/v1/scan", tags=["connect"])
async def scan(request: Request, svc: Svc) -> JSONResponse:
    """Amazon Connect's FILE_SCANNER contract: the event in, exactly ``{"Status": ...}`` out.
    The object must be in this service's store (``Bucket`` = the store's bucket, ``Key`` the
    real key, under the store's S3 prefix if it has one) and hold exactly ``FileSizeInBytes``;
    anything that cannot be resolved, parsed or matched is REJECTED, as the Lambda does."""
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        body = None  # REJECTED (MALFORMED_EVENT), as the docs promise for any malformed event
    # a bounded number of scans at once: more would only wait for the scanner's engine threads
    # (the verdict's deadline starts when the scan does, so waiting here costs no engine time)
    limiter: anyio.CapacityLimiter = request.app.state.scan_limiter
    outcome = await anyio.to_thread.run_sync(_scan_event, svc, body, limiter=limiter)
    return JSONResponse(outcome.response)


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
