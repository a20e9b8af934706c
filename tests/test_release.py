"""What a release is made of: one version, a changelog that starts at it, the CLI that says it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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
