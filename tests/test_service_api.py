"""The HTTP API in-process (TestClient): upload → verdict, content rules, bad requests, the
FILE_SCANNER endpoint, authentication, health and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from attachguard.codes import MALWARE
from attachguard.demo import EICAR, demo_samples
from attachguard.pipeline import Scanner
from attachguard.service.cli import serve
from attachguard.service.settings import Settings, SettingsError, is_loopback
from attachguard.service.state import customer_reasons
from support.service import BOUND, GatedScanner, make_client, wait_verdict

KEY = "k" * 32


@pytest.fixture
def client(tmp_path: Path, scanner: Scanner) -> Iterator[TestClient]:
    with make_client(tmp_path / "data", scanner) as c:
        yield c


@pytest.fixture(scope="module")
def receipt() -> bytes:
    return demo_samples()["receipt.pdf"]


def upload(client: TestClient, name: str, data: bytes, **form: str) -> dict[str, object]:
    answer = client.post("/v1/attachments", files={"file": (name, data)}, data=form)
    assert answer.status_code == 202, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_receipt_approved_and_downloadable(client: TestClient, receipt: bytes) -> None:
    body = upload(client, "receipt.pdf", receipt, chat_id="chat-1", sender="customer")
    assert body["status"] == "IN_PROGRESS" and body["chat_id"] == "chat-1"
    verdict = wait_verdict(client, str(body["id"]))
    assert verdict["status"] == "APPROVED" and verdict["reasons"] == []
    assert verdict["type"]["label"] == "pdf" and verdict["size"] == len(receipt)
    assert "total" in verdict["timings_ms"] and len(verdict["sha256"]) == 64
    content = client.get(f"/v1/attachments/{body['id']}/content")
    assert content.status_code == 200 and content.content == receipt
    assert content.headers["content-type"] == "application/octet-stream"
    assert content.headers["content-disposition"].startswith("attachment;")
    assert content.headers["x-content-type-options"] == "nosniff"


def test_eicar_rejected_with_reason(client: TestClient) -> None:
    body = upload(client, "eicar.txt", EICAR)
    verdict = wait_verdict(client, str(body["id"]))
    assert verdict["status"] == "REJECTED"
    assert any("eicar" in r.lower() or "antivirus" in r.lower() for r in verdict["reasons"])
    assert verdict["customer_reasons"] == [MALWARE.customer]  # the sender's words
    assert client.get(f"/v1/attachments/{body['id']}/content").status_code == 410
    assert EICAR.decode() not in str(verdict)  # never contents


def test_reports_stored_without_customer_texts_get_them_from_their_codes() -> None:
    """Records decided before reports carried ``customer_reasons``: never the technical text."""
    located = {"code": "MALWARE", "action": "reject", "location": "word/media/x.bin"}
    allowed = {"code": "PDF_EMBEDDED_FILE", "action": "allow"}
    old = {"status": "REJECTED", "reasons": ["EICAR inside word/media/x.bin"]}
    assert customer_reasons(old | {"findings": [located, allowed]}) == [MALWARE.customer]
    lost = old | {"reasons": ["the file was lost from staging"], "findings": []}
    assert customer_reasons(lost) == ["This file couldn't be shared."]
    gone = old | {"findings": [{"code": "NO_SUCH_ENGINE_CODE", "action": "reject"}]}
    assert customer_reasons(gone) == ["This file couldn't be shared."]
    assert customer_reasons({"status": "APPROVED", "reasons": [], "findings": [allowed]}) == []
    assert customer_reasons({"customer_reasons": ["Plain words."]}) == ["Plain words."]


def test_content_denied_while_in_progress(tmp_path: Path, scanner: Scanner) -> None:
    gated = GatedScanner(scanner)
    with make_client(tmp_path / "data", gated) as client:
        body = upload(client, "hello.txt", b"hello\n")
        assert gated.started.wait(BOUND)
        assert client.get(f"/v1/attachments/{body['id']}").json()["status"] == "IN_PROGRESS"
        assert client.get(f"/v1/attachments/{body['id']}/content").status_code == 409
        gated.gate.set()
        assert wait_verdict(client, str(body["id"]))["status"] == "APPROVED"
        assert client.get(f"/v1/attachments/{body['id']}/content").status_code == 200


def test_unknown_ids(client: TestClient) -> None:
    for path in (
        "/v1/attachments/nope",
        "/v1/attachments/nope/content",
        "/v1/attachments/..%2F..%2Fetc%2Fpasswd/content",
    ):
        assert client.get(path).status_code == 404


def test_missing_file_is_422(client: TestClient) -> None:
    assert client.post("/v1/attachments", data={"chat_id": "c"}).status_code == 422
    assert client.post("/v1/attachments").status_code == 422


def test_bad_chat_id_is_422(client: TestClient) -> None:
    answer = client.post(
        "/v1/attachments", files={"file": ("a.txt", b"a")}, data={"chat_id": "../x"}
    )
    assert answer.status_code == 422


@pytest.fixture
def small(tmp_path: Path, scanner: Scanner) -> Iterator[TestClient]:
    policy = tmp_path / "policy.yaml"
    policy.write_text("allowed_extensions: [.txt]\nmax_file_size: 100KB\n")
    with make_client(tmp_path / "data", scanner, policy_path=policy) as c:
        yield c


def test_oversized_refused_by_content_length(small: TestClient) -> None:
    answer = small.post("/v1/attachments", files={"file": ("big.txt", b"x" * 300_000)})
    assert answer.status_code == 413 and "limit" in answer.json()["detail"]


def test_oversized_refused_while_streaming(small: TestClient) -> None:
    """No Content-Length (chunked): counted as it arrives, refused once past the limit."""
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"'
        "\r\nContent-Type: text/plain\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(100):
            yield b"x" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = small.post(
        "/v1/attachments",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 413


def test_just_over_the_file_limit_is_413(small: TestClient) -> None:
    """Over the file limit but within the multipart allowance: refused by the handler."""
    answer = small.post("/v1/attachments", files={"file": ("big.txt", b"x" * 100_001)})
    assert answer.status_code == 413


def test_hostile_file_names(client: TestClient, tmp_path: Path) -> None:
    for name in ("../../etc/passwd", "..\\..\\boot.ini", "/etc/shadow", "a\x00b.txt"):
        body = upload(client, name, b"root:x:0:0\n")
        verdict = wait_verdict(client, str(body["id"]))
        assert "/" not in verdict["file_name"] and "\\" not in verdict["file_name"]
    keys = [p for p in (tmp_path / "data" / "objects").rglob("*") if p.is_file()]
    assert all("passwd" not in str(p) and "shadow" not in str(p) for p in keys)
    assert all(p.resolve().is_relative_to(tmp_path) for p in keys)
    assert not (tmp_path / "etc").exists()


def test_scan_endpoint_speaks_file_scanner(client: TestClient, receipt: bytes) -> None:
    store = client.app.state.service.store  # type: ignore[attr-defined]
    store.put("connect/shop/Attachments/chat/2026/03/14/f1_20260314T09:30_UTC.pdf", receipt)
    store.put("connect/shop/Attachments/chat/2026/03/14/f2_20260314T09:31_UTC.txt", EICAR)

    def event(key: str, bucket: str = store.bucket, name: str = "x.pdf") -> dict[str, object]:
        location = {"S3Location": {"Key": key, "Bucket": bucket, "Arn": "arn:aws:s3:::x"}}
        size = len(EICAR) if name == "a.txt" else len(receipt)
        return {
            "Version": "1.0",
            "InstanceId": "i",
            "File": {
                "FileId": "f1",
                "FileCreationTime": 1,
                "FileName": name,
                "FileSizeInBytes": size,
                "FileLocation": location,
            },
        }

    prefix = "connect/shop/Attachments/chat/2026/03/14/"
    ok = client.post("/v1/scan", json=event(prefix + "f1_20260314T09:30_UTC.pdf"))
    assert ok.status_code == 200 and ok.json() == {"Status": "APPROVED"}
    bad = client.post("/v1/scan", json=event(prefix + "f2_20260314T09:31_UTC.txt", name="a.txt"))
    assert bad.json() == {"Status": "REJECTED"}
    for hostile in (
        event("../../etc/passwd"),
        event(prefix + "missing.pdf"),
        event(prefix + "f1_20260314T09:30_UTC.pdf", bucket="someone-elses"),
        {"not": "an event"},
    ):
        assert client.post("/v1/scan", json=hostile).json() == {"Status": "REJECTED"}
    assert client.post("/v1/scan", content=b"{not json").json() == {"Status": "REJECTED"}

    def broken(key: str) -> bytes:
        raise OSError("disk gone")

    store.get = broken  # a storage failure: still exactly {"Status": "REJECTED"}, not a 500
    failed = client.post("/v1/scan", json=event(prefix + "f1_20260314T09:30_UTC.pdf"))
    assert failed.status_code == 200 and failed.json() == {"Status": "REJECTED"}


def test_api_key(tmp_path: Path, scanner: Scanner) -> None:
    with make_client(tmp_path / "data", scanner, api_key=KEY) as client:
        assert client.post("/v1/attachments", files={"file": ("a.txt", b"a")}).status_code == 401
        assert client.get("/v1/attachments/x").status_code == 401
        assert client.get("/metrics").status_code == 401
        wrong = {"Authorization": "Bearer " + "w" * 32}
        assert client.get("/v1/attachments/x", headers=wrong).status_code == 401
        good = {"Authorization": f"Bearer {KEY}"}
        assert client.get("/v1/attachments/x", headers=good).status_code == 404
        assert client.get("/healthz").status_code == 200  # probes need no key
        # ...but without the key they learn only yes or no, not where the files are
        assert "where" not in client.get("/healthz").json()["checks"]["storage"]
        detailed = client.get("/healthz", headers=good).json()["checks"]["storage"]
        assert "where" in detailed
        assert client.get("/").status_code == 200


def test_refuses_public_bind_without_key() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(SettingsError, match="API key"):
        Settings(host="0.0.0.0").check()
    Settings(host="0.0.0.0", api_key=KEY).check()
    result = CliRunner().invoke(serve, ["--host", "0.0.0.0"], env={"ATTACHGUARD_API_KEY": ""})
    assert result.exit_code == 2 and "API key" in result.output


def test_health_and_metrics(client: TestClient, receipt: bytes) -> None:
    wait_verdict(client, str(upload(client, "eicar.txt", EICAR)["id"]))
    wait_verdict(client, str(upload(client, "receipt.pdf", receipt)["id"]))
    health = client.get("/healthz")
    assert health.status_code == 200
    checks = health.json()["checks"]
    assert checks["storage"]["ok"] and checks["database"]["kind"] == "sqlite"
    text = client.get("/metrics").text
    assert 'attachguard_scans_total{status="APPROVED"} 1' in text
    assert 'attachguard_scans_total{status="REJECTED"} 1' in text
    assert 'attachguard_rejections_total{code="MALWARE"} 1' in text
    assert 'attachguard_scan_seconds_bucket{le="+Inf"} 2' in text
    assert "attachguard_queue_depth 0" in text
    stats = client.get("/v1/stats").json()
    assert stats["counts"] == {"APPROVED": 1, "REJECTED": 1}
    assert sum(stats["series"]["rejected"]) == 1 and stats["series"]["reasons"]["MALWARE"] == 1
    assert all("file_name" not in r for r in stats["recent"])  # names only when opted in


def test_pages_served(client: TestClient) -> None:
    for path in ("/", "/dashboard", "/static/chat.js", "/static/style.css", "/docs"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/../app.py").status_code == 404
    assert "default-src 'self'" in client.get("/").headers["content-security-policy"]
    samples = client.get("/v1/demo/samples").json()
    assert {"name": "receipt.pdf", "expected": "APPROVED"} in samples
    assert {s["name"] for s in samples} == set(demo_samples())  # listed without being built
