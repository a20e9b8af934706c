"""The plan's definition keeps going where AWS answers unexpectedly: a notification that
cannot be delivered, an import that has no statistics yet."""

from __future__ import annotations

import json
from typing import Any

from tests.lake_emulator.trail_archive import TrailArchive
from tests.plan.engine import PlanEngine
from tests.plan.scenario import DAYS, Plan


def test_a_notification_that_cannot_be_delivered_does_not_stop_the_plan(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    engine.client("sns").delete_topic(TopicArn=plan.topic)

    execution = engine.wait_for_execution(plan.start(plan.execution_input()))

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = json.loads(execution["output"])["Segments"]
    assert [s["ImportStatus"] for s in segments] == ["COMPLETED"] * len(DAYS)
    # Every notification was tried (and retried) on SNS, and the events still reached the bus.
    history = engine.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"], maxResults=1000
    )["events"]
    failed_publishes = [e for e in history if e["type"] == "TaskFailed"]
    assert failed_publishes
    assert all(e["taskFailedEventDetails"]["resourceType"] == "sns" for e in failed_publishes)
    # moto's state is process-wide: the queue may hold earlier tests' events.
    kinds = sorted(
        e["detail-type"]
        for e in plan.events()
        if e["detail"]["ExecutionArn"] == execution["executionArn"]
    )
    assert kinds == ["CloudTrail Lake Import Plan Finished"] + [
        "CloudTrail Lake Import Plan Segment Finished"
    ] * len(DAYS)


def test_an_initializing_import_without_statistics_is_polled_until_it_completes(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    engine.router.omit_statistics_while_initializing = True
    plan = Plan(engine, templates["stop"], archive)

    execution = engine.wait_for_execution(plan.start(plan.execution_input()))

    assert engine.router.statistics_omitted > 0, "no GetImport answered without statistics"
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    segments = json.loads(execution["output"])["Segments"]
    for segment, day in zip(segments, DAYS, strict=True):
        assert segment["ImportStatus"] == "COMPLETED"
        assert segment["ImportStatistics"]["FilesCompleted"] == len(plan.day_keys(day))
