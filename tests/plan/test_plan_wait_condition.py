"""The plan's end: a CloudFormation WaitCondition signalled by the state machine's last state,
and an event for an execution that ends without reaching one (ABORTED, TIMED_OUT, Runtime)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from moto import mock_aws

from cloudtrail_lake_import import plan_finish
from cloudtrail_lake_import.plan_definition import (
    PLAN_DETAIL_TYPE,
    PLAN_STOPPED_ERROR,
    SEGMENTS_FAILED_ERROR,
)
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from tests.construct.conftest import new_app, only, resources
from tests.e2e.harness import REGION
from tests.e2e.world import environment
from tests.lake_emulator.trail_archive import TrailArchive
from tests.plan.conftest import definition, five_years_two_buckets, inner_states, plan_stack
from tests.plan.engine import FUNCTION_ARN, PlanEngine
from tests.plan.scenario import DAYS, NOT_GZIP, Plan

SIX_HOURS = cdk.Duration.hours(6)
SIGNALS = {"SignalSuccess", "SignalSegmentsFailed", "SignalStopped"}


@pytest.fixture(scope="module")
def waiting() -> dict[str, Any]:
    _, stack, _ = plan_stack(with_topic=True, wait_condition_timeout=SIX_HOURS)
    return dict(Template.from_stack(stack).to_json())


def test_the_wait_condition_waits_for_one_signal_after_the_plan_has_started(
    waiting: dict[str, Any],
) -> None:
    template = Template.from_json(waiting)
    (handle_id,) = resources(template, "AWS::CloudFormation::WaitConditionHandle")
    condition = only(template, "AWS::CloudFormation::WaitCondition")
    assert condition["Properties"] == {"Count": 1, "Handle": {"Ref": handle_id}, "Timeout": "21600"}
    (plan_id,) = resources(template, "Custom::CloudTrailLakeImportPlan")
    assert plan_id in condition["DependsOn"]
    finish = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "index.handler"
    ]
    (variables,) = [f["Properties"]["Environment"]["Variables"] for f in finish]
    assert variables["WAIT_CONDITION_HANDLE_URL"] == {"Ref": handle_id}


def test_only_the_final_states_invoke_the_signal_function_never_the_import_loop(
    waiting: dict[str, Any],
) -> None:
    asl = definition(waiting)
    invokes = {n for n, s in asl["States"].items() if "lambda:invoke" in s.get("Resource", "")}
    assert invokes == SIGNALS
    assert not [s for s in inner_states(asl).values() if "lambda" in s.get("Resource", "")]
    for name in SIGNALS:
        state = asl["States"][name]
        assert state["Catch"][0]["Next"] == state["Next"]
        assert state["Parameters"]["Payload"]["Status"] in {"SUCCESS", "FAILURE"}
    assert asl["States"]["SignalSuccess"]["Next"] == "Done"


def test_without_a_wait_condition_there_is_no_handle_and_no_signal() -> None:
    _, stack, _ = plan_stack()
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudFormation::WaitCondition", 0)
    template.resource_count_is("AWS::CloudFormation::WaitConditionHandle", 0)
    asl = definition(dict(template.to_json()))
    assert not SIGNALS & set(asl["States"])


@pytest.mark.parametrize("timeout", [cdk.Duration.millis(500), cdk.Duration.hours(13)])
def test_a_wait_condition_timeout_beyond_one_second_to_12_hours_is_refused(
    timeout: cdk.Duration,
) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match="wait_condition_timeout"):
        plan_stack(wait_condition_timeout=timeout)


def test_a_plan_with_a_wait_condition_and_a_kms_topic_is_clean_under_cdk_nag() -> None:
    app = new_app()
    stack = cdk.Stack(app, "PlanStack")
    key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "Topic", enforce_ssl=True, master_key=key)
    five_years_two_buckets(stack, notify=topic, wait_condition_timeout=SIX_HOURS)
    report = AwsSolutionsChecks(app).validate_scope(stack)
    assert [v.rule_name for v in report.violations] == []
    policies = resources(Template.from_stack(stack), "AWS::IAM::Policy")
    granted = [
        st
        for p in policies.values()
        for st in p["Properties"]["PolicyDocument"]["Statement"]
        if "kms:GenerateDataKey" in st["Action"]
    ]
    assert granted
    assert all("kms:Decrypt" in st["Action"] for st in granted)


def test_an_execution_that_ends_without_its_own_event_is_reported_by_a_rule(
    waiting: dict[str, Any],
) -> None:
    template = Template.from_json(waiting)
    (machine_id,) = resources(template, "AWS::StepFunctions::StateMachine")
    rule = only(template, "AWS::Events::Rule")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": machine_id}]
    assert pattern["detail"]["$or"] == [
        {"status": ["ABORTED", "TIMED_OUT"]},
        {
            "status": ["FAILED"],
            "error": [{"anything-but": [SEGMENTS_FAILED_ERROR, PLAN_STOPPED_ERROR]}],
        },
    ]
    targets = rule["Properties"]["Targets"]
    assert len(targets) == 2
    (to_topic,) = [t for t in targets if "InputTransformer" in t]
    transformer = to_topic["InputTransformer"]
    assert transformer["InputPathsMap"]["detail-status"] == "$.detail.status"
    assert '"Status":<detail-status>' in transformer["InputTemplate"]


@mock_aws
def test_the_finish_function_puts_the_plan_finished_event_for_an_aborted_execution() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="plan-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = boto3.client("events", region_name=REGION)
    bus.put_rule(Name="plan", EventPattern=json.dumps({"source": ["cloudtrail-lake-import"]}))
    bus.put_targets(Rule="plan", Targets=[{"Id": "q", "Arn": queue_arn}])
    execution_arn = "arn:aws:states:us-east-1:123456789012:execution:m:plan-1"
    status_change: dict[str, Any] = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "executionArn": execution_arn,
            "name": "plan-1",
            "status": "ABORTED",
            "error": None,
            "cause": None,
        },
    }
    with environment({"PLAN_NAME": "PlanStack/Plan", "AWS_DEFAULT_REGION": REGION}):
        assert plan_finish.handler(status_change, None) is None  # no WaitCondition to signal

    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"]) == ("cloudtrail-lake-import", PLAN_DETAIL_TYPE)
    assert event["detail"] == {
        "Status": "ABORTED",
        "Plan": "PlanStack/Plan",
        "ExecutionArn": execution_arn,
        "Error": None,
        "Cause": None,
    }


# ------------------------------------------------------------------ the signal, end to end


@pytest.fixture(scope="module")
def waiting_templates() -> dict[str, dict[str, Any]]:
    found = {}
    for name, props in (("stop", {}), ("go_on", {"continue_on_failure": True})):
        _, stack, _ = plan_stack(with_topic=True, wait_condition_timeout=SIX_HOURS, **props)
        found[name] = dict(Template.from_stack(stack).to_json())
    return found


def signalled(
    engine: PlanEngine, template: dict[str, Any], archive: TrailArchive, broken_day: int | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the plan with the finish function in process, its handle a presigned S3 PUT URL
    (TLS, as CloudFormation's); the execution and the signal body that reached S3."""
    s3 = engine.s3.client()
    s3.create_bucket(Bucket="cfn-wait-conditions")
    # A key of its own: moto's state outlives the test, an earlier signal must not be read.
    key = f"arn:aws:cloudformation:us-east-1:123456789012:stack/PlanStack/{uuid.uuid4()}/Wait"
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "cfn-wait-conditions", "Key": key}, ExpiresIn=3600
    )
    engine.router.functions[FUNCTION_ARN] = lambda payload: plan_finish.handler(payload, None)
    plan = Plan(engine, template, archive)
    if broken_day is not None:
        broken = plan.day_keys(DAYS[broken_day])[0]
        plan.s3.put_object(Bucket=plan.bucket, Key=broken, Body=NOT_GZIP)
    variables = {
        "WAIT_CONDITION_HANDLE_URL": url,
        "PLAN_NAME": "PlanStack/Plan",
        "SSL_CERT_FILE": str(engine.s3.ca_bundle),
    }
    with environment(variables):
        execution = engine.wait_for_execution(plan.start(plan.execution_input(max_retries=0)))
    body = s3.get_object(Bucket="cfn-wait-conditions", Key=key)["Body"].read()
    return execution, json.loads(body)


