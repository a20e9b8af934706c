"""The role CloudTrail assumes to read the trail archive of one import."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import.policy.access_role import new_access_role
from constructs import Construct


class ImportAccessRole(Construct):
    """A role only CloudTrail, for this account and this one store, may assume; it lists the
    bucket and reads the objects under the prefix (``S3BucketAccessRoleArn``).

    :ivar role: the role (the ``Default`` child, so its logical id is this construct's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        prefix: str,
        encryption_key: kms.IKey | None,
        event_data_store_arn: str,
        role_name: str | None,
    ) -> None:
        super().__init__(scope, id)
        self.role = new_access_role(
            self,
            "Default",
            bucket=bucket,
            prefixes=[prefix],
            encryption_key=encryption_key,
            event_data_store_arn=event_data_store_arn,
            role_name=role_name,
        )
