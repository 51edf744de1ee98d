"""Associating the scanner Lambda with an Amazon Connect instance (integration type FILE_SCANNER).

`associate` associates the function's ``live`` alias when it has one (the templates publish it:
Connect then invokes the alias, where provisioned concurrency lives, and a deployment moves the
alias to the new version at once), grants Connect the right to invoke that ARN (a
resource-policy statement for ``connect.amazonaws.com`` scoped to the instance ARN, added only
when missing: invoking a qualified ARN needs the permission on that qualifier), then calls
``CreateIntegrationAssociation``. `status` lists the instance's FILE_SCANNER associations;
`dissociate` deletes one (and, when asked, the permission statement this module added).
Service errors become `AssociationError` with a message that says what to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from attachguard.errors import AttachguardError

FILE_SCANNER = "FILE_SCANNER"
PRINCIPAL = "connect.amazonaws.com"


class AssociationError(AttachguardError):
    """A failed association command, in words an operator can act on."""


@dataclass(frozen=True)
class Association:
    id: str
    arn: str
    function_arn: str


def instance_arn(instance_id: str, function_arn: str) -> str:
    """The Connect instance ARN: given as is, or built from the id and the function's
    partition, Region and account (Connect requires the Lambda in the same account and Region)."""
    if instance_id.startswith("arn:"):
        return instance_id
    parts = function_arn.split(":")
    if len(parts) < 7 or parts[2] != "lambda":
        raise AssociationError(f"not a Lambda function ARN: {function_arn!r}")
    return f"arn:{parts[1]}:connect:{parts[3]}:{parts[4]}:instance/{instance_id}"


def _instance_id(instance: str) -> str:
    return instance.rsplit("/", 1)[-1] if instance.startswith("arn:") else instance


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _explain(exc: Exception, doing: str, needs: str, missing: str) -> AssociationError:
    code = _code(exc)
    if code in ("AccessDeniedException", "AccessDenied"):
        return AssociationError(f"access denied while {doing}: the caller needs {needs}")
    if code == "ResourceNotFoundException":
        return AssociationError(f"not found while {doing}: {missing}")
    if not code:
        raise exc
    return AssociationError(f"{doing} failed: {code}: {exc}")


def target(lam: Any, function_arn: str, alias: str | None) -> str:
    """What to associate: ``function_arn`` as given when it is already qualified (``...:live``
    or ``...:7``) or ``alias`` is None; else the ARN of its ``alias`` when the function has
    one (an unqualified ARN would invoke ``$LATEST``, beside the alias's warm environments)."""
    if alias is None or len(function_arn.split(":")) > 7:
        return function_arn
    try:
        return str(lam.get_alias(FunctionName=function_arn, Name=alias)["AliasArn"])
    except Exception as exc:
        if _code(exc) == "ResourceNotFoundException":
            return function_arn  # no such alias (or function: add_permission will say)
        raise _explain(
            exc, f"looking up the {alias!r} alias", "lambda:GetAlias", f"function {function_arn}"
        ) from exc


def has_permission(lam: Any, function_arn: str, source_arn: str) -> bool:
    """Whether the function's resource policy already lets Connect (this instance) invoke it."""
    try:
        policy = json.loads(lam.get_policy(FunctionName=function_arn)["Policy"])
    except Exception as exc:
        if _code(exc) == "ResourceNotFoundException":
            return False  # no resource policy at all (or no such function: add_permission says)
        raise _explain(
            exc, "reading the function's policy", "lambda:GetPolicy", f"function {function_arn}"
        ) from exc
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal", {})
        service = principal.get("Service") if isinstance(principal, dict) else None
        condition = json.dumps(statement.get("Condition", {}))
        if (
            statement.get("Effect") == "Allow"
            and service == PRINCIPAL
            and source_arn in condition
            and statement.get("Action") in ("lambda:InvokeFunction", "lambda:*")
        ):
            return True
    return False


def associate(
    connect: Any, lam: Any, instance: str, function_arn: str, alias: str | None = "live"
) -> tuple[Association, bool]:
    """Associate ``function_arn`` (its ``alias`` when it has one, see `target`) as the
    instance's file scanner; returns the association and whether a Lambda permission had to
    be added."""
    source = instance_arn(instance, function_arn)
    function_arn = target(lam, function_arn, alias)
    instance_id = _instance_id(instance)
    added = not has_permission(lam, function_arn, source) and _allow(
        lam, function_arn, source, instance_id
    )
    try:
        out = connect.create_integration_association(
            InstanceId=instance_id, IntegrationType=FILE_SCANNER, IntegrationArn=function_arn
        )
    except Exception as exc:
        raise _association_error(exc, instance_id, function_arn) from exc
    return Association(
        out["IntegrationAssociationId"], out["IntegrationAssociationArn"], function_arn
    ), added


def _allow(lam: Any, function_arn: str, source: str, instance_id: str) -> bool:
    """Add Connect's invoke permission; whether it was added (False: it already was)."""
    try:
        lam.add_permission(
            FunctionName=function_arn,
            StatementId=f"attachguard-connect-{instance_id}",
            Action="lambda:InvokeFunction",
            Principal=PRINCIPAL,
            SourceArn=source,
            SourceAccount=source.split(":")[4],
        )
    except Exception as exc:
        if _code(exc) == "ResourceConflictException":  # same statement id: already there
            return False
        raise _explain(
            exc,
            "allowing Connect to invoke the function",
            "lambda:AddPermission on the function",
            f"function {function_arn}",
        ) from exc
    return True


def _association_error(exc: Exception, instance_id: str, function_arn: str) -> AssociationError:
    code = _code(exc)
    if code == "DuplicateResourceException":
        return AssociationError(
            f"instance {instance_id} already has this function (or another scanner) "
            "associated; run `attachguard connect status` to see it, `dissociate` to remove it"
        )
    if code in ("InvalidRequestException", "InvalidParameterException") and (
        len(function_arn.split(":")) > 7
    ):
        return AssociationError(
            f"Connect refused the qualified ARN {function_arn} ({code}); associate the "
            "function itself instead: run again with --alias '' and the unqualified ARN"
        )
    return _explain(
        exc,
        "creating the FILE_SCANNER association",
        "connect:CreateIntegrationAssociation (and iam:PutRolePolicy on the "
        "instance's service-linked role)",
        f"Connect instance {instance_id} in this Region",
    )


def status(connect: Any, instance: str) -> list[Association]:
    """The instance's FILE_SCANNER associations."""
    instance_id = _instance_id(instance)
    found: list[Association] = []
    kwargs: dict[str, Any] = {"InstanceId": instance_id, "IntegrationType": FILE_SCANNER}
    try:
        while True:
            page = connect.list_integration_associations(**kwargs)
            found.extend(
                Association(
                    x["IntegrationAssociationId"],
                    x.get("IntegrationAssociationArn", ""),
                    x.get("IntegrationArn", ""),
                )
                for x in page.get("IntegrationAssociationSummaryList", [])
            )
            if not page.get("NextToken"):
                return found
            kwargs["NextToken"] = page["NextToken"]
    except AssociationError:
        raise
    except Exception as exc:
        raise _explain(
            exc,
            "listing associations",
            "connect:ListIntegrationAssociations",
            f"Connect instance {instance_id} in this Region",
        ) from exc


def dissociate(
    connect: Any,
    lam: Any,
    instance: str,
    association_id: str | None = None,
    function_arn: str | None = None,
    remove_permission: bool = False,
) -> list[Association]:
    """Delete the FILE_SCANNER association named by id or function (the only one when neither
    is given); with ``remove_permission``, also the statement `associate` added."""
    instance_id = _instance_id(instance)
    current = status(connect, instance)
    chosen = [
        a
        for a in current
        if (association_id is None or a.id == association_id)
        and (function_arn is None or a.function_arn == function_arn)
    ]
    if not chosen:
        raise AssociationError(f"no matching FILE_SCANNER association on instance {instance_id}")
    if association_id is None and function_arn is None and len(chosen) > 1:
        raise AssociationError("several associations: name one with --association-id")
    for assoc in chosen:
        try:
            connect.delete_integration_association(
                InstanceId=instance_id, IntegrationAssociationId=assoc.id
            )
        except Exception as exc:
            raise _explain(
                exc,
                "deleting the association",
                "connect:DeleteIntegrationAssociation",
                f"association {assoc.id} on instance {instance_id}",
            ) from exc
        if remove_permission and assoc.function_arn:
            try:
                lam.remove_permission(
                    FunctionName=assoc.function_arn,
                    StatementId=f"attachguard-connect-{instance_id}",
                )
            except Exception as exc:
                if _code(exc) != "ResourceNotFoundException":
                    raise _explain(
                        exc,
                        "removing the Lambda permission",
                        "lambda:RemovePermission",
                        assoc.function_arn,
                    ) from exc
    return chosen
