"""The plan's custom resource under chaos: every AWS call the plan handler makes x every way a
call goes wrong once x every request CloudFormation sends, each followed by what
CloudFormation (and an operator retrying a failed Delete or rollback) does next, then the
stack's end. Whatever happened, no window is imported twice (not even one day of it), nothing
runs that the stack does not name, and every request is answered within its hour.

One test runs the whole matrix in an emulated account on an emulated clock (``fake_aws``):
deterministic, under a few seconds, and it prints the matrix's size and outcome."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.plan.fake_aws import Answer, Fault, Stack, World, install, plan

CALL_SITES = (
    "states.DescribeExecution",
    "states.StartExecution",
    "states.StopExecution",
    "states.ListExecutions",
    "cloudtrail.ListImports",
    "cloudtrail.GetImport",
    "cloudtrail.StopImport",
    "s3.ListObjectsV2",
    "lambda.Invoke",
)
SCENARIOS = (
    "Create",
    "Update",
    "Update that re-cuts the segments",
    "rollback Update",
    "Delete",
    "Delete after failed Create",
    "the same request delivered twice",
)
#: An operator retries a failed Delete or rollback (after the one fault, it goes through).
OPERATOR_RETRIES = 3


@dataclass
class Resource:
    """What the stack holds: the physical id and the properties it was last given."""

    physical_id: str
    props: dict[str, Any]


class CloudFormation:
    """CloudFormation's side of each request: the follow-up a first answer calls for."""

    def __init__(self, world: World, stack: Stack) -> None:
        self.world = world
        self.stack = stack

    def arm(self, site: str, fault: Fault) -> None:
        self.world.arm(site, fault)

    def create(self, props: dict[str, Any], *, twice: bool = False) -> Resource | None:
        event = self.stack.event("Create", props)
        answer = self.stack.deliver(event)
        if twice:
            self.stack.deliver(event)
        assert answer is not None
        if answer.status == "FAILED":
            self.delete(Resource(answer.physical_id, props))
            return None
        return Resource(answer.physical_id, props)

    def delete(self, resource: Resource, *, twice: bool = False) -> None:
        for _ in range(OPERATOR_RETRIES):
            event = self.stack.event(
                "Delete", resource.props, PhysicalResourceId=resource.physical_id
            )
            answer = self.stack.deliver(event)
            if twice:
                self.stack.deliver(event)
                twice = False
            assert answer is not None
            if answer.status == "SUCCESS":
                return
        raise AssertionError(f"the Delete of {resource.physical_id} never succeeded")

    def update(self, resource: Resource, new: dict[str, Any], *, twice: bool = False) -> Resource:
        event = self.stack.event(
            "Update",
            new,
            PhysicalResourceId=resource.physical_id,
            OldResourceProperties=resource.props,
        )
        answer = self.stack.deliver(event)
        if twice:
            self.stack.deliver(event)
        assert answer is not None
        if answer.status == "SUCCESS":
            if answer.physical_id != resource.physical_id:
                self.delete(resource)  # clean-up of the replaced resource
            return Resource(answer.physical_id, new)
        return self.rollback(resource, new)

    def _update(self, resource: Resource, new: dict[str, Any]) -> Answer:
        return self.stack.send(
            "Update",
            new,
            PhysicalResourceId=resource.physical_id,
            OldResourceProperties=resource.props,
        )

    def rollback(self, restored: Resource, failed: dict[str, Any]) -> Resource:
        """The rollback of a failed Update: the old properties back, under the old id."""
        return self._rollback(restored.physical_id, failed, restored.props, cleanup=None)

    def rollback_after_another_resource_failed(
        self, updated: Resource, old: dict[str, Any]
    ) -> Resource:
        """This Update succeeded, another resource's failed: back to ``old``; the resource
        the Update made is deleted at the rollback's clean-up."""
        return self._rollback(updated.physical_id, updated.props, old, cleanup=updated)

    def _rollback(
        self,
        physical_id: str,
        current: dict[str, Any],
        old: dict[str, Any],
        cleanup: Resource | None,
    ) -> Resource:
        for _ in range(OPERATOR_RETRIES):  # "continue update rollback"
            answer = self.stack.send(
                "Update", old, PhysicalResourceId=physical_id, OldResourceProperties=current
            )
            if answer.status == "SUCCESS":
                if answer.physical_id != physical_id:
                    self.delete(cleanup or Resource(physical_id, old))
                return Resource(answer.physical_id, old)
        raise AssertionError(f"the rollback to {physical_id} never succeeded")


