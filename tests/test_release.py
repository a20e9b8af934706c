"""What a release is made of: one version, a changelog that starts at it, the CLI that says it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from click.testing import CliRunner

import cloudtrail_lake_import
from cloudtrail_lake_import._version import __version__
from cloudtrail_lake_import.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_has_one_source_the_package_and_the_build_read() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert cloudtrail_lake_import.__version__ == __version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "cloudtrail_lake_import._version.__version__"
    }


def test_the_command_line_prints_that_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"cloudtrail-lake-import, version {__version__}"


def test_the_changelog_keeps_a_changelog_and_starts_at_the_first_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "https://keepachangelog.com/en/1.1.0/" in changelog
    assert "https://semver.org/spec/v2.0.0.html" in changelog
    releases = re.findall(r"^## \[([^\]]+)\]", changelog, flags=re.MULTILINE)
    assert releases[0] == "Unreleased"
    # Until the first release is tagged, everything is in Unreleased, headed for it.
    assert f"[{__version__}]" in changelog or releases == ["Unreleased"]
    assert f"will be released as {__version__}" in changelog


WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def test_every_action_is_pinned_by_commit_with_its_version_named() -> None:
    examples = ROOT / "examples" / "github_actions"
    for path in [*sorted(WORKFLOWS.glob("*.yml")), *sorted(examples.glob("*.yml"))]:
        for line in path.read_text().splitlines():
            if line.strip().startswith(("- uses:", "uses:")):
                reference = line.split("uses:", 1)[1].strip()
                assert PINNED.match(reference), f"{path.name}: {reference}"


def test_ci_runs_make_test_on_pushes_and_pull_requests_with_a_maintained_node() -> None:
    ci = workflow("ci.yml")
    assert set(ci[True]) == {"push", "pull_request"}  # YAML 1.1 reads the key `on` as True
    assert ci["permissions"] == {}
    test = ci["jobs"]["test"]
    assert test["permissions"] == {"contents": "read"}
    runs = [step.get("run") for step in test["steps"]]
    assert "make test" in runs
    versions = {
        step["uses"].split("@")[0]: step.get("with", {}) for step in test["steps"] if "uses" in step
    }
    assert versions["actions/setup-python"]["python-version"] == "3.11"
    assert versions["actions/setup-node"]["node-version"] == "22"


def test_only_the_publish_job_may_ask_for_an_oidc_token() -> None:
    release = workflow("release.yml")
    assert release[True] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}
    jobs = release["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["publish"]["environment"]["name"] == "pypi"
    (publish,) = [s for s in jobs["publish"]["steps"] if "gh-action-pypi-publish" in s["uses"]]
    assert publish["with"]["attestations"] is True
    assert not {"password", "user"} & set(publish["with"]), "Trusted Publishing: no token"
    build_runs = "\n".join(s.get("run", "") for s in jobs["build"]["steps"])
    assert "twine check --strict" in build_runs
    assert ".ci/quickstart_from_wheel.sh" in build_runs


def test_the_workflow_lint_fails_on_an_unpinned_action(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
        "    permissions: {}\n    steps:\n      - uses: actions/checkout@v4\n"
        "        with: {persist-credentials: false}\n"
    )
    zizmor = Path(sys.executable).parent / "zizmor"
    failed = subprocess.run(
        [str(zizmor), "--offline", str(bad)], capture_output=True, text=True, check=False
    )
    assert failed.returncode != 0
    assert "unpinned-uses" in failed.stdout
    passed = subprocess.run(
        [str(zizmor), "--offline", str(WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert passed.returncode == 0, passed.stdout


def test_no_page_or_hint_tells_the_reader_to_install_a_name_that_is_not_on_pypi() -> None:
    # Until the first release is on PyPI, `pip install cdk-cloudtrail-lake-import` (or its
    # extras) from an index does not resolve: install from a wheel or git instead.
    unresolvable = re.compile(r"pip install\s+['\"]?cdk-cloudtrail-lake-import(?![\w-]*\s*@)")
    texts = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]
    texts += sorted((ROOT / "constructs" / "cloudtrail_lake_import").rglob("*.py"))
    offending = [str(p.relative_to(ROOT)) for p in texts if unresolvable.search(p.read_text())]
    assert offending == []
