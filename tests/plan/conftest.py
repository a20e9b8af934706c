"""A stack with the plan the issue asks for: five yearly segments from two buckets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from cloudtrail_lake_import import CloudTrailLakeImportPlan, ImportSpec
from tests.construct.conftest import STORE_ARN, new_app
from tests.lake_emulator.trail_archive import TrailArchive
from tests.plan.engine import PlanEngine, plan_engine


def year(y: int) -> datetime:
    return datetime(y, 1, 1, tzinfo=UTC)


def five_years_two_buckets(stack: cdk.Stack, **props: Any) -> CloudTrailLakeImportPlan:
    legacy = s3.Bucket.from_bucket_name(stack, "Legacy", "legacy-trail-archive")
    org = s3.Bucket.from_bucket_name(stack, "Org", "org-trail-archive")
    return CloudTrailLakeImportPlan(
        stack,
        "Plan",
        event_data_store=STORE_ARN,
        imports=[
            ImportSpec(legacy, "AWSLogs/111122223333/CloudTrail/", year(2019), year(2022)),
            ImportSpec(org, "AWSLogs/o-abc123/", year(2022), year(2024)),
        ],
        split_window_by=cdk.Duration.days(365),
        **props,
    )


def plan_stack(**props: Any) -> tuple[cdk.App, cdk.Stack, CloudTrailLakeImportPlan]:
    app = new_app()
    stack = cdk.Stack(app, "PlanStack")
    if props.pop("with_topic", False):
        props["notify"] = sns.Topic(stack, "Topic", enforce_ssl=True)
    return app, stack, five_years_two_buckets(stack, **props)


def definition(template: dict[str, Any]) -> dict[str, Any]:
    """The state machine's ASL, with CloudFormation's intrinsics rendered as placeholders."""
    (machine,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    text = machine["Properties"]["DefinitionString"]
    if isinstance(text, dict):
        parts = text["Fn::Join"][1]
        text = "".join(p if isinstance(p, str) else _placeholder(p) for p in parts)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _placeholder(intrinsic: dict[str, Any]) -> str:
    if intrinsic == {"Ref": "AWS::Partition"}:
        return "aws"
    return "${" + json.dumps(intrinsic, sort_keys=True).replace('"', "'") + "}"


def inner_states(asl: dict[str, Any]) -> dict[str, Any]:
    states: dict[str, Any] = asl["States"]["EachSegment"]["ItemProcessor"]["States"]
    return states


@pytest.fixture(scope="session")
def templates() -> dict[str, dict[str, Any]]:
    """The synthesized plan: stopping at a failed segment (default) and going on."""
    from aws_cdk.assertions import Template

    found = {}
    for name, props in (("stop", {}), ("go_on", {"continue_on_failure": True})):
        _, stack, _ = plan_stack(with_topic=True, **props)
        found[name] = dict(Template.from_stack(stack).to_json())
    return found


@pytest.fixture(scope="session")
def archive() -> TrailArchive:
    """One account and region, three days of two log files each."""
    from tests.plan.scenario import three_day_archive

    return three_day_archive()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[PlanEngine]:
    """The plan's state machine runner: moto's ASL interpreter with the Lake emulator behind it.
    (Tests that need more around it, like the custom resource's, define their own.)"""
    with plan_engine(tmp_path) as running:
        yield running
