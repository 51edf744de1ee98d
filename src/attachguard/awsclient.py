"""boto3 clients as attachguard uses them: boto3's standard settings (region, credentials,
``AWS_ENDPOINT_URL*``), short timeouts, and no botocore retries — each caller retries in its
own loop, within the scan's or the event's deadline. boto3 is imported only when called."""

from __future__ import annotations

from typing import Any


def client(service: str, *, connect_timeout: float = 3, read_timeout: float = 15) -> Any:
    """A new boto3 client of ``service`` (``s3``, ``rekognition``, ``textract``...)."""
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    return boto3.client(service, config=config)
