"""`Settings`: everything `attachguard serve` is configured with, validated at start-up."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from attachguard.errors import AttachguardError

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}
# Below 3 s a heartbeat (every third of the lease) is under a second: a busy database or a
# stalled interpreter would let live scans be taken over. A sweep more often than 5 times a
# second costs queries and gains nothing measurable.
LEASE_MIN = 3.0
SWEEP_MIN = 0.2


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; anything else is reachable from outside."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SettingsError(AttachguardError, ValueError):
    """A configuration the service refuses to start with; the message says why."""


class Settings(BaseModel):
    """The service's configuration. ``data_dir`` holds the embedded defaults: objects under
    ``objects/``, SQLite metadata in ``attachguard.db`` and the private clamd's ``clamd/``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = Path("attachguard-data")
    policy_path: Path | None = None
    database_url: str | None = None
    s3_bucket: str | None = None
    s3_prefix: str = ""
    api_key: str | None = None
    # Host names answered besides loopback (DNS rebinding guard); "*" answers any name.
    allowed_hosts: tuple[str, ...] = ()
    clamd: str | None = None
    log_file_names: bool = False
    workers: int = Field(2, ge=1, le=64)
    queue_size: int = Field(1000, ge=1)
    instance_alias: str = Field("attachguard", pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
    # A scan's lease: renewed every third of it while the scan runs, so it outlives a crashed
    # owner by at most this long. Take-over after a crash: lease + sweep seconds at most.
    lease_seconds: float = Field(10.0, ge=LEASE_MIN, le=3600)
    # How often every replica looks for work nobody holds (one indexed query each time).
    sweep_seconds: float = Field(1.0, ge=SWEEP_MIN, le=600)
    # On SIGTERM: how long scans in flight may run on before their leases are handed over.
    grace_seconds: float = Field(10.0, ge=0, le=600)
    # Store objects no row accounts for are removed once this old, at start-up and every hour.
    orphan_grace_seconds: float = Field(600.0, ge=0)
    orphan_sweep_seconds: float = Field(3600.0, gt=0)
    # False (--no-migrate): never change the schema; refuse to start unless it is current.
    migrate: bool = True
    # Verdicts kept in the database and reused for the same bytes (service/verdict_cache.py).
    verdict_cache: bool = True
    # An approved file that a rescan (after a signature update) rejects is deleted from final,
    # or moved to quarantine/ for an operator to examine (service/rescan.py); files per sweep.
    rescan_action: Literal["delete", "quarantine"] = "delete"
    rescan_batch: int = Field(50, ge=1)

    def check(self) -> None:
        """Refuse configurations that would expose files: `SettingsError` says why."""
        if not is_loopback(self.host) and not self.api_key:
            raise SettingsError(
                f"refusing to listen on {self.host}: anyone who can reach it could read "
                "approved attachments. Set an API key (--api-key or ATTACHGUARD_API_KEY) or "
                "bind to 127.0.0.1."
            )
        if self.api_key is not None and len(self.api_key) < 16:
            raise SettingsError("the API key must be at least 16 characters long")
        if self.sweep_seconds > self.lease_seconds:
            raise SettingsError(
                f"--sweep-seconds ({self.sweep_seconds:g}) must not be longer than "
                f"--lease-seconds ({self.lease_seconds:g}): expired leases would wait for the "
                "sweep, not the lease"
            )

    @property
    def database(self) -> str:
        """The SQLAlchemy URL of the metadata database (SQLite in ``data_dir`` by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'attachguard.db').resolve()}"
