"""Chaos: a refusal at every call a request makes, and what CloudFormation does next.

For a waiting Create and for a replacement Update (each handing over to a continuation at
least once), a clean run lists the calls the request makes. Then, once per position in that
list, the same request runs in a fresh account where that one call (CloudTrail, or the
hand-over's ``lambda:Invoke``) is refused with AccessDeniedException, which no retry gets past.
CloudFormation follows a FAILED Create with a Delete of the id it was given and a FAILED Update
with the rollback Update (properties swapped, the id from before). Afterwards:

* every request, the follow-up included, has exactly one answer, and the follow-up succeeds
  (no stack is left waiting, none is left in DELETE_FAILED or UPDATE_ROLLBACK_FAILED);
* no import the request started is still running;
* a FAILED Create names the import it started, a FAILED Update keeps the old id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import CfnResponse
from tests.e2e.lifecycle_steps import create
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import World, emulated_world
from tests.lake_emulator.records import ACTIVE
from tests.lake_emulator.trail_archive import TrailArchive

DAY = datetime(2025, 1, 10, tzinfo=UTC)
INVOKE = "lambda:Invoke"
# Short invocations and a slow import: each request hands over at least once.
FUNCTION_TIMEOUT = 100.0
FILES_PER_SECOND = 0.5


@dataclass(frozen=True)
class Request:
    """The request under test and CloudFormation's follow-up to it when it fails."""

    event: dict[str, Any]
    follow_up: Callable[[CfnResponse], dict[str, Any]]
    previous_id: str | None  # the PhysicalResourceId before the request (Update)


def waiting_create(world: World) -> Request:
    props = world.properties(wait=True)
    return Request(
        world.cfn.event("Create", props),
        lambda failed: world.cfn.event("Delete", props, physical_id=failed.physical_id),
        None,
    )


def replacement_update(world: World) -> Request:
    """A (running, not waited for) is replaced by an import of another window, waited for."""
    first = world.properties(start=DAY, end=DAY.replace(hour=23, minute=59))
    second = world.properties(start=DAY.replace(day=11), wait=True)
    created, _ = create(world, first)
    assert created.status == "SUCCESS", created.reason
    a = created.physical_id
    return Request(
        world.cfn.event("Update", second, physical_id=a, old_properties=first),
        lambda _: world.cfn.event("Update", first, physical_id=a, old_properties=second),
        a,
    )


SCENARIOS: dict[str, Callable[[World], Request]] = {
    "waiting-create": waiting_create,
    "replacement-update": replacement_update,
}


@dataclass(frozen=True)
class Fault:
    operation: str  # a CloudTrail operation, or INVOKE
    position: int  # 0 = the request's first call of that operation

    def arm(self, world: World) -> None:
        if self.operation == INVOKE:
            world.lambda_endpoint.fail_next("deny", after=self.position)
        else:
            world.lake.faults.add("deny", 1, self.operation, after=self.position)

    def fired(self, world: World) -> bool:
        if self.operation == INVOKE:
            return world.lambda_endpoint.faults_pending() == 0
        return world.lake.faults.pending() == 0


@dataclass(frozen=True)
class Outcome:
    calls: Counter[str]
    problems: list[str]


@contextmanager
def fresh_world(
    s3: MotoS3Tls, workdir: Path, bucket: str, archive: TrailArchive
) -> Iterator[World]:
    with emulated_world(
        s3, workdir, bucket=bucket, archive=archive, function_timeout=FUNCTION_TIMEOUT
    ) as world:
        world.lake.files_per_second = FILES_PER_SECOND
        yield world


def run(world: World, scenario: Callable[[World], Request], fault: Fault | None) -> Outcome:
    request = scenario(world)
    calls_before = len(world.lake.calls)
    invokes_before = len(world.lambda_endpoint.history)
    imports_before = set(world.lake.imports)
    if fault:
        fault.arm(world)
    problems: list[str] = []
    answer, _ = world.cfn.complete(request.event)  # asserts exactly one answer
    calls = Counter(c.operation for c in world.lake.calls[calls_before:])
    calls[INVOKE] = len(world.lambda_endpoint.history) - invokes_before
    started = sorted(set(world.lake.imports) - imports_before)
    if fault and not fault.fired(world):
        problems.append("the fault was never served")
    if answer.status == "FAILED":
        expected_id = request.previous_id or (started[-1] if started else None)
        if expected_id and answer.physical_id != expected_id:
            problems.append(f"FAILED with id {answer.physical_id}, not {expected_id}")
        follow_up, _ = world.cfn.complete(request.follow_up(answer))
        if follow_up.status != "SUCCESS":
            problems.append(f"the follow-up failed: {follow_up.reason}")
    left = [i for i in started if world.lake.get(i).status in ACTIVE]
    if left:
        problems.append(f"left running: {left} ({answer.status}: {answer.reason})")
    return Outcome(calls, problems)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_refusal_at_any_call_leaves_no_import_running_and_no_stack_waiting(
    name: str,
    s3_server: MotoS3Tls,
    tmp_path: Path,
    archive: TrailArchive,
    archive_bucket: str,
) -> None:
    scenario = SCENARIOS[name]
    with fresh_world(s3_server, tmp_path, archive_bucket, archive) as world:
        clean = run(world, scenario, None)
    assert not clean.problems, clean.problems
    # The clean run walks every kind of call the scenario is about, a hand-over included.
    assert {"GetEventDataStore", "StartImport", "GetImport", INVOKE} <= set(+clean.calls)
    if name == "replacement-update":
        assert {"ListImports", "StopImport"} <= set(+clean.calls)

    faults = [Fault(op, n) for op, count in sorted(clean.calls.items()) for n in range(count)]
    problems: dict[Fault, list[str]] = {}
    for fault in faults:
        with fresh_world(s3_server, tmp_path, archive_bucket, archive) as world:
            outcome = run(world, scenario, fault)
        if outcome.problems:
            problems[fault] = outcome.problems
    assert not problems, "\n".join(f"{f}: {p}" for f, p in problems.items())
