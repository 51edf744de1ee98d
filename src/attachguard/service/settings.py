"""`Settings`: everything `attachguard serve` is configured with, validated at start-up."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from attachguard.errors import AttachguardError

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


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
    # Seconds another replica waits before taking over a scan whose owner went silent.
    lease_seconds: float = Field(120.0, gt=0)
    sweep_seconds: float = Field(15.0, gt=0)
    # Store objects no row accounts for are removed once this old, at start-up and every hour.
    orphan_grace_seconds: float = Field(600.0, ge=0)
    orphan_sweep_seconds: float = Field(3600.0, gt=0)
    # False (--no-migrate): never change the schema; refuse to start unless it is current.
    migrate: bool = True

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

    @property
    def database(self) -> str:
        """The SQLAlchemy URL of the metadata database (SQLite in ``data_dir`` by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'attachguard.db').resolve()}"
