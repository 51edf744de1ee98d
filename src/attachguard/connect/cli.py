"""``attachguard connect ...``: associate the scanner with an Amazon Connect instance, check,
remove, and run the handler locally on an event (against any S3 endpoint boto3 is set up for:
``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL_S3``...)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from attachguard.connect.config import Settings


def _client(service: str, region: str | None) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(service, region_name=region)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


def _scanner_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--policy``, ``--moderation``, ``--clamd``: the Lambda's settings, changed for one run
    (`_settings`)."""
    for option in (
        click.option(
            "--clamd", help="clamd address (default: $ATTACHGUARD_CLAMD; none: no ClamAV)."
        ),
        click.option(
            "--moderation",
            type=click.Choice(["none", "rekognition", "local"]),
            help="Moderation backend (default: $ATTACHGUARD_MODERATION, else the policy's).",
        ),
        click.option("--policy", help="Policy path or s3:// URL (default: $ATTACHGUARD_POLICY)."),
    ):
        command = option(command)
    return command


def _settings(policy: str | None, moderation: str | None, clamd: str | None) -> Settings:
    """The Lambda's settings from this environment, with the options a command was given."""
    from dataclasses import replace

    from attachguard.connect.config import Settings

    settings = Settings.from_env()
    return replace(
        settings,
        policy=policy or settings.policy,
        moderation=moderation or settings.moderation,
        clamd=clamd or settings.clamd,
    )


@click.group()
def connect() -> None:
    """Amazon Connect attachment scanning (FILE_SCANNER): associate, status, dissociate, invoke,
    rescan."""


_instance = click.option("--instance-id", required=True, help="Connect instance id (or its ARN).")
_region = click.option("--region", default=None, help="AWS Region (default: boto3's own).")


@connect.command()
@_instance
@click.option(
    "--function-arn",
    required=True,
    help="The scanner: the stack output ScannerAliasArn (or the function's ARN).",
)
@click.option(
    "--alias",
    default="live",
    show_default=True,
    help="For an unqualified function ARN, associate this alias when it exists; '' for none.",
)
@_region
def associate(instance_id: str, function_arn: str, alias: str, region: str | None) -> None:
    """Make FUNCTION the instance's attachment scanner (adds Connect's invoke permission)."""
    from attachguard.connect import associate as assoc

    try:
        made, added = assoc.associate(
            _client("connect", region),
            _client("lambda", region),
            instance_id,
            function_arn,
            alias or None,
        )
    except assoc.AssociationError as exc:
        raise _fail(exc) from exc
    if added:
        click.echo("added a permission for connect.amazonaws.com to invoke the function")
    click.echo(f"associated: {made.id} ({made.function_arn})")


@connect.command()
@_instance
@_region
def status(instance_id: str, region: str | None) -> None:
    """List the instance's FILE_SCANNER associations and how current their signatures are."""
    from attachguard.connect import associate as assoc
    from attachguard.connect.status import signature_line

    try:
        found = assoc.status(_client("connect", region), instance_id)
    except assoc.AssociationError as exc:
        raise _fail(exc) from exc
    if not found:
        click.echo("no attachment scanner is associated (attachments are not scanned)")
    for item in found:
        click.echo(f"{item.id}  {item.function_arn}")
        if item.function_arn:
            lam, s3 = _client("lambda", region), _client("s3", region)
            click.echo("  " + signature_line(lam, s3, item.function_arn))


@connect.command()
@_instance
@click.option("--association-id", default=None, help="Which association (see status).")
@click.option("--function-arn", default=None, help="Or: the association of this function.")
@click.option("--remove-permission", is_flag=True, help="Also remove Connect's invoke permission.")
@_region
def dissociate(
    instance_id: str,
    association_id: str | None,
    function_arn: str | None,
    remove_permission: bool,
    region: str | None,
) -> None:
    """Remove the scanner association (Connect stops scanning attachments)."""
    from attachguard.connect import associate as assoc

    try:
        gone = assoc.dissociate(
            _client("connect", region),
            _client("lambda", region),
            instance_id,
            association_id,
            function_arn,
            remove_permission,
        )
    except assoc.AssociationError as exc:
        raise _fail(exc) from exc
    for item in gone:
        click.echo(f"dissociated: {item.id} ({item.function_arn})")


def event_for(s3: Any, bucket: str, key: str, name: str | None) -> dict[str, Any]:
    """A FILE_SCANNER event for an object already in S3 (its size from HeadObject)."""
    size = int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    return {
        "Version": "1.0",
        "InstanceId": "local-invoke",
        "File": {
            "FileId": "local-invoke",
            "FileCreationTime": 0,
            "FileName": name or key.rsplit("/", 1)[-1],
            "FileSizeInBytes": size,
            "FileLocation": {
                "S3Location": {"Key": key, "Bucket": bucket, "Arn": f"arn:aws:s3:::{bucket}/{key}"}
            },
        },
    }


