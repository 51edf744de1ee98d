"""Image moderation: does the picture show what the policy blocks (drugs, nudity, violence...)?

Runs on every image the routes send it (JPEG, PNG, HEIC/HEIF, WebP, GIF, BMP, TIFF), including
images the pipeline unpacked from containers (``word/media/*`` of Office files, PDF
attachments, pictures drawn in PDF pages). Not covered: pictures inside legacy (OLE) Office
files, which no engine extracts yet. The backend (Rekognition or local) reports labels in the
Rekognition taxonomy; the policy's ``engines.moderation.categories`` decide: the most specific
rule for a label wins, and one finding is made per top-level category (its deepest rejected
label). Confidence is 0-100, Rekognition's scale. An image that cannot be decoded, or is over the
pixel limit, is reported as not moderated (CORRUPT / IMAGE_BOMB); backend errors propagate
(ENGINE_ERROR).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from attachguard.codes import CORRUPT, IMAGE_BOMB, Action, declare
from attachguard.engines.base import (
    Cap,
    Context,
    EngineSpec,
    Item,
    Options,
    Resources,
    Result,
    finding,
)
from attachguard.moderation import (
    ImageTooLarge,
    ImageUnreadable,
    ModerationBackend,
    Picture,
    load_backend,
)
from attachguard.moderation.taxonomy import CATEGORIES, Label, governing_rule

NAME = "moderation"

MODERATION = declare(
    "MODERATION",
    "threat",
    Action.REJECT,
    "image shows content the policy blocks",
    "This picture shows content that can't be shared in chat.",
)
MODERATION_LIMIT = declare(
    "MODERATION_LIMIT",
    "unscannable",
    Action.REJECT,
    "more embedded images than the policy has moderated",
    "This document holds more pictures than we can check, so it wasn't shared.",
)


class ModerationRule(Options):
    """What a moderation category does: reject (or allow) its labels at ``min_confidence``
    (0-100, Rekognition's scale) or above."""

    min_confidence: float = Field(50.0, ge=0, le=100)
    action: Action = Action.REJECT


def _default_categories() -> dict[str, ModerationRule]:
    blocked = (
        "Explicit",
        "Non-Explicit Nudity of Intimate parts and Kissing",
        "Violence",
        "Visually Disturbing",
        "Drugs & Tobacco",
        "Rude Gestures",
        "Hate Symbols",
    )
    allowed = ("Alcohol", "Gambling", "Swimwear or Underwear")
    rules = {name: ModerationRule() for name in blocked}
    rules.update({name: ModerationRule(action=Action.ALLOW) for name in allowed})
    return rules


class ModerationOptions(Options):
    """``engines.moderation``: which backend looks (``none`` switches the engine off), which
    Rekognition categories (L1 or L2 names) are blocked — the most specific rule for a label
    wins, unlisted categories are allowed — and how many images inside one file are looked at
    (a cost cap: each is a call to the backend)."""

    backend: Literal["none", "rekognition", "local"] = "none"
    categories: dict[str, ModerationRule] = Field(default_factory=_default_categories)
    max_embedded_images: int = Field(20, ge=0)

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: dict[str, ModerationRule]) -> dict[str, ModerationRule]:
        for name in value:
            if name not in CATEGORIES:
                raise ValueError(
                    f"unknown moderation category {name!r} (use a Rekognition L1 or L2 name, "
                    "see docs/policy.md)"
                )
        return value


class ModerationEngine:
    """``backend``: a `ModerationBackend` (Rekognition or local), shared by every scan;
    ``options``: the policy's ``engines.moderation``."""

    name = NAME

    def __init__(
        self, backend: ModerationBackend, options: ModerationOptions | None = None
    ) -> None:
        self.backend = backend
        self.options = options or ModerationOptions()

    def version(self) -> str:
        return self.backend.version()

    def scan(self, item: Item, context: Context) -> Result:
        rules = self.options.categories
        blocked = [r.min_confidence for r in rules.values() if r.action is Action.REJECT]
        facts: dict[str, object] = {"backend": self.backend.name}
        if not blocked:
            facts["skipped"] = "the policy blocks no moderation category"
            return Result(facts={NAME: facts})
        picture = Picture(item.data, item.type.label, context.limits.max_image_pixels)
        try:
            detection = self.backend.detect(picture, min(blocked), context.deadline)
        except ImageTooLarge as exc:
            return Result([finding(NAME, IMAGE_BOMB, f"not moderated: {exc}")])
        except ImageUnreadable as exc:
            return Result([finding(NAME, CORRUPT, f"not moderated: {exc}")])
        facts.update(model=detection.model, via=detection.via, **detection.facts)
        facts["labels"] = [
            {"label": x.display(), "confidence": round(x.confidence, 2)} for x in detection.labels
        ]
        findings = [
            finding(
                NAME,
                MODERATION,
                f"image shows {x.display()} ({x.confidence:.0f}% confidence), "
                "which the policy blocks",
                label=x.display(),
                confidence=round(x.confidence, 2),
            )
            for x in _worst(detection.labels, rules).values()
        ]
        return Result(findings, facts={NAME: facts})


def _worst(labels: list[Label], rules: dict[str, ModerationRule]) -> dict[str, Label]:
    """Top-level category → its deepest, surest label that a rule rejects."""
    worst: dict[str, Label] = {}
    for label in labels:
        category = governing_rule(label, rules)
        if category is None:
            continue
        rule = rules[category]
        if rule.action is not Action.REJECT or label.confidence < rule.min_confidence:
            continue
        top = label.path()[0]
        held = worst.get(top)
        if held is None or (len(label.path()), label.confidence) > (
            len(held.path()),
            held.confidence,
        ):
            worst[top] = label
    return worst


def _build(options: ModerationOptions, resources: Resources) -> ModerationEngine | None:
    backend = resources.moderation or load_backend(options.backend)
    return None if backend is None else ModerationEngine(backend, options)


ENGINE = EngineSpec(
    name=NAME,
    summary="image moderation in the Rekognition taxonomy (Rekognition or a local model)",
    types=("jpeg", "png", "gif", "webp", "bmp", "tiff", "heif"),
    codes=(MODERATION, MODERATION_LIMIT, IMAGE_BOMB, CORRUPT),
    build=_build,
    options=ModerationOptions,
    active=lambda options: options.backend != "none",
    cap=Cap(lambda options: options.max_embedded_images, MODERATION_LIMIT, "embedded images"),
    wants=frozenset({"pictures"}),
    order=90,
)
