"""Integration test: an import in one account, from a new bucket the construct makes, seeded
with a small generated trail archive. Deploys, waits for the import, checks that CloudTrail
copied every seeded event and that a Lake query (``verify``'s) finds each of them in the store
exactly once, destroys (the store and the bucket are retained)."""

from __future__ import annotations

import aws_cdk as cdk
import support
from aws_cdk import integ_tests_alpha as integ

from cloudtrail_lake_import import CloudTrailLakeImport

app = cdk.App()
stack = cdk.Stack(app, "LakeImportIntegSameAccount", env=support.environment())
support.tag(stack, "same-account")
archive = support.trail_archive("same-account", of_account=stack.account, in_region=stack.region)
lake_import = CloudTrailLakeImport(
    stack,
    "Import",
    source_prefix=archive.prefix,
    event_data_store_termination_protection=False,
    wait_for_completion=True,
)
# The files are in the bucket before the import starts.
lake_import.custom_resource.node.add_dependency(
    support.seed(stack, lake_import.source_bucket, archive)
)
support.retained(
    stack,
    EventDataStore=lake_import.event_data_store_arn,
    Bucket=lake_import.source_bucket.bucket_name,
)
test = integ.IntegTest(
    app,
    "SameAccountImport",
    test_cases=[stack],
    assertion_stack=support.assertion_stack(app, "LakeImportIntegSameAccountAssertions"),
)
completed = support.import_completed(test, lake_import.import_id, archive.events)
support.store_holds_each_seeded_event_once(
    test, completed, stack, lake_import.event_data_store_arn, archive
)
app.synth()
