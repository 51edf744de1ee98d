"""Image moderation: the taxonomy, the policy section, the engine's decisions, and the
Rekognition backend against the real service model (botocore Stubber)."""

from __future__ import annotations

import io
import time
from typing import Any

import boto3  # type: ignore[import-untyped]
import pillow_heif
import pytest
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]
from PIL import Image

from attachguard.codes import FindingCode
from attachguard.engines.base import Item
from attachguard.engines.moderation import ModerationEngine, ModerationOptions
from attachguard.moderation import (
    Detection,
    ImageTooLarge,
    ImageUnreadable,
    Picture,
    StoredBytes,
    imaging,
)
from attachguard.moderation.rekognition import RekognitionBackend
from attachguard.moderation.taxonomy import CATEGORIES, SEP, TAXONOMY, Label, governing_rule
from attachguard.policy import Policy, PolicyError, load_policy, parse_policy
from attachguard.registry import load_specs, route
from attachguard.report import FileType
from support.rekognition import PILLS, WINE

pillow_heif.register_heif_opener()  # lets the tests write HEIC

JPEG = FileType("jpeg", "image/jpeg", "image")


def picture(size: tuple[int, int] = (320, 240), fmt: str = "JPEG", **save: Any) -> bytes:
    image = Image.new("RGB", size, (120, 180, 40))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def shown(*parts: str) -> str:
    return SEP.join(parts)


def with_moderation(policy: Policy, **moderation: Any) -> Policy:
    """``policy`` with moderation settings replaced (validated) and the engine switched on."""
    current = policy.options("moderation").model_dump(mode="json")
    section = ModerationOptions.model_validate({**current, **moderation})
    return policy.model_copy(update={"engines": {**policy.engines, "moderation": section}})


def options(policy: Policy) -> ModerationOptions:
    found = policy.options("moderation")
    assert isinstance(found, ModerationOptions)
    return found


class FakeBackend:
    name = "fake"

    def __init__(self, labels: list[dict[str, Any]]) -> None:
        self.labels = [Label(x["Name"], x["ParentName"], x["Confidence"]) for x in labels]
        self.calls: list[float] = []

    def version(self) -> str:
        return "fake 1"

    def detect(self, picture: Picture, min_confidence: float, deadline: float) -> Detection:
        self.calls.append(min_confidence)
        return Detection([x for x in self.labels if x.confidence >= min_confidence], "fake 1")


# --- taxonomy ---------------------------------------------------------------------------------


def test_taxonomy_paths_follow_parent_names() -> None:
    assert Label("Pills", "Products", 90).path() == ("Drugs & Tobacco", "Products", "Pills")
    assert Label("Products", "Drugs & Tobacco", 90).display() == shown(
        "Drugs & Tobacco", "Products"
    )
    assert Label("Gambling", "", 90).path() == ("Gambling",)
    assert len(TAXONOMY) == 10 and "Middle Finger" in CATEGORIES


def test_most_specific_rule_governs() -> None:
    rules = {"Drugs & Tobacco": 1, "Products": 2}
    assert governing_rule(Label("Pills", "Products", 90), rules) == "Products"
    assert governing_rule(Label("Smoking", "Drugs & Tobacco Paraphernalia & Use", 90), rules) == (
        "Drugs & Tobacco"
    )
    assert governing_rule(Label("Alcohol Use", "Alcohol", 90), rules) is None


# --- policy -----------------------------------------------------------------------------------


def test_default_policy_blocks_and_allows_what_the_issue_says(policy: Policy) -> None:
    rules = options(policy).categories
    blocked = {k for k, r in rules.items() if r.action.value == "reject"}
    assert blocked == {
        "Explicit",
        "Non-Explicit Nudity of Intimate parts and Kissing",
        "Violence",
        "Visually Disturbing",
        "Drugs & Tobacco",
        "Rude Gestures",
        "Hate Symbols",
    }
    assert {k for k, r in rules.items() if r.action.value == "allow"} == {
        "Alcohol",
        "Gambling",
        "Swimwear or Underwear",
    }
    # backend none: the moderation engine is off, and the report says so
    assert options(policy).backend == "none"
    assert "moderation" in policy.engines_off


def test_backend_turns_the_engine_on() -> None:
    text = "allowed_extensions: [.jpg]\nengines: {moderation: {backend: rekognition}}\n"
    policy = parse_policy(text)
    assert "moderation" not in policy.engines_off
    assert "Drugs & Tobacco" in options(policy).categories  # defaults kept


def test_unknown_category_is_named() -> None:
    text = (
        "allowed_extensions: [.jpg]\nengines:\n  moderation:\n    categories:\n"
        "      Pillz: {min_confidence: 80}\n"
    )
    with pytest.raises(PolicyError, match="Pillz"):
        parse_policy(text)
    with pytest.raises(PolicyError, match=r"engines\.moderation\.backend"):
        parse_policy("allowed_extensions: [.jpg]\nengines: {moderation: {backend: magic}}\n")
    with pytest.raises(PolicyError, match=r"engines\.moderation\.categorys: unknown key"):
        parse_policy("allowed_extensions: [.jpg]\nengines: {moderation: {categorys: {}}}\n")


