"""The examples in examples/ synthesize: the pipeline from the wheel, the workflow's deploy."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import yaml  # type: ignore[import-untyped]
from cdk_nag import AwsSolutionsChecks

from app import build_app
from tests.cdk_json import RECOMMENDED_CONTEXT, ROOT
from tests.construct.conftest import run_user_app

EXAMPLES = ROOT / "examples"


def resource_types(template_file: Path) -> list[str]:
    template = json.loads(template_file.read_text())
    return [resource["Type"] for resource in template["Resources"].values()]


def test_the_cdk_pipelines_example_synthesizes_from_the_wheel(
    installed_wheel: Path, tmp_path: Path
) -> None:
    app_file = tmp_path / "app.py"
    shutil.copy(EXAMPLES / "cdk_pipelines" / "app.py", app_file)
    # As `cdk synth` runs it: the CLI tells the app where to write through CDK_OUTDIR.
    env = {"CDK_OUTDIR": str(tmp_path / "cdk.out")}
    run_user_app(installed_wheel, app_file, cwd=tmp_path, env=env)

    out = tmp_path / "cdk.out"
    assert "AWS::CodePipeline::Pipeline" in resource_types(out / "Pipeline.template.json")
    (stage_template,) = (out / "assembly-Prod").glob("ProdAudit*.template.json")
    assert "Custom::CloudTrailLakeImport" in resource_types(stage_template)
    pipeline = json.loads((out / "Pipeline.template.json").read_text())
    assert "Prod-Audit" in json.dumps(pipeline), "the pipeline deploys the stage's stack"


def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(
        (EXAMPLES / "github_actions" / "deploy.yml").read_text()
    )
    return loaded


def deploy_command(steps: list[dict[str, Any]]) -> list[str]:
    (script,) = [step["run"] for step in steps if "cdk deploy" in step.get("run", "")]
    script = re.sub(r"\$\{\{\s*inputs\.retry_token\s*\}\}", "1", script.replace("\\\n", " "))
    (command,) = [line for line in script.splitlines() if "cdk deploy" in line]
    return shlex.split(command)


def test_the_github_actions_workflow_uses_oidc_and_no_stored_keys() -> None:
    flow = workflow()
    assert flow["permissions"]["id-token"] == "write"
    steps = flow["jobs"]["deploy"]["steps"]
    (credentials,) = [s for s in steps if "configure-aws-credentials" in s.get("uses", "")]
    assert credentials["with"]["role-to-assume"].startswith("arn:aws:iam::")
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])
    # cdk.json runs `python3 app.py`: the virtualenv must be active for the deploy.
    (script,) = [s["run"] for s in steps if "cdk deploy" in s.get("run", "")]
    assert script.startswith("source .venv/bin/activate")


def test_the_github_actions_deploy_synthesizes_the_default_app_without_findings() -> None:
    command = deploy_command(workflow()["jobs"]["deploy"]["steps"])
    assert command[:3] == ["npx", "cdk", "deploy"]
    context = dict(command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "-c")
    assert context["retryToken"] == "1"
    app = build_app({**RECOMMENDED_CONTEXT, **context})
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    report = AwsSolutionsChecks(app).validate_scope(stack)
    assert [v.rule_name for v in report.violations] == []
    # An existing bucket and store: the app declares neither.
    types = [
        r["Type"]
        for r in app.synth().get_stack_by_name(stack.stack_name).template["Resources"].values()
    ]
    assert "AWS::S3::Bucket" not in types
    assert "AWS::CloudTrail::EventDataStore" not in types