def test_a_plan_that_succeeds_signals_success_to_the_wait_condition(
    engine: PlanEngine, waiting_templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    execution, signal = signalled(engine, waiting_templates["stop"], archive, broken_day=None)

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert signal == {
        "Status": "SUCCESS",
        "Reason": "import plan PlanStack/Plan: SUCCESS",
        "UniqueId": "plan",
        "Data": execution["executionArn"],
    }
    assert [op for op, _ in engine.router.calls if op == "Invoke"] == ["Invoke"]


@pytest.mark.parametrize("kind", ["stop", "go_on"])
def test_a_plan_that_fails_signals_failure_to_the_wait_condition(
    engine: PlanEngine,
    waiting_templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    kind: str,
) -> None:
    execution, signal = signalled(engine, waiting_templates[kind], archive, broken_day=1)

    assert execution["status"] == "FAILED"
    assert signal["Status"] == "FAILURE"
    assert signal["UniqueId"] == "plan"
    assert signal["Data"] == execution["executionArn"]


def test_an_execution_stopped_by_its_own_deployment_is_reported_but_fails_no_wait_condition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signals: list[tuple[str, ...]] = []
    monkeypatch.setattr(plan_finish, "_signal", lambda *args: signals.append(args))
    put: list[dict[str, Any]] = []

    def put_events(**entries: Any) -> dict[str, Any]:
        put.append(entries)
        return {"FailedEntryCount": 0, "Entries": []}

    monkeypatch.setattr(
        boto3,
        "client",
        lambda service: type("Events", (), {"put_events": staticmethod(put_events)})(),
    )
    detail = {"executionArn": "arn:x", "name": "plan-1", "status": "ABORTED", "cause": "update"}
    with environment({"PLAN_NAME": "PlanStack/Plan", "WAIT_CONDITION_HANDLE_URL": "https://x"}):
        plan_finish.handler(
            {
                "source": "aws.states",
                "detail": {**detail, "error": plan_finish.STOPPED_BY_DEPLOYMENT},
            },
            None,
        )
        assert signals == []
        plan_finish.handler({"source": "aws.states", "detail": {**detail, "error": "Ops"}}, None)
    assert [s[0] for s in signals] == ["FAILURE"]
    assert len(put) == 2
    assert plan_finish.STOPPED_BY_DEPLOYMENT == PLAN_STOPPED_ERROR


def test_the_wait_condition_is_signalled_even_when_the_event_cannot_be_put(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pipeline blocked on the WaitCondition must not wait out its hours because EventBridge
    refused; the refusal still fails the invocation, so Lambda retries the report."""
    signals: list[tuple[str, ...]] = []
    monkeypatch.setattr(plan_finish, "_signal", lambda *args: signals.append(args))

    def refused(**_kwargs: Any) -> dict[str, Any]:
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException"}]}

    monkeypatch.setattr(
        boto3, "client", lambda service: type("Events", (), {"put_events": staticmethod(refused)})()
    )
    detail = {"executionArn": "arn:x", "name": "plan-1", "status": "TIMED_OUT"}
    env = {"PLAN_NAME": "PlanStack/Plan", "WAIT_CONDITION_HANDLE_URL": "https://x"}
    with environment(env), pytest.raises(RuntimeError, match="Plan Finished event not put"):
        plan_finish.handler({"source": "aws.states", "detail": detail}, None)
    assert [s[0] for s in signals] == ["FAILURE"]
