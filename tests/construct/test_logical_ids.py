"""The logical ids of the resources a user cannot afford to see replaced.

A changed logical id makes CloudFormation replace the resource in every deployed stack: the
retained bucket and event data store would be orphaned and new empty ones created (an import
then starts again, billed again), and a named role would collide with its own replacement.
These ids are written out, not computed, so that moving a construct in the tree fails here.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build_app
from cloudtrail_lake_import import CloudTrailLakeImport
from constructs import Construct
from tests.cdk_json import RECOMMENDED_CONTEXT

DEFAULT_APP_IDS = {
    "AWS::S3::Bucket": "TrailArchiveImportSourceBucket967D9CE2",
    "AWS::CloudTrail::EventDataStore": "TrailArchiveImportEventDataStore2DF64A80",
    "access role": "TrailArchiveImportAccessRole5460BDD0",
    "handler role": "TrailArchiveImportHandlerRole5FE85598",
}
NESTED_IDS = {
    "AWS::S3::Bucket": "OrgArchiveImportSourceBucket0B07DE00",
    "AWS::CloudTrail::EventDataStore": "OrgArchiveImportEventDataStore4A5CC5D9",
    "access role": "OrgArchiveImportAccessRole414695BB",
    "handler role": "OrgArchiveImportHandlerRoleB7AAE884",
}


def default_app_template() -> Template:
    app = build_app(RECOMMENDED_CONTEXT)
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    return Template.from_stack(stack)


def nested_placement_template() -> Template:
    app = cdk.App(context=RECOMMENDED_CONTEXT)
    stack = cdk.Stack(app, "Archive")
    CloudTrailLakeImport(Construct(Construct(stack, "Org"), "Archive"), "Import")
    return Template.from_stack(stack)


def pinned_ids(template: Template) -> dict[str, str]:
    """The logical id of the bucket, the store and each role, told apart by who assumes it."""
    ids = {
        type_: only(template.find_resources(type_))
        for type_ in ("AWS::S3::Bucket", "AWS::CloudTrail::EventDataStore")
    }
    for logical_id, role in template.find_resources("AWS::IAM::Role").items():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        service = statement["Principal"]["Service"]
        kind = {"cloudtrail.amazonaws.com": "access role", "lambda.amazonaws.com": "handler role"}
        assert kind[service] not in ids, f"two roles assumed by {service}"
        ids[kind[service]] = logical_id
    return ids


def only(found: Mapping[str, object]) -> str:
    (logical_id,) = found
    return logical_id


@pytest.mark.parametrize(
    ("build", "expected"),
    [(default_app_template, DEFAULT_APP_IDS), (nested_placement_template, NESTED_IDS)],
    ids=["default app", "nested in constructs"],
)
def test_the_retained_resources_and_the_roles_keep_their_logical_ids(
    build: object, expected: dict[str, str]
) -> None:
    assert callable(build)
    assert pinned_ids(build()) == expected
