"""The installed wheel's constructs placed the ways people place them, cdk-nag on every app.

Cross-stack, cross-region and nested-stack references are rendered as ``Fn::ImportValue``, an
``Fn::GetAtt`` of CDK's exports reader or a parameter ``Ref`` only when the app is synthesized,
so the construct's own acknowledgments must follow the rendered policy: here each placement's
report may only hold the user's own finding (their archive bucket has no access logs) and, for
CDK Pipelines, the pipeline's own findings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.construct.conftest import run_user_app

USER_APP = Path(__file__).parent / "user_apps" / "placements.py"
CONSTRUCTS = ("import", "plan")
# Where each placement declares the user's archive bucket: its one expected finding.
USER_BUCKET = {
    "same-stack": "Audit/TrailArchive/Resource",
    "cross-stack": "Archive/TrailArchive/Resource",
    "cross-region": "Archive/TrailArchive/Resource",
    "nested-stack": "Audit/TrailArchive/Resource",
    "parameters": "Audit/TrailArchive/Resource",
    "stage": "Prod/Archive/TrailArchive/Resource",
    "pipeline": "Prod/Archive/TrailArchive/Resource",
}
# The construct's access role in each placement, and how its bucket reference is rendered.
ACCESS_POLICY = {
    "cross-stack": ("Audit.template.json", "Fn::ImportValue"),
    # Read through CDK's ExportsReader custom resource from the bucket's region.
    "cross-region": ("Audit.template.json", "Fn::GetAtt"),
    "nested-stack": ("AuditImports*.nested.template.json", "Ref"),
    "stage": ("assembly-Prod/ProdAudit*.template.json", "Fn::ImportValue"),
}


@pytest.fixture(scope="module")
def placed(installed_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("user-app")
    app_file = workdir / "app.py"
    shutil.copy(USER_APP, app_file)
    stdout = run_user_app(installed_wheel, app_file, str(workdir / "out"), cwd=workdir)
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    assert Path(result["package"]).is_relative_to(installed_wheel)
    result["outdir"] = workdir / "out"
    return result


@pytest.mark.parametrize("placement", sorted(USER_BUCKET))
@pytest.mark.parametrize("construct", CONSTRUCTS)
def test_the_installed_construct_adds_no_unacknowledged_cdk_nag_finding(
    placed: dict[str, Any], construct: str, placement: str
) -> None:
    findings = [tuple(f) for f in placed["findings"][f"{construct}/{placement}"]]
    # The user's own finding shows cdk-nag did check this placement's stacks.
    assert ("AwsSolutions-S1", USER_BUCKET[placement]) in findings
    others = [
        (rule, path)
        for rule, path in findings
        if path != USER_BUCKET[placement] and not path.startswith("Pipeline/")
    ]
    assert others == []


@pytest.mark.parametrize("placement", sorted(ACCESS_POLICY))
@pytest.mark.parametrize("construct", CONSTRUCTS)
def test_the_object_grant_is_acknowledged_where_the_bucket_is_a_cross_stack_reference(
    placed: dict[str, Any], construct: str, placement: str
) -> None:
    pattern, rendered_as = ACCESS_POLICY[placement]
    (template_file,) = Path(placed["outdir"], construct, placement).glob(pattern)
    template = json.loads(template_file.read_text())
    (object_grant,) = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "s3:GetObject"
    ]
    (bucket_arn, suffix) = object_grant["Resource"]["Fn::Join"][1]
    assert rendered_as in bucket_arn
    assert suffix == "/AWSLogs/111122223333/CloudTrail/*"
