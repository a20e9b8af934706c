"""The plan's custom resource never leaves an execution or an import running unseen and never
starts a plan twice, whatever AWS or CloudFormation does once: ``plan_index.handler`` driven as
CloudFormation drives it, in an emulated account on an emulated clock (``fake_aws``)."""

from __future__ import annotations

from typing import Any

import pytest

from plan_handler import plan_decisions, request_time
from tests.plan.fake_aws import (
    MACHINE,
    REGION,
    STACK_ID,
    Fault,
    Stack,
    World,
    account,
    plan,
    segment,
    stack,
    world,
)

__all__ = ["account", "stack", "world"]  # the fixtures


def execution_of(props: dict[str, Any], generation: int = 0) -> str:
    identity = plan_decisions.plan_identity(STACK_ID, "PlanDAF4E53A", props)
    return plan_decisions.execution_arn(
        MACHINE, plan_decisions.execution_name(identity, generation)
    )


def windows(world: World, status: str) -> list[str]:
    return sorted(i.window()[1][:10] for i in world.imports.values() if i.status == status)


def run_to_the_end(world: World) -> None:
    world.imports_stall = False
    for _ in range(50):
        world.advance()


OLD = plan(days=(10, 11, 12))
NEW_WAITING = plan(days=(13,), WaitForCompletion="true")


@pytest.mark.parametrize(
    "failure",
    ["DescribeExecution refused", "hand-over refused", "58 minutes"],
)
def test_a_failed_waiting_update_stops_what_it_started_and_the_rollback_resumes_the_old_plan(
    world: World, stack: Stack, failure: str
) -> None:
    created = stack.send("Create", OLD)
    new = execution_of(NEW_WAITING)
    world.imports_stall = True
    if failure == "DescribeExecution refused":
        world.arm(
            "states.DescribeExecution",
            Fault.REFUSED,
            when=lambda: world.executions.get(new) is not None,
        )
    elif failure == "hand-over refused":
        stack.timeout_seconds = 60
        world.arm("lambda.Invoke", Fault.REFUSED)
    else:
        stack.timeout_seconds = 300

    updated = stack.send(
        "Update",
        NEW_WAITING,
        PhysicalResourceId=created.physical_id,
        OldResourceProperties=OLD,
    )

    assert updated.status == "FAILED"
    assert new in updated.reason, "the answer names the execution the Update started"
    assert world.executions[new].status == "ABORTED"
    assert world.running_imports() == [], "the new plan's import of day 13 is stopped"
    rollback = stack.send(
        "Update", OLD, PhysicalResourceId=created.physical_id, OldResourceProperties=NEW_WAITING
    )
    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_id == execution_of(OLD, 1), "the old plan runs again"
    assert world.running_executions() == [rollback.physical_id]
    run_to_the_end(world)
    assert world.windows_imported_twice() == []
    assert windows(world, "COMPLETED") == ["2025-01-10", "2025-01-11", "2025-01-12"]
    assert stack.late_answers() == []


def test_the_rollback_of_an_update_that_failed_before_starting_resumes_the_plan_it_stopped(
    world: World, stack: Stack
) -> None:
    created = stack.send("Create", OLD)
    world.advance()  # day 10's import runs
    world.arm("states.StartExecution", Fault.REFUSED)
    new = plan(days=(10, 11, 12, 13))
    updated = stack.send(
        "Update", new, PhysicalResourceId=created.physical_id, OldResourceProperties=OLD
    )
    assert updated.status == "FAILED"
    assert world.executions[created.physical_id].status == "ABORTED"

    rollback = stack.send(
        "Update", OLD, PhysicalResourceId=created.physical_id, OldResourceProperties=new
    )

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_id == execution_of(OLD, 1)
    assert world.executions[rollback.physical_id].status == "RUNNING"
    run_to_the_end(world)
    assert world.executions[rollback.physical_id].status == "SUCCEEDED"
    assert world.windows_imported_twice() == []
    assert len(world.imports) == 3, "the running import of day 10 was adopted, not copied"


def test_a_create_whose_start_execution_answer_is_lost_names_the_execution_it_started(
    world: World, stack: Stack
) -> None:
    world.arm("states.StartExecution", Fault.ANSWER_LOST)
    created = stack.send("Create", OLD)
    assert created.status == "SUCCESS", created.reason
    assert created.physical_id == execution_of(OLD)
    assert world.running_executions() == [created.physical_id]


def test_a_lost_start_execution_answer_that_cannot_be_looked_up_fails_naming_the_execution(
    world: World, stack: Stack
) -> None:
    arn = execution_of(OLD)
    world.arm("states.StartExecution", Fault.ANSWER_LOST)
    world.arm("states.DescribeExecution", Fault.REFUSED, when=lambda: arn in world.executions)
    created = stack.send("Create", OLD)
    assert created.status == "FAILED"
    assert created.physical_id == arn

    world.advance()
    deleted = stack.send("Delete", OLD, PhysicalResourceId=created.physical_id)

    assert deleted.status == "SUCCESS", deleted.reason
    assert world.running_executions() == []
    assert world.running_imports() == []


