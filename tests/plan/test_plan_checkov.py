"""checkov on a plan stack: no failed check, and each skip is the construct's, with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

import cloudtrail_lake_import.plan.import_plan
from cloudtrail_lake_import.plan import hardening
from cloudtrail_lake_import.policy import checkov_skips
from tests.construct.conftest import new_app
from tests.construct.test_checkov import scan
from tests.plan.conftest import five_years_two_buckets

KNOWN_SKIPS = {
    (value.check_id, value.comment)
    for module in (checkov_skips, hardening)
    for value in vars(module).values()
    if isinstance(value, checkov_skips.Skip)
}


def plan_template(*, log_key: bool = False, **props: Any) -> dict[str, Any]:
    stack = cdk.Stack(new_app(), "PlanStack")
    if log_key:
        props["log_encryption_key"] = kms.Key(stack, "LogKey", enable_key_rotation=True)
    five_years_two_buckets(stack, **props)
    return dict(Template.from_stack(stack).to_json())


def test_a_plan_stack_passes_checkov_with_only_explained_skips(tmp_path: Path) -> None:
    results = scan(
        tmp_path,
        {
            "plan": plan_template(),
            "plan-encrypted-logs": plan_template(log_key=True),
            "plan-reserving-nothing": plan_template(reserved_concurrent_executions=None),
        },
    )
    for name, result in results.items():
        assert result["failed"] == [], (name, [c["check_id"] for c in result["failed"]])
        for check in result["skipped"]:
            comment = check["check_result"]["suppress_comment"]
            assert (check["check_id"], comment) in KNOWN_SKIPS, (name, check["check_id"])
    skipped = {name: sorted(c["check_id"] for c in r["skipped"]) for name, r in results.items()}
    assert skipped == {
        # The handler and the finish function: VPC (and concurrency when none is reserved);
        # the three log groups without a key; the finish function's environment.
        "plan": ["CKV_AWS_117", "CKV_AWS_117", *["CKV_AWS_158"] * 3, "CKV_AWS_173"],
        "plan-encrypted-logs": ["CKV_AWS_117", "CKV_AWS_117", "CKV_AWS_173"],
        "plan-reserving-nothing": [
            "CKV_AWS_115",
            "CKV_AWS_115",
            "CKV_AWS_117",
            "CKV_AWS_117",
            *["CKV_AWS_158"] * 3,
            "CKV_AWS_173",
        ],
    }


def test_without_the_skips_only_the_prop_defaults_fail_dead_letters_and_concurrency_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cloudtrail_lake_import.plan.import_plan,
        "skip_plan_checks_left_to_defaults",
        lambda **_k: None,
    )
    results = scan(tmp_path, {"plan": plan_template()})
    failed = sorted(c["check_id"] for c in results["plan"]["failed"])
    assert failed == ["CKV_AWS_117", "CKV_AWS_117", *["CKV_AWS_158"] * 3, "CKV_AWS_173"]
