"""The entry point of the container-image Lambda (deploy/container): the same handler, with the
scanner — including a private clamd on the image's signatures, updated from the S3 mirror
(`attachguard.connect.antivirus`) — built during Lambda's init phase in a background thread, so
that the first event does not pay for loading the database. Once it is warm, each event lets the
mirror be checked for newer signatures in the background (at most every few minutes).

Importing this module starts that thread (`attachguard.connect.warmup`: what an event gets while
it runs); the zip package uses `handler` directly instead. With provisioned concurrency
(``AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency``) init itself waits for clamd, since
Lambda allows a long init there and freezes the environment after it.
"""

from __future__ import annotations

import os
from typing import Any

from attachguard.connect.config import CLAMD_START_TIMEOUT
from attachguard.connect.handler import ConnectScanner
from attachguard.connect.warmup import FETCH_WINDOW, ScannerNotReady, Warmup, respond

__all__ = ["FETCH_WINDOW", "ScannerNotReady", "Warmup", "handler", "respond"]

_warmup = Warmup(ConnectScanner())
_warmup.start()
if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency":
    # Lambda freezes the environment after init: a half-loaded clamd would wait for the first
    # event. Provisioned concurrency allows a long init, so it is spent here.
    _warmup.wait(CLAMD_START_TIMEOUT)


def handler(event: Any, context: Any) -> dict[str, str]:
    """Lambda entry point (``attachguard.connect.container.handler``): scans as
    `attachguard.connect.handler.handler` once the warm-up is done; an error (retried by
    Connect) while it is not."""
    return respond(_warmup, event, context)
