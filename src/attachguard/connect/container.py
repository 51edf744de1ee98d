"""The entry point of the container-image Lambda (deploy/container): the same handler, with the
scanner — including a private clamd on the image's signatures — built during Lambda's init
phase in a background thread, so that the first event does not pay for loading the database.

Importing this module starts that thread; the zip package uses `handler` directly instead.
"""

from __future__ import annotations

import threading
from typing import Any

from attachguard.connect import handler as _handler


def _warm() -> None:
    try:
        scanner = _handler.ConnectScanner()
        scanner.scanner()
        with _handler._default_lock:
            if _handler._default is None:
                _handler._default = scanner
    except Exception:  # the first event retries and reports the error (fail closed)
        pass


_warming = threading.Thread(target=_warm, name="attachguard-warm", daemon=True)
_warming.start()


def handler(event: Any, context: Any) -> dict[str, str]:
    """Lambda entry point (``attachguard.connect.container.handler``): waits for the warm-up
    while time allows, then scans as `attachguard.connect.handler.handler`."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    budget = max(0.0, remaining() / 1000 - 10.0) if remaining else 0.0
    _warming.join(timeout=budget)
    return _handler.handler(event, context)
