"""The AWS Region of the command line's clients: ``--region``, then the environment."""

from __future__ import annotations

import pytest
from botocore.client import BaseClient
from click.testing import CliRunner

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import clients as cli_clients
from tests.e2e.harness import REGION
from tests.e2e.world import EmulatedAccount

MISSING_IMPORT = "11111111-2222-3333-4444-555555555555"


def set_regions(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """Only ``variables`` among the region settings (no profile, no config file)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli_clients, "region", None)


def test_aws_region_is_used_when_aws_default_region_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_regions(monkeypatch, AWS_REGION="eu-west-3")
    assert cli_clients.cloudtrail().meta.region_name == "eu-west-3"
    assert cli_clients.s3(pool=2).meta.region_name == "eu-west-3"


def test_aws_default_region_wins_over_aws_region(monkeypatch: pytest.MonkeyPatch) -> None:
    set_regions(monkeypatch, AWS_REGION="eu-west-3", AWS_DEFAULT_REGION="ap-south-1")
    assert cli_clients.cloudformation().meta.region_name == "ap-south-1"


def test_the_region_option_wins_over_the_environment(
    runner: CliRunner, account: EmulatedAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_regions(monkeypatch, AWS_DEFAULT_REGION="ap-south-1")
    seen: list[str] = []
    original = cli_clients.cloudtrail

    def recording(in_region: str | None = None) -> BaseClient:
        client = original(in_region)
        seen.append(client.meta.region_name)
        return client

    monkeypatch.setattr(cli_clients, "cloudtrail", recording)
    runner.invoke(cli, ["--region", "eu-central-1", "status", MISSING_IMPORT])
    assert seen == ["eu-central-1"]


def test_status_works_with_only_aws_region_set(
    runner: CliRunner, account: EmulatedAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_regions(monkeypatch, AWS_REGION=REGION)
    result = runner.invoke(cli, ["status", MISSING_IMPORT])
    assert result.stderr == (
        f"cloudtrail-lake-import: error: import {MISSING_IMPORT} not found in {REGION} "
        "(ImportNotFoundException); an import lives in its event data store's region: "
        f"cloudtrail-lake-import status {MISSING_IMPORT} --region <that region>\n"
    )
    assert result.exit_code == 1