def test_old_moderation_section_points_to_its_new_place() -> None:
    with pytest.raises(PolicyError, match=r"moderation: moved to engines\.moderation"):
        parse_policy("allowed_extensions: [.jpg]\nmoderation: {backend: none}\n")


def test_images_are_routed_to_moderation() -> None:
    for label in ("jpeg", "png", "heif", "webp"):
        assert "moderation" in route(load_specs(), FileType(label, "", "image"))
    assert "moderation" not in route(load_specs(), FileType("pdf", "application/pdf", "document"))


# --- engine -----------------------------------------------------------------------------------


def test_pills_rejected_with_the_deepest_label(policy: Policy) -> None:
    backend = FakeBackend(PILLS)
    result = ModerationEngine(backend).scan(Item("pills.jpg", picture(), JPEG), policy.context())
    assert [f.code for f in result.findings] == [FindingCode.MODERATION]
    found = result.findings[0]
    assert found.label == shown("Drugs & Tobacco", "Products", "Pills")
    assert found.confidence == pytest.approx(96.4)
    assert "Drugs & Tobacco" in found.message
    assert backend.calls == [50.0]
    assert result.facts["moderation"]["model"] == "fake 1"


def test_alcohol_allowed_by_default_but_blockable(policy: Policy) -> None:
    item = Item("wine.jpg", picture(), JPEG)
    assert ModerationEngine(FakeBackend(WINE)).scan(item, policy.context()).findings == []
    liquor_free = with_moderation(
        policy, categories={"Alcoholic Beverages": {"min_confidence": 90}}
    )
    engine = ModerationEngine(FakeBackend(WINE), options(liquor_free))
    found = engine.scan(item, liquor_free.context()).findings
    assert [f.label for f in found] == [shown("Alcohol", "Alcoholic Beverages")]


def test_confidence_threshold_of_the_governing_rule(policy: Policy) -> None:
    item = Item("pills.jpg", picture(), JPEG)
    strict = with_moderation(policy, categories={"Products": {"min_confidence": 99}})
    engine = ModerationEngine(FakeBackend(PILLS), options(strict))
    assert engine.scan(item, strict.context()).findings == []


def test_undecodable_and_oversized_images_are_not_passed(policy: Policy) -> None:
    engine = ModerationEngine(FakeBackend(PILLS))
    # the fake never decodes; a real backend does, through imaging
    with pytest.raises(ImageUnreadable):
        imaging.to_jpeg(b"\xff\xd8\xff\xe0 not really a jpeg", 10**6)
    with pytest.raises(ImageTooLarge):
        imaging.to_jpeg(picture((400, 400)), 1000)
    rek = ModerationEngine(RekognitionBackend(client=object()))
    bad = rek.scan(Item("x.jpg", b"\xff\xd8\xff\xe0 broken", JPEG), policy.context()).findings
    assert [f.code for f in bad] == [FindingCode.CORRUPT]
    assert engine.name == "moderation"


# --- Rekognition backend (requests checked against the real service model) --------------------


@pytest.fixture
def rekognition() -> Any:
    return boto3.client(
        "rekognition",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _sent(client: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.rekognition.DetectModerationLabels",
        lambda params, **_: seen.append(params),
    )
    return seen


def _response(labels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ModerationLabels": labels, "ModerationModelVersion": "7.0"}


def test_jpeg_in_s3_is_sent_as_s3object(rekognition: Any) -> None:
    backend = RekognitionBackend(client=rekognition)
    data = StoredBytes(picture(), "attachments", "connect/x/Attachments/pills.jpg", "v1")
    with Stubber(rekognition) as stub:
        stub.add_response(
            "detect_moderation_labels",
            _response(PILLS),
            {
                "Image": {"S3Object": {"Bucket": "attachments", "Name": data.key, "Version": "v1"}},
                "MinConfidence": 50.0,
            },
        )
        got = backend.detect(Picture(data, "jpeg", 10**8), 50.0, time.monotonic() + 5)
        stub.assert_no_pending_responses()
    assert got.via == "S3Object" and got.model.endswith("7.0")
    assert [x.name for x in got.labels] == ["Drugs & Tobacco", "Products", "Pills"]
    assert "7.0" in backend.version()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (picture(fmt="HEIF"), "heif"),  # not a Rekognition format
        (picture((12_000, 100), quality=10), "jpeg"),  # over 10,000 px a side
        (picture((40, 40)), "jpeg"),  # under 80 px a side: enlarged
    ],
    ids=["heic", "too-wide", "too-small"],
)
def test_other_images_are_reencoded_as_bytes(rekognition: Any, data: bytes, kind: str) -> None:
    stored = StoredBytes(data, "attachments", "k", None)
    sent = _sent(rekognition)
    with Stubber(rekognition) as stub:
        stub.add_response(
            "detect_moderation_labels",
            _response([]),
            {"Image": {"Bytes": ANY}, "MinConfidence": 50.0},
        )
        got = RekognitionBackend(client=rekognition).detect(
            Picture(stored, kind, 10**9), 50.0, time.monotonic() + 5
        )
    assert got.via == "Bytes"
    jpeg = sent[0]["Image"]["Bytes"]
    assert jpeg[:3] == b"\xff\xd8\xff" and len(jpeg) <= imaging.BYTES_LIMIT
    width, height = Image.open(io.BytesIO(jpeg)).size
    assert min(width, height) >= imaging.MIN_SIDE and max(width, height) <= imaging.MAX_SIDE


