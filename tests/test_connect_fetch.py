"""Reading the file from S3: which client-side errors are retried and which reject at once.

Missing credentials and client misconfiguration cannot fix themselves, so they reject the file
at once; network faults (no connection, read timeouts, dropped connections) are retried until
the deadline."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import (  # type: ignore[import-untyped]
    ConnectionClosedError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from attachguard.connect.fetch import fetch
from attachguard.connect.handler import ConnectScanner, Settings
from attachguard.connect.verdict import Rejected
from attachguard.policy import load_policy

DATA = b"Order A4711: the kettle arrived with a cracked lid.\n"


class FlakyS3:
    """An S3 client whose HeadObject raises ``errors`` (one per call) before it answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ContentLength": len(DATA), "ETag": '"e"'}

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        return {"Body": io.BytesIO(DATA)}


class Counting:
    """Counts the HeadObject calls a real client makes."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0

    def head_object(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self.client.head_object(**kwargs)


def get(s3: Any, seconds: float = 10.0) -> bytes:
    return bytes(fetch(s3, "b", "k", len(DATA), 10**6, time.monotonic() + seconds).data)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """boto3 finds no credentials anywhere (and asks no instance metadata service)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)


def test_no_credentials_rejects_at_once(no_credentials: None) -> None:
    # a fresh session: boto3's default one keeps the credentials other tests resolved
    session = boto3.session.Session(region_name="us-east-1")
    s3 = Counting(session.client("s3", endpoint_url="http://127.0.0.1:9"))
    started = time.monotonic()
    with pytest.raises(Rejected) as rejected:
        get(s3, seconds=30)
    assert rejected.value.code.name == "NO_CREDENTIALS"
    assert "NoCredentialsError" in str(rejected.value)
    assert s3.calls == 1 and time.monotonic() - started < 5  # no retries


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            "NO_CREDENTIALS",
        ),
        (NoRegionError(), "CONFIG_ERROR"),
    ],
    ids=["partial-credentials", "no-region"],
)
def test_configuration_errors_are_permanent(error: Exception, reason: str) -> None:
    s3 = FlakyS3(error)
    with pytest.raises(Rejected) as rejected:
        get(s3)
    assert rejected.value.code.name == reason and s3.calls == 1
    assert type(error).__name__ in str(rejected.value)


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://s3.amazonaws.com/b/k"),
        ConnectionClosedError(endpoint_url="https://s3.amazonaws.com/b/k"),
    ],
    ids=["read-timeout", "connection-closed"],
)
def test_network_faults_are_retried(error: Exception) -> None:
    s3 = FlakyS3(error, error)
    assert get(s3) == DATA and s3.calls == 3


def test_unreachable_endpoint_is_retried_until_the_deadline() -> None:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # nothing listens: EndpointConnectionError
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    s3 = Counting(client)
    with pytest.raises(Rejected) as rejected:
        get(s3, seconds=1.0)
    assert rejected.value.code.name == "S3_UNAVAILABLE"
    assert "EndpointConnectionError" in str(rejected.value) and s3.calls >= 2


def test_handler_rejects_missing_credentials_with_its_reason() -> None:
    s3 = FlakyS3(NoCredentialsError())
    scanner: Any = SimpleNamespace(policy=load_policy())  # never reached: no file to scan
    runner = ConnectScanner(Settings(), scanner=scanner, s3=s3, metrics=False)
    event = json.loads((Path(__file__).parent / "events" / "receipt.json").read_text())
    event["File"]["FileSizeInBytes"] = len(DATA)
    response, outcome = runner.handle(event, None)
    assert response == {"Status": "REJECTED"}
    assert outcome.codes == ["NO_CREDENTIALS"] and s3.calls == 1
