"""Verdicts in a DynamoDB table, shared by every execution environment of the Lambda.

Each warm environment keeps its own `attachguard.cache.LruCache`; with
``ATTACHGUARD_VERDICT_CACHE_TABLE`` set (the templates' ``VerdictCache`` parameter, off by
default) a verdict one environment made is reused by the others and by the next cold start.
An item is ``{"key": S, "entry": S, "expires": N}``: the cache key (`attachguard.cache.cache_key`,
which holds the policy's digest, every engine's version and the signature version, so any change
misses), the report's name-independent JSON (never the file's contents), and an epoch-seconds
expiry that the table's TTL removes (DynamoDB deletes expired items within days, not at once,
so `get` checks the expiry itself). The role may only GetItem and PutItem on this table.

Every call has a short timeout and no retry (boto3's own, off): the cache must cost the scan
less than it saves, and any error — throttling, access denied, a missing table — is a miss,
logged at most once a minute, never a failed scan. Whoever can write to the table can approve
files: only the scanner's role may.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from attachguard import awsclient

__all__ = ["MAX_ENTRY_BYTES", "DynamoCache", "dynamodb_client"]

MAX_ENTRY_BYTES = 350_000  # DynamoDB's item limit is 400 KB; a report is typically 1-3 KB
_QUIET = 60.0  # seconds between two warnings about a failing table


def dynamodb_client() -> Any:
    """A DynamoDB client with boto3's standard settings and short timeouts, no retries."""
    return awsclient.client("dynamodb", connect_timeout=1, read_timeout=2)


class DynamoCache:
    """A `attachguard.cache.VerdictStore` over DynamoDB table ``table``; ``client`` is a
    boto3 DynamoDB client (made on first use when None); entries live ``ttl`` seconds."""

    def __init__(
        self, table: str, client: Any = None, ttl: float = 7 * 24 * 3600.0, logger: Any = None
    ) -> None:
        self.table = table
        self._client = client
        self.ttl = ttl
        self.logger = logger or logging.getLogger("attachguard.cache")
        self._warned = 0.0

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = dynamodb_client()
        return self._client

    def get(self, key: str) -> str | None:
        try:
            answer = self.client.get_item(TableName=self.table, Key={"key": {"S": key}})
        except Exception as exc:  # botocore's errors, whatever their class: a miss
            self._warn("read", exc)
            return None
        item = answer.get("Item")
        if not item:
            return None
        try:
            if float(item["expires"]["N"]) <= time.time():
                return None  # expired, not yet removed by the TTL
            return str(item["entry"]["S"])
        except (KeyError, TypeError, ValueError):
            return None  # an item someone else wrote: not ours to trust

    def put(self, key: str, entry: str) -> None:
        if len(entry.encode()) > MAX_ENTRY_BYTES:
            return
        item = {
            "key": {"S": key},
            "entry": {"S": entry},
            "expires": {"N": str(int(time.time() + self.ttl))},
        }
        try:
            self.client.put_item(TableName=self.table, Item=item)
        except Exception as exc:  # a full table, throttling, no permission: the next scan pays
            self._warn("write", exc)

    def _warn(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= _QUIET:
            self._warned = now
            self.logger.warning(
                f"verdict cache: cannot {what} the DynamoDB table; scanning without it",
                extra={"table": self.table, "error": type(exc).__name__},
            )
