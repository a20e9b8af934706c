"""The emulator's CloudTrail Lake queries, through a real boto3 client: the records imports
read, queried in Lake's Trino SQL (run by DuckDB after sqlglot's transpilation)."""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_lake_emulator import client, run_to_end, source
from tests.lake_emulator.clock import EmulatedClock
from tests.lake_emulator.server import CloudTrailLake, EventDataStore
from tests.lake_emulator.trail_archive import TrailArchive

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient


@pytest.fixture
def emulator(lake: tuple[CloudTrailLake, str]) -> CloudTrailLake:
    return lake[0]


@pytest.fixture
def ct(lake: tuple[CloudTrailLake, str]) -> CloudTrailClient:
    return client(lake[1])


@pytest.fixture
def imported(
    emulator: CloudTrailLake, ct: CloudTrailClient, clock: EmulatedClock, archive_bucket: str
) -> EventDataStore:
    """A store holding the whole archive, imported once."""
    store = emulator.add_event_data_store()
    started = ct.start_import(Destinations=[store.arn], ImportSource=source(archive_bucket))
    assert run_to_end(clock, ct, started["ImportId"])["ImportStatus"] == "COMPLETED"
    return store


def store_id(store: EventDataStore) -> str:
    return store.arn.rsplit("/", 1)[-1]


def finished(ct: CloudTrailClient, query_id: str) -> dict[str, Any]:
    for _ in range(10):
        described: dict[str, Any] = dict(ct.describe_query(QueryId=query_id))
        if described["QueryStatus"] not in ("QUEUED", "RUNNING"):
            return described
    raise AssertionError("the query never ended")


def all_rows(ct: CloudTrailClient, query_id: str, page: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    request: dict[str, Any] = {"QueryId": query_id, "MaxQueryResults": page}
    while True:
        response = ct.get_query_results(**request)
        rows.extend(
            {k: v for column in row for k, v in column.items()}
            for row in response["QueryResultRows"]
        )
        if "NextToken" not in response:
            return rows
        request["NextToken"] = response["NextToken"]


def test_a_query_counts_the_records_an_import_read_per_day_account_and_region(
    imported: EventDataStore, ct: CloudTrailClient, archive: TrailArchive
) -> None:
    statement = (
        "SELECT date_format(eventTime, '%Y-%m-%d') AS day, recipientAccountId AS account, "
        "awsRegion AS region, COUNT(*) AS events, COUNT(DISTINCT eventID) AS distinct_events "
        f"FROM {store_id(imported)} "
        "WHERE eventTime >= '2025-01-01 00:00:00' AND eventTime < '2025-02-01 00:00:00' "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    query_id = ct.start_query(QueryStatement=statement)["QueryId"]
    assert ct.describe_query(QueryId=query_id)["QueryStatus"] == "RUNNING"
    described = finished(ct, query_id)
    assert described["QueryStatus"] == "FINISHED"
    assert described["QueryString"] == statement
    total = sum(f.events for f in archive.log_files)
    assert described["QueryStatistics"]["EventsScanned"] == total
    assert described["QueryStatistics"]["BytesScanned"] > 0
    rows = all_rows(ct, query_id, page=2)
    expected: dict[tuple[str, str, str], int] = {}
    for f in archive.log_files:
        for record in json.loads(gzip.decompress(f.body))["Records"]:
            group = (record["eventTime"][:10], record["recipientAccountId"], record["awsRegion"])
            expected[group] = expected.get(group, 0) + 1
    assert {(r["day"], r["account"], r["region"]): int(r["events"]) for r in rows} == expected
    assert all(r["events"] == r["distinct_events"] for r in rows)


def test_results_are_paged_with_statistics(imported: EventDataStore, ct: CloudTrailClient) -> None:
    query_id = ct.start_query(
        QueryStatement=f"SELECT eventID, eventTime FROM {store_id(imported)} ORDER BY eventID"
    )["QueryId"]
    finished(ct, query_id)
    first = ct.get_query_results(QueryId=query_id, MaxQueryResults=5)
    assert first["QueryStatistics"]["ResultsCount"] == 5
    total = first["QueryStatistics"]["TotalResultsCount"]
    assert len(all_rows(ct, query_id, page=7)) == total
    time_value = first["QueryResultRows"][0][1]["eventTime"]
    assert len(time_value) == len("2025-01-10 00:03:12.000")


@pytest.mark.parametrize(
    "statement",
    [
        "SELEC eventID FROM {store}",
        "SELECT no_such_column FROM {store}",
        "SELECT eventID FROM 00000000-0000-0000-0000-000000000000",
        "DELETE FROM {store}",
        "SELECT 1 FROM {store}; SELECT 2 FROM {store}",
    ],
)
def test_a_statement_duckdb_cannot_run_is_refused_as_lake_refuses_it(
    imported: EventDataStore, ct: CloudTrailClient, statement: str
) -> None:
    with pytest.raises(ClientError) as raised:
        ct.start_query(QueryStatement=statement.format(store=store_id(imported)))
    assert raised.value.response["Error"]["Code"] == "InvalidQueryStatementException"


def test_a_failed_query_reports_its_error(
    emulator: CloudTrailLake, imported: EventDataStore, ct: CloudTrailClient
) -> None:
    emulator.queries.fail_next("Query exceeded the maximum execution time.")
    query_id = ct.start_query(QueryStatement=f"SELECT eventID FROM {store_id(imported)}")["QueryId"]
    described = finished(ct, query_id)
    assert described["QueryStatus"] == "FAILED"
    assert described["ErrorMessage"] == "Query exceeded the maximum execution time."
    assert "QueryResultRows" not in ct.get_query_results(QueryId=query_id)


def test_a_running_query_can_be_cancelled_once(
    imported: EventDataStore, ct: CloudTrailClient
) -> None:
    query_id = ct.start_query(QueryStatement=f"SELECT eventID FROM {store_id(imported)}")["QueryId"]
    assert ct.cancel_query(QueryId=query_id)["QueryStatus"] == "CANCELLED"
    with pytest.raises(ClientError) as raised:
        ct.cancel_query(QueryId=query_id)
    assert raised.value.response["Error"]["Code"] == "InactiveQueryException"


def test_live_events_are_queryable_beside_imported_ones(
    emulator: CloudTrailLake, ct: CloudTrailClient
) -> None:
    store = emulator.add_event_data_store("live")
    emulator.queries.ingest(
        store.arn,
        [
            {
                "eventID": "11111111-1111-4111-a111-111111111111",
                "eventTime": "2025-01-19T10:00:00Z",
                "recipientAccountId": "123456789012",
                "awsRegion": "us-east-1",
                "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root"},
                "requestParameters": {"bucketName": "b", "max": 3},
                "readOnly": True,
            }
        ],
    )
    query_id = ct.start_query(
        QueryStatement=(
            "SELECT userIdentity.arn AS arn, element_at(requestParameters, 'max') AS max, "
            f"readOnly FROM {store_id(store)} WHERE eventTime > '2025-01-19 00:00:00'"
        )
    )["QueryId"]
    finished(ct, query_id)
    assert all_rows(ct, query_id, page=10) == [
        {"arn": "arn:aws:iam::123456789012:root", "max": "3", "readOnly": "true"}
    ]
