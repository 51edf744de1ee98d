"""The service's guards: the Host allow-list (DNS rebinding), cross-site writes, /v1/stats without
a key, body limits per route, and no 5xx for any hostile body on any route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attachguard.pipeline import Scanner
from attachguard.service.guards import SCAN_BODY_LIMIT, SMALL_BODY_LIMIT, allowed_hosts, host_name
from support.service import make_client, wait_verdict

KEY = "k" * 32
REBIND = "rebind.attacker.example"


@pytest.fixture
def client(tmp_path: Path, scanner: Scanner) -> Iterator[TestClient]:
    with make_client(tmp_path / "data", scanner) as c:
        yield c


def approved(client: TestClient) -> str:
    answer = client.post("/v1/attachments", files={"file": ("note.txt", b"hello\n")})
    assert answer.status_code == 202, answer.text
    id = str(answer.json()["id"])
    assert wait_verdict(client, id)["status"] == "APPROVED"
    return id


def refused(client: TestClient, reason: str) -> float:
    metrics = client.app.state.service.metrics  # type: ignore[attr-defined]
    value: float = metrics.value("attachguard_http_refused_total", reason=reason)
    return value


def test_host_names() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:8000") == "[::1]" and host_name("127.0.0.1") == "127.0.0.1"
    assert allowed_hosts(None, ()) == frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
    assert "chat.example" in (allowed_hosts(None, ["chat.example:443"]) or ())
    assert allowed_hosts(KEY, ()) is None  # a key and no names: any name (0.0.0.0 behind DNS)
    assert allowed_hosts(KEY, ["chat.example"]) == frozenset({"chat.example"})
    assert allowed_hosts(None, ["*"]) is None


def test_rebound_host_reads_nothing(client: TestClient) -> None:
    id = approved(client)
    for path in (f"/v1/attachments/{id}/content", f"/v1/attachments/{id}", "/v1/stats", "/"):
        answer = client.get(path, headers={"Host": REBIND})
        assert answer.status_code == 400, path
        assert b"hello" not in answer.content and id.encode() not in answer.content
    answer = client.post(
        "/v1/attachments", files={"file": ("a.txt", b"x")}, headers={"Host": f"{REBIND}:8000"}
    )
    assert answer.status_code == 400
    assert refused(client, "host") == 5
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST"):
        answer = client.get(f"/v1/attachments/{id}/content", headers={"Host": host})
        assert answer.status_code == 200


def test_allowed_host_and_api_key(tmp_path: Path, scanner: Scanner) -> None:
    with make_client(tmp_path / "a", scanner, allowed_hosts=("chat.example",)) as c:
        assert c.get("/healthz", headers={"Host": "chat.example:8000"}).status_code == 200
        assert c.get("/healthz", headers={"Host": REBIND}).status_code == 400
    auth = {"Authorization": f"Bearer {KEY}"}
    with make_client(tmp_path / "b", scanner, api_key=KEY) as c:  # a key: any name
        assert c.get("/v1/stats", headers={**auth, "Host": "scanner.internal"}).status_code == 200
    with make_client(tmp_path / "c", scanner, api_key=KEY, allowed_hosts=("scan.example",)) as c:
        assert c.get("/v1/stats", headers={**auth, "Host": REBIND}).status_code == 400
        assert c.get("/v1/stats", headers={**auth, "Host": "scan.example"}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port of localhost is another origin
    ],
)
def test_cross_site_writes_refused(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post("/v1/attachments", files={"file": ("a.txt", b"x")}, headers=headers)
    assert answer.status_code == 403
    assert refused(client, "cross_site") == 1
    assert client.post("/v1/scan", json={}, headers=headers).status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts, Amazon Connect: not a browser
        {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://localhost:8000"},
    ],
)
def test_own_page_and_scripts_may_write(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post("/v1/attachments", files={"file": ("a.txt", b"x")}, headers=headers)
    assert answer.status_code == 202, answer.text


def test_cross_site_writes_pass_with_a_key(tmp_path: Path, scanner: Scanner) -> None:
    """With a key the browser cannot send it cross-site: the key is the guard."""
    headers = {"Authorization": f"Bearer {KEY}", "Origin": "https://app.example"}
    with make_client(tmp_path / "data", scanner, api_key=KEY) as c:
        answer = c.post("/v1/attachments", files={"file": ("a.txt", b"x")}, headers=headers)
        assert answer.status_code == 202


def test_stats_without_key_shows_no_full_ids(tmp_path: Path, scanner: Scanner) -> None:
    with make_client(tmp_path / "a", scanner) as c:
        id = approved(c)
        recent = c.get("/v1/stats").json()["recent"]
        assert [r["id"] for r in recent] == [id[:8]]
        assert id not in c.get("/v1/stats").text and "content_url" not in recent[0]
    auth = {"Authorization": f"Bearer {KEY}"}
    with make_client(tmp_path / "b", scanner, api_key=KEY) as c:
        answer = c.post("/v1/attachments", files={"file": ("a.txt", b"x")}, headers=auth)
        id = answer.json()["id"]
        assert c.get("/v1/stats", headers=auth).json()["recent"][0]["id"] == id


def test_scan_body_limit(client: TestClient) -> None:
    big = b'{"Version": "' + b"x" * SCAN_BODY_LIMIT + b'"}'
    assert client.post("/v1/scan", content=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused once the stream passes it
        for _ in range(64):
            yield b" " * 1024

    assert client.post("/v1/scan", content=chunks()).status_code == 413
    assert client.post("/v1/stats", content=b"x" * (SMALL_BODY_LIMIT + 1)).status_code == 413
    assert refused(client, "too_large") == 3


def test_deeply_nested_event_is_rejected(client: TestClient) -> None:
    nested = b"[" * (SCAN_BODY_LIMIT - 10)
    answer = client.post("/v1/scan", content=nested, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json() == {"Status": "REJECTED"}
    nested = b'{"a":' * 2000 + b"1" + b"}" * 2000
    assert client.post("/v1/scan", content=nested).json() == {"Status": "REJECTED"}


ROUTES = [
    ("POST", "/v1/attachments"),
    ("POST", "/v1/scan"),
    ("GET", "/v1/attachments/x"),
    ("GET", "/v1/attachments/x/content"),
    ("GET", "/v1/stats"),
    ("GET", "/v1/demo/samples/x"),
    ("GET", "/metrics"),
    ("GET", "/healthz"),
    ("PUT", "/v1/attachments"),
    ("DELETE", "/v1/attachments/x"),
]
CONTENT_TYPES = [
    "application/json",
    "multipart/form-data; boundary=b",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "text/plain",
]


def _hostile_bodies() -> st.SearchStrategy[bytes]:
    nested = st.integers(1, 5000).map(lambda n: b"[" * n)
    multipart = st.lists(st.sampled_from([b"--b\r\n", b"Content-Disposition: form-data; ",
                                          b'name="file"; filename="a"\r\n', b'name="file"\r\n',
                                          b"\r\n", b"x" * 100, b"--b--\r\n", b"\xff"]),
                         max_size=20).map(b"".join)  # fmt: skip
    return st.one_of(st.binary(max_size=3000), nested, multipart)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    route=st.sampled_from(ROUTES),
    body=_hostile_bodies(),
    content_type=st.sampled_from(CONTENT_TYPES),
    query=st.text(max_size=40),
)
def test_no_5xx_for_hostile_bodies(
    client: TestClient, route: tuple[str, str], body: bytes, content_type: str, query: str
) -> None:
    method, path = route
    answer = client.request(
        method,
        path,
        content=body,
        params={"inline": query, "minutes": query, "chat_id": query},
        headers={"Content-Type": content_type},
    )
    assert answer.status_code < 500, (route, answer.text[:300])


def test_two_file_fields_refused(client: TestClient) -> None:
    files = [("file", ("a.txt", b"clean")), ("file", ("b.txt", b"other"))]
    assert client.post("/v1/attachments", files=files).status_code == 422


def test_favicon(client: TestClient) -> None:
    for path in ("/favicon.ico", "/static/favicon.svg"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
