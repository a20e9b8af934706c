"""``cloudtrail-lake-import status`` against the CloudTrail Lake emulator, on its clock."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result

from cloudtrail_lake_import.cli import cli
from cloudtrail_lake_import.cli import clients as cli_clients
from cloudtrail_lake_import.cli import status as status_module
from tests.e2e.harness import REGION
from tests.e2e.s3_tls import MotoS3Tls
from tests.e2e.world import ROLE_ARN, EmulatedAccount, make_bucket
from tests.lake_emulator.trail_archive import TrailArchive, generate_archive

#: The ``--json`` fields the issue names, in a stable order.
STATUS_FIELDS = [
    "import_id",
    "status",
    "prefixes_found",
    "prefixes_completed",
    "files_completed",
    "events_completed",
    "failed_entries",
    "created",
    "updated",
    "failures",
]


@pytest.fixture(scope="session")
def archive() -> TrailArchive:
    """One account, one region, three days: a handful of files (1 imported per second)."""
    return generate_archive(seed=5, accounts=("111122223333",), regions=(REGION,))


@pytest.fixture(autouse=True)
def emulated_time(account: EmulatedAccount, monkeypatch: pytest.MonkeyPatch) -> None:
    """``status`` reads the emulator's clock and ``--watch`` sleeps on it."""
    monkeypatch.setattr(
        status_module, "now", lambda: datetime.fromtimestamp(account.clock.now(), UTC)
    )
    monkeypatch.setattr(status_module, "sleep", account.clock.advance)


def start_import(
    account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive, **objects: bytes
) -> str:
    s3 = s3_server.client()
    bucket = make_bucket(s3)
    archive.upload(s3, bucket)
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    store = account.lake.add_event_data_store("archive", account="111122223333")
    response = boto3.client("cloudtrail").start_import(
        Destinations=[store.arn],
        ImportSource={
            "S3": {
                "S3LocationUri": f"s3://{bucket}/",
                "S3BucketRegion": REGION,
                "S3BucketAccessRoleArn": ROLE_ARN,
            }
        },
    )
    return response["ImportId"]


def broken_files(count: int) -> dict[str, bytes]:
    """``count`` files an import fails (not gzip), on a day of their own."""
    folder = "AWSLogs/111122223333/CloudTrail/us-east-1/2025/02/01/"
    name = "111122223333_CloudTrail_us-east-1_20250201T{:02d}{:02d}Z_bad.json.gz"
    return {f"{folder}{name.format(*divmod(i, 60))}": b"not gzip" for i in range(count)}


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args))


