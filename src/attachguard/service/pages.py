"""The chat test page and the dashboard (HTML, scripts and styles shipped in the package)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

STATIC = resources.files("attachguard.service").joinpath("static")
STATIC_FILES = {
    "chat.js": "text/javascript",
    "dashboard.js": "text/javascript",
    "style.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
PAGE_HEADERS = {
    # the pages load nothing from elsewhere; a strict policy keeps it that way
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)


def _static(name: str, media: str) -> Response:
    return FileResponse(str(STATIC.joinpath(name)), media_type=media, headers=PAGE_HEADERS)


@router.get("/")
async def chat_page() -> Response:
    return _static("index.html", "text/html")


@router.get("/dashboard")
async def dashboard_page() -> Response:
    return _static("dashboard.html", "text/html")


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for it whatever the page says; an SVG is the one icon we ship."""
    return _static("favicon.svg", "image/svg+xml")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise HTTPException(404)
    return _static(name, STATIC_FILES[name])
