"""A local moderation backend: NudeNet's bundled detector (``320n.onnx``), no cloud needed.

NudeNet is AGPL-licensed, so it is the optional extra ``attachguard[nudity]``, never a hard
dependency. It detects body parts only; its classes map onto the Rekognition taxonomy:

=============================================  ==============================================
NudeNet class                                  Rekognition label (L1 > L2 > L3)
=============================================  ==============================================
FEMALE_GENITALIA_EXPOSED                       Explicit > Explicit Nudity > Exposed Female Genitalia
MALE_GENITALIA_EXPOSED                         Explicit > Explicit Nudity > Exposed Male Genitalia
FEMALE_BREAST_EXPOSED                          Explicit > Explicit Nudity > Exposed Female Nipple
BUTTOCKS_EXPOSED, ANUS_EXPOSED                 Explicit > Explicit Nudity > Exposed Buttocks or Anus
MALE_BREAST_EXPOSED                            Non-Explicit Nudity… > Non-Explicit Nudity
                                               > Exposed Male Nipple
FEMALE_GENITALIA_COVERED, ANUS_COVERED         Non-Explicit Nudity… > Obstructed Intimate Parts
FEMALE_BREAST_COVERED, BUTTOCKS_COVERED        Swimwear or Underwear
FACE_*, FEET_*, BELLY_*, ARMPITS_*             (ignored: not a moderation category)
=============================================  ==============================================

Covered breasts and buttocks are what a bikini or underwear looks like to NudeNet; Rekognition
files those under Swimwear or Underwear, so that is where they go (allowed by default).
Scores (0-1) are reported as confidence 0-100. What it cannot see: weapons and violence,
disturbing images, drugs and tobacco, alcohol, gambling, rude gestures, hate symbols, kissing,
sexual activity and sex toys — `NOT_COVERED` lists them, and the report says so.
"""

from __future__ import annotations

import importlib.metadata
import threading
from typing import Any

from attachguard.moderation import Detection, Picture, imaging
from attachguard.moderation.taxonomy import Label

_EXPLICIT = "Explicit Nudity"
_NON_EXPLICIT = "Non-Explicit Nudity"
_OBSTRUCTED = "Obstructed Intimate Parts"
_SWIMWEAR = "Swimwear or Underwear"

# NudeNet class → (label name, ParentName) as Rekognition would report them.
CLASS_MAP: dict[str, tuple[str, str]] = {
    "FEMALE_GENITALIA_EXPOSED": ("Exposed Female Genitalia", _EXPLICIT),
    "MALE_GENITALIA_EXPOSED": ("Exposed Male Genitalia", _EXPLICIT),
    "FEMALE_BREAST_EXPOSED": ("Exposed Female Nipple", _EXPLICIT),
    "BUTTOCKS_EXPOSED": ("Exposed Buttocks or Anus", _EXPLICIT),
    "ANUS_EXPOSED": ("Exposed Buttocks or Anus", _EXPLICIT),
    "MALE_BREAST_EXPOSED": ("Exposed Male Nipple", _NON_EXPLICIT),
    "FEMALE_GENITALIA_COVERED": (_OBSTRUCTED, "Non-Explicit Nudity of Intimate parts and Kissing"),
    "ANUS_COVERED": (_OBSTRUCTED, "Non-Explicit Nudity of Intimate parts and Kissing"),
    "FEMALE_BREAST_COVERED": (_SWIMWEAR, ""),
    "BUTTOCKS_COVERED": (_SWIMWEAR, ""),
}

NOT_COVERED: tuple[str, ...] = (
    "Violence",
    "Visually Disturbing",
    "Drugs & Tobacco",
    "Alcohol",
    "Gambling",
    "Rude Gestures",
    "Hate Symbols",
    "Kissing on the Lips",
    "Explicit Sexual Activity",
    "Sex Toys",
)

FIT = 640  # NudeNet looks at 320x320; decoding larger only costs time


def labels_for(detections: list[dict[str, Any]], min_confidence: float) -> list[Label]:
    """NudeNet detections → taxonomy labels, the best score per label, at ``min_confidence``
    (0-100) or above; classes outside the taxonomy are dropped."""
    best: dict[tuple[str, str], float] = {}
    for det in detections:
        mapped = CLASS_MAP.get(str(det.get("class")))
        if mapped is None:
            continue
        score = round(float(det.get("score", 0.0)) * 100, 2)
        if score >= min_confidence and score > best.get(mapped, -1.0):
            best[mapped] = score
    return [Label(name, parent, score) for (name, parent), score in best.items()]


class LocalBackend:
    """NudeNet, loaded once on first use and shared (ONNX Runtime sessions are thread-safe)."""

    name = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._detector: Any = None

    def detector(self) -> Any:
        with self._lock:
            if self._detector is None:
                try:
                    from nudenet import NudeDetector  # type: ignore[import-untyped]
                except ImportError as exc:
                    raise RuntimeError(
                        "the local moderation backend needs NudeNet: "
                        "pip install 'attachguard[nudity]'"
                    ) from exc
                self._detector = NudeDetector()  # the model file ships inside the package
            return self._detector

    def version(self) -> str:
        try:
            release = importlib.metadata.version("nudenet")
        except importlib.metadata.PackageNotFoundError:
            release = "not installed"
        return f"NudeNet {release} (320n), nudity only"

    def detect(self, picture: Picture, min_confidence: float, deadline: float) -> Detection:
        pixels = imaging.to_rgba_array(picture.data, picture.max_pixels, FIT)
        # NudeNet converts RGBA → BGR, then its blob swaps back to the RGB the model expects.
        detections = self.detector().detect(pixels)
        labels = labels_for(detections, min_confidence)
        return Detection(
            labels,
            self.version(),
            "local",
            {"not_covered": ", ".join(NOT_COVERED)},
        )
