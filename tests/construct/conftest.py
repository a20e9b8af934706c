"""Synthesizes stacks with the construct for the synth-time tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template

from cloudtrail_lake_import import CloudTrailLakeImport
from constructs import IConstruct
from tests.cdk_json import RECOMMENDED_CONTEXT

Synth = Callable[..., tuple[cdk.Stack, CloudTrailLakeImport, Template]]
ROOT = Path(__file__).resolve().parents[2]
PIP = (sys.executable, "-m", "pip")
NOT_SOURCE = (
    *(".git", ".venv", "node_modules", "build", "dist", "cdk.out*", "*.egg-info"),
    *("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache"),
)
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


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as users get it: the wheel built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    # From a clean copy: setuptools reuses ./build, where files deleted since linger.
    source = tmp_path_factory.mktemp("source") / "checkout"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True,
        cwd=out,
    )
    (built,) = out.glob("cdk_cloudtrail_lake_import-*.whl")
    return built


@pytest.fixture(scope="session")
def installed_wheel(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the wheel installed in it, to put first on a user app's PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [*PIP, "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
    )
    return target


def run_user_app(
    installed_wheel: Path, app_file: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> str:
    """Run a user's app in its own process, outside the checkout, with the installed wheel."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(installed_wheel)}
    result = subprocess.run(
        [sys.executable, str(app_file), *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )
    return result.stdout


def hardening_vpc(stack: cdk.Stack) -> ec2.IVpc:
    """A VPC declared elsewhere, known by its ids (no lookup)."""
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    )
