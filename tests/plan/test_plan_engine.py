"""The plan's synthesized state machine, executed by moto's ASL interpreter against the
CloudTrail Lake emulator (see ``engine.py``): the real definition, not a model of it."""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

from tests.e2e.harness import ACCOUNT, REGION
from tests.e2e.world import bucket_holding
from tests.lake_emulator.trail_archive import TrailArchive
from tests.plan.engine import PlanEngine
from tests.plan.scenario import DAYS, NOT_GZIP, ROLE, Plan


def test_segments_run_in_turn_waiting_for_a_busy_account_retrying_a_failure_skipping_done_ones(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    done_before = plan.complete_import_of(DAYS[0])
    execution_input = plan.execution_input()
    assert execution_input["Segments"][0]["Completed"]["ImportId"] == done_before
    # Someone else's import holds the account when the plan starts.
    other_bucket = bucket_holding(plan.s3, archive)
    other_store = engine.lake.add_event_data_store("other", account=ACCOUNT)
    blocker = engine.client("cloudtrail").start_import(
        Destinations=[other_store.arn],
        ImportSource={
            "S3": {
                "S3LocationUri": f"s3://{other_bucket}/",
                "S3BucketRegion": REGION,
                "S3BucketAccessRoleArn": ROLE,
            }
        },
    )["ImportId"]
    # The third day fails once: one of its files is not gzip until the plan retries it.
    broken = plan.day_keys(DAYS[2])[0]
    plan.s3.put_object(Bucket=plan.bucket, Key=broken, Body=NOT_GZIP)

    def repair_before_retry(operation: str, params: dict[str, Any]) -> None:
        if operation == "StartImport" and "ImportId" in params:
            plan.s3.put_object(Bucket=plan.bucket, Key=broken, Body=archive.objects()[broken])

    engine.router.hooks.append(repair_before_retry)

    execution = engine.wait_for_execution(plan.start(execution_input))

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = json.loads(execution["output"])["Segments"]
    assert [(s["Index"], s["ImportStatus"], s["Skipped"], s["Retries"]) for s in segments] == [
        (0, "COMPLETED", True, 0),
        (1, "COMPLETED", False, 0),
        (2, "COMPLETED", False, 1),
    ]
    assert segments[0]["ImportId"] == done_before
    for segment, day in zip(segments[1:], DAYS[1:], strict=True):
        assert segment["ImportStatistics"]["FilesCompleted"] == len(plan.day_keys(day))
    lake = engine.lake
    refused = lake.operations(outcome="AccountHasOngoingImportException")
    assert refused, "the plan should have met the busy account"
    assert lake.get(blocker).status == "COMPLETED"
    # The plan never copied the completed day again: one import per day on the store.
    on_store = [i for i in lake.imports.values() if i.store.arn == plan.store.arn]
    assert len(on_store) == 3
    # The failed day was retried by its ImportId, not started anew.
    retries = [p for op, p in engine.router.calls if op == "StartImport" and "ImportId" in p]
    assert retries == [{"ImportId": segments[2]["ImportId"]}]

    events = plan.events()
    kinds = sorted((e["detail-type"], e["detail"].get("Status", "")) for e in events)
    assert kinds == [
        ("CloudTrail Lake Import Plan Finished", "SUCCEEDED"),
        ("CloudTrail Lake Import Plan Segment Finished", ""),
        ("CloudTrail Lake Import Plan Segment Finished", ""),
        ("CloudTrail Lake Import Plan Segment Finished", ""),
    ]
    assert all(e["source"] == "cloudtrail-lake-import" for e in events)


def test_a_segment_that_keeps_failing_stops_the_plan_before_the_next_segment_starts(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    broken = plan.day_keys(DAYS[1])[0]
    plan.s3.put_object(Bucket=plan.bucket, Key=broken, Body=NOT_GZIP)

    execution = engine.wait_for_execution(plan.start(plan.execution_input(max_retries=1)))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "CloudTrailLakeImportPlan.Stopped"
    failure = json.loads(execution["cause"])
    assert failure["Error"] == "CloudTrailLakeImportPlan.SegmentFailed"
    segment = json.loads(failure["Cause"])
    assert (segment["Index"], segment["ImportStatus"], segment["Retries"]) == (1, "FAILED", 1)
    failures = segment["FirstFailures"]
    assert failures["ErrorTypes"] == ["InvalidFileFormat"]
    assert failures["Locations"] == [f"s3://{plan.bucket}/{broken}"]
    new_imports = [
        p for op, p in engine.router.calls if op == "StartImport" and "ImportId" not in p
    ]
    assert [p["StartEventTime"] for p in new_imports] == [
        plan_time(DAYS[0]),
        plan_time(DAYS[1]),
    ]
    # Every segment is listed: the one before COMPLETED, the failed one, the rest NOT_RUN.
    assert failure["SegmentStatuses"] == ["COMPLETED", "FAILED", "NOT_RUN"]
    events = plan.events()
    ended = sorted(e["detail-type"] for e in events)
    assert ended == [
        "CloudTrail Lake Import Plan Finished",
        "CloudTrail Lake Import Plan Segment Finished",
        "CloudTrail Lake Import Plan Segment Finished",
    ]
    (finished,) = [e["detail"] for e in events if e["detail"].get("Status")]
    assert [(s["Index"], s["ImportStatus"]) for s in finished["Segments"]] == [
        (0, "COMPLETED"),
        (1, "FAILED"),
        (2, "NOT_RUN"),
    ]
    assert finished["Segments"][1]["ImportId"] == segment["ImportId"]


def test_with_continue_on_failure_the_plan_goes_on_and_ends_failed_naming_the_segment(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["go_on"], archive)
    plan.s3.put_object(Bucket=plan.bucket, Key=plan.day_keys(DAYS[0])[0], Body=NOT_GZIP)

    # A failed segment hands over to the next link, so a link only goes past completed ones.
    first, execution = engine.wait_for_chain(plan.start(plan.execution_input(max_retries=0)))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "CloudTrailLakeImportPlan.SegmentsFailed"
    assert json.loads(execution["cause"]) == {
        "FailedSegments": [0],
        "SegmentStatuses": ["FAILED", "COMPLETED", "COMPLETED"],
    }
    statuses = [
        s["ImportStatus"] for s in engine_results(engine, execution["executionArn"])["Segments"]
    ]
    assert statuses == ["FAILED", "COMPLETED", "COMPLETED"]
    assert first["status"] == "SUCCEEDED"
    assert execution["name"] == f"{first['name']}-cont-1"


def test_stopping_the_execution_in_the_middle_starts_no_further_segment(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    second_started = threading.Event()

    def watch(operation: str, params: dict[str, Any]) -> None:
        if operation == "StartImport" and params.get("StartEventTime") == plan_time(DAYS[1]):
            second_started.set()

    engine.router.hooks.append(watch)
    arn = plan.start(plan.execution_input())
    assert second_started.wait(timeout=60)
    plan.states.stop_execution(executionArn=arn, error="Test.Stop", cause="stopped mid-plan")

    execution = engine.wait_for_execution(arn)

    # Step Functions reports ABORTED. moto 5.2.5 ends an execution stopped inside a Map with
    # FAILED/States.Runtime (its Map handler chokes on the aborted iteration); either way the
    # execution is over, and what matters is checked below: nothing more is started.
    assert execution["status"] in {"ABORTED", "FAILED"}
    assert execution["status"] == "ABORTED" or execution["error"] == "States.Runtime"
    # The execution has ended: its interpreter makes no further call (no sleep needed; day 2
    # could only start after day 1's import had completed, many polls later).
    starts = [p for op, p in engine.router.calls if op == "StartImport"]
    assert plan_time(DAYS[2]) not in [p.get("StartEventTime") for p in starts]


def plan_time(day: date) -> int:
    """StartEventTime as it reaches CloudTrail (botocore sends epoch seconds)."""
    from datetime import UTC, datetime

    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def engine_results(engine: PlanEngine, arn: str) -> dict[str, Any]:
    """The Summarize state's output (a failed execution has no output of its own)."""
    history = engine.client("stepfunctions").get_execution_history(
        executionArn=arn, maxResults=1000
    )["events"]
    (summary,) = [
        e["stateExitedEventDetails"]
        for e in history
        if e.get("stateExitedEventDetails", {}).get("name") == "ListFailedSegments"
    ]
    result: dict[str, Any] = json.loads(summary["output"])
    return result
