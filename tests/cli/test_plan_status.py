"""``status --stack`` of a plan: the synthesized state machine run by moto's ASL interpreter
against the CloudTrail Lake emulator (``tests/plan/engine.py``), the stack stubbed on
CloudFormation's model."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import clients as cli_clients
from tests.e2e.harness import ACCOUNT
from tests.plan.conftest import archive, templates  # noqa: F401 - fixtures
from tests.plan.engine import PlanEngine, plan_engine
from tests.plan.scenario import DAYS, NOT_GZIP, Plan


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlanEngine]:
    with plan_engine(tmp_path) as running:
        monkeypatch.setattr(
            cli_clients, "stepfunctions", lambda in_region=None: running.client("stepfunctions")
        )
        monkeypatch.setattr(
            cli_clients, "cloudtrail", lambda in_region=None: running.client("cloudtrail")
        )
        yield running


def stack_with_plan(monkeypatch: pytest.MonkeyPatch, execution_arn: str, calls: int = 2) -> Stubber:
    client = boto3.client("cloudformation", region_name="us-east-1")
    stubber = Stubber(client)
    summary = {
        "LogicalResourceId": "Plan",
        "PhysicalResourceId": execution_arn,
        "ResourceType": "Custom::CloudTrailLakeImportPlan",
        "LastUpdatedTimestamp": datetime(2025, 1, 20, tzinfo=UTC),
        "ResourceStatus": "CREATE_COMPLETE",
    }
    for _ in range(calls):
        stubber.add_response("list_stack_resources", {"StackResourceSummaries": [summary]})
    stubber.activate()
    monkeypatch.setattr(cli_clients, "cloudformation", lambda: client)
    return stubber


def plan_json(runner: CliRunner) -> dict[str, Any]:
    result = runner.invoke(cli, ["status", "--stack", "PlanStack", "--json"])
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)["plan"]
    return document


def test_a_finished_plan_shows_every_segment(
    runner: CliRunner,
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],  # noqa: F811
    archive: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    done_before = plan.complete_import_of(DAYS[0])
    arn = plan.start(plan.execution_input())
    assert engine.wait_for_execution(arn)["status"] == "SUCCEEDED"
    stack_with_plan(monkeypatch, arn, calls=3)
    document = plan_json(runner)
    assert (document["execution_arn"], document["status"]) == (arn, "SUCCEEDED")
    assert (document["segments_done"], document["segments_total"]) == (3, 3)
    segments = document["segments"]
    assert [(s["index"], s["status"], s["skipped"]) for s in segments] == [
        (0, "COMPLETED", True),
        (1, "COMPLETED", False),
        (2, "COMPLETED", False),
    ]
    assert segments[0]["import_id"] == done_before
    for segment, day in zip(segments, DAYS, strict=True):
        assert segment["start"] == f"{day:%Y-%m-%d}T00:00:00Z"
        assert segment["s3_uri"] == f"s3://{plan.bucket}/AWSLogs/{ACCOUNT}/CloudTrail/"
        assert segment["files_completed"] == len(plan.day_keys(day))
    human = runner.invoke(cli, ["status", "--stack", "PlanStack"])
    assert human.exit_code == 0, human.stderr
    assert "SUCCEEDED" in human.stdout
    assert "skipped: done before" in human.stdout
    assert re.search(r"segments .*3/3 +100%", human.stdout)
    watched = runner.invoke(cli, ["status", "--stack", "PlanStack", "--watch", "--json"])
    assert watched.exit_code == 0, watched.stderr
    assert [json.loads(line)["plan"] for line in watched.stdout.splitlines()] == [document]


def test_a_stopped_plan_shows_the_failed_segment_and_the_ones_never_started(
    runner: CliRunner,
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],  # noqa: F811
    archive: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    for key in plan.day_keys(DAYS[1]):
        plan.s3.put_object(Bucket=plan.bucket, Key=key, Body=NOT_GZIP)
    arn = plan.start(plan.execution_input(max_retries=0))
    assert engine.wait_for_execution(arn)["status"] == "FAILED"
    stack_with_plan(monkeypatch, arn)
    document = plan_json(runner)
    assert document["status"] == "FAILED"
    assert [(s["index"], s["status"]) for s in document["segments"]] == [
        (0, "COMPLETED"),
        (1, "FAILED"),
        (2, "NOT_RUN"),  # as the engine lists it: the plan stopped before it
    ]
    assert (document["segments_done"], document["segments_total"]) == (2, 3)
    assert document["segments"][2]["import_id"] is None


def test_a_running_plan_shows_the_running_segments_import_from_getimport(
    runner: CliRunner,
    engine: PlanEngine,
    templates: dict[str, dict[str, Any]],  # noqa: F811
    archive: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = Plan(engine, templates["stop"], archive)
    arn = plan.start(plan.execution_input())
    seen: list[dict[str, Any]] = []

    def running_segment_seen() -> bool:
        stubber = stack_with_plan(monkeypatch, arn)
        seen.append(plan_json(runner))
        stubber.deactivate()
        return any(s["import_id"] and not s["finished"] for s in seen[-1]["segments"])

    engine.wait_until(running_segment_seen, timeout=60)
    document = seen[-1]
    assert document["status"] == "RUNNING"
    running = [s for s in document["segments"] if s["import_id"] and not s["finished"]]
    (segment,) = running
    # GetImport's status at that moment (the state machine may not have seen it end yet)
    assert segment["status"] in ("INITIALIZING", "IN_PROGRESS", "COMPLETED")
    assert document["segments_done"] == segment["index"]
    stack_with_plan(monkeypatch, arn, calls=1)
    watched = runner.invoke(
        cli, ["status", "--stack", "PlanStack", "--watch", "--json", "--interval", "0.5"]
    )
    assert watched.exit_code == 0, watched.stderr
    frames = [json.loads(line)["plan"] for line in watched.stdout.splitlines()]
    assert frames[0]["status"] == "RUNNING"
    assert (frames[-1]["status"], frames[-1]["segments_done"]) == ("SUCCEEDED", 3)
    assert [f["status"] for f in frames[:-1]] == ["RUNNING"] * (len(frames) - 1)
