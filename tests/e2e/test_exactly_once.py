"""Exactly once: no window imported twice, nothing started after an answer, whatever is
delivered twice or fails once (docs/DESIGN.md, "Exactly once"). One test per path an operator
meets: a hand-over whose answer is lost while the account is busy, a rollback from a
``no-source-files:`` Update, a lost StartImport answer with a refused listing, a Create
delivered again, a rollback whose look-up is refused or throttled; then overlap (rule 6).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.lifecycle_steps import create, started_imports
from tests.e2e.world import World

DAY = datetime(2025, 1, 10, tzinfo=UTC)
DAY_END = DAY.replace(hour=23, minute=59)


def new_starts(world: World) -> list[dict[str, object]]:
    """The StartImport calls that created a new import (not a retry)."""
    return [p for p in started_imports(world) if "ImportId" not in p]


def test_a_hand_over_lost_after_lambda_queued_it_is_not_answered_and_the_continuation_is(
    world: World,
) -> None:
    """A waiting Create meets a busy account, hands over, and Invoke's answer is lost after
    Lambda queued the continuation. Before: it answered FAILED and the continuation then
    started the import anyway, for a stack that had given up (rule 5)."""
    other_store = world.lake.add_event_data_store("another-store")
    world.cloudtrail().start_import(
        Destinations=[other_store.arn], ImportSource=world.import_source()
    )
    world.cfn.function_timeout = 100.0
    world.lake.files_per_second = 0.2
    world.lambda_endpoint.fail_next("reset_after")

    response, run = create(world, world.properties(wait=True))

    assert response.status == "SUCCESS", response.reason  # the continuation's, the only one
    assert sum(i.continuation for i in run.invocations) >= 1
    assert world.lambda_endpoint.faults_pending() == 0
    assert len(new_starts(world)) == 2  # the other store's import, and ours once
    assert world.lake.get(response.physical_id).status == "COMPLETED"


def test_a_rollback_from_a_no_source_files_update_keeps_the_completed_original(
    world: World,
) -> None:
    """A (COMPLETED) → an Update to an empty prefix answers ``no-source-files:``; another
    resource fails; the rollback (that id, A's properties) goes back to A. Before: it started
    A's window again."""
    first = world.properties(prefix="AWSLogs/", start=DAY, end=DAY_END, wait=True)
    created, _ = create(world, first)
    assert created.status == "SUCCESS", created.reason
    a = created.physical_id
    empty = world.properties(prefix="not-copied-yet/", start=DAY, end=DAY_END, wait=True)
    updated, _ = world.cfn.complete(
        world.cfn.event("Update", empty, physical_id=a, old_properties=first)
    )
    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id.startswith("no-source-files:")

    rollback = world.cfn.event(
        "Update", first, physical_id=updated.physical_id, old_properties=empty
    )
    response, _ = world.cfn.complete(rollback)

    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == a
    assert response.data["ImportStatus"] == "COMPLETED"
    assert len(started_imports(world)) == 1


def test_a_lost_start_answer_with_a_refused_listing_starts_nothing_more(world: World) -> None:
    """StartImport is processed but its answer is lost (botocore's resend finds the account
    busy with it), and ListImports is refused from then on. Before: the waiting Create kept
    calling StartImport and imported the window twice (rule 2)."""
    world.lake.faults.add("reset_after", 1, "StartImport")
    world.lake.faults.add("deny", 50, "ListImports", after=1)  # the look-up before it passes
    props = world.properties(wait=True)

    response, _ = create(world, props)

    assert response.status == "FAILED"
    assert response.reason.startswith("ImportLookupFailed: "), response.reason
    assert len(new_starts(world)) == 1
    # The id says a StartImport may have started an import: the Delete looks for it (rule 3).
    assert response.physical_id.startswith("unconfirmed-start-")
    world.lake.faults.clear()  # the listing works again by the time CloudFormation deletes
    follow_up, _ = world.cfn.complete(
        world.cfn.event("Delete", props, physical_id=response.physical_id)
    )
    assert follow_up.status == "SUCCESS", follow_up.reason
    world.clock.advance(3600)
    assert len(new_starts(world)) == 1
    assert [world.lake.get(i).status for i in world.lake.imports] == ["STOPPED"]


def test_the_same_create_delivered_again_after_its_import_completed_keeps_it(
    world: World,
) -> None:
    """Before: the second delivery started a second import of the same window (rule 1)."""
    event = world.cfn.event("Create", world.properties(wait=True))
    world.cfn.run(event)
    (first,) = world.cfn.answers(event)
    assert first["Status"] == "SUCCESS", first["Reason"]
    assert first["Data"]["ImportStatus"] == "COMPLETED"

    world.cfn.run(event)
    again = world.cfn.event("Create", world.properties(wait=True))  # a stack created again
    response, _ = world.cfn.complete(again)

    answers = world.cfn.answers(event)
    assert [a["Status"] for a in answers] == ["SUCCESS", "SUCCESS"]
    assert {a["PhysicalResourceId"] for a in answers} == {first["PhysicalResourceId"]}
    assert response.physical_id == first["PhysicalResourceId"]
    assert len(started_imports(world)) == 1


@pytest.mark.parametrize(
    ("fault", "count", "check"),
    [("deny", 1, "ListImports: AccessDeniedException"), ("throttle", 10, "ThrottlingException")],
    ids=["refused-once", "throttled-past-botocore"],
)
def test_a_rollback_whose_look_up_fails_copies_nothing_and_says_what_to_check(
    world: World, fault: str, count: int, check: str
) -> None:
    """A (COMPLETED) → B succeeded; the rollback (id B, A's properties) cannot read the
    store's imports. Before: it decided as if there were none and copied A's window again."""
    first = world.properties(start=DAY, end=DAY_END, wait=True)
    second = world.properties(start=DAY.replace(day=11), end=DAY_END.replace(day=11))
    created, _ = create(world, first)
    a = created.physical_id
    replaced, _ = world.cfn.complete(
        world.cfn.event("Update", second, physical_id=a, old_properties=first)
    )
    assert replaced.status == "SUCCESS", replaced.reason
    b = replaced.physical_id
    starts = len(started_imports(world))
    world.lake.faults.add(fault, count, "ListImports")  # type: ignore[arg-type]

    rollback = world.cfn.event("Update", first, physical_id=b, old_properties=second)
    response, _ = world.cfn.complete(rollback)

    assert response.status == "FAILED"
    assert response.physical_id == b
    assert response.reason.startswith("ImportLookupFailed: "), response.reason
    assert check in response.reason
    assert "nothing was started" in response.reason
    assert len(started_imports(world)) == starts
    # CloudFormation's rollback is retried by the operator once the look-up works: A is kept.
    world.lake.faults.clear()
    retried, _ = world.cfn.complete(
        world.cfn.event("Update", first, physical_id=b, old_properties=second)
    )
    assert retried.status == "SUCCESS", retried.reason
    assert retried.physical_id == a
    assert len(started_imports(world)) == starts


# ----------------------------------------------------------------------------- rule 6


def test_an_import_overlapping_a_completed_one_is_refused_unless_allowed(world: World) -> None:
    first = world.properties(start=DAY, end=DAY_END, wait=True)
    created, _ = create(world, first)
    assert created.status == "SUCCESS", created.reason
    account = world.archive.log_files[0].key.split("/")[1]
    wider = world.properties(
        prefix=f"AWSLogs/{account}/",
        start=DAY.replace(day=9),
        end=DAY_END.replace(day=11),
    )

    refused, _ = create(world, wider)

    assert refused.status == "FAILED"
    assert refused.reason.startswith(
        f"OverlappingImport: {created.physical_id} already holds 2025-01-10 (1 day) of this "
        "window; events imported twice are billed twice and cannot be deleted."
    ), refused.reason
    assert refused.physical_id.startswith("failed-create-")
    assert len(started_imports(world)) == 1

    allowed, _ = create(world, {**wider, "AllowOverlap": "true"})
    assert allowed.status == "SUCCESS", allowed.reason
    assert len(started_imports(world)) == 2
