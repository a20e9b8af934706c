"""The plan's synthesized resources: roles, state machine, custom resource, definition."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from cloudtrail_lake_import import CloudTrailLakeImportPlan, ImportSpec
from cloudtrail_lake_import.plan import end_states, notifications
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from tests.construct.conftest import STORE_ARN, new_app, only, resources
from tests.construct.test_nag import acknowledgments
from tests.plan.conftest import definition, inner_states, plan_stack, year


@pytest.fixture(scope="module")
def synthesized() -> tuple[cdk.Stack, dict[str, Any]]:
    _, stack, _ = plan_stack()
    return stack, dict(Template.from_stack(stack).to_json())


def test_five_yearly_segments_from_two_buckets_become_five_start_import_requests(
    synthesized: tuple[cdk.Stack, dict[str, Any]],
) -> None:
    _, template = synthesized
    plan = only(Template.from_json(template), "Custom::CloudTrailLakeImportPlan")
    segments = plan["Properties"]["Segments"]
    windows = [(s["StartEventTime"], s["EndEventTime"]) for s in segments]
    assert windows == [
        ("2019-01-01T00:00:00Z", "2019-12-31T23:59:59Z"),
        ("2020-01-01T00:00:00Z", "2020-12-30T23:59:59Z"),
        ("2020-12-31T00:00:00Z", "2021-12-31T23:59:59Z"),
        ("2022-01-01T00:00:00Z", "2022-12-31T23:59:59Z"),
        ("2023-01-01T00:00:00Z", "2023-12-31T23:59:59Z"),
    ]
    assert {s["ImportSource"]["S3"]["S3LocationUri"] for s in segments} == {
        "s3://legacy-trail-archive/AWSLogs/111122223333/CloudTrail/",
        "s3://org-trail-archive/AWSLogs/o-abc123/",
    }
    assert all(s["Destinations"] == [STORE_ARN] for s in segments)
    assert plan["Properties"]["PollIntervalSeconds"] == "300"
    assert plan["Properties"]["MaxRetries"] == "2"
    assert plan["Properties"]["StopOnDelete"] == "true"


def test_one_access_role_per_bucket_with_the_confused_deputy_conditions(
    synthesized: tuple[cdk.Stack, dict[str, Any]],
) -> None:
    _, template = synthesized
    roles = [
        r
        for r in resources(Template.from_json(template), "AWS::IAM::Role").values()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "cloudtrail.amazonaws.com"}
    ]
    assert len(roles) == 2
    for role in roles:
        condition = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
        assert condition == {
            "StringEquals": {
                "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                "aws:SourceArn": STORE_ARN,
            }
        }


def test_the_state_machine_is_standard_logged_and_untraced_by_default(
    synthesized: tuple[cdk.Stack, dict[str, Any]],
) -> None:
    _, template = synthesized
    machine = only(Template.from_json(template), "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props.get("TracingConfiguration", {"Enabled": False}) == {"Enabled": False}


def policy_of(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    (policy,) = [
        r
        for logical_id, r in resources(Template.from_json(template), "AWS::IAM::Policy").items()
        if r["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
        and "DefaultPolicy" in logical_id
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_the_state_machine_may_pass_only_the_access_roles_and_only_to_cloudtrail(
    synthesized: tuple[cdk.Stack, dict[str, Any]],
) -> None:
    _, template = synthesized
    statements = policy_of(template, "PlanStateMachineRole")
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}
    }
    assert len(pass_role["Resource"]) == 2
    assert all(r["Fn::GetAtt"][0].startswith("PlanAccessRole") for r in pass_role["Resource"])
    (anywhere,) = [s for s in statements if s["Resource"] == "*"]
    cloudtrail_actions = [a for a in anywhere["Action"] if a.startswith("cloudtrail:")]
    assert cloudtrail_actions == [
        "cloudtrail:GetImport",
        "cloudtrail:ListImportFailures",
        "cloudtrail:ListImports",  # the look-up after an ambiguous StartImport error
        "cloudtrail:StartImport",
    ]
    (events,) = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert events["Resource"]["Fn::Join"][1][-1] == ":event-bus/default"


def test_the_handler_starts_and_stops_only_this_plans_executions(
    synthesized: tuple[cdk.Stack, dict[str, Any]],
) -> None:
    _, template = synthesized
    statements = {
        json.dumps(s["Action"]): s["Resource"] for s in policy_of(template, "PlanHandlerRole")
    }
    machine = statements['["states:ListExecutions", "states:StartExecution"]']
    assert machine["Ref"].startswith("PlanStateMachine")
    executions = statements['["states:DescribeExecution", "states:StopExecution"]']
    parts = executions["Fn::Join"][1]
    assert parts[-2]["Fn::GetAtt"][0].startswith("PlanStateMachine")
    assert parts[-2]["Fn::GetAtt"][1] == "Name"
    assert parts[-1] == ":*"
    reads_and_stops = '["cloudtrail:GetImport", "cloudtrail:ListImports", "cloudtrail:StopImport"]'
    assert statements[reads_and_stops] == "*"
    assert "cloudtrail:StartImport" not in json.dumps(list(statements))


def test_the_plan_is_clean_under_cdk_nag_and_every_acknowledgment_says_why() -> None:
    app, stack, _ = plan_stack(with_topic=True)
    report = AwsSolutionsChecks(app).validate_scope(stack)
    assert [v.rule_name for v in report.violations] == []
    acknowledged = [a for a in acknowledgments(stack) if "Plan" in str(a)]
    assert acknowledged
    assert all(len(a["reason"]) > 40 for a in acknowledgments(stack))


def test_start_import_retries_while_the_account_is_busy_for_three_days() -> None:
    _, stack, _ = plan_stack()
    states = inner_states(definition(dict(Template.from_stack(stack).to_json())))
    for name in ("StartImport", "RetryImport"):
        throttled, busy = states[name]["Retry"]
        # CloudTrail's control plane allows about one StartImport a second, shared.
        assert throttled["ErrorEquals"] == ["CloudTrail.ThrottlingException"]
        assert (throttled["IntervalSeconds"], throttled["MaxAttempts"]) == (5, 10)
        assert busy["ErrorEquals"] == ["CloudTrail.AccountHasOngoingImportException"]
        assert busy["IntervalSeconds"] == 60
        assert busy["MaxDelaySeconds"] == 3600
        waited = sum(min(60 * 2**n, 3600) for n in range(busy["MaxAttempts"]))
        assert 3 * 86400 <= waited < 3 * 86400 + 3600
    assert states["StartImport"]["Parameters"] == {
        "Destinations.$": "$.Segment.Request.Destinations",
        "ImportSource.$": "$.Segment.Request.ImportSource",
        "StartEventTime.$": "$.Segment.Request.StartEventTime",
        "EndEventTime.$": "$.Segment.Request.EndEventTime",
    }
    assert states["RetryImport"]["Parameters"] == {"ImportId.$": "$.Import.ImportId"}


def test_each_segment_polls_with_the_inputs_interval_and_retries_failed_imports_by_id() -> None:
    _, stack, _ = plan_stack()
    asl = definition(dict(Template.from_stack(stack).to_json()))
    each = asl["States"]["EachSegment"]
    assert each["Type"] == "Map"
    assert each["MaxConcurrency"] == 1
    states = inner_states(asl)
    assert states["WaitForImport"]["SecondsPath"] == "$.Settings.PollIntervalSeconds"
    assert states["GetImport"]["Resource"] == "arn:aws:states:::aws-sdk:cloudtrail:getImport"
    status_next = {c["StringEquals"]: c["Next"] for c in states["ImportStatus"]["Choices"]}
    assert status_next == {
        "COMPLETED": "CompletedResult",
        "FAILED": "RetryLeft",
        "STOPPED": "StoppedResult",
    }
    # Still running: the poll is counted (the chain hands over after enough of them), then Wait.
    assert states["ImportStatus"]["Default"] == "CountPoll"
    assert states["PollsLeft"]["Default"] == "WaitForImport"
    (retry_left,) = states["RetryLeft"]["Choices"]
    assert retry_left == {
        "Variable": "$.Retries",
        "NumericLessThanPath": "$.Settings.MaxRetries",
        "Next": "RetryImport",
    }
    assert states["RetryLeft"]["Default"] == "ListImportFailures"
    kinds = [c["Next"] for c in states["SegmentKind"]["Choices"]]
    assert kinds == [
        "RanInEarlierLink",
        "AtStartHandOver",
        "FollowHandedOverImport",
        "SkipCompletedSegment",
        "ResumeEarlierImport",
        "FollowRunningImport",
    ]
    assert states["SegmentKind"]["Default"] == "StartImport"


def test_a_failed_segment_stops_the_plan_unless_continue_on_failure() -> None:
    _, stack, _ = plan_stack()
    states = inner_states(definition(dict(Template.from_stack(stack).to_json())))
    assert states["StopPlan"] == {
        "Type": "Fail",
        "Error": end_states.SEGMENT_FAILED_ERROR,
        "CausePath": "States.JsonToString($.Result)",
    }
    _, stack, _ = plan_stack(continue_on_failure=True)
    states = inner_states(definition(dict(Template.from_stack(stack).to_json())))
    assert "StopPlan" not in states
    # Going on past a failure hands over to the next link, which knows the failure.
    assert states["SegmentFailedEvent"]["Next"] == "AfterFailureHandOver"


def test_every_segment_and_the_plan_end_as_events_and_on_the_topic() -> None:
    _, stack, _ = plan_stack(with_topic=True)
    asl = definition(dict(Template.from_stack(stack).to_json()))
    everything = {**asl["States"], **inner_states(asl)}
    events = {
        name: s["Parameters"]["Entries"][0]["DetailType"]
        for name, s in everything.items()
        if s.get("Resource") == "arn:aws:states:::events:putEvents"
    }
    assert events == {
        "SegmentCompletedEvent": notifications.SEGMENT_DETAIL_TYPE,
        "SegmentFailedEvent": notifications.SEGMENT_DETAIL_TYPE,
        "PlanSucceededEvent": notifications.PLAN_DETAIL_TYPE,
        "PlanFinishedWithFailuresEvent": notifications.PLAN_DETAIL_TYPE,
        "PlanFailedEvent": notifications.PLAN_DETAIL_TYPE,
    }
    for name in events:
        assert everything[name]["Next"] == name.replace("Event", "Notification")
        assert everything[name.replace("Event", "Notification")]["Resource"] == (
            "arn:aws:states:::sns:publish"
        )


def test_snapshot_of_a_plan(snapshot: SnapshotAssertion) -> None:
    _, stack, _ = plan_stack(with_topic=True)
    template = dict(Template.from_stack(stack).to_json())
    # The handler asset also ships import_handler, which other work changes often; what the
    # asset holds is checked from the installed wheel (test_plan_installed), not by its hash.
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"]["Code"]["S3Key"] = "<plan handler asset>.zip"
    assert template == snapshot.use_extension(JSONSnapshotExtension)


def test_cfn_lint_accepts_the_plans_template(tmp_path: Path) -> None:
    _, stack, _ = plan_stack(with_topic=True, continue_on_failure=True)
    path = tmp_path / "plan.template.json"
    path.write_text(json.dumps(Template.from_stack(stack).to_json()))
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_windows_without_bounds_get_start_import_states_that_leave_them_out() -> None:
    stack = cdk.Stack(new_app(), "Shapes")
    archive = s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")
    CloudTrailLakeImportPlan(
        stack,
        "Plan",
        event_data_store=STORE_ARN,
        imports=[ImportSpec(archive, "a/"), ImportSpec(archive, "b/", year(2020), year(2021))],
    )
    states = inner_states(definition(dict(Template.from_stack(stack).to_json())))
    assert states["SegmentKind"]["Default"] == "WindowShape"
    whole = states["StartImportWholeSource"]["Parameters"]
    assert sorted(whole) == ["Destinations.$", "ImportSource.$"]
    assert "StartEventTime.$" in states["StartImport"]["Parameters"]
    shapes = {c["Next"]: c["And"] for c in states["WindowShape"]["Choices"]}
    assert shapes["StartImportWholeSource"] == [
        {"Variable": "$.Segment.Request.StartEventTime", "IsPresent": False},
        {"Variable": "$.Segment.Request.EndEventTime", "IsPresent": False},
    ]
    assert "StartImportFromStart" not in states


def test_the_state_machine_logs_to_a_vended_log_group_unique_per_plan() -> None:
    """AWS asks for /aws/vendedlogs/states/...: other names add to the account's
    5,120-character CloudWatch Logs resource policy until log delivery can no longer be set up."""
    names = []
    for stack_name, plan_id in (("PlanStack", "Plan"), ("PlanStack", "Other"), ("Two", "Plan")):
        app = new_app()
        stack = cdk.Stack(app, stack_name)
        bucket = s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")
        CloudTrailLakeImportPlan(
            stack, plan_id, event_data_store=STORE_ARN, imports=[ImportSpec(bucket)]
        )
        template = Template.from_stack(stack)
        machine = only(template, "AWS::StepFunctions::StateMachine")
        destination = machine["Properties"]["LoggingConfiguration"]["Destinations"][0]
        group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        name = resources(template, "AWS::Logs::LogGroup")[group_id]["Properties"]["LogGroupName"]
        assert name.startswith(f"/aws/vendedlogs/states/{stack_name}-")
        names.append(name)
    assert len(set(names)) == 3


def test_a_store_in_another_region_than_the_stack_is_refused_naming_both_regions() -> None:
    app = new_app()
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    stack = cdk.Stack(app, "PlanStack", env=env)
    bucket = s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")
    elsewhere = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1"
    with pytest.raises(
        CloudTrailLakeImportPropsError,
        match=r"event_data_store must be in the stack's region eu-west-1; .* is in us-east-1",
    ):
        CloudTrailLakeImportPlan(
            stack, "Plan", event_data_store=elsewhere, imports=[ImportSpec(bucket)]
        )
    # Same region, or a stack whose region is only known at deploy: accepted.
    same = elsewhere.replace("us-east-1", "eu-west-1")
    CloudTrailLakeImportPlan(stack, "Same", event_data_store=same, imports=[ImportSpec(bucket)])
    agnostic = cdk.Stack(new_app(), "Agnostic")
    CloudTrailLakeImportPlan(
        agnostic,
        "Plan",
        event_data_store=elsewhere,
        imports=[ImportSpec(s3.Bucket.from_bucket_name(agnostic, "Archive", "trail-archive"))],
    )


def test_the_state_machine_may_start_only_itself_for_the_next_link_of_its_chain(
    synthesized: tuple[cdk.Stack, dict[str, Any]],
) -> None:
    _, template = synthesized
    found = Template.from_json(template)
    (machine_id,) = resources(found, "AWS::StepFunctions::StateMachine")
    starts = {
        logical_id: statement
        for logical_id, policy in resources(found, "AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "states:StartExecution" in statement["Action"]
        and policy["Properties"]["Roles"][0]["Ref"].startswith("PlanStateMachineRole")
    }
    ((policy_id, statement),) = starts.items()
    assert statement["Action"] == "states:StartExecution"
    assert statement["Resource"] == {"Ref": machine_id}
    (plan_id,) = resources(found, "Custom::CloudTrailLakeImportPlan")
    assert policy_id in template["Resources"][plan_id]["DependsOn"]
    asl = definition(template)
    assert asl["States"]["StartNextLink"]["Resource"] == "arn:aws:states:::states:startExecution"


@pytest.mark.parametrize("allow_overlap", [False, True])
def test_allow_overlap_reaches_the_handler_only_when_set(allow_overlap: bool) -> None:
    _, stack, _ = plan_stack(allow_overlap=allow_overlap)
    plan = only(Template.from_stack(stack), "Custom::CloudTrailLakeImportPlan")
    if allow_overlap:
        assert plan["Properties"]["AllowOverlap"] == "true"
    else:
        assert "AllowOverlap" not in plan["Properties"], "a default template keeps its properties"
