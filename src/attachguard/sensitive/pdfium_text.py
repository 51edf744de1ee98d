"""A PDF's pages by PDFium (pypdfium2), read in a process of its own: the page count, each
page's text, the notes on it (its annotations' text) and, for a page with little text, the
pictures it draws (`pdfium_worker`). About 15 times faster than pypdf's text extraction (0.7 s
against 11 s of CPU on the 150 real-world PDFs), through the same ToUnicode maps and encodings;
and without pypdf's reading of every object a page tree reaches (6 s for a 1,300-page manual of
67,000 objects).

Why a process: PDFium inflates streams with no limit of its own, expands ToUnicode ranges,
re-reads a form each time it is drawn (forms drawing forms multiply), and cannot be stopped
in the middle of a page. A check of the file beforehand would have to foresee all of that (an
earlier one, counting decoded bytes, was passed four ways: 1 KB of forms cost 182 MB, 98 KB of
ranges 503 MB). Instead the process (`pdfium_worker`) runs with its address space capped at
`MEMORY`: past it PDFium fails and the process dies; at ``stop`` it is killed; answers past
``most`` bytes of text, or that do not parse, end it too. Either way the pages not read come
back as missing, the caller reads them with pypdf (whose decoders are held to the policy's byte
limit), and the next file gets a new process. Answers come on a pipe of their own, not stdout
(which a library may print to). Each process reads one file at a time (PDFium is not
thread-safe), one process per core; a caller that cannot have one within `_QUEUE` seconds
reads with pypdf instead. The
answer says whether the pages missing were left for lack of time (`PageTexts.late`: the wait,
the process's time share, the kill at ``stop``), which another moment could have read, or for a
reason of the file's (a page PDFium cannot read, its memory, too much text).
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from attachguard.children import spawn
from attachguard.sensitive.pdfium_worker import END, HEADER, PICTURE

__all__ = ["MEMORY", "Page", "PageTexts", "Pictures", "page_texts"]

MEMORY = 768 << 20  # bytes of address space the process may use (it needs 35 MB idle)
_OWN_SHARE = 0.9  # of the time left: the process's own stop, before it is killed
_QUEUE = 0.5  # seconds a file waits for the process before pypdf reads it instead
_PIECE = 1 << 20  # bytes read from the answers at a time


@dataclass(frozen=True)
class Pictures:
    """Which pictures PDFium returns: those a page with fewer than ``caption`` characters of
    text draws itself, ``most`` of them for the file, none over ``pixels``, none with a side
    shorter than ``sides`` (long, short: too small to show a number, and not counted)."""

    most: int = 0
    pixels: int = 0
    caption: int = 0
    sides: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Page:
    """One page as PDFium read it: its text, its notes' text, the texts its form fields draw
    (each apart from the others), its pictures (image files, or why one was not read, as
    `str`), and, when it draws invisible text among visible text, its visible text alone."""

    text: str
    notes: str = ""
    fields: str = ""
    pictures: tuple[bytes | str, ...] = ()
    visible: str = ""


@dataclass(frozen=True)
class PageTexts:
    """What PDFium read: the document's page count (None when it could not open it, or had no
    time to), the first pages, in order, and whether the pages after them were left for lack
    of time (``late``: waiting for the process, out of its time share, killed at ``stop``, or
    no process to start) rather than for a reason of the file's."""

    pages: list[Page]
    late: bool = False
    count: int | None = None

    @property
    def texts(self) -> list[str]:
        return [page.text for page in self.pages]


