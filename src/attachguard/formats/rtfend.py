"""Where an RTF document ends for Word: at the brace that closes its first group.

Word reads ``{\\rtf...}`` and ignores what follows the matching closing brace (oletools issue
665), so bytes there travel with the document unseen. `rtf_end` follows the group nesting as
the RTF reader does: escaped braces (``\\{``, ``\\}``) and backslashes (``\\\\``) do not count,
and ``\\binN`` skips N raw bytes, which may hold any brace. One pass, linear in the size.
"""

from __future__ import annotations

import re

__all__ = ["rtf_end"]

_SPECIAL = re.compile(rb"[{}\\]")
_BIN = re.compile(rb"\\bin(-?\d{1,10}) ?")


def rtf_end(data: bytes) -> int | None:
    """Offset just past the brace that closes the document's first group; None when the
    document does not start with a group or never closes it."""
    start = data.find(b"{")
    if start < 0 or data[:start].strip():
        return None
    depth, pos = 0, start
    while (match := _SPECIAL.search(data, pos)) is not None:
        at, char = match.start(), data[match.start() : match.start() + 1]
        if char == b"\\":
            if (binary := _BIN.match(data, at)) is not None:
                pos = binary.end() + max(0, int(binary.group(1)))
            else:
                pos = at + 2  # a control symbol or the first letter of a control word
            continue
        depth += 1 if char == b"{" else -1
        pos = at + 1
        if depth == 0:
            return pos
    return None
