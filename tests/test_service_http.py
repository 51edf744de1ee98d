"""The service over real HTTP on loopback: server-sent events, and 100 concurrent uploads with
none lost."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import httpx

from attachguard.demo import EICAR
from attachguard.pipeline import Scanner
from attachguard.samples import transcript
from attachguard.service.app import create_app
from attachguard.service.settings import Settings
from support.service import BOUND, live_server, wait_verdict


def _read_events(
    url: str, verdicts: int, out: list[dict[str, Any]], ready: threading.Event
) -> None:
    """Collect the stream's events until ``verdicts`` attachments are decided."""
    with httpx.stream("GET", url, timeout=BOUND) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        ready.set()
        for line in response.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
                if sum(e["status"] != "IN_PROGRESS" for e in out) >= verdicts:
                    return


def test_events_stream_status_changes(tmp_path: Path, scanner: Scanner) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"), scanner=scanner)
    with live_server(app) as base:
        events: list[dict[str, Any]] = []
        ready = threading.Event()
        reader = threading.Thread(
            target=_read_events,
            args=(f"{base}/v1/chats/chat-7/events", 2, events, ready),
            daemon=True,
        )
        reader.start()
        assert ready.wait(BOUND)
        for name, data in (("hello.txt", b"hello\n"), ("eicar.txt", EICAR)):
            answer = httpx.post(
                f"{base}/v1/attachments",
                files={"file": (name, data)},
                data={"chat_id": "chat-7", "sender": "agent"},
            )
            assert answer.status_code == 202
        reader.join(BOUND)  # a bound only: keep-alives every 2 s keep the stream itself open
        assert not reader.is_alive(), events
    seen = [(e["file_name"], e["status"]) for e in events]
    for name, verdict in (("hello.txt", "APPROVED"), ("eicar.txt", "REJECTED")):
        statuses = [status for n, status in seen if n == name]
        assert statuses in (["IN_PROGRESS", verdict], [verdict]), seen  # forward, once each
    assert all(e["chat_id"] == "chat-7" for e in events)
    rejected = next(e for e in events if e["status"] == "REJECTED")
    assert rejected["reasons"] and rejected["customer_reasons"]
    assert all("eicar" not in r.lower() for r in rejected["customer_reasons"])


async def _upload_all(base: str, files: list[tuple[str, bytes]]) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=BOUND) as client:

        async def one(name: str, data: bytes) -> str:
            answer = await client.post(
                "/v1/attachments", files={"file": (name, data)}, data={"chat_id": "load"}
            )
            assert answer.status_code == 202, answer.text
            return str(answer.json()["id"])

        return await asyncio.gather(*(one(n, d) for n, d in files))


def test_hundred_concurrent_uploads_none_lost(tmp_path: Path, scanner: Scanner) -> None:
    files = [(f"note-{i}.txt", transcript(4, seed=i)) for i in range(90)]
    files += [(f"eicar-{i}.txt", EICAR) for i in range(10)]
    app = create_app(Settings(data_dir=tmp_path / "data", workers=4), scanner=scanner)
    with live_server(app) as base:
        ids = asyncio.run(_upload_all(base, files))
        assert len(set(ids)) == 100
        with httpx.Client(base_url=base, timeout=30) as client:
            verdicts = [wait_verdict(client, id) for id in ids]
    by_status = {s: sum(v["status"] == s for v in verdicts) for s in ("APPROVED", "REJECTED")}
    assert by_status == {"APPROVED": 90, "REJECTED": 10}
    objects = [p for p in (tmp_path / "data" / "objects").rglob("*") if p.is_file()]
    assert len(objects) == 90 and all("/final/" in str(p) for p in objects)
