"""The association commands against the real Connect, Lambda and S3 service models (Stubber):
the alias preferred, its permission, the signature status; ``attachguard connect invoke``
against moto's S3 server."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.response import StreamingBody  # type: ignore[import-untyped]
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]
from click.testing import CliRunner

from attachguard import demo, samples
from attachguard.connect import associate as assoc
from attachguard.connect import cli as connect_cli
from attachguard.connect.status import signature_line

ROOT = Path(__file__).parent.parent
INSTANCE = "a1b2c3d4-5678-90ab-cdef-111111111111"
FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:attachguard-scanner"
INSTANCE_ARN = f"arn:aws:connect:eu-west-1:123456789012:instance/{INSTANCE}"


def client(service: str) -> Any:
    return boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


@pytest.fixture
def clients() -> tuple[Any, Any]:
    return client("connect"), client("lambda")


def policy_with(statement: dict[str, Any] | None) -> dict[str, Any]:
    statements = [statement] if statement else []
    return {"Policy": json.dumps({"Version": "2012-10-17", "Statement": statements})}


CONNECT_STATEMENT = {
    "Sid": "x",
    "Effect": "Allow",
    "Principal": {"Service": "connect.amazonaws.com"},
    "Action": "lambda:InvokeFunction",
    "Resource": FUNCTION,
    "Condition": {"ArnLike": {"AWS:SourceArn": INSTANCE_ARN}},
}


def test_instance_arn_from_the_function_arn() -> None:
    assert assoc.instance_arn(INSTANCE, FUNCTION) == INSTANCE_ARN
    assert assoc.instance_arn(INSTANCE_ARN, FUNCTION) == INSTANCE_ARN
    with pytest.raises(assoc.AssociationError, match="not a Lambda function ARN"):
        assoc.instance_arn(INSTANCE, "arn:aws:s3:::bucket")


ALIAS = f"{FUNCTION}:live"


def no_alias(stub: Stubber) -> None:
    """The function has no ``live`` alias (deployed by hand, not by the templates)."""
    stub.add_client_error("get_alias", "ResourceNotFoundException", http_status_code=404)


def alias(stub: Stubber) -> None:
    stub.add_response(
        "get_alias",
        {"AliasArn": ALIAS, "Name": "live", "FunctionVersion": "3"},
        {"FunctionName": FUNCTION, "Name": "live"},
    )


@pytest.mark.parametrize(
    ("given", "has_alias", "associated"),
    [(FUNCTION, True, ALIAS), (ALIAS, True, ALIAS), (FUNCTION, False, FUNCTION)],
    ids=["function-with-alias", "alias", "function-without-alias"],
)
def test_associate_prefers_the_live_alias_and_adds_its_permission(
    clients: tuple[Any, Any], given: str, has_alias: bool, associated: str
) -> None:
    connect, lam = clients
    with Stubber(connect) as cs, Stubber(lam) as ls:
        if given == FUNCTION:
            (alias if has_alias else no_alias)(ls)
        ls.add_client_error("get_policy", "ResourceNotFoundException", http_status_code=404)
        ls.add_response(
            "add_permission",
            {"Statement": "{}"},
            {
                "FunctionName": associated,  # a qualified ARN needs the permission on itself
                "StatementId": f"attachguard-connect-{INSTANCE}",
                "Action": "lambda:InvokeFunction",
                "Principal": "connect.amazonaws.com",
                "SourceArn": INSTANCE_ARN,
                "SourceAccount": "123456789012",
            },
        )
        cs.add_response(
            "create_integration_association",
            {"IntegrationAssociationId": "assoc-1", "IntegrationAssociationArn": "arn:assoc-1"},
            {
                "InstanceId": INSTANCE,
                "IntegrationType": "FILE_SCANNER",
                "IntegrationArn": associated,
            },
        )
        made, added = assoc.associate(connect, lam, INSTANCE, given)
        cs.assert_no_pending_responses()
        ls.assert_no_pending_responses()
    assert added and made.id == "assoc-1" and made.function_arn == associated


def test_connect_refusing_a_qualified_arn_says_what_to_do(clients: tuple[Any, Any]) -> None:
    connect, lam = clients
    with Stubber(connect) as cs, Stubber(lam) as ls:
        ls.add_response("get_policy", policy_with(CONNECT_STATEMENT))
        cs.add_client_error("create_integration_association", "InvalidRequestException")
        with pytest.raises(assoc.AssociationError, match="--alias ''"):
            assoc.associate(connect, lam, INSTANCE, ALIAS)


def test_associate_keeps_an_existing_permission(clients: tuple[Any, Any]) -> None:
    connect, lam = clients
    with Stubber(connect) as cs, Stubber(lam) as ls:
        no_alias(ls)
        ls.add_response("get_policy", policy_with(CONNECT_STATEMENT))
        cs.add_response(
            "create_integration_association",
            {"IntegrationAssociationId": "assoc-2", "IntegrationAssociationArn": "arn:assoc-2"},
        )
        _, added = assoc.associate(connect, lam, INSTANCE, FUNCTION)
        ls.assert_no_pending_responses()  # no add_permission call was made
    assert not added


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("DuplicateResourceException", "already has this function"),
        ("ResourceNotFoundException", "Connect instance"),
        ("AccessDeniedException", "connect:CreateIntegrationAssociation"),
    ],
)
def test_associate_errors_are_explained(clients: tuple[Any, Any], code: str, message: str) -> None:
    connect, lam = clients
    with Stubber(connect) as cs, Stubber(lam) as ls:
        no_alias(ls)
        ls.add_response("get_policy", policy_with(CONNECT_STATEMENT))
        cs.add_client_error("create_integration_association", code, http_status_code=400)
        with pytest.raises(assoc.AssociationError, match=message):
            assoc.associate(connect, lam, INSTANCE, FUNCTION)


def test_add_permission_denied_is_explained(clients: tuple[Any, Any]) -> None:
    connect, lam = clients
    with Stubber(lam) as ls:
        ls.add_response("get_policy", policy_with(None))
        ls.add_client_error("add_permission", "AccessDeniedException", http_status_code=403)
        with pytest.raises(assoc.AssociationError, match="lambda:AddPermission"):
            assoc.associate(connect, lam, INSTANCE, FUNCTION, alias=None)
        ls.add_client_error("get_alias", "AccessDeniedException", http_status_code=403)
        with pytest.raises(assoc.AssociationError, match="lambda:GetAlias"):
            assoc.associate(connect, lam, INSTANCE, FUNCTION)


def summary(assoc_id: str, function: str = FUNCTION) -> dict[str, Any]:
    return {
        "IntegrationAssociationId": assoc_id,
        "IntegrationAssociationArn": f"arn:{assoc_id}",
        "InstanceId": INSTANCE,
        "IntegrationType": "FILE_SCANNER",
        "IntegrationArn": function,
    }


def test_status_pages_through_associations(clients: tuple[Any, Any]) -> None:
    connect, _ = clients
    with Stubber(connect) as cs:
        cs.add_response(
            "list_integration_associations",
            {"IntegrationAssociationSummaryList": [summary("a")], "NextToken": "n"},
            {"InstanceId": INSTANCE, "IntegrationType": "FILE_SCANNER"},
        )
        cs.add_response(
            "list_integration_associations",
            {"IntegrationAssociationSummaryList": [summary("b")]},
            {"InstanceId": INSTANCE, "IntegrationType": "FILE_SCANNER", "NextToken": "n"},
        )
        found = assoc.status(connect, INSTANCE_ARN)
    assert [a.id for a in found] == ["a", "b"]


def test_dissociate_deletes_and_removes_permission(clients: tuple[Any, Any]) -> None:
    connect, lam = clients
    with Stubber(connect) as cs, Stubber(lam) as ls:
        cs.add_response(
            "list_integration_associations", {"IntegrationAssociationSummaryList": [summary("a")]}
        )
        cs.add_response(
            "delete_integration_association",
            {},
            {"InstanceId": INSTANCE, "IntegrationAssociationId": "a"},
        )
        ls.add_response(
            "remove_permission",
            {},
            {"FunctionName": FUNCTION, "StatementId": f"attachguard-connect-{INSTANCE}"},
        )
        gone = assoc.dissociate(connect, lam, INSTANCE, remove_permission=True)
        cs.assert_no_pending_responses()
        ls.assert_no_pending_responses()
    assert [a.id for a in gone] == ["a"]


def test_dissociate_refuses_to_guess(clients: tuple[Any, Any]) -> None:
    connect, lam = clients
    with Stubber(connect) as cs:
        cs.add_response(
            "list_integration_associations",
            {"IntegrationAssociationSummaryList": [summary("a"), summary("b", "f2")]},
        )
        with pytest.raises(assoc.AssociationError, match="--association-id"):
            assoc.dissociate(connect, lam, INSTANCE)
        cs.add_client_error("list_integration_associations", "ResourceNotFoundException")
        with pytest.raises(assoc.AssociationError, match="not found"):
            assoc.dissociate(connect, lam, INSTANCE)


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_associate_and_status(
    clients: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    connect, lam = clients
    monkeypatch.setattr(connect_cli, "_client", lambda s, r: connect if s == "connect" else lam)
    runner = CliRunner()
    with Stubber(connect) as cs, Stubber(lam) as ls:
        ls.add_response("get_policy", policy_with(CONNECT_STATEMENT))
        cs.add_client_error("create_integration_association", "DuplicateResourceException")
        result = runner.invoke(
            connect_cli.connect,
            ["associate", "--instance-id", INSTANCE, "--function-arn", FUNCTION, "--alias", ""],
        )
        assert result.exit_code == 1 and "already has" in result.output
        cs.add_response("list_integration_associations", {"IntegrationAssociationSummaryList": []})
        result = runner.invoke(connect_cli.connect, ["status", "--instance-id", INSTANCE])
        assert result.exit_code == 0 and "no attachment scanner" in result.output


def test_cli_invoke_on_a_bucket_key(
    s3_bucket: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3, bucket = s3_bucket
    for name in ("ATTACHGUARD_POLICY", "ATTACHGUARD_MODERATION", "ATTACHGUARD_CLAMD"):
        monkeypatch.delenv(name, raising=False)
    key = "connect/acme/Attachments/chat/2026/03/14/id_receipt copy+1.pdf"
    s3.put_object(Bucket=bucket, Key=key, Body=samples.pdf([demo.RECEIPT]))
    args = [
        "invoke",
        "--bucket",
        bucket,
        "--key",
        key,
        "--file-name",
        "receipt.pdf",
        "--policy",
        str(ROOT / "deploy/lambda-policy.yaml"),
        "--moderation",
        "none",
    ]
    result = CliRunner().invoke(connect_cli.connect, args)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert json.loads(lines[-1]) == {"Status": "APPROVED"}
    assert '"status": "APPROVED"' in result.output and '"sha256"' in result.output


def test_cli_invoke_event_file_and_usage(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(connect_cli.connect, ["invoke"]).exit_code == 2
    event = ROOT / "tests/events/malformed-no-location.json"
    result = runner.invoke(
        connect_cli.connect,
        [
            "invoke",
            "--event",
            str(event),
            "--moderation",
            "none",
            "--clamd",
            "none",
            "--policy",
            str(ROOT / "deploy/lambda-policy.yaml"),
        ],
    )
    assert result.exit_code == 1
    assert json.loads(result.output.strip().splitlines()[-1]) == {"Status": "REJECTED"}


# --- how current the associated scanner's signatures are (connect status) -------------------

MIRROR = "s3://defs-bucket/clamav/"
CONTAINER_ENV = {"ATTACHGUARD_CLAMD": "private", "ATTACHGUARD_DEFINITIONS": MIRROR}


def manifest(built: float) -> dict[str, Any]:
    files = {
        "daily.cvd": {"size": 9, "sha256": "a" * 64, "version": 27470, "built": int(built)},
        "main.cvd": {"size": 9, "sha256": "b" * 64, "version": 62, "built": int(built) - 9e6},
    }
    data = json.dumps({"updated": built, "files": files}).encode()
    return {"Body": StreamingBody(io.BytesIO(data), len(data))}


def configured(stub: Stubber, env: dict[str, str], arn: str = ALIAS) -> None:
    stub.add_response(
        "get_function_configuration",
        {"FunctionName": "attachguard-scanner", "Environment": {"Variables": env}},
        {"FunctionName": arn},
    )


@pytest.mark.parametrize(
    ("age_h", "expected"),
    [(5, "daily 27470, built .* UTC \\(5.0 h ago\\); mirror s3://defs-bucket/clamav/$"),
     (30, "\\(30.0 h ago\\) - OVER 24 HOURS OLD")],
)  # fmt: skip
def test_status_says_how_old_the_mirrored_signatures_are(age_h: float, expected: str) -> None:
    lam, s3 = client("lambda"), client("s3")
    now = time.time()
    with Stubber(lam) as ls, Stubber(s3) as ss:
        configured(ls, CONTAINER_ENV)
        ss.add_response(
            "get_object", manifest(now - age_h * 3600), {"Bucket": "defs-bucket", "Key": ANY}
        )
        line = signature_line(lam, s3, ALIAS, now=now)
    assert re.search(expected, line), line


@pytest.mark.parametrize(
    ("env", "s3_error", "expected"),
    [
        ({}, None, "none \\(no malware engine"),
        ({"ATTACHGUARD_CLAMD": "private"}, None, "image's build"),
        (CONTAINER_ENV, "NoSuchKey", "is empty \\(invoke the updater once\\)"),
        (CONTAINER_ENV, "AccessDenied", "cannot read the mirror .*: AccessDenied"),
    ],
    ids=["zip", "image-only", "mirror-empty", "mirror-denied"],
)
def test_status_signature_line_without_a_current_mirror(
    env: dict[str, str], s3_error: str | None, expected: str
) -> None:
    lam, s3 = client("lambda"), client("s3")
    with Stubber(lam) as ls, Stubber(s3) as ss:
        configured(ls, env)
        if s3_error:
            status = 404 if s3_error == "NoSuchKey" else 403
            ss.add_client_error("get_object", s3_error, http_status_code=status)
        line = signature_line(lam, s3, ALIAS)
    assert re.search(expected, line), line


def test_cli_status_prints_each_scanner_and_its_signatures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect, lam, s3 = client("connect"), client("lambda"), client("s3")
    by_service = {"connect": connect, "lambda": lam, "s3": s3}
    monkeypatch.setattr(connect_cli, "_client", lambda s, r: by_service[s])
    with Stubber(connect) as cs, Stubber(lam) as ls, Stubber(s3) as ss:
        cs.add_response(
            "list_integration_associations",
            {"IntegrationAssociationSummaryList": [summary("a", ALIAS)]},
        )
        ls.add_client_error("get_function_configuration", "AccessDeniedException", 403)
        result = CliRunner().invoke(connect_cli.connect, ["status", "--instance-id", INSTANCE])
        ss.assert_no_pending_responses()
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"a  {ALIAS}",
        "  signatures: unknown (cannot read the function's configuration: AccessDeniedException)",
    ]
