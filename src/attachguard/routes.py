"""Which engines look at which detected type: the one table that says so.

Keys are Magika content-type labels (what the bytes are, not what the name says). Every item is
also seen by the engines in ``ALWAYS``; an item whose label is not listed falls back on its group
(``GROUPS``), then on ``ALWAYS`` alone.
"""

from __future__ import annotations

from attachguard.report import FileType

ALWAYS: tuple[str, ...] = ("filetype", "clamav")

ROUTES: dict[str, tuple[str, ...]] = {
    "pdf": ("pdf", "polyglot"),
    "doc": ("office",),
    "xls": ("office",),
    "ppt": ("office",),
    "docx": ("office", "zip"),
    "xlsx": ("office", "zip"),
    "pptx": ("office", "zip"),
    "xlsb": ("office", "zip"),
    "odt": ("zip",),
    "ods": ("zip",),
    "odp": ("zip",),
    "zip": ("zip",),
    "rtf": ("rtf",),
    "jpeg": ("image", "polyglot", "moderation"),
    "png": ("image", "polyglot", "moderation"),
    "gif": ("image", "polyglot", "moderation"),
    "webp": ("image", "moderation"),
    "bmp": ("image", "moderation"),
    "tiff": ("image", "moderation"),
    "heif": ("image", "polyglot", "moderation"),
    "mp4": ("polyglot",),
    "qt": ("polyglot",),
    "3gp": ("polyglot",),
    "wav": ("polyglot",),
}

GROUPS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "code": ("text",),
}


def engines_for(filetype: FileType) -> tuple[str, ...]:
    """The names of the engines that scan content of ``filetype``, in a stable order."""
    extra = ROUTES.get(filetype.label)
    if extra is None:
        extra = GROUPS.get(filetype.group, ("text",) if filetype.is_text else ())
    return ALWAYS + extra
