"""The signature updater Lambda: mirrors ClamAV's official databases into S3 with cvdupdate.

Runs on a schedule (every few hours, ``deploy/container/template.yaml``). Each run:

1. restores its working copy in /tmp from the mirror (``s3://<bucket>/<prefix>``, see
   `attachguard.connect.definitions`): cvdupdate's state (what it downloaded last, when it may
   ask again) and the files the manifest lists, unless /tmp already holds them;
2. runs cvdupdate, Cisco-Talos's tool for private mirrors: one DNS TXT query
   (``current.cvd.clamav.net``) says which versions exist, and only databases that changed are
   downloaded — what the ClamAV CDN expects of mirrors (it rate-limits clients that download
   whole databases too often, and cvdupdate honours its ``Retry-After``);
3. checks every changed container (header, MD5 of the body; clamd checks Talos's digital
   signature when it loads it) and refuses one older than what the mirror already has;
4. uploads the changed files, then the manifest (last: scanners see whole updates only), then
   cvdupdate's state.

It logs one line per run (what changed, the newest database's version and age) and the
``MirrorAgeHours`` metric; the template alarms when the mirror is over a day old or the metric
stops. Settings: ``ATTACHGUARD_DEFINITIONS`` (``s3://bucket/prefix/``, required),
``ATTACHGUARD_CLAMAV_MIRROR`` (another mirror's base URL; its versions are then read from each
file's header over HTTP instead of DNS), ``ATTACHGUARD_CLAMAV_DATABASES`` (comma-separated
file names; default ``main.cvd,daily.cvd,bytecode.cvd``).
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attachguard.connect import s3util
from attachguard.connect.cvd import CvdError, verify
from attachguard.connect.definitions import (
    STATE,
    FileEntry,
    Location,
    Manifest,
    age_hours,
    read_manifest,
    write_manifest,
)
from attachguard.errors import AttachguardError

OFFICIAL_MIRROR = "https://database.clamav.net"
DATABASES = ("main.cvd", "daily.cvd", "bytecode.cvd")
WORKDIR = Path("/tmp/attachguard-cvdupdate")  # noqa: S108  # Lambda's only writable place
_STATE_LIMIT = 1024 * 1024


class UpdateFailed(AttachguardError):
    """cvdupdate reported errors (the mirror kept what it had; the run is marked failed)."""


@dataclass(frozen=True)
class UpdaterSettings:
    """Where the mirror is, where its files come from, and which."""

    definitions: Location
    mirror: str = OFFICIAL_MIRROR
    databases: tuple[str, ...] = DATABASES
    workdir: Path = WORKDIR

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> UpdaterSettings:
        location = env.get("ATTACHGUARD_DEFINITIONS")
        if not location:
            raise ValueError("ATTACHGUARD_DEFINITIONS is not set (s3://bucket/prefix/)")
        names = env.get("ATTACHGUARD_CLAMAV_DATABASES") or ",".join(DATABASES)
        return cls(
            Location.parse(location),
            (env.get("ATTACHGUARD_CLAMAV_MIRROR") or OFFICIAL_MIRROR).rstrip("/"),
            tuple(n.strip() for n in names.split(",") if n.strip()),
            Path(env.get("ATTACHGUARD_UPDATER_WORKDIR") or WORKDIR),
        )


@dataclass
class Run:
    """What one run did."""

    updated: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: int = 0
    manifest: Manifest | None = None

    def summary(self, now: float | None = None) -> dict[str, Any]:
        newest = self.manifest.newest() if self.manifest else None
        age = age_hours(newest.built if newest else None, now)
        return {
            "updated": self.updated,
            "refused": self.refused,
            "errors": self.errors,
            "newest_version": newest.version if newest else None,
            "age_hours": None if age is None else round(age, 1),
        }


def update(s3: Any, settings: UpdaterSettings) -> Run:
    """One mirroring run (see the module docstring); ``errors`` counts what cvdupdate could
    not do (what it did do is published all the same)."""
    where, db_dir = settings.definitions, settings.workdir / "db"
    db_dir.mkdir(parents=True, exist_ok=True)
    current = read_manifest(s3, where)
    restore(s3, settings, current)
    run = Run(errors=_download(settings))
    files = dict(current.files) if current else {}
    for name in settings.databases:
        entry = _publish(s3, where, db_dir / name, files.get(name), run)
        if entry is not None:
            files[name] = entry
    run.manifest = current
    if run.updated:
        run.manifest = Manifest(updated=time.time(), files=files)
        write_manifest(s3, where, run.manifest)
    state = (settings.workdir / "state.json").read_bytes()
    s3util.retry(lambda: s3.put_object(Bucket=where.bucket, Key=where.key(STATE), Body=state))
    return run


def _download(settings: UpdaterSettings) -> int:
    """Run cvdupdate; the number of errors it met (it lets network errors through: one)."""
    try:
        return int(_cvdupdate(settings).db_update())
    except Exception as exc:  # e.g. requests' ConnectionError: publish what it got before
        logging.getLogger(__name__).warning("cvdupdate failed: %s: %s", type(exc).__name__, exc)
        return 1


def restore(s3: Any, settings: UpdaterSettings, manifest: Manifest | None) -> None:
    """cvdupdate's state and the mirrored files, from S3 into the working directory (files
    already there with the manifest's SHA-256 are kept)."""
    where, db_dir = settings.definitions, settings.workdir / "db"
    try:
        state = s3util.read(s3, where.bucket, where.key(STATE), _STATE_LIMIT)
    except Exception as exc:
        if not s3util.missing(exc):
            raise
    else:
        (settings.workdir / "state.json").write_bytes(state)
    for name, entry in (manifest.files if manifest else {}).items():
        path = db_dir / name
        if path.is_file() and s3util.sha256_of(path) == entry.sha256:
            continue
        s3util.download(
            s3, where.bucket, where.key(name), path, entry.size, entry.sha256, entry.version_id
        )


