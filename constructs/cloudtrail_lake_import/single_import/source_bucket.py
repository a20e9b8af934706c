"""The bucket the construct creates for a trail archive when none is given."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from constructs import Construct


class ImportSourceBucket(Construct):
    """A bucket CloudTrail can import from: ACLs disabled, private, TLS only, encrypted,
    versioned, retained when the stack is deleted.

    :ivar bucket: the bucket (the ``Default`` child, so its logical id is this construct's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey | None,
        server_access_logs_bucket: s3.IBucket | None,
        server_access_logs_prefix: str | None,
    ) -> None:
        super().__init__(scope, id)
        # StartImport refuses buckets with ACLs enabled: BucketOwnerEnforced disables them.
        self.bucket = s3.Bucket(
            self,
            "Default",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.KMS
            if encryption_key
            else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=encryption_key is not None or None,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
            server_access_logs_bucket=server_access_logs_bucket,
            server_access_logs_prefix=server_access_logs_prefix,
        )
