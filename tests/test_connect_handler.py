"""The FILE_SCANNER Lambda handler end to end: events from tests/events/, objects in moto's S3
server (real HTTP, boto3's standard endpoint settings), a real clamd, and Rekognition through
botocore's Stubber (requests checked against the service model)."""

from __future__ import annotations

import functools
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pillow_heif
import pytest
from aws_lambda_powertools import Logger
from botocore.response import StreamingBody  # type: ignore[import-untyped]
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]

from attachguard import demo, samples
from attachguard.clamav.client import ClamdClient
from attachguard.codes import Code, FindingCode
from attachguard.connect import handler as handler_module
from attachguard.connect import s3util
from attachguard.connect.config import read_policy, with_backend
from attachguard.connect.handler import ConnectScanner, Outcome, Settings
from attachguard.moderation import rekognition as rekognition_module
from attachguard.moderation.rekognition import RekognitionBackend
from attachguard.pipeline import Scanner
from attachguard.policy import Policy, PolicyError, default_policy_text, parse_policy
from attachguard.scanner import build_scanner
from support.rekognition import PILLS, WINE

EVENTS = Path(__file__).parent / "events"
ROOT = Path(__file__).parent.parent


class Context:
    """What the handler uses of the Lambda context."""

    def get_remaining_time_in_millis(self) -> int:
        return 55_000


def photo(fmt: str = "JPEG", size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    samples.photo(*size, seed=7).save(out, fmt)
    return out.getvalue()


def macro_workbook() -> bytes:
    """An .xlsx whose workbook holds an Excel 4 (XLM) macro sheet."""
    ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package'
            f'/2006/relationships"><Relationship Id="rId1" Type="{ns}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main" xmlns:r="{ns}"><sheets><sheet name="Macro1" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package'
            '/2006/relationships"><Relationship Id="rId1" Type="http://schemas.microsoft.com/'
            'office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/macrosheets/sheet1.xml",
            '<?xml version="1.0"?><xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/'
            'excel/2006/main"><sheetData/></xm:macrosheet>',
        )
    return out.getvalue()


