"""Integration test: an import from another account's archive. The archive account's stack
holds the bucket (SSE-S3, as Control Tower makes it), seeded, and CloudTrailLakeImportSourceAccess
for the importer's two named roles; the importing account's stack imports from it.

Deploy mode needs two accounts: CDK_INTEG_ACCOUNT (importing) and CDK_INTEG_ARCHIVE_ACCOUNT,
the latter bootstrapped with ``cdk bootstrap --trust <importing account>`` so that one set of
credentials deploys both stacks."""

from __future__ import annotations

import aws_cdk as cdk
import support
from aws_cdk import aws_s3 as s3
from aws_cdk import integ_tests_alpha as integ

from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportSourceAccess

ACCESS_ROLE = "lake-import-integ-access"
HANDLER_ROLE = "lake-import-integ-handler"

app = cdk.App()
importing, owning = support.account(), support.archive_account()
archive_stack = cdk.Stack(
    app, "LakeImportIntegCrossAccountArchive", env=support.environment(owning)
)
support.tag(archive_stack, "cross-account")
bucket = support.archive_bucket(
    archive_stack,
    "Archive",
    # Named: the importing account's stack cannot refer to a generated name across accounts.
    bucket_name=f"lake-import-integ-{owning}-{archive_stack.region}",
    encryption=s3.BucketEncryption.S3_MANAGED,
)
archive = support.trail_archive("cross-account", of_account=owning, in_region=archive_stack.region)
support.seed(archive_stack, bucket, archive)
CloudTrailLakeImportSourceAccess(
    archive_stack,
    "LakeImportAccess",
    bucket=bucket,
    prefix=archive.prefix,
    importer_role_arn=f"arn:aws:iam::{importing}:role/{ACCESS_ROLE}",
    handler_role_arn=f"arn:aws:iam::{importing}:role/{HANDLER_ROLE}",
)
support.retained(archive_stack, Bucket=bucket.bucket_name)

import_stack = cdk.Stack(
    app, "LakeImportIntegCrossAccountImport", env=support.environment(importing)
)
support.tag(import_stack, "cross-account")
lake_import = CloudTrailLakeImport(
    import_stack,
    "Import",
    source_bucket=s3.Bucket.from_bucket_attributes(
        import_stack,
        "Archive",
        bucket_name=f"lake-import-integ-{owning}-{archive_stack.region}",
        account=owning,
        region=archive_stack.region,
    ),
    source_prefix=archive.prefix,
    access_role_name=ACCESS_ROLE,
    handler_role_name=HANDLER_ROLE,
    event_data_store_termination_protection=False,
    wait_for_completion=True,
)
import_stack.add_stack_dependency(archive_stack, "the owner's grants and files come first")
support.retained(import_stack, EventDataStore=lake_import.event_data_store_arn)
test = integ.IntegTest(
    app,
    "CrossAccountImport",
    test_cases=[archive_stack, import_stack],
    assertion_stack=support.assertion_stack(app, "LakeImportIntegCrossAccountAssertions"),
)
completed = support.import_completed(test, lake_import.import_id, archive.events)
support.store_holds_each_seeded_event_once(
    test, completed, import_stack, lake_import.event_data_store_arn, archive
)
app.synth()
