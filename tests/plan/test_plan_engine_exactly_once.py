"""The plan's StartImport calls meet AWS as it is: throttled (CloudTrail's control plane allows
about one call a second, shared with the command line and other stacks), answered with a server
error, or processed with the answer lost. No window is imported twice, and every import that
ran is named in the segment's result."""

from __future__ import annotations

import json
from typing import Any

from tests.lake_emulator.trail_archive import TrailArchive
from tests.plan.engine import PlanEngine
from tests.plan.scenario import DAYS, NOT_GZIP, Plan


def imports_by_day(engine: PlanEngine, plan: Plan) -> dict[str, int]:
    """How many imports of each day's window the store holds."""
    counts: dict[str, int] = {}
    for record in engine.lake.imports.values():
        if record.store.arn == plan.store.arn:
            day = record.describe(statistics=False)["StartEventTime"]
            counts[str(day)] = counts.get(str(day), 0) + 1
    return counts


def test_a_throttled_start_import_is_retried_and_every_segment_completes_once(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    engine.lake.faults.add("throttle", 2, "StartImport")

    execution = engine.wait_for_execution(plan.start(plan.execution_input()))

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = json.loads(execution["output"])["Segments"]
    assert [s["ImportStatus"] for s in segments] == ["COMPLETED"] * len(DAYS)
    assert engine.lake.operations(outcome="throttled") == ["StartImport", "StartImport"]
    assert sorted(imports_by_day(engine, plan).values()) == [1, 1, 1]


def test_a_start_import_processed_with_its_answer_lost_is_found_and_followed_not_sent_again(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    engine.lake.faults.add("reset_after", 1, "StartImport", after=1)

    execution = engine.wait_for_execution(plan.start(plan.execution_input()))

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = json.loads(execution["output"])["Segments"]
    assert [s["ImportStatus"] for s in segments] == ["COMPLETED"] * len(DAYS)
    (lost,) = [c for c in engine.lake.calls if c.outcome == "reset_after"]
    # The look-up found the import the lost call had started, and the segment names it.
    started = [i for i in engine.lake.imports.values() if i.store.arn == plan.store.arn]
    assert segments[1]["ImportId"] in {i.import_id for i in started}
    assert "ListImports" in engine.lake.operations()
    assert sorted(imports_by_day(engine, plan).values()) == [1, 1, 1]
    assert lost.params["StartEventTime"] == segments_start(plan, 1)


def test_a_start_import_refused_by_a_server_error_is_looked_up_then_reported_not_started(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    engine.lake.faults.add("server_error", 1, "StartImport", after=1)

    execution = engine.wait_for_execution(plan.start(plan.execution_input()))

    assert execution["status"] == "FAILED"
    stopped = json.loads(json.loads(execution["cause"])["Cause"])
    assert (stopped["Index"], stopped["ImportStatus"]) == (1, "NOT_STARTED")
    # (moto names a 5xx CloudTrail.CloudTrailException; Step Functions its error code.)
    assert stopped["Error"].startswith("CloudTrail.")
    # Looked for before it was declared not started; no second StartImport for the window.
    outcomes = [(c.operation, c.outcome) for c in engine.lake.calls]
    refused_at = outcomes.index(("StartImport", "500"))
    assert ("ListImports", "ok") in outcomes[refused_at:]
    assert [op for op, _ in outcomes[refused_at + 1 :]].count("StartImport") == 0
    assert sorted(imports_by_day(engine, plan).values()) == [1]


def test_a_refused_retry_reports_the_import_that_ran_with_its_real_status(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    plan.s3.put_object(Bucket=plan.bucket, Key=plan.day_keys(DAYS[1])[0], Body=NOT_GZIP)
    # Day 0 and day 1 start; the retry of day 1 (the third StartImport) is refused.
    engine.lake.faults.add("deny", 1, "StartImport", after=2)

    execution = engine.wait_for_execution(plan.start(plan.execution_input(max_retries=1)))

    assert execution["status"] == "FAILED"
    segment = json.loads(json.loads(execution["cause"])["Cause"])
    (failed_import,) = [
        i
        for i in engine.lake.imports.values()
        if i.store.arn == plan.store.arn and i.status != "COMPLETED"
    ]
    assert segment["Index"] == 1
    assert segment["ImportId"] == failed_import.import_id
    assert segment["ImportStatus"] == "FAILED"
    assert segment["Error"] == "CloudTrail.AccessDeniedException"


def segments_start(plan: Plan, index: int) -> int:
    from datetime import UTC, datetime

    day = DAYS[index]
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
