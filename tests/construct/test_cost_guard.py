"""``max_ingest_gb``: the property, what the handler may then read, its timeout and attribute."""

from __future__ import annotations

import math
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportPropsError
from tests.construct.conftest import STORE_ARN, Synth, logical_id, new_app, only
from tests.construct.test_nag import findings

PREFIX = "AWSLogs/123456789012/CloudTrail/"


def handler_statements(template: Any) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::IAM::Policy")
    handler_policy = next(p for name, p in policies.items() if name.startswith("ImportHandlerRole"))
    statements: list[dict[str, Any]] = handler_policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_the_limit_reaches_the_handler_as_a_plain_decimal(synth: Synth) -> None:
    _, _, template = synth(max_ingest_gb=0.5)
    resource = only(template, "Custom::CloudTrailLakeImport")
    assert resource["Properties"]["MaxIngestGB"] == "0.5"
    _, _, template = synth(max_ingest_gb=20_000)
    assert only(template, "Custom::CloudTrailLakeImport")["Properties"]["MaxIngestGB"] == "20000"


def test_the_guarded_handler_may_list_and_read_the_prefix_only(synth: Synth) -> None:
    stack, construct, template = synth(source_bucket=None, source_prefix=PREFIX, max_ingest_gb=100)
    bucket = logical_id(stack, construct.source_bucket)
    statements = handler_statements(template)
    assert {
        "Action": "s3:ListBucket",
        "Condition": {"StringLike": {"s3:prefix": f"{PREFIX}*"}},
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [bucket, "Arn"]},
    } in statements
    assert {
        "Action": "s3:GetObject",
        "Effect": "Allow",
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{PREFIX}*"]]},
    } in statements


def test_without_the_guard_the_handler_reads_no_object(synth: Synth) -> None:
    _, construct, template = synth(source_prefix=PREFIX)
    actions = [s["Action"] for s in handler_statements(template)]
    assert "s3:GetObject" not in actions
    assert construct.import_estimated_gb is None
    props = only(template, "Custom::CloudTrailLakeImport")["Properties"]
    assert "MaxIngestGB" not in props
    assert only(template, "AWS::Lambda::Function")["Properties"]["Timeout"] == 180
    assert only(template, "AWS::Lambda::Function")["Properties"]["MemorySize"] == 256


def test_an_sse_kms_archive_lets_the_guard_decrypt_and_nothing_more(synth: Synth) -> None:
    stack = cdk.Stack(new_app(), "Kms")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    CloudTrailLakeImport(stack, "Import", source_encryption_key=key, max_ingest_gb=1)
    statements = handler_statements(cdk.assertions.Template.from_stack(stack))
    assert {
        "Action": "kms:Decrypt",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [logical_id(stack, key), "Arn"]},
    } in statements


def test_the_guarded_handler_has_the_time_to_list_and_cloudformation_waits_for_it(
    synth: Synth,
) -> None:
    _, _, template = synth(max_ingest_gb=1)
    assert only(template, "AWS::Lambda::Function")["Properties"]["Timeout"] == 900
    assert only(template, "AWS::Lambda::Function")["Properties"]["MemorySize"] == 1024
    resource = only(template, "Custom::CloudTrailLakeImport")
    assert resource["Properties"]["ServiceTimeout"] == "1200"
    _, _, waiting = synth(
        max_ingest_gb=1, wait_for_completion=True, completion_timeout=cdk.Duration.minutes(5)
    )
    assert only(waiting, "Custom::CloudTrailLakeImport")["Properties"]["ServiceTimeout"] == "1200"


def test_the_estimate_is_an_attribute(synth: Synth) -> None:
    stack, construct, _ = synth(max_ingest_gb=1)
    assert construct.import_estimated_gb is not None
    resource = construct.custom_resource.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    assert stack.resolve(construct.import_estimated_gb) == {
        "Fn::GetAtt": [stack.get_logical_id(resource), "ImportEstimatedGB"]
    }


@pytest.mark.parametrize("value", [0, -1, 0.0000000001, math.nan, math.inf, 10**12])
def test_a_limit_that_is_not_a_positive_number_of_gb_is_refused(synth: Synth, value: float) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match=r"^max_ingest_gb must be a number"):
        synth(max_ingest_gb=value)


@pytest.mark.parametrize("value", ["500", True])
def test_a_limit_of_the_wrong_type_is_refused(synth: Synth, value: object) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match="max_ingest_gb"):
        synth(max_ingest_gb=value)


def test_a_token_limit_is_passed_unchecked(synth: Synth) -> None:
    stack = cdk.Stack(new_app(), "Tokens")
    limit = cdk.CfnParameter(stack, "Limit", type="Number").value_as_number
    CloudTrailLakeImport(stack, "Import", max_ingest_gb=limit)
    props = only(cdk.assertions.Template.from_stack(stack), "Custom::CloudTrailLakeImport")
    assert props["Properties"]["MaxIngestGB"] == {"Ref": "Limit"}


@pytest.mark.parametrize("existing_bucket", [True, False])
def test_the_guards_object_grant_is_acknowledged_with_its_reason(existing_bucket: bool) -> None:
    app = new_app()
    stack = cdk.Stack(app, "Nag")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket.from_bucket_name(stack, "Archive", "my-trail-archive")
    CloudTrailLakeImport(
        stack,
        "Import",
        source_bucket=bucket if existing_bucket else None,
        source_prefix=PREFIX,
        source_encryption_key=key,
        event_data_store=STORE_ARN if existing_bucket else None,
        max_ingest_gb=10,
    )
    assert findings(app, stack) == []
