"""Crash recovery: `attachguard serve` killed (SIGKILL) in the middle of scans, restarted on the
same data folder; every file ends correctly, none approved without a scan, none lost."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from attachguard.clamav.daemon import PrivateClamd
from attachguard.demo import EICAR, demo_samples
from attachguard.service.lifecycle import SCAN_DELAY_ENV
from support.service import spawn_service, wait_verdict


def test_kill_during_scan_then_restart(tmp_path: Path, clamd_daemon: PrivateClamd) -> None:
    data_dir = tmp_path / "data"
    receipt = demo_samples()["receipt.pdf"]
    # every scan first sleeps 30 s: the kill lands while both files are being scanned
    with spawn_service(data_dir, clamd_daemon.address, {SCAN_DELAY_ENV: "30"}) as (proc, url):
        ids = {}
        for name, data in (("receipt.pdf", receipt), ("eicar.txt", EICAR)):
            answer = httpx.post(f"{url}/v1/attachments", files={"file": (name, data)})
            assert answer.status_code == 202
            ids[name] = answer.json()["id"]
        time.sleep(0.5)
        for id in ids.values():
            assert httpx.get(f"{url}/v1/attachments/{id}").json()["status"] == "IN_PROGRESS"
            assert httpx.get(f"{url}/v1/attachments/{id}/content").status_code == 409
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    staged = [p for p in (data_dir / "objects").rglob("*") if p.is_file()]
    assert len(staged) == 2 and all("/staging/" in str(p) for p in staged)

    with (
        spawn_service(data_dir, clamd_daemon.address) as (_proc, url),
        httpx.Client(base_url=url) as client,
    ):
        approved = wait_verdict(client, ids["receipt.pdf"])
        rejected = wait_verdict(client, ids["eicar.txt"])
        assert approved["status"] == "APPROVED" and approved["type"]["label"] == "pdf"
        assert rejected["status"] == "REJECTED" and rejected["reasons"]
        assert client.get(f"/v1/attachments/{ids['receipt.pdf']}/content").content == receipt
    left = [p for p in (data_dir / "objects").rglob("*") if p.is_file()]
    assert len(left) == 1 and "/final/" in str(left[0])
