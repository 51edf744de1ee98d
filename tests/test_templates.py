"""The SAM templates: cfn-lint clean, and the properties the Connect contract depends on."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from attachguard.policy import load_policy

ROOT = Path(__file__).parent.parent
TEMPLATES = [ROOT / "template.yaml", ROOT / "deploy/container/template.yaml"]


def test_cfn_lint_passes_on_both_templates() -> None:
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(lint), *map(str, TEMPLATES)], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(params=TEMPLATES, ids=["zip", "container"])
def template(request: pytest.FixtureRequest) -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(request.param))
    return loaded


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_function_fits_connect(template: dict[str, Any]) -> None:
    (function,) = resources(template, "AWS::Serverless::Function")
    timeout = function.get("Timeout") or template["Globals"]["Function"]["Timeout"]
    assert 30 <= timeout < 60  # a verdict before Connect gives up at 60 s
    arch = function.get("Architectures") or template["Globals"]["Function"]["Architectures"]
    assert arch == ["arm64"]
    assert "ScannerFunctionArn" in template["Outputs"]


def test_connect_permission_is_scoped_to_the_instance(template: dict[str, Any]) -> None:
    (permission,) = resources(template, "AWS::Lambda::Permission")
    assert permission["Principal"] == "connect.amazonaws.com"
    assert permission["SourceArn"] == {"Ref": "ConnectInstanceArn"}
    assert permission["Action"] == "lambda:InvokeFunction"


def test_role_is_least_privilege(template: dict[str, Any]) -> None:
    (role,) = resources(template, "AWS::IAM::Role")
    text = str(role["Policies"])
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    plain = [s for s in statements if "Sid" in s]
    actions = {
        a for s in plain for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions <= {"s3:GetObject", "s3:GetObjectVersion", "rekognition:DetectModerationLabels"}
    assert "Attachments/*" in text and "HasKmsKey" in text and "kms:Decrypt" in text
    star = [s for s in plain if s["Resource"] == "*"]
    assert [s["Action"] for s in star] == ["rekognition:DetectModerationLabels"]


def test_handlers_exist() -> None:
    zip_template = cfn_yaml.load(str(TEMPLATES[0]))
    handler = zip_template["Resources"]["ScannerFunction"]["Properties"]["Handler"]
    module, _, name = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    dockerfile = (ROOT / "deploy/container/Dockerfile").read_text()
    assert 'CMD ["attachguard.connect.container.handler"]' in dockerfile
    assert "freshclam" in dockerfile and "bookworm" in dockerfile
    for package in ("clamav", "clamav-daemon", "clamav-freshclam"):
        assert f" {package} " in dockerfile


def test_zip_policy_says_it_has_no_malware_engine() -> None:
    path = ROOT / "deploy/lambda-policy.yaml"
    assert "NO MALWARE ENGINE" in path.read_text()
    policy = load_policy(path)
    assert policy.engines_off == {"clamav"} and policy.moderation.backend == "rekognition"


def test_sam_requirements_match_the_package() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["aws"])
    lines = (ROOT / "src" / "requirements.txt").read_text().splitlines()
    assert {line for line in lines if line and not line.startswith("#")} == wanted
