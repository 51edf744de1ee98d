"""The association commands against the real Connect and Lambda service models (Stubber), and
``attachguard connect invoke`` against moto's S3 server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from attachguard import demo, samples
from attachguard.connect import associate as assoc
from attachguard.connect import cli as connect_cli

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


def test_associate_adds_the_missing_permission(clients: tuple[Any, Any]) -> None:
    connect, lam = clients
    with Stubber(connect) as cs, Stubber(lam) as ls:
        ls.add_client_error("get_policy", "ResourceNotFoundException", http_status_code=404)
        ls.add_response(
            "add_permission",
            {"Statement": "{}"},
            {
                "FunctionName": FUNCTION,
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
            {"InstanceId": INSTANCE, "IntegrationType": "FILE_SCANNER", "IntegrationArn": FUNCTION},
        )
        made, added = assoc.associate(connect, lam, INSTANCE, FUNCTION)
        cs.assert_no_pending_responses()
        ls.assert_no_pending_responses()
    assert added and made.id == "assoc-1"


def test_associate_keeps_an_existing_permission(clients: tuple[Any, Any]) -> None:
    connect, lam = clients
    with Stubber(connect) as cs, Stubber(lam) as ls:
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
            ["associate", "--instance-id", INSTANCE, "--function-arn", FUNCTION],
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
