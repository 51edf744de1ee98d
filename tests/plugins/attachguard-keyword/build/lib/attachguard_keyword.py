"""Keyword engine: rejects files that hold a word the policy blocks (``engines.keyword.words``).

A complete third-party engine in one module: its code, its options, the engine and its
declaration. The entry point in pyproject.toml registers it; nothing in attachguard changes.
"""

from __future__ import annotations

from pydantic import Field

from attachguard.codes import Action, declare
from attachguard.engines.base import (
    Context,
    EngineSpec,
    Item,
    Options,
    Resources,
    Result,
    finding,
)

KEYWORD = declare(
    "KEYWORD",
    "threat",
    Action.REJECT,
    "holds a word the policy blocks",
    "This file contains words that can't be shared in chat.",
)


class KeywordOptions(Options):
    """``engines.keyword``: the words to block (case-insensitive)."""

    words: list[str] = Field(default_factory=lambda: ["confidential"], min_length=1)


class KeywordEngine:
    name = "keyword"

    def __init__(self, options: KeywordOptions) -> None:
        self.words = [w.lower() for w in options.words]

    def version(self) -> str:
        return "keyword 1.0"

    def scan(self, item: Item, context: Context) -> Result:
        text = item.data.decode("utf-8", "replace").lower()
        found = [w for w in self.words if w in text]
        return Result([finding(self.name, KEYWORD, f"holds the blocked word {w!r}") for w in found])


def _build(options: KeywordOptions, resources: Resources) -> KeywordEngine:
    return KeywordEngine(options)


ENGINE = EngineSpec(
    name="keyword",
    summary="words the policy blocks, in any file",
    types=("*",),
    codes=(KEYWORD,),
    build=_build,
    options=KeywordOptions,
)
