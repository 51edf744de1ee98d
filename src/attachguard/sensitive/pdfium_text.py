"""A PDF's page text by PDFium (pypdfium2), read in a process of its own: about 15 times faster
than pypdf's text extraction (0.7 s against 11 s of CPU on the 150 real-world PDFs), through
the same ToUnicode maps and encodings.

Why a process: PDFium inflates streams with no limit of its own, expands ToUnicode ranges,
re-reads a form each time it is drawn (forms drawing forms multiply), and cannot be stopped
in the middle of a page. A check of the file beforehand would have to foresee all of that (an
earlier one, counting decoded bytes, was passed four ways: 1 KB of forms cost 182 MB, 98 KB of
ranges 503 MB). Instead the process (`pdfium_worker`) runs with its address space capped at
`MEMORY`: past it PDFium fails and the process dies; at ``stop`` it is killed; answers past
``most`` bytes of text, or that do not parse, end it too. Either way the pages not read come
back as missing, the caller reads them with pypdf (whose decoders are held to the policy's byte
limit), and the next file gets a new process. Answers come on a pipe of their own, not stdout
(which a library may print to). One file is read at a time (PDFium is not thread-safe); a
caller that cannot have the process within `_QUEUE` seconds reads with pypdf instead. The
answer says whether the pages missing were left for lack of time (`PageTexts.late`: the wait,
the process's time share, the kill at ``stop``), which another moment could have read, or for a
reason of the file's (a page PDFium cannot read, its memory, too much text).
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
from collections.abc import Iterator
from dataclasses import dataclass

from attachguard.children import spawn
from attachguard.sensitive.pdfium_worker import END, HEADER

__all__ = ["MEMORY", "PageTexts", "page_texts"]

MEMORY = 768 << 20  # bytes of address space the process may use (it needs 35 MB idle)
_OWN_SHARE = 0.9  # of the time left: the process's own stop, before it is killed
_QUEUE = 0.5  # seconds a file waits for the process before pypdf reads it instead
_PIECE = 1 << 20  # bytes read from the answers at a time


@dataclass(frozen=True)
class PageTexts:
    """What PDFium read: the text of the first pages, in order, and whether the pages after
    them were left for lack of time (``late``: waiting for the process, out of its time share,
    killed at ``stop``, or no process to start) rather than for a reason of the file's."""

    texts: list[str]
    late: bool = False


class _Reader:
    """The process, started when first needed and again after it dies or is killed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._answers = -1  # the read end of the process's answer pipe

    def forget(self) -> None:
        """In a forked child: the parent's process and lock are not this one's."""
        self._lock = threading.Lock()
        self._process, self._answers = None, -1

    def texts(self, data: bytes, pages: int, stop: float, most: int) -> PageTexts:
        if not self._lock.acquire(timeout=min(_QUEUE, _wait(stop))):
            return PageTexts([], late=True)
        try:
            return self._ask(data, pages, stop, most)
        finally:
            self._lock.release()

    def _ask(self, data: bytes, pages: int, stop: float, most: int) -> PageTexts:
        texts: list[str] = []
        try:
            process = self._started()
            if process is None or process.stdin is None:
                return PageTexts(texts, late=True)  # fork refused (a loaded host), or shutdown
            # the process stops between pages a little before ``stop``, to answer in time
            seconds = _OWN_SHARE * max(0.0, stop - time.monotonic())
            own_stop = time.monotonic() + seconds  # no later than the process's own
            process.stdin.write(HEADER.pack(len(data), pages, seconds))
            process.stdin.write(data)
            process.stdin.flush()
            for text in _pages(self._answers, stop, most):
                texts.append(text)  # one by one: the pages before a failure are kept
        except _Late:  # killed at ``stop``
            self._stop()
            return PageTexts(texts, late=True)
        except (OSError, ValueError, _Ended):  # dead (past its memory), garbled, or too long
            self._stop()
            return PageTexts(texts)
        except BaseException:
            self._stop()  # never left mid-answer: the next file would read this one's text
            raise
        # an answer ended early past the process's own stop: it stopped for time (or, the
        # same moment, at a page it cannot read: taken for time, which only costs the cache)
        return PageTexts(texts, late=len(texts) < pages and time.monotonic() >= own_stop)

    def _started(self) -> subprocess.Popen[bytes] | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()  # one that died on its own: its pipes closed, its exit collected
        command = [sys.executable or "python3", "-m", "attachguard.sensitive.pdfium_worker"]
        # the package where this process found it (a Lambda adds its task root at run time)
        path = os.pathsep.join(entry for entry in sys.path if entry)
        answers, writer = os.pipe()
        try:
            self._process = spawn(
                [*command, str(MEMORY), str(writer)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(writer,),
                env={**os.environ, "PYTHONPATH": path},
            )  # stdin buffered, so that a write is whole
            self._answers = answers
        except (OSError, RuntimeError):  # no interpreter to start, or this one shutting down
            os.close(answers)
        finally:
            os.close(writer)
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        answers, self._answers = self._answers, -1
        if answers >= 0:
            os.close(answers)
        if process is not None:
            process.kill()
            with contextlib.suppress(OSError, ValueError):
                if process.stdin is not None:
                    process.stdin.close()
            process.wait()


class _Late(Exception):
    """The process did not answer before ``stop``."""


class _Ended(Exception):
    """The process's answer ended early (it died: past its memory), or it was too long."""


def _pages(fd: int, stop: float, most: int) -> Iterator[str]:
    """Each page's text as the process answers it, up to `END` (`_Ended` past ``most`` bytes:
    more text than the policy lets a file expand to)."""
    while (size := _unpacked(_read(fd, 4, stop))) != END:
        most -= size
        if most < 0:
            raise _Ended
        yield _read(fd, size, stop).decode("utf-8", "surrogatepass")


def _read(fd: int, size: int, stop: float) -> bytes:
    """``size`` bytes from ``fd`` before ``stop`` (`_Late` otherwise; `_Ended` at its end)."""
    poller = select.poll()  # not select.select: a busy service has descriptors past 1024
    poller.register(fd, select.POLLIN)
    data = bytearray()
    while len(data) < size:
        left = _wait(stop)
        if left <= 0 or not poller.poll(min(left * 1000, 2**31 - 1)):
            raise _Late
        piece = os.read(fd, min(size - len(data), _PIECE))
        if not piece:
            raise _Ended
        data += piece
    return bytes(data)


def _wait(stop: float) -> float:
    """Seconds until ``stop``, within what a lock accepts (no deadline: inf)."""
    return min(max(0.0, stop - time.monotonic()), threading.TIMEOUT_MAX)


def _unpacked(head: bytes) -> int:
    return int(struct.unpack("<I", head)[0])


_READER = _Reader()
# a forked child must not share the parent's process (its pipes would mix two conversations)
os.register_at_fork(after_in_child=_READER.forget)


def page_texts(data: bytes, pages: int, stop: float, most: int) -> PageTexts:
    """The text of the first ``pages`` pages, in order, as many as PDFium read before ``stop``
    (`time.monotonic`) within its memory and ``most`` bytes of text; none when it could not
    open the file. A page PDFium cannot read ends the list there; so does the time (``late``)."""
    if pages <= 0:
        return PageTexts([])
    if stop <= time.monotonic():
        return PageTexts([], late=True)
    return _READER.texts(data, pages, stop, most)
