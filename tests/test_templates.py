"""The SAM templates: cfn-lint clean, and the properties the Connect contract depends on."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from attachguard import codes
from attachguard.policy import load_policy
from support.templates import ROOT, TEMPLATES, load_template


@pytest.mark.integration
def test_cfn_lint_passes_on_both_templates() -> None:
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(lint), *map(str, TEMPLATES)], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(params=TEMPLATES, ids=["zip", "container"])
def template(request: pytest.FixtureRequest) -> dict[str, Any]:
    loaded: dict[str, Any] = load_template(request.param)
    return loaded


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    """A role's statements, those under a condition (``Fn::If``) included."""
    found = []
    for item in role["Policies"][0]["PolicyDocument"]["Statement"]:
        if "Fn::If" in item:
            item = item["Fn::If"][1]
        found.append(item)
    return found


def condition_of(role: dict[str, Any], sid: str) -> str | None:
    for item in role["Policies"][0]["PolicyDocument"]["Statement"]:
        if "Fn::If" in item and item["Fn::If"][1]["Sid"] == sid:
            return str(item["Fn::If"][0])
    return None


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_function_fits_connect(template: dict[str, Any]) -> None:
    function = template["Resources"]["ScannerFunction"]["Properties"]
    timeout = function.get("Timeout") or template["Globals"]["Function"]["Timeout"]
    assert 30 <= timeout < 60  # a verdict before Connect gives up at 60 s
    arch = function.get("Architectures") or template["Globals"]["Function"]["Architectures"]
    assert arch == ["arm64"]
    assert {"ScannerAliasArn", "ScannerFunctionArn"} <= set(template["Outputs"])


def test_connect_invokes_the_alias_with_optional_provisioned_concurrency(
    template: dict[str, Any],
) -> None:
    function = template["Resources"]["ScannerFunction"]["Properties"]
    assert function["AutoPublishAlias"] == "live"
    provisioned = function["ProvisionedConcurrencyConfig"]["Fn::If"]
    assert provisioned[0] == "HasProvisioned"  # 0 (the default) is no configuration at all
    assert provisioned[1] == {"ProvisionedConcurrentExecutions": {"Ref": "ProvisionedConcurrency"}}
    assert template["Parameters"]["ProvisionedConcurrency"]["Default"] == 0
    reserved = function["ReservedConcurrentExecutions"]["Fn::If"]
    assert reserved[0] == "HasReserved" and template["Parameters"]["ReservedConcurrency"]
    assert template["Outputs"]["ScannerAliasArn"]["Value"] == {"Ref": "ScannerFunction.Alias"}
    assert template["Globals"]["Function"]["Tracing"] == {"Ref": "Tracing"}


def test_connect_permission_is_scoped_to_the_instance_and_alias(template: dict[str, Any]) -> None:
    permission = template["Resources"]["ConnectInvokePermission"]["Properties"]
    assert permission["Principal"] == "connect.amazonaws.com"
    assert permission["SourceArn"] == {"Ref": "ConnectInstanceArn"}
    assert permission["Action"] == "lambda:InvokeFunction"
    # invoking a qualified ARN needs the permission on that qualifier
    assert permission["FunctionName"] == {"Ref": "ScannerFunction.Alias"}


