"""A real S3 API over HTTP for the tests: moto's server mode on a free loopback port.

`s3_server` starts it once per session and points boto3 at it through boto3's standard
settings (``AWS_ENDPOINT_URL_S3``, fake credentials, a Region), exactly as an operator would
point the Lambda handler or ``attachguard connect invoke`` at another endpoint. Each test gets
a fresh bucket from `s3_bucket`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from support.net import free_port

__all__ = ["s3_bucket", "s3_server"]

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a running moto server; boto3 is configured to use it for S3."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in [*ENV, "AWS_ENDPOINT_URL_S3"]}
    os.environ.update(ENV)
    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def s3_bucket(s3_server: str) -> tuple[Any, str]:
    """A new, empty bucket and an S3 client made with boto3's standard settings."""
    import boto3  # type: ignore[import-untyped]

    client = boto3.client("s3")
    name = f"attachments-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name