def test_the_same_create_delivered_again_after_its_execution_failed_keeps_that_execution(
    world: World, stack: Stack
) -> None:
    event = stack.event("Create", OLD)
    first = stack.deliver(event)
    world.executions_fail = True
    world.advance()
    assert first is not None
    assert world.executions[first.physical_id].status == "FAILED"

    stack.deliver(event)

    assert list(world.executions) == [first.physical_id]
    assert [a.physical_id for a in stack.answers[event["RequestId"]]] == [first.physical_id] * 2


def test_a_waiting_create_answers_within_the_hour_of_the_request_however_late_it_ran(
    world: World, stack: Stack
) -> None:
    stack.queue_seconds = 20 * 60  # Lambda ran the request twenty minutes after it was made
    world.imports_stall = True
    created = stack.send("Create", plan(WaitForCompletion="true"))

    assert created.status == "FAILED"
    assert created.reason.startswith("PlanStillRunning: ")
    assert stack.late_answers() == []


@pytest.mark.parametrize(
    ("url", "signed"),
    [
        ("https://b.s3.amazonaws.com/k?X-Amz-Date=20260101T000010Z&X-Amz-Expires=7200", 10.0),
        ("https://b.s3.amazonaws.com/k?AWSAccessKeyId=A&Expires=1767232810&Signature=s", 10.0),
        ("https://b.s3.amazonaws.com/k?x-amz-date=20260101T000010Z", 10.0),
        ("https://b.s3.amazonaws.com/k?X-Amz-Date=yesterday", None),
        ("https://b.s3.amazonaws.com/k?Expires=soon", None),
        ("http://localhost:8080/response", None),
    ],
)
def test_the_request_time_is_read_from_the_presigned_response_url(
    url: str, signed: float | None
) -> None:
    new_year = 1_767_225_600.0
    found = request_time.request_signed_at(url)
    assert found == (None if signed is None else new_year + signed)


@pytest.mark.parametrize("fault", [Fault.NOT_SENT, Fault.THROTTLED])
def test_a_hand_over_lambda_cannot_have_received_is_sent_again(
    world: World, stack: Stack, fault: Fault
) -> None:
    stack.timeout_seconds = 60
    world.arm("lambda.Invoke", fault)
    created = stack.send("Create", plan(WaitForCompletion="true"))
    assert created.status == "SUCCESS", created.reason
    assert len(stack.answers[next(iter(stack.answers))]) == 1


@pytest.mark.parametrize("fault", [Fault.ANSWER_LOST, Fault.REFUSED])
def test_a_hand_over_lambda_may_have_received_is_never_sent_again(
    world: World, stack: Stack, fault: Fault
) -> None:
    stack.timeout_seconds = 60
    world.arm("lambda.Invoke", fault)
    created = stack.send("Create", plan(WaitForCompletion="true"))
    assert world.calls[: created.calls].count("lambda.Invoke") == 1
    assert created.status == "FAILED"
    assert created.reason.startswith(
        f"HandOverFailed: the wait for execution {created.physical_id}"
    )
    assert created.physical_id == execution_of(plan(WaitForCompletion="true"))


def test_a_plan_whose_store_is_in_another_region_is_refused_before_anything_starts(
    world: World, stack: Stack
) -> None:
    elsewhere = plan()
    store = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1"
    elsewhere["Segments"] = [segment(10) | {"Destinations": [store]}]
    created = stack.send("Create", elsewhere)

    assert created.status == "FAILED"
    assert created.reason.startswith("Segments[0].Destinations must import into an event data")
    assert f"in {REGION}" in created.reason
    assert "us-east-1" in created.reason
    assert world.calls == []
    deleted = stack.send("Delete", elsewhere, PhysicalResourceId=created.physical_id)
    assert deleted.status == "SUCCESS"


def test_the_store_s_imports_are_read_in_the_store_s_region(
    world: World, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    created = stack.send("Create", OLD)
    assert created.status == "SUCCESS", created.reason
    regions = {region for service, region in world.clients if service == "cloudtrail"}
    assert regions == {REGION}


def test_a_rollback_that_names_the_failed_update_s_execution_also_resumes_the_old_plan(
    world: World, stack: Stack
) -> None:
    created = stack.send("Create", OLD)
    world.imports_stall = True
    stack.timeout_seconds = 300
    updated = stack.send(
        "Update", NEW_WAITING, PhysicalResourceId=created.physical_id, OldResourceProperties=OLD
    )
    assert updated.status == "FAILED"

    rollback = stack.send(
        "Update", OLD, PhysicalResourceId=updated.physical_id, OldResourceProperties=NEW_WAITING
    )

    assert rollback.status == "SUCCESS", rollback.reason
    assert world.running_executions() == [rollback.physical_id] == [execution_of(OLD, 1)]
    assert world.running_imports() == []
