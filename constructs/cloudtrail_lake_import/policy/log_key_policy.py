"""The key policy statement that lets CloudWatch Logs encrypt log groups with a user's key."""

from __future__ import annotations

from aws_cdk import Annotations, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from constructs import Construct

LOGS_KEY_ACTIONS = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
]


def allow_logs_to_use(
    scope: Construct, key: kms.IKey, *, sid: str, warning_id: str, log_groups: str
) -> None:
    """Let CloudWatch Logs encrypt this account's log groups with ``key``, or warn (``warning_id``)
    when the key is imported and its policy cannot be changed here; ``log_groups`` names what
    cannot be created without it."""
    stack = Stack.of(scope)
    # The log groups' ARNs cannot be named (they refer to the key: a cycle): the statement is
    # scoped to log groups of this account and region.
    added = key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=LOGS_KEY_ACTIONS,
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                    )
                }
            },
        )
    )
    if not added.statement_added:
        Annotations.of(scope).add_warning_v2(
            warning_id,
            "log_encryption_key is an imported key: its key policy must allow "
            "logs.<region>.amazonaws.com kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, "
            f"kms:GenerateDataKey* and kms:Describe*, or {log_groups} cannot be created",
        )
