"""Wrong types name the prop; tokens pass through to the handler; windows are whole seconds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

import cloudtrail_lake_import
from cloudtrail_lake_import import CloudTrailLakeImport, CloudTrailLakeImportPropsError
from tests.construct.conftest import STORE_ARN, Synth, new_app, only


def test_the_props_error_is_exported_from_the_package_root() -> None:
    assert cloudtrail_lake_import.CloudTrailLakeImportPropsError is CloudTrailLakeImportPropsError
    assert issubclass(CloudTrailLakeImportPropsError, ValueError)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"start_event_time": "2024-01-01T00:00:00Z"},
            "start_event_time must be a timezone-aware datetime; got str '2024-01-01T00:00:00Z'",
        ),
        (
            {"end_event_time": date(2024, 1, 1)},
            "end_event_time must be a timezone-aware datetime; got date datetime.date(2024, 1, 1)",
        ),
        ({"source_prefix": None}, "source_prefix must be a string key prefix"),
        ({"source_bucket": "my-trail-archive"}, "source_bucket must be an s3.IBucket"),
        ({"source_encryption_key": "alias/archive"}, "source_encryption_key must be a kms.IKey"),
        ({"event_data_store": 42}, "event_data_store must be a cloudtrail.CfnEventDataStore"),
        ({"event_data_store_retention": 365}, "event_data_store_retention must be a Duration"),
        (
            {"event_data_store_retention": cdk.Duration.hours(252)},
            "event_data_store_retention must be a whole number of days",
        ),
        ({"completion_timeout": 30}, "completion_timeout must be a Duration; got int 30"),
        (
            {"event_data_store_organization_enabled": "false"},
            "event_data_store_organization_enabled must be a bool; got str 'false'",
        ),
        ({"access_role_name": 5}, "access_role_name must be an IAM role name string; got int 5"),
        (
            {"handler_role_name": ["importer"]},
            "handler_role_name must be an IAM role name string; got list",
        ),
        ({"wait_for_completion": "true"}, "wait_for_completion must be a bool; got str 'true'"),
        ({"stop_on_delete": None}, "stop_on_delete must be a bool; got NoneType None"),
        ({"retry_token": 2}, "retry_token must be a string; got int 2"),
        ({"log_retention": 365}, "log_retention must be a logs.RetentionDays"),
        (
            {"event_data_store_billing_mode": "FIXED"},
            "event_data_store_billing_mode must be EXTENDABLE_RETENTION_PRICING or "
            "FIXED_RETENTION_PRICING; got 'FIXED'",
        ),
    ],
)
def test_a_wrong_type_names_the_prop_what_it_got_and_what_it_takes(
    synth: Synth, props: dict[str, Any], message: str
) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError) as raised:
        synth(**props)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("billing_mode", "days", "accepted"),
    [
        ("FIXED_RETENTION_PRICING", 2557, True),
        ("FIXED_RETENTION_PRICING", 2558, False),
        ("EXTENDABLE_RETENTION_PRICING", 3653, True),
        (None, 3653, True),
        (None, 3654, False),
    ],
)
def test_retention_limits_follow_the_billing_mode(
    synth: Synth, billing_mode: str | None, days: int, accepted: bool
) -> None:
    props = {
        "event_data_store_billing_mode": billing_mode,
        "event_data_store_retention": cdk.Duration.days(days),
    }
    if not accepted:
        most = 2557 if billing_mode else 3653
        with pytest.raises(CloudTrailLakeImportPropsError, match=f"between 7 and {most} days"):
            synth(**props)
        return
    _, _, template = synth(**props)
    store = only(template, "AWS::CloudTrail::EventDataStore")["Properties"]
    assert store["RetentionPeriod"] == days
    assert store.get("BillingMode") == billing_mode


def test_billing_mode_configures_only_the_new_store(synth: Synth) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match="event_data_store_billing_mode"):
        synth(event_data_store=STORE_ARN, event_data_store_billing_mode="FIXED_RETENTION_PRICING")


def test_a_window_shorter_than_a_second_fails_synth_on_the_rendered_seconds(synth: Synth) -> None:
    start = datetime(2024, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
    end = datetime(2024, 1, 1, 0, 0, 0, 900_000, tzinfo=UTC)
    with pytest.raises(CloudTrailLakeImportPropsError) as raised:
        synth(start_event_time=start, end_event_time=end)
    assert "whole seconds" in str(raised.value)
    assert "2024-01-01T00:00:00Z and 2024-01-01T00:00:00Z" in str(raised.value)


def test_a_completion_timeout_parameter_in_seconds_is_passed_to_the_handler() -> None:
    stack = cdk.Stack(new_app(), "Params")
    seconds = cdk.CfnParameter(stack, "TimeoutSeconds", type="Number")
    CloudTrailLakeImport(
        stack,
        "Import",
        wait_for_completion=True,
        completion_timeout=cdk.Duration.seconds(seconds.value_as_number),
    )
    template = Template.from_stack(stack)
    resource = only(template, "Custom::CloudTrailLakeImport")
    assert resource["Properties"]["CompletionTimeoutSeconds"] == {"Ref": "TimeoutSeconds"}
    # Unknown until deploy: the stack may wait as long as CloudFormation allows.
    assert resource["Properties"]["ServiceTimeout"] == "3600"


def test_a_completion_timeout_parameter_in_minutes_is_passed_in_minutes() -> None:
    stack = cdk.Stack(new_app(), "Minutes")
    minutes = cdk.CfnParameter(stack, "TimeoutMinutes", type="Number")
    CloudTrailLakeImport(
        stack,
        "Import",
        wait_for_completion=True,
        completion_timeout=cdk.Duration.minutes(minutes.value_as_number),
    )
    properties = only(Template.from_stack(stack), "Custom::CloudTrailLakeImport")["Properties"]
    # CloudFormation cannot multiply: the handler converts (and checks 1 to 60) at deploy.
    assert properties["CompletionTimeoutMinutes"] == {"Ref": "TimeoutMinutes"}
    assert "CompletionTimeoutSeconds" not in properties
    assert properties["ServiceTimeout"] == "3600"


def test_a_completion_timeout_parameter_in_hours_fails_synth_naming_the_remedy() -> None:
    stack = cdk.Stack(new_app(), "Hours")
    hours = cdk.CfnParameter(stack, "TimeoutHours", type="Number")
    with pytest.raises(CloudTrailLakeImportPropsError) as raised:
        CloudTrailLakeImport(
            stack,
            "Import",
            wait_for_completion=True,
            completion_timeout=cdk.Duration.hours(hours.value_as_number),
        )
    assert str(raised.value).startswith("completion_timeout from an unresolved value")
    assert "Duration.minutes(param.value_as_number)" in str(raised.value)


def test_a_retention_parameter_in_hours_fails_synth_naming_the_prop() -> None:
    stack = cdk.Stack(new_app(), "Hours")
    hours = cdk.CfnParameter(stack, "RetentionHours", type="Number")
    with pytest.raises(CloudTrailLakeImportPropsError) as raised:
        CloudTrailLakeImport(
            stack, "Import", event_data_store_retention=cdk.Duration.hours(hours.value_as_number)
        )
    assert str(raised.value).startswith("event_data_store_retention must be a whole number of days")
    assert "got an unresolved value in another unit" in str(raised.value)


def test_prefix_store_retry_token_and_retention_accept_tokens() -> None:
    stack = cdk.Stack(new_app(), "Tokens")
    text = {name: cdk.CfnParameter(stack, name).value_as_string for name in ("Prefix", "Token")}
    days = cdk.CfnParameter(stack, "Days", type="Number").value_as_number
    CloudTrailLakeImport(
        stack,
        "Import",
        source_prefix=text["Prefix"],
        retry_token=text["Token"],
        event_data_store_retention=cdk.Duration.days(days),
    )
    template = Template.from_stack(stack)
    props = only(template, "Custom::CloudTrailLakeImport")["Properties"]
    assert props["RetryToken"] == {"Ref": "Token"}
    assert props["ImportSource"]["S3"]["S3LocationUri"]["Fn::Join"][1][-1] == {"Ref": "Prefix"}
    store = only(template, "AWS::CloudTrail::EventDataStore")["Properties"]
    assert store["RetentionPeriod"] == {"Ref": "Days"}
