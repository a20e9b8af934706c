"""``verify --stack``: a deployed import (its GetImport) or every segment of a plan (its
execution's input), stack and execution stubbed on botocore's model, imports really run; and
the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import clients as cli_clients
from cloudtrail_lake_import.cli import lake_query as lake_query_module
from cloudtrail_lake_import.cli import verify as verify_module
from tests.cli.verify_world import groups_of, records_of, scenario, small_archive, utc
from tests.e2e.harness import REGION
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import ROLE_ARN, EmulatedAccount
from tests.lake_emulator.trail_archive import TrailArchive

SCRIPT = Path(sys.executable).parent / "cloudtrail-lake-import"
EXECUTION_ARN = "arn:aws:states:us-east-1:111122223333:execution:ImportPlan:plan-0123"


@pytest.fixture(scope="module")
def archive() -> TrailArchive:
    return small_archive()


@pytest.fixture
def emulated_time(account: EmulatedAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        verify_module, "now", lambda: datetime.fromtimestamp(account.clock.now(), UTC)
    )
    monkeypatch.setattr(lake_query_module, "sleep", account.clock.advance)


def stack_answering(monkeypatch: pytest.MonkeyPatch, resource: dict[str, Any]) -> Stubber:
    client = boto3.client("cloudformation")
    stubber = Stubber(client)
    monkeypatch.setattr(cli_clients, "cloudformation", lambda: client)
    stubber.add_response("list_stack_resources", {"StackResourceSummaries": [resource]})
    stubber.activate()
    return stubber


def summary(logical_id: str, physical_id: str, resource_type: str) -> dict[str, Any]:
    return {
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "LastUpdatedTimestamp": datetime(2025, 1, 20, tzinfo=UTC),
        "ResourceStatus": "CREATE_COMPLETE",
    }


@pytest.mark.usefixtures("emulated_time")
def test_verify_stack_reads_the_deployed_imports_location_window_and_store(
    runner: CliRunner,
    account: EmulatedAccount,
    s3_server: MotoS3Tls,
    archive: TrailArchive,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = scenario(account, s3_server, archive)
    imported = world.run_import(start=utc("2025-01-11T00:00:00"), end=utc("2025-01-11T23:59:00"))
    stack = stack_answering(
        monkeypatch, summary("TrailImport", imported["ImportId"], "Custom::CloudTrailLakeImport")
    )
    result = runner.invoke(cli, ["verify", "--stack", "ArchiveImport", "--json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["store"] == world.store.arn
    assert document["window"] == {"start": "2025-01-11T00:00:00Z", "end": "2025-01-11T23:59:00Z"}
    assert document["complete"] is True
    stack.assert_no_pending_responses()


def segment(index: int, store: str, uri: str, start: str, end: str) -> dict[str, Any]:
    return {
        "Index": index,
        "Request": {
            "Destinations": [store],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": uri,
                    "S3BucketRegion": REGION,
                    "S3BucketAccessRoleArn": ROLE_ARN,
                }
            },
            "StartEventTime": start,
            "EndEventTime": end,
        },
    }


@pytest.mark.usefixtures("emulated_time")
def test_verify_stack_of_a_plan_verifies_every_segment_together(
    runner: CliRunner,
    account: EmulatedAccount,
    s3_server: MotoS3Tls,
    archive: TrailArchive,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = scenario(account, s3_server, archive)
    days = ("2025-01-10", "2025-01-11", "2025-01-12")
    segments = [
        segment(i, world.store.arn, world.uri, f"{day}T00:00:00Z", f"{day}T23:59:00Z")
        for i, day in enumerate(days)
    ]
    for day in days[:2]:  # the last segment never ran
        world.run_import(start=utc(f"{day}T00:00:00"), end=utc(f"{day}T23:59:00"))
    stack = stack_answering(
        monkeypatch, summary("Plan", EXECUTION_ARN, "Custom::CloudTrailLakeImportPlan")
    )
    states = boto3.client("stepfunctions")
    execution = Stubber(states)
    execution.add_response(
        "describe_execution",
        {
            "executionArn": EXECUTION_ARN,
            "stateMachineArn": "arn:aws:states:us-east-1:111122223333:stateMachine:ImportPlan",
            "status": "RUNNING",
            "startDate": datetime(2025, 1, 20, tzinfo=UTC),
            "input": json.dumps({"Segments": segments}),
        },
        {"executionArn": EXECUTION_ARN},
    )
    execution.activate()
    monkeypatch.setattr(cli_clients, "stepfunctions", lambda: states)
    result = runner.invoke(cli, ["verify", "--stack", "ArchivePlan", "--json"])
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert [s["uri"] for s in document["sources"]] == [world.uri] * 3
    assert document["window"] == {"start": "2025-01-10T00:00:00Z", "end": "2025-01-12T23:59:00Z"}
    statuses = {g["day"]: g["status"] for g in document["groups"]}
    assert statuses["2025-01-12"] == "missing"
    assert statuses["2025-01-10"] == "ok"
    stack.assert_no_pending_responses()
    execution.assert_no_pending_responses()


def test_the_console_script_proves_a_complete_import(
    account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    world.run_import()
    result = subprocess.run(
        [str(SCRIPT), "verify", world.uri, "--store", world.store.arn, "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["complete"] is True
    assert document["totals"]["archive_events"] == sum(groups_of(records_of(archive)).values())
    assert "verify will download" in result.stderr
