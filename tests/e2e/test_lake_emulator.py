"""The CloudTrail Lake emulator, driven by a real boto3 client: wire format and behaviour."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from tests.e2e.harness import ACCOUNT, REGION
from tests.e2e.s3_tls import FAKE_KEY_ID, FAKE_SECRET, MotoS3Tls
from tests.e2e.world import ROLE_ARN, bucket_holding, make_bucket
from tests.lake_emulator.clock import EmulatedClock
from tests.lake_emulator.server import CloudTrailLake, EventDataStore
from tests.lake_emulator.trail_archive import TrailArchive, log_file_key

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_cloudtrail.type_defs import ImportSourceTypeDef
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def s3(s3_server: MotoS3Tls) -> S3Client:
    return s3_server.client()


@pytest.fixture
def bucket(archive_bucket: str) -> str:
    return archive_bucket


@pytest.fixture
def emulator(lake: tuple[CloudTrailLake, str]) -> CloudTrailLake:
    return lake[0]


@pytest.fixture
def ct(lake: tuple[CloudTrailLake, str]) -> CloudTrailClient:
    """A client of the emulator that does not retry."""
    return client(lake[1])


@pytest.fixture
def store(emulator: CloudTrailLake) -> EventDataStore:
    return emulator.add_event_data_store()


def client(url: str, attempts: int = 1) -> CloudTrailClient:
    ct: CloudTrailClient = boto3.client(
        "cloudtrail",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )
    return ct


def source(bucket: str, prefix: str = "") -> ImportSourceTypeDef:
    return {
        "S3": {
            "S3LocationUri": f"s3://{bucket}/{prefix}",
            "S3BucketRegion": REGION,
            "S3BucketAccessRoleArn": ROLE_ARN,
        }
    }


def run_to_end(clock: EmulatedClock, ct: CloudTrailClient, import_id: str) -> dict[str, Any]:
    for _ in range(1000):
        got: dict[str, Any] = dict(ct.get_import(ImportId=import_id))
        if got["ImportStatus"] not in ("INITIALIZING", "IN_PROGRESS"):
            return got
        clock.advance(10)
    raise AssertionError("import never ended")


def stats(expected: Any) -> dict[str, int]:
    return {
        "PrefixesFound": expected.prefixes,
        "PrefixesCompleted": expected.prefixes,
        "FilesCompleted": expected.files,
        "EventsCompleted": expected.events,
        "FailedEntries": 0,
    }


def test_whole_archive_imports_with_exact_statistics(
    ct: CloudTrailClient,
    store: EventDataStore,
    clock: EmulatedClock,
    bucket: str,
    archive: TrailArchive,
) -> None:
    started = ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))
    assert started["ImportStatus"] == "INITIALIZING"
    assert len(started["ImportId"]) == 36
    assert isinstance(started["CreatedTimestamp"], datetime)
    clock.advance(6)
    assert ct.get_import(ImportId=started["ImportId"])["ImportStatus"] == "IN_PROGRESS"
    done = run_to_end(clock, ct, started["ImportId"])
    assert done["ImportStatus"] == "COMPLETED"
    assert done["ImportStatistics"] == stats(archive.expected())
    assert ct.list_import_failures(ImportId=started["ImportId"])["Failures"] == []


def test_window_and_prefix_select_by_name_and_skip_digests(
    ct: CloudTrailClient,
    store: EventDataStore,
    clock: EmulatedClock,
    bucket: str,
    archive: TrailArchive,
) -> None:
    prefix = "AWSLogs/111122223333/"
    start = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    end = datetime(2025, 1, 11, 23, 59, tzinfo=UTC)
    expected = archive.expected(prefix, start, end)
    assert 0 < expected.files < archive.expected(prefix).files
    imp = ct.start_import(
        Destinations=[store.arn],
        ImportSource=source(bucket, prefix),
        StartEventTime=start,
        EndEventTime=end,
    )
    done = run_to_end(clock, ct, imp["ImportId"])
    assert done["ImportStatistics"] == stats(expected)
    assert done["StartEventTime"] == start
    assert done["EndEventTime"] == end


def test_corrupt_file_fails_then_retry_after_fix_completes(
    ct: CloudTrailClient,
    store: EventDataStore,
    clock: EmulatedClock,
    small_archive: TrailArchive,
    s3: S3Client,
) -> None:
    archive = small_archive
    bucket = bucket_holding(s3, archive)
    bad = log_file_key(
        ACCOUNT, REGION, datetime(2025, 1, 11, 8, 5, tzinfo=UTC), "CORRUPT0000000000"
    )
    s3.put_object(Bucket=bucket, Key=bad, Body=b'{"Records": []}')  # not gzip
    imp = ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))
    done = run_to_end(clock, ct, imp["ImportId"])
    assert done["ImportStatus"] == "FAILED"
    assert done["ImportStatistics"]["FailedEntries"] == 1
    failures = ct.list_import_failures(ImportId=imp["ImportId"])["Failures"]
    assert [(f["Location"], f["Status"], f["ErrorType"]) for f in failures] == [
        (f"s3://{bucket}/{bad}", "FAILED", "InvalidFileFormat")
    ]
    with pytest.raises(ct.exceptions.InvalidParameterException):
        ct.start_import(ImportId=imp["ImportId"], Destinations=[store.arn])
    s3.put_object(
        Bucket=bucket,
        Key=bad,
        Body=gzip.compress(b'{"Records": [{"eventTime": "2025-01-11T08:04:00Z"}]}'),
    )
    assert ct.start_import(ImportId=imp["ImportId"])["ImportStatus"] == "INITIALIZING"
    done = run_to_end(clock, ct, imp["ImportId"])
    whole = archive.expected()
    assert done["ImportStatus"] == "COMPLETED"
    assert done["ImportStatistics"]["FilesCompleted"] == whole.files + 1
    assert done["ImportStatistics"]["EventsCompleted"] == whole.events + 1
    assert done["ImportStatistics"]["FailedEntries"] == 0
    assert ct.list_import_failures(ImportId=imp["ImportId"])["Failures"][0]["Status"] == "SUCCEEDED"
    with pytest.raises(ct.exceptions.InvalidParameterException):
        ct.start_import(ImportId=imp["ImportId"])  # COMPLETED is not retried


def test_malformed_gzip_json_is_a_failure(
    ct: CloudTrailClient, store: EventDataStore, clock: EmulatedClock, s3: S3Client
) -> None:
    bucket = make_bucket(s3)
    key = log_file_key(ACCOUNT, REGION, datetime(2025, 1, 11, 8, 5, tzinfo=UTC), "MALFORMED0000000")
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(b"{not json"))
    imp = ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))
    assert run_to_end(clock, ct, imp["ImportId"])["ImportStatus"] == "FAILED"
    failure = ct.list_import_failures(ImportId=imp["ImportId"])["Failures"][0]
    assert failure["ErrorType"] == "MalformedLogFile"


def test_acl_enabled_bucket_fails_the_import(
    ct: CloudTrailClient,
    store: EventDataStore,
    clock: EmulatedClock,
    s3: S3Client,
    small_archive: TrailArchive,
) -> None:
    bucket = bucket_holding(s3, small_archive, acls_enabled=True)
    imp = ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))
    assert run_to_end(clock, ct, imp["ImportId"])["ImportStatus"] == "FAILED"
    failures = ct.list_import_failures(ImportId=imp["ImportId"])["Failures"]
    assert [f["ErrorType"] for f in failures] == ["AccessDenied"]


def test_stop_list_and_one_import_per_account(
    ct: CloudTrailClient,
    emulator: CloudTrailLake,
    store: EventDataStore,
    clock: EmulatedClock,
    bucket: str,
) -> None:
    first = ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))["ImportId"]
    with pytest.raises(ct.exceptions.AccountHasOngoingImportException):
        ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))
    clock.advance(8)
    stopped = ct.stop_import(ImportId=first)
    assert stopped["ImportStatus"] == "STOPPED"
    assert stopped["ImportStatistics"]["FilesCompleted"] == 3
    assert ct.stop_import(ImportId=first)["ImportStatus"] == "STOPPED"  # idempotent
    second = ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))["ImportId"]
    with pytest.raises(ct.exceptions.AccountHasOngoingImportException):
        ct.start_import(ImportId=first)
    page = ct.list_imports(MaxResults=1)
    assert [i["ImportId"] for i in page["Imports"]] == [first]
    rest = ct.list_imports(MaxResults=1, NextToken=page["NextToken"])
    assert [i["ImportId"] for i in rest["Imports"]] == [second]
    assert "NextToken" not in rest
    running = ct.list_imports(Destination=store.arn, ImportStatus="INITIALIZING")["Imports"]
    assert [i["ImportId"] for i in running] == [second]
    other = emulator.add_event_data_store(account="210987654321")
    assert ct.start_import(Destinations=[other.arn], ImportSource=source(bucket))["ImportId"]


def test_get_event_data_store_by_arn_and_id(ct: CloudTrailClient, emulator: CloudTrailLake) -> None:
    store = emulator.add_event_data_store("archive", status="STOPPED_INGESTION")
    by_arn = ct.get_event_data_store(EventDataStore=store.arn)
    by_id = ct.get_event_data_store(EventDataStore=store.arn.rsplit("/", 1)[1])
    assert by_arn["Status"] == by_id["Status"] == "STOPPED_INGESTION"
    assert by_arn["AdvancedEventSelectors"][0]["FieldSelectors"][0] == {
        "Field": "eventCategory",
        "Equals": ["Management"],
    }
    assert isinstance(by_arn["CreatedTimestamp"], datetime)


ErrorCase = Callable[["CloudTrailClient", CloudTrailLake, str], object]


def _store(emulator: CloudTrailLake, **kwargs: Any) -> str:
    return emulator.add_event_data_store(**kwargs).arn


ERROR_CASES: dict[str, ErrorCase] = {
    "EventDataStoreNotFoundException": lambda ct, e, b: ct.get_event_data_store(
        EventDataStore=f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:eventdatastore/missing"
    ),
    "EventDataStoreARNInvalidException": lambda ct, e, b: ct.get_event_data_store(
        EventDataStore="arn:aws:s3:::not-a-store"
    ),
    "InvalidEventDataStoreCategoryException": lambda ct, e, b: ct.start_import(
        Destinations=[_store(e, category="ConfigurationItem")], ImportSource=source(b)
    ),
    "InactiveEventDataStoreException": lambda ct, e, b: ct.start_import(
        Destinations=[_store(e, status="PENDING_DELETION")], ImportSource=source(b)
    ),
    "InvalidEventDataStoreStatusException": lambda ct, e, b: ct.start_import(
        Destinations=[_store(e, status="STARTING_INGESTION")], ImportSource=source(b)
    ),
    "InvalidImportSourceException": lambda ct, e, b: ct.start_import(
        Destinations=[_store(e)], ImportSource=source("no-such-bucket-e2e")
    ),
    "ImportNotFoundException": lambda ct, e, b: ct.get_import(
        ImportId="0" * 8 + "-0000-4000-a000-" + "0" * 12
    ),
    "InvalidNextTokenException": lambda ct, e, b: ct.list_imports(NextToken="bogus-token"),
    "InvalidParameterException": lambda ct, e, b: ct.start_import(
        Destinations=[_store(e)],
        ImportSource=source(b),
        StartEventTime=datetime(2025, 2, 1, tzinfo=UTC),
        EndEventTime=datetime(2025, 1, 1, tzinfo=UTC),
    ),
}


@pytest.mark.parametrize("code", sorted(ERROR_CASES))
def test_errors_parse_into_modeled_exceptions(
    code: str, ct: CloudTrailClient, emulator: CloudTrailLake, bucket: str
) -> None:
    with pytest.raises(ClientError) as caught:
        ERROR_CASES[code](ct, emulator, bucket)
    assert type(caught.value) is getattr(ct.exceptions, code)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["Error"]["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_wrong_region_bucket_is_an_invalid_source(
    ct: CloudTrailClient, emulator: CloudTrailLake, bucket: str
) -> None:
    src = source(bucket)
    src["S3"]["S3BucketRegion"] = "eu-west-1"
    with pytest.raises(ct.exceptions.InvalidImportSourceException):
        ct.start_import(Destinations=[_store(emulator)], ImportSource=src)


def test_faults_throttle_500_and_reset(
    lake: tuple[CloudTrailLake, str], ct: CloudTrailClient, store: EventDataStore, bucket: str
) -> None:
    emulator, url = lake
    emulator.faults.add("throttle", 1, "GetEventDataStore")
    with pytest.raises(ClientError) as throttled:
        ct.get_event_data_store(EventDataStore=store.arn)
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    emulator.faults.add("server_error", 1)
    with pytest.raises(ClientError) as failed:
        ct.get_event_data_store(EventDataStore=store.arn)
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    emulator.faults.add("reset", 1)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        ct.get_event_data_store(EventDataStore=store.arn)
    # botocore's standard retries ride over a burst shorter than its attempts
    emulator.faults.add("throttle", 2)
    assert client(url, attempts=3).get_event_data_store(EventDataStore=store.arn)["Name"]
    emulator.faults.add("reset_after", 1, "StartImport")
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))
    assert len(emulator.imports) == 1  # processed, answer lost
    assert emulator.operations() == ["GetEventDataStore"] * 6 + ["StartImport"]
    assert emulator.operations("throttled") == ["GetEventDataStore"] * 3


def test_a_denied_call_at_one_position_is_refused_and_not_processed(
    lake: tuple[CloudTrailLake, str], ct: CloudTrailClient, store: EventDataStore, bucket: str
) -> None:
    emulator, _ = lake
    emulator.faults.add("deny", 1, "StartImport", after=1)
    first = ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))["ImportId"]
    ct.stop_import(ImportId=first)
    with pytest.raises(ClientError) as denied:
        ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "cloudtrail:StartImport" in denied.value.response["Error"]["Message"]
    assert list(emulator.imports) == [first]  # the refused call started nothing
    assert ct.start_import(Destinations=[store.arn], ImportSource=source(bucket))["ImportId"]
    assert emulator.faults.pending() == 0
    assert emulator.operations("AccessDeniedException") == ["StartImport"]
