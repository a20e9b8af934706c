"""Integration test: a three-segment plan (one day each) from a seeded bucket into a new store,
run by its state machine. The deploy waits on the plan's WaitCondition; the assertions then
check that the execution SUCCEEDED and that a Lake query (``verify``'s) finds each seeded event
in the store exactly once, on its own day."""

from __future__ import annotations

from datetime import timedelta

import aws_cdk as cdk
import support
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import integ_tests_alpha as integ

from cloudtrail_lake_import import CloudTrailLakeImportPlan, ImportSpec

app = cdk.App()
stack = cdk.Stack(app, "LakeImportIntegPlan", env=support.environment())
support.tag(stack, "plan")
bucket = support.archive_bucket(stack, "Archive")
archive = support.trail_archive(
    "plan", of_account=stack.account, in_region=stack.region, one_day_each=True
)
seed = support.seed(stack, bucket, archive)
store = cloudtrail.CfnEventDataStore(
    stack,
    "Store",
    ingestion_enabled=False,
    multi_region_enabled=True,
    retention_period=2557,
    termination_protection_enabled=False,
)
store.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
plan = CloudTrailLakeImportPlan(
    stack,
    "Plan",
    event_data_store=store,
    imports=[
        ImportSpec(
            bucket,
            archive.prefix,
            support.SEED_DAY,
            support.SEED_DAY + timedelta(days=support.SEED_FILES),
        )
    ],
    split_window_by=cdk.Duration.days(1),
    poll_interval=cdk.Duration.minutes(1),
    wait_condition_timeout=cdk.Duration.hours(2),
)
assert plan.segment_count == 3, plan.segment_count
plan.node.add_dependency(seed)
support.retained(stack, EventDataStore=store.attr_event_data_store_arn, Bucket=bucket.bucket_name)
test = integ.IntegTest(
    app,
    "ThreeSegmentPlan",
    test_cases=[stack],
    assertion_stack=support.assertion_stack(app, "LakeImportIntegPlanAssertions"),
)
execution = test.assertions.aws_api_call(
    "SFN", "describeExecution", {"executionArn": plan.execution_arn}
)
execution.expect(integ.ExpectedResult.object_like({"status": "SUCCEEDED"}))
execution.wait_for_assertions(
    total_timeout=cdk.Duration.hours(2), interval=cdk.Duration.minutes(2), backoff_rate=1
)
support.store_holds_each_seeded_event_once(
    test, execution, stack, plan.event_data_store_arn, archive
)
app.synth()