@pytest.fixture(scope="module")
def rekognition() -> Any:
    return boto3.client(
        "rekognition",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def connect_policy() -> Policy:
    """The packaged default policy with Rekognition moderation switched on."""
    return parse_policy(with_backend(default_policy_text(), "rekognition"))


@pytest.fixture(scope="module")
def scanner(
    connect_policy: Policy, clamd_client: ClamdClient, rekognition: Any
) -> Iterator[Scanner]:
    backend = RekognitionBackend(client=rekognition, base_delay=0.01)
    with build_scanner(connect_policy, clamd_client, moderation=backend) as scanner:
        yield scanner


Run = Callable[..., tuple[dict[str, str], Outcome, dict[str, Any]]]


@pytest.fixture
def run(scanner: Scanner, s3_bucket: tuple[Any, str]) -> Run:
    """Upload ``data`` under ``key``, invoke the handler on the event file ``template``; returns
    the response, the outcome and the JSON log line."""
    s3, bucket = s3_bucket

    def invoke(
        data: bytes | None,
        name: str,
        template: str = "receipt.json",
        key: str | None = None,
        size: Any = None,
        settings: Settings | None = None,
        client: Any = None,
    ) -> tuple[dict[str, str], Outcome, dict[str, Any]]:
        event = json.loads((EVENTS / template).read_text())
        where = event["File"].get("FileLocation", {}).get("S3Location", {})
        key = key or where.get("Key", "x")
        if data is not None:
            s3.put_object(Bucket=bucket, Key=key, Body=data)
        event["File"].update(
            FileName=name, FileSizeInBytes=len(data or b"") if size is None else size
        )
        where.update(Bucket=bucket, Key=key, Arn=f"arn:aws:s3:::{bucket}/{key}")
        stream = io.StringIO()
        logger = Logger(service=f"test-{uuid.uuid4().hex[:8]}", stream=stream)
        runner = ConnectScanner(
            settings or Settings(), scanner=scanner, s3=client or s3, logger=logger, metrics=False
        )
        response, outcome = runner.handle(event, Context())
        lines = [json.loads(x) for x in stream.getvalue().splitlines() if x.strip()]
        return response, outcome, next(x for x in lines if x.get("message") == "scan")

    return invoke


def codes(outcome: Outcome) -> set[Code]:
    assert outcome.report is not None
    return {f.code for f in outcome.report.findings}


def test_receipt_is_approved_and_logged_without_its_name(run: Run) -> None:
    data = samples.pdf([demo.RECEIPT])
    response, outcome, log = run(data, "receipt.pdf")
    assert response == {"Status": "APPROVED"}
    assert log["status"] == "APPROVED" and log["reasons"] == []
    assert log["FileId"].endswith("EXAMPLE22222")
    assert log["sha256"] == outcome.report.sha256 if outcome.report else False
    assert {"s3_head", "s3_get", "total"} <= set(log["timings_ms"])
    text = json.dumps(log)
    assert "receipt.pdf" not in text and "Attachments" not in text  # names only when enabled


def test_file_names_logged_when_enabled(run: Run) -> None:
    _, _, log = run(b"hello\n", "notes.txt", settings=Settings(log_file_names=True))
    assert log["FileName"] == "notes.txt" and "Attachments" in log["Key"]


def test_member_paths_stay_out_of_the_log_unless_names_are_enabled(run: Run) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("John Smith tax return.txt", demo.EICAR)
    document = samples.docx(["Contract"])
    with zipfile.ZipFile(io.BytesIO(document)) as source:
        members = [(i, source.read(i)) for i in source.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info, data in members:
            z.writestr(info, data)
        z.writestr("word/embeddings/John Smith tax return.zip", archive.getvalue())
    response, outcome, log = run(out.getvalue(), "contract.docx")
    assert response == {"Status": "REJECTED"}
    assert any("John Smith" in r for r in outcome.reasons)  # the report keeps the location
    assert "John Smith" not in json.dumps(log)
    assert "EICAR test signature" in log["reasons"]
    _, _, named = run(out.getvalue(), "contract.docx", settings=Settings(log_file_names=True))
    assert any("John Smith" in r for r in named["reasons"])


def test_eicar_is_rejected(run: Run) -> None:
    response, outcome, log = run(demo.EICAR, "notes.txt")
    assert response == {"Status": "REJECTED"}
    assert FindingCode.MALWARE in codes(outcome)
    assert any("Eicar" in r or "EICAR" in r for r in log["reasons"])


def test_macro_workbook_is_rejected(run: Run) -> None:
    response, outcome, _ = run(macro_workbook(), "prices.xlsx")
    assert response == {"Status": "REJECTED"}
    assert FindingCode.XLM_MACRO in codes(outcome)


def test_prescription_photo_rejected_as_drugs(run: Run, rekognition: Any) -> None:
    """The seed's scenario: the proof of purchase passed, the photo of her medicine does not."""
    with Stubber(rekognition) as stub:
        stub.add_response(
            "detect_moderation_labels",
            {"ModerationLabels": PILLS, "ModerationModelVersion": "7.0"},
            {"Image": {"S3Object": {"Bucket": ANY, "Name": ANY}}, "MinConfidence": 50.0},
        )
        response, outcome, log = run(photo(), "IMG_2041.jpg", template="photo.json")
        stub.assert_no_pending_responses()
    assert response == {"Status": "REJECTED"}
    assert outcome.codes == ["MODERATION"]
    assert any("Drugs & Tobacco" in r for r in log["reasons"])
    assert outcome.report is not None
    moderation = outcome.report.facts["moderation"]
    assert moderation["via"] == "S3Object" and "7.0" in moderation["model"]


def test_alcohol_is_approved_by_default(run: Run, rekognition: Any) -> None:
    with Stubber(rekognition) as stub:
        stub.add_response(
            "detect_moderation_labels", {"ModerationLabels": WINE, "ModerationModelVersion": "7.0"}
        )
        response, _, _ = run(photo(), "wine.jpg", template="photo.json")
    assert response == {"Status": "APPROVED"}


def test_rekognition_error_rejects(run: Run, rekognition: Any) -> None:
    with Stubber(rekognition) as stub:
        stub.add_client_error("detect_moderation_labels", "InvalidS3ObjectException", "no access")
        response, outcome, _ = run(photo(), "photo.jpg", template="photo.json")
    assert response == {"Status": "REJECTED"}
    assert FindingCode.ENGINE_ERROR in codes(outcome)


def _sent_as_bytes(rekognition: Any) -> Stubber:
    stub = Stubber(rekognition)
    stub.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": [], "ModerationModelVersion": "7.0"},
        {"Image": {"Bytes": ANY}, "MinConfidence": 50.0},
    )
    return stub


def test_heic_photo_is_moderated_through_bytes(run: Run, rekognition: Any) -> None:
    pillow_heif.register_heif_opener()
    with _sent_as_bytes(rekognition) as stub:
        response, outcome, _ = run(photo("HEIF"), "IMG_2042.heic", template="photo.json")
        stub.assert_no_pending_responses()
    assert response == {"Status": "APPROVED"}, outcome.reasons
    assert outcome.report is not None and outcome.report.facts["moderation"]["via"] == "Bytes"


def test_oversized_photo_is_moderated_through_bytes(
    run: Run, rekognition: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rekognition_module, "S3_LIMIT", 10_000)  # stands in for 15 MB
    with _sent_as_bytes(rekognition) as stub:
        response, outcome, _ = run(photo(), "big.jpg", template="photo.json")
        stub.assert_no_pending_responses()
    assert response == {"Status": "APPROVED"}
    assert outcome.report is not None and outcome.report.facts["moderation"]["via"] == "Bytes"


def test_missing_object_is_rejected_at_once(run: Run) -> None:
    response, outcome, log = run(None, "gone.pdf", size=100)
    assert response == {"Status": "REJECTED"}
    assert outcome.codes == ["NOT_FOUND"] and outcome.report is None
    assert "not in S3" in log["reasons"][0]


def test_size_mismatch_is_rejected(run: Run) -> None:
    response, outcome, _ = run(b"hello\n", "notes.txt", size=5)
    assert response == {"Status": "REJECTED"} and outcome.codes == ["SIZE_MISMATCH"]


def test_over_the_size_limit_rejected_before_download(
    run: Run,
    s3_bucket: tuple[Any, str],
) -> None:
    s3, _ = s3_bucket
    gets: list[str] = []
    s3.meta.events.register("before-call.s3.GetObject", lambda **_: gets.append("get"))
    try:
        response, outcome, _ = run(b"\0" * (20 * 1024**2 + 1), "big.pdf")
    finally:
        s3.meta.events.unregister("before-call.s3.GetObject")
    assert response == {"Status": "REJECTED"} and outcome.codes == ["TOO_LARGE"]
    assert gets == []


@pytest.mark.parametrize(
    ("template", "size"),
    [("malformed-no-location.json", 120), ("malformed-size-as-text.json", "120")],
)
def test_malformed_events_are_rejected(run: Run, template: str, size: Any) -> None:
    response, outcome, log = run(None, "notes.txt", template=template, size=size)
    assert response == {"Status": "REJECTED"} and outcome.codes == ["MALFORMED_EVENT"]
    assert "File." in log["reasons"][0]


@pytest.mark.parametrize("event", [None, [], "{}", {"Version": "1.0"}, {"File": 3}])
def test_garbage_is_rejected(scanner: Scanner, event: Any) -> None:
    runner = ConnectScanner(
        Settings(),
        scanner=scanner,
        s3=object(),
        metrics=False,
        logger=Logger(service="garbage", stream=io.StringIO()),
    )
    assert runner(event, Context()) == {"Status": "REJECTED"}


@pytest.mark.parametrize(
    "key",
    [
        "connect/acme/Attachments/chat/2026/03/14/id_my receipt (copy).pdf",
        "connect/acme/Attachments/chat/2026/03/14/id_a+b%2B=c&d.pdf",
        "connect/acme/Attachments/chat/2026/03/14/id_Quittung-Grüße-領収書-🧾.pdf",
    ],
    ids=["spaces", "plus", "unicode"],
)
def test_awkward_keys(run: Run, key: str) -> None:
    response, _, _ = run(samples.pdf([demo.RECEIPT]), "receipt.pdf", key=key)
    assert response == {"Status": "APPROVED"}


def test_other_bucket_is_rejected(run: Run) -> None:
    response, outcome, _ = run(b"hi\n", "notes.txt", settings=Settings(bucket="the-real-bucket"))
    assert response == {"Status": "REJECTED"} and outcome.codes == ["WRONG_BUCKET"]


# --- S3 errors, with a stubbed S3 client ------------------------------------------------------


@pytest.fixture
def stubbed_s3() -> Any:
    return boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


def test_access_denied_is_rejected_without_retries(run: Run, stubbed_s3: Any) -> None:
    with Stubber(stubbed_s3) as stub:
        stub.add_client_error("head_object", "403", "Forbidden", http_status_code=403)
        response, outcome, _ = run(None, "x.pdf", size=10, client=stubbed_s3)
        stub.assert_no_pending_responses()  # exactly one call
    assert response == {"Status": "REJECTED"} and outcome.codes == ["ACCESS_DENIED"]


def test_transient_errors_are_retried(run: Run, stubbed_s3: Any) -> None:
    data = b"hello there\n"
    head = {"ContentLength": len(data), "ETag": '"abc"'}
    with Stubber(stubbed_s3) as stub:
        stub.add_client_error("head_object", "503", "Slow Down", http_status_code=503)
        stub.add_response("head_object", head)
        stub.add_client_error("get_object", "InternalError", http_status_code=500)
        stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(data), len(data))},
            {"Bucket": ANY, "Key": ANY, "IfMatch": '"abc"'},
        )
        response, _, _ = run(None, "notes.txt", size=len(data), client=stubbed_s3)
        stub.assert_no_pending_responses()
    assert response == {"Status": "APPROVED"}


