"""`POST /v1/scan` keeps the Lambda's contract (real S3 keys under the store's prefix, the
announced size), and `/healthz` says little to callers without the API key."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from attachguard.demo import demo_samples
from attachguard.pipeline import Scanner
from attachguard.service import health
from attachguard.storage.s3 import S3Store
from support.service import make_client

KEY = "k" * 32
DAY = "connect/shop/Attachments/chat/2026/03/14/"


@pytest.fixture(scope="module")
def receipt() -> bytes:
    return demo_samples()["receipt.pdf"]


def event(key: str, bucket: str, size: int, name: str = "receipt.pdf") -> dict[str, Any]:
    location = {"S3Location": {"Key": key, "Bucket": bucket, "Arn": "arn:aws:s3:::x"}}
    file = {"FileId": "f1", "FileName": name, "FileSizeInBytes": size, "FileLocation": location}
    return {"Version": "1.0", "InstanceId": "i", "File": file}


def test_scan_takes_real_keys_under_the_s3_prefix(
    tmp_path: Path, scanner: Scanner, s3_bucket: tuple[Any, str], receipt: bytes
) -> None:
    s3, bucket = s3_bucket
    name = DAY + "f1_20260314T09:30_UTC.pdf"
    s3.put_object(Bucket=bucket, Key=f"tenant-a/{name}", Body=receipt)
    s3.put_object(Bucket=bucket, Key=f"tenant-b/{name}", Body=receipt)  # another tenant's
    s3.put_object(Bucket=bucket, Key=name, Body=receipt)  # outside any prefix
    store = S3Store(bucket, prefix="tenant-a", client=s3)
    with make_client(tmp_path / "data", scanner, store=store) as client:

        def verdict(key: str) -> object:
            answer = client.post("/v1/scan", json=event(key, bucket, len(receipt)))
            assert answer.status_code == 200
            return answer.json()

        assert verdict(f"tenant-a/{name}") == {"Status": "APPROVED"}  # the key Connect sends
        for foreign in (
            name,  # relative to the prefix: not a real key of this store
            f"tenant-b/{name}",
            f"tenant-ab/{name}",
            f"tenant-a/../tenant-b/{name}",
            f"tenant-a//{name}",
            "tenant-a/",
            f"tenant-a/{DAY}missing.pdf",
        ):
            assert verdict(foreign) == {"Status": "REJECTED"}, foreign


def test_scan_rejects_a_size_mismatch(
    tmp_path: Path, scanner: Scanner, receipt: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    key = DAY + "f1_20260314T09:30_UTC.pdf"
    caplog.set_level(logging.WARNING, logger="attachguard.service")
    with make_client(tmp_path / "data", scanner) as client:
        store = client.app.state.service.store  # type: ignore[attr-defined]
        store.put(key, receipt)
        for wrong in (len(receipt) - 1, len(receipt) + 1, 0):
            answer = client.post("/v1/scan", json=event(key, store.bucket, wrong, "plan.pdf"))
            assert answer.json() == {"Status": "REJECTED"}
        right = client.post("/v1/scan", json=event(key, store.bucket, len(receipt)))
        assert right.json() == {"Status": "APPROVED"}
        assert 'attachguard_rejections_total{code="SIZE_MISMATCH"} 3' in client.get("/metrics").text
    logged = [r.getMessage() for r in caplog.records if "announced" in r.getMessage()]
    assert len(logged) == 3 and all("plan.pdf" not in m for m in logged)
    caplog.clear()
    with make_client(tmp_path / "data", scanner, log_file_names=True) as client:
        client.post("/v1/scan", json=event(key, store.bucket, 1, "plan.pdf"))
    assert any("plan.pdf" in r.getMessage() for r in caplog.records)


def _request(key: str | None = None) -> Request:
    headers = [(b"authorization", f"Bearer {key}".encode())] if key else []
    return Request({"type": "http", "headers": headers})


def test_healthz_is_brief_without_the_key(tmp_path: Path, scanner: Scanner) -> None:
    with make_client(tmp_path / "data", scanner, api_key=KEY) as client:
        svc = client.app.state.service  # type: ignore[attr-defined]
        for anonymous in (_request(), _request("w" * 32)):
            brief = health.probe(svc, anonymous)
            assert brief["ok"] is True and set(brief) == {"ok", "checks"}
            assert all(c == {"ok": True} for c in brief["checks"].values())
            assert str(tmp_path) not in json.dumps(brief)
        full = health.probe(svc, _request(KEY))
        assert str(tmp_path) in full["checks"]["storage"]["where"] and "engines" in full
    with make_client(tmp_path / "data", scanner) as client:  # no key configured: all of it
        svc = client.app.state.service  # type: ignore[attr-defined]
        assert str(tmp_path) in health.probe(svc, _request())["checks"]["storage"]["where"]
    clamd = {"ok": True, "source": "/run/clamd.sock", "test_signatures_only": True}
    brief = health.brief({"ok": True, "checks": {"clamd": clamd}, "engines": {"clamav": "1"}})
    assert brief == {"ok": True, "checks": {"clamd": {"ok": True, "test_signatures_only": True}}}
