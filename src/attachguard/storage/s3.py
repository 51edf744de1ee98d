"""`S3Store`: objects in one S3 bucket (AWS S3, MinIO or any S3 API) through boto3.

Credentials, region and endpoint come from boto3's standard settings: environment variables
(``AWS_ACCESS_KEY_ID``, ``AWS_REGION``, ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` for MinIO
and other S3 APIs), ``~/.aws/config`` or an instance role. Nothing is configured here, so the
service behaves like every other AWS tool on the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attachguard.storage.base import NotFound, check_key


def _missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


class S3Store:
    """Objects in ``bucket`` under an optional ``prefix``; ``client`` defaults to
    ``boto3.client("s3")`` (created once, shared by all threads: boto3 clients are thread-safe)."""

    def __init__(self, bucket: str, prefix: str = "", client: Any | None = None) -> None:
        if client is None:
            import boto3  # type: ignore[import-untyped]  # only S3 deployments load it

            client = boto3.client("s3")
        self._client = client
        self._bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @property
    def bucket(self) -> str:
        return self._bucket

    def describe(self) -> str:
        endpoint = getattr(self._client.meta, "endpoint_url", "")
        return f"s3://{self._bucket}/{self.prefix} at {endpoint}"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self._bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=self._key(key))
        except self._client.exceptions.ClientError as exc:
            if _missing(exc):
                raise NotFound(key) from exc
            raise
        body: bytes = answer["Body"].read()
        return body

    def copy(self, src: str, dst: str) -> None:
        source = {"Bucket": self._bucket, "Key": self._key(src)}
        try:
            self._client.copy_object(Bucket=self._bucket, Key=self._key(dst), CopySource=source)
        except self._client.exceptions.ClientError as exc:
            if _missing(exc):
                raise NotFound(src) from exc
            raise

    def delete(self, key: str) -> None:
        # S3 deletes are idempotent: a missing key answers 204 as well
        self._client.delete_object(Bucket=self._bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=self._key(key))
        except self._client.exceptions.ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def size(self, key: str) -> int:
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=self._key(key))
        except self._client.exceptions.ClientError as exc:
            if _missing(exc):
                raise NotFound(key) from exc
            raise
        return int(head["ContentLength"])

    def keys(self, prefix: str = "") -> Iterator[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self.prefix + prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])[len(self.prefix) :]
