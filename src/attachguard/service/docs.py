"""``/docs`` (Swagger UI) and ``/redoc`` served with their scripts from this machine.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they are blank offline or behind a
firewall that only lets the service's own port through. The assets come from the
``fastapi-offline`` package (Swagger UI and ReDoc builds, no code of its own used); without it
installed, FastAPI's CDN pages are used as before.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS_PATH = "/docs-assets"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
}
# The pages' inline start-up scripts and styles need 'unsafe-inline'; anything from elsewhere is
# blocked before it is requested (ReDoc's footer fetches its logo from cdn.redoc.ly otherwise).
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; worker-src 'self' blob:; "
    "font-src 'self' data:; frame-ancestors 'none'"
)


def _page(html: HTMLResponse) -> HTMLResponse:
    html.headers["Content-Security-Policy"] = PAGE_CSP
    html.headers["X-Content-Type-Options"] = "nosniff"
    return html


def assets() -> Traversable | None:
    """The folder holding Swagger UI's and ReDoc's builds; None without ``fastapi-offline``."""
    try:
        return resources.files("fastapi_offline").joinpath("static")
    except ModuleNotFoundError:
        return None


def router(app: FastAPI, folder: Traversable) -> APIRouter:
    """The pages and their assets; ``app`` is built with ``docs_url=None, redoc_url=None``."""
    pages = APIRouter(include_in_schema=False)
    title = f"{app.title} — API"

    @pages.get("/docs")
    async def swagger() -> HTMLResponse:
        html = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
            # the default validator badge asks validator.swagger.io about the schema
            swagger_ui_parameters={"validatorUrl": None},
        )
        return _page(html)

    @pages.get("/redoc")
    async def redoc() -> HTMLResponse:
        html = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url="/favicon.ico",
            with_google_fonts=False,
        )
        return _page(html)

    @pages.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> Response:
        if name not in ASSETS:
            raise HTTPException(404)
        headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
        return FileResponse(str(folder.joinpath(name)), media_type=ASSETS[name], headers=headers)

    return pages