class _Reader:
    """The process, started when first needed and again after it dies or is killed."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._answers = -1  # the read end of the process's answer pipe

    def forget(self) -> None:
        """In a forked child: the parent's process is not this one's."""
        self._process, self._answers = None, -1

    def ask(self, data: bytes, pages: int, stop: float, most: int, pictures: Pictures) -> PageTexts:
        answer = _Answer()
        try:
            process = self._started()
            if process is None or process.stdin is None:
                return answer.read(late=True)  # fork refused (a loaded host), or shutdown
            # the process stops between pages a little before ``stop``, to answer in time
            seconds = _OWN_SHARE * max(0.0, stop - time.monotonic())
            own_stop = time.monotonic() + seconds  # no later than the process's own
            wants = (pictures.most, pictures.pixels, pictures.caption, *pictures.sides)
            process.stdin.write(HEADER.pack(len(data), pages, seconds, *wants))
            process.stdin.write(data)
            process.stdin.flush()
            answer.take(self._answers, stop, most)  # page by page: those before a failure kept
        except _Late:  # killed at ``stop``
            self._stop()
            return answer.read(late=True)
        except (OSError, ValueError, _Ended):  # dead (past its memory), garbled, or too long
            self._stop()
            return answer.read()
        except BaseException:
            self._stop()  # never left mid-answer: the next file would read this one's text
            raise
        # an answer ended early past the process's own stop: it stopped for time (or, the
        # same moment, at a page it cannot read: taken for time, which only costs the cache)
        wanted = min(pages, answer.count) if answer.count is not None else pages
        return answer.read(late=len(answer.pages) < wanted and time.monotonic() >= own_stop)

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


class _Answer:
    """The process's answer as it comes: the page count, then page after page."""

    def __init__(self) -> None:
        self.count: int | None = None
        self.pages: list[Page] = []

    def read(self, late: bool = False) -> PageTexts:
        return PageTexts(self.pages, late, self.count)

    def take(self, fd: int, stop: float, most: int) -> None:
        """Read up to `END` (`_Ended` past ``most`` bytes: more than the policy lets a file
        expand to)."""
        budget = _Budget(fd, stop, most)
        if (count := budget.number(4)) == END:
            return  # PDFium could not open the file
        self.count = count
        while (size := budget.number(4)) != END:
            text, visible = budget.text(size), budget.text(budget.number(4))
            notes, fields = budget.text(budget.number(4)), budget.text(budget.number(4))
            pictures: list[bytes | str] = []
            for _ in range(budget.number(2)):
                kind = budget.number(1)
                blob = budget.bytes(budget.number(4))
                pictures.append(blob if kind == PICTURE else blob.decode("utf-8", "replace"))
            self.pages.append(Page(text, notes, fields, tuple(pictures), visible))


class _Budget:
    """Reads from the process's pipe before ``stop``, no more than ``most`` bytes of content."""

    def __init__(self, fd: int, stop: float, most: int) -> None:
        self.fd, self.stop, self.most = fd, stop, most

    def number(self, size: int) -> int:
        return int.from_bytes(_read(self.fd, size, self.stop), "little")

    def bytes(self, size: int) -> bytes:
        self.most -= size
        if self.most < 0:
            raise _Ended
        return _read(self.fd, size, self.stop)

    def text(self, size: int) -> str:
        return self.bytes(size).decode("utf-8", "surrogatepass")


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


class _Pool:
    """One reader per core, each for one file at a time (PDFium is not thread-safe), the one
    used last first (its process is warm); a file waits `_QUEUE` seconds for one at most."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.free: queue.LifoQueue[_Reader] = queue.LifoQueue()
        self.forget()

    def texts(
        self, data: bytes, pages: int, stop: float, most: int, pictures: Pictures
    ) -> PageTexts:
        try:
            reader = self.free.get(timeout=min(_QUEUE, _wait(stop)))
        except queue.Empty:
            return PageTexts([], late=True)
        try:
            return reader.ask(data, pages, stop, most, pictures)
        finally:
            self.free.put(reader)

    def forget(self) -> None:
        """New readers, none started (in a forked child: the parent's, and any it was using,
        are the parent's conversations)."""
        self.free = queue.LifoQueue()
        for _ in range(self.size):
            self.free.put(_Reader())


_POOL = _Pool(max(1, os.cpu_count() or 1))
# a forked child must not share the parent's processes (their pipes would mix conversations)
os.register_at_fork(after_in_child=_POOL.forget)


def page_texts(
    data: bytes, pages: int, stop: float, most: int, pictures: Pictures = Pictures()
) -> PageTexts:
    """The first ``pages`` pages (text, notes, ``pictures`` of pages read as scans), in order,
    as many as PDFium read before ``stop`` (`time.monotonic`) within its memory and ``most``
    bytes of content, and the page count; none when it could not open the file. A page PDFium
    cannot read ends the list there; so does the time (``late``)."""
    if pages <= 0:
        return PageTexts([])
    if stop <= time.monotonic():
        return PageTexts([], late=True)
    return _POOL.texts(data, pages, stop, most, pictures)
