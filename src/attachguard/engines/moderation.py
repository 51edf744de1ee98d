"""Image moderation: does the picture show what the policy blocks (drugs, nudity, violence...)?

Runs on every image the routes send it (JPEG, PNG, HEIC/HEIF, WebP, GIF, BMP, TIFF), including
images the pipeline unpacked from containers (``word/media/*`` of Office files, PDF
attachments, pictures drawn in PDF pages). Not covered: pictures inside legacy (OLE) Office
files, which no engine extracts yet. The backend (Rekognition or local) reports labels in the
Rekognition taxonomy; the policy's ``moderation.categories`` decide: the most specific rule for a
label wins, and one finding is made per top-level category (its deepest rejected label). Confidence
is 0-100, Rekognition's scale. An image that cannot be decoded, or is over the pixel limit, is
reported as not moderated (CORRUPT / IMAGE_BOMB); backend errors propagate (ENGINE_ERROR).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from attachguard.codes import Action, FindingCode
from attachguard.engines.base import Item, Result, finding
from attachguard.moderation import (
    ImageTooLarge,
    ImageUnreadable,
    ModerationBackend,
    Picture,
)
from attachguard.moderation.taxonomy import Label, governing_rule

if TYPE_CHECKING:
    from attachguard.policy import Policy

NAME = "moderation"


class ModerationEngine:
    """``backend``: a `ModerationBackend` (Rekognition or local), shared by every scan."""

    name = NAME

    def __init__(self, backend: ModerationBackend) -> None:
        self.backend = backend

    def version(self) -> str:
        return self.backend.version()

    def scan(self, item: Item, policy: Policy) -> Result:
        rules = policy.moderation.categories
        blocked = [r.min_confidence for r in rules.values() if r.action is Action.REJECT]
        facts: dict[str, object] = {"backend": self.backend.name}
        if not blocked:
            facts["skipped"] = "the policy blocks no moderation category"
            return Result(facts={NAME: facts})
        picture = Picture(item.data, item.type.label, policy.limits.max_image_pixels)
        deadline = time.monotonic() + policy.timeouts.engine
        try:
            detection = self.backend.detect(picture, min(blocked), deadline)
        except ImageTooLarge as exc:
            return Result([finding(NAME, FindingCode.IMAGE_BOMB, f"not moderated: {exc}")])
        except ImageUnreadable as exc:
            return Result([finding(NAME, FindingCode.CORRUPT, f"not moderated: {exc}")])
        facts.update(model=detection.model, via=detection.via, **detection.facts)
        facts["labels"] = [
            {"label": x.display(), "confidence": round(x.confidence, 2)} for x in detection.labels
        ]
        worst: dict[str, Label] = {}  # top-level category → its deepest, surest rejected label
        for label in detection.labels:
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
        findings = [
            finding(
                NAME,
                FindingCode.MODERATION,
                f"image shows {x.display()} ({x.confidence:.0f}% confidence), "
                "which the policy blocks",
                label=x.display(),
                confidence=round(x.confidence, 2),
            )
            for x in worst.values()
        ]
        return Result(findings, facts={NAME: facts})
