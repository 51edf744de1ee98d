"""`EventHub.stream`, the server-sent events of a chat: nothing published is lost between the
stream's first read and its subscription, no stale event takes an attachment back to
IN_PROGRESS, and the re-read of the database keeps its schedule however busy the stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from attachguard.service.events import EventHub

Snapshot = Callable[[], list[dict[str, Any]]]


async def _sent(
    hub: EventHub, snapshot: Snapshot, until: tuple[str, str], heartbeat: float = 5.0
) -> list[tuple[str, str]]:
    """The (id, status) pairs one stream sends, up to and with ``until``."""
    stream = hub.stream("chat", snapshot, heartbeat=heartbeat)
    out: list[tuple[str, str]] = []
    try:
        async with asyncio.timeout(30):  # a bound only: the events come at once
            async for text in stream:
                for line in text.splitlines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        out.append((event["id"], event["status"]))
                        if out[-1] == until:
                            return out
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    raise AssertionError("the stream ended")


def test_a_verdict_published_while_the_stream_reads_is_sent() -> None:
    """The decision lands after the first read saw IN_PROGRESS but before the stream waits for
    events: it is queued (the stream subscribed first), not lost."""

    async def run() -> list[tuple[str, str]]:
        hub = EventHub()
        hub.bind(asyncio.get_running_loop())

        def snapshot() -> list[dict[str, Any]]:
            hub.publish("chat", {"id": "a", "status": "APPROVED"})
            hub.publish("chat", {"id": "end", "status": "APPROVED"})
            return [{"id": "a", "status": "IN_PROGRESS"}]

        return await _sent(hub, snapshot, until=("end", "APPROVED"))

    assert asyncio.run(run()) == [("a", "IN_PROGRESS"), ("a", "APPROVED"), ("end", "APPROVED")]


def test_a_stale_event_does_not_take_a_verdict_back() -> None:
    """The upload's IN_PROGRESS event was queued before the read that already shows the
    verdict: the stream sends the verdict once and never IN_PROGRESS after it."""

    async def run() -> list[tuple[str, str]]:
        hub = EventHub()
        hub.bind(asyncio.get_running_loop())

        def snapshot() -> list[dict[str, Any]]:
            hub.publish("chat", {"id": "a", "status": "IN_PROGRESS"})
            hub.publish("chat", {"id": "a", "status": "REJECTED"})
            hub.publish("chat", {"id": "end", "status": "APPROVED"})
            return [{"id": "a", "status": "REJECTED"}]

        return await _sent(hub, snapshot, until=("end", "APPROVED"))

    assert asyncio.run(run()) == [("a", "REJECTED"), ("end", "APPROVED")]


def test_stream_rereads_the_database_while_events_keep_coming() -> None:
    """Local events every 20 ms must not starve the 200 ms re-read that brings another
    replica's decision."""

    async def run() -> int:
        hub = EventHub()
        hub.bind(asyncio.get_running_loop())
        reads = 0

        def snapshot() -> list[dict[str, Any]]:
            nonlocal reads
            reads += 1
            return [{"id": "remote", "status": "IN_PROGRESS" if reads == 1 else "APPROVED"}]

        async def chatter() -> None:
            n = 0
            while True:
                n += 1
                hub.publish("chat", {"id": f"local-{n}", "status": "APPROVED"})
                await asyncio.sleep(0.02)

        task = asyncio.create_task(chatter())
        try:
            await _sent(hub, snapshot, until=("remote", "APPROVED"), heartbeat=0.2)
        finally:
            task.cancel()
        return reads

    assert asyncio.run(run()) >= 2
