"""Prometheus metrics in the text exposition format, written by hand.

``prometheus_client`` is not a dependency of attachguard (it is not installed here, and the
handful of counters and one histogram below do not justify one); the format is small and
stable: https://prometheus.io/docs/instrumenting/exposition_formats/. Values are per process;
with several replicas, Prometheus sums them.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs
    )
    return "{" + inner.replace("\n", " ") + "}"


class Metrics:
    """The service's counters, a scan-latency histogram and gauges read at scrape time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
        self._help: dict[str, str] = {
            "attachguard_uploads_total": "Attachments accepted into staging.",
            "attachguard_scans_total": "Scans finished, by status.",
            "attachguard_rejections_total": "Rejecting findings, by finding code.",
            "attachguard_engine_errors_total": "Engine errors and timeouts, by engine.",
            "attachguard_http_refused_total": "Requests refused, by reason.",
            "attachguard_orphans_removed_total": "Orphaned store objects removed, by kind.",
            "attachguard_verdict_cache_hits_total": "Verdicts taken from the verdict cache.",
            "attachguard_rescans_total": "Files rescanned after a signature update, by result.",
            "attachguard_revocations_total": "Approved files a rescan rejected, by action.",
        }
        self._buckets = [0] * len(LATENCY_BUCKETS)
        self._sum = 0.0
        self._count = 0
        self._gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def gauge(self, name: str, help: str, read: Callable[[], float]) -> None:
        self._gauges[name] = (help, read)

    def observe_scan(self, report: dict[str, Any], codes: list[str]) -> None:
        """Count one verdict: status, rejecting codes, engine failures, latency."""
        self.inc("attachguard_scans_total", status=str(report.get("status")))
        if report.get("cached"):
            self.inc("attachguard_verdict_cache_hits_total")
        for code in set(codes):
            self.inc("attachguard_rejections_total", code=code)
        for finding in report.get("findings", []):
            if finding.get("code") in {"ENGINE_ERROR", "ENGINE_TIMEOUT"}:
                self.inc("attachguard_engine_errors_total", engine=str(finding.get("engine")))
        seconds = float(report.get("timings_ms", {}).get("total", 0.0)) / 1000
        with self._lock:
            self._sum += seconds
            self._count += 1
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    self._buckets[i] += 1

    def value(self, name: str, **labels: str) -> float:
        return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            for name, help in self._help.items():
                lines += [f"# HELP {name} {help}", f"# TYPE {name} counter"]
                for key, value in sorted(self._counters.get(name, {}).items()):
                    lines.append(f"{name}{_labels(key)} {value:g}")
            name = "attachguard_scan_seconds"
            lines += [f"# HELP {name} Time to scan one file.", f"# TYPE {name} histogram"]
            for bound, count in zip(LATENCY_BUCKETS, self._buckets, strict=True):
                lines.append(f'{name}_bucket{{le="{bound:g}"}} {count}')
            lines.append(f'{name}_bucket{{le="+Inf"}} {self._count}')
            lines.append(f"{name}_sum {self._sum:.6f}")
            lines.append(f"{name}_count {self._count}")
        for name, (help, read) in self._gauges.items():
            lines += [f"# HELP {name} {help}", f"# TYPE {name} gauge", f"{name} {read():g}"]
        return "\n".join(lines) + "\n"
