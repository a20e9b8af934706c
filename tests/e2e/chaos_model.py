"""CloudFormation's side of the chaos matrix (``test_chaos.py``): what it knows of one resource,
the requests it sends and how it follows a failed or unanswered one, and the request types the
matrix plays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.e2e.world import World

DAY = datetime(2025, 1, 10, tzinfo=UTC)

HOUR = 3600.0
# How a call fails: (the lake's fault, how many), (the Lambda endpoint's fault, how many).
FAILURES: dict[str, tuple[str, int, str, int]] = {
    "refused": ("deny", 1, "deny", 1),
    "throttled-past-botocore": ("throttle", 5, "throttle", 3),
    "timed-out-before-processing": ("reset", 1, "reset", 1),
    "processed-then-connection-lost": ("reset_after", 1, "reset_after", 1),
}
DAY_END = DAY.replace(hour=23, minute=59)
NEXT_DAY = DAY.replace(day=11)


@dataclass
class StackModel:
    """What CloudFormation knows of the resource: its id and properties (None: no resource)."""

    world: World
    physical_id: str | None = None
    props: dict[str, Any] | None = None
    unanswered: int = 0
    late: int = 0
    problems: list[str] = field(default_factory=list)
    # What a case's set-up leaves for its request: the properties to roll back to, the event
    # to deliver again.
    previous: dict[str, Any] = field(default_factory=dict)
    first_delivery: dict[str, Any] = field(default_factory=dict)

    def deliver(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Run ``event`` to its end; its last answer, or None when none came."""
        before = len(self.world.cfn.answers(event))
        started = self.world.clock.now()
        run = self.world.cfn.run(event)
        answers = self.world.cfn.answers(event)[before:]
        if len(answers) > 1:
            self.problems.append(f"{event['RequestType']} answered {len(answers)} times")
        if not answers:
            self.unanswered += 1
            self.world.clock.advance(HOUR)  # CloudFormation waits its hour, then gives up
            return None
        ended = max(i.ended for i in run.invocations)
        if ended - started > HOUR:
            self.late += 1
            self.problems.append(f"{event['RequestType']} answered after {ended - started:.0f} s")
        return answers[-1]

    def create(self, props: dict[str, Any], *, event: dict[str, Any] | None = None) -> None:
        event = event or self.world.cfn.event("Create", props)
        answer = self.deliver(event)
        if answer is not None and answer["Status"] == "SUCCESS":
            self.physical_id, self.props = answer["PhysicalResourceId"], props
            return
        # FAILED, or timed out: CloudFormation deletes what it was told (or a generated id).
        failed_id = answer["PhysicalResourceId"] if answer else f"timed-out-{event['RequestId']}"
        self.physical_id, self.props = failed_id, props
        self.delete()

    def update(self, props: dict[str, Any]) -> None:
        assert self.physical_id is not None
        assert self.props is not None
        old_id, old_props = self.physical_id, self.props
        answer = self.deliver(
            self.world.cfn.event("Update", props, physical_id=old_id, old_properties=old_props)
        )
        if answer is not None and answer["Status"] == "SUCCESS":
            self.physical_id, self.props = answer["PhysicalResourceId"], props
            if self.physical_id != old_id:  # a replacement: the clean-up deletes the old one
                self.clean_up(old_id, old_props)
            return
        self.roll_back(old_id, old_props, props)

    def roll_back(self, to_id: str, to_props: dict[str, Any], from_props: dict[str, Any]) -> None:
        for _ in range(2):  # the rollback; the operator's continue-update-rollback
            answer = self.deliver(
                self.world.cfn.event(
                    "Update", to_props, physical_id=to_id, old_properties=from_props
                )
            )
            if answer is not None and answer["Status"] == "SUCCESS":
                self.physical_id, self.props = answer["PhysicalResourceId"], to_props
                if self.physical_id != to_id:
                    self.clean_up(to_id, to_props)
                return
            self.world.lake.faults.clear()
        self.problems.append("UPDATE_ROLLBACK_FAILED after the operator's retry")

    def clean_up(self, physical_id: str, props: dict[str, Any]) -> None:
        answer = self.deliver(self.world.cfn.event("Delete", props, physical_id=physical_id))
        if answer is None or answer["Status"] != "SUCCESS":
            self.problems.append(f"clean-up Delete of {physical_id} failed")

    def delete(self) -> None:
        assert self.physical_id is not None
        assert self.props is not None
        for _ in range(2):  # the Delete; the operator's retry
            event = self.world.cfn.event("Delete", self.props, physical_id=self.physical_id)
            answer = self.deliver(event)
            if answer is not None and answer["Status"] == "SUCCESS":
                self.physical_id = self.props = None
                return
            self.world.lake.faults.clear()
        self.problems.append("DELETE_FAILED after the operator's retry")


@dataclass(frozen=True)
class Case:
    """Set the world up (no fault), then the request under test, CloudFormation following."""

    setup: Callable[[StackModel], None]
    request: Callable[[StackModel], None]


def _waiting(world: World, **window: Any) -> dict[str, Any]:
    return world.properties(wait=True, **window)


def _create_case() -> Case:
    return Case(lambda stack: None, lambda stack: stack.create(_waiting(stack.world)))


def _update_case() -> Case:
    def setup(stack: StackModel) -> None:
        stack.create(_waiting(stack.world, start=DAY, end=DAY_END))

    return Case(setup, lambda stack: stack.update(_waiting(stack.world, start=NEXT_DAY)))


def _rollback_case() -> Case:
    """A (COMPLETED) was replaced by B (running); the rollback Update comes back to A."""

    def setup(stack: StackModel) -> None:
        first = _waiting(stack.world, start=DAY, end=DAY_END)
        stack.create(first)
        stack.update(stack.world.properties(start=NEXT_DAY))
        stack.previous = first

    def request(stack: StackModel) -> None:
        assert stack.physical_id is not None
        assert stack.props is not None
        stack.roll_back(stack.physical_id, stack.previous, stack.props)

    return Case(setup, request)


def _delete_case() -> Case:
    def setup(stack: StackModel) -> None:
        stack.create(stack.world.properties())  # running: the Delete stops it

    return Case(setup, lambda stack: stack.delete())


def _delete_after_failed_create_case() -> Case:
    """A waiting Create times out while its import runs: FAILED naming it; the Delete stops it."""

    def request(stack: StackModel) -> None:
        stack.create(stack.world.properties(wait=True, CompletionTimeoutSeconds="30"))

    return Case(lambda stack: None, request)


def _delivered_twice_case() -> Case:
    def setup(stack: StackModel) -> None:
        props = _waiting(stack.world)
        event = stack.world.cfn.event("Create", props)
        stack.first_delivery = event
        stack.props = props
        answer = stack.deliver(event)
        assert answer is not None
        stack.physical_id = answer["PhysicalResourceId"]

    def request(stack: StackModel) -> None:
        stack.create(stack.props or {}, event=stack.first_delivery)

    return Case(setup, request)


CASES: dict[str, Callable[[], Case]] = {
    "create": _create_case,
    "update": _update_case,
    "rollback-update": _rollback_case,
    "delete": _delete_case,
    "delete-after-failed-create": _delete_after_failed_create_case,
    "same-request-delivered-twice": _delivered_twice_case,
}
