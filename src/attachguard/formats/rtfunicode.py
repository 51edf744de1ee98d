"""The fallback after an RTF ``\\uN`` character, counted as the RTF specification counts it.

After ``\\uN`` a reader that knows Unicode skips the next N characters (``\\ucN``, one by
default, kept per group): what older readers show instead. RTF 1.9.1 (``\\uN``, ``\\ucN``):
"any RTF control word or symbol is considered a single character", a ``\\binN`` with its data
too, a ``\\'hh`` escape is one, and "if an RTF scope delimiter character (that is, an opening or
closing brace) is encountered while scanning skippable data, the skippable data is considered
to end before the delimiter". A reader that skipped text characters only read
``\\u68\\lang1033 DEAUTO`` as "DEAUTO" where Word reads "DDEAUTO" (a red team's DDE field).
Both RTF readers count it here: the RTF engine's (fields, templates, hyperlink base, mail
merge, linked pictures) and the sensitive engine's text.
"""

from __future__ import annotations

__all__ = ["Fallback"]


class Fallback:
    """The fallback characters still to skip after a ``\\uN``."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = 0

    def start(self, count: int) -> None:
        """A ``\\uN`` was read: ``count`` (its group's ``\\ucN``) characters follow."""
        self.left = max(count, 0)

    def text(self, chunk: bytes) -> bytes:
        """Plain text, its first characters dropped while the fallback lasts."""
        skipped = min(self.left, len(chunk))
        self.left -= skipped
        return chunk[skipped:]

    def token(self) -> bool:
        """Whether a control word (with its parameter, or ``\\bin`` with its data), a control
        symbol or a ``\\'hh`` escape is skipped as one fallback character."""
        if not self.left:
            return False
        self.left -= 1
        return True

    def brace(self) -> None:
        """A ``{`` or ``}``: the fallback ends before it."""
        self.left = 0
