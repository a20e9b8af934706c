"""The default app: configured from CDK context, no lookups, clear errors for bad values."""

from __future__ import annotations

import ast
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import KNOWN_KEYS, ContextError, build_app, check_context_keys
from cloudtrail_lake_import.single_import.lake_import import DEFAULT_COMPLETION_TIMEOUT
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from tests.cdk_json import RECOMMENDED_CONTEXT, ROOT
from tests.construct.conftest import only, resources


def template(**context: Any) -> Template:
    app = build_app({**RECOMMENDED_CONTEXT, **context})
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    assert stack.environment == "aws://unknown-account/unknown-region"  # no lookups needed
    return Template.from_stack(stack)


def test_without_context_it_declares_a_new_bucket_and_store() -> None:
    synthesized = template()
    assert len(resources(synthesized, "AWS::S3::Bucket")) == 1
    assert len(resources(synthesized, "AWS::CloudTrail::EventDataStore")) == 1
    props = only(synthesized, "Custom::CloudTrailLakeImport")["Properties"]
    assert props["WaitForCompletion"] == "false"


def test_context_configures_an_existing_bucket_store_and_window() -> None:
    store = "arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-1234"
    synthesized = template(
        sourceBucketName="my-trail-archive",
        sourceBucketRegion="eu-west-2",
        sourcePrefix="AWSLogs/111122223333/CloudTrail/",
        eventDataStoreArn=store,
        startEventTime="2024-01-01T00:00:00Z",
        endEventTime="2024-06-30T12:00:00+02:00",
        waitForCompletion="true",
        completionTimeoutMinutes="45",
        stopOnDelete="false",
        retryToken="7",
    )
    assert resources(synthesized, "AWS::S3::Bucket") == {}
    assert resources(synthesized, "AWS::CloudTrail::EventDataStore") == {}
    props = only(synthesized, "Custom::CloudTrailLakeImport")["Properties"]
    assert props["Destinations"] == [store]
    assert props["ImportSource"]["S3"]["S3LocationUri"] == (
        "s3://my-trail-archive/AWSLogs/111122223333/CloudTrail/"
    )
    assert props["ImportSource"]["S3"]["S3BucketRegion"] == "eu-west-2"
    assert props["StartEventTime"] == "2024-01-01T00:00:00Z"
    assert props["EndEventTime"] == "2024-06-30T10:00:00Z"
    assert props["WaitForCompletion"] == "true"
    assert props["CompletionTimeoutSeconds"] == "2700"
    assert props["StopOnDelete"] == "false"
    assert props["RetryToken"] == "7"


def test_retention_days_configure_the_new_store() -> None:
    store = only(template(retentionDays="3653"), "AWS::CloudTrail::EventDataStore")
    assert store["Properties"]["RetentionPeriod"] == 3653


@pytest.mark.parametrize(
    ("key", "value", "prop"),
    [
        ("retentionDays", "0", "event_data_store_retention"),
        ("completionTimeoutMinutes", "0", "completion_timeout"),
    ],
)
def test_zero_in_context_is_checked_not_replaced_by_the_default(
    key: str, value: str, prop: str
) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError) as raised:
        template(**{key: value, "waitForCompletion": "true"})
    assert prop in str(raised.value)


def test_without_a_timeout_in_context_the_construct_default_applies() -> None:
    props = only(template(waitForCompletion="true"), "Custom::CloudTrailLakeImport")["Properties"]
    assert props["CompletionTimeoutSeconds"] == str(int(DEFAULT_COMPLETION_TIMEOUT.to_seconds()))


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("waitForCompletion", "yes", "true or false"),
        ("stopOnDelete", "0", "true or false"),
        ("retentionDays", "ten years", "whole number"),
        ("completionTimeoutMinutes", "1h", "whole number"),
        ("startEventTime", "last tuesday", "ISO-8601"),
        ("endEventTime", "2024-01-01T00:00:00", "timezone"),
        ("maxIngestGb", "ten", "positive number"),
        ("maxIngestGb", "0", "positive number"),
        ("maxIngestGb", "-5", "positive number"),
        ("maxIngestGb", "nan", "positive number"),
    ],
)
def test_bad_context_names_the_key(key: str, value: str, expected: str) -> None:
    context = (
        {key: value} if key == "waitForCompletion" else {key: value, "waitForCompletion": "true"}
    )
    with pytest.raises(ContextError) as raised:
        template(**context)
    assert key in str(raised.value)
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("sourcebucketname", "sourceBucketName"),
        ("sourceBucketNme", "sourceBucketName"),
        ("SOURCEPREFIX", "sourcePrefix"),
        ("waitForCompletions", "waitForCompletion"),
        ("retrytoken", "retryToken"),
        ("eventDataStoreARN", "eventDataStoreArn"),
        ("maxIngestGB", "maxIngestGb"),
        ("source_bucket_name", "sourceBucketName"),
        ("source-bucket-name", "sourceBucketName"),
        ("sourceBucket", "sourceBucketName"),
        ("SourceBucket", "sourceBucketName"),
        ("bucketName", "sourceBucketName"),
        ("eventDataStore", "eventDataStoreArn"),
        ("completionTimeout", "completionTimeoutMinutes"),
        ("timeoutMinutes", "completionTimeoutMinutes"),
        ("retention", "retentionDays"),
    ],
)
def test_a_misspelt_context_key_fails_with_did_you_mean(typo: str, meant: str) -> None:
    with pytest.raises(ContextError) as raised:
        template(**{typo: "my-trail-archive"})
    assert f"unknown context key {typo}: did you mean {meant}?" in str(raised.value)


