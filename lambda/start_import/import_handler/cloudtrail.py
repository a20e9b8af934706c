"""The thin, typed CloudTrail layer: each function is one API call (or one small listing)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from import_handler import aws
from import_handler.frozen import frozen
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
# Reading a store's imports: the largest page ListImports allows (fewest calls against a quota
# of about 1 TPS); the pages are followed to the end, since a cap would hide an import.
LIST_IMPORTS_PAGE = 1000
_OLDEST = datetime.min.replace(tzinfo=UTC)


@frozen
class ImportFailure:
    location: str
    status: str
    error_type: str
    error_message: str


@frozen
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


def store_imports(
    client_for: ClientFor,
    destination: str,
    known: MutableMapping[str, ImportIdentity | None],
) -> list[ImportRecord]:
    """Every import into ``destination``, newest first, with its status and identity.

    ListImports, every page (it returns no source or window), then GetImport of each import
    whose identity is not in ``known`` yet (an import's identity never changes, so ``known``
    is filled as a cache for the next look-up of the same invocation). Any failed call
    raises: a partial history is no history (docs/DESIGN.md, "Exactly once", rule 2). Each
    call gets a client from ``client_for``, budgeted when it is made (``aws.NoTimeLeftError``
    when no time is left).
    """
    listed: dict[str, Mapping[str, Any]] = {}
    kwargs: dict[str, Any] = {"Destination": destination, "MaxResults": LIST_IMPORTS_PAGE}
    seen_tokens: set[str] = set()
    while True:
        response = client_for().list_imports(**kwargs)
        for item in response.get("Imports", []):
            import_id = str(item.get("ImportId") or "")
            if import_id and destination in item.get("Destinations", [destination]):
                listed[import_id] = dict(item)
        token = response.get("NextToken")
        if not token or token in seen_tokens:
            break
        seen_tokens.add(token)
        kwargs["NextToken"] = token
    newest_first = sorted(
        listed.values(),
        key=lambda item: _utc(item.get("CreatedTimestamp")) or _OLDEST,
        reverse=True,
    )
    records: list[ImportRecord] = []
    for listed_item in newest_first:
        import_id = str(listed_item["ImportId"])
        status = str(listed_item.get("ImportStatus", ""))
        if import_id in known:
            records.append(ImportRecord(import_id, status, known[import_id]))
            continue
        full = get_import(client_for(), import_id)
        if full is not None:  # else gone between the listing and the read
            known[import_id] = full.identity
            records.append(full)
    return records


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
