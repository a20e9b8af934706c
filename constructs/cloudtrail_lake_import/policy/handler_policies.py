"""IAM pieces the custom resource handlers (the import's and the plan's) share."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from constructs import Construct


def self_invoke_policy(
    scope: Construct,
    role: iam.IRole,
    function: lambda_.IFunction,
    id: str = "HandlerSelfInvokePolicy",
) -> iam.Policy:
    """Waiting continues in a fresh invocation of the same function. A separate policy keeps the
    function from depending on a policy that names the function (a cycle)."""
    return iam.Policy(
        scope,
        id,
        roles=[role],
        statements=[
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[function.function_arn]
            )
        ],
    )
