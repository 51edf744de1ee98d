"""Building the Lambda's warm state from its settings: the policy, clamd, the scanner, S3.

Called once per Lambda execution environment (lazily, on the first event). A policy stored in
S3 is read with the same client as the attachments (a few retries on throttling, 5xx and
network faults: a transient fault must not fail every event of an environment); a moderation
backend (``ATTACHGUARD_MODERATION``) or OCR backend (``ATTACHGUARD_OCR``) named in the
environment overrides the policy's ``engines.moderation.backend`` or ``engines.sensitive.ocr``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from attachguard import awsclient
from attachguard.connect import s3util
from attachguard.connect.antivirus import REFRESH_INTERVAL, Antivirus
from attachguard.connect.definitions import Definitions, Location
from attachguard.policy import Policy, PolicyError, load_policy, parse_policy

if TYPE_CHECKING:
    from attachguard.cache import CachedScanner, VerdictStore
    from attachguard.pipeline import Scanner


IMAGE_DATABASE = Path("/var/lib/clamav")
# Lambda's only writable place; one per machine by default (ATTACHGUARD_CLAMD_DIR to share none)
PRIVATE_CLAMD_DIR = Path("/tmp/attachguard-clamd")  # noqa: S108


# A warm environment's verdicts in memory: at 1-3 KB a report, about 2 MB of the function's
# 2-3 GB; a week in DynamoDB (signatures change daily, so older entries are rarely used).
DEFAULT_CACHE_ENTRIES = 1024
DEFAULT_CACHE_TTL_HOURS = 168.0


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """The Lambda's settings, from its environment (see `attachguard.connect.handler`)."""

    policy: str | None = None
    moderation: str | None = None
    ocr: str | None = None  # engines.sensitive.ocr, from the template's OcrBackend
    clamd: str | None = None
    log_file_names: bool = False
    bucket: str | None = None
    namespace: str = "attachguard"
    definitions: str | None = None  # s3://bucket/prefix/ of the signature mirror
    clamav_database: Path = IMAGE_DATABASE  # the signatures baked into the image
    refresh_interval: float = REFRESH_INTERVAL
    clamd_dir: Path = PRIVATE_CLAMD_DIR  # a private clamd's socket, config, signatures
    cache_entries: int = DEFAULT_CACHE_ENTRIES  # verdicts kept in memory (0: no cache)
    cache_table: str | None = None  # a DynamoDB table shared by every environment
    cache_ttl_hours: float = DEFAULT_CACHE_TTL_HOURS

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            policy=env.get("ATTACHGUARD_POLICY") or None,
            moderation=env.get("ATTACHGUARD_MODERATION") or None,
            ocr=env.get("ATTACHGUARD_OCR") or None,
            clamd=env.get("ATTACHGUARD_CLAMD") or None,
            log_file_names=_flag(env.get("ATTACHGUARD_LOG_FILE_NAMES")),
            bucket=env.get("ATTACHGUARD_BUCKET") or None,
            namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or "attachguard",
            definitions=env.get("ATTACHGUARD_DEFINITIONS") or None,
            clamav_database=Path(env.get("ATTACHGUARD_CLAMAV_DATABASE") or IMAGE_DATABASE),
            refresh_interval=float(
                env.get("ATTACHGUARD_DEFINITIONS_REFRESH_SECONDS") or REFRESH_INTERVAL
            ),
            clamd_dir=Path(env.get("ATTACHGUARD_CLAMD_DIR") or PRIVATE_CLAMD_DIR),
            cache_entries=int(
                env.get("ATTACHGUARD_VERDICT_CACHE_ENTRIES") or DEFAULT_CACHE_ENTRIES
            ),
            cache_table=env.get("ATTACHGUARD_VERDICT_CACHE_TABLE") or None,
            cache_ttl_hours=float(
                env.get("ATTACHGUARD_VERDICT_CACHE_TTL_HOURS") or DEFAULT_CACHE_TTL_HOURS
            ),
        )


# Loading the official database takes tens of seconds. Only the container's warm-up thread
# waits this long (attachguard.connect.container): events never build the scanner themselves.
CLAMD_START_TIMEOUT = 300.0
_clamd_lock = threading.Lock()
_private: Antivirus | None = None


