"""The exceptions attachguard raises to its callers: one base, so that a caller can catch them
all, and one `LimitExceeded` for every "over a limit" that a reader stops at."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attachguard.codes import Code


class AttachguardError(Exception):
    """Base of every error attachguard raises on purpose (bad policy, bad configuration...)."""


class LimitExceeded(AttachguardError):
    """Reading stopped at a limit (bytes, members, size); ``code`` is the finding code that
    reports it, the message says which limit in words."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
