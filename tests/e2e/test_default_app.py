"""The default app's synthesized custom resource, deployed against the emulated account.

The properties come from the template of ``app.build_app()`` with cdk.json's context (as
``cdk synth`` builds it); their intrinsics are resolved to
the emulated resources (the archive bucket, a store seeded from the template's
``AWS::CloudTrail::EventDataStore``, the access role, the handler function), as CloudFormation
would resolve them, and every value is delivered as a string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app import build_app
from tests.cdk_json import RECOMMENDED_CONTEXT
from tests.e2e.harness import ACCOUNT, FUNCTION_ARN, REGION, STACK_ID
from tests.e2e.world import World

CUSTOM_TYPE = "Custom::CloudTrailLakeImport"


@dataclass(frozen=True)
class Synthesized:
    resources: Mapping[str, Any]

    def of_type(self, resource_type: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}


_SYNTH_CACHE: dict[str, Synthesized] = {}


def synthesize(wait: bool) -> Synthesized:
    key = str(wait)
    if key not in _SYNTH_CACHE:
        context = {**RECOMMENDED_CONTEXT, **({"waitForCompletion": "true"} if wait else {})}
        assembly = build_app(context).synth()
        [stack] = [s for s in assembly.stacks if CUSTOM_TYPE in str(s.template)]
        _SYNTH_CACHE[key] = Synthesized(stack.template["Resources"])
    return _SYNTH_CACHE[key]


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split."""

    def __init__(self, refs: Mapping[str, str], attributes: Mapping[tuple[str, str], str]) -> None:
        self.refs = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": STACK_ID,
            "AWS::StackName": STACK_ID.split("/")[1],
            **refs,
        }
        self.attributes = attributes

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(item) for item in node]
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, value),) = node.items()
                if key == "Ref":
                    return self.refs[value]
                if key == "Fn::GetAtt":
                    lid, attr = value if isinstance(value, list) else value.split(".", 1)
                    return self.attributes[(lid, attr)]
                if key == "Fn::Join":
                    return str(value[0]).join(str(self(v)) for v in value[1])
                if key == "Fn::Sub":
                    return self._sub(value)
                if key == "Fn::Select":
                    return self(value[1])[int(self(value[0]))]
                if key == "Fn::Split":
                    return str(self(value[1])).split(value[0])
                assert not key.startswith("Fn::"), f"unsupported intrinsic {key}"
            return {k: self(v) for k, v in node.items()}
        if isinstance(node, bool):
            return "true" if node else "false"  # CloudFormation delivers strings
        if isinstance(node, int | float):
            return str(node)
        return node

    def _sub(self, value: Any) -> str:
        template, variables = (value, {}) if isinstance(value, str) else value
        local = {k: str(self(v)) for k, v in variables.items()}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return local[name]
            if "." in name:
                lid, attr = name.split(".", 1)
                return self.attributes[(lid, attr)]
            return self.refs[name]

        return re.sub(r"\$\{([^}!]+)\}", one, template)


def deploy_resources(world: World, synthesized: Synthesized) -> Resolver:
    """Map each template resource the custom resource refers to onto the emulated account."""
    refs: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    for lid, resource in synthesized.of_type("AWS::S3::Bucket").items():
        rules = resource["Properties"]["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # as the archive bucket
        refs[lid] = world.bucket
        attributes[(lid, "Arn")] = f"arn:aws:s3:::{world.bucket}"
    for lid, resource in synthesized.of_type("AWS::CloudTrail::EventDataStore").items():
        props = resource.get("Properties", {})
        status = "ENABLED" if props.get("IngestionEnabled", True) else "STOPPED_INGESTION"
        world.store = world.lake.add_event_data_store(
            lid, status=status, retention_days=int(props.get("RetentionPeriod", 2557))
        )
        refs[lid] = world.store.arn
        attributes[(lid, "EventDataStoreArn")] = world.store.arn
    for lid in synthesized.of_type("AWS::IAM::Role"):
        refs[lid] = f"{lid[:40]}-e2e"
        attributes[(lid, "Arn")] = f"arn:aws:iam::{ACCOUNT}:role/{lid[:40]}-e2e"
    [(function_lid, function)] = synthesized.of_type("AWS::Lambda::Function").items()
    assert function["Properties"]["Handler"] == "index.handler"
    world.cfn.function_timeout = float(function["Properties"].get("Timeout", 3))
    refs[function_lid] = FUNCTION_ARN.rsplit(":", 1)[1]
    attributes[(function_lid, "Arn")] = FUNCTION_ARN
    return Resolver(refs, attributes)


def template_properties(world: World, wait: bool) -> dict[str, Any]:
    synthesized = synthesize(wait)
    [custom] = synthesized.of_type(CUSTOM_TYPE).values()
    resolve = deploy_resources(world, synthesized)
    properties: dict[str, Any] = resolve(custom["Properties"])
    assert properties.pop("ServiceToken") == FUNCTION_ARN
    return properties


def test_default_app_create_without_waiting(world: World) -> None:
    properties = template_properties(world, wait=False)
    assert properties["Destinations"] == [world.store.arn]
    assert properties["ImportSource"]["S3"]["S3LocationUri"] == f"s3://{world.bucket}/"
    assert properties.get("WaitForCompletion", "false") == "false"
    response, run = world.cfn.complete(world.cfn.event("Create", properties))
    assert response.status == "SUCCESS", response.reason
    assert list(world.lake.imports) == [response.physical_id]
    assert response.data["ImportId"] == response.physical_id
    assert len(run.invocations) == 1


def test_default_app_create_with_waiting(world: World) -> None:
    properties = template_properties(world, wait=True)
    assert properties["WaitForCompletion"] == "true"
    response, run = world.cfn.complete(world.cfn.event("Create", properties))
    assert response.status == "SUCCESS", response.reason
    expected = world.archive.expected()
    assert response.data == {
        "ImportId": response.physical_id,
        "ImportStatus": "COMPLETED",
        "PrefixesFound": str(expected.prefixes),
        "PrefixesCompleted": str(expected.prefixes),
        "FilesCompleted": str(expected.files),
        "EventsCompleted": str(expected.events),
        "FailedEntries": "0",
    }
    assert run.timeouts == 0
