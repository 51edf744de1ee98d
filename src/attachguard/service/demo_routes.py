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

    names = await anyio.to_thread.run_sync(lambda: list(_samples()))
    return [{"name": n, "expected": EXPECTED.get(n, "")} for n in names]


@private.get("/v1/demo/samples/{name}", tags=["demo"])
async def demo_file(name: str) -> Response:
    """One demo file's bytes (built in memory; harmless test content such as EICAR)."""
    data = (await anyio.to_thread.run_sync(_samples)).get(name)
    if data is None:
        raise HTTPException(404, "no such demo file")
    return Response(data, media_type="application/octet-stream")
