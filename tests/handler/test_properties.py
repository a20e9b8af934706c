"""Strict parsing: CloudFormation sends strings; every error names the property."""

from __future__ import annotations

from typing import Any

import pytest

from import_handler.properties import PropertyError, parse, stop_on_delete_leniently

from .helpers import END_DT, ROLE_ARN, START_DT, STORE_ARN, URI, import_source, properties


def test_parses_the_properties_the_construct_sends() -> None:
    props = parse(properties(RetryToken="2"))
    assert props.identity.destination == STORE_ARN
    assert props.identity.s3_location_uri == URI
    assert props.identity.s3_bucket_access_role_arn == ROLE_ARN
    assert props.identity.bucket == "trail-archive"
    assert (props.identity.start_event_time, props.identity.end_event_time) == (START_DT, END_DT)
    assert (props.wait_for_completion, props.stop_on_delete) == (False, True)
    assert (props.completion_timeout_seconds, props.retry_token) == (3000, "2")


def test_optional_properties_have_safe_defaults() -> None:
    props = parse(
        properties(
            StartEventTime=None,
            EndEventTime=None,
            WaitForCompletion=None,
            CompletionTimeoutSeconds=None,
            StopOnDelete=None,
        )
    )
    assert props.identity.start_event_time is None
    assert props.identity.end_event_time is None
    assert props.wait_for_completion is False
    assert props.stop_on_delete is True
    assert props.completion_timeout_seconds == 3000


def test_accepts_an_empty_prefix_and_an_explicit_utc_offset() -> None:
    props = parse(
        properties(
            ImportSource=import_source("s3://trail-archive/"),
            StartEventTime="2023-01-01T00:00:00+00:00",
            WaitForCompletion="TRUE",
        )
    )
    assert props.identity.start_event_time == START_DT
    assert props.wait_for_completion is True


@pytest.mark.parametrize(
    ("overrides", "prop"),
    [
        ({"Destinations": []}, "Destinations"),
        ({"Destinations": [STORE_ARN, STORE_ARN]}, "Destinations"),
        ({"Destinations": STORE_ARN}, "Destinations"),
        ({"Destinations": ["arn:aws:cloudtrail:us-east-1:123456789012:trail/x"]}, "Destinations"),
        ({"Destinations": ["eventdatastore/abc"]}, "Destinations"),
        ({"Destinations": None}, "Destinations"),
        ({"ImportSource": None}, "ImportSource"),
        ({"ImportSource": {"S3": "s3://b/"}}, "ImportSource"),
        ({"ImportSource": {"S3": {}, "Other": {}}}, "ImportSource"),
        (
            {"ImportSource": import_source("https://trail-archive/x/")},
            "ImportSource.S3.S3LocationUri",
        ),
        ({"ImportSource": import_source("s3://trail-archive")}, "ImportSource.S3.S3LocationUri"),
        ({"ImportSource": import_source("s3://Bad_Bucket/x/")}, "ImportSource.S3.S3LocationUri"),
        ({"ImportSource": import_source("trail-archive/x/")}, "ImportSource.S3.S3LocationUri"),
        (
            {"ImportSource": import_source(role="arn:aws:iam::123456789012:user/bob")},
            "ImportSource.S3.S3BucketAccessRoleArn",
        ),
        (
            {"ImportSource": import_source(role="TrailImportRole")},
            "ImportSource.S3.S3BucketAccessRoleArn",
        ),
        (
            {"ImportSource": {"S3": {"S3LocationUri": URI, "S3BucketRegion": "us-east-1"}}},
            "ImportSource.S3.S3BucketAccessRoleArn",
        ),
        (
            {
                "ImportSource": {
                    "S3": {
                        "S3LocationUri": URI,
                        "S3BucketRegion": "Virginia",
                        "S3BucketAccessRoleArn": ROLE_ARN,
                    }
                }
            },
            "ImportSource.S3.S3BucketRegion",
        ),
        (
            {
                "ImportSource": {
                    "S3": {
                        "S3LocationUri": URI,
                        "S3BucketRegion": "us-east-1",
                        "S3BucketAccessRoleArn": ROLE_ARN,
                        "Extra": "x",
                    }
                }
            },
            "ImportSource.S3.Extra",
        ),
        ({"StartEventTime": "2023-01-01"}, "StartEventTime"),
        ({"StartEventTime": "2023-01-01T00:00:00"}, "StartEventTime"),
        ({"StartEventTime": "2023-01-01T00:00:00+02:00"}, "StartEventTime"),
        ({"StartEventTime": "2023-02-30T00:00:00Z"}, "StartEventTime"),
        ({"EndEventTime": "yesterday"}, "EndEventTime"),
        ({"StartEventTime": "2024-01-01T00:00:00Z"}, "StartEventTime"),
        ({"StartEventTime": "2025-01-01T00:00:00Z"}, "StartEventTime"),
        ({"WaitForCompletion": "yes"}, "WaitForCompletion"),
        ({"WaitForCompletion": "1"}, "WaitForCompletion"),
        ({"StopOnDelete": "no"}, "StopOnDelete"),
        ({"CompletionTimeoutSeconds": "3601"}, "CompletionTimeoutSeconds"),
        ({"CompletionTimeoutSeconds": "0"}, "CompletionTimeoutSeconds"),
        ({"CompletionTimeoutSeconds": "60.5"}, "CompletionTimeoutSeconds"),
        ({"CompletionTimeoutSeconds": "-5"}, "CompletionTimeoutSeconds"),
        ({"CompletionTimeoutSeconds": "ten"}, "CompletionTimeoutSeconds"),
        ({"CompletionTimeoutMinutes": "61"}, "CompletionTimeoutMinutes"),
        ({"CompletionTimeoutMinutes": "0"}, "CompletionTimeoutMinutes"),
        ({"CompletionTimeoutMinutes": "1.5"}, "CompletionTimeoutMinutes"),
        (
            {"CompletionTimeoutSeconds": "600", "CompletionTimeoutMinutes": "10"},
            "CompletionTimeoutMinutes",
        ),
        ({"RetryToken": 7}, "RetryToken"),
    ],
)
def test_malformed_properties_are_rejected_naming_the_property(
    overrides: dict[str, Any], prop: str
) -> None:
    with pytest.raises(PropertyError) as caught:
        parse(properties(**overrides))
    assert caught.value.prop == prop
    assert str(caught.value).startswith(prop)


