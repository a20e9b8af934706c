"""``verify``'s pieces on their own: the verdict per group, the archive's counting and
de-duplication, and refusals named as what to grant."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from cloudtrail_lake_import.cli import archive_counts
from cloudtrail_lake_import.cli.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT
from cloudtrail_lake_import.cli.lake_query import counts_statement, refused, store_id
from cloudtrail_lake_import.cli.reconcile import Counts, compare_ids, complete, reconcile, settle
from cloudtrail_lake_import.cli.verify_sources import store_region
from cloudtrail_lake_import.handler_rules import sizing


@pytest.mark.parametrize(
    ("archive", "store", "status"),
    [
        (Counts(10, 10), Counts(10, 10), "ok"),
        (Counts(10, 10), Counts(9, 9), "missing"),
        (Counts(10, 10), Counts(20, 10), "duplicated"),
        (Counts(10, 10), Counts(13, 13), "extra"),
        (Counts(11, 10), Counts(11, 10), "ok"),  # the archive's own duplicate, copied
        (Counts(11, 10), Counts(12, 10), "duplicated"),
        (Counts(10, 10), Counts(12, 9), "missing"),  # missing outranks duplicated
        (Counts(0, 0), Counts(3, 3), "extra"),
        (Counts(4, 4), Counts(0, 0), "missing"),
    ],
)
def test_a_group_is_judged_by_both_sides_counts(
    archive: Counts, store: Counts, status: str
) -> None:
    key = ("2025-01-10", "111122223333", "us-east-1")
    (group,) = reconcile({key: archive}, {key: store})
    assert group.status == status
    assert complete([group]) is (status in ("ok", "extra"))


def test_ids_compared_turn_an_extra_group_that_hides_a_missing_event_into_missing() -> None:
    key = ("2025-01-10", "111122223333", "us-east-1")
    (group,) = reconcile({key: Counts(2, 2)}, {key: Counts(3, 3)})
    assert group.status == "extra"
    details = compare_ids(key, Counter({"a": 1, "b": 1}), Counter({"a": 1, "live1": 1, "live2": 1}))
    assert details.missing == ["b"]
    assert details.extra == 2
    assert [g.status for g in settle([group], [details])] == ["missing"]


class Body:
    def __init__(self, data: bytes, chunk: int = 7) -> None:
        self._data = data
        self._chunk = chunk
        self.closed = False

    def iter_chunks(self, _size: int) -> Any:
        for i in range(0, len(self._data), self._chunk):
            yield self._data[i : i + self._chunk]

    def close(self) -> None:
        self.closed = True


class FakeS3:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.gets = 0

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        self.gets += 1
        return {"Body": Body(self.objects[Key]), "ETag": f'"etag-{Key}"'}


def record(event_id: str, at: str) -> dict[str, Any]:
    return {
        "eventID": event_id,
        "eventTime": at,
        "recipientAccountId": "111122223333",
        "awsRegion": "us-east-1",
    }


def log(*records: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps({"Records": list(records)}).encode())


def item(key: str, at: str) -> archive_counts.ArchiveFile:
    when = datetime.fromisoformat(at).replace(tzinfo=UTC)
    return archive_counts.ArchiveFile("bucket", sizing.LogFile(key, 100, when))


def test_a_gzip_of_several_members_is_read_whole_in_small_chunks() -> None:
    first = gzip.compress(b'{"Records": [{"eventID": "a"}, ')
    second = gzip.compress(b'{"eventID": "b"}]}')
    assert [r["eventID"] for r in archive_counts.read_records(Body(first + second, 3))] == [
        "a",
        "b",
    ]


def test_an_event_in_two_files_counts_once_and_old_events_apart() -> None:
    s3 = FakeS3(
        {
            "f1": log(record("a", "2025-01-10T10:00:00Z"), record("old", "2020-01-01T00:00:00Z")),
            "f2": log(record("a", "2025-01-10T10:00:00Z"), record("b", "2025-01-10T23:59:00Z")),
            "f3": log(record("c", "2025-01-11T00:01:00Z")),
        }
    )
    files = [
        item("f1", "2025-01-10T10:05"),
        item("f2", "2025-01-11T00:05"),
        item("f3", "2025-01-11T00:05"),
    ]
    with ThreadPoolExecutor(2) as pool:
        side = archive_counts.count_archive(
            s3, files, skip=frozenset(), oldest="2024-01-01T00:00:00Z", pool=pool, workers=1
        )
    assert side.counts == {
        ("2025-01-10", "111122223333", "us-east-1"): Counts(3, 2),
        ("2025-01-11", "111122223333", "us-east-1"): Counts(1, 1),
    }
    assert side.outside_retention == 1
    assert [(f.etag, f.records) for f in side.files] == [
        ("etag-f1", 2),
        ("etag-f2", 2),
        ("etag-f3", 1),
    ]


def test_an_undated_file_of_a_flat_copy_is_counted_and_deduplicated_with_dated_ones() -> None:
    # A flat copy below a named prefix has no date in its name: StartImport reads it whole,
    # so verify counts it, and an event it shares with a dated file still counts once.
    s3 = FakeS3(
        {
            "legacy-copy/export.json.gz": log(
                record("a", "2025-01-02T10:00:00Z"), record("z", "2025-01-20T10:00:00Z")
            ),
            "dated": log(record("a", "2025-01-02T10:00:00Z")),
            "later": log(record("l", "2025-01-20T11:00:00Z")),
        }
    )
    files = [
        item("dated", "2025-01-02T10:05"),
        archive_counts.ArchiveFile(
            "bucket", sizing.LogFile("legacy-copy/export.json.gz", 100, None)
        ),
        item("later", "2025-01-20T11:05"),
    ]
    with ThreadPoolExecutor(2) as pool:
        side = archive_counts.count_archive(
            s3, files, skip=frozenset(), oldest=None, pool=pool, workers=1
        )
    assert side.counts == {
        ("2025-01-02", "111122223333", "us-east-1"): Counts(2, 1),
        ("2025-01-20", "111122223333", "us-east-1"): Counts(2, 2),
    }


def test_files_in_flight_are_bounded_by_the_workers_not_the_archive() -> None:
    objects = {f"f{i:03d}": log(record(f"e{i}", "2025-01-10T10:00:00Z")) for i in range(100)}
    s3 = FakeS3(objects)
    most = 0

    def watch(progress: archive_counts.Progress) -> None:
        nonlocal most
        most = max(most, s3.gets - progress.files_read)

    files = [item(k, "2025-01-10T10:05") for k in objects]
    with ThreadPoolExecutor(4) as pool:
        side = archive_counts.count_archive(
            s3, files, skip=frozenset(), oldest=None, pool=pool, workers=4, on_progress=watch
        )
    assert sum(c.distinct for c in side.counts.values()) == 100
    assert most <= 2 * 4


def test_a_failed_file_is_not_read_and_a_file_that_is_no_log_is_named() -> None:
    s3 = FakeS3({"good": log(record("a", "2025-01-10T10:00:00Z")), "junk": b"not gzip"})
    files = [
        item("good", "2025-01-10T10:05"),
        item("junk", "2025-01-10T10:05"),
        item("failed", "2025-01-10T10:05"),
    ]
    with ThreadPoolExecutor(2) as pool:
        side = archive_counts.count_archive(
            s3, files, skip=frozenset({"s3://bucket/failed"}), oldest=None, pool=pool, workers=2
        )
    assert list(side.unreadable) == ["s3://bucket/junk"]
    assert sum(c.records for c in side.counts.values()) == 1


def denied(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "StartQuery")


def test_refusals_name_what_to_grant_and_exit_2() -> None:
    error = refused("GetObject", denied("AccessDenied"), "arn:aws:s3:::b/*", "s3:GetObject")
    assert (str(error), error.exit_code) == (
        "GetObject was refused (AccessDenied): grant s3:GetObject on arn:aws:s3:::b/*",
        EXIT_BAD_INPUT,
    )
    no_credentials = refused("StartQuery", NoCredentialsError(), "store")
    assert no_credentials.exit_code == EXIT_BAD_INPUT
    assert "no AWS credentials found" in str(no_credentials)
    throttled = refused("StartQuery", denied("ThrottlingException"), "store")
    assert throttled.exit_code == EXIT_AWS_ERROR


def test_a_store_id_that_could_change_the_statement_is_refused() -> None:
    arn = "arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/"
    assert store_id(arn + "EXAMPLE-f852-4e8f") == "EXAMPLE-f852-4e8f"
    with pytest.raises(Exception, match="--store"):
        counts_statement(arn + "x WHERE 1=1 --", *[datetime(2025, 1, 1).date()] * 2)


def test_queries_go_to_the_stores_own_region() -> None:
    arn = "arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-1234"
    assert store_region(arn) == "eu-west-1"
    assert store_region("arn:aws:s3:::bucket") is None


def test_an_event_delivered_days_late_is_counted_though_no_longer_de_duplicated() -> None:
    s3 = FakeS3(
        {
            "day10": log(record("a", "2025-01-10T10:00:00Z")),
            "day14": log(
                record("late", "2025-01-10T11:00:00Z"), record("a", "2025-01-10T10:00:00Z")
            ),
        }
    )
    files = [item("day10", "2025-01-10T10:05"), item("day14", "2025-01-14T00:05")]
    with ThreadPoolExecutor(1) as pool:
        side = archive_counts.count_archive(
            s3, files, skip=frozenset(), oldest=None, pool=pool, workers=1, keep_files=False
        )
    assert side.counts == {("2025-01-10", "111122223333", "us-east-1"): Counts(3, 3)}
    assert side.late_records == 2
    assert (side.files, side.files_counted) == ([], 2)


def test_ids_compared_clear_a_group_whose_counts_a_late_copy_inflated() -> None:
    key = ("2025-01-10", "111122223333", "us-east-1")
    (group,) = reconcile({key: Counts(3, 3)}, {key: Counts(2, 2)})
    assert group.status == "missing"
    details = compare_ids(key, Counter({"a": 2, "b": 1}), Counter({"a": 2, "b": 1}))
    assert (details.status, details.differs) == ("ok", False)
    assert [g.status for g in settle([group], [details])] == ["ok"]
