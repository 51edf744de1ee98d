"""Finding a clamd for a run: the one given, the system's, or a private one started for the run.

Used by the CLI and the service so that a first-time user needs no set-up: with nothing
configured, a private clamd is started on the official signatures when they are installed, or
on the generated test set otherwise (and the caller says so loudly).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from attachguard.clamav.client import ClamdClient, ClamdError
from attachguard.clamav.daemon import PrivateClamd

_log = logging.getLogger(__name__)
SYSTEM_CONFIG = Path("/etc/clamav/clamd.conf")
ENV_ADDRESS = "ATTACHGUARD_CLAMD"


class ClamdUnavailable(RuntimeError):
    """No usable clamd: the message says what was tried."""


@dataclass(frozen=True)
class ClamdSource:
    client: ClamdClient
    address: str
    description: str
    test_signatures: bool


def system_socket(config: Path | None = None) -> str | None:
    """The LocalSocket (or TCPAddr:TCPSocket) of the system clamd's configuration, if any."""
    try:
        lines = (config or SYSTEM_CONFIG).read_text().splitlines()
    except OSError:
        return None
    settings = {}
    for line in lines:
        parts = line.split(None, 1)
        if len(parts) == 2 and not parts[0].startswith("#"):
            settings[parts[0]] = parts[1].strip()
    if "LocalSocket" in settings:
        return settings["LocalSocket"]
    if "TCPSocket" in settings:
        return f"tcp:{settings.get('TCPAddr', '127.0.0.1')}:{settings['TCPSocket']}"
    return None


@contextmanager
def clamd_for(address: str | None = None, workdir: Path | None = None) -> Iterator[ClamdSource]:
    """A clamd to scan with, for the duration of the ``with`` block.

    ``address`` (or ``$ATTACHGUARD_CLAMD``) must answer, or `ClamdUnavailable` is raised.
    Otherwise the system clamd is used when it answers, else a private clamd is started in
    ``workdir`` (a temporary folder by default), started again should it die, and stopped at
    the end.
    """
    address = address or os.environ.get(ENV_ADDRESS)
    if address:
        client = ClamdClient(address)
        if not client.ping():
            raise ClamdUnavailable(f"clamd at {address} does not answer PING")
        yield ClamdSource(client, address, f"clamd at {address}", test_signatures=False)
        return
    system = system_socket()
    if system and ClamdClient(system, timeout=2).ping():
        yield ClamdSource(ClamdClient(system), system, f"system clamd at {system}", False)
        return
    with tempfile.TemporaryDirectory(prefix="attachguard-clamd-") as tmp:
        daemon = PrivateClamd(workdir or Path(tmp))
        try:
            daemon.start()
        except Exception as exc:
            raise ClamdUnavailable(f"could not start a private clamd: {exc}") from exc
        stop = threading.Event()
        watch = threading.Thread(
            target=_keep_running, args=(daemon, stop), name="attachguard-clamd", daemon=True
        )
        watch.start()
        try:
            test = daemon.database_kind != "official"
            kind = "TEST signatures only (EICAR, clamav-testfiles)" if test else "official"
            description = f"private clamd ({kind} database)"
            yield ClamdSource(ClamdClient(daemon.address), daemon.address, description, test)
        finally:
            stop.set()
            watch.join()
            daemon.stop()


WATCH_SECONDS = 2.0  # how often a private clamd is looked at


def _keep_running(daemon: PrivateClamd, stop: threading.Event) -> None:
    """Start a private clamd again whenever it has died (killed for memory, crashed), at the
    same address: until then every scan fails closed (ENGINE_ERROR), and without this the
    service rejected every file until someone restarted it."""
    while not stop.wait(WATCH_SECONDS):
        if daemon.running:
            continue
        _log.error("the private clamd is not running: starting it again")
        try:
            daemon.start()
        except (ClamdError, OSError):  # OSError: no fork under memory pressure; try again
            _log.exception("the private clamd could not be started again")