def status_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = run(runner, "status", *args, "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_a_running_import_shows_its_progress(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    import_id = start_import(account, s3_server, archive)
    account.clock.advance(5 + 2)  # initialized, then two files imported
    document = status_json(runner, import_id)
    first_two = archive.log_files[:2]
    assert [k for k in STATUS_FIELDS if k in document] == STATUS_FIELDS
    assert document["import_id"] == import_id
    assert document["status"] == "IN_PROGRESS"
    assert document["prefixes_found"] == archive.expected().prefixes
    assert document["files_completed"] == 2
    assert document["events_completed"] == sum(f.events for f in first_two)
    assert document["failed_entries"] == 0
    assert document["failures"] == []
    assert document["elapsed_seconds"] == 7.0
    human = run(runner, "status", import_id)
    assert human.exit_code == 0, human.stderr
    assert "IN_PROGRESS" in human.stdout
    assert f"0 of {archive.expected().prefixes} completed" in human.stdout
    assert re.search(r"elapsed +0m 07s", human.stdout)


def test_a_completed_import_shows_every_file_and_event(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    import_id = start_import(account, s3_server, archive)
    account.clock.advance(5 + len(archive.log_files) + 1)
    expected = archive.expected()
    document = status_json(runner, import_id)
    assert document["status"] == "COMPLETED"
    assert (
        document["prefixes_found"],
        document["prefixes_completed"],
        document["files_completed"],
        document["events_completed"],
    ) == (expected.prefixes, expected.prefixes, expected.files, expected.events)
    created = datetime.fromisoformat(document["created"])
    updated = datetime.fromisoformat(document["updated"])
    assert (updated - created).total_seconds() == 5 + expected.files


def test_a_failed_import_lists_every_failure_over_several_pages(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    broken = broken_files(7)
    account.lake.default_page_size = 3
    import_id = start_import(account, s3_server, archive, **broken)
    account.clock.advance(5 + len(archive.log_files) + len(broken) + 1)
    document = status_json(runner, import_id)
    assert document["status"] == "FAILED"
    assert document["failed_entries"] == 7
    bucket = account.lake.imports[import_id].bucket_and_prefix[0]
    assert sorted(f["location"] for f in document["failures"]) == sorted(
        f"s3://{bucket}/{key}" for key in broken
    )
    assert {(f["status"], f["error_type"]) for f in document["failures"]} == {
        ("FAILED", "InvalidFileFormat")
    }
    pages = [c for c in account.lake.calls if c.operation == "ListImportFailures"]
    assert len(pages) == 3
    human = run(runner, "status", import_id)
    assert "Failures (7)" in human.stdout
    assert "InvalidFileFormat" in human.stdout


def test_watch_refreshes_until_the_import_ends(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    import_id = start_import(account, s3_server, archive)
    result = run(runner, "status", import_id, "--watch", "--interval", "2", "--json")
    assert result.exit_code == 0, result.stderr
    refreshes = [json.loads(line) for line in result.stdout.splitlines()]
    assert refreshes[0]["status"] == "INITIALIZING"
    assert refreshes[-1]["status"] == "COMPLETED"
    assert all(r["status"] != "COMPLETED" for r in refreshes[:-1])
    completed = [r["files_completed"] for r in refreshes]
    assert completed == sorted(completed)
    assert len(refreshes) == 1 + -(-(5 + len(archive.log_files)) // 2)


def test_watch_draws_the_final_status_when_the_import_ends(
    runner: CliRunner, account: EmulatedAccount, s3_server: MotoS3Tls, archive: TrailArchive
) -> None:
    import_id = start_import(account, s3_server, archive)
    result = run(runner, "status", import_id, "--watch")
    assert result.exit_code == 0, result.stderr
    assert "COMPLETED" in result.stdout
    assert f"{len(archive.log_files)}/{len(archive.log_files)}" not in result.stdout  # prefixes
    assert f"{archive.expected().prefixes}/{archive.expected().prefixes}" in result.stdout


def test_an_unknown_import_id_exits_1_with_one_line(
    runner: CliRunner, account: EmulatedAccount
) -> None:
    missing = "11111111-2222-3333-4444-555555555555"
    result = run(runner, "status", missing)
    assert result.exit_code == 1
    assert result.stderr == (
        f"cloudtrail-lake-import: error: import {missing} not found in {REGION} "
        "(ImportNotFoundException); an import lives in its event data store's region: "
        f"cloudtrail-lake-import status {missing} --region <that region>\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give either IMPORT_ID or --stack"),
        (["id", "--stack", "s"], "give either IMPORT_ID or --stack"),
        (["id", "--logical-id", "Import"], "--logical-id needs --stack"),
        (["id", "--interval", "0"], "--interval"),
    ],
)
def test_bad_status_input_exits_2(runner: CliRunner, args: list[str], message: str) -> None:
    result = run(runner, "status", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def _stack_resource(logical_id: str, physical_id: str, resource_type: str) -> dict[str, Any]:
    return {
        "StackName": "ArchiveImport",
        "StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/ArchiveImport/x",
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "Timestamp": datetime(2025, 1, 20, tzinfo=UTC),
        "ResourceStatus": "CREATE_COMPLETE",
    }


def _summary(logical_id: str, physical_id: str, resource_type: str) -> dict[str, Any]:
    """A ListStackResources entry."""
    return {
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "LastUpdatedTimestamp": datetime(2025, 1, 20, tzinfo=UTC),
        "ResourceStatus": "CREATE_COMPLETE",
    }


def add_template(stack: Stubber, logical_id: str) -> None:
    """GetTemplate of a stack whose import writes to a store of REGION (its region is read)."""
    store_arn = f"arn:aws:cloudtrail:{REGION}:111122223333:eventdatastore/archive"
    template = {
        "Resources": {
            logical_id: {
                "Type": "Custom::CloudTrailLakeImport",
                "Properties": {"Destinations": [store_arn]},
            }
        }
    }
    stack.add_response(
        "get_template",
        {"TemplateBody": json.dumps(template)},
        {"StackName": "ArchiveImport", "TemplateStage": "Processed"},
    )


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    """CloudFormation's DescribeStackResources/ListStackResources, stubbed on botocore's model."""
    client = boto3.client("cloudformation")
    stubber = Stubber(client)
    monkeypatch.setattr(cli_clients, "cloudformation", lambda: client)
    stubber.activate()
    return stubber


def test_the_import_id_is_found_on_any_page_of_a_large_stack(
    runner: CliRunner,
    account: EmulatedAccount,
    s3_server: MotoS3Tls,
    archive: TrailArchive,
    stack: Stubber,
) -> None:
    import_id = start_import(account, s3_server, archive)
    others = [_summary(f"Queue{i}", f"q{i}", "AWS::SQS::Queue") for i in range(100)]
    stack.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": others, "NextToken": "page-2"},
        {"StackName": "ArchiveImport"},
    )
    stack.add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                _summary("ImportFunction", "fn", "AWS::Lambda::Function"),
                _summary("TrailImport", import_id, "Custom::CloudTrailLakeImport"),
            ]
        },
        {"StackName": "ArchiveImport", "NextToken": "page-2"},
    )
    add_template(stack, "TrailImport")
    assert status_json(runner, "--stack", "ArchiveImport")["import_id"] == import_id
    stack.assert_no_pending_responses()


