"""Events, records and stubbed responses shared by the handler tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

STORE_ARN = (
    "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
)
ROLE_ARN = "arn:aws:iam::123456789012:role/TrailImportRole"
OTHER_ROLE_ARN = "arn:aws:iam::123456789012:role/OtherRole"
BUCKET = "trail-archive"
URI = f"s3://{BUCKET}/AWSLogs/123456789012/CloudTrail/"
OTHER_URI = f"s3://{BUCKET}/AWSLogs/210987654321/CloudTrail/"
REGION = "us-east-1"
START = "2023-01-01T00:00:00Z"
END = "2024-01-01T00:00:00Z"
START_DT = datetime(2023, 1, 1, tzinfo=UTC)
END_DT = datetime(2024, 1, 1, tzinfo=UTC)
IMPORT_ID = "1a2b3c4d-0000-4000-8000-00000000000a"
NEW_IMPORT_ID = "1a2b3c4d-0000-4000-8000-00000000000b"
OTHER_IMPORT_ID = "9f8e7d6c-0000-4000-8000-00000000000c"
# Another event data store of the account: its running import blocks ours but is not ours.
OTHER_STORE_ARN = STORE_ARN.replace("EXAMPLE-f852", "OTHERS-f852")
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:ImportHandler"
RESPONSE_URL = (
    "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/"
    "arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/demo/abc%7CImport%7Creq"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101&"
    "X-Amz-Signature=deadbeefcafef00d0123456789abcdef"
)
STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/demo/5b7a1e10-0000-11ee-0000-000000000000"
)


def properties(**overrides: Any) -> dict[str, Any]:
    """Resource properties as CloudFormation delivers them (every value a string)."""
    props: dict[str, Any] = {
        "ServiceToken": FUNCTION_ARN,
        "Destinations": [STORE_ARN],
        "ImportSource": {
            "S3": {
                "S3LocationUri": URI,
                "S3BucketRegion": REGION,
                "S3BucketAccessRoleArn": ROLE_ARN,
            }
        },
        "StartEventTime": START,
        "EndEventTime": END,
        "WaitForCompletion": "false",
        "CompletionTimeoutSeconds": "3000",
        "StopOnDelete": "true",
    }
    for key, value in overrides.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return props


def event(request_type: str, props: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": FUNCTION_ARN,
        "ResponseURL": RESPONSE_URL,
        "StackId": STACK_ID,
        "RequestId": "6b3c2f1e-1111-4222-8333-944455556666",
        "LogicalResourceId": "Import",
        "ResourceType": "Custom::CloudTrailLakeImport",
        "ResourceProperties": props if props is not None else properties(),
    }
    body.update(extra)
    return body


def create_event(props: dict[str, Any] | None = None) -> dict[str, Any]:
    return event("Create", props)


def update_event(
    props: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    physical_id: str = IMPORT_ID,
) -> dict[str, Any]:
    return event(
        "Update",
        props,
        PhysicalResourceId=physical_id,
        OldResourceProperties=old if old is not None else properties(),
    )


def delete_event(
    props: dict[str, Any] | None = None, physical_id: str = IMPORT_ID
) -> dict[str, Any]:
    return event("Delete", props, PhysicalResourceId=physical_id)


def import_source(uri: str = URI, role: str = ROLE_ARN) -> dict[str, Any]:
    return {"S3": {"S3LocationUri": uri, "S3BucketRegion": REGION, "S3BucketAccessRoleArn": role}}


def import_response(
    import_id: str = IMPORT_ID,
    status: str = "IN_PROGRESS",
    *,
    uri: str = URI,
    role: str = ROLE_ARN,
    start: datetime | None = START_DT,
    end: datetime | None = END_DT,
    statistics: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A GetImport / StartImport / StopImport response body."""
    body: dict[str, Any] = {
        "ImportId": import_id,
        "Destinations": [STORE_ARN],
        "ImportSource": import_source(uri, role),
        "ImportStatus": status,
        "CreatedTimestamp": datetime(2024, 6, 1, tzinfo=UTC),
        "UpdatedTimestamp": datetime(2024, 6, 1, tzinfo=UTC),
    }
    if start is not None:
        body["StartEventTime"] = start
    if end is not None:
        body["EndEventTime"] = end
    if statistics is not None:
        body["ImportStatistics"] = statistics
    return copy.deepcopy(body)


def listed_import(
    import_id: str = IMPORT_ID,
    status: str = "IN_PROGRESS",
    *,
    day: int = 1,
    destination: str = STORE_ARN,
) -> dict[str, Any]:
    """One item of a ListImports answer (no source, no window), created on June ``day``."""
    created = datetime(2024, 6, day, tzinfo=UTC)
    return {
        "ImportId": import_id,
        "ImportStatus": status,
        "Destinations": [destination],
        "CreatedTimestamp": created,
        "UpdatedTimestamp": created,
    }


def start_params(*, uri: str = URI, role: str = ROLE_ARN) -> dict[str, Any]:
    return {
        "Destinations": [STORE_ARN],
        "ImportSource": import_source(uri, role),
        "StartEventTime": START_DT,
        "EndEventTime": END_DT,
    }


STATS = {
    "PrefixesFound": 12,
    "PrefixesCompleted": 12,
    "FilesCompleted": 480,
    "EventsCompleted": 125000,
    "FailedEntries": 0,
}
