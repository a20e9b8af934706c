"""Every state machine definition the plan construct produces, checked by asl-validator (the
Amazon States Language schema, its JSONPath and JSONata expressions, its ARNs) and by cfn-lint's
E3601 (the definition inside the template), one per variant of the definition."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from cloudtrail_lake_import import CloudTrailLakeImportPlan, ImportSpec
from tests.construct.conftest import ROOT, STORE_ARN, new_app
from tests.plan.conftest import inner_states, plan_stack, year
from tests.policy.simulator import Resolver

ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"


def every_window_shape() -> cdk.Stack:
    """One import of each shape: both bounds, only a start, only an end, neither."""
    stack = cdk.Stack(new_app(), "Shapes")
    archive = s3.Bucket.from_bucket_name(stack, "Archive", "trail-archive")
    CloudTrailLakeImportPlan(
        stack,
        "Plan",
        event_data_store=STORE_ARN,
        imports=[
            ImportSpec(archive, "a/", year(2019), year(2020)),
            ImportSpec(archive, "b/", start_event_time=year(2020)),
            ImportSpec(archive, "c/", end_event_time=year(2019)),
            ImportSpec(archive, "d/"),
        ],
    )
    return stack


def _plan(**props: Any) -> Callable[[], cdk.Stack]:
    return lambda: plan_stack(**props)[1]


VARIANTS: dict[str, Callable[[], cdk.Stack]] = {
    "yearly segments, events only": _plan(),
    "notifications to a topic": _plan(with_topic=True),
    "going on after a failed segment": _plan(with_topic=True, continue_on_failure=True),
    "a wait condition": _plan(wait_condition_timeout=cdk.Duration.hours(6)),
    "every window shape": every_window_shape,
}


def rendered_definition(template: dict[str, Any]) -> dict[str, Any]:
    """The definition as Step Functions gets it, intrinsics filled with test ARNs."""
    resolve = Resolver(template, account="123456789012", region="eu-west-1")
    (machine,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    loaded: dict[str, Any] = json.loads(resolve(machine["Properties"]["DefinitionString"]))
    return loaded


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("plans")
    written = {}
    for n, (name, build) in enumerate(VARIANTS.items()):
        written[name] = folder / f"plan{n}.template.json"
        written[name].write_text(json.dumps(Template.from_stack(build()).to_json()))
    return written


@pytest.fixture(scope="module")
def definitions(templates: dict[str, Path]) -> dict[str, Path]:
    written = {}
    for name, template in templates.items():
        written[name] = template.with_suffix(".asl.json")
        definition = rendered_definition(json.loads(template.read_text()))
        written[name].write_text(json.dumps(definition))
    return written


def test_the_variants_are_different_definitions(definitions: dict[str, Path]) -> None:
    texts = {path.read_text() for path in definitions.values()}
    shapes = inner_states(json.loads(definitions["every window shape"].read_text()))

    assert len(texts) == len(VARIANTS)
    assert len(shapes["WindowShape"]["Choices"]) == 4


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_asl_validator_accepts_the_definition(definitions: dict[str, Path], variant: str) -> None:
    assert ASL_VALIDATOR.exists(), "make setup installs asl-validator (package.json)"
    result = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(definitions[variant])],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout, result.stdout


def _break(states: dict[str, Any], how: str) -> str:
    if how == "a transition to no state":
        states["GetImport"]["Next"] = "NoSuchState"
        return "NoSuchState"
    states["GetImport"]["ResultPath"] = "$.Import[["  # not a JSONPath
    return "ResultPath"


@pytest.mark.parametrize("how", ["a transition to no state", "a malformed JSONPath"])
def test_asl_validator_refuses_a_broken_definition(
    definitions: dict[str, Path], tmp_path: Path, how: str
) -> None:
    broken = json.loads(definitions["notifications to a topic"].read_text())
    named = _break(inner_states(broken), how)
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps(broken))

    result = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert named in result.stdout + result.stderr


def test_cfn_lint_checks_every_definition_with_e3601(templates: dict[str, Path]) -> None:
    settings = [line.split("#")[0] for line in (ROOT / ".cfnlintrc.yaml").read_text().splitlines()]
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint is not None

    result = subprocess.run(
        [cfn_lint, *map(str, templates.values())],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )

    assert not any("E3601" in line or "E36" in line for line in settings)
    assert result.returncode == 0, result.stdout + result.stderr