def test_a_logical_id_describes_that_resource_only(
    runner: CliRunner,
    account: EmulatedAccount,
    s3_server: MotoS3Tls,
    archive: TrailArchive,
    stack: Stubber,
) -> None:
    import_id = start_import(account, s3_server, archive)
    stack.add_response(
        "describe_stack_resources",
        {"StackResources": [_stack_resource("ImportB", import_id, "Custom::CloudTrailLakeImport")]},
        {"StackName": "ArchiveImport", "LogicalResourceId": "ImportB"},
    )
    add_template(stack, "ImportB")
    chosen = status_json(runner, "--stack", "ArchiveImport", "--logical-id", "ImportB")
    assert chosen["import_id"] == import_id
    stack.assert_no_pending_responses()


def test_a_stack_with_several_imports_needs_a_logical_id(
    runner: CliRunner, account: EmulatedAccount, stack: Stubber
) -> None:
    summaries = [
        _summary("ImportA", "a" * 36, "Custom::CloudTrailLakeImport"),
        _summary("ImportB", "b" * 36, "Custom::CloudTrailLakeImport"),
    ]
    stack.add_response("list_stack_resources", {"StackResourceSummaries": summaries})
    ambiguous = run(runner, "status", "--stack", "ArchiveImport")
    assert ambiguous.exit_code == 2
    assert "several imports, pick one with --logical-id: ImportA, ImportB" in ambiguous.stderr


@pytest.mark.parametrize(
    "answer",
    [
        {"StackResources": []},
        {"StackResources": [_stack_resource("ImportC", "fn", "AWS::Lambda::Function")]},
    ],
)
def test_a_logical_id_that_is_no_import_exits_2(
    runner: CliRunner, account: EmulatedAccount, stack: Stubber, answer: dict[str, Any]
) -> None:
    stack.add_response("describe_stack_resources", answer)
    wrong = run(runner, "status", "--stack", "ArchiveImport", "--logical-id", "ImportC")
    assert wrong.exit_code == 2
    assert "--logical-id: stack ArchiveImport has no Custom::CloudTrailLakeImport or " in (
        wrong.stderr
    )


def test_a_logical_id_cloudformation_does_not_know_exits_2(
    runner: CliRunner, account: EmulatedAccount, stack: Stubber
) -> None:
    stack.add_client_error(
        "describe_stack_resources",
        service_error_code="ValidationError",
        service_message="Resource ImportC does not exist for stack ArchiveImport",
    )
    wrong = run(runner, "status", "--stack", "ArchiveImport", "--logical-id", "ImportC")
    assert wrong.exit_code == 2
    assert "Custom::CloudTrailLakeImportPlan 'ImportC'" in wrong.stderr


def test_a_missing_stack_exits_1_with_cloudformations_message(
    runner: CliRunner, account: EmulatedAccount, stack: Stubber
) -> None:
    stack.add_client_error(
        "list_stack_resources",
        service_error_code="ValidationError",
        service_message="Stack with id Nope does not exist",
    )
    result = run(runner, "status", "--stack", "Nope")
    assert result.exit_code == 1
    assert result.stderr == (
        "cloudtrail-lake-import: error: ListStackResources failed: ValidationError: "
        "Stack with id Nope does not exist\n"
    )


def test_a_stack_whose_import_has_not_started_says_so(
    runner: CliRunner, account: EmulatedAccount, stack: Stubber
) -> None:
    pending = _summary("TrailImport", "", "Custom::CloudTrailLakeImport")
    pending["ResourceStatus"] = "CREATE_IN_PROGRESS"
    del pending["PhysicalResourceId"]
    stack.add_response("list_stack_resources", {"StackResourceSummaries": [pending]})
    result = run(runner, "status", "--stack", "ArchiveImport")
    assert result.exit_code == 1
    assert "TrailImport in stack ArchiveImport has no import id yet (resource status " in (
        result.stderr
    )


def test_a_stack_whose_prefix_held_no_files_says_no_source_files(
    runner: CliRunner, account: EmulatedAccount, stack: Stubber
) -> None:
    nothing = _summary(
        "TrailImport", "no-source-files:s3://archive/AWSLogs/", "Custom::CloudTrailLakeImport"
    )
    stack.add_response("list_stack_resources", {"StackResourceSummaries": [nothing]})
    result = run(runner, "status", "--stack", "ArchiveImport")
    assert result.exit_code == 1
    assert "TrailImport in stack ArchiveImport started no import: NO_SOURCE_FILES" in result.stderr
    assert "s3://archive/AWSLogs/" in result.stderr
    assert "no import id yet" not in result.stderr


@pytest.mark.parametrize(
    "import_id", ["not-an-id", "11111111-2222-3333-4444-55555555555", "A" * 36]
)
def test_a_malformed_import_id_exits_2(
    runner: CliRunner, account: EmulatedAccount, import_id: str
) -> None:
    result = run(runner, "status", import_id)
    assert result.exit_code == 2
    assert "IMPORT_ID: expected a 36-character CloudTrail import id" in result.stderr