def test_role_is_least_privilege(template: dict[str, Any]) -> None:
    role = template["Resources"]["ScannerRole"]["Properties"]
    found = statements(role)
    allowed = {a for s in found for a in actions(s)}
    assert allowed <= {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "rekognition:DetectModerationLabels",
        "rekognition:DetectText",
        "textract:DetectDocumentText",
        "kms:Decrypt",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
    (read,) = [s for s in found if s["Sid"] == "ReadAttachments"]
    # the instance's own prefix, as Connect reports it: no wildcard across instances
    assert read["Resource"]["Fn::Sub"].endswith("${AttachmentsBucket}/${AttachmentsPrefix}/*")
    star = [s["Sid"] for s in found if s["Resource"] == "*"]
    assert sorted(star) == [
        "ModerateImages",
        "ReadPicturesWithRekognition",
        "ReadPicturesWithTextract",
        "WriteTraces",
    ]
    assert condition_of(role, "ModerateImages") == "UsesRekognition"
    # the OCR backend's one action, only when that backend is chosen (OcrBackend)
    assert condition_of(role, "ReadPicturesWithTextract") == "ReadsWithTextract"
    assert condition_of(role, "ReadPicturesWithRekognition") == "ReadsWithRekognition"
    ocr = template["Parameters"]["OcrBackend"]
    assert {"none", "textract", "rekognition"} <= set(ocr["AllowedValues"])
    env = template["Resources"]["ScannerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["ATTACHGUARD_OCR"] == {"Ref": "OcrBackend"}
    assert condition_of(role, "WriteTraces") == "Traced"
    assert condition_of(role, "DecryptAttachments") == "HasKmsKey"
    (cache,) = [s for s in found if s["Sid"] == "VerdictCache"]
    assert cache["Resource"] == {"Fn::GetAtt": ["VerdictCacheTable", "Arn"]}  # that table only
    assert condition_of(role, "VerdictCache") == "HasVerdictTable"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", True),
        ("arn:aws:kms:eu-west-1:123456789012:alias/connect-attachments", False),
        ("alias/connect-attachments", False),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False),
    ],
)
def test_kms_key_must_be_a_key_arn(template: dict[str, Any], value: str, accepted: bool) -> None:
    pattern = template["Parameters"]["KmsKeyArn"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("connect/acme/Attachments", True),
        ("attachments", True),
        ("connect/acme/Attachments/", False),
        ("/connect/acme/Attachments", False),
        ("connect/*/Attachments", False),
        ("", False),
    ],
)
def test_attachments_prefix_is_the_instance_prefix(
    template: dict[str, Any], value: str, accepted: bool
) -> None:
    pattern = template["Parameters"]["AttachmentsPrefix"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted
    assert "Default" not in template["Parameters"]["AttachmentsPrefix"]


def test_moderation_backend_is_a_parameter(template: dict[str, Any]) -> None:
    function = template["Resources"]["ScannerFunction"]["Properties"]
    env = function["Environment"]["Variables"]
    assert env["ATTACHGUARD_MODERATION"] == {"Ref": "ModerationBackend"}
    assert template["Parameters"]["ModerationBackend"]["AllowedValues"] == ["none", "rekognition"]


def test_alarms_watch_metrics_the_code_emits(template: dict[str, Any]) -> None:
    emitted = {"Rejections", "NotReady", "SignatureAgeHours", "MirrorAgeHours"}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        alarm = resource["Properties"]
        metrics = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
        if "MetricName" in alarm:
            metrics.append(alarm)
        assert metrics, name
        for metric in metrics:
            assert metric["Namespace"] == "attachguard" and metric["MetricName"] in emitted
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert dims["service"] in ("attachguard", "attachguard-updater")
            if "Reason" in dims:
                assert codes.lookup(dims["Reason"]).name == dims["Reason"]  # a declared code
        assert alarm["AlarmActions"]["Fn::If"][0] == "HasAlarmTopic"


def test_container_mirrors_signatures_into_s3() -> None:
    template: dict[str, Any] = load_template(TEMPLATES[1])
    res = template["Resources"]
    updater = res["UpdaterFunction"]["Properties"]
    (command,) = updater["ImageConfig"]["Command"]
    module, _, name = command.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    assert updater["Events"]["Every"]["Properties"]["Schedule"] == {
        "Ref": "SignatureUpdateSchedule"
    }
    assert updater["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    scanner_env = res["ScannerFunction"]["Properties"]["Environment"]["Variables"]
    where = updater["Environment"]["Variables"]["ATTACHGUARD_DEFINITIONS"]
    assert scanner_env["ATTACHGUARD_DEFINITIONS"] == where
    bucket = res["DefinitionsBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}  # the manifest pins them
    writes = statements(res["UpdaterRole"]["Properties"])
    assert [s["Resource"] for s in writes if "s3:PutObject" in actions(s)] == [
        {"Fn::Sub": "${DefinitionsBucket.Arn}/clamav/*"}
    ]
    reads = statements(res["ScannerRole"]["Properties"])
    (signatures,) = [s for s in reads if s["Sid"] == "ReadSignatures"]
    assert signatures["Resource"] == {"Fn::Sub": "${DefinitionsBucket.Arn}/clamav/*"}
    assert "s3:PutObject" not in actions(signatures)
    assert {"SignatureAgeAlarm", "MirrorAgeAlarm", "NotReadyAlarm"} <= set(res)


def test_sam_transforms_both_templates() -> None:
    """What `sam deploy` submits: SAM's own transform (aws-sam-translator, a dev dependency)."""
    from samtranslator.translator.transform import (  # type: ignore[import-untyped]
        transform,
    )

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    for path in TEMPLATES:
        template: dict[str, Any] = load_template(path)
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                props = resource["Properties"]
                if props.get("PackageType") == "Image":
                    props["ImageUri"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/a:latest"
                else:
                    props["CodeUri"] = "s3://artifacts/code.zip"
        os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
        out = transform(template, {}, NoManagedPolicies())
        alias = out["Resources"]["ScannerFunctionAliaslive"]["Properties"]
        assert alias["ProvisionedConcurrencyConfig"]["Fn::If"][0] == "HasProvisioned"
        permission = out["Resources"]["ConnectInvokePermission"]["Properties"]
        assert permission["FunctionName"] == {"Ref": "ScannerFunctionAliaslive"}


def test_handlers_exist() -> None:
    zip_template = load_template(TEMPLATES[0])
    handler = zip_template["Resources"]["ScannerFunction"]["Properties"]["Handler"]
    module, _, name = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    dockerfile = (ROOT / "deploy/container/Dockerfile").read_text()
    assert 'CMD ["attachguard.connect.container.handler"]' in dockerfile
    assert "freshclam" in dockerfile and "bookworm" in dockerfile and "cvdupdate" in dockerfile
    for package in ("clamav", "clamav-daemon", "clamav-freshclam"):
        assert f" {package} " in dockerfile


def test_docker_context_leaves_out_local_state() -> None:
    """The build context is the repository root: without these it carries .venv (1.3 GB) and
    earlier SAM builds into every image build."""
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", ".aws-sam", ".git", "**/__pycache__", "tests", "bench"):
        assert entry in ignored


def test_zip_policy_says_it_has_no_malware_engine() -> None:
    path = ROOT / "deploy/lambda-policy.yaml"
    assert "NO MALWARE ENGINE" in path.read_text()
    policy = load_policy(path)
    assert policy.engines_off == {"clamav"}
    assert policy.options("moderation").model_dump()["backend"] == "rekognition"


def test_sam_requirements_match_the_package() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["aws"])
    lines = (ROOT / "src" / "requirements.txt").read_text().splitlines()
    assert {line for line in lines if line and not line.startswith("#")} == wanted


LAMBDA_UNZIPPED_LIMIT = 262_144_000  # bytes: Lambda's "250 MB" for a zip package, unzipped
PACKAGE_BUDGET = 240_000_000  # what the test allows, to keep a margin under the limit
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3")  # the pruned packages

# Run from the built package with nothing else importable but the standard library and the
# packages the Python Lambda runtime provides, as in /var/task on Lambda.
_PROBE = """
import json, sys
import attachguard.connect.handler
import msoffcrypto, oletools.olevba, pillow_heif, pypdf
from attachguard.connect.config import s3_client
from attachguard import codes
from attachguard.policy import load_policy
from attachguard.scanner import build_scanner
s3_client()
scanner = build_scanner(load_policy(sys.argv[1]), None)
report = scanner.scan(b"Receipt\\nCoffee 3.50\\nTotal 3.50\\n" * 20, "receipt.txt")
files = [getattr(m, "__file__", None) or "" for m in list(sys.modules.values())]
print(json.dumps({"status": report.status.value, "type": report.type.label, "files": files}))
"""


def test_zip_package_is_built_by_the_makefile() -> None:
    function = load_template(TEMPLATES[0])["Resources"]["ScannerFunction"]
    assert function["Metadata"]["BuildMethod"] == "makefile"
    makefile = ROOT / function["Properties"]["CodeUri"] / "Makefile"
    assert "build-ScannerFunction:" in makefile.read_text()


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_zip_package_fits_lambda_and_imports(tmp_path: Path) -> None:
    """Builds the package with src/Makefile FOR THIS MACHINE (x86-64 and this Python, with
    bytecode; pip downloads or reuses its cache), not the arm64 one SAM builds: x86-64 wheels
    are the larger ones (onnxruntime), so this bounds the arm64 size from above."""
    artifacts = tmp_path / "package"
    artifacts.mkdir()
    version = "{}.{}".format(*sys.version_info[:2])
    build = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT / "src"),
            "build-ScannerFunction",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",
            f"LAMBDA_PYTHON={version}",
            "PIP_PLATFORM=",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    size = sum(f.stat().st_size for f in artifacts.rglob("*") if f.is_file() and not f.is_symlink())
    assert size < PACKAGE_BUDGET < LAMBDA_UNZIPPED_LIMIT, f"{size:,} bytes"
    for name in (*RUNTIME_PROVIDED, "bin", "numpy/_core/tests", "onnxruntime/transformers"):
        assert not (artifacts / name).exists(), name
    assert next(artifacts.rglob("*.pyc"), None) is not None  # cold starts use bytecode
    assert (artifacts / "attachguard" / "default_policy.yaml").is_file()

    runtime = tmp_path / "var-runtime"  # what Lambda's runtime adds to sys.path
    runtime.mkdir()
    for name in RUNTIME_PROVIDED:
        (runtime / name).symlink_to(Path(importlib.import_module(name).__file__ or "").parent)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": f"{artifacts}{os.pathsep}{runtime}",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    probe = subprocess.run(
        [sys.executable, "-S", "-B", "-c", _PROBE, str(ROOT / "deploy/lambda-policy.yaml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    result = json.loads(probe.stdout)
    assert result["status"] == "APPROVED" and result["type"] == "txt"  # magika's model ran
    outside = [
        f
        for f in result["files"]
        if "site-packages" in f and not f.startswith((str(artifacts), str(runtime)))
    ]
    assert outside == []  # nothing came from the build machine's environment