# --- settings, the module-level handler, metrics ---------------------------------------------


def test_policy_from_s3_with_backend_override(s3_bucket: tuple[Any, str]) -> None:
    s3, bucket = s3_bucket
    s3.put_object(
        Bucket=bucket, Key="policy.yaml", Body=(ROOT / "deploy/lambda-policy.yaml").read_bytes()
    )
    policy = read_policy(f"s3://{bucket}/policy.yaml", "none", s3)
    assert policy.engines_off == {"clamav", "moderation"}
    assert read_policy(str(ROOT / "deploy/lambda-policy.yaml"), None).options(
        "moderation"
    ).model_dump()["backend"] == ("rekognition")


def test_the_ocr_backend_from_the_environment_wins(s3_bucket: tuple[Any, str]) -> None:
    s3, bucket = s3_bucket
    s3.put_object(
        Bucket=bucket, Key="policy.yaml", Body=(ROOT / "deploy/lambda-policy.yaml").read_bytes()
    )
    zipped = read_policy(f"s3://{bucket}/policy.yaml", None, s3)
    assert zipped.options("sensitive").model_dump()["ocr"] == "textract"
    for ocr in ("none", "rekognition"):
        policy = read_policy(f"s3://{bucket}/policy.yaml", None, s3, ocr)
        assert policy.options("sensitive").model_dump()["ocr"] == ocr
        assert policy.options("moderation").model_dump()["backend"] == "rekognition"
    default = read_policy(None, None, None, "local")
    assert default.options("sensitive").model_dump()["ocr"] == "local"
    assert Settings.from_env({"ATTACHGUARD_OCR": "textract"}).ocr == "textract"
    assert Settings.from_env({}).ocr is None