def test_keys_added_by_cloudformation_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    props = parse(properties(ServiceTimeout="3300", SomethingNew="x"))
    assert props == parse(properties())
    assert "ignoring unknown properties: SomethingNew" in caplog.text


def test_properties_must_be_an_object() -> None:
    with pytest.raises(PropertyError):
        parse(None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"StopOnDelete": "false"}, False),
        ({"StopOnDelete": "true"}, True),
        ({}, True),
        ({"StopOnDelete": "garbage"}, True),
        (None, True),
    ],
)
def test_stop_on_delete_is_read_leniently_for_deletion(
    raw: dict[str, Any] | None, expected: bool
) -> None:
    assert stop_on_delete_leniently(raw) is expected


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("s3://trail-archive//AWSLogs/", "starts with '/'"),
        ("s3://trail-archive/s3://other-bucket/AWSLogs/", "'://'"),
        ("s3://trail-archive/AWSLogs/*/CloudTrail/", "wildcard"),
        ("s3://trail-archive/AWSLogs/../other/", "'..'"),
        ("s3://trail-archive/../", "'..'"),
        ("s3://trail-archive/AWSLogs/111122223333/CloudTrail", "does not end in '/'"),
    ],
)
def test_a_prefix_from_a_token_that_leaves_the_bucket_is_rejected(uri: str, problem: str) -> None:
    with pytest.raises(PropertyError) as raised:
        parse(properties(ImportSource=import_source(uri)))
    assert raised.value.prop == "ImportSource.S3.S3LocationUri"
    assert problem in str(raised.value)
    assert uri in str(raised.value)


def test_a_prefix_ending_in_a_slash_or_none_is_accepted() -> None:
    for uri in ("s3://trail-archive/", "s3://trail-archive/AWSLogs/111122223333/CloudTrail/"):
        assert parse(properties(ImportSource=import_source(uri)))


def test_a_timeout_token_in_minutes_arrives_as_completion_timeout_minutes() -> None:
    props = parse(properties(CompletionTimeoutSeconds=None, CompletionTimeoutMinutes="45"))
    assert props.completion_timeout_seconds == 45 * 60
