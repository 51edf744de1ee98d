"""A PDF's page text by PDFium (pypdfium2), read in a process of its own: about 15 times faster
than pypdf's text extraction (0.7 s against 11 s of CPU on the 150 real-world PDFs), through
the same ToUnicode maps and encodings.

Why a process: PDFium inflates streams with no limit of its own, expands ToUnicode ranges,
re-reads a form each time it is drawn (forms drawing forms multiply), and cannot be stopped
in the middle of a page. A check of the file beforehand would have to foresee all of that (an
earlier one, counting decoded bytes, was passed four ways: 1 KB of forms cost 182 MB, 98 KB of
ranges 503 MB). Instead the process (`pdfium_worker`) runs with its address space capped at
`MEMORY`: past it PDFium fails and the process dies; at ``stop`` it is killed. Either way the
pages not read come back as missing, the caller reads them with pypdf (whose decoders are held
to the policy's byte limit), and the next file gets a new process. One file is read at a
time (PDFium is not thread-safe); a caller that cannot have the process before ``stop`` reads
with pypdf instead.
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
import subprocess
import sys
import threading
import time

from attachguard.children import spawn
from attachguard.sensitive.pdfium_worker import END, HEADER

__all__ = ["MEMORY", "page_texts"]

MEMORY = 768 << 20  # bytes of address space the process may use (it needs 35 MB idle)
_OWN_SHARE = 0.9  # of the time left: the process's own stop, before it is killed


class _Reader:
    """The process, started when first needed and again after it dies or is killed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def forget(self) -> None:
        """In a forked child: the parent's process and lock are not this one's."""
        self._lock = threading.Lock()
        self._process = None

    def texts(self, data: bytes, pages: int, stop: float) -> list[str]:
        if not self._lock.acquire(timeout=_wait(stop)):
            return []
        try:
            return self._ask(data, pages, stop)
        finally:
            self._lock.release()

    def _ask(self, data: bytes, pages: int, stop: float) -> list[str]:
        process = self._started()
        if process is None or process.stdin is None or process.stdout is None:
            return []
        texts: list[str] = []
        try:
            # the process stops between pages a little before ``stop``, to answer in time
            seconds = _OWN_SHARE * max(0.0, stop - time.monotonic())
            process.stdin.write(HEADER.pack(len(data), pages, seconds))
            process.stdin.write(data)
            process.stdin.flush()
            answers = process.stdout.fileno()
            while (size := _unpacked(_read(answers, 4, stop))) != END:
                texts.append(_read(answers, size, stop).decode("utf-8", "surrogatepass"))
        except (OSError, _Late, UnicodeDecodeError):
            self._stop()  # dead (past its memory), late, or garbled: the next file gets another
        return texts

    def _started(self) -> subprocess.Popen[bytes] | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()  # one that died on its own: its pipes closed, its exit collected
        command = [sys.executable, "-m", "attachguard.sensitive.pdfium_worker", str(MEMORY)]
        try:
            self._process = spawn(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )  # stdin buffered, so a write is whole; stdout read with os.read, never buffered
        except OSError:
            self._process = None
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            with contextlib.suppress(OSError, ValueError):
                if process.stdin is not None:
                    process.stdin.close()
                if process.stdout is not None:
                    process.stdout.close()
            process.wait()


class _Late(Exception):
    """The process did not answer before ``stop``, or its answer ended early."""


def _read(fd: int, size: int, stop: float) -> bytes:
    """``size`` bytes from ``fd`` before ``stop`` (`_Late` otherwise, or at its end)."""
    data = bytearray()
    while len(data) < size:
        left = _wait(stop)
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise _Late
        piece = os.read(fd, size - len(data))
        if not piece:
            raise _Late
        data += piece
    return bytes(data)


def _wait(stop: float) -> float:
    """Seconds until ``stop``, within what a lock or ``select`` accepts (no deadline: inf)."""
    return min(max(0.0, stop - time.monotonic()), threading.TIMEOUT_MAX)


def _unpacked(head: bytes) -> int:
    return int(struct.unpack("<I", head)[0])


_READER = _Reader()
# a forked child must not share the parent's process (its pipes would mix two conversations)
os.register_at_fork(after_in_child=_READER.forget)


def page_texts(data: bytes, pages: int, stop: float) -> list[str]:
    """The text of the first ``pages`` pages, in order, as many as PDFium read before ``stop``
    (`time.monotonic`) within its memory; [] when it could not open the file. A page PDFium
    cannot read ends the list there."""
    if pages <= 0 or stop <= time.monotonic():
        return []
    return _READER.texts(data, pages, stop)
