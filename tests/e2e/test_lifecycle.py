"""The custom resource through its whole life, over real HTTP: each request ends with one answer.

This file: Create (waiting or not, the window and prefix) and the ways a Create fails;
``test_lifecycle_delete_update_faults.py``: what follows a Create, and faults on the way.

Every scenario runs ``index.handler`` as Lambda would, follows its asynchronous continuations
and reads CloudFormation's answer back from the TLS S3 server (``World.cfn.complete`` checks
that exactly one answer was accepted and that it echoes StackId, RequestId and
LogicalResourceId).
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest

from tests.e2e.lifecycle_steps import corrupt_key, create, started_imports
from tests.e2e.world import World
from tests.lake_emulator.trail_archive import ExpectedStatistics, TrailArchive

IMPORT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CONTINUATION = "CtLakeImportContinuation"


def statistics(expected: ExpectedStatistics) -> dict[str, str]:
    return {
        "PrefixesFound": str(expected.prefixes),
        "PrefixesCompleted": str(expected.prefixes),
        "FilesCompleted": str(expected.files),
        "EventsCompleted": str(expected.events),
        "FailedEntries": "0",
    }


def start_another_import(world: World) -> str:
    """An import into another store of the account, started outside the custom resource (one
    into this store from the same bucket would overlap: rule 6 refuses that before waiting)."""
    other_store = world.lake.add_event_data_store("another-store")
    response = world.cloudtrail().start_import(
        Destinations=[other_store.arn], ImportSource=world.import_source("AWSLogs/111122223333/")
    )
    return response["ImportId"]


# ----------------------------------------------------------------------------- Create


def test_create_without_waiting_answers_with_the_import_id(world: World) -> None:
    response, run = create(world, world.properties())
    assert response.status == "SUCCESS", response.reason
    assert IMPORT_ID.match(response.physical_id)
    assert list(world.lake.imports) == [response.physical_id]
    assert response.data["ImportId"] == response.physical_id
    assert response.data["ImportStatus"] in ("INITIALIZING", "IN_PROGRESS")
    assert len(run.invocations) == 1
    assert not world.lambda_endpoint.history
    assert len(started_imports(world)) == 1
    world.clock.advance(3600)
    imported = world.lake.get(response.physical_id)
    assert imported.status == "COMPLETED"
    assert imported.statistics() == {
        k: int(v) for k, v in statistics(world.archive.expected()).items()
    }


def test_create_with_waiting_reports_what_the_archive_holds(world: World) -> None:
    response, run = create(world, world.properties(wait=True))
    assert response.status == "SUCCESS", response.reason
    assert response.data == {
        "ImportId": response.physical_id,
        "ImportStatus": "COMPLETED",
        **statistics(world.archive.expected()),
    }
    assert run.timeouts == 0


def test_waiting_hands_over_to_continuations_with_the_same_event(world: World) -> None:
    world.cfn.function_timeout = 100.0  # each invocation can poll only a few times
    world.lake.files_per_second = 0.1  # ~250 s of import
    event = world.cfn.event("Create", world.properties(wait=True))
    response, run = world.cfn.complete(event)
    assert response.status == "SUCCESS", response.reason
    assert response.data["FilesCompleted"] == str(world.archive.expected().files)
    continuations = [i for i in run.invocations if i.continuation]
    assert len(continuations) >= 3
    assert run.timeouts == 0
    deadlines = set()
    for number, inv in enumerate(continuations, start=1):
        payload = dict(inv.event)
        state = payload.pop(CONTINUATION)
        assert payload == event  # the original event travels unchanged
        assert state["ImportId"] == response.physical_id
        assert state["Attempt"] == number
        deadlines.add(state["DeadlineEpoch"])
    assert len(deadlines) == 1
    assert deadlines.pop() == pytest.approx(run.invocations[0].started + 3000)
    assert world.lambda_endpoint.refused == []


def test_window_and_prefix_filter_by_name(world: World) -> None:
    prefix = "AWSLogs/444455556666/CloudTrail/"
    start = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    end = datetime(2025, 1, 12, 6, 0, tzinfo=UTC)
    expected = world.archive.expected(prefix, start, end)
    assert 0 < expected.files < world.archive.expected(prefix).files
    response, _ = create(world, world.properties(prefix=prefix, start=start, end=end, wait=True))
    assert response.status == "SUCCESS", response.reason
    assert {k: response.data[k] for k in statistics(expected)} == statistics(expected)
    [params] = started_imports(world)
    assert params["StartEventTime"] == start.timestamp()
    assert params["EndEventTime"] == end.timestamp()


def test_digest_files_are_not_counted(world: World) -> None:
    prefix = "AWSLogs/111122223333/"  # holds CloudTrail/ and CloudTrail-Digest/
    assert any(k.startswith(prefix) for k, _ in world.archive.digest_files)
    response, _ = create(world, world.properties(prefix=prefix, wait=True))
    assert response.status == "SUCCESS", response.reason
    assert response.data["FilesCompleted"] == str(world.archive.expected(prefix).files)


# ----------------------------------------------------------------------------- failures


def test_corrupt_file_fails_then_an_update_with_retry_token_retries_it(
    world: World, small_archive: TrailArchive
) -> None:
    bucket = world.use_own_bucket(small_archive)
    bad = corrupt_key()
    world.s3.put_object(Bucket=bucket, Key=bad, Body=b'{"Records": []}')  # not gzip
    props = world.properties(wait=True, RetryToken="1")
    failed, _ = create(world, props)
    assert failed.status == "FAILED"
    # the reason names the whole key (account, region, date, file) and what is wrong with it
    assert bad in failed.reason, failed.reason
    assert "InvalidFileFormat" in failed.reason, failed.reason
    assert failed.physical_id == failed.data["ImportId"]
    assert failed.data["ImportStatus"] == "FAILED"
    assert failed.data["FailedEntries"] == "1"

    fixed = b'{"Records": [{"eventTime": "2025-01-11T08:04:00Z", "eventName": "ListBuckets"}]}'
    world.s3.put_object(Bucket=bucket, Key=bad, Body=gzip.compress(fixed))
    retry_props = world.properties(wait=True, RetryToken="2")
    update = world.cfn.event(
        "Update", retry_props, physical_id=failed.physical_id, old_properties=props
    )
    response, _ = world.cfn.complete(update)
    assert response.status == "SUCCESS", response.reason
    assert response.physical_id == failed.physical_id  # same import, retried
    assert started_imports(world)[-1] == {"ImportId": failed.physical_id}
    assert len(world.lake.imports) == 1
    whole = small_archive.expected()
    assert response.data["FilesCompleted"] == str(whole.files + 1)
    assert response.data["EventsCompleted"] == str(whole.events + 1)
    assert response.data["FailedEntries"] == "0"


def test_bucket_with_acls_enabled_fails_before_any_start_import(
    world: World, small_archive: TrailArchive
) -> None:
    bucket = world.use_own_bucket(small_archive, acls_enabled=True)
    response, _ = create(world, world.properties(wait=True))
    assert response.status == "FAILED"
    assert "ACL" in response.reason, response.reason
    assert bucket in response.reason, response.reason
    assert "StartImport" not in world.lake.operations()
    assert not IMPORT_ID.match(response.physical_id)


@pytest.mark.parametrize(
    ("status", "category", "words"),
    [
        ("PENDING_DELETION", "Management", "pending deletion"),
        ("STOPPING_INGESTION", "Management", "STOPPING_INGESTION"),
        ("ENABLED", "ConfigurationItem", "CloudTrail events"),
    ],
)
def test_store_in_wrong_state_or_category_fails(
    world: World, status: str, category: str, words: str
) -> None:
    world.store = world.lake.add_event_data_store("other", status=status, category=category)
    response, _ = create(world, world.properties(wait=True))
    assert response.status == "FAILED"
    assert words in response.reason, response.reason
    assert not world.lake.imports


def test_another_import_holding_the_account_fails_naming_it_when_not_waiting(
    world: World,
) -> None:
    other = start_another_import(world)
    response, _ = create(world, world.properties())
    assert response.status == "FAILED"
    assert other in response.reason, response.reason
    assert list(world.lake.imports) == [other]


def test_another_import_holding_the_account_is_waited_for(world: World) -> None:
    other = start_another_import(world)
    response, _ = create(world, world.properties(wait=True))
    assert response.status == "SUCCESS", response.reason
    assert response.physical_id != other
    assert world.lake.get(other).status == "COMPLETED"
    assert response.data["FilesCompleted"] == str(world.archive.expected().files)
    outcomes = [c.outcome for c in world.lake.calls if c.operation == "StartImport"]
    assert outcomes[0] == "ok"  # the other import
    assert outcomes[1] == "AccountHasOngoingImportException"
    assert outcomes[-1] == "ok"
