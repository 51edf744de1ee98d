"""A small, thread-safe client for clamd's socket protocol (zINSTREAM, PING, VERSION, RELOAD).

Every command opens its own connection: a Unix-socket connect costs microseconds, and a fresh
connection per scan means a restarted clamd is picked up without any reconnect logic. A
connection that fails outright (refused, reset, closed without an answer) is retried once, so
a scan that lands in the gap of a clamd restart still gets its answer; a second failure raises
`ClamdError`. Concurrent scans are bounded by a semaphore so a burst of uploads queues here
instead of overflowing clamd's own queue.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from attachguard.errors import AttachguardError

_CHUNK = 256 * 1024  # bytes per INSTREAM chunk; far below any StreamMaxLength
_VERSION_TTL = 60.0  # seconds a VERSION answer is reused; signatures change a few times a day
_MAX_REPLY = 64 * 1024  # clamd answers are one short line; refuse to buffer more

Address = tuple[int, str | tuple[str, int]]


class ClamdError(AttachguardError):
    """clamd is unreachable, broke the protocol, or answered ERROR."""


class ClamdSizeLimitError(ClamdError):
    """clamd refused the stream: it is longer than clamd's ``StreamMaxLength``."""


class _Unreachable(Exception):
    """A connection-level failure worth one retry on a fresh connection."""


@dataclass(frozen=True)
class ClamdAnswer:
    """clamd's verdict on one stream: the signature name, or None when it answered OK."""

    signature: str | None


@dataclass(frozen=True)
class SignatureVersion:
    """What clamd's VERSION says about its signatures: the engine, and the version and build
    time (seconds since the epoch) of the newest database it loaded — the official ``daily``
    database, or an unsigned one built with ``sigtool --unsigned``. Both are None when no
    versioned database is loaded (only ``.ndb``/``.hdb``-style files, as in the test set)."""

    engine: str
    version: int | None = None
    built: float | None = None

    def age_hours(self, now: float | None = None) -> float | None:
        """Hours since the database was built (None without a versioned database)."""
        if self.built is None:
            return None
        return max(0.0, ((time.time() if now is None else now) - self.built) / 3600)


def parse_version(answer: str) -> SignatureVersion:
    """``ClamAV 1.4.6/27470/Tue Nov 24 09:30:00 2026`` → engine, version and build time.

    clamd prints the build time with ctime(), in its own local time zone; it is read back in
    the same zone (this process and clamd share the machine, UTC on Lambda)."""
    engine, _, rest = answer.partition("/")
    number, _, date = rest.partition("/")
    if not number.strip().isdigit():
        return SignatureVersion(engine.strip())
    try:
        # naive datetime: read in the local zone, as clamd wrote it
        built = datetime.strptime(" ".join(date.split()), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return SignatureVersion(engine.strip(), int(number))
    return SignatureVersion(engine.strip(), int(number), built.timestamp())


def parse_address(address: str) -> Address:
    """``/path/clamd.sock``, ``unix:/path``, ``tcp:host:port`` or ``host:port`` → a socket
    family and target. Raises ValueError naming the address when it is none of these."""
    if address.startswith("unix:"):
        return socket.AF_UNIX, address[5:]
    if address.startswith("/"):
        return socket.AF_UNIX, address
    rest = address[4:] if address.startswith("tcp:") else address
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"not a clamd address: {address!r} (use /path.sock or host:port)")
    return socket.AF_INET, (host.strip("[]"), int(port))


