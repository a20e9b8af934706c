"""Integration test: an import from an SSE-KMS bucket that exists before the import's stack
(its own stack here, as a user's archive would be), known to the import by name and key ARN.
CloudTrail must decrypt with the key through the access role: StartImport checks the key and
role policies up front (InsufficientEncryptionPolicyException)."""

from __future__ import annotations

import aws_cdk as cdk
import support
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import integ_tests_alpha as integ

from cloudtrail_lake_import import CloudTrailLakeImport

app = cdk.App()
archive_stack = cdk.Stack(app, "LakeImportIntegKmsArchive", env=support.environment())
support.tag(archive_stack, "existing-kms-bucket")
key = kms.Key(
    archive_stack,
    "ArchiveKey",
    enable_key_rotation=True,
    removal_policy=cdk.RemovalPolicy.RETAIN,
    description="cdk-cloudtrail-lake-import integration test archive key (retained)",
)
bucket = support.archive_bucket(
    archive_stack,
    "Archive",
    encryption=s3.BucketEncryption.KMS,
    encryption_key=key,
    bucket_key_enabled=True,
)
archive = support.trail_archive(
    "existing-kms-bucket", of_account=archive_stack.account, in_region=archive_stack.region
)
support.seed(archive_stack, bucket, archive)
support.retained(archive_stack, Bucket=bucket.bucket_name, Key=key.key_arn)

import_stack = cdk.Stack(app, "LakeImportIntegKmsImport", env=support.environment())
support.tag(import_stack, "existing-kms-bucket")
lake_import = CloudTrailLakeImport(
    import_stack,
    "Import",
    source_bucket=s3.Bucket.from_bucket_name(import_stack, "Archive", bucket.bucket_name),
    source_encryption_key=kms.Key.from_key_arn(import_stack, "ArchiveKey", key.key_arn),
    source_prefix=archive.prefix,
    event_data_store_termination_protection=False,
    wait_for_completion=True,
)
import_stack.add_stack_dependency(archive_stack, "the archive exists and is seeded first")
support.retained(import_stack, EventDataStore=lake_import.event_data_store_arn)
test = integ.IntegTest(
    app,
    "ExistingKmsBucketImport",
    test_cases=[archive_stack, import_stack],
    assertion_stack=support.assertion_stack(app, "LakeImportIntegKmsAssertions"),
)
completed = support.import_completed(test, lake_import.import_id, archive.events)
support.store_holds_each_seeded_event_once(
    test, completed, import_stack, lake_import.event_data_store_arn, archive
)
app.synth()
