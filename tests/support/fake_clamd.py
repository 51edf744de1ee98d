"""A clamd stand-in for the verdict-cache tests: what the clamav engine asks of a clamd."""

from __future__ import annotations

import threading

from attachguard.clamav.client import ClamdAnswer
from attachguard.engines.clamav import ClamAVEngine
from attachguard.pipeline import Scanner
from attachguard.policy import parse_policy
from attachguard.scanner import build_scanner

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURES = "ClamAV 1.4.6/27470/Tue Nov 24 09:30:00 2026"


class FakeClamd:
    """VERSION (settable: a signature update) and INSTREAM (EICAR is found, everything else
    is clean); counts the streams it was sent."""

    def __init__(self, version: str = SIGNATURES) -> None:
        self.answer = version
        self.streams = 0
        self._lock = threading.Lock()

    def version(self) -> str:
        return self.answer

    def instream(self, data: bytes) -> ClamdAnswer:
        with self._lock:
            self.streams += 1
        return ClamdAnswer("Eicar-Test-Signature" if EICAR in data else None)


def scanner_for(clamd: FakeClamd, policy: str) -> Scanner:
    """Every local engine under ``policy`` (YAML text), the antivirus being ``clamd``."""
    engine = ClamAVEngine(clamd)  # type: ignore[arg-type]
    return build_scanner(parse_policy(policy), None, extra={"clamav": engine})
