"""checkov, the pinned scanner pipelines gate on: no failed check, and each skip says why."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

import cloudtrail_lake_import.single_import.lake_import
from cloudtrail_lake_import import CloudTrailLakeImport
from cloudtrail_lake_import.policy import checkov_skips
from tests.cdk_json import ROOT
from tests.construct.conftest import new_app
from tests.construct.test_cross_account_example import CONTEXT, KEY_ARN, load_example
from tests.construct.test_cross_account_stacks import owner_stack
from tests.construct.test_snapshot import default_app_template, fully_configured_template

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
ALL_SKIPS = {
    value.check_id: value.comment
    for value in vars(checkov_skips).values()
    if isinstance(value, checkov_skips.Skip)
}


def reserving_nothing_template() -> dict[str, Any]:
    stack = cdk.Stack(new_app(), "NoReservation")
    CloudTrailLakeImport(stack, "Import", reserved_concurrent_executions=None)
    return dict(Template.from_stack(stack).to_json())


def cross_account_example_templates(**context: str) -> dict[str, dict[str, Any]]:
    """The example's two stacks, the owner's (with CloudTrailLakeImportSourceAccess) and the
    importer's, as a user copies them."""
    app = load_example().app(context={**CONTEXT, **context})
    (stage,) = [c for c in app.node.children if isinstance(c, cdk.Stage)]
    return {
        stack.node.id: dict(Template.from_stack(stack).to_json())
        for stack in stage.node.children
        if isinstance(stack, cdk.Stack)
    }


def scan(tmp_path: Path, templates: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """checkov's results for each template, by name (offline, as ``make checkov`` runs it)."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make setup-checkov`")
    files = []
    for name, template in templates.items():
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps(template))
        files += ["-f", str(path)]
    completed = subprocess.run(
        [str(CHECKOV), "--framework", "cloudformation", "--skip-download", "-o", "json", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(completed.stdout)
    by_file: dict[str, dict[str, Any]] = {
        name: {"failed": [], "skipped": [], "passed": 0} for name in templates
    }
    for outcome in ("failed", "skipped", "passed"):
        for check in report["results"][f"{outcome}_checks"]:
            name = Path(check["file_path"]).name.removesuffix(".template.json")
            if outcome == "passed":
                by_file[name]["passed"] += 1
            else:
                by_file[name][outcome].append(check)
    assert completed.returncode == (1 if report["summary"]["failed"] else 0), completed.stderr
    return by_file


def test_no_failed_check_and_every_skip_is_the_construct_s_with_its_reason(
    tmp_path: Path,
) -> None:
    results = scan(
        tmp_path,
        {
            "default-app": default_app_template(),
            "fully-configured": fully_configured_template(),
            "reserving-nothing": reserving_nothing_template(),
        },
    )
    for name, result in results.items():
        assert result["failed"] == [], (name, [c["check_id"] for c in result["failed"]])
        assert result["passed"] > 40, name
        for check in result["skipped"]:
            comment = check["check_result"]["suppress_comment"]
            assert comment == ALL_SKIPS[check["check_id"]], (name, check["check_id"])
    skipped = {name: sorted(c["check_id"] for c in r["skipped"]) for name, r in results.items()}
    assert skipped == {
        "default-app": ["CKV_AWS_117", "CKV_AWS_158", "CKV_AWS_18"],
        "fully-configured": ["CKV_AWS_111"],  # the network-interface rights vpc needs
        "reserving-nothing": ["CKV_AWS_115", "CKV_AWS_117", "CKV_AWS_158", "CKV_AWS_18"],
    }


def test_without_the_skips_checkov_fails_the_default_app_on_exactly_those_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cloudtrail_lake_import.single_import.lake_import,
        "skip_checks_left_to_defaults",
        lambda **_k: None,
    )
    results = scan(tmp_path, {"default-app": default_app_template()})
    failed = sorted(c["check_id"] for c in results["default-app"]["failed"])
    assert failed == ["CKV_AWS_117", "CKV_AWS_158", "CKV_AWS_18"]
    assert results["default-app"]["skipped"] == []


def test_the_cross_account_example_passes_checkov_with_only_explained_skips(
    tmp_path: Path,
) -> None:
    templates = {
        f"{name}-{variant}": template
        for variant, context in (("sse-s3", {}), ("sse-kms", {"archiveKeyArn": KEY_ARN}))
        for name, template in cross_account_example_templates(**context).items()
    }
    results = scan(tmp_path, templates)
    for name, result in results.items():
        assert result["failed"] == [], (name, [c["check_id"] for c in result["failed"]])
        assert result["passed"] > 10, name
        for check in result["skipped"]:
            assert check["check_result"]["suppress_comment"], (name, check["check_id"])
    skipped = {name: sorted(c["check_id"] for c in r["skipped"]) for name, r in results.items()}
    assert skipped == {
        # The access logs bucket does not log its own access (another bucket, without end).
        "TrailArchive-sse-s3": ["CKV_AWS_18"],
        "TrailArchive-sse-kms": ["CKV_AWS_18"],
        # The importer: reserved concurrency, log group key and VPC left at their defaults.
        "LakeImport-sse-s3": ["CKV_AWS_117", "CKV_AWS_158"],
        "LakeImport-sse-kms": ["CKV_AWS_117", "CKV_AWS_158"],
    }


def test_the_owner_side_statements_on_a_bucket_and_key_of_the_stack_pass_checkov(
    tmp_path: Path,
) -> None:
    # The bucket and key are the test's; what CloudTrailLakeImportSourceAccess adds to their
    # policies (reads for two roles of another account, decrypt via S3) must pass: checkov
    # checks the key policy's principals (CKV_AWS_33) and the bucket's public-access checks.
    stack = owner_stack(new_app(), handler_reads_objects=True)
    results = scan(tmp_path, {"owner": dict(Template.from_stack(stack).to_json())})
    failed_on_policies = [
        (c["check_id"], c["resource"])
        for c in results["owner"]["failed"]
        if c["resource"].startswith(("AWS::S3::BucketPolicy.", "AWS::KMS::Key."))
    ]
    assert failed_on_policies == []
    assert results["owner"]["skipped"] == []
