"""`attachguard serve`: the self-hosted attachment service on its embedded defaults.

Registered in the main CLI as ``main.add_command(serve)``; also runnable on its own with
``python -m attachguard.service.cli``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path

import click

from attachguard.policy import PolicyError
from attachguard.service.settings import LEASE_MIN, SWEEP_MIN, Settings, SettingsError

API_KEY_ENV = "ATTACHGUARD_API_KEY"


class ServeError(click.ClickException):
    """A configuration the service refuses: printed as ``Error: …``, exit status 2."""

    exit_code = 2


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data",
    "data_dir",
    default="attachguard-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for files (staging/final) and the SQLite metadata.",
)
@click.option("--policy", "policy_path", type=click.Path(path_type=Path), help="Policy YAML.")
@click.option(
    "--database-url",
    metavar="URL",
    help="Metadata in this database instead of SQLite, e.g. postgresql://user@host/db "
    "(replicas behind a load balancer share it).",
)
@click.option(
    "--s3-bucket",
    metavar="BUCKET",
    help="Keep files in this S3 bucket (credentials, region and AWS_ENDPOINT_URL for MinIO "
    "come from boto3's standard settings).",
)
@click.option("--s3-prefix", default="", metavar="PREFIX", help="Key prefix inside the bucket.")
@click.option(
    "--api-key",
    envvar=API_KEY_ENV,
    metavar="KEY",
    help=f"Require 'Authorization: Bearer KEY' on the API (or ${API_KEY_ENV}); mandatory "
    "when listening on anything but loopback.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests addressed to this host name (repeatable; '*' for any). "
    "Without it only localhost, 127.0.0.1 and [::1] are answered unless an API key is set.",
)
@click.option(
    "--clamd",
    metavar="SOCKET",
    help="clamd address (/path.sock or host:port); default: the system clamd, else a private "
    "one started and stopped with the service.",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Files scanned at once.",
)
@click.option(
    "--lease-seconds",
    default=10.0,
    show_default=True,
    type=click.FloatRange(LEASE_MIN, 3600),
    help="A scan's lease, renewed every third of it while the scan runs: how long a crashed "
    "replica's work waits before another takes it over.",
)
@click.option(
    "--sweep-seconds",
    default=1.0,
    show_default=True,
    type=click.FloatRange(SWEEP_MIN, 600),
    help="How often each replica looks for work nobody holds (one indexed query). Take-over "
    "after a crash: at most lease + sweep seconds.",
)
@click.option(
    "--grace-seconds",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0, 600),
    help="On SIGTERM: how long scans in flight may finish before they are handed over.",
)
@click.option("--log-file-names", is_flag=True, help="Show file names in logs and dashboard.")
@click.option(
    "--rescan-action",
    type=click.Choice(["delete", "quarantine"]),
    default="delete",
    show_default=True,
    help="An approved file that the rescan after a signature update now rejects is deleted from "
    "final, or first copied to quarantine/ in the store.",
)
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Never change the database schema: refuse to start unless it is this release's "
    "(migrate with 'attachguard db upgrade').",
)
def serve(
    host: str,
    port: int,
    data_dir: Path,
    policy_path: Path | None,
    database_url: str | None,
    s3_bucket: str | None,
    s3_prefix: str,
    api_key: str | None,
    allowed_hosts: tuple[str, ...],
    clamd: str | None,
    workers: int,
    lease_seconds: float,
    sweep_seconds: float,
    grace_seconds: float,
    log_file_names: bool,
    rescan_action: str,
    no_migrate: bool,
) -> None:
    """Run the attachment service: upload → staging → scan → final (or deleted), a chat test
    page at /, a dashboard at /dashboard and the API at /docs."""
    import uvicorn

    from attachguard.service.app import create_app
    from attachguard.service.db import check_schema
    from attachguard.service.handover import GracefulServer
    from attachguard.service.migrations import SchemaError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings(
            host=host,
            port=port,
            data_dir=data_dir,
            policy_path=policy_path,
            database_url=database_url,
            s3_bucket=s3_bucket,
            s3_prefix=s3_prefix,
            api_key=api_key or None,
            allowed_hosts=allowed_hosts,
            clamd=clamd,
            workers=workers,
            lease_seconds=lease_seconds,
            sweep_seconds=sweep_seconds,
            grace_seconds=grace_seconds,
            log_file_names=log_file_names,
            migrate=not no_migrate,
            rescan_action=rescan_action,
        )
        # Before uvicorn: a schema this release must not use is one line and exit status 2,
        # not a failed lifespan. Reads only; the migration itself runs in the app's start-up,
        # once the data folder is this process's.
        check_schema(settings.database, migrate=settings.migrate)
        app = create_app(settings)
    except (SettingsError, PolicyError, SchemaError) as exc:
        raise ServeError(str(exc)) from exc
    if settings.api_key is None:
        os.environ.pop(API_KEY_ENV, None)
    if data_dir_in_use(settings):
        raise ServeError(f"another attachguard service is using {settings.data_dir}")
    # Bound here, before start-up: a busy port is one line, and "ready: open …" (printed at the
    # end of start-up) is only ever printed by a service that can be reached.
    sock = _bind(host, port)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # request lines carry ids only, but stay quiet by default
        timeout_graceful_shutdown=3,  # open event streams would otherwise hold shutdown
    )
    # SIGTERM: unready, refuse uploads, hand the work over, then stop (service/handover.py)
    GracefulServer(config, app, settings.grace_seconds).run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (as uvicorn binds it); `ServeError` when busy."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.set_inheritable(True)
    return sock


def data_dir_in_use(settings: Settings) -> bool:
    """True when another service holds the data folder's lock (taken again, for good, at
    start-up): a second service is one line, not a failed start-up's traceback."""
    lock = settings.data_dir / ".lock"
    if (settings.database_url and settings.s3_bucket) or not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


if __name__ == "__main__":
    serve()