def s3_client() -> Any:
    """An S3 client with boto3's standard settings (region, credentials, ``AWS_ENDPOINT_URL*``);
    botocore's own retries are off because the handler retries within its deadline."""
    return awsclient.client("s3", read_timeout=10)


def with_backend(text: str, backend: str | None, ocr: str | None = None) -> str:
    """Policy YAML with ``engines.moderation.backend`` set to ``backend`` and
    ``engines.sensitive.ocr`` to ``ocr`` (each unchanged when None): the template's parameters
    win over the policy file."""
    overrides = {"moderation": ("backend", backend), "sensitive": ("ocr", ocr)}
    if backend is None and ocr is None:
        return text
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("engines", {}), dict):
        return text  # parse_policy names the problem
    engines = data.setdefault("engines", {})
    for engine, (key, value) in overrides.items():
        if value is not None:
            options = engines.get(engine)
            engines[engine] = {**(options if isinstance(options, dict) else {}), key: value}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def read_policy(
    location: str | None, backend: str | None, s3: Any = None, ocr: str | None = None
) -> Policy:
    """The policy at a path or ``s3://bucket/key`` (the packaged default when None), with the
    environment's moderation and OCR backends (`with_backend`)."""
    if location is None and backend is None and ocr is None:
        return load_policy()
    if location is None:
        from attachguard.policy import default_policy_text

        return parse_policy(with_backend(default_policy_text(), backend, ocr), "(default)")
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        try:
            text = s3util.read(s3 or s3_client(), bucket, key, 1024 * 1024).decode("utf-8")
        except Exception as exc:
            raise PolicyError(f"cannot read policy {location}: {type(exc).__name__}") from exc
    else:
        try:
            text = Path(location).read_text("utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy {location}: {exc.strerror}") from exc
    return parse_policy(with_backend(text, backend, ocr), location)


def antivirus(settings: Settings, s3: Any = None, logger: Any = None) -> Antivirus | None:
    """The malware engine's clamd for ``settings.clamd``: None (no malware engine) for unset
    or ``none``; ``private``: one clamd per execution environment, started on first use of
    `Antivirus.client`, on the image's signatures kept current from ``settings.definitions``."""
    global _private
    address = settings.clamd
    if address is None or address.lower() == "none":
        return None
    log = logger if logger is not None else logging.getLogger("attachguard.antivirus")
    if address != "private":
        return Antivirus(log, address=address)
    with _clamd_lock:
        if _private is None:
            mirror = Location.parse(settings.definitions) if settings.definitions else None
            definitions = Definitions(
                s3 if s3 is not None else s3_client,
                mirror,
                settings.clamd_dir / "db",
                settings.clamav_database,
            )
            _private = Antivirus(
                log,
                daemon_dir=settings.clamd_dir,
                definitions=definitions,
                interval=settings.refresh_interval,
            )
        return _private


def build(settings: Settings, s3: Any = None, engine: Antivirus | None = None) -> Scanner:
    """The scanner the settings describe, with ``engine``'s clamd (started here when private);
    `PolicyError` when the policy is unusable."""
    from attachguard.scanner import build_scanner

    policy = read_policy(settings.policy, settings.moderation, s3, settings.ocr)
    client = engine.client(CLAMD_START_TIMEOUT) if engine is not None else None
    return build_scanner(policy, client)


def verdict_store(
    settings: Settings, dynamodb: Any = None, logger: Any = None
) -> VerdictStore | None:
    """Where the Lambda keeps verdicts: an LRU per environment (``cache_entries``; 0 for no
    cache), in front of the DynamoDB table ``cache_table`` when one is set."""
    from attachguard.cache import LruCache, Tiered

    if settings.cache_entries <= 0:
        return None
    near = LruCache(settings.cache_entries)
    if settings.cache_table is None:
        return near
    from attachguard.connect.dynamo_cache import DynamoCache

    shared = DynamoCache(settings.cache_table, dynamodb, settings.cache_ttl_hours * 3600, logger)
    return Tiered(near, shared)


def with_cache(scanner: Scanner, store: VerdictStore | None) -> Scanner | CachedScanner:
    """``scanner`` through ``store`` (unchanged without one)."""
    if store is None:
        return scanner
    from attachguard.cache import CachedScanner

    return CachedScanner(scanner, store)