def test_unrelated_context_keys_of_the_cli_and_cdk_json_are_left_alone() -> None:
    check_context_keys(
        [
            *RECOMMENDED_CONTEXT,
            "aws:cdk:enable-path-metadata",
            "aws:cdk:bundling-stacks",
            "availability-zones:account=111122223333:region=eu-west-1",
            "acknowledged-issue-numbers",
            "cli-telemetry",  # `cdk cli-telemetry --disable` writes it to the context
        ]
    )


@pytest.mark.parametrize("key", ["myTeamSetting", "owner", "dryRun"])
def test_any_other_unknown_context_key_fails_even_when_not_close_to_a_known_one(key: str) -> None:
    with pytest.raises(ContextError, match=f"unknown context key {key}: \\(the default app"):
        template(**{key: "x"})


@pytest.mark.parametrize(
    ("context", "needs"),
    [
        ({"sourceBucketRegion": "us-east-1"}, "sourceBucketRegion needs sourceBucketName"),
        ({"completionTimeoutMinutes": "30"}, "completionTimeoutMinutes needs waitForCompletion"),
        (
            {"completionTimeoutMinutes": "30", "waitForCompletion": "false"},
            "completionTimeoutMinutes needs waitForCompletion",
        ),
        ({"accessLogsPrefix": "archive/"}, "accessLogsPrefix needs accessLogsBucketName"),
    ],
)
def test_keys_that_only_work_together_fail_alone(context: dict[str, str], needs: str) -> None:
    with pytest.raises(ContextError, match=needs):
        template(**context)


def test_billing_mode_configures_the_new_store() -> None:
    store = only(
        template(billingMode="FIXED_RETENTION_PRICING", retentionDays="2557"),
        "AWS::CloudTrail::EventDataStore",
    )
    assert store["Properties"]["BillingMode"] == "FIXED_RETENTION_PRICING"


def test_the_default_app_outputs_what_to_watch_the_import_with() -> None:
    synthesized = template()
    outputs = synthesized.find_outputs("*")
    assert set(outputs) == {
        "ImportId",
        "ImportStatus",
        "HandlerLogGroupName",
        "HandlerDeadLetterQueueUrl",
    }
    (log_group_id,) = synthesized.find_resources("AWS::Logs::LogGroup")
    assert outputs["HandlerLogGroupName"]["Value"] == {"Ref": log_group_id}
    (queue_id,) = synthesized.find_resources("AWS::SQS::Queue")
    assert outputs["HandlerDeadLetterQueueUrl"]["Value"] == {"Ref": queue_id}


def test_context_configures_the_hardening_props_without_lookups() -> None:
    key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    synthesized = template(
        reservedConcurrency="3",
        logEncryptionKeyArn=key,
        vpcId="vpc-0123456789abcdef0",
        subnetIds="subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb",
        securityGroupIds="sg-0123456789abcdef0",
        accessLogsBucketName="my-s3-logs",
        accessLogsPrefix="trail-archive/",
    )
    function = only(synthesized, "AWS::Lambda::Function")["Properties"]
    assert function["ReservedConcurrentExecutions"] == 3
    assert function["VpcConfig"] == {
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
        "SubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    }
    assert only(synthesized, "AWS::Logs::LogGroup")["Properties"]["KmsKeyId"] == key
    bucket = only(synthesized, "AWS::S3::Bucket")["Properties"]
    assert bucket["LoggingConfiguration"] == {
        "DestinationBucketName": "my-s3-logs",
        "LogFilePrefix": "trail-archive/",
    }


def test_reserved_concurrency_none_in_context_reserves_nothing() -> None:
    function = only(template(reservedConcurrency="none"), "AWS::Lambda::Function")
    assert "ReservedConcurrentExecutions" not in function["Properties"]


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"vpcId": "vpc-0123456789abcdef0"}, "vpcId needs subnetIds"),
        ({"subnetIds": "subnet-0aaaaaaaaaaaaaaaa"}, "need vpcId"),
        ({"reservedConcurrency": "two"}, "reservedConcurrency must be a whole number"),
    ],
)
def test_incomplete_network_context_names_what_is_missing(
    context: dict[str, str], expected: str
) -> None:
    with pytest.raises(ContextError, match=expected):
        template(**context)


def test_max_ingest_gb_in_context_turns_the_cost_guard_on() -> None:
    synthesized = template(maxIngestGb="2.5")

    props = only(synthesized, "Custom::CloudTrailLakeImport")["Properties"]
    assert props["MaxIngestGB"] == "2.5"
    outputs = synthesized.to_json()["Outputs"]
    assert outputs["ImportEstimatedGB"]["Value"]["Fn::GetAtt"][1] == "ImportEstimatedGB"


def test_without_max_ingest_gb_there_is_no_cost_guard() -> None:
    synthesized = template()

    assert "MaxIngestGB" not in only(synthesized, "Custom::CloudTrailLakeImport")["Properties"]
    assert "ImportEstimatedGB" not in synthesized.to_json()["Outputs"]


def test_every_context_key_the_app_reads_is_known_to_the_typo_check() -> None:
    # A key read but not listed would let its misspellings through silently.
    tree = ast.parse((ROOT / "app.py").read_text())
    read = {
        call.args[1].value
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and len(call.args) >= 2
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == "app"
        and isinstance(call.args[1], ast.Constant)
        and isinstance(call.args[1].value, str)
    }
    assert "sourceBucketName" in read
    assert read <= set(KNOWN_KEYS)
