"""The plan's handler hardened like the single import's: dead letters, bounded retries, reserved
concurrency, KMS-encrypted logs on request; cdk-nag stays clean."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from cloudtrail_lake_import.plan.checks import check_wait_props
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from tests.construct.conftest import new_app, only, resources
from tests.plan.conftest import five_years_two_buckets

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def stack_with(**props: Any) -> tuple[cdk.App, cdk.Stack]:
    app = new_app()
    stack = cdk.Stack(app, "PlanStack")
    if props.pop("log_key", False):
        props["log_encryption_key"] = kms.Key(stack, "LogKey", enable_key_rotation=True)
    five_years_two_buckets(stack, **props)
    return app, stack


def function(template: Template, name: str) -> dict[str, Any]:
    """The plan's function ``name`` ("Handler" or "Finish")."""
    found = resources(template, "AWS::Lambda::Function")
    (properties,) = [f["Properties"] for i, f in found.items() if i.startswith(f"Plan{name}")]
    return dict(properties)


def invoke_config(template: Template, name: str) -> dict[str, Any]:
    configs = resources(template, "AWS::Lambda::EventInvokeConfig").values()
    (properties,) = [
        c["Properties"]
        for c in configs
        if c["Properties"]["FunctionName"]["Ref"].startswith(f"Plan{name}")
    ]
    return dict(properties)


@pytest.mark.parametrize("name", ["Handler", "Finish"])
def test_a_request_lambda_gives_up_on_lands_in_an_encrypted_queue_after_two_retries(
    name: str,
) -> None:
    _, stack = stack_with()
    template = Template.from_stack(stack)
    handler = function(template, name)
    queue_id = handler["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    queue = resources(template, "AWS::SQS::Queue")[queue_id]["Properties"]
    assert queue["KmsMasterKeyId"] == "alias/aws/sqs"
    assert queue["MessageRetentionPeriod"] == 4 * 24 * 3600
    assert invoke_config(template, name)["MaximumRetryAttempts"] == 2
    assert handler["ReservedConcurrentExecutions"] == 2


def test_a_request_older_than_the_service_timeout_is_not_served_late() -> None:
    _, stack = stack_with()
    assert invoke_config(Template.from_stack(stack), "Handler")["MaximumEventAgeInSeconds"] == 300


def test_reserved_concurrency_is_configurable_and_none_reserves_nothing() -> None:
    _, three = stack_with(reserved_concurrent_executions=3)
    _, none = stack_with(reserved_concurrent_executions=None)
    for name in ("Handler", "Finish"):
        assert function(Template.from_stack(three), name)["ReservedConcurrentExecutions"] == 3
        assert "ReservedConcurrentExecutions" not in function(Template.from_stack(none), name)
    with pytest.raises(CloudTrailLakeImportPropsError, match="reserved_concurrent_executions"):
        stack_with(reserved_concurrent_executions=0)


def test_log_encryption_key_encrypts_every_log_group_and_lets_cloudwatch_logs_use_it() -> None:
    app, stack = stack_with(log_key=True)
    template = Template.from_stack(stack)
    groups = resources(template, "AWS::Logs::LogGroup").values()
    assert len(groups) == 3  # the state machine's, the handler's and the finish function's
    assert all(g["Properties"]["KmsKeyId"]["Fn::GetAtt"][1] == "Arn" for g in groups)
    key = only(template, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in key if s.get("Sid") == "AllowCloudWatchLogsForCloudTrailLakeImportPlan"]
    assert logs["Principal"]["Service"]["Fn::Join"][1][0] == "logs."
    report = AwsSolutionsChecks(app).validate_scope(stack)
    assert [v.rule_name for v in report.violations] == []


def test_an_imported_log_key_warns_that_its_policy_must_let_cloudwatch_logs_use_it() -> None:
    app = new_app()
    stack = cdk.Stack(app, "PlanStack")
    five_years_two_buckets(
        stack, log_encryption_key=kms.Key.from_key_arn(stack, "Imported", KEY_ARN)
    )
    messages = app.synth().get_stack_artifact("PlanStack").messages
    assert any("log_encryption_key is an imported key" in str(m.entry.data) for m in messages)


def test_waiting_for_completion_gives_the_handler_the_hour_and_lets_it_continue_itself() -> None:
    app, stack = stack_with(wait_for_completion=True)
    template = Template.from_stack(stack)
    handler = function(template, "Handler")
    assert handler["Timeout"] == 900
    plan = only(template, "Custom::CloudTrailLakeImportPlan")
    assert plan["Properties"]["WaitForCompletion"] == "true"
    assert plan["Properties"]["ServiceTimeout"] == "3600"
    (self_invoke,) = [
        p
        for p in resources(template, "AWS::IAM::Policy").values()
        if p["Properties"]["PolicyDocument"]["Statement"][0]["Action"] == "lambda:InvokeFunction"
    ]
    assert (
        self_invoke["Properties"]["PolicyDocument"]["Statement"][0]["Resource"]["Fn::GetAtt"][1]
        == "Arn"
    )
    report = AwsSolutionsChecks(app).validate_scope(stack)
    assert [v.rule_name for v in report.violations] == []
    with pytest.raises(CloudTrailLakeImportPropsError, match="at least 2 when wait_for_completion"):
        stack_with(wait_for_completion=True, reserved_concurrent_executions=1)


def test_not_waiting_leaves_the_property_out_so_the_plan_keeps_its_identity() -> None:
    _, stack = stack_with()
    plan = only(Template.from_stack(stack), "Custom::CloudTrailLakeImportPlan")
    assert "WaitForCompletion" not in plan["Properties"]
    assert plan["Properties"]["ServiceTimeout"] == "300"


def test_wait_for_completion_and_a_wait_condition_timeout_are_refused_together() -> None:
    check_wait_props(wait_for_completion=True, wait_condition_timeout=None)
    check_wait_props(wait_for_completion=False, wait_condition_timeout=cdk.Duration.hours(3))
    with pytest.raises(CloudTrailLakeImportPropsError, match="exclude each other"):
        check_wait_props(wait_for_completion=True, wait_condition_timeout=cdk.Duration.hours(3))


def test_the_plan_refuses_both_ways_of_waiting_at_once() -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match="exclude each other"):
        stack_with(wait_for_completion=True, wait_condition_timeout=cdk.Duration.hours(3))
