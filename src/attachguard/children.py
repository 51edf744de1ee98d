"""Child processes that die with attachguard: a private clamd, the PDFium text reader.

``spawn`` starts a child from one thread that lives as long as the process, asking Linux to
signal the child when that thread dies (PR_SET_PDEATHSIG), so a SIGKILLed service leaves no
child behind. The signal follows the starting *thread*, not the process: a clamd started by a
short-lived thread (the container Lambda's warm-up) was stopped as soon as that thread
finished, and every scan after it failed. Hence the one spawner thread.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["spawn"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attachguard-spawner")


def _new_spawner() -> None:
    """In a forked child: the parent's spawner thread does not exist there."""
    global _SPAWNER
    _SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attachguard-spawner")


os.register_at_fork(after_in_child=_new_spawner)


def spawn(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(command, **options)`` (bytes streams), started on the long-lived
    spawner thread, and sent SIGTERM when that thread (the process) dies."""

    def popen() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, preexec_fn=_die_with_parent(), **options)  # noqa: S603

    return _SPAWNER.submit(popen).result()


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux for SIGTERM when the starting thread dies; None
    elsewhere. libc is resolved here, in the parent: after fork only the prctl call runs (no
    dlopen, whose lock another thread may hold)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)

    return preexec