def run_scenario(
    cfn: CloudFormation, scenario: str, site: str, fault: Fault, wait: bool
) -> Resource | None:
    extra = {"WaitForCompletion": "true"} if wait else {}
    old = plan(days=(10, 11, 12), **extra)
    new = plan(days=(11, 12, 13), **extra)
    if scenario == "Create":
        cfn.arm(site, fault)
        return cfn.create(old)
    if scenario == "the same request delivered twice":
        # Create, Update and Delete, each delivered twice, each with the fault armed.
        cfn.arm(site, fault)
        created = cfn.create(old, twice=True)
        if created is None:
            return None
        cfn.world.advance()
        cfn.arm(site, fault)
        updated = cfn.update(created, new, twice=True)
        cfn.world.advance()
        cfn.arm(site, fault)
        cfn.delete(updated, twice=True)
        return None
    if scenario == "Delete after failed Create":
        cfn.arm("states.StartExecution", Fault.REFUSED)
        event = cfn.stack.event("Create", old)
        failed = cfn.stack.deliver(event)
        assert failed is not None
        assert failed.status == "FAILED"
        cfn.arm(site, fault)
        cfn.delete(Resource(failed.physical_id, old))
        return None
    created = cfn.create(old)
    assert created is not None
    cfn.world.advance()
    if scenario == "Update":
        cfn.arm(site, fault)
        return cfn.update(created, new)
    if scenario == "Update that re-cuts the segments":
        # Days 11 to 13 as one segment: the old plan holds (or is bringing in) day 11, so the
        # Update is refused and rolled back, whatever else goes wrong.
        recut = {
            **new,
            "Segments": [
                {**new["Segments"][0], "EndEventTime": new["Segments"][2]["EndEventTime"]}
            ],
        }
        cfn.arm(site, fault)
        held = cfn.update(created, recut)
        assert held.props == old, "the re-cut plan must be refused"
        return held
    if scenario == "rollback Update":
        forward = cfn._update(created, new)
        assert forward.status == "SUCCESS", forward.reason
        cfn.world.advance()
        cfn.arm(site, fault)
        return cfn.rollback_after_another_resource_failed(Resource(forward.physical_id, new), old)
    assert scenario == "Delete"
    cfn.arm(site, fault)
    cfn.delete(created)
    return None


def violations(world: World, stack: Stack, held: Resource | None) -> list[str]:
    found = []
    running = world.running_executions()
    named = [held.physical_id] if held else []
    if [arn for arn in running if arn not in named]:
        found.append(f"executions no stack names run: {running} (stack names {named})")
    windows = {
        (s["ImportSource"]["S3"]["S3LocationUri"], s["StartEventTime"], s["EndEventTime"])
        for s in (held.props["Segments"] if held else [])
    }
    stray = [i.window() for i in world.running_imports() if i.window() not in windows]
    if stray:
        found.append(f"imports of windows the stack does not hold run: {stray}")
    if stack.late_answers():
        found.append(f"requests not answered within their hour: {stack.late_answers()}")
    return found


def test_no_fault_of_one_call_imports_twice_leaves_anything_unseen_or_answers_late(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh: Callable[[], tuple[World, Stack]] = install(monkeypatch)
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    cases = list(itertools.product((False, True), SCENARIOS, CALL_SITES, Fault))
    for wait, scenario, site, fault in cases:
        world, stack = fresh()
        if wait:
            stack.timeout_seconds = 60  # the wait hands over to continuations
        case = f"{'waiting ' if wait else ''}{scenario} x {site} {fault.value}"
        try:
            held = run_scenario(CloudFormation(world, stack), scenario, site, fault, wait)
            problems = violations(world, stack, held)
            for _ in range(30):
                world.advance()
            if held is not None:
                CloudFormation(world, stack).delete(held)
            problems += violations(world, stack, None)
            if world.windows_imported_twice():
                problems.append(f"imported twice: {world.windows_imported_twice()}")
            if world.days_imported_twice():
                problems.append(f"days imported twice: {world.days_imported_twice()}")
        except AssertionError as error:
            problems = [str(error)]
        reached = not any(armed[0] == site for armed in world.faults)
        outcomes["fault reached" if reached else "call not made"] += 1
        failures.extend(f"{case}: {p}" for p in problems)
    with capsys.disabled():
        print(
            f"\nplan custom resource chaos matrix: {len(cases)} cases "
            f"(2 wait modes x {len(SCENARIOS)} requests x {len(CALL_SITES)} call sites x "
            f"{len(Fault)} faults), {outcomes['fault reached']} reached the faulted call, "
            f"{len(failures)} violations"
        )
    assert not failures, "\n".join(failures)
