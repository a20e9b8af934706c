"""The custom resource after its Create, over real HTTP: a duplicate delivery, Delete, Update
and rollback, a 255-character logical id, and faults of the endpoints on the way.

As in ``test_lifecycle.py``, ``World.cfn.complete`` checks that each request ends with exactly
one answer, which echoes StackId, RequestId and LogicalResourceId.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.lifecycle_steps import corrupt_key, create, started_imports
from tests.e2e.world import World
from tests.lake_emulator.trail_archive import TrailArchive

# ----------------------------------------------------------------------------- redelivery, delete


def test_duplicate_create_delivery_makes_one_import(world: World) -> None:
    event = world.cfn.event("Create", world.properties())
    world.cfn.run(event)
    world.clock.advance(2)  # the import is still running when the duplicate arrives
    world.cfn.run(event)
    answers = world.cfn.answers(event)
    assert len(answers) == 2  # one per delivery, both alike
    assert {a["Status"] for a in answers} == {"SUCCESS"}
    assert len({a["PhysicalResourceId"] for a in answers}) == 1
    assert list(world.lake.imports) == [answers[0]["PhysicalResourceId"]]


def test_delete_during_an_import_stops_it(world: World) -> None:
    props = world.properties()
    created, _ = create(world, props)
    world.clock.advance(10)
    delete = world.cfn.event("Delete", props, physical_id=created.physical_id)
    response, _ = world.cfn.complete(delete)
    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == created.physical_id
    assert world.lake.get(created.physical_id).status == "STOPPED"
    assert "StopImport" in world.lake.operations("ok")


def test_delete_with_stop_on_delete_false_lets_the_import_run(world: World) -> None:
    props = world.properties(StopOnDelete="false")
    created, _ = create(world, props)
    delete = world.cfn.event("Delete", props, physical_id=created.physical_id)
    response, _ = world.cfn.complete(delete)
    assert response.status == "SUCCESS", response.reason
    assert "StopImport" not in world.lake.operations()
    world.clock.advance(3600)
    assert world.lake.get(created.physical_id).status == "COMPLETED"


def test_delete_after_a_failed_create_succeeds_without_calls(world: World) -> None:
    world.store = world.lake.add_event_data_store("gone", status="PENDING_DELETION")
    props = world.properties()
    failed, _ = create(world, props)
    assert failed.status == "FAILED"
    calls_before = len(world.lake.calls)
    delete = world.cfn.event("Delete", props, physical_id=failed.physical_id)
    response, _ = world.cfn.complete(delete)
    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == failed.physical_id
    assert len(world.lake.calls) == calls_before
    assert not world.lambda_endpoint.history


def test_rollback_update_keeps_the_completed_import(
    world: World, small_archive: TrailArchive
) -> None:
    bucket = world.use_own_bucket(small_archive)
    first = world.properties(wait=True, end=datetime(2025, 1, 10, 23, 59, tzinfo=UTC))
    created, _ = create(world, first)
    assert created.status == "SUCCESS", created.reason
    world.s3.put_object(Bucket=bucket, Key=corrupt_key(11), Body=b"not gzip")
    second = world.properties(wait=True, start=datetime(2025, 1, 11, tzinfo=UTC))
    update = world.cfn.event(
        "Update", second, physical_id=created.physical_id, old_properties=first
    )
    failed, _ = world.cfn.complete(update)
    assert failed.status == "FAILED"
    assert failed.physical_id == created.physical_id  # a failed update keeps the old id
    starts = len(started_imports(world))
    assert starts == 2
    rollback = world.cfn.event(
        "Update", first, physical_id=created.physical_id, old_properties=second
    )
    response, _ = world.cfn.complete(rollback)
    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == created.physical_id
    assert response.data["ImportStatus"] == "COMPLETED"
    assert len(started_imports(world)) == starts  # nothing imported twice


@pytest.mark.parametrize("wait_for_a", [True, False], ids=["a-completed", "a-stopped"])
def test_rollback_after_a_successful_replacement_goes_back_to_the_original_import(
    world: World, wait_for_a: bool
) -> None:
    """A → B succeeds, another resource fails, CloudFormation rolls back (id B, A's properties),
    then deletes B: the answer is A again, and A's window is never imported a second time."""
    day = datetime(2025, 1, 10, tzinfo=UTC)
    first = world.properties(start=day, end=day.replace(hour=23, minute=59), wait=wait_for_a)
    second = world.properties(start=day.replace(day=11), end=day.replace(day=11, hour=23))
    created, _ = create(world, first)
    assert created.status == "SUCCESS", created.reason
    a = created.physical_id
    # The replacement: A is COMPLETED when the Create waited, else still running and stopped.
    update = world.cfn.event("Update", second, physical_id=a, old_properties=first)
    replaced, _ = world.cfn.complete(update)
    assert replaced.status == "SUCCESS", replaced.reason
    b = replaced.physical_id
    assert b != a
    assert world.lake.get(a).status == ("COMPLETED" if wait_for_a else "STOPPED")

    rollback = world.cfn.event("Update", first, physical_id=b, old_properties=second)
    response, _ = world.cfn.complete(rollback)
    cleanup = world.cfn.event("Delete", second, physical_id=b)
    deleted, _ = world.cfn.complete(cleanup)

    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == a
    assert deleted.status == "SUCCESS", deleted.reason
    assert world.lake.get(b).status == "STOPPED"
    starts = started_imports(world)
    assert [p for p in starts if "ImportId" not in p] == starts[:2]  # A and B, nothing more
    assert starts[2:] == ([] if wait_for_a else [{"ImportId": a}])
    assert set(world.lake.imports) == {a, b}
    world.clock.advance(3600)
    assert world.lake.get(a).status == "COMPLETED"
    assert (
        world.lake.get(a).statistics()["FilesCompleted"]
        == world.archive.expected("", day, day.replace(hour=23, minute=59)).files
    )


def test_a_255_character_logical_id(world: World) -> None:
    logical_id = "Import" + "X" * 249
    assert len(logical_id) == 255
    world.cfn.function_timeout = 100.0  # make it hand over a few times
    world.lake.files_per_second = 0.2
    event = world.cfn.event("Create", world.properties(wait=True), logical_id=logical_id)
    response, run = world.cfn.complete(event)
    assert response.status == "SUCCESS", response.reason
    assert response.logical_id == logical_id
    assert sum(i.continuation for i in run.invocations) >= 1


# ----------------------------------------------------------------------------- faults


def test_throttling_bursts_are_ridden_out(world: World) -> None:
    world.lake.faults.add("throttle", 3, "GetEventDataStore")
    world.lake.faults.add("throttle", 3, "StartImport")
    world.lake.faults.add("throttle", 12, "GetImport")
    response, run = create(world, world.properties(wait=True))
    assert response.status == "SUCCESS", response.reason
    assert len(world.lake.imports) == 1
    assert world.lake.faults.pending() == 0
    assert run.timeouts == 0


def test_server_errors_are_retried(world: World) -> None:
    world.lake.faults.add("server_error", 2, "StartImport")
    world.lake.faults.add("server_error", 3, "GetImport")
    response, _ = create(world, world.properties(wait=True))
    assert response.status == "SUCCESS", response.reason
    assert len(world.lake.imports) == 1
    assert world.lake.operations("500") == ["StartImport"] * 2 + ["GetImport"] * 3


def test_connection_resets_do_not_duplicate_the_import(world: World) -> None:
    world.lake.faults.add("reset", 1, "StartImport")
    world.lake.faults.add("reset_after", 1, "StartImport")  # started, but the answer is lost
    world.lake.faults.add("reset", 2, "GetImport")
    response, _ = create(world, world.properties(wait=True))
    assert response.status == "SUCCESS", response.reason
    assert list(world.lake.imports) == [response.physical_id]
    assert response.data["FilesCompleted"] == str(world.archive.expected().files)
    assert world.lake.faults.pending() == 0
    assert world.lake.operations("reset_after") == ["StartImport"]


@pytest.mark.parametrize("kind", ["503", "reset"])
def test_response_url_failing_its_first_puts(world: World, kind: str) -> None:
    event = world.cfn.event("Create", world.properties())
    world.cfn.s3.recorder.fail_puts(world.cfn.response_key(event), 2, kind)  # type: ignore[arg-type]
    response, _ = world.cfn.complete(event)
    assert response.status == "SUCCESS", response.reason
    assert world.cfn.put_attempts(event) == 3


def test_lambda_invoke_throttled_during_hand_over(world: World) -> None:
    world.cfn.function_timeout = 100.0
    world.lake.files_per_second = 0.2
    world.lambda_endpoint.fail_next("throttle", 2)
    response, run = create(world, world.properties(wait=True))
    assert response.status == "SUCCESS", response.reason
    assert run.timeouts == 0


def test_an_invocation_near_its_timeout_hands_over_in_time(world: World) -> None:
    world.lake.faults.add("throttle", 3, "GetImport")
    response, run = create(world, world.properties(wait=True), first_timeout=75.0)
    assert response.status == "SUCCESS", response.reason
    assert run.timeouts == 0
    assert run.invocations[0].ended <= run.invocations[0].started + 75.0
    assert any(i.continuation for i in run.invocations)
