"""Rule 6 for the plan's custom resource: before StartExecution the handler reads the store's
whole import history, skips identical segments however old, and refuses a segment whose window
an import already holds in part, unless ``AllowOverlap``; a look-up it cannot finish starts
nothing. ``plan_index.handler`` driven as CloudFormation drives it, in an emulated account
(``fake_aws``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.plan.fake_aws import (
    FakeImport,
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

ARCHIVE = "s3://trail-archive/AWSLogs/"


def held_by_earlier_import(
    world: World, request: dict[str, Any], status: str = "COMPLETED"
) -> FakeImport:
    """An import that was in the store before the plan (another stack's, say)."""
    import_id = f"earlier-{len(world.imports):04d}"
    record = FakeImport(import_id, request, status=status, created=world.epoch)
    world.imports[import_id] = record
    world.epoch += 60
    return record


def window(uri: str, start: str, end: str) -> dict[str, Any]:
    request = segment(1, uri)
    request.update(StartEventTime=start, EndEventTime=end)
    return request


def started_executions(world: World) -> int:
    return world.calls.count("states.StartExecution")


def segments_started_with(world: World) -> list[dict[str, Any]]:
    (execution,) = world.executions.values()
    return execution.segments()


def run_to_the_end(world: World) -> None:
    world.imports_stall = False
    for _ in range(50):
        world.advance()


def fill_store(world: World, count: int) -> None:
    """``count`` COMPLETED imports of one day each from another bucket, newer than anything
    before."""
    for number in range(count):
        day = (date(2024, 1, 1) + timedelta(days=number)).isoformat()
        other = window("s3://other-archive/", f"{day}T00:00:00Z", f"{day}T23:59:59Z")
        held_by_earlier_import(world, other)


def test_an_identical_completed_segment_older_than_150_imports_is_skipped(
    world: World, stack: Stack
) -> None:
    done_before = held_by_earlier_import(world, segment(10))
    fill_store(world, 150)

    created = stack.send("Create", plan(days=(10, 11, 12)))

    assert created.status == "SUCCESS", created.reason
    first, second, third = segments_started_with(world)
    assert first["Completed"]["ImportId"] == done_before.import_id
    assert "Completed" not in second
    assert "Completed" not in third
    assert created.body["Data"]["SkippedSegments"] == 1
    assert world.calls.count("cloudtrail.ListImports") >= 4, "every page of 50 was read"
    run_to_the_end(world)
    assert world.windows_imported_twice() == []
    assert world.days_imported_twice() == []


@pytest.mark.parametrize("status", ["COMPLETED", "IN_PROGRESS"])
@pytest.mark.parametrize(
    ("uri", "start", "end", "refused"),
    [
        # A single import of part of day 11's segment...
        (ARCHIVE, "2025-01-11T12:00:00Z", "2025-01-15T00:00:00Z", (1, "2025-01-11")),
        # ...or of the whole bucket up to the morning of day 11: the first segment it holds.
        ("s3://trail-archive/", "2025-01-01T00:00:00Z", "2025-01-11T06:00:00Z", (0, "2025-01-10")),
    ],
)
def test_a_segment_that_an_import_holds_part_of_is_refused_and_nothing_starts(
    world: World,
    stack: Stack,
    status: str,
    uri: str,
    start: str,
    end: str,
    refused: tuple[int, str],
) -> None:
    world.imports_stall = True
    holder = held_by_earlier_import(world, window(uri, start, end), status)
    index, day = refused

    created = stack.send("Create", plan(days=(10, 11, 12)))

    assert created.status == "FAILED"
    assert created.reason.startswith(
        f"OverlappingImport: segment {index} ({ARCHIVE}, {day}T00:00:00Z..{day}T23:59:59Z): "
        f"{holder.import_id} already holds {day} (1 day) of this window"
    ), created.reason
    assert "allow_overlap=True" in created.reason
    assert "Nothing was started" in created.reason
    assert started_executions(world) == 0
    assert world.executions == {}
    assert list(world.imports) == [holder.import_id]


def test_the_same_overlap_is_accepted_with_allow_overlap(world: World, stack: Stack) -> None:
    held_by_earlier_import(world, window(ARCHIVE, "2025-01-11T12:00:00Z", "2025-01-15T00:00:00Z"))

    created = stack.send("Create", plan(days=(10, 11, 12), AllowOverlap="true"))

    assert created.status == "SUCCESS", created.reason
    assert started_executions(world) == 1
    assert [("Completed" in s) for s in segments_started_with(world)] == [False, False, False]


@pytest.mark.parametrize("operation", ["cloudtrail.ListImports", "cloudtrail.GetImport"])
@pytest.mark.parametrize("fault", [Fault.REFUSED, Fault.THROTTLED, Fault.ANSWER_LOST])
@pytest.mark.parametrize("on_page", [1, 2])
def test_a_look_up_that_fails_on_any_page_starts_nothing_and_says_what_to_check(
    world: World, stack: Stack, operation: str, fault: Fault, on_page: int
) -> None:
    fill_store(world, 60)  # two pages of ListImports
    calls_before = {"n": 0}

    def on_that_call() -> bool:
        calls_before["n"] += 1
        return calls_before["n"] == on_page

    world.arm(operation, fault, when=on_that_call)

    created = stack.send("Create", plan(days=(10, 11, 12)))

    assert created.status == "FAILED"
    assert created.reason.startswith(
        "ImportLookupFailed: the imports already in the event data store could not all be read"
    ), created.reason
    assert "nothing was started" in created.reason
    assert "cloudtrail:ListImports and GetImport" in created.reason
    assert started_executions(world) == 0
    assert world.executions == {}


def test_a_look_up_cut_short_by_the_invocation_s_time_starts_nothing(
    world: World, stack: Stack
) -> None:
    fill_store(world, 150)
    stack.timeout_seconds = 60  # 150 GetImport calls of 0.5 s do not fit

    created = stack.send("Create", plan(days=(10, 11, 12)))

    assert created.status == "FAILED"
    assert created.reason.startswith("ImportLookupFailed:"), created.reason
    assert "no time was left in this invocation" in created.reason
    assert started_executions(world) == 0


RECUT = {
    **plan(days=(10,)),
    "Segments": [window(ARCHIVE, "2025-01-10T00:00:00Z", "2025-01-12T23:59:59Z")],
}


@pytest.mark.parametrize("old_plan_state", ["ended", "running"])
def test_an_update_that_recuts_the_plans_segments_is_refused_and_the_rollback_succeeds(
    world: World, stack: Stack, old_plan_state: str
) -> None:
    old = plan(days=(10, 11, 12))
    created = stack.send("Create", old)
    if old_plan_state == "ended":
        run_to_the_end(world)
    else:
        world.imports_stall = True
        world.advance()  # day 10's import runs
    imports_before = dict(world.imports)

    updated = stack.send(
        "Update", RECUT, PhysicalResourceId=created.physical_id, OldResourceProperties=old
    )

    assert updated.status == "FAILED"
    assert updated.reason.startswith(
        f"OverlappingImport: segment 0 ({ARCHIVE}, 2025-01-10T00:00:00Z..2025-01-12T23:59:59Z): "
    ), updated.reason
    assert updated.physical_id == created.physical_id
    stopped = f"stopped execution {created.physical_id}, which the rollback runs again"
    assert (stopped in updated.reason) == (old_plan_state == "running"), updated.reason
    assert started_executions(world) == 1, "only the Create's"
    assert world.imports == imports_before, "no import started or stopped"

    rollback = stack.send(
        "Update", old, PhysicalResourceId=created.physical_id, OldResourceProperties=RECUT
    )

    assert rollback.status == "SUCCESS", rollback.reason
    run_to_the_end(world)
    assert world.windows_imported_twice() == []
    assert world.days_imported_twice() == []
    assert len(world.imports) == 3
    assert world.running_executions() == []


def test_an_update_that_recuts_the_segments_with_allow_overlap_imports_them_again(
    world: World, stack: Stack
) -> None:
    old = plan(days=(10, 11, 12))
    created = stack.send("Create", old)
    run_to_the_end(world)

    updated = stack.send(
        "Update",
        {**RECUT, "AllowOverlap": "true"},
        PhysicalResourceId=created.physical_id,
        OldResourceProperties=old,
    )

    assert updated.status == "SUCCESS", updated.reason
    run_to_the_end(world)
    assert len(world.days_imported_twice()) == 3, "asked for: days 10 to 12 again"


def test_a_rerun_resumes_a_failed_segment_next_to_completed_ones_of_the_same_plan(
    world: World, stack: Stack
) -> None:
    """The plan's own segments may share a UTC day at their boundary (cut a second apart):
    a segment resumed next to a COMPLETED neighbour is not an overlap."""
    noon = {
        **plan(),
        "Segments": [
            window(ARCHIVE, "2025-01-10T12:00:00Z", "2025-01-11T11:59:59Z"),
            window(ARCHIVE, "2025-01-11T12:00:00Z", "2025-01-12T11:59:59Z"),
        ],
    }
    done = held_by_earlier_import(world, noon["Segments"][0])
    failed = held_by_earlier_import(world, noon["Segments"][1], status="FAILED")

    created = stack.send("Create", noon)

    assert created.status == "SUCCESS", created.reason
    first, second = segments_started_with(world)
    assert first["Completed"]["ImportId"] == done.import_id
    assert second["Adopt"] == {"ImportId": failed.import_id, "Resume": True}
