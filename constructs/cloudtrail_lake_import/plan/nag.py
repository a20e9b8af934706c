"""The cdk-nag findings on the plan that its design justifies, each acknowledged with why."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from cloudtrail_lake_import.plan.names import executions_arn
from cloudtrail_lake_import.policy.nag_acknowledgments import (
    acknowledge,
    acknowledge_object_grant,
    nag_resource_id,
)
from constructs import Construct

OBJECT_GRANT_REASON = (
    "CloudTrail reads every log file under an imported prefix; s3:GetObject is scoped to the "
    "plan's prefixes of this one bucket, as the CloudTrail Lake import documentation prescribes."
)


def acknowledge_justified_findings(
    scope: Construct,
    *,
    handler: lambda_.Function,
    state_machine: sfn.StateMachine,
    access_roles: Mapping[str, iam.Role],
    tracing_enabled: bool,
) -> None:
    stack = Stack.of(scope)
    acknowledge(
        handler.role.node.find_child("DefaultPolicy"),  # type: ignore[union-attr]
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="cloudtrail:ListImports, GetImport and StopImport have no resource type "
            "in the Service Authorization Reference; IAM accepts them only on '*'.",
        ),
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::"
            f"{nag_resource_id(stack.resolve(executions_arn(scope, state_machine)))}]",
            reason="Execution names are chosen at deploy time; the statement is scoped to "
            "executions of this plan's state machine only.",
        ),
    )
    acknowledge(
        state_machine.role.node.find_child("DefaultPolicy"),
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="cloudtrail:StartImport, GetImport and ListImportFailures have no "
            "resource type (IAM accepts them only on '*'); CloudWatch Logs' log delivery "
            "actions, which Step Functions logging needs, do not support resource-level "
            "permissions either.",
        ),
    )
    for role in access_roles.values():
        acknowledge_object_grant(role, _object_arns(role), OBJECT_GRANT_REASON)
    if not tracing_enabled:
        acknowledge(
            state_machine,
            Acknowledgment(
                id="AwsSolutions-SF2",
                reason="X-Ray adds nothing to SDK integrations that wait hours between "
                "calls; the execution history and the log group record every step. Turn "
                "it on with tracing_enabled=True.",
            ),
        )


def _object_arns(role: iam.Role) -> list[str]:
    """The ``s3:GetObject`` resources of an access role (from its policy document)."""
    policy = role.node.find_child("DefaultPolicy")
    assert isinstance(policy, iam.Policy)
    arns: list[str] = []
    for statement in policy.document.to_json()["Statement"]:
        if statement.get("Action") == "s3:GetObject":
            resources = statement["Resource"]
            arns.extend(resources if isinstance(resources, list) else [resources])
    return arns
