"""The Lambda's malware engine: a clamd, and how current its signatures are.

With ``ATTACHGUARD_CLAMD=private`` (the container image) `Antivirus.client` — run once, by the
warm-up during Lambda's init phase — prepares a signature directory in /tmp from the files
baked into the image (``ATTACHGUARD_CLAMAV_DATABASE``, freshclam's at build time), replaces
those the S3 mirror (``ATTACHGUARD_DEFINITIONS``, kept by the updater function) has newer
versions of, and starts clamd on it. A mirror that cannot be read is logged and the image's
signatures are used: an old database scans, a missing scanner does not.

Afterwards `refresh`, called at every event, starts a private clamd again if it died, and
checks the mirror at most every ``interval`` seconds, in a background thread; when files
changed it sends clamd ``RELOAD``, and clamd loads the new database beside the old one
(``ConcurrentDatabaseReload yes``) and switches when done, so scans never wait. A new database
that fails to load leaves clamd on the old one; it is logged, and not downloaded again. Should
clamd fail to *start* on the mirror's files, it is started on the image's alone.

With a clamd address instead, the signatures are that clamd's business (freshclam beside it);
`fields` reports them all the same: every log line carries the loaded database's version and
age (``signature_version``, ``signature_age_hours``), and each scan a ``SignatureAgeHours``
metric.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from attachguard.clamav.client import ClamdClient, ClamdError, SignatureVersion
from attachguard.connect.definitions import Definitions

REFRESH_INTERVAL = 300.0  # seconds between checks of the mirror (one small GetObject each)
RELOAD_TIMEOUT = 300.0  # seconds clamd may take to load a new database beside the old one


class Antivirus:
    """One clamd for this execution environment: private (``daemon_dir`` set) or at
    ``address``. ``definitions`` feeds a private clamd's signature directory."""

    def __init__(
        self,
        logger: Any,
        address: str | None = None,
        daemon_dir: Path | None = None,
        definitions: Definitions | None = None,
        interval: float = REFRESH_INTERVAL,
        reload_timeout: float = RELOAD_TIMEOUT,
    ) -> None:
        if (address is None) == (daemon_dir is None):
            raise ValueError("give a clamd address or a directory for a private clamd")
        self.logger = logger
        self.address = address
        self.daemon_dir = daemon_dir
        self.definitions = definitions
        self.interval = interval
        self.reload_timeout = reload_timeout
        self._daemon: Any = None
        self._lock = threading.Lock()
        self._checked = 0.0  # time.monotonic() of the last check of the mirror
        self._refreshing: threading.Thread | None = None
        self._status: ClamdClient | None = None

    def client(self, timeout: float = 300.0) -> ClamdClient:
        """A client of the running clamd; the first call starts a private one (waiting up to
        ``timeout`` seconds for it to load its signatures)."""
        with self._lock:
            if self.address is None:
                self._start(timeout)
            if self._status is None:
                self._status = ClamdClient(str(self.address), timeout=2.0)
            return ClamdClient(str(self.address))

    def _start(self, timeout: float) -> None:
        from attachguard.clamav.daemon import PrivateClamd

        if self._daemon is not None or self.daemon_dir is None:
            return
        daemon = PrivateClamd(self.daemon_dir, self._prepare())
        try:
            daemon.start(timeout=timeout)
        except ClamdError:
            if self.definitions is None or not self.definitions.refuse_downloaded():
                raise
            # the mirror's files broke clamd: start on the image's alone rather than not at all
            self.logger.exception("clamd cannot load the mirror's signatures; using the image's")
            self.definitions.reset()
            daemon = PrivateClamd(self.daemon_dir, self._database())
            daemon.start(timeout=timeout)
        if daemon.database_kind != "official":
            self.logger.warning(
                "no official ClamAV signatures: scanning with the test set only",
                extra={"database": str(daemon.database)},
            )
        self._daemon = daemon
        self._checked = time.monotonic()
        self.address = daemon.address

    def _prepare(self) -> Path | None:
        """The signature directory: the image's files, updated from the mirror (None: no
        signatures at all, and the private clamd builds its test set)."""
        if self.definitions is None:
            return None
        self.definitions.prepare()
        self._sync()
        return self._database()

    def _database(self) -> Path | None:
        definitions = self.definitions
        return definitions.directory if definitions and definitions.files() else None

    def _sync(self) -> list[str]:
        definitions = self.definitions
        if definitions is None:
            return []
        try:
            changed = definitions.sync()
        except Exception as exc:  # keep scanning with what we have; the age alarm watches
            self.logger.warning(
                "cannot update signatures from the mirror",
                extra={"mirror": str(definitions.where), "error": f"{type(exc).__name__}: {exc}"},
            )
            return []
        if changed:
            self.logger.info("signatures downloaded", extra={"files": changed})
        return changed

    def refresh(self) -> threading.Thread | None:
        """Check the mirror in the background when due; the thread doing it, or None."""
        if not self._lock.acquire(blocking=False):  # clamd is starting: nothing to refresh
            return None
        try:
            due = time.monotonic() - self._checked >= self.interval
            busy = self._refreshing is not None and self._refreshing.is_alive()
            mirror = self.definitions is not None and self.definitions.where is not None
            if self._daemon is None or busy:
                return None
            if not self._daemon.running:
                work, name = self._revive, "attachguard-clamd"
            elif mirror and due:
                work, name = self._refresh, "attachguard-signatures"
                self._checked = time.monotonic()
            else:
                return None
            self._refreshing = threading.Thread(target=work, name=name, daemon=True)
            self._refreshing.start()
            return self._refreshing
        finally:
            self._lock.release()

    def _revive(self) -> None:
        """Start the private clamd again: it died (killed for memory, crashed), and every scan
        fails closed (ENGINE_ERROR) until it answers. Without this, a warm environment rejected
        every file for the rest of its life."""
        daemon = self._daemon
        if daemon is None:
            return
        self.logger.error("clamd is not running: starting it again")
        try:
            daemon.start(timeout=self.reload_timeout)
        except (ClamdError, OSError):  # OSError: no fork under memory pressure; next event
            self.logger.exception("clamd could not be started again")
            return
        with self._lock:
            if self._daemon is not daemon:  # stopped meanwhile (tests): stay stopped
                daemon.stop()
                return
        self._status = ClamdClient(str(self.address), timeout=2.0)
        self.logger.info("clamd started again", extra=self.fields())

    def _refresh(self) -> None:
        changed = self._sync()
        if not changed:
            return
        try:
            loaded = self._daemon.reload(timeout=self.reload_timeout)
        except ClamdError as exc:
            self.logger.warning("clamd refused to reload", extra={"error": str(exc)})
            return
        if loaded:
            self._status = ClamdClient(str(self.address), timeout=2.0)  # not the cached answer
            self.logger.info("signatures loaded", extra={"files": changed, **self.fields()})
        elif self.definitions is not None:
            # clamd keeps scanning with the previous database; these files are not tried again
            refused = self.definitions.refuse_downloaded()
            self.logger.error(
                "clamd kept its previous signatures: the new ones did not load",
                extra={"files": changed, "refused": refused, **self.fields()},
            )

    def signatures(self) -> SignatureVersion | None:
        """What the running clamd has loaded (None before it runs or when it does not
        answer within 2 s)."""
        status = self._status
        if status is None:
            return None
        try:
            return status.signatures()
        except ClamdError:
            return None

    def fields(self) -> dict[str, Any]:
        """``signature_version`` and ``signature_age_hours`` for a log line (empty before
        clamd runs; None values with a database that has no version, e.g. the test set)."""
        loaded = self.signatures()
        if loaded is None:
            return {}
        age = loaded.age_hours()
        return {
            "signature_version": loaded.version,
            "signature_age_hours": None if age is None else round(age, 1),
        }

    def stop(self) -> None:
        """Stop a private clamd (tests; Lambda ends with the environment)."""
        with self._lock:
            if self._daemon is not None:
                self._daemon.stop()
                self._daemon = None
