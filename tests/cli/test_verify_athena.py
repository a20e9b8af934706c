"""``verify --engine athena``: moto serves Athena's API; the statements ``verify`` sends are run
in DuckDB over the same archive (``athena_duckdb``), and their results, served back by moto,
must give exactly the local engine's verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import lake_query as lake_query_module
from cloudtrail_lake_import.cli import verify as verify_module
from tests.cli import athena_duckdb
from tests.cli.verify_world import ACCOUNT_ID, Scenario, scenario, small_archive, utc
from tests.e2e.harness import REGION
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import EmulatedAccount
from tests.lake_emulator.trail_archive import TrailArchive

ATHENA = ["--engine", "athena", "--athena-workgroup", "primary", "--athena-database", "trails"]
#: The moto account Athena's calls land in (the fake credentials name no other).
MOTO_ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def archive() -> TrailArchive:
    return small_archive()


@pytest.fixture(autouse=True)
def athena_at_moto(
    account: EmulatedAccount, s3_server: MotoS3Tls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Athena's endpoint is moto's; ``verify`` runs at one fixed time (its statements repeat)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_ATHENA", s3_server.url)
    fixed = datetime.fromtimestamp(account.clock.now(), UTC)
    monkeypatch.setattr(verify_module, "now", lambda: fixed)
    monkeypatch.setattr(lake_query_module, "sleep", account.clock.advance)


def run_verify(runner: CliRunner, world: Scenario, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(cli, ["verify", world.uri, "--store", world.store.arn, "--json", *args])
    assert result.exit_code in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, document


def serve_results(s3_server: MotoS3Tls, results: list[list[dict[str, Any]]]) -> None:
    """The rows of the next query executions, in the order they start (moto's queue: this
    moto version gives each execution its result when it starts)."""
    response = requests.post(
        f"{s3_server.url}/moto-api/static/athena/query-results",
        json={
            "account_id": MOTO_ACCOUNT,
            "region": REGION,
            "results": [{"rows": rows, "column_info": []} for rows in results],
        },
        verify=str(s3_server.ca_bundle),
        timeout=30,
    )
    response.raise_for_status()


def athena_statements(document: dict[str, Any]) -> list[str]:
    return [q["statement"] for q in document["queries"] if q.get("engine") == "athena"]


def through_athena(
    runner: CliRunner, world: Scenario, s3_server: MotoS3Tls, *args: str
) -> tuple[int, dict[str, Any], list[str]]:
    """``verify --engine athena`` once to learn its statements, run them in DuckDB, then again
    with their results served by moto."""
    _, first = run_verify(runner, world, *ATHENA, *args)
    statements = athena_statements(first)
    rows = athena_duckdb.run(statements, s3_server.client())
    serve_results(s3_server, [[] for _ in statements[:-1]] + [rows])  # the DDL: no rows
    code, second = run_verify(runner, world, *ATHENA, *args)
    assert athena_statements(second) == statements
    return code, second, statements


def test_athena_counts_exactly_what_the_local_engine_counts(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    folder = f"AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2025/01/11/"
    broken = {f"{folder}{ACCOUNT_ID}_CloudTrail_{REGION}_20250111T2355Z_bad.json.gz": b"junk"}
    world = scenario(account, s3_server, archive, extra=broken)
    world.run_import(end=utc("2025-01-11T23:59:00"))  # the 12th is missing, a file failed
    local_code, local = run_verify(runner, world)
    code, document, statements = through_athena(runner, world, s3_server)
    assert statements[0].startswith("CREATE EXTERNAL TABLE IF NOT EXISTS trails.cloudtrail_verify_")
    assert "'storage.location.template'=" in statements[0]
    assert (code, document["complete"]) == (local_code, local["complete"]) == (1, False)
    assert document["groups"] == local["groups"]
    assert document["expected_gaps"] == local["expected_gaps"]
    assert len(document["expected_gaps"]["failed_files"]) == 1
    assert document["engine"] == "athena"
    assert document["cost"]["download_bytes"] == 0
    assert document["cost"]["athena_usd"] > 0


def test_athena_applies_the_window_to_the_names_as_the_import_does(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    # Both bounds are the minute of a file's name: both files are in (bounds are inclusive).
    world.run_import(start=utc("2025-01-10T15:20:00"), end=utc("2025-01-12T00:05:00"))
    window = ["--start", "2025-01-10T15:20:00Z", "--end", "2025-01-12T00:05:00Z"]
    local_code, local = run_verify(runner, world, *window)
    code, document, _ = through_athena(runner, world, s3_server, *window)
    assert (code, local_code) == (0, 0)
    assert document["groups"] == local["groups"]
    assert document["totals"]["archive_files"] == 4
    assert document["totals"]["archive_events"] == 5 + 2 + 6 + 4


def test_athena_needs_its_workgroup_and_database(
    runner: CliRunner, account: EmulatedAccount
) -> None:
    store = "arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/x"
    result = runner.invoke(cli, ["verify", "s3://bucket/", "--store", store, "--engine", "athena"])
    assert result.exit_code == 2
    assert "--engine athena needs --athena-workgroup and --athena-database" in result.stderr
