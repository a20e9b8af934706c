"""The examples in examples/ synthesize: the pipeline from a copy of its folder, the workflow's
deploy."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import yaml  # type: ignore[import-untyped]
from cdk_nag import AwsSolutionsChecks

from app import build_app
from tests.cdk_json import RECOMMENDED_CONTEXT, ROOT

EXAMPLES = ROOT / "examples"


def resource_types(template_file: Path) -> list[str]:
    template = json.loads(template_file.read_text())
    return [resource["Type"] for resource in template["Resources"].values()]


PIPELINE = EXAMPLES / "cdk_pipelines"


def synth_commands() -> list[str]:
    """The commands of the pipeline's synth step, as app.py gives them to its ShellStep."""
    match = re.search(r"commands=(\[.*?\])", (PIPELINE / "app.py").read_text(), re.DOTALL)
    assert match, "the pipeline's ShellStep lists its commands"
    commands: list[str] = ast.literal_eval(match.group(1))
    return commands


def test_the_cdk_pipelines_example_is_a_complete_repository() -> None:
    files = {p.relative_to(PIPELINE).as_posix() for p in PIPELINE.rglob("*") if p.is_file()}
    assert {"app.py", "cdk.json", "package.json", "package-lock.json", "requirements.txt"} <= files
    assert json.loads((PIPELINE / "cdk.json").read_text())["app"] == "python3 app.py"
    cli = json.loads((PIPELINE / "package.json").read_text())["devDependencies"]["aws-cdk"]
    lock = json.loads((PIPELINE / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == cli, "the lock pins the CLI"
    assert synth_commands() == ["npm ci", "pip install -r requirements.txt", "npx cdk synth"]


def test_the_cdk_pipelines_example_synthesizes_from_a_copy_of_its_folder_alone(
    wheel: Path, tmp_path: Path
) -> None:
    repository = tmp_path / "audit-archive"
    shutil.copytree(PIPELINE, repository)
    requirements = (repository / "requirements.txt").read_text()
    assert f"./wheels/{wheel.name}" in requirements.splitlines(), "requirements.txt names the wheel"
    shutil.copy(wheel, repository / "wheels" / wheel.name)
    # A virtualenv of the pipeline's own; the project's venv lends it what requirements.txt pins
    # besides the construct (aws-cdk-lib, constructs), so the step's pip runs offline.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    (site_packages,) = (venv / "lib").glob("python3*/site-packages")
    (site_packages / "project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "npm_config_offline": "true",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    env.pop("PYTHONPATH", None)
    for command in synth_commands():
        subprocess.run(shlex.split(command), check=True, cwd=repository, env=env, timeout=900)

    used = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import cloudtrail_lake_import as p; print(p.__file__)",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=repository,
        env=env,
    ).stdout.strip()
    assert Path(used).is_relative_to(site_packages), "the construct came from the wheel"
    out = repository / "cdk.out"
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
    (step,) = [step for step in steps if "cdk deploy" in step.get("run", "")]
    # The input reaches the script through the environment, never spliced into its text.
    assert step["env"]["RETRY_TOKEN"] == "${{ inputs.retry_token }}"
    assert "${{" not in step["run"]
    script = step["run"].replace("${RETRY_TOKEN}", "1").replace("\\\n", " ")
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
