"""A private clamd for one process: the CLI, the demo service and the tests.

`PrivateClamd` writes its own ``clamd.conf`` (from the packaged template) into a work directory,
starts ``clamd`` in the foreground as the current user with a Unix socket, log and temporary
directory inside that work directory, and waits until it answers PING. It loads the official
database when ``/var/lib/clamav`` has one (kept current by freshclam), else the generated test
set from `signatures` — ``database_kind`` says which, and only "official" protects anyone.

Production deployments usually point `ClamdClient` at the system's clamd instead
(``clamav-daemon``); see docs/clamav.md.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import time
from importlib import resources
from pathlib import Path
from string import Template
from types import TracebackType
from typing import IO

from attachguard.children import spawn
from attachguard.clamav.client import ClamdClient, ClamdError
from attachguard.clamav.signatures import build_test_database

# sun_path holds 108 bytes on Linux (104 on BSD/macOS); a longer socket path cannot be bound.
_MAX_SOCKET_PATH = 100


def official_database(path: Path = Path("/var/lib/clamav")) -> Path | None:
    """``path`` when it holds the official main and daily databases (.cvd or .cld), else None."""
    names = {p.name for p in path.glob("*.c[vl]d")} if path.is_dir() else set()
    has = all(f"{db}.cvd" in names or f"{db}.cld" in names for db in ("main", "daily"))
    return path if has else None


def _clamd_binary() -> str:
    # Debian installs clamd in /usr/sbin, which is not on every user's PATH
    found = shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise ClamdError("clamd is not installed (Debian/Ubuntu: apt-get install clamav-daemon)")
    return found


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return ""
    return " | ".join(line for line in text.strip().splitlines()[-lines:] if line)


# What clamd writes to its log when a reload ends (ClamAV 1.x, ConcurrentDatabaseReload yes).
_RELOADED = "Database correctly reloaded"
_RELOAD_FAILED = ("Database reload failed", "reload_th: Database load failed")


def _reload_outcome(logfile: Path, start: int) -> bool | None:
    """True/False once the log, from byte ``start`` on, says how a reload ended; else None."""
    try:
        with logfile.open("rb") as log:
            size = log.seek(0, 2)
            log.seek(start if start <= size else 0)  # rotated since: the new file
            text = log.read().decode("utf-8", "replace")
    except OSError:
        return None
    if _RELOADED in text:
        return True
    if any(marker in text for marker in _RELOAD_FAILED):
        return False
    return None


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def stop_stale(pidfile: Path, config: Path, timeout: float = 10.0) -> int | None:
    """Stop a clamd a killed earlier run left on this work directory: the pid in ``pidfile``,
    only when its command line is clamd with ``config`` (a recycled pid is someone else's).
    Returns the pid stopped, or None."""
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text().strip())
        command = _cmdline(pid)
        ours = f"--config-file={config}" in command
        if command and Path(command[0]).name == "clamd" and ours:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _cmdline(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _cmdline(pid):
                os.kill(pid, signal.SIGKILL)
            return pid
    return None


class PrivateClamd:
    """A clamd owned by this process. Use as a context manager, or `start` / `stop`.

    ``database`` is a signature directory; None picks the official database if installed,
    else builds the test set in ``workdir/testdb``. `start` may be called again after `stop`.
    """

    def __init__(self, workdir: Path, database: Path | None = None) -> None:
        self.workdir = Path(workdir).resolve()
        if database is None:
            database = official_database() or build_test_database(self.workdir / "testdb")
        self.database = Path(database).resolve()
        self.database_kind = "official" if official_database(self.database) else "test"
        self.address = str(self.workdir / "clamd.sock")
        if len(self.address.encode()) > _MAX_SOCKET_PATH:
            raise ValueError(f"work directory path too long for a Unix socket: {self.workdir}")
        self.config = self.workdir / "clamd.conf"
        self.logfile = self.workdir / "clamd.log"
        self._stderr_path = self.workdir / "clamd.stderr"
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def write_config(self) -> Path:
        """Fill in the packaged template; returns the path of the written ``clamd.conf``."""
        template = resources.files("attachguard.clamav").joinpath("clamd.conf").read_text("utf-8")
        tmpdir = self.workdir / "tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        text = Template(template).substitute(
            socket=self.address,
            pidfile=self.workdir / "clamd.pid",
            tmpdir=tmpdir,
            logfile=self.logfile,
            database=self.database,
        )
        self.config.write_text(text, "utf-8")
        return self.config

    def start(self, timeout: float = 120.0) -> None:
        """Start clamd and return once it answers PING (loading the official database takes
        tens of seconds and about 1 GB of memory; the test set loads in well under one).
        Raises `ClamdError` with the end of clamd's output if it exits or does not answer.
        Starts one that died again, on the same socket."""
        if self.running:
            return
        self.stop()  # what is left of one that died: its stderr handle, its socket
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        stop_stale(self.workdir / "clamd.pid", self.config)
        Path(self.address).unlink(missing_ok=True)
        command = [_clamd_binary(), f"--config-file={self.config}"]
        self._stderr = self._stderr_path.open("wb")
        # stdout repeats the log file; stderr carries start-up errors (bad config, no database)
        self._process = spawn(  # our clamd binary, our config file
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            cwd=self.workdir,
        )
        atexit.register(self.stop)
        client = ClamdClient(self.address, timeout=5.0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self.stop()
                detail = _tail(self._stderr_path) or _tail(self.logfile)
                raise ClamdError(f"clamd exited with status {code} while starting: {detail}")
            if client.ping():
                return
            time.sleep(0.05)
        self.stop()
        raise ClamdError(f"clamd did not answer within {timeout:g} s: {_tail(self.logfile)}")

    def reload(self, timeout: float = 300.0) -> bool:
        """Load the database directory again without stopping scans, and wait (up to
        ``timeout`` seconds) for the outcome: True when clamd switched to the new database,
        False when it kept the previous one (a database that fails to load, or no answer in
        time; clamd's log says why). clamd ``RELOAD`` with ``ConcurrentDatabaseReload yes``
        loads the new engine in the background while scans go on with the old one, so it needs
        about twice the database's memory until it switches. Raises `ClamdError` when clamd is
        not running or refuses the command."""
        if not self.running:
            raise ClamdError("clamd is not running")
        start = self.logfile.stat().st_size if self.logfile.exists() else 0
        ClamdClient(self.address, timeout=5.0).reload()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outcome = _reload_outcome(self.logfile, start)
            if outcome is not None:
                return outcome
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop clamd (SIGTERM, then SIGKILL after 10 s). Does nothing when it is not running."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if process is not None:
            Path(self.address).unlink(missing_ok=True)

    def __enter__(self) -> PrivateClamd:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self._process.pid}" if self.running and self._process else "stopped"
        return f"PrivateClamd({self.address}, {self.database_kind} signatures, {state})"
