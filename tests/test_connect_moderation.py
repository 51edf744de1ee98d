"""Rekognition reading attachments straight from Connect's bucket (``S3Object``), when it
cannot: a KMS key policy or a bucket-policy condition that lets the scanner's role read the
object but not Rekognition. Requests are checked against the real service model (Stubber)."""

from __future__ import annotations

import io
import time
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]

from attachguard import samples
from attachguard.moderation import Picture, StoredBytes
from attachguard.moderation import rekognition as rekognition_module
from attachguard.moderation.rekognition import RekognitionBackend
from support.rekognition import PILLS

KEY = "connect/acme/Attachments/chat/2026/03/14/id_pills.jpg"


def jpeg() -> bytes:
    out = io.BytesIO()
    samples.photo(640, 480, seed=3).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def rekognition() -> Any:
    return boto3.client(
        "rekognition", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


def answer(labels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ModerationLabels": labels, "ModerationModelVersion": "7.0"}


def stored() -> Picture:
    return Picture(StoredBytes(jpeg(), "connect-bucket", KEY, "v1"), "jpeg", 10**8)


S3_IMAGE = {"S3Object": {"Bucket": "connect-bucket", "Name": KEY, "Version": "v1"}}


def test_unreadable_s3_object_is_sent_as_bytes_then_s3_is_paused(rekognition: Any) -> None:
    backend = RekognitionBackend(client=rekognition)
    with Stubber(rekognition) as stub:
        stub.add_client_error(
            "detect_moderation_labels",
            "InvalidS3ObjectException",
            "Unable to get object metadata from S3. Check object key, region and/or access "
            "permissions.",
            http_status_code=400,
            expected_params={"Image": S3_IMAGE, "MinConfidence": 50.0},
        )
        stub.add_response(
            "detect_moderation_labels",
            answer(PILLS),
            {"Image": {"Bytes": ANY}, "MinConfidence": 50.0},
        )
        # the next image does not try S3Object again: one extra call, not one per image
        stub.add_response(
            "detect_moderation_labels", answer([]), {"Image": {"Bytes": ANY}, "MinConfidence": 50.0}
        )
        first = backend.detect(stored(), 50.0, time.monotonic() + 5)
        second = backend.detect(stored(), 50.0, time.monotonic() + 5)
        stub.assert_no_pending_responses()
    assert first.via == "Bytes" and [x.name for x in first.labels][-1] == "Pills"
    assert second.via == "Bytes" and second.labels == []


def test_s3_object_is_tried_again_after_the_pause(
    rekognition: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = RekognitionBackend(client=rekognition)
    monkeypatch.setattr(rekognition_module, "S3_PAUSE", 0.0)
    with Stubber(rekognition) as stub:
        stub.add_client_error("detect_moderation_labels", "InvalidS3ObjectException", "x", 400)
        stub.add_response("detect_moderation_labels", answer([]))
        stub.add_response(
            "detect_moderation_labels", answer([]), {"Image": S3_IMAGE, "MinConfidence": 50.0}
        )
        backend.detect(stored(), 50.0, time.monotonic() + 5)
        again = backend.detect(stored(), 50.0, time.monotonic() + 5)
    assert again.via == "S3Object"


def test_other_errors_still_fail_closed(rekognition: Any) -> None:
    """Rekognition refusing the caller itself is not about the object: no second request,
    the error reaches the pipeline (ENGINE_ERROR, which rejects)."""
    backend = RekognitionBackend(client=rekognition)
    with Stubber(rekognition) as stub:
        stub.add_client_error("detect_moderation_labels", "AccessDeniedException", "x", 403)
        with pytest.raises(Exception, match="AccessDeniedException"):
            backend.detect(stored(), 50.0, time.monotonic() + 5)
        stub.assert_no_pending_responses()
