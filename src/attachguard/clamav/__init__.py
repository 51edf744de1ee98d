"""ClamAV through clamd: the socket client, a private daemon, and a test signature set.

The malware engine itself is `attachguard.engines.clamav`; see docs/clamav.md.
"""

from __future__ import annotations

from attachguard.clamav.client import ClamdAnswer, ClamdClient, ClamdError, ClamdSizeLimitError
from attachguard.clamav.daemon import PrivateClamd, official_database
from attachguard.clamav.signatures import build_test_database

__all__ = [
    "ClamdAnswer",
    "ClamdClient",
    "ClamdError",
    "ClamdSizeLimitError",
    "PrivateClamd",
    "build_test_database",
    "official_database",
]