class ClamdClient:
    """Talks to one clamd. Safe to share between threads; keeps no per-scan state.

    ``timeout`` bounds every socket operation and the wait for a free slot;
    ``max_concurrent`` bounds how many scans this client runs against clamd at once.
    """

    def __init__(self, address: str, timeout: float = 30.0, max_concurrent: int = 4) -> None:
        self.address = address
        self.timeout = timeout
        self._target = parse_address(address)
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._version_lock = threading.Lock()
        self._version: tuple[float, str] | None = None

    def ping(self) -> bool:
        """True when clamd answers PING with PONG; False when it cannot be reached."""
        try:
            return self._command(b"zPING\0") == "PONG"
        except (ClamdError, _Unreachable):
            return False

    def version(self) -> str:
        """clamd's VERSION line, e.g. ``ClamAV 1.4.6/27470/Tue Nov 24 09:30:00 2026`` (only
        ``ClamAV 1.4.6`` with unofficial signatures); cached for a minute."""
        with self._version_lock:
            if self._version and time.monotonic() - self._version[0] < _VERSION_TTL:
                return self._version[1]
        try:
            text = self._command(b"zVERSION\0")
        except _Unreachable as exc:
            raise ClamdError(f"clamd at {self.address} is unreachable ({exc})") from exc
        if not text.startswith("ClamAV "):
            raise ClamdError(f"unexpected VERSION answer from clamd: {text[:100]!r}")
        with self._version_lock:
            self._version = (time.monotonic(), text)
        return text

    def signatures(self) -> SignatureVersion:
        """The loaded signatures' version and build time (from `version`, so cached for a
        minute). Raises `ClamdError` when clamd cannot be reached."""
        return parse_version(self.version())

    def reload(self) -> None:
        """Ask clamd to load its database directory again (``RELOAD``). clamd answers at once
        and, with ``ConcurrentDatabaseReload yes`` (attachguard's template), loads the new
        engine in the background while scans go on with the old one; a database that fails to
        load is logged by clamd, which keeps the previous one. Raises `ClamdError` when clamd
        cannot be reached or answers anything but ``RELOADING``."""
        try:
            answer = self._command(b"zRELOAD\0")
        except _Unreachable as exc:
            raise ClamdError(f"clamd at {self.address} is unreachable ({exc})") from exc
        if answer != "RELOADING":
            raise ClamdError(f"unexpected RELOAD answer from clamd: {answer[:100]!r}")
        with self._version_lock:
            self._version = None  # the next VERSION asks clamd again

    def instream(self, data: bytes) -> ClamdAnswer:
        """Scan ``data`` with zINSTREAM. Raises `ClamdError` when clamd is unreachable after
        one retry, times out or answers ERROR (`ClamdSizeLimitError` for StreamMaxLength)."""
        if not self._slots.acquire(timeout=self.timeout):
            raise ClamdError(f"no free clamd connection within {self.timeout:g} s")
        try:
            try:
                reply = self._instream_once(data)
            except _Unreachable:
                # clamd may have restarted between scans; one fresh connection settles it
                try:
                    reply = self._instream_once(data)
                except _Unreachable as exc:
                    raise ClamdError(f"clamd at {self.address} is unreachable ({exc})") from exc
        finally:
            self._slots.release()
        return parse_scan_reply(reply)

    def _connect(self) -> socket.socket:
        family, target = self._target
        try:
            if family == socket.AF_UNIX:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                try:
                    sock.connect(target)
                except BaseException:
                    sock.close()
                    raise
                return sock
            if not isinstance(target, tuple):  # parsed by __init__: a path or (host, port)
                raise TypeError(f"not a clamd address: {target!r}")
            return socket.create_connection(target, timeout=self.timeout)
        except (ConnectionError, FileNotFoundError) as exc:
            raise _Unreachable(exc.strerror or type(exc).__name__) from exc
        except OSError as exc:
            raise ClamdError(f"cannot connect to clamd at {self.address}: {exc}") from exc

    def _command(self, command: bytes) -> str:
        with self._connect() as sock:
            try:
                sock.sendall(command)
                return _read_reply(sock)
            except ConnectionError as exc:
                raise _Unreachable(exc.strerror or type(exc).__name__) from exc
            except OSError as exc:
                raise ClamdError(f"clamd at {self.address} failed: {exc}") from exc

    def _instream_once(self, data: bytes) -> str:
        view = memoryview(data)
        with self._connect() as sock:
            try:
                try:
                    sock.sendall(b"zINSTREAM\0")
                    for start in range(0, len(view), _CHUNK):
                        chunk = view[start : start + _CHUNK]
                        sock.sendall(struct.pack(">I", len(chunk)))
                        sock.sendall(chunk)
                    sock.sendall(struct.pack(">I", 0))
                except (BrokenPipeError, ConnectionResetError):
                    # clamd closes the stream early when it passes StreamMaxLength, but has
                    # written its answer first: read it before calling this a failure
                    pass
                return _read_reply(sock)
            except TimeoutError as exc:
                raise ClamdError(f"clamd gave no answer within {self.timeout:g} s") from exc
            except ConnectionError as exc:
                raise _Unreachable(exc.strerror or type(exc).__name__) from exc
            except OSError as exc:
                raise ClamdError(f"clamd at {self.address} failed: {exc}") from exc


def _read_reply(sock: socket.socket) -> str:
    """One NUL-terminated answer; an empty read means clamd went away mid-command."""
    buf = b""
    while not buf.endswith(b"\0"):
        part = sock.recv(4096)
        if not part:
            if buf:
                break  # an answer without its NUL is still an answer
            raise _Unreachable("connection closed without an answer")
        buf += part
        if len(buf) > _MAX_REPLY:
            raise ClamdError("clamd answer is too long")
    return buf.rstrip(b"\0").decode("utf-8", "replace").strip()


def parse_scan_reply(reply: str) -> ClamdAnswer:
    """``stream: OK`` / ``stream: <name> FOUND`` / ``<reason> ERROR`` → an answer, or raise."""
    if reply.endswith(" FOUND"):
        name = reply.removesuffix(" FOUND").removeprefix("stream:").strip()
        if name:
            return ClamdAnswer(signature=name)
    elif reply == "stream: OK":
        return ClamdAnswer(signature=None)
    elif reply.endswith("ERROR"):
        if "size limit exceeded" in reply:
            raise ClamdSizeLimitError(f"clamd refused the stream: {reply[:200]}")
        raise ClamdError(f"clamd answered: {reply[:200]}")
    raise ClamdError(f"unexpected answer from clamd: {reply[:200]!r}")
