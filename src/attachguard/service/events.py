"""Server-sent events per chat: each attachment's status changes, as they happen.

Scan threads call `EventHub.publish`; it hands the event to the event loop, which copies it into
each subscriber's queue. A subscriber's queue is bounded: a client too slow to read loses
events rather than growing memory, and the stream re-reads the chat from the database every few
seconds anyway — which is also how a change made by another replica reaches this one's clients.

Nothing is lost between the first read and the events: a stream subscribes *before* it reads
the chat, so a change published while the read runs is queued. An attachment's status only moves
forward (IN_PROGRESS, then a verdict that never changes), and a stream never sends it backwards:
an IN_PROGRESS event that was queued before a read that already showed the verdict is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

HEARTBEAT_SECONDS = 2.0
_STAGES = {"IN_PROGRESS": 0}  # every other status is a verdict: the last stage


def stage(status: str) -> int:
    """How far along an attachment with ``status`` is: 0 while scanned, 1 once decided."""
    return _STAGES.get(status, 1)


class EventHub:
    """Fan-out of attachment events to the streams open on each chat."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver events on ``loop`` (the server's loop, set at start-up)."""
        self._loop = loop

    @property
    def streams(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def publish(self, chat_id: str | None, event: dict[str, Any]) -> None:
        """Send ``event`` to the chat's streams; callable from any thread."""
        if chat_id is None or self._loop is None or self._loop.is_closed():
            return
        # the loop may close between the check and the call (shutdown): nobody is listening then
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._deliver, chat_id, event)

    def _deliver(self, chat_id: str, event: dict[str, Any]) -> None:
        for q in list(self._subscribers.get(chat_id, ())):
            if not q.full():
                q.put_nowait(event)

    async def stream(
        self,
        chat_id: str,
        snapshot: Callable[[], list[dict[str, Any]]],
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> AsyncIterator[str]:
        """The SSE text for one client: the chat's attachments now, then every change.
        ``snapshot`` reads the chat's attachments (it runs in a thread: it queries the
        database); it runs again every ``heartbeat`` seconds, however busy the stream, and
        any change it shows is sent, so nothing is missed — not even a change made by another
        replica while this one keeps publishing its own events."""
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=256)
        self._subscribers[chat_id].add(q)  # before the first read: see the module docstring
        sent: dict[str, int] = {}  # attachment id -> stage sent
        loop = asyncio.get_running_loop()
        try:
            yield "retry: 2000\n\n"
            while True:
                for item in await asyncio.to_thread(snapshot):
                    if _news(sent, item):
                        yield _format(item)
                # a fixed deadline, not a timeout per event: a steady flow of local events
                # must not postpone the re-read forever
                due = loop.time() + heartbeat
                with contextlib.suppress(TimeoutError):
                    while (left := due - loop.time()) > 0:
                        event = await asyncio.wait_for(q.get(), timeout=left)
                        if _news(sent, event):
                            yield _format(event)
                yield ": keep-alive\n\n"
        finally:
            self._subscribers[chat_id].discard(q)
            if not self._subscribers[chat_id]:
                del self._subscribers[chat_id]


def _news(sent: dict[str, int], item: dict[str, Any]) -> bool:
    """True (and noted in ``sent``) when ``item`` is further along than what was sent of it."""
    # a rescan's revocation (service/rescan.py) is a second verdict, one stage further on
    now = stage(item["status"]) + int(bool(item.get("rescanned")))
    if sent.get(item["id"], -1) >= now:
        return False
    sent[item["id"]] = now
    return True


def _format(event: dict[str, Any]) -> str:
    return f"event: attachment\nid: {event['id']}\ndata: {json.dumps(event)}\n\n"
