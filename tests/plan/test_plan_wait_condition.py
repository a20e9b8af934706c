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

from cloudtrail_lake_import.plan import finish as plan_finish
from cloudtrail_lake_import.plan.end_states import PLAN_STOPPED_ERROR, SEGMENTS_FAILED_ERROR
from cloudtrail_lake_import.plan.notifications import PLAN_DETAIL_TYPE
from cloudtrail_lake_import.validation import CloudTrailLakeImportPropsError
from tests.construct.conftest import new_app, only, resources
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


def test_every_ended_execution_reaches_the_finish_function_matched_on_status_only(
    waiting: dict[str, Any],
) -> None:
    """AWS's documented "Execution Status Change" detail has no error: a pattern on it would
    never match an engine failure. The function reads the error with DescribeExecution."""
    template = Template.from_json(waiting)
    (machine_id,) = resources(template, "AWS::StepFunctions::StateMachine")
    rule = only(template, "AWS::Events::Rule")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"] == {
        "stateMachineArn": [{"Ref": machine_id}],
        "status": ["ABORTED", "TIMED_OUT", "FAILED"],
    }
    (target,) = rule["Properties"]["Targets"]
    assert "InputTransformer" not in target
    # DescribeExecution on this machine's executions only, in a policy the rule waits for.
    reads = [
        (logical_id, st)
        for logical_id, p in resources(template, "AWS::IAM::Policy").items()
        for st in p["Properties"]["PolicyDocument"]["Statement"]
        if st["Action"] == "states:DescribeExecution" and logical_id.startswith("PlanFinish")
    ]
    ((policy_id, statement),) = reads
    assert policy_id in rule["DependsOn"]
    resource = json.dumps(statement["Resource"])
    assert ":execution:" in resource
    assert machine_id in resource


class FakeAws:
    """boto3.client for the finish function: DescribeExecution answers (or refuses), SNS and
    EventBridge record what they are given."""

    def __init__(self, described: dict[str, Any] | None) -> None:
        self.described = described
        self.published: list[dict[str, Any]] = []
        self.put: list[dict[str, Any]] = []

    def client(self, service: str) -> Any:
        fake = self

        class Client:
            def describe_execution(self, **request: str) -> dict[str, Any]:
                if fake.described is None:
                    raise RuntimeError("AccessDeniedException")
                return {"executionArn": request["executionArn"], **fake.described}

            def publish(self, **message: Any) -> dict[str, Any]:
                fake.published.append(message)
                return {"MessageId": "1"}

            def put_events(self, **request: list[dict[str, Any]]) -> dict[str, Any]:
                fake.put.extend(request["Entries"])
                return {"FailedEntryCount": 0, "Entries": []}

        return Client()


def status_change(status: str) -> dict[str, Any]:
    """The documented detail: no error, no cause."""
    detail = {"executionArn": "arn:x:execution:m:plan-1", "name": "plan-1", "status": status}
    return {"source": "aws.states", "detail": detail}


FINISH_ENV = {
    "PLAN_NAME": "PlanStack/Plan",
    "WAIT_CONDITION_HANDLE_URL": "https://x",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:plan",
}


@pytest.mark.parametrize(
    ("status", "described", "signals_expected", "error"),
    [
        # An engine failure (no Fail state of the machine reached): signalled and reported.
        ("FAILED", {"error": "States.Runtime", "cause": "boom"}, 1, "States.Runtime"),
        ("TIMED_OUT", {}, 1, None),
        ("ABORTED", {"error": "Ops.Stop", "cause": "by hand"}, 1, "Ops.Stop"),
        # The deployment stopped it (Update, Delete): reported, but no wait fails for it.
        ("ABORTED", {"error": plan_finish.STOPPED_BY_DEPLOYMENT, "cause": "update"}, 0, None),
        # DescribeExecution refused: still signalled and reported, saying why the error is missing.
        ("FAILED", None, 1, None),
    ],
)
def test_an_execution_ended_without_its_own_report_is_signalled_and_notified_with_its_error(
    monkeypatch: pytest.MonkeyPatch,
    status: str,
    described: dict[str, Any] | None,
    signals_expected: int,
    error: str | None,
) -> None:
    aws = FakeAws(described)
    monkeypatch.setattr(boto3, "client", aws.client)
    signals: list[tuple[str, ...]] = []
    monkeypatch.setattr(plan_finish, "_signal", lambda *args: signals.append(args))

    with environment(FINISH_ENV):
        plan_finish.handler(status_change(status), None)

    assert [s[0] for s in signals] == ["FAILURE"] * signals_expected
    (entry,) = aws.put
    assert (entry["Source"], entry["DetailType"]) == ("cloudtrail-lake-import", PLAN_DETAIL_TYPE)
    detail = json.loads(entry["Detail"])
    assert detail["Status"] == status
    assert detail["ExecutionArn"] == "arn:x:execution:m:plan-1"
    if described is None:
        assert detail["Cause"].startswith("DescribeExecution failed")
    elif signals_expected:
        assert detail["Error"] == error == described.get("error")
        assert detail["Cause"] == described.get("cause")
    (message,) = aws.published
    assert message["TopicArn"] == FINISH_ENV["TOPIC_ARN"]
    assert json.loads(message["Message"]) == detail


@pytest.mark.parametrize("error", [SEGMENTS_FAILED_ERROR, PLAN_STOPPED_ERROR])
def test_a_failure_the_machine_reported_itself_is_not_reported_again(
    monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    aws = FakeAws({"error": error, "cause": "{}"})
    monkeypatch.setattr(boto3, "client", aws.client)
    signals: list[tuple[str, ...]] = []
    monkeypatch.setattr(plan_finish, "_signal", lambda *args: signals.append(args))
    with environment(FINISH_ENV):
        assert plan_finish.handler(status_change("FAILED"), None) is None
    assert (signals, aws.put, aws.published) == ([], [], [])


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
        # The last link of the chain (with continue_on_failure a failed segment hands over).
        *_, execution = engine.wait_for_chain(plan.start(plan.execution_input(max_retries=0)))
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
    # The link that ended the plan signals, under its own name.
    assert signal["UniqueId"] == execution["name"]
    assert signal["Data"] == execution["executionArn"]


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


def wait_ids(**props: Any) -> set[str]:
    _, stack, _ = plan_stack(**props)
    template = Template.from_stack(stack)
    return set(resources(template, "AWS::CloudFormation::WaitCondition")) | set(
        resources(template, "AWS::CloudFormation::WaitConditionHandle")
    )


def test_a_changed_timeout_or_a_rerun_gets_a_new_wait_condition_and_handle() -> None:
    """CloudFormation cannot update a WaitCondition or its handle: a new wait needs new ids."""
    six = wait_ids(wait_condition_timeout=SIX_HOURS)
    assert len(six) == 2
    assert wait_ids(wait_condition_timeout=SIX_HOURS) == six  # stable for the same plan
    seven = wait_ids(wait_condition_timeout=cdk.Duration.hours(7))
    rerun = wait_ids(wait_condition_timeout=SIX_HOURS, retry_token="again")
    polled = wait_ids(wait_condition_timeout=SIX_HOURS, poll_interval=cdk.Duration.minutes(1))
    assert len(six | seven | rerun | polled) == 8
