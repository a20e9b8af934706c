"""A plan outlives one execution's 25,000 history events: after a few polls (here 1, at synth
2 segments per link) it continues in ``<name>-cont-<N>``, at the same segment, following the
import it had started; ``status --stack`` follows the chain to its newest link."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from cloudtrail_lake_import.cli import plan_status
from cloudtrail_lake_import.plan import continuation
from plan_handler import chain
from tests.lake_emulator.trail_archive import TrailArchive
from tests.plan.conftest import plan_stack
from tests.plan.engine import PlanEngine
from tests.plan.scenario import DAYS, NOT_GZIP, Plan


def short_links(monkeypatch: pytest.MonkeyPatch, **props: Any) -> dict[str, Any]:
    monkeypatch.setattr(continuation, "POLLS_BEFORE_CONTINUING", 1)
    monkeypatch.setattr(continuation, "SEGMENTS_PER_EXECUTION", 2)
    _, stack, _ = plan_stack(with_topic=True, **props)
    return dict(Template.from_stack(stack).to_json())


def new_imports(engine: PlanEngine) -> list[dict[str, Any]]:
    return [p for op, p in engine.router.calls if op == "StartImport" and "ImportId" not in p]


def test_a_long_plan_continues_in_fresh_executions_and_imports_each_window_once(
    engine: PlanEngine, archive: TrailArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = Plan(engine, short_links(monkeypatch), archive)
    root = plan.start(plan.execution_input())

    links = engine.wait_for_chain(root)

    assert len(links) >= 3  # a hand-over mid-import at least once per segment
    *handed_over, last = links
    assert all(link["status"] == "SUCCEEDED" for link in handed_over)
    assert last["status"] == "SUCCEEDED", last.get("cause")
    assert [link["name"] for link in links] == [
        chain.continuation_name("plan", n) for n in range(len(links))
    ]
    segments = json.loads(last["output"])["Segments"]
    assert [s["ImportStatus"] for s in segments] == ["COMPLETED"] * len(DAYS)
    # Each window started once: a link follows the import its predecessor handed over.
    assert len(new_imports(engine)) == len(DAYS)
    on_store = [i for i in engine.lake.imports.values() if i.store.arn == plan.store.arn]
    assert sorted(i.status for i in on_store) == ["COMPLETED"] * len(DAYS)
    # One Plan Finished event, from the last link; every segment's own event once.
    events = plan.events()
    finished = [e for e in events if e["detail"].get("Status")]
    assert [e["detail"]["ExecutionArn"] for e in finished] == [last["executionArn"]]
    assert len(events) - len(finished) == len(DAYS)

    # status --stack, given the stack's execution (the root), shows the newest link.
    status = plan_status.read_plan(
        engine.client("stepfunctions"), engine.client("cloudtrail"), root
    )
    assert status.execution_arn == last["executionArn"]
    assert status.chain == tuple(link["executionArn"] for link in links)
    assert status.status == "SUCCEEDED"
    assert [s.status for s in status.segments] == ["COMPLETED"] * len(DAYS)
    assert {s.import_id for s in status.segments} == {i.import_id for i in on_store}


def test_with_continue_on_failure_a_failure_in_an_earlier_link_still_fails_the_plan(
    engine: PlanEngine, archive: TrailArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = Plan(engine, short_links(monkeypatch, continue_on_failure=True), archive)
    plan.s3.put_object(Bucket=plan.bucket, Key=plan.day_keys(DAYS[0])[0], Body=NOT_GZIP)

    links = engine.wait_for_chain(plan.start(plan.execution_input(max_retries=0)))

    last = links[-1]
    assert last["status"] == "FAILED"
    assert last["error"] == "CloudTrailLakeImportPlan.SegmentsFailed"
    assert json.loads(last["cause"]) == {
        "FailedSegments": [0],
        "SegmentStatuses": ["FAILED", "COMPLETED", "COMPLETED"],
    }
    assert len(new_imports(engine)) == len(DAYS)