@connect.command()
@click.option(
    "--event",
    "event_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A FILE_SCANNER event (JSON).",
)
@click.option("--bucket", help="Or: the bucket of an object to scan...")
@click.option("--key", help="...and its key.")
@click.option("--file-name", help="Upload name for --bucket/--key (default: the key's last part).")
@_scanner_options
def invoke(
    event_file: Path | None,
    bucket: str | None,
    key: str | None,
    file_name: str | None,
    policy: str | None,
    moderation: str | None,
    clamd: str | None,
) -> None:
    """Run the Lambda handler here on one event; print the report and the response.

    Exit status: 0 APPROVED, 1 REJECTED, 2 usage or configuration error."""
    import logging

    from aws_lambda_powertools import Logger

    from attachguard.connect.config import s3_client
    from attachguard.connect.handler import ConnectScanner

    if (event_file is None) == (bucket is None or key is None):
        raise click.UsageError("give --event FILE, or --bucket and --key")
    settings = _settings(policy, moderation, clamd)
    s3 = s3_client()
    if event_file is not None:
        try:
            event = json.loads(event_file.read_text("utf-8"))
        except ValueError as exc:
            raise click.UsageError(f"{event_file} is not JSON: {exc}") from exc
    else:
        if bucket is None or key is None:  # the options are checked above; keeps mypy honest
            raise click.UsageError("give --bucket and --key, or --event")
        event = event_for(s3, bucket, key, file_name)
    logger = Logger(service="attachguard-invoke", stream=sys.stderr)
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)  # the log line goes to this run's stderr, not a stale one
    runner = ConnectScanner(settings, s3=s3, logger=logger, metrics=False)
    response, outcome = runner.handle(event)
    if outcome.report is not None:
        click.echo(json.dumps(outcome.report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(json.dumps({"status": outcome.status.value, "reasons": outcome.reasons}))
    click.echo(json.dumps(response))
    if "CONFIG_ERROR" in outcome.codes:
        sys.exit(2)
    sys.exit(0 if response["Status"] == "APPROVED" else 1)


@connect.command()
@click.option("--bucket", required=True, help="The attachments bucket.")
@click.option(
    "--prefix",
    required=True,
    help="What to rescan: the instance's attachments prefix (connect/<alias>/Attachments/), or "
    "a day under it (.../chat/2026/12/01/).",
)
@click.option(
    "--max-files",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Objects rescanned in this run; the next run starts after the marker printed.",
)
@click.option("--start-after", metavar="KEY", help="The marker a previous run printed.")
@click.option(
    "--action",
    type=click.Choice(["delete", "quarantine", "report"]),
    default="delete",
    show_default=True,
    help="For a file now REJECTED: delete it, copy it to --quarantine-prefix and delete it, "
    "or only report it.",
)
@click.option("--quarantine-prefix", metavar="PREFIX", help="Where --action quarantine copies.")
@_scanner_options
def rescan(
    bucket: str,
    prefix: str,
    max_files: int,
    start_after: str | None,
    action: str,
    quarantine_prefix: str | None,
    policy: str | None,
    moderation: str | None,
    clamd: str | None,
) -> None:
    """Scan approved attachments under an S3 prefix again (after a signature update).

    One JSON line per object, then a summary with "next": the --start-after of the next run
    (null when the prefix is done). Exit status: 0 none rejected, 1 some rejected, 2 usage or
    configuration error."""

    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    from attachguard.connect import config
    from attachguard.connect.rescan import rescan_prefix
    from attachguard.policy import PolicyError

    if not bucket.strip():
        raise click.UsageError("--bucket: give the attachments bucket's name")
    settings = _settings(policy, moderation, clamd)
    s3 = config.s3_client()
    engine = config.antivirus(settings, s3)
    try:
        scanner = config.build(settings, s3, engine)
        with scanner:
            run = rescan_prefix(
                s3, bucket, prefix, scanner,
                action=action, quarantine_prefix=quarantine_prefix, max_files=max_files,
                start_after=start_after,
            )  # fmt: skip
    except (PolicyError, ValueError) as exc:
        raise ConfigError(str(exc)) from exc
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"S3 at s3://{bucket}/{prefix}: {exc}") from exc
    finally:
        if engine is not None:
            engine.stop()  # a private clamd started for this run
    for result in run.results:
        click.echo(json.dumps(result.to_dict()))
    summary = {"rescanned": len(run.results), "rejected": run.revoked, "next": run.marker}
    click.echo(json.dumps(summary))
    sys.exit(1 if run.revoked else 0)


class ConfigError(click.ClickException):
    """A configuration or usage problem: exit status 2."""

    exit_code = 2
