"""Policy loading, validation errors that name the key, decisions, and the shipped default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from attachguard.codes import Action, FindingCode
from attachguard.policy import Limits, Policy, PolicyError, Timeouts, load_policy, parse_policy
from attachguard.registry import load_specs
from attachguard.report import Finding, Status

DOCS = Path(__file__).resolve().parents[1] / "docs"
BASE = "allowed_extensions: [.pdf]\n"


def error_of(text: str) -> str:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "test.yaml")
    return str(info.value)


def test_default_policy_is_connects_and_fails_closed() -> None:
    policy = load_policy()
    assert policy.max_file_size == 20 * 1024 * 1024  # Connect's "20 MB" (docs/aws.md)
    assert set(policy.allowed_extensions) == {
        ".csv", ".doc", ".docx", ".heic", ".jfif", ".jpeg", ".jpg", ".mov", ".mp4", ".pdf",
        ".png", ".ppt", ".pptx", ".rtf", ".txt", ".wav", ".xls", ".xlsx",
    }  # fmt: skip
    for code in FindingCode:
        # SENSITIVE_LIMIT is the one exception, documented in docs/findings.md: pages or
        # pictures left unread for card numbers are no threat to the reader
        if code.kind == "unscannable" and code.name != "SENSITIVE_LIMIT":
            assert policy.action(code) is Action.REJECT, code
    assert policy.action(FindingCode.SENSITIVE_LIMIT) is Action.ALLOW
    assert policy.timeouts.scan < 60  # inside Connect's hard limit


def test_unknown_key_is_named() -> None:
    assert "colour: unknown key" in error_of(BASE + "colour: red\n")
    assert "limits.max_dept: unknown key" in error_of(BASE + "limits: {max_dept: 2}\n")


def test_bad_values_are_named() -> None:
    message = error_of(BASE + "max_file_size: lots\nlimits: {max_depth: -1}\n")
    assert "max_file_size" in message and "not a size: 'lots'" in message
    assert "limits.max_depth" in message
    assert "not a file extension: 'pdf'" in error_of("allowed_extensions: [pdf]\n")
    assert "PDF_JAVASCRIPT: 'maybe' is not 'reject' or 'allow'" in error_of(
        BASE + "actions: {PDF_JAVASCRIPT: maybe}\n"
    )


def test_unknown_finding_code_is_named() -> None:
    assert "unknown finding code 'PDF_JAVASCRPT'" in error_of(
        BASE + "actions: {PDF_JAVASCRPT: allow}\n"
    )


def test_not_yaml_and_not_a_mapping() -> None:
    assert "not YAML" in error_of("allowed_extensions: [.pdf\n")
    assert "expected a mapping" in error_of("- just\n- a list\n")
    assert "allowed_extensions" in error_of("max_file_size: 1MB\n")  # required key


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("text", "size"),
    [("20MB", 20_000_000), ("512KiB", 524_288), ("1.5 MB", 1_500_000), ("100", 100)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_policy(BASE + f"max_file_size: {text}\n").max_file_size == size


def test_extensions_are_normalised() -> None:
    assert parse_policy("allowed_extensions: [' .PDF ']\n").allowed_extensions == [".pdf"]


def test_decide() -> None:
    policy = parse_policy(BASE + "actions: {MALWARE: allow}\n")
    info = Finding("pdf", FindingCode.PDF_EMBEDDED_FILE, "attached file")
    malware = Finding("clamav", FindingCode.MALWARE, "EICAR")
    macro = Finding("office", FindingCode.VBA_MACRO, "macro")
    assert policy.decide([]) is Status.APPROVED
    assert policy.decide([info, malware]) is Status.APPROVED
    assert policy.decide([info, malware, macro]) is Status.REJECTED


def test_to_yaml_round_trips_and_lists_every_code() -> None:
    policy = load_policy()
    shown = policy.to_yaml()
    assert set(yaml.safe_load(shown)["actions"]) == {c.name for c in FindingCode if not c.event}
    assert parse_policy(shown) == Policy.model_validate(yaml.safe_load(shown))


def test_every_policy_key_and_finding_code_is_documented() -> None:
    policy_doc = (DOCS / "policy.md").read_text()
    keys = (
        set(Policy.model_fields)
        | {f"limits.{k}" for k in Limits.model_fields}
        | {f"timeouts.{k}" for k in Timeouts.model_fields}
    )
    for name, spec in load_specs().items():
        keys |= {f"engines.{name}.{k}" for k in spec.options.model_fields}
    for key in keys:
        assert f"`{key}`" in policy_doc, f"docs/policy.md does not document {key}"
    findings_doc = (DOCS / "findings.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", findings_doc, re.M))
    assert documented == {c.name for c in FindingCode}
