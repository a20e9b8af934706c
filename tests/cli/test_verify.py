"""``cloudtrail-lake-import verify`` against moto S3 and the CloudTrail Lake emulator: imports
really run, the store is really queried (Trino SQL in DuckDB)."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import lake_query as lake_query_module
from cloudtrail_lake_import.cli import verify as verify_module
from tests.cli.verify_world import (
    ACCOUNT_ID,
    Scenario,
    groups_of,
    records_of,
    scenario,
    small_archive,
    utc,
)
from tests.e2e.harness import REGION
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import EmulatedAccount
from tests.lake_emulator.trail_archive import TrailArchive, gzip_json, log_file_key

CONTRACT_FIELDS = ["complete", "store", "source", "window", "groups", "expected_gaps", "totals"]
GROUP_FIELDS = [
    "day",
    "account",
    "region",
    "archive_events",
    "store_events",
    "store_distinct_events",
    "status",
]


@pytest.fixture(scope="module")
def archive() -> TrailArchive:
    return small_archive()


@pytest.fixture(autouse=True)
def emulated_time(account: EmulatedAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    """``verify`` reads the retention's cutoff from the emulator's clock and polls on it."""
    monkeypatch.setattr(
        verify_module, "now", lambda: datetime.fromtimestamp(account.clock.now(), UTC)
    )
    monkeypatch.setattr(lake_query_module, "sleep", account.clock.advance)


def verify(runner: CliRunner, world: Scenario, *args: str) -> Result:
    return runner.invoke(cli, ["verify", world.uri, "--store", world.store.arn, *args])


def verified(runner: CliRunner, world: Scenario, *args: str, code: int = 0) -> dict[str, Any]:
    result = verify(runner, world, "--json", *args)
    assert result.exit_code == code, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_a_complete_import_is_proven_complete(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    assert world.run_import()["ImportStatus"] == "COMPLETED"
    document = verified(runner, world)
    assert list(document)[: len(CONTRACT_FIELDS)] == CONTRACT_FIELDS
    assert document["complete"] is True
    assert (document["store"], document["source"]) == (world.store.arn, world.uri)
    assert document["window"] == {"start": None, "end": None}
    expected = groups_of(records_of(archive))
    assert [list(g)[: len(GROUP_FIELDS)] for g in document["groups"]] == [GROUP_FIELDS] * len(
        expected
    )
    assert {
        (g["day"], g["account"], g["region"]): (
            g["archive_events"],
            g["store_events"],
            g["store_distinct_events"],
            g["status"],
        )
        for g in document["groups"]
    } == {key: (n, n, n, "ok") for key, n in expected.items()}
    assert document["expected_gaps"] == {"outside_retention": 0, "failed_files": []}
    assert document["totals"]["archive_files"] == len(archive.log_files)
    assert document["totals"]["archive_events"] == sum(expected.values())
    (query,) = document["queries"]
    assert f"FROM {world.store.arn.rsplit('/', 1)[1]} " in query["statement"]
    assert query["bytes_scanned"] > 0
    human = verify(runner, world)
    assert human.exit_code == 0, human.stderr
    assert "complete: every archived event is in the store, once" in human.stdout
    assert "verify will download" in human.stderr


def test_a_window_imported_twice_shows_duplicated_days(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    window = ("2025-01-11T00:00:00Z", "2025-01-11T23:59:00Z")
    for _ in range(2):
        assert world.run_import(utc(window[0][:-1]), utc(window[1][:-1]))["ImportStatus"] == (
            "COMPLETED"
        )
    document = verified(runner, world, "--start", window[0], "--end", window[1], code=1)
    assert document["complete"] is False
    assert document["window"] == {"start": window[0], "end": window[1]}
    statuses = {g["day"]: g["status"] for g in document["groups"]}
    assert statuses["2025-01-11"] == "duplicated"
    eleventh = next(g for g in document["groups"] if g["day"] == "2025-01-11")
    assert eleventh["store_events"] == 2 * eleventh["archive_events"]
    assert eleventh["store_distinct_events"] == eleventh["archive_events"]
    human = verify(runner, world, "--start", window[0], "--end", window[1])
    assert human.exit_code == 1
    assert "duplicated" in human.stdout
    assert "INCOMPLETE" in human.stdout


def test_details_name_the_duplicated_and_missing_event_ids(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    world.run_import(end=utc("2025-01-11T23:59:00"))
    world.run_import(start=utc("2025-01-11T00:00:00"), end=utc("2025-01-11T23:59:00"))
    document = verified(runner, world, "--details", code=1)
    statuses = {g["day"]: g["status"] for g in document["groups"]}
    assert statuses["2025-01-12"] == "missing"
    assert statuses["2025-01-11"] == "duplicated"
    records = records_of(archive)
    by_day: dict[str, set[str]] = {}
    for r in records:
        by_day.setdefault(r["eventTime"][:10], set()).add(r["eventID"])
    details = {d["day"]: d for d in document["details"]}
    assert set(details["2025-01-12"]["missing_event_ids"]) == by_day["2025-01-12"]
    assert set(details["2025-01-11"]["duplicated_event_ids"]) == by_day["2025-01-11"]
    assert len(document["queries"]) == 1 + len(details)


def test_files_an_import_failed_are_named_as_expected_gaps(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    folder = f"AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2025/01/11/"
    broken = {
        f"{folder}{ACCOUNT_ID}_CloudTrail_{REGION}_20250111T23{m}Z_bad.json.gz": b"not gzip"
        for m in ("50", "55")
    }
    world = scenario(account, s3_server, archive, extra=broken)
    assert world.run_import()["ImportStatus"] == "FAILED"
    document = verified(runner, world)
    assert document["complete"] is True
    assert sorted(f["location"] for f in document["expected_gaps"]["failed_files"]) == sorted(
        f"s3://{world.bucket}/{key}" for key in broken
    )
    assert all(
        f["error"].startswith("InvalidFileFormat: ")
        for f in document["expected_gaps"]["failed_files"]
    )
    assert {g["status"] for g in document["groups"]} == {"ok"}
    human = verify(runner, world)
    assert "Expected gaps: files the imports failed (2)" in human.stdout


def test_events_older_than_the_retention_are_an_expected_gap(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    account.clock.advance(12 * 3600)  # now 2025-01-20T12:00Z: 9 days keep 2025-01-11T12:00Z on
    world = scenario(account, s3_server, archive, retention_days=9)
    world.run_import()
    document = verified(runner, world)
    cutoff = "2025-01-11T12:00"
    records = records_of(archive)
    older = [r for r in records if r["eventTime"] < cutoff]
    assert 0 < len(older) < len(records)
    assert document["expected_gaps"]["outside_retention"] == len(older)
    assert document["complete"] is True
    assert {g["status"] for g in document["groups"]} == {"ok"}
    assert "2025-01-10" not in {g["day"] for g in document["groups"]}


def test_live_events_in_the_store_are_extra_not_missing(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    world.run_import()
    live = [
        {
            "eventID": f"00000000-0000-4000-a000-00000000000{i}",
            "eventTime": f"2025-01-12T23:5{i}:00Z",
            "recipientAccountId": ACCOUNT_ID,
            "awsRegion": REGION,
        }
        for i in range(3)
    ]
    account.lake.queries.ingest(world.store.arn, live)
    document = verified(runner, world)
    assert document["complete"] is True
    twelfth = next(g for g in document["groups"] if g["day"] == "2025-01-12")
    assert twelfth["status"] == "extra"
    assert twelfth["store_distinct_events"] == twelfth["archive_events"] + 3
    assert document["totals"]["groups_missing"] == 0
    assert document["totals"]["extra_events"] == 3


def test_an_event_delivered_in_two_files_counts_once(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    first = archive.log_files[0]
    record = json.loads(gzip.decompress(first.body))["Records"][0]
    again = log_file_key(
        ACCOUNT_ID, REGION, first.timestamp.replace(minute=first.timestamp.minute + 1), "again"
    )
    world = scenario(account, s3_server, archive, extra={again: gzip_json({"Records": [record]})})
    world.run_import()
    document = verified(runner, world)
    assert document["complete"] is True
    totals = document["totals"]
    assert totals["archive_records"] == totals["archive_events"] + 1
    assert totals["store_events"] == totals["archive_records"]
    assert totals["duplicate_copies"] == 0
    assert {g["status"] for g in document["groups"]} == {"ok"}


def test_an_empty_window_is_complete_with_no_group(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    world.run_import()
    document = verified(runner, world, "--start", "2025-01-15", "--end", "2025-01-16")
    assert document["complete"] is True
    assert document["groups"] == []
    assert document["totals"]["archive_files"] == 0


def test_a_refused_start_query_exits_2_naming_the_permission(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    world.run_import()
    account.lake.faults.add("deny", operation="StartQuery")
    result = verify(runner, world)
    assert result.exit_code == 2
    cost, refusal = result.stderr.splitlines()
    assert cost.startswith("verify will download ")
    assert refusal == (
        "cloudtrail-lake-import: error: StartQuery was refused (AccessDeniedException): grant "
        f"cloudtrail:StartQuery on {world.store.arn}"
    )


def test_a_query_the_store_fails_exits_1_with_its_message(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    world.run_import()
    account.lake.queries.fail_next("Query exceeded the maximum execution time.")
    result = verify(runner, world)
    assert result.exit_code == 1
    assert "ended FAILED: Query exceeded the maximum execution time." in result.stderr
    assert result.stdout == ""


def test_max_cost_refuses_before_reading_anything(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    result = verify(runner, world, "--max-cost", "0")
    assert result.exit_code == 2
    assert "--max-cost: the verification would cost about $" in result.stderr
    assert "StartQuery" not in account.lake.operations()
    assert "ListImports" not in account.lake.operations()


def test_the_report_is_evidence_with_its_sha256(
    runner: CliRunner,
    account: EmulatedAccount,
    s3_server: MotoS3Tls,
    archive: TrailArchive,
    tmp_path: Path,
) -> None:
    world = scenario(account, s3_server, archive)
    world.run_import()
    report = tmp_path / "evidence.json"
    document = verified(runner, world, "--report", str(report))
    body = report.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    assert document["report"] == {"path": str(report), "sha256": digest}
    assert Path(f"{report}.sha256").read_text() == f"{digest}  evidence.json\n"
    evidence = json.loads(body)
    assert evidence["tool"]["name"] == "cdk-cloudtrail-lake-import"
    assert evidence["tool"]["version"]
    assert evidence["started"] <= evidence["finished"]
    assert evidence["queries"][0]["query_id"] == document["queries"][0]["query_id"]
    files = {f["location"]: f for f in evidence["files"]}
    for log_file in archive.log_files:
        entry = files[f"s3://{world.bucket}/{log_file.key}"]
        assert entry["size"] == len(log_file.body)
        assert entry["records"] == log_file.events
        assert entry["etag"] == hashlib.md5(log_file.body).hexdigest()
    assert evidence["groups"] == document["groups"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give either S3_URI (with --store) or --stack"),
        (["s3://bucket/"], "--store: S3_URI needs the event data store's ARN"),
        (["s3://bucket/", "--store", "not-an-arn"], "--store: expected an event data store ARN"),
        (["s3://UPPER/", "--store", "arn:x"], "S3_URI"),
        (["--stack", "S", "--store", "arn:x"], "--stack reads the store and window"),
    ],
)
def test_bad_verify_input_exits_2(
    runner: CliRunner, account: EmulatedAccount, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["verify", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_refused_get_object_exits_2_naming_the_permission(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    world.run_import()

    def get_of_a_log_file(environ: dict[str, Any]) -> bool:
        return bool(
            environ["REQUEST_METHOD"] == "GET"
            and environ["PATH_INFO"].startswith(f"/{world.bucket}/AWSLogs/")
        )

    with s3_server.gate.refusing(get_of_a_log_file):
        result = verify(runner, world)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "cloudtrail-lake-import: error: GetObject was refused (AccessDenied): grant "
        f"s3:GetObject on arn:aws:s3:::{world.bucket}/*"
    )


def test_a_refused_list_imports_names_the_permission_on_any_resource(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    world = scenario(account, s3_server, archive)
    account.lake.faults.add("deny", operation="ListImports")
    result = verify(runner, world)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "cloudtrail-lake-import: error: ListImports was refused (AccessDeniedException): grant "
        "cloudtrail:ListImports on * (the action has no resource type)"
    )
