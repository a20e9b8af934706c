"""The plan's synthesized state machine, executed by moto's ASL interpreter against the
CloudTrail Lake emulator (see ``engine.py``): the real definition, not a model of it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from import_handler import cloudtrail
from plan_handler import plan_decisions, plan_properties
from tests.e2e.harness import ACCOUNT, REGION
from tests.e2e.world import bucket_holding
from tests.lake_emulator.records import EventDataStore
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive
from tests.plan.conftest import plan_stack
from tests.plan.engine import PlanEngine, plan_engine

DAYS = (date(2025, 1, 10), date(2025, 1, 11), date(2025, 1, 12))
ROLE = f"arn:aws:iam::{ACCOUNT}:role/PlanAccessRole0"
NOT_GZIP = b"this is not a gzip CloudTrail log file"


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    """The synthesized plan: stopping at a failed segment (default) and going on."""
    found = {}
    for name, props in (("stop", {}), ("go_on", {"continue_on_failure": True})):
        _, stack, _ = plan_stack(with_topic=True, **props)
        found[name] = dict(Template.from_stack(stack).to_json())
    return found


@pytest.fixture(scope="module")
def archive() -> TrailArchive:
    return generate_archive(
        seed=5, accounts=(ACCOUNT,), regions=(REGION,), days=DAYS, files_per_day=(2, 2)
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[PlanEngine]:
    with plan_engine(tmp_path) as running:
        yield running


class Plan:
    """One plan run: a bucket with the archive, a store, the state machine, an event queue."""

    def __init__(self, engine: PlanEngine, template: dict[str, Any], archive: TrailArchive):
        self.engine = engine
        self.s3 = engine.s3.client()
        self.bucket = bucket_holding(self.s3, archive)
        self.archive = archive
        self.store: EventDataStore = engine.lake.add_event_data_store("plan", account=ACCOUNT)
        sns = engine.client("sns")
        self.topic = sns.create_topic(Name="plan-notifications")["TopicArn"]
        self.machine = engine.machine_from(template, self.topic)
        self.queue = self._event_queue()
        self.states = engine.client("stepfunctions")

    def _event_queue(self) -> str:
        sqs = self.engine.client("sqs")
        url: str = sqs.create_queue(QueueName="plan-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = self.engine.client("events")
        events.put_rule(
            Name="plan-events", EventPattern=json.dumps({"source": ["cloudtrail-lake-import"]})
        )
        events.put_targets(Rule="plan-events", Targets=[{"Id": "queue", "Arn": arn}])
        return url

    def request(self, day: date) -> dict[str, Any]:
        return {
            "Destinations": [self.store.arn],
            "ImportSource": {
                "S3": {
                    "S3LocationUri": f"s3://{self.bucket}/AWSLogs/{ACCOUNT}/CloudTrail/",
                    "S3BucketRegion": REGION,
                    "S3BucketAccessRoleArn": ROLE,
                }
            },
            "StartEventTime": f"{day:%Y-%m-%d}T00:00:00Z",
            "EndEventTime": f"{day:%Y-%m-%d}T23:59:59Z",
        }

    def execution_input(self, *, max_retries: int = 2) -> dict[str, Any]:
        """Built as the plan handler builds it: its property parsing, its earlier-import lookup
        (every import on the store, read with the handler's GetImport), its decisions."""
        props = plan_properties.parse(
            {
                "StateMachineArn": self.machine,
                "Segments": [self.request(day) for day in DAYS],
                "PollIntervalSeconds": "1",
                "MaxRetries": str(max_retries),
            }
        )
        client = self.engine.client("cloudtrail")
        earlier: dict[Any, list[Any]] = {}
        for item in client.list_imports(Destination=self.store.arn)["Imports"]:
            record = cloudtrail.get_import(client, item["ImportId"])
            if record is not None and record.identity is not None:
                earlier.setdefault(record.identity, []).append(record)
        return plan_decisions.execution_input(props, earlier)

    def start(self, execution_input: dict[str, Any]) -> str:
        arn: str = self.states.start_execution(
            stateMachineArn=self.machine, name="plan", input=json.dumps(execution_input)
        )["executionArn"]
        return arn

    def day_keys(self, day: date) -> list[str]:
        return [
            k
            for k in sorted(self.archive.objects())
            if f"/{day:%Y/%m/%d}/" in k and "Digest" not in k
        ]

    def events(self) -> list[dict[str, Any]]:
        sqs = self.engine.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])

    def complete_import_of(self, day: date) -> str:
        """An import of ``day``'s segment, run to COMPLETED before the plan starts."""
        client = self.engine.client("cloudtrail")
        request = self.request(day)
        import_id: str = client.start_import(**request)["ImportId"]
        self.engine.wait_until(
            lambda: client.get_import(ImportId=import_id)["ImportStatus"] == "COMPLETED"
        )
        return import_id


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
    ended = sorted(e["detail-type"] for e in plan.events())
    assert ended == [
        "CloudTrail Lake Import Plan Finished",
        "CloudTrail Lake Import Plan Segment Finished",
        "CloudTrail Lake Import Plan Segment Finished",
    ]


def test_with_continue_on_failure_the_plan_goes_on_and_ends_failed_naming_the_segment(
    engine: PlanEngine, templates: dict[str, dict[str, Any]], archive: TrailArchive
) -> None:
    plan = Plan(engine, templates["go_on"], archive)
    plan.s3.put_object(Bucket=plan.bucket, Key=plan.day_keys(DAYS[0])[0], Body=NOT_GZIP)

    execution = engine.wait_for_execution(plan.start(plan.execution_input(max_retries=0)))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "CloudTrailLakeImportPlan.SegmentsFailed"
    assert json.loads(execution["cause"]) == [0]
    statuses = [
        s["ImportStatus"] for s in engine_results(engine, execution["executionArn"])["Segments"]
    ]
    assert statuses == ["FAILED", "COMPLETED", "COMPLETED"]


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
    before = len(engine.router.calls)
    threading.Event().wait(3)  # three poll intervals: nothing more may happen
    assert len(engine.router.calls) == before
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
