"""Synthesizes stacks with the construct for the synth-time tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from cloudtrail_lake_import import CloudTrailLakeImport
from constructs import IConstruct
from tests.cdk_json import RECOMMENDED_CONTEXT

Synth = Callable[..., tuple[cdk.Stack, CloudTrailLakeImport, Template]]
STORE_ARN = "arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1"


@pytest.fixture
def synth() -> Synth:
    """Build a stack holding one CloudTrailLakeImport with the given props."""

    def build(**props: Any) -> tuple[cdk.Stack, CloudTrailLakeImport, Template]:
        app = new_app()
        stack = cdk.Stack(app, "TestStack")
        construct = CloudTrailLakeImport(stack, "Import", **props)
        return stack, construct, Template.from_stack(stack)

    return build


def new_app() -> cdk.App:
    return cdk.App(context=RECOMMENDED_CONTEXT)


def logical_id(stack: cdk.Stack, construct: IConstruct | None) -> str:
    """The logical id of a construct's CloudFormation resource (its default child)."""
    assert construct is not None
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement)
    return stack.get_logical_id(child)


def resources(template: Template, type_: str) -> dict[str, Any]:
    found: dict[str, Any] = dict(template.find_resources(type_))
    return found


def only(template: Template, type_: str) -> dict[str, Any]:
    found = resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.values()))