def test_policy_read_is_retried_on_transient_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    """A throttled or failing S3 must not leave an execution environment without a policy
    (every event of it would be REJECTED with CONFIG_ERROR); access denied is not retried."""
    # the retries without their backoff: retry's sleep is bound when s3util is imported, so
    # patching time.sleep left the test waiting 0.3-0.6 s
    monkeypatch.setattr(s3util, "retry", functools.partial(s3util.retry, sleep=lambda _: None))
    s3 = boto3.client(
        "s3", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    text = (ROOT / "deploy/lambda-policy.yaml").read_bytes()
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", "SlowDown", http_status_code=503)
        stub.add_client_error("get_object", "InternalError", http_status_code=500)
        stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(text), len(text))},
            {"Bucket": "config", "Key": "attachguard/lambda-policy.yaml"},
        )
        policy = read_policy("s3://config/attachguard/lambda-policy.yaml", "none", s3)
        stub.assert_no_pending_responses()
        assert policy.engines_off == {"clamav", "moderation"}
        stub.add_client_error("get_object", "AccessDenied", http_status_code=403)
        with pytest.raises(PolicyError, match=r"AccessDenied|ClientError"):
            read_policy("s3://config/attachguard/lambda-policy.yaml", None, s3)
        stub.assert_no_pending_responses()  # one call: not retried


def test_lambda_entry_point_with_the_zip_policy(
    s3_bucket: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``handler`` as Lambda calls it: settings from the environment, no ClamAV, EMF metrics."""
    s3, bucket = s3_bucket
    monkeypatch.setenv("ATTACHGUARD_POLICY", str(ROOT / "deploy/lambda-policy.yaml"))
    monkeypatch.setenv("ATTACHGUARD_MODERATION", "none")
    monkeypatch.delenv("ATTACHGUARD_CLAMD", raising=False)
    monkeypatch.setattr(handler_module, "_default", None)
    data = b"Order A4711: the kettle arrived with a cracked lid.\n"
    s3.put_object(Bucket=bucket, Key="connect/a/Attachments/n.txt", Body=data)
    event = json.loads((EVENTS / "receipt.json").read_text())
    event["File"].update(FileName="notes.txt", FileSizeInBytes=len(data))
    event["File"]["FileLocation"]["S3Location"].update(
        Bucket=bucket, Key="connect/a/Attachments/n.txt"
    )
    try:
        assert handler_module.handler(event, Context()) == {"Status": "APPROVED"}
        assert handler_module.handler({"nonsense": 1}, Context()) == {"Status": "REJECTED"}
        default = handler_module._default
        assert default is not None
        report_versions = default.scanner().versions()
        assert report_versions["clamav"] == "disabled by policy"
        assert report_versions["moderation"] == "disabled by policy"
    finally:
        if handler_module._default is not None:
            handler_module._default.scanner().close()
    emf = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    scans = [m for m in emf if "Scans" in m]
    assert [m["Status"] for m in scans] == ["APPROVED", "REJECTED"]
    assert any(m.get("Reason") == "MALFORMED_EVENT" for m in emf if "Rejections" in m)
    assert sum("ScanLatency" in m for m in emf) == 2
