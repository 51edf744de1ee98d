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
import shutil
import subprocess
import time
from importlib import resources
from pathlib import Path
from string import Template
from types import TracebackType
from typing import IO

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
        Raises `ClamdError` with the end of clamd's output if it exits or does not answer."""
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        Path(self.address).unlink(missing_ok=True)
        command = [_clamd_binary(), f"--config-file={self.config}"]
        self._stderr = self._stderr_path.open("wb")
        # stdout repeats the log file; stderr carries start-up errors (bad config, no database)
        self._process = subprocess.Popen(  # noqa: S603  (our clamd binary, our config file)
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
