"""What the import handler's role may do, each statement scoped as far as IAM allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import.policy.access_role import CLOUDTRAIL_PRINCIPAL

if TYPE_CHECKING:
    from cloudtrail_lake_import.single_import.handler import HandlerSource

# StartImport, GetImport, ListImports, StopImport and ListImportFailures have no resource type
# in the Service Authorization Reference: IAM only accepts them on "*".
IMPORT_ACTIONS = [
    "cloudtrail:StartImport",
    "cloudtrail:GetImport",
    "cloudtrail:ListImports",
    "cloudtrail:StopImport",
    "cloudtrail:ListImportFailures",
]


def grant_handler_permissions(
    role: iam.Role, source: HandlerSource, *, reads_objects: bool
) -> None:
    """The import calls, the store's preflight read, handing CloudTrail the access role, the
    bucket's preflight reads; with the cost guard (``reads_objects``), its estimate's reads."""
    role.add_to_policy(iam.PolicyStatement(actions=IMPORT_ACTIONS, resources=["*"]))
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["cloudtrail:GetEventDataStore"], resources=[source.event_data_store_arn]
        )
    )
    # CloudTrail, and only CloudTrail, may be handed the access role.
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[source.access_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": CLOUDTRAIL_PRINCIPAL}},
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetBucketOwnershipControls"], resources=[source.bucket.bucket_arn]
        )
    )
    role.add_to_policy(_list_prefix_statement(source.bucket, source.prefix))
    if source.may_be_organization_store:
        # The preflight tells a member account that only the management account can import
        # into an organization store. DescribeOrganization has no resource type: IAM only
        # accepts it on "*"; it reveals the organization's id and management account.
        role.add_to_policy(
            iam.PolicyStatement(actions=["organizations:DescribeOrganization"], resources=["*"])
        )
    if reads_objects:
        _grant_estimate(role, source)


def _list_prefix_statement(bucket: s3.IBucket, prefix: str) -> iam.PolicyStatement:
    """The preflight lists one key under the prefix (is there anything to import yet?)."""
    # Only that listing: the s3:prefix condition keeps the handler from listing elsewhere.
    conditions = {"StringEquals": {"s3:prefix": prefix}} if prefix else None
    return iam.PolicyStatement(
        actions=["s3:ListBucket"], resources=[bucket.bucket_arn], conditions=conditions
    )


def _grant_estimate(role: iam.Role, source: HandlerSource) -> None:
    """What the cost guard's estimate reads: the prefix's folders and the gzip trailers."""
    prefix = source.prefix
    conditions = {"StringLike": {"s3:prefix": f"{prefix}*"}} if prefix else None
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[source.bucket.bucket_arn], conditions=conditions
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[source.bucket.arn_for_objects(f"{prefix}*")]
        )
    )
    if source.encryption_key is not None:
        role.add_to_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[source.encryption_key.key_arn])
        )
