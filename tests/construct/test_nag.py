"""cdk-nag AwsSolutions: no unacknowledged finding, and every acknowledgment says why."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

import cloudtrail_lake_import.single_import.lake_import
from app import build_app
from cloudtrail_lake_import import CloudTrailLakeImport
from tests.cdk_json import RECOMMENDED_CONTEXT
from tests.construct.conftest import STORE_ARN, hardening_vpc, logical_id, new_app


def findings(app: cdk.App, stack: cdk.Stack) -> list[str]:
    report = AwsSolutionsChecks(app).validate_scope(stack)
    found = [v.rule_name for v in report.violations]
    assert report.success == (not found)
    return found


def acknowledgments(stack: cdk.Stack) -> list[dict[str, Any]]:
    """The acknowledged rule ids (without CDK's ``Annotation::`` prefix) and their reasons."""
    found: list[dict[str, Any]] = []
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found.extend(
                    {"id": rule.removeprefix("Annotation::"), "reason": reason}
                    for rule, reason in entry.data.items()
                )
    return found


def configured_stack(variant: str) -> tuple[cdk.App, cdk.Stack]:
    app = new_app()
    stack = cdk.Stack(app, "Nag")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    if variant == "existing":
        CloudTrailLakeImport(
            stack,
            "Import",
            source_bucket=s3.Bucket.from_bucket_name(stack, "Archive", "my-trail-archive"),
            source_prefix="AWSLogs/123456789012/CloudTrail/",
            source_encryption_key=key,
            event_data_store=STORE_ARN,
            wait_for_completion=True,
        )
    else:
        CloudTrailLakeImport(
            stack,
            "Import",
            source_encryption_key=key,
            event_data_store_encryption_key=key,
            source_prefix="AWSLogs/",
            log_encryption_key=key,
            vpc=hardening_vpc(stack),
            server_access_logs_bucket=s3.Bucket.from_bucket_name(stack, "Logs", "my-s3-logs"),
        )
    return app, stack


def test_default_app_has_no_unacknowledged_finding() -> None:
    app = build_app(RECOMMENDED_CONTEXT)
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    assert findings(app, stack) == []


@pytest.mark.parametrize("variant", ["existing", "new-with-keys"])
def test_configured_stacks_have_no_unacknowledged_finding(variant: str) -> None:
    app, stack = configured_stack(variant)
    assert findings(app, stack) == []


def test_without_acknowledgments_the_wildcards_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        cloudtrail_lake_import.single_import.lake_import,
        "acknowledge_justified_findings",
        lambda **_k: None,
    )
    app = new_app()
    stack = cdk.Stack(app, "Unacknowledged")
    construct = CloudTrailLakeImport(stack, "Import", source_prefix="AWSLogs/")
    bucket_id = logical_id(stack, construct.source_bucket)
    assert sorted(findings(app, stack)) == sorted(
        [
            "AwsSolutions-IAM5[Resource::*]",
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/AWSLogs/*]",
            "AwsSolutions-S1",
        ]
    )


def test_each_acknowledgment_names_one_finding_and_a_specific_reason() -> None:
    _, stack = configured_stack("existing")
    acknowledged = acknowledgments(stack)
    ids = [a["id"] for a in acknowledged]
    assert ids == sorted(set(ids), key=ids.index), "an acknowledgment is repeated"
    assert "AwsSolutions-IAM5[Resource::*]" in ids
    assert (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::my-trail-archive/"
        "AWSLogs/123456789012/CloudTrail/*]" in ids
    )
    for acknowledgment in acknowledged:
        assert "[" in acknowledgment["id"] or acknowledgment["id"] == "AwsSolutions-S1"
        assert len(acknowledgment["reason"]) > 60, json.dumps(acknowledgment)
    wildcard = next(a for a in acknowledged if a["id"] == "AwsSolutions-IAM5[Resource::*]")
    assert "no resource type" in wildcard["reason"]


def cdk_nag_2_suppressions(stack: cdk.Stack) -> dict[str, list[dict[str, Any]]]:
    """Each resource's cdk-nag 2 suppressions (its ``cdk_nag`` metadata), by construct path."""
    return {
        construct.node.path: construct.get_metadata("cdk_nag")["rules_to_suppress"]
        for construct in stack.node.find_all()
        if isinstance(construct, cdk.CfnResource) and construct.get_metadata("cdk_nag")
    }


@pytest.mark.parametrize("variant", ["existing", "new-with-keys"])
def test_every_acknowledgment_is_also_a_cdk_nag_2_suppression_of_the_same_finding(
    variant: str,
) -> None:
    _, stack = configured_stack(variant)
    suppressed = {
        (s["id"] + "".join(f"[{a}]" for a in s.get("applies_to", [])), s["reason"])
        for rules in cdk_nag_2_suppressions(stack).values()
        for s in rules
    }
    acknowledged = {(a["id"], a["reason"]) for a in acknowledgments(stack)}
    assert acknowledged == suppressed
    # As cdk-nag 2 requires: the finding in applies_to, never in the id.
    for rules in cdk_nag_2_suppressions(stack).values():
        assert all("[" not in s["id"] and len(s["reason"]) >= 10 for s in rules)


def test_the_wildcard_is_suppressed_on_the_handler_policy_the_cdk_nag_2_way() -> None:
    _, stack = configured_stack("existing")
    rules = cdk_nag_2_suppressions(stack)["Nag/Import/Handler/Role/DefaultPolicy/Resource"]
    assert {"id": "AwsSolutions-IAM5", "applies_to": ["Resource::*"]} in [
        {k: v for k, v in s.items() if k != "reason"} for s in rules
    ]
