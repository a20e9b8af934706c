"""Names the plan derives from its place in the app: its log group's and its executions'."""

from __future__ import annotations

import hashlib

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_stepfunctions as sfn

from constructs import Construct

VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/"


def vended_log_group_name(scope: Construct) -> str:
    """``/aws/vendedlogs/states/...``: Step Functions' log delivery then needs no entry in the
    account's 5,120-character CloudWatch Logs resource policy (AWS's advice). Unique per stack
    and construct path, stable across deploys."""
    stack = Stack.of(scope)
    digest = hashlib.sha256(scope.node.path.encode()).hexdigest()[:12]
    return f"{VENDED_LOGS_PREFIX}{stack.stack_name}-{digest}"


def executions_arn(scope: Construct, state_machine: sfn.StateMachine) -> str:
    """Every execution of ``state_machine`` (their names are chosen at deploy time)."""
    return Stack.of(scope).format_arn(
        service="states",
        resource="execution",
        resource_name=f"{state_machine.state_machine_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
