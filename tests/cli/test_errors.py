"""An unexpected exception is still one line and exit 1, unless its traceback is asked for."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import clients as cli_clients
from cloudtrail_lake_import.cli.main import DEBUG_VARIABLE


def _broken(pool: int) -> None:
    raise RuntimeError("something nobody expected")


@pytest.fixture(autouse=True)
def broken_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEBUG_VARIABLE, raising=False)
    monkeypatch.setattr(cli_clients, "s3", _broken)


def test_an_unexpected_error_is_one_line_and_exit_1(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["estimate", "s3://trail-archive"])
    assert result.exit_code == 1
    assert result.stderr == (
        "cloudtrail-lake-import: error: unexpected RuntimeError: something nobody expected "
        f"(set {DEBUG_VARIABLE}=1 to see the traceback)\n"
    )


def test_the_debug_variable_lets_the_traceback_through(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEBUG_VARIABLE, "1")
    result = runner.invoke(cli, ["estimate", "s3://trail-archive"])
    assert isinstance(result.exception, RuntimeError)
