"""The local moderation backend (NudeNet): its class mapping onto the Rekognition taxonomy, and
no false positives on ordinary photos (scikit-image's bundled sample images)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from attachguard.codes import FindingCode
from attachguard.engines.base import Item
from attachguard.engines.moderation import ModerationEngine, ModerationOptions
from attachguard.moderation import Picture, imaging
from attachguard.moderation.local import CLASS_MAP, NOT_COVERED, LocalBackend, labels_for
from attachguard.moderation.taxonomy import CATEGORIES, Label
from attachguard.policy import Policy
from attachguard.report import FileType

pytest.importorskip("nudenet")
skdata = pytest.importorskip("skimage.data")

PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png"]


def local_policy(policy: Policy) -> Policy:
    current = policy.options("moderation").model_dump()
    section = ModerationOptions.model_validate({**current, "backend": "local"})
    return policy.model_copy(update={"engines": {**policy.engines, "moderation": section}})


@pytest.fixture(scope="module")
def backend() -> LocalBackend:
    return LocalBackend()  # one detector for the module: the model loads once


def test_every_mapped_class_lands_in_the_taxonomy() -> None:
    for name, parent in CLASS_MAP.values():
        top = Label(name, parent, 90).path()[0]
        assert top in CATEGORIES and (parent == "" or parent in CATEGORIES)
    assert set(NOT_COVERED) <= CATEGORIES


@pytest.mark.parametrize(
    ("cls", "top", "blocked"),
    [
        ("FEMALE_GENITALIA_EXPOSED", "Explicit", True),
        ("MALE_GENITALIA_EXPOSED", "Explicit", True),
        ("FEMALE_BREAST_EXPOSED", "Explicit", True),
        ("BUTTOCKS_EXPOSED", "Explicit", True),
        ("ANUS_EXPOSED", "Explicit", True),
        ("MALE_BREAST_EXPOSED", "Non-Explicit Nudity of Intimate parts and Kissing", True),
        ("FEMALE_GENITALIA_COVERED", "Non-Explicit Nudity of Intimate parts and Kissing", True),
        ("ANUS_COVERED", "Non-Explicit Nudity of Intimate parts and Kissing", True),
        ("FEMALE_BREAST_COVERED", "Swimwear or Underwear", False),
        ("BUTTOCKS_COVERED", "Swimwear or Underwear", False),
    ],
)
def test_class_mapping_and_default_verdict(
    policy: Policy, cls: str, top: str, blocked: bool
) -> None:
    labels = labels_for([{"class": cls, "score": 0.91, "box": [0, 0, 1, 1]}], 0)
    assert [x.path()[0] for x in labels] == [top]
    assert labels[0].confidence == pytest.approx(91.0)

    class Fake:
        name = "local"

        def version(self) -> str:
            return "fake"

        def detect(self, picture: Picture, min_confidence: float, deadline: float) -> Any:
            from attachguard.moderation import Detection

            return Detection(labels, "fake")

    item = Item("p.jpg", b"", FileType("jpeg", "image/jpeg", "image"))
    findings = ModerationEngine(Fake()).scan(item, local_policy(policy).context()).findings
    assert bool(findings) is blocked


def test_unmapped_classes_and_low_scores_are_dropped() -> None:
    detections = [
        {"class": "FACE_FEMALE", "score": 0.99},
        {"class": "FEET_EXPOSED", "score": 0.99},
        {"class": "BUTTOCKS_EXPOSED", "score": 0.30},
        {"class": "BUTTOCKS_EXPOSED", "score": 0.62},
        {"class": "ANUS_EXPOSED", "score": 0.55},
    ]
    labels = labels_for(detections, 50)
    # both classes map to one label: reported once, with the best score
    assert [(x.name, x.confidence) for x in labels] == [("Exposed Buttocks or Anus", 62.0)]


@pytest.mark.parametrize("name", PHOTOS)
def test_no_false_positive_on_ordinary_photos(
    policy: Policy, backend: LocalBackend, name: str
) -> None:
    data = (Path(skdata.data_dir) / name).read_bytes()
    kind = FileType("png" if name.endswith(".png") else "jpeg", "image/png", "image")
    result = ModerationEngine(backend).scan(Item(name, data, kind), local_policy(policy).context())
    assert result.findings == []
    facts = result.facts["moderation"]
    assert facts["backend"] == "local" and "Violence" in facts["not_covered"]


def test_real_detector_runs_on_heic_and_reports_faces_only(backend: LocalBackend) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    # x265's fastest preset: 0.05 s of CPU to encode where its default takes 0.35 s, for a
    # picture as close to the photo (the detector reads it at 640 pixels)
    photo = Image.open(Path(skdata.data_dir) / "astronaut.png")
    photo.save(out, "HEIF", enc_params={"preset": "ultrafast"})
    raw = backend.detector().detect(imaging.to_rgba_array(out.getvalue(), 10**8, 640))
    # the detector really looked (it finds the astronaut's face), yet nothing maps to a label
    assert any(d["class"] == "FACE_FEMALE" for d in raw)
    assert backend.detect(Picture(out.getvalue(), "heif", 10**8), 50, 0).labels == []


def test_corrupt_image_is_not_approved(policy: Policy, backend: LocalBackend) -> None:
    item = Item("x.png", b"\x89PNG\r\n\x1a\n broken", FileType("png", "image/png", "image"))
    findings = ModerationEngine(backend).scan(item, local_policy(policy).context()).findings
    assert [f.code for f in findings] == [FindingCode.CORRUPT]
