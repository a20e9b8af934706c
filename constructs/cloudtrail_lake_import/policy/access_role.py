"""The role CloudTrail assumes to read a trail archive (the single import's and the plan's)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs import Construct

CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"


def new_access_role(
    scope: Construct,
    id: str,
    *,
    bucket: s3.IBucket,
    prefixes: Sequence[str],
    encryption_key: kms.IKey | None,
    event_data_store_arn: str,
    role_name: str | None = None,
) -> iam.Role:
    """A role only CloudTrail, for this account and this one store, may assume.

    It lists ``bucket`` and reads the objects under each of ``prefixes`` (``""`` = the whole
    bucket), decrypting with ``encryption_key`` through S3 only. The confused-deputy conditions
    (``aws:SourceAccount``, ``aws:SourceArn``) are repeated on every S3 statement, as CloudTrail's
    import documentation does.
    """
    account = Stack.of(scope).account
    source_conditions = {
        "StringEquals": {
            "aws:SourceAccount": account,
            "aws:SourceArn": event_data_store_arn,
        }
    }
    role = iam.Role(
        scope,
        id,
        role_name=role_name,
        assumed_by=iam.ServicePrincipal(CLOUDTRAIL_PRINCIPAL, conditions=source_conditions),
        description="Lets CloudTrail Lake read the trail archive it imports",
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket", "s3:GetBucketAcl"],
            resources=[bucket.bucket_arn],
            conditions=source_conditions,
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes],
            conditions=source_conditions,
        )
    )
    if encryption_key is not None:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                # As CloudTrail's import documentation writes it: no kms:ViaService.
                resources=[encryption_key.key_arn],
            )
        )
    return role