def _publish(
    s3: Any, where: Location, path: Path, published: FileEntry | None, run: Run
) -> FileEntry | None:
    """Upload ``path`` when it differs from what the mirror has; its new manifest entry."""
    if not path.is_file():
        return None
    digest = s3util.sha256_of(path)
    if published is not None and published.sha256 == digest:
        return None
    try:
        header = verify(path)
    except CvdError as exc:  # a damaged download stays out of the mirror
        run.refused.append(path.name)
        logging.getLogger(__name__).warning("refused %s: %s", path.name, exc)
        return None
    if header is not None and published is not None and header.version < published.version:
        run.refused.append(path.name)  # never roll the mirror back to an older database
        return None

    def put() -> Any:
        with path.open("rb") as body:
            return s3.put_object(Bucket=where.bucket, Key=where.key(path.name), Body=body)

    answer = s3util.retry(put)
    run.updated.append(path.name)
    return FileEntry(
        version_id=answer.get("VersionId"),
        size=path.stat().st_size,
        sha256=digest,
        version=header.version if header else 0,
        built=header.built if header else None,
        signatures=header.signatures if header else 0,
    )


def _cvdupdate(settings: UpdaterSettings) -> Any:
    """cvdupdate set up in the working directory, for the configured mirror and databases:
    its own log files and PyPI version check are off (the Lambda logs to CloudWatch; the
    image pins its version)."""
    # imported by name: an optional dependency (the ``mirror`` extra), untyped
    cvd_update: Any = importlib.import_module("cvdupdate.cvdupdate").CVDUpdate

    official_dns = settings.mirror == OFFICIAL_MIRROR

    class Mirror(cvd_update):  # type: ignore[misc]
        def _init_logging(self) -> None:
            self.logger = logging.getLogger("cvdupdate")

        def pypi_update_check(self) -> bool:
            return True

        def _query_dns_txt_entry(self) -> bool:
            if official_dns:
                return bool(super()._query_dns_txt_entry())
            # another mirror publishes no DNS record: every file's "DNS field" is 0 below, so
            # cvdupdate reads each version from the file's header over HTTP instead
            self.dns_version_tokens = ["(no DNS record for this mirror)"]
            return True

    tool = Mirror(
        config=str(settings.workdir / "config.json"),
        db_dir=str(settings.workdir / "db"),
        log_dir=str(settings.workdir / "logs"),
    )
    official: dict[str, Any] = cvd_update.default_state["dbs"]
    dbs: dict[str, Any] = tool.state["dbs"]
    for name in [n for n in dbs if n not in settings.databases]:
        del dbs[name]
    for name in settings.databases:
        entry = dbs.setdefault(name, _new_entry())
        if settings.mirror == OFFICIAL_MIRROR and name in official:
            entry["url"], entry["DNS field"] = official[name]["url"], official[name]["DNS field"]
        else:  # no DNS record for other mirrors and files: each file's header says
            entry["url"], entry["DNS field"] = f"{settings.mirror}/{name}", 0
    return tool


def _new_entry() -> dict[str, Any]:
    return {
        "url": "",
        "retry after": 0,
        "last modified": 0,
        "last checked": 0,
        "DNS field": 0,
        "local version": 0,
        "CDIFFs": [],
    }


def clean(settings: UpdaterSettings) -> None:
    """Remove the working directory (tests; Lambda discards /tmp with the environment)."""
    shutil.rmtree(settings.workdir, ignore_errors=True)


_logger: Any = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point (``attachguard.connect.updater.handler``), run on a schedule: one
    JSON log line and the ``MirrorAgeHours`` metric; fails (`UpdateFailed`) when cvdupdate
    reported errors, so that the run counts in the function's ``Errors``."""
    global _logger
    import boto3  # type: ignore[import-untyped]
    from aws_lambda_powertools import Logger

    if _logger is None:
        _logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME"))
    settings = UpdaterSettings.from_env()
    run = update(boto3.client("s3"), settings)
    summary = run.summary()
    _age_metric(summary["age_hours"], _logger.service)
    if run.errors:
        _logger.error("signature update failed", extra=summary)
        raise UpdateFailed(f"cvdupdate reported {run.errors} error(s); see its log lines")
    _logger.info("signature update", extra=summary)
    return summary


def _age_metric(age: float | None, service: str) -> None:
    """``MirrorAgeHours``: how old the newest mirrored database is (the template alarms on
    it, and on its absence)."""
    from aws_lambda_powertools import single_metric
    from aws_lambda_powertools.metrics import MetricUnit

    if age is None:
        return
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "attachguard"
    with single_metric(
        "MirrorAgeHours",
        MetricUnit.NoUnit,
        age,
        namespace=namespace,
        default_dimensions={"service": service},
    ):
        pass
