"""What ``verify`` compares: the locations and windows (given, or of a deployed import or plan),
the store's retention, and the files the store's imports failed (the expected gaps)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudtrail_lake_import.cli import status as status_command
from cloudtrail_lake_import.cli.errors import BadInputError, CliError
from cloudtrail_lake_import.cli.lake_query import refused
from cloudtrail_lake_import.cli.params import iso
from cloudtrail_lake_import.handler_rules import sizing

STORE_ARN_PREFIX = "arn:"


@dataclass(frozen=True)
class Source:
    """One import's location and window."""

    uri: str
    bucket: str
    prefix: str
    window: sizing.Window

    def as_json(self) -> dict[str, Any]:
        return {"uri": self.uri, "start": iso(self.window.start), "end": iso(self.window.end)}


def source(uri: str, start: datetime | None, end: datetime | None, what: str) -> Source:
    try:
        bucket, prefix = sizing.parse_s3_uri(uri)
    except ValueError as error:
        raise BadInputError(f"{what}: {error}") from error
    try:
        window = sizing.Window(start, end)
    except ValueError as error:
        raise BadInputError(f"{what} window: {error}") from error
    return Source(uri, bucket, prefix, window)


def _time(value: object) -> datetime | None:
    """A StartImport time: a datetime (boto3), epoch seconds or ISO 8601 text (a plan's input)."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def of_request(request: dict[str, Any], what: str) -> tuple[str, Source]:
    """The store and source of a StartImport request (or GetImport response)."""
    destinations = request.get("Destinations") or []
    uri = request.get("ImportSource", {}).get("S3", {}).get("S3LocationUri")
    if len(destinations) != 1 or not uri:
        raise CliError(f"{what} names no single store and S3 location")
    found = source(
        str(uri), _time(request.get("StartEventTime")), _time(request.get("EndEventTime")), what
    )
    return str(destinations[0]), found


def of_stack(
    cloudtrail: Any, states: Any, stack: str, logical_id: str | None
) -> tuple[str, list[Source]]:
    """The store and sources of a stack's import (GetImport) or plan (its segments)."""
    target = status_command.target_of_stack(stack, logical_id)
    if target.execution_arn is not None:
        try:
            execution = states.describe_execution(executionArn=target.execution_arn)
        except (ClientError, BotoCoreError) as error:
            raise refused(
                "DescribeExecution", error, target.execution_arn, "states:DescribeExecution"
            ) from error
        segments = json.loads(execution.get("input") or "{}").get("Segments", [])
        found = [of_request(s["Request"], f"segment {s.get('Index')}") for s in segments]
        stores = {store for store, _ in found}
        if len(stores) != 1:
            raise CliError(f"the plan of stack {stack} names {len(stores)} stores, expected one")
        return stores.pop(), [s for _, s in found]
    assert target.import_id is not None
    try:
        described = cloudtrail.get_import(ImportId=target.import_id)
    except (ClientError, BotoCoreError) as error:
        raise refused("GetImport", error, f"import {target.import_id}") from error
    store, found_source = of_request(dict(described), f"import {target.import_id}")
    return store, [found_source]


def store_region(store_arn: str) -> str | None:
    """The region of an event data store ARN (its queries must be sent there)."""
    parts = store_arn.split(":")
    return parts[3] if len(parts) > 5 and parts[2] == "cloudtrail" and parts[3] else None


def retention_days(cloudtrail: Any, store_arn: str) -> int:
    """The store's RetentionPeriod (days): older events are dropped by CloudTrail."""
    if not store_arn.startswith(STORE_ARN_PREFIX):
        raise BadInputError(f"--store: expected an event data store ARN, got {store_arn!r}")
    try:
        described = cloudtrail.get_event_data_store(EventDataStore=store_arn)
    except (ClientError, BotoCoreError) as error:
        raise refused("GetEventDataStore", error, store_arn) from error
    return int(described.get("RetentionPeriod") or 0)


def failed_files(cloudtrail: Any, store_arn: str, locations: set[str]) -> dict[str, str]:
    """Locations of ``locations`` an import into the store FAILED (``ErrorType: message``).

    A file that another import (or a retry) read since (SUCCEEDED) is no gap.
    """
    failed: dict[str, str] = {}
    succeeded: set[str] = set()
    try:
        import_ids = [
            str(item["ImportId"])
            for page in cloudtrail.get_paginator("list_imports").paginate(Destination=store_arn)
            for item in page.get("Imports", [])
        ]
    except (ClientError, BotoCoreError) as error:
        raise refused("ListImports", error, "* (the action has no resource type)") from error
    for import_id in import_ids:
        try:
            pages = cloudtrail.get_paginator("list_import_failures").paginate(ImportId=import_id)
            failures = [f for page in pages for f in page.get("Failures", [])]
        except (ClientError, BotoCoreError) as error:
            raise refused(
                "ListImportFailures", error, "* (the action has no resource type)"
            ) from error
        for failure in failures:
            location = str(failure.get("Location", ""))
            if location not in locations:
                continue
            if failure.get("Status") == "FAILED":
                failed[location] = f"{failure.get('ErrorType')}: {failure.get('ErrorMessage')}"
            elif failure.get("Status") == "SUCCEEDED":
                succeeded.add(location)
    return {k: v for k, v in sorted(failed.items()) if k not in succeeded}
