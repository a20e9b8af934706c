"""The thin, typed CloudTrail layer: each function is one API call (or one small listing)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from import_handler import aws
from import_handler.model import RUNNING, ImportRecord
from import_handler.properties import ImportIdentity

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient

# A client for the next call, built for the time left when it is made.
ClientFor = Callable[[], "CloudTrailClient"]
logger = logging.getLogger(__name__)

STATISTICS = (
    "PrefixesFound",
    "PrefixesCompleted",
    "FilesCompleted",
    "EventsCompleted",
    "FailedEntries",
)
FAILURES_TO_REPORT = 5
# Looking for an earlier import to go back to: ListImports pages (at most LIST_IMPORTS_PAGES,
# since its order is not documented), then GetImport of the newest imports until a running or
# COMPLETED match, at most EARLIER_IMPORTS_TO_READ of them (an import plan writes many imports
# into one store; CloudTrail's quota for these APIs is about 1 TPS, and the time left bounds it).
LIST_IMPORTS_PAGE = 50
LIST_IMPORTS_PAGES = 20
EARLIER_IMPORTS_TO_READ = 50
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ImportFailure:
    location: str
    status: str
    error_type: str
    error_message: str


@dataclass(frozen=True)
class EventDataStore:
    arn: str
    status: str
    selectors: Sequence[Mapping[str, Any]]
    organization_enabled: bool = False


def get_import(client: CloudTrailClient, import_id: str) -> ImportRecord | None:
    """The import, or None when CloudTrail does not know it (ImportNotFoundException)."""
    return _unless_not_found(lambda: client.get_import(ImportId=import_id), import_id)


def start_import(client: CloudTrailClient, identity: ImportIdentity) -> ImportRecord:
    kwargs: dict[str, Any] = {
        "Destinations": [identity.destination],
        "ImportSource": {
            "S3": {
                "S3LocationUri": identity.s3_location_uri,
                "S3BucketRegion": identity.s3_bucket_region,
                "S3BucketAccessRoleArn": identity.s3_bucket_access_role_arn,
            }
        },
    }
    if identity.start_event_time is not None:
        kwargs["StartEventTime"] = identity.start_event_time
    if identity.end_event_time is not None:
        kwargs["EndEventTime"] = identity.end_event_time
    return record_from(client.start_import(**kwargs), "")


def retry_import(client: CloudTrailClient, import_id: str) -> ImportRecord:
    """CloudTrail resumes a FAILED or STOPPED import where it left off."""
    return record_from(client.start_import(ImportId=import_id), import_id)


def stop_import(client: CloudTrailClient, import_id: str) -> ImportRecord | None:
    """The stopped import, or None when CloudTrail does not know it."""
    return _unless_not_found(lambda: client.stop_import(ImportId=import_id), import_id)


def _unless_not_found(
    request: Callable[[], Mapping[str, Any]], import_id: str
) -> ImportRecord | None:
    try:
        response = request()
    except ClientError as error:
        if aws.error_code(error) == "ImportNotFoundException":
            return None
        raise
    return record_from(response, import_id)


def ongoing_imports(client: CloudTrailClient, destination: str) -> list[ImportRecord]:
    """``running_imports`` on one client, for a caller whose budget covers the whole listing."""
    return running_imports(lambda: client, destination)


def running_imports(client_for: ClientFor, destination: str) -> list[ImportRecord]:
    """The running imports of the account (at most one, CloudTrail allows no more).

    ListImports does not return the source or the window, so those on our destination are
    read with GetImport to compare them with ours. Each call gets a client from ``client_for``,
    so each fits the time left when it is made.
    """
    found: list[ImportRecord] = []
    for status in ("INITIALIZING", "IN_PROGRESS"):
        response = client_for().list_imports(ImportStatus=status, MaxResults=10)
        for item in response.get("Imports", []):
            import_id = item.get("ImportId", "")
            if not import_id or item.get("ImportStatus") not in RUNNING:
                continue
            if destination in item.get("Destinations", []):
                full = get_import(client_for(), import_id)
                if full is not None:
                    found.append(full)
                    continue
            found.append(ImportRecord(import_id, str(item.get("ImportStatus"))))
    return found


def earlier_imports(
    client_for: ClientFor, identity: ImportIdentity, exclude: str
) -> Iterator[ImportRecord]:
    """The imports into ``identity.destination`` with this source and window, newest first.

    ListImports (it returns no source or window), then a GetImport per candidate, read lazily:
    the consumer stops reading when it has what it needs. At most ``EARLIER_IMPORTS_TO_READ``
    imports other than ``exclude`` are read. Each call gets a client from ``client_for``; when
    it says no time is left (``aws.NoTimeLeftError``) after the listing, the reading stops
    with what was found.
    """
    for import_id in recent_import_ids(client_for, identity.destination, exclude):
        try:
            record = get_import(client_for(), import_id)
        except aws.NoTimeLeftError:
            logger.warning("no time left to read more earlier imports; deciding with those read")
            return
        if record is not None and record.identity == identity:
            yield record


def recent_import_ids(client_for: ClientFor, destination: str, exclude: str) -> list[str]:
    """The newest imports into ``destination`` (newest first), without ``exclude``.

    Every page of ListImports (up to LIST_IMPORTS_PAGES), since its order is not documented.
    """
    listed: list[Mapping[str, Any]] = []
    kwargs: dict[str, Any] = {"Destination": destination, "MaxResults": LIST_IMPORTS_PAGE}
    for _ in range(LIST_IMPORTS_PAGES):
        response = client_for().list_imports(**kwargs)
        listed.extend(
            item
            for item in response.get("Imports", [])
            if item.get("ImportId")
            and item.get("ImportId") != exclude
            and destination in item.get("Destinations", [destination])
        )
        token = response.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    listed.sort(key=lambda item: _utc(item.get("CreatedTimestamp")) or _OLDEST, reverse=True)
    return [str(item["ImportId"]) for item in listed[:EARLIER_IMPORTS_TO_READ]]


def import_failures(client: CloudTrailClient, import_id: str) -> list[ImportFailure]:
    """The first failures, FAILED ones before those CloudTrail is still retrying."""
    response = client.list_import_failures(ImportId=import_id, MaxResults=50)
    failures = [
        ImportFailure(
            location=str(item.get("Location", "")),
            status=str(item.get("Status", "")),
            error_type=str(item.get("ErrorType", "")),
            error_message=str(item.get("ErrorMessage", "")),
        )
        for item in response.get("Failures", [])
        if item.get("Status") != "SUCCEEDED"
    ]
    failures.sort(key=lambda f: f.status != "FAILED")
    return failures[:FAILURES_TO_REPORT]


def get_event_data_store(client: CloudTrailClient, arn: str) -> EventDataStore:
    response = client.get_event_data_store(EventDataStore=arn)
    return EventDataStore(
        arn=str(response.get("EventDataStoreArn", arn)),
        status=str(response.get("Status", "")),
        selectors=[dict(s) for s in response.get("AdvancedEventSelectors", [])],
        organization_enabled=bool(response.get("OrganizationEnabled", False)),
    )


def record_from(response: Mapping[str, Any], import_id: str) -> ImportRecord:
    source = response.get("ImportSource", {}).get("S3")
    destinations = response.get("Destinations", [])
    identity = None
    if source and len(destinations) == 1:
        identity = ImportIdentity(
            destination=destinations[0],
            s3_location_uri=source.get("S3LocationUri", ""),
            s3_bucket_region=source.get("S3BucketRegion", ""),
            s3_bucket_access_role_arn=source.get("S3BucketAccessRoleArn", ""),
            start_event_time=_utc(response.get("StartEventTime")),
            end_event_time=_utc(response.get("EndEventTime")),
        )
    raw_stats = response.get("ImportStatistics", {})
    statistics = {key: int(raw_stats[key]) for key in STATISTICS if key in raw_stats}
    return ImportRecord(
        import_id=str(response.get("ImportId") or import_id),
        status=str(response.get("ImportStatus", "")),
        identity=identity,
        statistics=statistics,
    )


def _utc(value: object) -> datetime | None:
    """Second precision in UTC, as the properties carry it."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)
