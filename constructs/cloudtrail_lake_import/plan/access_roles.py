"""The roles CloudTrail assumes to read the plan's archives: one per distinct source bucket."""

from __future__ import annotations

import hashlib
import json

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import import validation
from cloudtrail_lake_import.plan.segments import Segment
from cloudtrail_lake_import.policy.access_role import CLOUDTRAIL_PRINCIPAL, new_access_role
from constructs import Construct


def new_access_roles(
    scope: Construct, segments: list[Segment], event_data_store_arn: str
) -> dict[str, iam.Role]:
    """One role per distinct bucket, reading every prefix the plan imports from it; by
    ``bucket_key``."""
    by_bucket: dict[str, list[Segment]] = {}
    for segment in segments:
        by_bucket.setdefault(bucket_key(scope, segment.spec.source_bucket), []).append(segment)
    roles: dict[str, iam.Role] = {}
    for key, bucket_segments in by_bucket.items():
        keys = {s.spec.source_encryption_key for s in bucket_segments} - {None}
        if len(keys) > 1:
            raise validation.CloudTrailLakeImportPropsError(
                "imports from one bucket must name the same source_encryption_key; "
                f"bucket {bucket_segments[0].spec.source_bucket.bucket_name} has {len(keys)}"
            )
        key_arn: kms.IKey | None = next(iter(keys)) if keys else None
        roles[key] = new_access_role(
            scope,
            _access_role_id(key),
            bucket=bucket_segments[0].spec.source_bucket,
            prefixes=sorted({s.prefix for s in bucket_segments}),
            encryption_key=key_arn,
            event_data_store_arn=event_data_store_arn,
        )
    return roles


def bucket_key(scope: Construct, bucket: s3.IBucket) -> str:
    """What tells the plan's buckets apart: the bucket's name, resolved in ``scope``'s stack."""
    return json.dumps(Stack.of(scope).resolve(bucket.bucket_name), sort_keys=True)


def _access_role_id(bucket_key: str) -> str:
    """A logical id that follows the bucket, not its position: reordering the imports must not
    swap the roles (a role's ARN is part of every import CloudTrail runs with it)."""
    return f"AccessRole{hashlib.sha256(bucket_key.encode()).hexdigest()[:8].upper()}"


def pass_role(role: iam.IRole) -> iam.PolicyStatement:
    """CloudTrail, and only CloudTrail, may be handed ``role``."""
    return iam.PolicyStatement(
        actions=["iam:PassRole"],
        resources=[role.role_arn],
        conditions={"StringEquals": {"iam:PassedToService": CLOUDTRAIL_PRINCIPAL}},
    )
