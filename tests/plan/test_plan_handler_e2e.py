"""The plan's custom resource handler (``plan_index.handler``) against the offline engine:
Create, a repeated Create, Update after a failed segment, Delete in the middle of a plan."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.backend import execution as moto_execution

import plan_index
from plan_handler import waiting
from tests.e2e.harness import ACCOUNT, REGION
from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET
from tests.e2e.world import environment
from tests.lake_emulator.local_http import HttpRequest, HttpResponse, LocalHttpServer
from tests.lake_emulator.trail_archive import TrailArchive
from tests.plan.engine import PlanEngine, plan_engine
from tests.plan.scenario import DAYS, NOT_GZIP, Plan

STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/PlanStack/{uuid.uuid4()}"


@dataclass
class ResponseBin:
    """Stands in for CloudFormation's presigned response URL: keeps every answer."""

    answers: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.answers.append(json.loads(request.body))
        return HttpResponse(200)


class LambdaContext:
    def get_remaining_time_in_millis(self) -> int:
        return 240_000


def _stop_answers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's StopExecution fails with HTTP 500 when it comes before the execution's thread
    has parsed the definition and built its environment (an execution a moment old on a busy
    machine), and answers with the stop date the thread sets only when it next looks. Here it
    waits for the environment (a condition, bounded) and dates the stop itself, as Step
    Functions answers."""
    original = moto_execution.Execution.stop

    def stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        worker = self.exec_worker
        end = time.monotonic() + 60.0
        while worker is not None and worker.env is None and time.monotonic() < end:
            time.sleep(0.01)
        original(self, stop_date=stop_date, error=error, cause=cause)
        if self.stop_date is None:
            self.stop_date = stop_date

    monkeypatch.setattr(moto_execution.Execution, "stop", stop)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlanEngine]:
    """The engine, in which imports advance only while ``router.step_seconds`` is above 0:
    a test that needs an import still running when the handler looks sets it to 0 (no test
    races moto's interpreter threads)."""
    _stop_answers_at_once(monkeypatch)
    with plan_engine(tmp_path) as running:
        env = {
            "AWS_ENDPOINT_URL": running.url,
            "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        }
        unset = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL_CLOUDTRAIL")
        with environment(env, unset=unset):
            yield running


@pytest.fixture
def responses() -> Iterator[tuple[ResponseBin, str]]:
    answers = ResponseBin()
    with LocalHttpServer(answers) as server:
        yield answers, server.url


class Resource:
    """The plan's custom resource as CloudFormation drives it."""

    def __init__(self, plan: Plan, responses: tuple[ResponseBin, str]) -> None:
        self.plan = plan
        self.answers, self.url = responses

    def properties(self, **extra: str) -> dict[str, Any]:
        return {
            "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:plan-handler",
            "StateMachineArn": self.plan.machine,
            "Segments": [self.plan.request(day) for day in DAYS],
            "PollIntervalSeconds": "1",
            "MaxRetries": "0",
            "StopOnDelete": "true",
            **extra,
        }

    def send(self, request_type: str, **fields: Any) -> dict[str, Any]:
        event = {
            "RequestType": request_type,
            "ResponseURL": f"{self.url}/response?X-Amz-Signature=secret",
            "StackId": STACK_ID,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": "PlanDAF4E53A",
            "ResourceType": "Custom::CloudTrailLakeImportPlan",
            **fields,
        }
        before = len(self.answers.answers)
        plan_index.handler(event, LambdaContext())
        assert len(self.answers.answers) == before + 1, "exactly one answer per request"
        return self.answers.answers[-1]

    def executions(self) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = self.plan.states.list_executions(
            stateMachineArn=self.plan.machine
        )["executions"]
        return listed


def test_create_starts_the_plan_once_and_a_repeated_create_adopts_it(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    resource = Resource(Plan(engine, templates["stop"], archive), responses)
    first = resource.send("Create", ResourceProperties=resource.properties())
    again = resource.send("Create", ResourceProperties=resource.properties())

    assert first["Status"] == "SUCCESS", first.get("Reason")
    assert again["Status"] == "SUCCESS", again.get("Reason")
    assert first["PhysicalResourceId"] == again["PhysicalResourceId"]
    assert first["Data"]["ExecutionArn"] == first["PhysicalResourceId"]
    assert first["Data"]["SegmentCount"] == 3
    assert first["Data"]["SegmentsWithoutSourceFiles"] == 0
    assert [e["executionArn"] for e in resource.executions()] == [first["PhysicalResourceId"]]
    done = engine.wait_for_execution(first["PhysicalResourceId"])
    assert done["status"] == "SUCCEEDED"


def test_redeploying_after_a_failed_segment_resumes_it_and_does_not_copy_completed_days_again(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    broken = plan.day_keys(DAYS[1])[0]
    plan.s3.put_object(Bucket=plan.bucket, Key=broken, Body=NOT_GZIP)
    created = resource.send("Create", ResourceProperties=resource.properties())
    first = engine.wait_for_execution(created["PhysicalResourceId"])
    assert first["status"] == "FAILED"
    failed_import = json.loads(json.loads(first["cause"])["Cause"])["ImportId"]

    plan.s3.put_object(Bucket=plan.bucket, Key=broken, Body=archive.objects()[broken])
    updated = resource.send(
        "Update",
        PhysicalResourceId=created["PhysicalResourceId"],
        ResourceProperties=resource.properties(RetryToken="2"),
        OldResourceProperties=resource.properties(),
    )

    assert updated["Status"] == "SUCCESS", updated.get("Reason")
    assert updated["PhysicalResourceId"] != created["PhysicalResourceId"]
    second = engine.wait_for_execution(updated["PhysicalResourceId"])
    assert second["status"] == "SUCCEEDED", second.get("cause")
    segments = json.loads(second["output"])["Segments"]
    assert [(s["Skipped"], s["ImportStatus"]) for s in segments] == [
        (True, "COMPLETED"),
        (False, "COMPLETED"),
        (False, "COMPLETED"),
    ]
    assert segments[1]["ImportId"] == failed_import
    on_store = [i for i in engine.lake.imports.values() if i.store.arn == plan.store.arn]
    assert len(on_store) == 3


def test_delete_in_the_middle_stops_the_execution_and_its_running_import(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    # Imports hold still, so that one still runs when the Delete looks.
    engine.router.step_seconds = 0.0
    created = resource.send("Create", ResourceProperties=resource.properties())
    engine.wait_until(
        lambda: any(
            i.status in ("INITIALIZING", "IN_PROGRESS") and i.store.arn == plan.store.arn
            for i in list(engine.lake.imports.values())
        )
    )

    deleted = resource.send(
        "Delete",
        PhysicalResourceId=created["PhysicalResourceId"],
        ResourceProperties=resource.properties(),
    )

    assert deleted["Status"] == "SUCCESS", deleted.get("Reason")
    execution = engine.wait_for_execution(created["PhysicalResourceId"])
    assert execution["status"] != "SUCCEEDED"
    statuses = sorted(
        i.status for i in engine.lake.imports.values() if i.store.arn == plan.store.arn
    )
    assert "STOPPED" in statuses
    assert not {"INITIALIZING", "IN_PROGRESS"} & set(statuses)


def test_a_bad_property_fails_the_create_naming_it_and_delete_then_succeeds(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    resource = Resource(Plan(engine, templates["stop"], archive), responses)
    segments = [resource.plan.request(DAYS[0]) | {"EndEventTime": "soon"}]
    failed = resource.send(
        "Create", ResourceProperties=resource.properties() | {"Segments": segments}
    )
    assert failed["Status"] == "FAILED"
    assert failed["Reason"].startswith("Segments[0].EndEventTime must be a UTC time")
    assert "secret" not in json.dumps(failed)
    deleted = resource.send(
        "Delete",
        PhysicalResourceId=failed["PhysicalResourceId"],
        ResourceProperties=resource.properties() | {"Segments": segments},
    )
    assert deleted["Status"] == "SUCCESS"
    assert resource.executions() == []


def test_an_update_adopts_the_running_import_and_the_old_executions_cleanup_leaves_it_running(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    # Imports hold still: the first one still runs when the Update and the clean-up come.
    engine.router.step_seconds = 0.0
    created = resource.send("Create", ResourceProperties=resource.properties())

    def running() -> list[str]:
        return [
            i.import_id
            for i in list(engine.lake.imports.values())
            if i.status in ("INITIALIZING", "IN_PROGRESS") and i.store.arn == plan.store.arn
        ]

    engine.wait_until(lambda: bool(running()))
    (first_import,) = running()
    updated = resource.send(
        "Update",
        PhysicalResourceId=created["PhysicalResourceId"],
        ResourceProperties=resource.properties(RetryToken="2"),
        OldResourceProperties=resource.properties(),
    )
    cleanup = resource.send(
        "Delete",
        PhysicalResourceId=created["PhysicalResourceId"],
        ResourceProperties=resource.properties(),
    )

    assert updated["Status"] == cleanup["Status"] == "SUCCESS"
    assert engine.lake.get(first_import).status != "STOPPED"
    engine.router.step_seconds = 4.0
    second = engine.wait_for_execution(updated["PhysicalResourceId"])
    assert second["status"] == "SUCCEEDED", second.get("cause")
    segments = json.loads(second["output"])["Segments"]
    assert segments[0]["ImportId"] == first_import
    old = plan.states.describe_execution(executionArn=created["PhysicalResourceId"])
    assert old["status"] != "RUNNING"


def test_create_reports_segments_whose_prefix_holds_no_file_yet(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    segments = [plan.request(day) for day in DAYS]
    segments[2]["ImportSource"]["S3"]["S3LocationUri"] = f"s3://{plan.bucket}/AWSLogs/empty/"
    created = resource.send(
        "Create", ResourceProperties=resource.properties() | {"Segments": segments}
    )
    assert created["Status"] == "SUCCESS", created.get("Reason")
    assert created["Data"]["SegmentsWithoutSourceFiles"] == 1


def running_imports(engine: PlanEngine, plan: Plan) -> list[str]:
    return [
        i.import_id
        for i in list(engine.lake.imports.values())
        if i.status in ("INITIALIZING", "IN_PROGRESS") and i.store.arn == plan.store.arn
    ]


def test_an_update_of_only_the_service_token_and_stop_on_delete_keeps_the_running_execution(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    engine.router.step_seconds = 0.0
    created = resource.send("Create", ResourceProperties=resource.properties())
    engine.wait_until(lambda: bool(running_imports(engine, plan)))

    new_token = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:plan-handler-v2"
    updated = resource.send(
        "Update",
        PhysicalResourceId=created["PhysicalResourceId"],
        ResourceProperties=resource.properties(ServiceToken=new_token, StopOnDelete="false"),
        OldResourceProperties=resource.properties(),
    )

    assert updated["Status"] == "SUCCESS", updated.get("Reason")
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert [e["status"] for e in resource.executions()] == ["RUNNING"]
    engine.router.step_seconds = 4.0
    done = engine.wait_for_execution(created["PhysicalResourceId"])
    assert done["status"] == "SUCCEEDED", done.get("cause")


def test_an_update_of_only_stop_on_delete_keeps_a_failed_plan_failed_until_a_new_retry_token(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    plan.s3.put_object(Bucket=plan.bucket, Key=plan.day_keys(DAYS[1])[0], Body=NOT_GZIP)
    created = resource.send("Create", ResourceProperties=resource.properties())
    failed = engine.wait_for_execution(created["PhysicalResourceId"])
    assert failed["status"] == "FAILED"

    updated = resource.send(
        "Update",
        PhysicalResourceId=created["PhysicalResourceId"],
        ResourceProperties=resource.properties(StopOnDelete="false"),
        OldResourceProperties=resource.properties(),
    )

    assert updated["Status"] == "SUCCESS", updated.get("Reason")
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert [e["status"] for e in resource.executions()] == ["FAILED"]


def test_an_update_stops_a_leaving_segment_s_import_only_if_the_old_plan_said_stop_on_delete(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    engine.router.step_seconds = 0.0
    keep_running = resource.properties(StopOnDelete="false")
    created = resource.send("Create", ResourceProperties=keep_running)
    engine.wait_until(lambda: bool(running_imports(engine, plan)))
    (first_import,) = running_imports(engine, plan)

    updated = resource.send(
        "Update",
        PhysicalResourceId=created["PhysicalResourceId"],
        ResourceProperties=resource.properties(StopOnDelete="true")
        | {"Segments": [plan.request(day) for day in DAYS[1:]]},
        OldResourceProperties=keep_running,
    )

    assert updated["Status"] == "SUCCESS", updated.get("Reason")
    assert engine.lake.get(first_import).status != "STOPPED"
    plan.states.stop_execution(executionArn=updated["PhysicalResourceId"])


def test_with_wait_for_completion_the_create_answers_once_the_plan_succeeded(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    resource = Resource(Plan(engine, templates["stop"], archive), responses)
    created = resource.send(
        "Create", ResourceProperties=resource.properties(WaitForCompletion="true")
    )
    assert created["Status"] == "SUCCESS", created.get("Reason")
    assert created["Data"]["SegmentCount"] == 3
    described = resource.plan.states.describe_execution(executionArn=created["PhysicalResourceId"])
    assert described["status"] == "SUCCEEDED"


def test_with_wait_for_completion_a_failed_plan_fails_the_create_with_its_cause(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    plan.s3.put_object(Bucket=plan.bucket, Key=plan.day_keys(DAYS[1])[0], Body=NOT_GZIP)
    created = resource.send(
        "Create", ResourceProperties=resource.properties(WaitForCompletion="true")
    )
    assert created["Status"] == "FAILED"
    arn = created["PhysicalResourceId"]
    assert arn.startswith("arn:aws:states:")
    assert created["Reason"].startswith(f"PlanExecutionFailed: execution {arn}: ")
    assert "CloudTrailLakeImportPlan.Stopped" in created["Reason"]


class ShortLambdaContext(LambdaContext):
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:plan-handler"

    def get_remaining_time_in_millis(self) -> int:
        return 40_000


def test_a_wait_that_outlasts_the_invocation_hands_over_and_the_continuation_answers(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    resource = Resource(Plan(engine, templates["stop"], archive), responses)
    handed: list[bytes] = []
    monkeypatch.setattr(
        waiting,
        "hand_over",
        lambda _c, _b, _ctx, event: lambda state: handed.append(waiting.payload(event, state)),
    )
    event = {
        "RequestType": "Create",
        "ResponseURL": f"{resource.url}/response?X-Amz-Signature=secret",
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "PlanDAF4E53A",
        "ResourceType": "Custom::CloudTrailLakeImportPlan",
        "ResourceProperties": resource.properties(WaitForCompletion="true"),
    }
    plan_index.handler(event, ShortLambdaContext())
    assert resource.answers.answers == []
    (continuation,) = handed
    arn = json.loads(continuation)[waiting.KEY]["ExecutionArn"]
    engine.wait_for_execution(arn)

    plan_index.handler(json.loads(continuation), LambdaContext())

    (answer,) = resource.answers.answers
    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    assert answer["PhysicalResourceId"] == arn
    assert answer["Data"]["SegmentCount"] == 3


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_a_waiting_create_whose_poll_is_refused_names_the_execution_so_delete_stops_it(
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],
    archive: TrailArchive,
    responses: tuple[ResponseBin, str],
    monkeypatch: pytest.MonkeyPatch,
    code: str,
) -> None:

    from plan_handler import waiting

    def refused(*_args: Any, **_kwargs: Any) -> None:
        error = {"Error": {"Code": code, "Message": "not this time"}}
        raise ClientError(error, "DescribeExecution")  # type: ignore[arg-type]

    plan = Plan(engine, templates["stop"], archive)
    resource = Resource(plan, responses)
    engine.router.step_seconds = 0.0
    monkeypatch.setattr(waiting, "wait", refused)
    created = resource.send(
        "Create", ResourceProperties=resource.properties(WaitForCompletion="true")
    )

    assert created["Status"] == "FAILED"
    assert code in created["Reason"]
    arn = created["PhysicalResourceId"]
    assert arn.startswith("arn:aws:states:"), "the answer must name the execution it started"
    # The Delete comes once the execution's first import runs (not while it starts it).
    engine.wait_until(lambda: bool(running_imports(engine, plan)))
    deleted = resource.send(
        "Delete", PhysicalResourceId=arn, ResourceProperties=resource.properties()
    )
    assert deleted["Status"] == "SUCCESS", deleted.get("Reason")
    assert engine.wait_for_execution(arn)["status"] != "RUNNING"
    running = [
        i
        for i in engine.lake.imports.values()
        if i.store.arn == plan.store.arn and i.status in ("INITIALIZING", "IN_PROGRESS")
    ]
    assert running == []