def test_embedded_image_without_location_goes_as_bytes(rekognition: Any) -> None:
    with Stubber(rekognition) as stub:
        stub.add_response(
            "detect_moderation_labels",
            _response([]),
            {"Image": {"Bytes": ANY}, "MinConfidence": 60.0},
        )
        got = RekognitionBackend(client=rekognition).detect(
            Picture(picture(fmt="PNG"), "png", 10**8), 60.0, time.monotonic() + 5
        )
    assert got.via == "Bytes"


def test_throttling_is_retried_then_answered(rekognition: Any) -> None:
    backend = RekognitionBackend(client=rekognition, base_delay=0.01)
    with Stubber(rekognition) as stub:
        stub.add_client_error(
            "detect_moderation_labels", "ThrottlingException", http_status_code=400
        )
        stub.add_client_error(
            "detect_moderation_labels",
            "ProvisionedThroughputExceededException",
            http_status_code=400,
        )
        stub.add_response("detect_moderation_labels", _response(WINE))
        got = backend.detect(Picture(picture(), "jpeg", 10**8), 50.0, time.monotonic() + 5)
        stub.assert_no_pending_responses()
    assert [x.name for x in got.labels] == ["Alcohol", "Alcoholic Beverages"]


def test_throttling_past_the_deadline_raises(rekognition: Any) -> None:
    backend = RekognitionBackend(client=rekognition, base_delay=0.5)
    with Stubber(rekognition) as stub:
        stub.add_client_error(
            "detect_moderation_labels", "ThrottlingException", http_status_code=400
        )
        with pytest.raises(Exception, match="ThrottlingException"):
            backend.detect(Picture(picture(), "jpeg", 10**8), 50.0, time.monotonic() + 0.1)


def test_other_errors_fail_closed_in_the_pipeline_sense(rekognition: Any, policy: Policy) -> None:
    engine = ModerationEngine(RekognitionBackend(client=rekognition))
    on = with_moderation(policy, backend="rekognition")
    with Stubber(rekognition) as stub:
        stub.add_client_error(
            "detect_moderation_labels", "AccessDeniedException", http_status_code=403
        )
        with pytest.raises(Exception, match="AccessDeniedException"):
            engine.scan(Item("p.jpg", picture(), JPEG), on.context())


def test_s3object_refused_is_resent_as_bytes(rekognition: Any) -> None:
    data = StoredBytes(picture(), "attachments", "k", None)
    with Stubber(rekognition) as stub:
        stub.add_client_error(
            "detect_moderation_labels", "InvalidImageFormatException", http_status_code=400
        )
        stub.add_response(
            "detect_moderation_labels",
            _response([]),
            {"Image": {"Bytes": ANY}, "MinConfidence": 50.0},
        )
        got = RekognitionBackend(client=rekognition).detect(
            Picture(data, "jpeg", 10**8), 50.0, time.monotonic() + 5
        )
    assert got.via == "Bytes"


def test_load_policy_default_still_valid() -> None:
    assert options(load_policy()).categories["Alcohol"].action.value == "allow"


@pytest.mark.parametrize("mode", ["RGB", "P", "RGBA"])  # DCT, ASCIIHex + Indexed, JPEG 2000
def test_pictures_drawn_in_a_pdf_are_moderated(policy: Policy, mode: str) -> None:
    from attachguard.scanner import build_scanner

    page = io.BytesIO()
    Image.new(mode, (320, 240)).save(page, "PDF")
    backend = FakeBackend(PILLS)
    moderated = with_moderation(policy, backend="local").model_copy(
        update={"disabled_engines": ["clamav"]}
    )
    with build_scanner(moderated, None, moderation=backend) as scanner:
        report = scanner.scan(page.getvalue(), "prescription.pdf")
    assert backend.calls, "the picture was never shown to the moderation backend"
    assert report.status.value == "REJECTED"
    found = [f for f in report.findings if f.code is FindingCode.MODERATION]
    assert found and (found[0].location or "").startswith("picture in object")
    with build_scanner(policy.model_copy(update={"disabled_engines": ["clamav"]}), None) as plain:
        # moderation off: pictures are not extracted at all (no cost, and nothing to find)
        assert plain.scan(page.getvalue(), "prescription.pdf").status.value == "APPROVED"
