"""The demo endpoints behind the chat page's "Replay the scenario": the demo files and the
verdict each should get (harmless test content such as EICAR, built in memory)."""

from __future__ import annotations

from functools import cache

import anyio
from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from attachguard.service.api import authorized

private = APIRouter(dependencies=[Depends(authorized)])


@cache
def _samples() -> dict[str, bytes]:
    from attachguard.demo import demo_samples

    return demo_samples()


@private.get("/v1/demo/samples", tags=["demo"])
async def demo_list() -> list[dict[str, str]]:
    """The demo files the chat page can send (a receipt, EICAR, ...) and the expected verdict."""
    from attachguard.demo import EXPECTED

    # Named from the table, not built: every page load asks for the list, and building the files
    # takes a second of CPU (2 s under load) that would compete with the page's first scans.
    return [{"name": name, "expected": verdict} for name, verdict in EXPECTED.items()]


@private.get("/v1/demo/samples/{name}", tags=["demo"])
async def demo_file(name: str) -> Response:
    """One demo file's bytes (built in memory; harmless test content such as EICAR)."""
    data = (await anyio.to_thread.run_sync(_samples)).get(name)
    if data is None:
        raise HTTPException(404, "no such demo file")
    return Response(data, media_type="application/octet-stream")
