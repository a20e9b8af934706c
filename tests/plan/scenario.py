"""A plan run in the offline engine: a bucket with the archive, a store, the synthesized state
machine, a queue for its events (shared by the engine and the custom resource tests)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from import_handler import cloudtrail
from plan_handler import plan_decisions, plan_properties
from tests.e2e.harness import ACCOUNT, REGION
from tests.e2e.world import bucket_holding
from tests.lake_emulator.records import EventDataStore
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive
from tests.plan.engine import PlanEngine

DAYS = (date(2025, 1, 10), date(2025, 1, 11), date(2025, 1, 12))
ROLE = f"arn:aws:iam::{ACCOUNT}:role/PlanAccessRole0"
NOT_GZIP = b"this is not a gzip CloudTrail log file"


def three_day_archive() -> TrailArchive:
    return generate_archive(
        seed=5, accounts=(ACCOUNT,), regions=(REGION,), days=DAYS, files_per_day=(2, 2)
    )


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
        # moto's servers in one process share their backends: names of this run's own, so that
        # no earlier test's plan events (the command line's tests run plans too) land here.
        name = f"plan-events-{uuid.uuid4().hex[:12]}"
        sqs = self.engine.client("sqs")
        url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = self.engine.client("events")
        events.put_rule(Name=name, EventPattern=json.dumps({"source": ["cloudtrail-lake-import"]}))
        events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
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
                earlier.setdefault(plan_decisions.source_key(record.identity), []).append(record)
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
