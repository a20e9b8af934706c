"""Failure paths over real HTTP: a refused hand-over during a replacement, a rollback that must
look beyond the first page of imports, a retry whose answer is lost (issue 8's defects 2, 4, 6).

Each request ends with exactly one answer (``World.cfn.complete`` checks it); what is left
running in the emulated account is read from the emulator itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.lifecycle_steps import create, started_imports
from tests.e2e.world import World
from tests.lake_emulator.records import ACTIVE

DAY = datetime(2025, 1, 10, tzinfo=UTC)


def running(world: World) -> list[str]:
    return [i for i in world.lake.imports if world.lake.get(i).status in ACTIVE]


def test_a_replacement_whose_hand_over_is_refused_leaves_no_import_running_after_the_rollback(
    world: World,
) -> None:
    first = world.properties(start=DAY, end=DAY.replace(hour=23, minute=59))
    second = world.properties(start=DAY.replace(day=11), wait=True)
    created, _ = create(world, first)
    a = created.physical_id
    world.cfn.function_timeout = 100.0  # the replacement must hand over to keep waiting
    world.lake.files_per_second = 0.1
    world.lambda_endpoint.fail_next("deny")  # lambda:InvokeFunction refused

    update = world.cfn.event("Update", second, physical_id=a, old_properties=first)
    failed, _ = world.cfn.complete(update)
    (b,) = set(world.lake.imports) - {a}
    rollback = world.cfn.event("Update", first, physical_id=a, old_properties=second)
    rolled_back, _ = world.cfn.complete(rollback)

    assert failed.status == "FAILED"
    assert failed.reason.startswith("AccessDeniedException")
    assert failed.physical_id == a  # CloudFormation never learns b
    assert world.lake.get(b).status == "STOPPED"  # stopped by the failed update itself
    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert rolled_back.physical_id == a
    assert running(world) == [a]  # a, stopped for the replacement, was retried; b stays stopped
    assert started_imports(world)[2:] == [{"ImportId": a}]


def test_a_rollback_finds_the_original_beyond_a_page_of_50_older_imports(world: World) -> None:
    ct = world.cloudtrail()
    for n in range(50):  # older imports into the same store, from prefixes that hold nothing
        ct.start_import(Destinations=[world.store.arn], ImportSource=world.import_source(f"x{n}/"))
        world.clock.advance(10)
    first = world.properties(start=DAY, end=DAY.replace(hour=23, minute=59), wait=True)
    second = world.properties(start=DAY.replace(day=11), wait=True)
    created, _ = create(world, first)
    a = created.physical_id
    update = world.cfn.event("Update", second, physical_id=a, old_properties=first)
    replaced, _ = world.cfn.complete(update)
    b = replaced.physical_id
    assert ct.list_imports(Destination=world.store.arn, MaxResults=50)["NextToken"]

    # Another resource failed: CloudFormation rolls back to A's properties, with id B.
    rollback = world.cfn.event("Update", first, physical_id=b, old_properties=second)
    response, _ = world.cfn.complete(rollback)

    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == a
    assert response.data["ImportStatus"] == "COMPLETED"
    assert len(world.lake.imports) == 52  # A's window was not copied a second time


def test_a_retry_whose_answer_is_lost_adopts_the_import_it_restarted(world: World) -> None:
    props = world.properties(wait=True)
    created, _ = create(world, world.properties())
    a = created.physical_id
    world.cloudtrail().stop_import(ImportId=a)
    # botocore resends the retry after the reset; CloudTrail refuses it: the import runs again.
    world.lake.faults.add("reset_after", 1, "StartImport")

    update = world.cfn.event(
        "Update", {**props, "RetryToken": "2"}, physical_id=a, old_properties=world.properties()
    )
    response, _ = world.cfn.complete(update)

    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == a
    assert response.data["ImportStatus"] == "COMPLETED"
    assert world.lake.operations("reset_after") == ["StartImport"]
    assert world.lake.operations("InvalidParameterException") == ["StartImport"]
    assert list(world.lake.imports) == [a]
