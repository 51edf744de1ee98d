"""What the bench scripts share: a nearest-rank percentile and a free loopback port."""

from __future__ import annotations

import math
import socket


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, ``p`` in 0-100 (no interpolation: p99 of 100 values is the
    99th); NaN for no values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
